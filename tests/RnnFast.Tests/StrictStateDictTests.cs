// Loading a model file reports what it leaves out, as PyTorch's load_state_dict reports unexpected keys: every tensor
// the model does not read is listed by name, while optimizer state and tensors outside the requested prefix are not.
using RnnFast.Data;
using RnnFast.IO;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class StrictStateDictTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Rewrite(string source, string name, Func<string, string>? rename = null, params (string Name, int[] Shape)[] extra)
    {
        string path = Path.Combine(_dir, name);
        using var file = SafeTensorsFile.Open(source);
        var entries = file.Tensors.Select(t => SafeTensorEntry.F32((rename ?? (n => n))(t.Name), t.Shape.ToArray(), file.ReadFloat32(t.Name))).ToList();
        foreach (var (n, shape) in extra) entries.Add(SafeTensorEntry.F32(n, shape, new float[shape.Aggregate(1, (a, b) => a * b)]));
        SafeTensorsWriter.Write(path, entries, file.Metadata);
        return path;
    }

    [Fact]
    public void Tensors_the_model_does_not_read_are_reported_by_name_and_optimizer_state_is_not()
    {
        string model = Path.Combine(_dir, "m.safetensors");
        new CharLmTrainer().Train(ProgramCorpus.Generate(4000, 2), "c", new TrainOptions
        {
            Layers = 1, Hidden = 8, Embed = 4, SeqLen = 8, Batch = 2, Steps = 1, EvalEvery = 0, SampleLength = 0, Out = model, Backend = "cpu",
        });
        using (var m = RnnModel.Load(model, "cpu")) Assert.Empty(m.UnusedTensors); // optim.* is the optimizer's, not unused

        var extra = Rewrite(model, "extra.safetensors", null, ("head2.weight", [3, 8]), ("rnn.weight_ih_l5", [32, 8]));
        using (var m = RnnModel.Load(extra, "cpu")) Assert.Equal(["head2.weight", "rnn.weight_ih_l5"], m.UnusedTensors);

        // under a prefix, tensors outside it belong to other modules and are not the model's business
        var nested = Rewrite(model, "nested.safetensors", n => n.StartsWith("optim.") ? n : "net." + n, ("other.weight", [2, 2]));
        var contents = Checkpoint.Read(nested, weightPrefix: "net.");
        Assert.Equal(NetworkKind.LanguageModel, contents.Config.Kind);
        Assert.Empty(contents.UnusedTensors);
    }
}
