// `rnnfast verify`: the goldens plus the built-in sweep on a backend against the reference, one line per case and a
// summary, exit 0 / 1 / 2. Runs for real on cpu and onednn here (the cuda row is the GPU machine's; see bench/gpu).
using RnnFast.Backends;
using RnnFast.Checks;
using RnnFast.Cli;
using Xunit;

namespace RnnFast.Tests;

public sealed class VerifyCommandTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Verify(VerifyArgs a, Backend? backend = null)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = VerifyCommand.Run(a, o, e, backend);
        return (code, o.ToString(), e.ToString());
    }

    private static string LastLine(string s) => s.TrimEnd().Split('\n')[^1].Trim();

    [BackendTheory]
    [InlineData("cpu")]
    [InlineData("onednn")]
    public void Goldens_and_sweep_pass_on_a_correct_backend(string backend)
    {
        foreach (var g in new[] { "lstm_varlen_bidir", "gru_basic" })
            File.Copy(TestPaths.Golden(g), Path.Combine(_dir, g + ".safetensors"));
        var (code, o, e) = Verify(new VerifyArgs { Backend = backend, Goldens = _dir });
        Assert.True(code == 0, o + e);
        Assert.Equal($"PASS 42/42 cases on {backend} (2 goldens, 40 sweep)", LastLine(o));
        Assert.Contains("PASS  golden lstm_varlen_bidir.safetensors", o);
        Assert.Contains("PASS  sweep lstm+proj L=2 bi varlen T=6 N=4 I=5 H=7 P=3", o);
        Assert.Contains("PASS  sweep rnn_relu L=1 uni fixed", o);
        Assert.Equal(42, o.Split('\n').Count(l => l.StartsWith("PASS  "))); // one line per case
    }

    [Fact]
    public void The_sweep_covers_every_mode_layers_directions_and_lengths()
    {
        var cases = BackendSweep.Cases();
        Assert.Equal(40, cases.Count);
        Assert.Equal(40, cases.Select(c => c.Name).Distinct().Count());
        foreach (var cell in new[] { "rnn_tanh", "rnn_relu", "lstm", "lstm+proj", "gru" })
        foreach (int layers in new[] { 1, 2 })
        foreach (bool bi in new[] { false, true })
        foreach (bool varlen in new[] { false, true })
            Assert.Single(cases, c => c.Cell == cell && c.Desc.NumLayers == layers && c.Desc.Bidirectional == bi && (c.Lengths != null) == varlen);
        Assert.All(cases.Where(c => c.Cell == "lstm+proj"), c => Assert.True(c.Desc.ProjSize > 0));
        Assert.All(cases.Where(c => c.Lengths != null), c => Assert.Contains(1, c.Lengths!));
    }

    [Fact]
    public void A_wrong_backend_fails_with_exit_1_naming_the_tensor()
    {
        var (code, o, _) = Verify(new VerifyArgs { Backend = "wrong", NoGoldens = true }, new WrongGradientBackend());
        Assert.Equal(1, code);
        Assert.Equal("FAIL 0/40 cases on wrong-gradient (0 goldens, 40 sweep)", LastLine(o));
        Assert.Contains("FAIL  sweep lstm L=1 uni fixed", o);
        Assert.Contains("grad_h0: max_abs=", o);
        Assert.Contains("goldens: skipped (--no-goldens)", o);
    }

    [Fact]
    public void Bad_input_is_exit_2()
    {
        var (code, _, e) = Verify(new VerifyArgs { Backend = "cpu", Goldens = Path.Combine(_dir, "absent") });
        Assert.Equal(2, code);
        Assert.Contains("--goldens: folder", e);

        (code, _, e) = Verify(new VerifyArgs { Backend = "no-such-backend", NoGoldens = true });
        Assert.Equal(2, code);
        Assert.Contains("unknown backend 'no-such-backend'", e);

        (code, _, e) = Verify(new VerifyArgs { Backend = "cpu", NoGoldens = true, Atol = -1 });
        Assert.Equal(2, code);
        Assert.Contains("--atol/--rtol", e);

        File.WriteAllText(Path.Combine(_dir, "broken.safetensors"), "not a safetensors file");
        (code, _, e) = Verify(new VerifyArgs { Backend = "cpu", Goldens = _dir });
        Assert.Equal(2, code);
        Assert.Contains("broken.safetensors", e);
    }

    /// <summary>The reference backend with h0's gradient perturbed: forward agrees, backward does not.</summary>
    private sealed class WrongGradientBackend : Backend
    {
        public override string Name => "wrong-gradient";
        public override BackendKind Kind => BackendKind.Cpu;
        public override string Description => "test double: the reference with a wrong dh0";
        public override int Score => 0;
        protected override BackendAvailability Probe() => BackendAvailability.Yes("test double");

        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) =>
            new Plan(BackendRegistry.All.First(b => b.Name == "reference").CreateRnnPlan(parameters));

        private sealed class Plan(IRnnPlan inner) : IRnnPlan
        {
            public RnnDesc Desc => inner.Desc;
            public RnnParameters Parameters => inner.Parameters;
            public void Dispose() => inner.Dispose();
            public RnnForwardResult Forward(RnnInputs inputs, bool training) => inner.Forward(inputs, training);

            public RnnStepper CreateStepper(int maxStreams = 1) => inner.CreateStepper(maxStreams);

            public RnnGradients Backward(RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN)
            {
                var g = inner.Backward(inputs, forward, dOutput, dHN, dCN);
                var dh0 = g.DH0.ToArray();
                dh0[0] += 0.05f;
                return new RnnGradients(g.DInput, Tensor.FromArray(dh0, g.DH0.Shape), g.DC0, g.DParams);
            }
        }
    }
}
