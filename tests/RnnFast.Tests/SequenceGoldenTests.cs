// The PyTorch reference cases of tests/goldens/sequence (see its README) replayed through the tape on every backend:
// train_regression (LSTM/GRU -> Linear on every step -> mse/l1/huber/bce_with_logits, Adam for the mse cases) and
// train_tagger (Embedding -> bidirectional LSTM over variable lengths -> Linear -> cross-entropy with ignore_index
// -100, Adam). Step 0's loss and every stored gradient, each step's loss and the final weights must match PyTorch.
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Checks;
using RnnFast.IO;
using RnnFast.Optim;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class SequenceGoldenTests(ITestOutputHelper output)
{
    private static string Dir => Path.Combine(TestPaths.RepoRoot, "tests", "goldens", "sequence");

    /// <summary>The sequence reference files, sorted (file names without folder).</summary>
    public static IEnumerable<string> FileNames() =>
        Directory.GetFiles(Dir, "*.safetensors").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    /// <summary>Every registered backend plus cpu:bf16, times every sequence reference file.</summary>
    public static IEnumerable<object[]> BackendsTimesFiles() =>
        from b in BackendData.Names.Append("cpu:bf16") from f in FileNames() select new object[] { b, f };

    [Fact]
    public void Every_documented_case_is_present()
    {
        var names = FileNames().ToList();
        Assert.Equal(
            ["loss_gru_huber.safetensors", "loss_lstm_bce_with_logits.safetensors", "loss_lstm_l1.safetensors",
             "regression_gru_mse_adam.safetensors", "regression_lstm_mse_adam.safetensors", "tagger_bilstm_adam.safetensors"],
            names);
    }

    [BackendTheory]
    [MemberData(nameof(BackendsTimesFiles))]
    public void Sequence_golden_matches_pytorch(string backendName, string file)
    {
        var backend = BackendRegistry.Get(backendName);
        using var f = SafeTensorsFile.Open(Path.Combine(Dir, file));
        var kind = f.Metadata["kind"];
        var checks = kind switch
        {
            "train_regression" => RunRegression(f, backend),
            "train_tagger" => RunTagger(f, backend),
            _ => throw new InvalidOperationException($"{file}: kind '{kind}' is not one this test knows (train_regression, train_tagger)"),
        };

        foreach (var check in checks) output.WriteLine(check.ToString());
        Assert.True(checks.Count > 0);
        var failed = checks.Where(k => !k.Passed).Select(k => k.ToString()).ToList();
        Assert.True(failed.Count == 0, $"{file} on {backendName}: " + string.Join("; ", failed));
    }

    /// <summary>Replays a train_regression case: RNN -> Linear per step -> the file's loss; Adam when it says so.</summary>
    private static List<TensorCheck> RunRegression(SafeTensorsFile f, Backend backend)
    {
        var meta = f.Metadata;
        int F = Int(meta, "input_size"), H = Int(meta, "hidden_size"), L = Int(meta, "num_layers"), O = Int(meta, "output_size");
        int T = Int(meta, "seq_len"), N = Int(meta, "batch"), S = Int(meta, "steps");
        Assert.Equal("false", meta["bidirectional"]);
        Assert.Equal("false", meta["batch_first"]);
        var desc = new RnnDesc(RnnDesc.ParseMode(meta["mode"]), F, H, L);
        string lossName = meta["loss"];
        float delta = lossName == "huber" ? (float)Double(meta, "huber_delta") : 0f;

        using var rnn = new RnnLayer(RnnParameters.FromNamed(desc, name => f.Contains(name) ? Read(f, name) : null, "rnn.", f.FilePath), backend);
        var head = new Linear(Read(f, "head.weight"), Read(f, "head.bias"));
        var named = rnn.NamedParameters("rnn.").Concat(head.NamedParameters("head.")).ToList();
        var optimizer = MakeOptimizer(meta, named.Select(p => p.Parameter).ToList());

        var inputs = Read(f, "inputs").ToArray();    // (S, T, N, F)
        var targets = Read(f, "targets").ToArray();  // (S, T, N, O)
        var (atol, rtol) = backend.CheckTolerance;
        var checks = new List<TensorCheck>();
        var losses = new float[S];
        for (int s = 0; s < S; s++)
        {
            var tape = new Tape();
            var xData = Tensor.FromArray(inputs.AsSpan(s * T * N * F, T * N * F).ToArray(), T, N, F);
            var x = s == 0 ? Variable.Parameter(xData, "input") : Variable.Constant(xData, "input");
            var y = rnn.Forward(tape, x).Output;                                              // (T,N,H)
            var pred = head.Forward(tape, tape.Reshape(y, T * N, H));                         // (T*N,O)
            var target = Tensor.FromArray(targets.AsSpan(s * T * N * O, T * N * O).ToArray(), T * N, O);
            var loss = lossName switch
            {
                "mse" => tape.MseLoss(pred, target),
                "l1" => tape.L1Loss(pred, target),
                "huber" => tape.HuberLoss(pred, target, delta),
                "bce_with_logits" => tape.BceWithLogitsLoss(pred, target),
                _ => throw new InvalidOperationException($"{f.FilePath}: loss '{lossName}' is not mse, l1, huber or bce_with_logits"),
            };
            optimizer?.ZeroGrad();
            tape.Backward(loss);
            losses[s] = loss.Value.Span[0];
            if (s == 0)
            {
                foreach (var (name, p) in named)
                    checks.Add(TensorComparison.Compare("grad." + name, p.Grad!, Read(f, "grad." + name), atol, rtol));
                checks.Add(TensorComparison.Compare("grad_input", x.Grad!, Read(f, "grad_input"), atol, rtol));
            }
            if (s < S - 1 || optimizer != null)
            {
                Assert.NotNull(optimizer); // a case of more than one step must say how the weights move
                optimizer.Step();
            }
        }
        checks.Add(TensorComparison.Compare("loss", losses, Read(f, "loss").ToArray(), atol, rtol));
        if (optimizer != null) checks.AddRange(CompareFinal(f, named, atol, rtol));
        else Assert.DoesNotContain(f.Tensors, t => t.Name.StartsWith("final.", StringComparison.Ordinal));
        return checks;
    }

    /// <summary>Replays a train_tagger case: Embedding -> biLSTM over lengths -> Linear -> cross-entropy ignoring -100.</summary>
    private static List<TensorCheck> RunTagger(SafeTensorsFile f, Backend backend)
    {
        var meta = f.Metadata;
        int V = Int(meta, "vocab_size"), E = Int(meta, "embed_size"), H = Int(meta, "hidden_size"), C = Int(meta, "num_classes");
        int T = Int(meta, "seq_len"), N = Int(meta, "batch"), S = Int(meta, "steps"), ignore = Int(meta, "ignore_index");
        Assert.Equal("true", meta["bidirectional"]);
        Assert.Equal(-100, ignore);
        var desc = new RnnDesc(RnnDesc.ParseMode(meta["mode"]), E, H, Int(meta, "num_layers"), bidirectional: true);

        var initialEmbedding = Read(f, "embedding.weight");
        var emb = new Embedding(initialEmbedding.Clone());
        using var rnn = new RnnLayer(RnnParameters.FromNamed(desc, name => f.Contains(name) ? Read(f, name) : null, "rnn.", f.FilePath), backend);
        var head = new Linear(Read(f, "head.weight"), Read(f, "head.bias"));
        var named = emb.NamedParameters("embedding.").Concat(rnn.NamedParameters("rnn.")).Concat(head.NamedParameters("head.")).ToList();
        var optimizer = MakeOptimizer(meta, named.Select(p => p.Parameter).ToList())
            ?? throw new InvalidOperationException($"{f.FilePath}: a tagger case trains with an optimizer");

        var tokens = Ints(f, "tokens", S * T * N);    // (S, T, N)
        var targets = Ints(f, "targets", S * T * N);  // (S, T, N)
        var lengths = Ints(f, "lengths", N);
        var (atol, rtol) = backend.CheckTolerance;
        var checks = new List<TensorCheck>();
        var losses = new float[S];
        for (int s = 0; s < S; s++)
        {
            var tape = new Tape();
            var x = emb.Forward(tape, tokens.AsSpan(s * T * N, T * N).ToArray(), T, N);      // (T,N,E)
            var y = rnn.Forward(tape, x, lengths: lengths).Output;                             // (T,N,2H), 0 at padded steps
            if (s == 0) AssertPaddedStepsAreZero(y.Value, lengths, T, N, 2 * H);
            var logits = head.Forward(tape, tape.Reshape(y, T * N, 2 * H));                   // (T*N,C)
            var loss = tape.CrossEntropy(logits, targets.AsSpan(s * T * N, T * N).ToArray(), ignore);
            optimizer.ZeroGrad();
            tape.Backward(loss);
            losses[s] = loss.Value.Span[0];
            if (s == 0)
            {
                foreach (var (name, p) in named)
                    checks.Add(TensorComparison.Compare("grad." + name, p.Grad!, Read(f, "grad." + name), atol, rtol));
                // Id V-1 occurs at padded steps only: tokens there must not reach the loss at all.
                Assert.All(emb.Weight.Grad!.Span.Slice((V - 1) * E, E).ToArray(), g => Assert.Equal(0f, g));
            }
            optimizer.Step();
        }
        checks.Add(TensorComparison.Compare("loss", losses, Read(f, "loss").ToArray(), atol, rtol));
        checks.AddRange(CompareFinal(f, named, atol, rtol));
        Assert.Equal(initialEmbedding.Span.Slice((V - 1) * E, E).ToArray(), emb.Weight.Value.Span.Slice((V - 1) * E, E).ToArray());
        Assert.Equal(C, head.OutFeatures);
        return checks;
    }

    /// <summary>The RNN output must be exactly zero at t &gt;= lengths[n] (pad_packed_sequence's padding).</summary>
    private static void AssertPaddedStepsAreZero(Tensor output, int[] lengths, int T, int N, int width)
    {
        var y = output.Span;
        int padded = 0;
        for (int t = 0; t < T; t++)
            for (int n = 0; n < N; n++)
            {
                if (t < lengths[n]) continue;
                padded++;
                float worst = MaxAbs(y.Slice((t * N + n) * width, width));
                Assert.True(worst == 0f, $"RNN output at padded step t={t}, n={n} (length {lengths[n]}) is not zero: max |y| = {worst}");
            }
        Assert.True(padded > 0, "the case has no padded step to check");
    }

    private static float MaxAbs(ReadOnlySpan<float> v)
    {
        float m = 0f;
        foreach (var x in v) m = Math.Max(m, Math.Abs(x));
        return m;
    }

    private static IEnumerable<TensorCheck> CompareFinal(SafeTensorsFile f, List<(string Name, Variable Parameter)> named, double atol, double rtol)
    {
        foreach (var (name, p) in named)
            yield return TensorComparison.Compare("final." + name, p.Value, Read(f, "final." + name), atol, rtol);
    }

    /// <summary>Adam as the metadata configures it (PyTorch's, no clipping), or null for optimizer = none.</summary>
    private static Adam? MakeOptimizer(IReadOnlyDictionary<string, string> meta, IReadOnlyList<Variable> parameters)
    {
        var name = meta["optimizer"];
        if (name == "none") return null;
        Assert.Equal("adam", name);
        Assert.Equal("none", meta["clip_global_norm"]);
        return new Adam(parameters, Double(meta, "lr"), Double(meta, "beta1"), Double(meta, "beta2"), Double(meta, "eps"), Double(meta, "weight_decay"));
    }

    private static Tensor Read(SafeTensorsFile f, string name) => Tensor.FromArray(f.ReadFloat32(name), f.GetInfo(name).Shape);

    private static int[] Ints(SafeTensorsFile f, string name, int count)
    {
        var v = f.ReadInt64(name);
        Assert.Equal(count, v.Length);
        return v.Select(x => checked((int)x)).ToArray();
    }

    private static int Int(IReadOnlyDictionary<string, string> meta, string key) =>
        int.Parse(meta[key], System.Globalization.CultureInfo.InvariantCulture);

    private static double Double(IReadOnlyDictionary<string, string> meta, string key) =>
        double.Parse(meta[key], System.Globalization.CultureInfo.InvariantCulture);
}
