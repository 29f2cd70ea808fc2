// The peephole LSTM beyond PyTorch's small goldens (which GoldenPlanTests / GoldenTapeTests run on every backend):
// wide cases (H = 40: one full 32-unit chunk, so the cpu kernels' 16-wide AVX-512 path runs, plus an 8-unit tail)
// against the reference on every backend, forward and every gradient; the same cases and the goldens through
// `rnnfast check --backend cpu` in child processes on each SIMD path (AVX-512, AVX2, scalar: DOTNET_EnableAVX512=0,
// DOTNET_EnableHWIntrinsic=0); the description's rules, the parameters' names and shapes, and `auto` skipping a
// backend that refuses a description.
using RnnFast.Backends;
using RnnFast.Checks;
using RnnFast.IO;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class PeepholeTests(ITestOutputHelper output)
{
    /// <summary>Wide peephole cases: (name, desc, T, N, lengths).</summary>
    internal static IReadOnlyList<SweepCase> WideCases() =>
    [
        new("lstm+peephole", new RnnDesc(RnnMode.Lstm, 9, 40, numLayers: 2, bidirectional: true, peephole: true), 5, 3, [5, 2, 4]),
        new("lstm+peephole+proj", new RnnDesc(RnnMode.Lstm, 6, 40, projSize: 17, peephole: true), 4, 2, null),
        new("lstm+peephole batch1", new RnnDesc(RnnMode.Lstm, 5, 33, peephole: true), 6, 1, null),
    ];

    public static IEnumerable<object[]> BackendsTimesWide() =>
        from b in BackendData.Names from i in Enumerable.Range(0, WideCases().Count) select new object[] { b, i };

    [BackendTheory]
    [MemberData(nameof(BackendsTimesWide))]
    public void Wide_peephole_cases_match_the_reference(string backend, int index)
    {
        var c = WideCases()[index];
        var b = BackendRegistry.Get(backend);
        if (b.RefusalFor(c.Desc) is { } reason)
        {
            // a backend that cannot run peepholes says so, by its plan, with the reason: never another backend's result
            var e = Assert.Throws<NotSupportedException>(() => b.CreateRnnPlan(RnnParameters.Create(c.Desc, new Random(1))));
            Assert.Contains(reason, e.Message);
            output.WriteLine($"{backend} refuses {c.Name}: {e.Message}");
            return;
        }
        var r = BackendSweep.Run(c, b, BackendRegistry.Get("reference"), seed: 3);
        foreach (var k in r.Checks) output.WriteLine(k.ToString());
        Assert.True(r.Passed, $"{c.Name} on {backend}: {r.Error} " + string.Join("; ", r.Checks.Where(k => !k.Passed)));
        Assert.Contains(r.Checks, k => k.Name.StartsWith("grad.weight_ph_l0", StringComparison.Ordinal));
    }

    [Fact]
    public void Peephole_weights_are_named_and_shaped_per_layer_and_direction()
    {
        var desc = new RnnDesc(RnnMode.Lstm, 3, 5, numLayers: 2, bidirectional: true, projSize: 2, peephole: true);
        var p = RnnParameters.Create(desc, new Random(1));
        var ph = p.Ids.Where(id => id.Kind == RnnParamKind.WeightPh).Select(id => id.TorchName).ToArray();
        Assert.Equal(["weight_ph_l0", "weight_ph_l0_reverse", "weight_ph_l1", "weight_ph_l1_reverse"], ph);
        Assert.All(p.Ids.Where(id => id.Kind == RnnParamKind.WeightPh), id => Assert.Equal([15], p.Get(id.Layer, id.Direction, id.Kind).Shape));
        Assert.DoesNotContain(RnnParameters.Layout(desc with { }), id => id.Kind == RnnParamKind.WeightPh && id.Layer > 1);
        Assert.Contains("peephole", desc.ToString());

        var plain = new RnnDesc(RnnMode.Lstm, 3, 5);
        Assert.DoesNotContain(RnnParameters.Layout(plain), id => id.Kind == RnnParamKind.WeightPh);
        // a missing weight_ph is named when loading
        var named = p.Ids.Select((id, i) => (id.TorchName, p.Tensors[i])).Where(x => x.TorchName != "weight_ph_l1").ToDictionary();
        var e = Assert.Throws<RnnFormatException>(() => RnnParameters.FromNamed(desc, n => named.GetValueOrDefault(n)));
        Assert.Contains("'weight_ph_l1' is missing", e.Message);
    }

    [Theory]
    [InlineData(RnnMode.Gru)]
    [InlineData(RnnMode.RnnTanh)]
    [InlineData(RnnMode.RnnRelu)]
    public void Peephole_is_refused_for_cells_other_than_lstm(RnnMode mode)
    {
        var e = Assert.Throws<ArgumentException>(() => new RnnDesc(mode, 3, 4, peephole: true));
        Assert.StartsWith("peephole: peephole connections are only defined for LSTM", e.Message);
    }

    [Fact]
    public void Auto_skips_a_backend_that_refuses_the_description()
    {
        var refusing = new RefusingBackend("fancy", 1000);
        var plain = new RefusingBackend("plain", 10) { Refuses = false };
        var peep = new RnnDesc(RnnMode.Lstm, 3, 4, peephole: true);
        Assert.Same(refusing, BackendRegistry.Auto([refusing, plain]));
        Assert.Same(refusing, BackendRegistry.Auto([refusing, plain], new RnnDesc(RnnMode.Lstm, 3, 4)));
        Assert.Same(plain, BackendRegistry.Auto([refusing, plain], peep));
        var e = Assert.Throws<BackendUnavailableException>(() => BackendRegistry.Auto([refusing], peep));
        Assert.Contains("fancy: no peepholes here", e.Message);
    }

    [Fact]
    public void A_peephole_module_runs_on_a_backend_that_can_and_saves_its_peephole_weights()
    {
        using var lstm = new Nn.Lstm(4, 6, numLayers: 2, seed: 5, peephole: true);
        Assert.True(lstm.Peephole);
        Assert.Null(lstm.Backend.RefusalFor(lstm.Desc));
        var sd = lstm.StateDict();
        Assert.Contains("weight_ph_l1", sd.Keys);
        Assert.Equal([18], sd["weight_ph_l0"].Shape);
        var (y, _) = lstm.Forward(Tensor.FromArray(Enumerable.Range(0, 2 * 3 * 4).Select(i => i * 0.05f).ToArray(), 2, 3, 4));
        // the peepholes change the result: zero them and the output differs
        foreach (var k in sd.Keys.Where(k => k.StartsWith("weight_ph"))) sd[k].Span.Fill(0.5f);
        using var other = new Nn.Lstm(4, 6, numLayers: 2, seed: 5, peephole: true);
        var (y2, _) = other.Forward(Tensor.FromArray(Enumerable.Range(0, 2 * 3 * 4).Select(i => i * 0.05f).ToArray(), 2, 3, 4));
        Assert.Equal(y.ToArray(), y2.ToArray());
        other.LoadStateDict(sd);
        var (y3, _) = other.Forward(Tensor.FromArray(Enumerable.Range(0, 2 * 3 * 4).Select(i => i * 0.05f).ToArray(), 2, 3, 4));
        Assert.NotEqual(y.ToArray(), y3.ToArray());
    }

    public static IEnumerable<object[]> SimdPaths() =>
    [
        ["native", null!, null!],
        ["AVX2", "DOTNET_EnableAVX512", "0"],
        ["scalar", "DOTNET_EnableHWIntrinsic", "0"],
    ];

    [EverySimdPathTheory]
    [MemberData(nameof(SimdPaths))]
    public void Cpu_peephole_kernels_pass_on_each_simd_path(string path, string? variable, string? value)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            foreach (var g in TestPaths.PeepholeGoldenNames())
                File.Copy(TestPaths.Golden(g), Path.Combine(dir, Path.GetFileName(g)));
            foreach (var c in WideCases()) WriteReferenceCase(Path.Combine(dir, "wide_" + c.Name.Replace(' ', '_').Replace('+', '_') + ".safetensors"), c);
            // Each child picks its own path: the SIMD variables of this process never leak into it.
            var env = new Dictionary<string, string?> { ["DOTNET_EnableAVX512"] = null, ["DOTNET_EnableHWIntrinsic"] = null };
            if (variable != null) env[variable] = value;
            var (_, info, _) = CliProcess.Run(["info"], env);
            string expectPath = path switch { "scalar" => "scalar", "AVX2" => "AVX2", _ => RnnFast.Backends.Cpu.Pointwise.PathName };
            output.WriteLine(info.Split('\n').FirstOrDefault(l => l.Contains("cpu ")) ?? info);
            Assert.Contains($"managed SIMD kernels ({expectPath}", info);
            var (code, o, e) = CliProcess.Run(["check", "--backend", "cpu", dir], env, TimeSpan.FromSeconds(120));
            output.WriteLine(o + e);
            Assert.True(code == 0, $"{path}: exit {code}: {o}{e}");
            Assert.Matches(@"PASS (\d+)/\1\s*$", o);
            Assert.Contains("grad.weight_ph_l1_reverse: max_abs=", o);
            Assert.Equal(TestPaths.PeepholeGoldenNames().Count() + WideCases().Count, o.Split('\n').Count(l => l.Contains("(rnn_layer) on cpu:")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Writes case <paramref name="c"/> as an rnn_layer reference file computed by the reference backend.</summary>
    internal static void WriteReferenceCase(string path, SweepCase c)
    {
        var desc = c.Desc;
        var rng = new Random(11);
        var p = RnnParameters.Create(desc, rng);
        int ld = desc.NumLayers * desc.Directions;
        Tensor Rand(params int[] shape)
        {
            var t = Tensor.Zeros(shape);
            var s = t.Span;
            for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
            return t;
        }
        var x = Rand(c.T, c.N, desc.InputSize);
        var h0 = Rand(ld, c.N, desc.OutputHiddenSize);
        var c0 = Rand(ld, c.N, desc.HiddenSize);
        var dy = Rand(c.T, c.N, desc.OutputSize);
        var dhn = Rand(ld, c.N, desc.OutputHiddenSize);
        var dcn = Rand(ld, c.N, desc.HiddenSize);
        if (c.Lengths != null) // padded steps' upstream gradient is zero in the goldens
            for (int t = 0; t < c.T; t++)
            for (int n = 0; n < c.N; n++)
                if (t >= c.Lengths[n]) dy.Span.Slice((t * c.N + n) * desc.OutputSize, desc.OutputSize).Clear();
        using var plan = BackendRegistry.Get("reference").CreateRnnPlan(p);
        var inputs = RnnRunner.Prepare(desc, x, h0, c0, c.Lengths);
        var fwd = plan.Forward(inputs, training: true);
        var g = plan.Backward(inputs, fwd, dy, dhn, dcn);
        var entries = new List<SafeTensorEntry>();
        void Add(string name, Tensor t) => entries.Add(SafeTensorEntry.F32(name, t.Shape, t.ToArray()));
        for (int i = 0; i < p.Ids.Count; i++) Add(p.Ids[i].TorchName, p.Tensors[i]);
        Add("input", x); Add("h0", h0); Add("c0", c0);
        if (c.Lengths != null) entries.Add(SafeTensorEntry.I64("lengths", [c.N], c.Lengths.Select(v => (long)v).ToArray()));
        Add("output", fwd.Output); Add("h_n", fwd.HN); Add("c_n", fwd.CN!);
        Add("grad_output", dy); Add("grad_h_n", dhn); Add("grad_c_n", dcn);
        Add("grad_input", g.DInput); Add("grad_h0", g.DH0); Add("grad_c0", g.DC0!);
        for (int i = 0; i < g.DParams.Ids.Count; i++) Add("grad." + g.DParams.Ids[i].TorchName, g.DParams.Tensors[i]);
        var meta = new Dictionary<string, string>
        {
            ["kind"] = "rnn_layer", ["mode"] = "LSTM", ["peephole"] = "true", ["input_size"] = desc.InputSize.ToString(),
            ["hidden_size"] = desc.HiddenSize.ToString(), ["num_layers"] = desc.NumLayers.ToString(),
            ["bidirectional"] = desc.Bidirectional ? "true" : "false", ["batch_first"] = "false",
            ["proj_size"] = desc.ProjSize.ToString(), ["bias"] = "true",
        };
        SafeTensorsWriter.Write(path, entries, meta);
    }

    private sealed class RefusingBackend(string name, int score) : Backend
    {
        public bool Refuses { get; init; } = true;
        public override string Name => name;
        public override BackendKind Kind => BackendKind.Cpu;
        public override string Description => "test backend";
        public override int Score => score;
        protected override BackendAvailability Probe() => BackendAvailability.Yes();
        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => throw new NotSupportedException("test backend");
        public override string? RefusalFor(RnnDesc desc) => Refuses && desc.Peephole ? "no peepholes here" : null;
    }
}

/// <summary>cuda's refusal of peepholes, without a GPU: its description check and `auto` passing it over.</summary>
public sealed class CudaPeepholeRefusalTests
{
    [Fact]
    public void Cuda_refuses_a_peephole_lstm_and_auto_passes_it_over()
    {
        var cuda = BackendRegistry.All.Single(b => b.Name == "cuda");
        var peep = new RnnDesc(RnnMode.Lstm, 3, 4, peephole: true);
        Assert.Equal("cuDNN has no peephole LSTM (RnnDesc.Peephole is true); use cpu, onednn or opencl", cuda.RefusalFor(peep));
        Assert.Null(cuda.RefusalFor(new RnnDesc(RnnMode.Lstm, 3, 4)));
        Assert.Null(cuda.RefusalFor(new RnnDesc(RnnMode.Gru, 3, 4)));
        // auto over backends that all answer "available": cuda has the top score but cannot run the description
        var candidates = BackendRegistry.All.Where(b => b.Name is "cpu" or "reference").Append(new AlwaysAvailable(cuda)).ToList();
        Assert.Equal("cuda", BackendRegistry.Auto(candidates).Name);
        Assert.Equal("cpu", BackendRegistry.Auto(candidates, peep).Name);
    }

    /// <summary>A stand-in that is available and otherwise answers as <paramref name="inner"/> (its name, score, refusals).</summary>
    private sealed class AlwaysAvailable(Backend inner) : Backend
    {
        public override string Name => inner.Name;
        public override BackendKind Kind => inner.Kind;
        public override string Description => inner.Description;
        public override int Score => inner.Score;
        protected override BackendAvailability Probe() => BackendAvailability.Yes();
        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => throw new NotSupportedException("stand-in");
        public override string? RefusalFor(RnnDesc desc) => inner.RefusalFor(desc);
    }
}

/// <summary>A peephole model's weight_ph saved and loaded with its checkpoint; the CLI's --peephole trains one.</summary>
public sealed class PeepholeCheckpointTests
{
    [Fact]
    public void Weight_ph_round_trips_through_a_checkpoint()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "lm.safetensors");
            var config = new Models.NetworkConfig
            {
                Kind = Models.NetworkKind.LanguageModel, Mode = RnnMode.Lstm, Layers = 2, Hidden = 6, Embed = 3,
                Vocab = Models.CharVocab.FromText("abcdefgh"), Peephole = true,
            };
            using var net = new Models.CharNetwork(config, BackendRegistry.Get("reference"), new Random(1));
            Models.Checkpoint.Save(path, net);
            var back = Models.Checkpoint.Read(path);
            Assert.True(back.Config.Peephole);
            Assert.True(back.Config.RnnDesc.Peephole);
            var want = net.Rnn.Plan.Parameters.Get(1, 0, RnnParamKind.WeightPh).ToArray();
            Assert.Equal(want, back.Tensors["rnn.weight_ph_l1"].ToArray());
            using var loaded = Models.Checkpoint.ToNetwork(back, BackendRegistry.Get("cpu"));
            Assert.Equal(want, loaded.Rnn.Plan.Parameters.Get(1, 0, RnnParamKind.WeightPh).ToArray());

            // metadata that contradicts the tensors is refused, naming both
            using (var f = SafeTensorsFile.Open(path))
            {
                var meta = f.Metadata.ToDictionary();
                meta["peephole"] = "false";
                var entries = f.Tensors.Select(i => { var t = f.ReadTensor(i.Name); return SafeTensorEntry.F32(i.Name, t.Shape, t.ToArray()); }).ToList();
                SafeTensorsWriter.Write(Path.Combine(dir, "bad.safetensors"), entries, meta);
            }
            var e = Assert.Throws<RnnFormatException>(() => Models.Checkpoint.Read(Path.Combine(dir, "bad.safetensors")));
            Assert.Contains("metadata 'peephole' = 'false' but the tensors describe an RNN with peepholes", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Peephole_with_a_gru_is_refused_naming_the_flag()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var data = Path.Combine(dir, "text.txt");
            File.WriteAllText(data, string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 40)));
            var (code, _, err) = CliProcess.Run(["train", "--data", data, "--model", "gru", "--peephole", "--out", Path.Combine(dir, "m.safetensors")]);
            Assert.Equal(2, code);
            Assert.Contains("--peephole: peephole connections are only defined for LSTM, not GRU", err);
            // an LSTM with --peephole trains and saves its weight_ph
            var model = Path.Combine(dir, "p.safetensors");
            (code, var o, err) = CliProcess.Run(["train", "--data", data, "--peephole", "--hidden", "8", "--embed", "4", "--seq-len", "16",
                "--batch", "4", "--steps", "3", "--backend", "cpu", "--out", model]);
            Assert.True(code == 0, o + err);
            Assert.True(Models.Checkpoint.Read(model).Config.Peephole);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>
/// A theory that starts a child process per SIMD path itself: it runs in the main test pass and is reported as skipped,
/// with the reason, in the AVX2/scalar reruns (whose own variables would otherwise decide what "native" means).
/// </summary>
public sealed class EverySimdPathTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips when this process runs with DOTNET_EnableAVX512 or DOTNET_EnableHWIntrinsic set.</summary>
    public EverySimdPathTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") != null || Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") != null)
            Skip = "covers every SIMD path with child processes in the main test pass; this is a SIMD rerun (DOTNET_EnableAVX512/DOTNET_EnableHWIntrinsic set)";
    }
}
