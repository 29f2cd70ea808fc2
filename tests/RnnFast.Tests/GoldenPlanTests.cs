// Every PyTorch reference case, on every backend, through the library API (the same path `rnnfast check` takes):
// forward outputs and every gradient within the goldens' tolerance.
using RnnFast.Backends;
using RnnFast.Checks;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class GoldenPlanTests(ITestOutputHelper output)
{
    [BackendTheory]
    [MemberData(nameof(BackendData.BackendsTimesGoldens), MemberType = typeof(BackendData))]
    public void Golden_case_matches_pytorch(string backend, string golden)
    {
        var report = ReferenceCaseRunner.Run(TestPaths.Golden(golden), BackendRegistry.Get(backend));
        foreach (var c in report.Checks) output.WriteLine(c.ToString());
        Assert.NotEmpty(report.Checks);
        var failed = report.Checks.Where(c => !c.Passed).Select(c => c.ToString()).ToList();
        Assert.True(failed.Count == 0, $"{golden} on {backend}: " + string.Join("; ", failed));
    }

    [Fact]
    public void Every_golden_has_gradients_checked()
    {
        foreach (var name in TestPaths.AllGoldenNames().Where(n => !Path.GetFileName(n).StartsWith("train_")))
        {
            var c = ReferenceCaseRunner.LoadRnnLayer(TestPaths.Golden(name));
            Assert.True(c.HasGradients, name);
            Assert.Contains("grad_input", c.Expected.Keys);
            Assert.All(c.Parameters.Ids, id => Assert.Contains("grad." + id.TorchName, c.Expected.Keys));
        }
    }

    [Fact]
    public void A_wrong_answer_is_caught()
    {
        // The comparison itself must be able to fail: perturb one weight and the outputs must no longer match.
        var c = ReferenceCaseRunner.LoadRnnLayer(TestPaths.Golden("lstm_basic"));
        c.Parameters.Tensors[0].Span[3] += 0.05f;
        var checks = c.Run(BackendRegistry.Get("reference"));
        Assert.Contains(checks, x => x.Name == "output" && !x.Passed);
    }
}
