// Mean pooling for classifiers (issue 14): the tape op MeanValidSteps (value and finite-difference gradient with
// variable lengths), the host mean in RnnModel agreeing with the tape's, a mean-pooled classifier learning a toy task
// and loading back with the same predictions, old files without the `pooling` key reading as Last, and the CLI flag.
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Cli;
using RnnFast.IO;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class PoolingTests
{
    private static Variable RandomParam(Random rng, params int[] shape)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        return Variable.Parameter(Tensor.FromArray(Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), shape));
    }

    [Fact]
    public void MeanValidSteps_averages_each_sequences_valid_steps()
    {
        var seq = RandomParam(new Random(3), 4, 3, 2); // (T,N,F)
        int[] lengths = [4, 1, 3];
        var y = new Tape().MeanValidSteps(seq, lengths);
        Assert.Equal(new[] { 3, 2 }, y.Shape);
        var S = seq.Value.HostArray;
        for (int n = 0; n < 3; n++)
        for (int f = 0; f < 2; f++)
        {
            double sum = 0;
            for (int t = 0; t < lengths[n]; t++) sum += S[(t * 3 + n) * 2 + f];
            Assert.Equal(sum / lengths[n], y.Value.Span[n * 2 + f], 5);
        }
        var all = new Tape().MeanValidSteps(seq); // no lengths: every step
        Assert.Equal((S[0] + S[6] + S[12] + S[18]) / 4, all.Value.Span[0], 5);
        Assert.Throws<ArgumentException>(() => new Tape().MeanValidSteps(seq, [5, 1, 1]));
        Assert.Throws<ArgumentException>(() => new Tape().MeanValidSteps(seq, [0, 1, 1]));
        Assert.Throws<ArgumentException>(() => new Tape().MeanValidSteps(seq, [1, 1]));
    }

    [Fact]
    public void MeanValidSteps_gradient_matches_finite_differences()
    {
        var rng = new Random(7);
        var seq = RandomParam(rng, 5, 3, 4);
        int[] lengths = [2, 5, 1];
        var w = Variable.Constant(Tensor.FromArray(Enumerable.Range(0, 12).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), 3, 4));
        Variable Loss(Tape t) => t.Sum(t.Mul(t.Tanh(t.MeanValidSteps(seq, lengths)), w));

        var tape = new Tape();
        tape.Backward(Loss(tape));
        var analytic = seq.Grad!.ToArray();
        var x = seq.Value.HostArray;
        const float eps = 1e-2f;
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x[i];
            x[i] = keep + eps;
            double up = Loss(new Tape()).Value.Span[0];
            x[i] = keep - eps;
            double down = Loss(new Tape()).Value.Span[0];
            x[i] = keep;
            double numeric = (up - down) / (2 * eps);
            Assert.True(Math.Abs(numeric - analytic[i]) < 2e-3, $"element {i}: analytic {analytic[i]}, numeric {numeric}");
            int t = i / 12, n = i / 4 % 3;
            if (t >= lengths[n]) Assert.Equal(0f, analytic[i]); // padding gets no gradient
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Host_mean_matches_the_tape(bool bidirectional)
    {
        var config = new NetworkConfig
        {
            Kind = NetworkKind.Classifier, Mode = RnnMode.Gru, Layers = 1, Hidden = 6, Embed = 4, Bidirectional = bidirectional,
            Vocab = CharVocab.FromText("abcx"), Labels = ["no", "yes"], Pooling = SequencePooling.Mean,
        };
        using var net = new CharNetwork(config, BackendRegistry.Get("cpu"), new Random(2));
        int[][] seqs = [[0, 1, 2], [3], [2, 2, 1, 0, 3]];
        var (tokens, lengths, T) = ClassifierTrainerPad(seqs);
        var tapeLogits = net.ClassifierLogits(new Tape(), tokens, lengths, T, seqs.Length, training: false, null).Value.ToArray();
        using var model = RnnModel.FromNetwork(net);
        var hostLogits = model.Forward(seqs).ToArray();
        Assert.Equal(tapeLogits.Length, hostLogits.Length);
        for (int i = 0; i < tapeLogits.Length; i++) Assert.Equal(tapeLogits[i], hostLogits[i], 4);
        var e = Assert.Throws<InvalidOperationException>(() => model.NewState()); // streaming cannot give a mean's logits
        Assert.Contains(bidirectional ? "bidirectional" : "mean", e.Message);
    }

    private static (int[] Tokens, int[] Lengths, int T) ClassifierTrainerPad(int[][] seqs)
    {
        int N = seqs.Length, T = seqs.Max(s => s.Length);
        var tokens = new int[T * N];
        var lengths = seqs.Select(s => s.Length).ToArray();
        for (int n = 0; n < N; n++)
            for (int t = 0; t < lengths[n]; t++) tokens[t * N + n] = seqs[n][t];
        return (tokens, lengths, T);
    }

    /// <summary>Letters a-c with sometimes one 'x' anywhere; the label says whether there is one.</summary>
    private static (string Label, string Text)[] HasX(int count, int seed)
    {
        var rng = new Random(seed);
        var result = new (string, string)[count];
        for (int i = 0; i < count; i++)
        {
            var text = Enumerable.Range(0, rng.Next(4, 16)).Select(_ => (char)('a' + rng.Next(3))).ToArray();
            bool x = rng.Next(2) == 0;
            if (x) text[rng.Next(text.Length)] = 'x';
            result[i] = (x ? "x" : "none", new string(text));
        }
        return result;
    }

    private static TrainOptions Options(string? outPath) => new()
    {
        Mode = RnnMode.Lstm, Layers = 1, Hidden = 24, Embed = 8, Batch = 32, Steps = 150, LearningRate = 1e-2, Seed = 1,
        EvalEvery = 0, Backend = "cpu", Out = outPath, Pooling = SequencePooling.Mean,
    };

    [Fact]
    public void Mean_pooled_classifier_learns_and_loads_back_the_same()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "mean.safetensors");
        var data = HasX(600, 4);
        var (test, run) = new ClassifierTrainer().Train(data, 0.2, Options(path));
        Assert.True(run.TrainLoss.TakeLast(10).Average() < run.TrainLoss.Take(10).Average() * 0.5, "loss did not fall enough");
        Assert.True(test.Accuracy >= 0.9, $"held-out accuracy {test.Accuracy:F4}");

        var contents = Checkpoint.Read(path);
        Assert.Equal("mean", contents.Metadata["pooling"]);
        Assert.Equal(SequencePooling.Mean, contents.Config.Pooling);
        using var a = RnnModel.Load(path, "cpu");
        using var b = RnnModel.Load(path, "cpu");
        Assert.Equal(SequencePooling.Mean, a.Config.Pooling);
        var texts = data.Take(30).Select(d => d.Text).ToArray();
        var pa = a.Classify(texts);
        var pb = b.Classify(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(pa[i].Label, pb[i].Label);
            Assert.Equal(pa[i].Probability, pb[i].Probability);
            Assert.Equal(pa[i].Label, a.Classify(texts[i]).Label);
        }
        var order = Enumerable.Range(0, data.Length).ToArray();
        new Random(1).Shuffle(order);
        var heldOut = order.Take(120).Select(i => data[i]).ToArray();
        Assert.Equal(test.Accuracy, ClassifierTrainer.Evaluate(a, heldOut).Accuracy, 6);
    }

    [Fact]
    public void A_file_without_the_pooling_key_reads_its_last_step()
    {
        string dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, "last.safetensors"), old = Path.Combine(dir, "old.safetensors");
        new ClassifierTrainer().Train(HasX(60, 5), 0.2, Options(path) with { Steps = 3, Pooling = SequencePooling.Last });
        var contents = Checkpoint.Read(path);
        Assert.Equal("last", contents.Metadata["pooling"]);
        var meta = contents.Metadata.Where(kv => kv.Key != "pooling").ToDictionary(kv => kv.Key, kv => kv.Value);
        SafeTensorsWriter.Write(old, contents.Tensors.Select(kv => SafeTensorEntry.F32(kv.Key, kv.Value.Shape.ToArray(), kv.Value.ToArray())), meta);
        using var m = RnnModel.Load(old, "cpu");
        Assert.Equal(SequencePooling.Last, m.Config.Pooling);
        using var n = RnnModel.Load(path, "cpu");
        Assert.Equal(n.Classify("abca").Probabilities, m.Classify("abca").Probabilities);
    }

    [Fact]
    public void Pooling_is_refused_where_it_means_nothing()
    {
        var e = Assert.Throws<ArgumentException>(() => new NetworkConfig
        {
            Kind = NetworkKind.Tagger, Mode = RnnMode.Gru, Layers = 1, Hidden = 4, Embed = 4, Vocab = CharVocab.FromText("ab"),
            Labels = ["a", "b"], Pooling = SequencePooling.Mean,
        }.Validate());
        Assert.StartsWith("NetworkConfig.Pooling:", e.Message);
        var o = Assert.Throws<ArgumentException>(() => new TrainOptions { Pooling = (SequencePooling)7 }.Validate());
        Assert.StartsWith("TrainOptions.Pooling:", o.Message);
    }

    [Fact]
    public void Cli_pooling_nonsense_exits_2_naming_the_flag()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["classify", "--pooling", "nonsense", "--examples", "40", "--steps", "2", "--backend", "cpu"], o, e);
        Assert.Equal(2, code);
        string err = e.ToString().Trim();
        Assert.DoesNotContain('\n', err);
        Assert.StartsWith("error: --pooling:", err);
        Assert.Contains("nonsense", err);
    }

    [Fact]
    public void Cli_classify_with_mean_pooling_saves_a_mean_model()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "cli.safetensors");
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["classify", "--pooling", "mean", "--examples", "80", "--min-length", "5", "--max-length", "10",
            "--steps", "3", "--hidden", "8", "--backend", "cpu", "--out", path], o, e);
        Assert.True(code == 0, e.ToString());
        Assert.Equal("mean", Checkpoint.Read(path).Metadata["pooling"]);
    }
}
