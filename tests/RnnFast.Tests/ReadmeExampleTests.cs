// The README's C# examples, run as written (only the model path differs), plus a check that every code line of the
// README's csharp blocks appears in this file, so the documented API cannot drift from the real one.
using System.Text.RegularExpressions;
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Nn;
using RnnFast.Optim;
using RnnFast.Data;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class ReadmeExampleTests
{
    [Fact]
    public void Readme_inference_example_runs()
    {
        var desc = new RnnDesc(RnnMode.Lstm, inputSize: 64, hiddenSize: 128, numLayers: 2, bidirectional: true);
        var weights = RnnParameters.Create(desc, new Random(0));      // or StateDictLoader.LoadRnnParameters(path, desc, "lstm.")
        var backend = BackendRegistry.Get();                          // RNNFAST_BACKEND, else auto
        using var plan = backend.CreateRnnPlan(weights);             // weights converted once for the backend

        var x = Tensor.Zeros(50, 8, 64);                              // (T, N, I): time-major unless batchFirst
        var result = RnnRunner.Forward(plan, x, lengths: [50, 42, 17, 50, 3, 9, 50, 1]);

        Assert.Equal([50, 8, 256], result.Output.Shape);
        Assert.Equal([4, 8, 128], result.HN.Shape);
        Assert.Equal([4, 8, 128], result.CN!.Shape);
        // Padded steps of the 3-step sequence (index 4) are zero.
        Assert.All(Enumerable.Range(3, 47), t => Assert.Equal(0f, result.Output.Span[(t * 8 + 4) * 256 + 5]));

        var into = RnnOutputBuffers.For(desc, seqLen: 50, batch: 8);  // a serving loop: the same buffers every call
        var r = plan.ForwardInto(new RnnInputs(x), into);              // inference written into into.Output/HN/CN
        var full = RnnRunner.Forward(plan, x);
        Assert.Equal(full.Output.ToArray(), into.Output.ToArray());
        Assert.Equal(full.HN.ToArray(), r.HN.ToArray());
        Assert.Equal(full.CN!.ToArray(), into.CN!.ToArray());

        var grads = RnnParameters.Zeros(desc);                         // a training loop's kept buffers: weight gradients,
        var dInto = RnnInputGradientBuffers.For(desc, seqLen: 50, batch: 8); // and dX, dh0, dc0
        dInto.DInput.Span.Fill(float.NaN);                             // (the test: proves dX is written)
        using (var fwd = plan.ForwardInto(new RnnInputs(x), into, training: true))
            plan.BackwardAccumulate(new RnnInputs(x), fwd, Tensor.Zeros(50, 8, 256), null, null, grads, dInto); // dY (T,N,D*H)
        Assert.Equal(full.Output.ToArray(), into.Output.ToArray());
        Assert.All(dInto.DInput.ToArray(), v => Assert.Equal(0f, v));  // dY = 0: written, and no gradient flows back
    }

    [Fact]
    public void Readme_streaming_example_runs()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "demo-model.safetensors");
            new CharLmTrainer().Train(ProgramCorpus.Generate(8000, 1), "programs", new TrainOptions
            {
                Layers = 1, Hidden = 16, Embed = 8, SeqLen = 16, Batch = 4, Steps = 2, EvalEvery = 0, SampleLength = 0, Out = path,
            });
            var printed = new StringWriter();

            using var model = RnnModel.Load(path, backend: "cpu");
            printed.WriteLine($"running on {model.Backend.Name}");
            var state = model.NewState();                     // one per sequence (or thread); save with CopyTo, reset with Reset
            var options = new SamplingOptions { Temperature = 0.5f };
            var rng = new Random(1);
            var scratch = new float[model.OutputSize];
            int id = model.Vocab.Encode("a")[0];
            for (int i = 0; i < 100; i++)
            {
                ReadOnlySpan<float> logits = model.Step(state, id);   // next-character logits; no allocation per step on cpu
                id = Sampler.Pick(logits, options, rng, scratch);
                printed.Write(model.Vocab[id]);
            }

            Assert.Equal(100, state.Steps);
            Assert.StartsWith("running on ", printed.ToString());
            Assert.Equal(100, printed.ToString().Split('\n', 2)[1].EnumerateRunes().Count());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Readme_embedding_and_stepper_examples_run()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "m.safetensors");
            new CharLmTrainer().Train(ProgramCorpus.Generate(8000, 1), "programs", new TrainOptions
            {
                Layers = 1, Hidden = 16, Embed = 8, SeqLen = 16, Batch = 4, Steps = 2, EvalEvery = 0, SampleLength = 0, Out = path, Backend = "cpu",
            });
            string[] args = [path];
            var printed = new StringWriter();
            foreach (var b in BackendRegistry.All)
                printed.WriteLine($"backend {b.Name} available={b.IsAvailable} reason={b.Availability.Reason}");
            using (var model = RnnModel.Load(args[0]))          // no backend named: RNNFAST_BACKEND, else auto
            {
                printed.WriteLine($"model on {model.Backend.Name}");
                var state = model.NewState();
                printed.WriteLine($"step {model.Step(state, 0).Length}");
                Assert.Contains($"step {model.Vocab.Count}", printed.ToString());
            }

            var desc = new RnnDesc(RnnMode.Lstm, inputSize: 16, hiddenSize: 256, numLayers: 2);
            using var plan = BackendRegistry.Get("cpu").CreateRnnPlan(RnnParameters.Create(desc, new Random(0)));
            using var stepper = plan.CreateStepper(maxStreams: 64);
            using var state64 = stepper.CreateState(64);        // h (L,N,H), c (L,N,H); CopyStreamTo/From save one stream
            var x = new float[64 * 16];                       // (N, I)
            var y = new float[64 * 256];                      // (N, H): the top layer's h
            x[5] = 1;
            stepper.Step(state64, x, y);
            Assert.Contains(y, v => v != 0);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Readme_module_example_runs()
    {
        var x = Tensor.Zeros(10, 4, 64);                                   // (T,N,I)
        using var lstm = new Lstm(64, 128, numLayers: 2, seed: 0);         // PyTorch init; RNNFAST_BACKEND, else auto
        var (y, state) = lstm.Forward(x);                                  // y (T,N,H); state.H, state.C (L*D,N,H)
        var (y2, state2) = lstm.Forward(x, state);                         // carry the state on
        lstm.LoadStateDict(lstm.StateDict());                              // PyTorch names: weight_ih_l0, ...
        var adam = new Adam(lstm.Parameters().ToList(), lr: 1e-3);
        using var tape = new Tape();                                       // one per step: disposing it hands the RNN's
        var loss = tape.MseLoss(lstm.Forward(tape, Variable.Constant(x)).Output, Tensor.Zeros(10, 4, 128)); // workspace back
        adam.ZeroGrad(); tape.Backward(loss); adam.Step();                 // gradients are added into kept buffers
        Assert.Equal([10, 4, 128], y.Shape);
        Assert.Equal([2, 4, 128], state2.H.Shape);
        Assert.NotEqual(y.ToArray(), y2.ToArray()); // the carried state changes the second half's output
        Assert.True(float.IsFinite(loss.Value.Span[0]));
    }

    [Fact]
    public void Every_readme_code_line_is_exercised_here()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var self = Normalize(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "RnnFast.Tests", "ReadmeExampleTests.cs")));
        var blocks = Regex.Matches(readme, "```csharp\\n(.*?)```", RegexOptions.Singleline);
        Assert.True(blocks.Count >= 2, "the README has C# examples");
        foreach (Match block in blocks)
        foreach (var raw in block.Groups[1].Value.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith("//") || line.StartsWith("using ") || line is "{" or "}") continue;
            line = line.Replace("Console.Write", "printed.Write").Replace("\"demo-output/demo-model.safetensors\"", "path");
            Assert.True(self.Contains(Normalize(line)), $"README line not exercised by this test: {raw.Trim()}");
        }
    }

    private static string Normalize(string s) => Regex.Replace(s, "\\s+", " ");
}
