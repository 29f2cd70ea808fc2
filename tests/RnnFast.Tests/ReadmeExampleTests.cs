// The README's C# example, compiled and run as written, so the documented API cannot drift from the real one.
using RnnFast.Backends;
using Xunit;

namespace RnnFast.Tests;

public sealed class ReadmeExampleTests
{
    [Fact]
    public void Readme_inference_example_runs()
    {
        var desc = new RnnDesc(RnnMode.Lstm, inputSize: 64, hiddenSize: 128, numLayers: 2, bidirectional: true);
        var weights = RnnParameters.Create(desc, new Random(0));
        var backend = BackendRegistry.Get("auto");
        using var plan = backend.CreateRnnPlan(weights);

        var x = Tensor.Zeros(50, 8, 64);
        var result = RnnRunner.Forward(plan, x, lengths: [50, 42, 17, 50, 3, 9, 50, 1]);

        Assert.Equal([50, 8, 256], result.Output.Shape);
        Assert.Equal([4, 8, 128], result.HN.Shape);
        Assert.Equal([4, 8, 128], result.CN!.Shape);
        // Padded steps of the 3-step sequence (index 4) are zero.
        Assert.All(Enumerable.Range(3, 47), t => Assert.Equal(0f, result.Output.Span[(t * 8 + 4) * 256 + 5]));
    }
}
