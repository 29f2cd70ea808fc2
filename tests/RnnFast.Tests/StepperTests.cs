// Streaming steppers (IRnnPlan.CreateStepper) on every backend: T steps from the zero state equal the plan's Forward of
// the whole (T,N,I) sequence (every output and the final h/c) at the backend's tolerance; a stream's state round-trips
// through CopyStreamTo/CopyStreamFrom; weight updates are seen; bad arguments are refused naming the parameter. The
// cpu backend's own stepper (CpuRnnStepper) also allocates nothing per step and reads bf16 weights at N=1 on cpu:bf16.
// Shapes: x (T,N,I) time-major, a step's x (N,I) and y (N,H_out); state h (L,N,H_out), c (L,N,H).
using RnnFast.Backends;
using RnnFast.Backends.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class StepperTests(ITestOutputHelper output)
{
    private const int T = 7;

    /// <summary>Every registered backend and the cpu backend's bf16 and int8 variants.</summary>
    private static IEnumerable<string> Names => BackendData.Names.Append("cpu:bf16").Append("cpu:int8").Distinct();

    public static IEnumerable<object[]> Backends() => Names.Select(n => new object[] { n });

    /// <summary>backend x mode x {1, 2 layers} x {N=1, N=5}, plus LSTM with projection.</summary>
    public static IEnumerable<object[]> Cases()
    {
        foreach (var b in Names)
        {
            foreach (var mode in new[] { "lstm", "gru", "rnn_tanh", "rnn_relu" })
            foreach (int layers in new[] { 1, 2 })
            foreach (int n in new[] { 1, 5 })
                yield return [b, mode, layers, n, 0];
            foreach (int layers in new[] { 1, 2 })
            foreach (int n in new[] { 1, 5 })
                yield return [b, "lstm", layers, n, 24];
        }
    }

    // H=40: two chunks of 32 hidden units (a padded tail), so a step is cut into parts for the pool at N=5
    private static RnnDesc MakeDesc(string mode, int layers, int proj = 0, int input = 12, int hidden = 40) =>
        new(RnnDesc.ParseMode(mode), input, hidden, layers, projSize: proj);

    private static float[] RandomArray(Random r, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>Steps x (T,N,I) through <paramref name="stepper"/> from <paramref name="state"/>: the outputs (T,N,H_out).</summary>
    private static float[] StepAll(RnnStepper stepper, RnnStepState state, float[] x, int steps)
    {
        var desc = stepper.Desc;
        int N = state.Streams, I = desc.InputSize, Ho = desc.OutputHiddenSize;
        var ys = new float[steps * N * Ho];
        for (int t = 0; t < steps; t++)
            stepper.Step(state, x.AsSpan(t * N * I, N * I), ys.AsSpan(t * N * Ho, N * Ho));
        return ys;
    }

    private static void AssertClose(float[] expected, float[] actual, (double Abs, double Rel) tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double bound = tol.Abs + tol.Rel * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }

    /// <summary>The final state of a forward in the host form of one stream per row: (N, StateSize).</summary>
    private static float[] StatesOf(RnnForwardResult r, RnnDesc desc, int N)
    {
        int L = desc.NumLayers, Ho = desc.OutputHiddenSize, H = desc.HiddenSize, S = L * Ho + (desc.HasCellState ? L * H : 0);
        var h = r.HN.ToArray();
        var c = r.CN?.ToArray();
        var all = new float[N * S];
        for (int n = 0; n < N; n++)
        {
            int o = n * S;
            for (int l = 0; l < L; l++, o += Ho) h.AsSpan((l * N + n) * Ho, Ho).CopyTo(all.AsSpan(o));
            if (c != null)
                for (int l = 0; l < L; l++, o += H) c.AsSpan((l * N + n) * H, H).CopyTo(all.AsSpan(o));
        }
        return all;
    }

    private static float[] StatesOf(RnnStepState state)
    {
        var all = new float[state.Streams * state.StateSize];
        for (int n = 0; n < state.Streams; n++) state.CopyStreamTo(n, all.AsSpan(n * state.StateSize, state.StateSize));
        return all;
    }

    /// <summary>Stepping T times equals one Forward of the whole sequence from the zero state: outputs and final state.</summary>
    private static void AssertStepsMatchForward(IRnnPlan plan, RnnStepper stepper, Backend backend, int N, int seed, string what)
    {
        var desc = plan.Desc;
        var x = RandomArray(new Random(seed), T * N * desc.InputSize);
        var expected = plan.Forward(RnnRunner.Prepare(desc, Tensor.FromArray(x, T, N, desc.InputSize)), training: false);
        using var state = stepper.CreateState(N);
        var ys = StepAll(stepper, state, x, T);
        Assert.Contains(ys, v => v != 0); // a stepper writing nothing must not pass
        AssertClose(expected.Output.ToArray(), ys, backend.CheckTolerance, what + " y");
        AssertClose(StatesOf(expected, desc, N), StatesOf(state), backend.CheckTolerance, what + " state");
    }

    [BackendTheory]
    [MemberData(nameof(Cases))]
    public void Steps_equal_the_plans_forward(string backend, string mode, int layers, int streams, int proj)
    {
        var b = BackendRegistry.Get(backend);
        var desc = MakeDesc(mode, layers, proj);
        using var plan = b.CreateRnnPlan(RnnParameters.Create(desc, new Random(3)));
        using var stepper = plan.CreateStepper(maxStreams: 8);
        Assert.Equal(b.Name, stepper.ExecutedBy);
        Assert.Equal(8, stepper.MaxStreams);
        AssertStepsMatchForward(plan, stepper, b, streams, seed: 17 + streams, $"{backend} {mode} L{layers} N{streams} P{proj}");
    }

    [BackendTheory]
    [MemberData(nameof(Backends))]
    public void A_streams_state_round_trips_between_states(string backend)
    {
        var b = BackendRegistry.Get(backend);
        var desc = MakeDesc("lstm", 2, proj: 24);
        using var plan = b.CreateRnnPlan(RnnParameters.Create(desc, new Random(4)));
        using var stepper = plan.CreateStepper(maxStreams: 5);
        int I = desc.InputSize, Ho = desc.OutputHiddenSize;
        var r = new Random(8);
        using var a = stepper.CreateState(5);
        StepAll(stepper, a, RandomArray(r, 3 * 5 * I), 3);

        // streams 0 and 3 of a become streams 0 and 1 of b
        var s0 = new float[stepper.StateSize];
        var s3 = new float[stepper.StateSize];
        a.CopyStreamTo(0, s0);
        a.CopyStreamTo(3, s3);
        Assert.Contains(s3, v => v != 0);
        Assert.NotEqual(s0, s3);
        using var bs = stepper.CreateState(2);
        bs.CopyStreamFrom(0, s0);
        bs.CopyStreamFrom(1, s3);
        var back = new float[stepper.StateSize];
        bs.CopyStreamTo(1, back);
        Assert.Equal(s3, back);

        // one more step with the same inputs: the moved streams continue exactly where they were
        var xa = RandomArray(r, 5 * I);
        var xb = new float[2 * I];
        xa.AsSpan(0, I).CopyTo(xb);
        xa.AsSpan(3 * I, I).CopyTo(xb.AsSpan(I));
        var ya = new float[5 * Ho];
        var yb = new float[2 * Ho];
        stepper.Step(a, xa, ya);
        stepper.Step(bs, xb, yb);
        var tol = b.CheckTolerance;
        AssertClose(ya[..Ho], yb[..Ho], tol, "stream 0");
        AssertClose(ya[(3 * Ho)..(4 * Ho)], yb[Ho..], tol, "stream 3");

        a.Reset();
        Assert.All(StatesOf(a), v => Assert.Equal(0f, v));
    }

    [BackendTheory]
    [MemberData(nameof(Backends))]
    public void Weight_updates_are_seen_by_a_stepper(string backend)
    {
        var b = BackendRegistry.Get(backend);
        var desc = MakeDesc("gru", 2);
        var parameters = RnnParameters.Create(desc, new Random(6));
        using var plan = b.CreateRnnPlan(parameters);
        using var stepper = plan.CreateStepper(maxStreams: 3);
        var x = RandomArray(new Random(2), T * 3 * desc.InputSize);
        float[] before;
        using (var s = stepper.CreateState(3)) before = StepAll(stepper, s, x, T);
        foreach (var t in parameters.Tensors)
        {
            var span = t.Span;
            for (int i = 0; i < span.Length; i++) span[i] *= -1.5f;
            t.MarkChanged();
        }
        using (var s = stepper.CreateState(3)) Assert.NotEqual(before, StepAll(stepper, s, x, T));
        AssertStepsMatchForward(plan, stepper, b, 3, seed: 2, "after the update");
    }

    [BackendTheory]
    [MemberData(nameof(Backends))]
    public void A_bidirectional_plan_cannot_stream(string backend)
    {
        var desc = new RnnDesc(RnnMode.Lstm, 4, 8, 1, bidirectional: true);
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(1)));
        var e = Assert.Throws<NotSupportedException>(() => plan.CreateStepper(2));
        Assert.Contains("unidirectional", e.Message);
    }

    [BackendTheory]
    [MemberData(nameof(Backends))]
    public void Wrong_sizes_are_refused_naming_the_parameter(string backend)
    {
        var desc = MakeDesc("lstm", 2, proj: 24);
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(1)));
        using var stepper = plan.CreateStepper(maxStreams: 4);
        using var state = stepper.CreateState(3);
        int I = desc.InputSize, Ho = desc.OutputHiddenSize;
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => stepper.Step(state, new float[3 * I - 1], new float[3 * Ho])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => stepper.Step(state, new float[4 * I], new float[3 * Ho])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => stepper.Step(state, new float[3 * I], new float[3 * Ho + 1])).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => stepper.Step(state, new float[3 * I], new float[2 * Ho])).ParamName);
        Assert.Equal("streams", Assert.Throws<ArgumentOutOfRangeException>(() => stepper.CreateState(5)).ParamName);
        Assert.Equal("streams", Assert.Throws<ArgumentOutOfRangeException>(() => stepper.CreateState(0)).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentOutOfRangeException>(() => state.CopyStreamTo(3, new float[stepper.StateSize])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => state.CopyStreamTo(0, new float[stepper.StateSize - 1])).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => state.CopyStreamFrom(0, new float[stepper.StateSize + 1])).ParamName);
        // a state of another description
        using var other = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(MakeDesc("gru", 2), new Random(1)));
        using var otherStepper = other.CreateStepper(3);
        using var otherState = otherStepper.CreateState(3);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => stepper.Step(otherState, new float[3 * I], new float[3 * Ho])).ParamName);
    }

    // ------------------------------------------------------------------ the cpu backend's own stepper

    [Theory]
    [InlineData("cpu")]
    [InlineData("cpu:bf16")]
    [InlineData("cpu:int8")]
    public void The_cpu_backends_stepper_is_its_own(string backend)
    {
        var desc = MakeDesc("lstm", 2);
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(1)));
        using var stepper = plan.CreateStepper(4);
        Assert.IsType<CpuRnnStepper>(stepper);
        Assert.IsType<HostRnnStepState>(stepper.CreateState(4));
        // a state some other stepper made (tensors on the reference backend) is refused, naming state
        using var refPlan = BackendRegistry.Get("reference").CreateRnnPlan(plan.Parameters);
        using var refStepper = refPlan.CreateStepper(2);
        using var foreign = refStepper.CreateState(2);
        Assert.IsNotType<HostRnnStepState>(foreign);
        var e = Assert.Throws<ArgumentException>(() =>
            stepper.Step(foreign, new float[2 * desc.InputSize], new float[2 * desc.OutputHiddenSize]));
        Assert.Equal("state", e.ParamName);
    }

    [Theory]
    [InlineData("cpu", "lstm", 1)]
    [InlineData("cpu", "lstm", 16)]
    [InlineData("cpu", "gru", 1)]
    [InlineData("cpu", "gru", 16)]
    [InlineData("cpu:bf16", "lstm", 1)]
    [InlineData("cpu:bf16", "gru", 1)]
    [InlineData("cpu:int8", "lstm", 1)]
    [InlineData("cpu:int8", "gru", 1)]
    public void Cpu_steps_allocate_nothing_after_warm_up(string backend, string mode, int streams)
    {
        var desc = new RnnDesc(RnnDesc.ParseMode(mode), 32, 64, numLayers: 2);
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(1)));
        using var stepper = plan.CreateStepper(16);
        using var state = stepper.CreateState(streams);
        var x = RandomArray(new Random(3), streams * desc.InputSize);
        var y = new float[streams * desc.OutputHiddenSize];
        for (int i = 0; i < 10; i++) stepper.Step(state, x, y);
        // Windows of 100 steps: one must allocate nothing. A step that allocates does so in every window; the runtime
        // itself may allocate once on this thread while the JIT re-compiles hot methods (seen: 1352 B in one window
        // in about one run in five with tiered compilation on, never with it off).
        var windows = new List<long>();
        for (int round = 0; round < 3 && (windows.Count == 0 || windows[^1] != 0); round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) stepper.Step(state, x, y);
            windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        output.WriteLine($"{backend} {mode} N={streams}: bytes per 100 steps {string.Join(", ", windows)}");
        Assert.Equal(0, windows[^1]);
        Assert.Contains(y, v => v != 0);
    }

    [Theory]
    [InlineData("lstm", 0)]
    [InlineData("lstm", 48)]
    [InlineData("gru", 0)]
    public void A_bf16_stepper_at_batch_1_reads_bf16_weights_within_1e_2_of_fp32(string mode, int proj)
    {
        var desc = new RnnDesc(RnnDesc.ParseMode(mode), 32, 96, numLayers: 2, projSize: proj);
        var parameters = RnnParameters.Create(desc, new Random(5));
        using var fp32 = new CpuBackend().CreateRnnPlan(parameters);
        using var bf16 = new CpuBackend(bf16Weights: true).CreateRnnPlan(parameters);
        using var s32 = fp32.CreateStepper();
        using var s16 = bf16.CreateStepper();
        var x = RandomArray(new Random(9), T * desc.InputSize);
        float[] y32, y16;
        using (var st = s32.CreateState()) y32 = StepAll(s32, st, x, T);
        using (var st = s16.CreateState()) y16 = StepAll(s16, st, x, T);
        double worst = 0;
        for (int i = 0; i < y32.Length; i++) worst = Math.Max(worst, Math.Abs(y32[i] - y16[i]));
        output.WriteLine($"{mode} P={proj}: largest |bf16 - fp32| over {T} steps {worst:E3}");
        Assert.True(worst > 0, "the bf16 stepper gave fp32's results bit for bit: it did not read the bf16 weights");
        AssertClose(y32, y16, (1e-2, 1e-2), "bf16 y");
    }
}
