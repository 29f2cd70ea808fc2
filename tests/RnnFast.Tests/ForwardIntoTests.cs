// IRnnPlan.ForwardInto: inference written into the caller's RnnOutputBuffers. It must give exactly what Forward gives
// (into buffers that held garbage, padded steps zero, a second call into the same buffers), name the buffer whose shape
// is wrong, and on the cpu backend allocate no output-sized array per call.
using RnnFast.Backends;
using Xunit;

namespace RnnFast.Tests;

public sealed class ForwardIntoTests
{
    public static IEnumerable<object[]> Problems() =>
        from b in new[] { "reference", "cpu", "onednn" }
        from p in new[]
        {
            "lstm:I5:H7:L2:D2:P0:varlen:h0",
            "lstm:I4:H6:L2:D1:P3:h0",
            "gru:I5:H6:L2:D2:P0",
            "gru:I5:H6:L1:D1:P0:varlen",
            "rnn_relu:I5:H6:L1:D1:P0:h0",
            "rnn_tanh:I5:H6:L2:D2:P0:varlen",
        }
        select new object[] { b, p };

    [BackendTheory]
    [MemberData(nameof(Problems))]
    public void ForwardInto_gives_exactly_what_Forward_gives_into_dirty_buffers(string backend, string problem)
    {
        var (desc, inputs) = RnnTestProblems.MakeProblem(problem, seed: 5);
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(3)));
        var expected = plan.Forward(inputs, training: false);
        var into = RnnOutputBuffers.For(desc, inputs.SeqLen, inputs.Batch);
        for (int call = 0; call < 2; call++) // the second call reuses buffers that already hold a result
        {
            Fill(into, float.NaN);
            int versionBefore = into.Output.Version;
            var r = plan.ForwardInto(inputs, into);
            Assert.Same(into.Output, r.Output);
            Assert.Same(into.HN, r.HN);
            Assert.Same(into.CN, r.CN);
            Assert.Null(r.Workspace);
            Assert.True(into.Output.Version > versionBefore, "ForwardInto must mark the output changed");
            Assert.Equal(expected.Output.ToArray(), into.Output.ToArray());
            Assert.Equal(expected.HN.ToArray(), into.HN.ToArray());
            if (desc.HasCellState) Assert.Equal(expected.CN!.ToArray(), into.CN!.ToArray());
            if (inputs.Lengths != null) RnnTestProblems.AssertPaddingIsZero(into.Output, inputs.Lengths);
        }
    }

    [Fact]
    public void Wrong_buffers_are_refused_naming_the_buffer_and_the_shapes()
    {
        var (desc, inputs) = RnnTestProblems.MakeProblem("lstm:I5:H7:L2:D1:P0", seed: 1); // T=6 N=5
        using var plan = BackendRegistry.Get("cpu").CreateRnnPlan(RnnParameters.Create(desc, new Random(3)));
        var good = RnnOutputBuffers.For(desc, inputs.SeqLen, inputs.Batch);

        var e = Assert.Throws<ArgumentException>(() => plan.ForwardInto(inputs, new RnnOutputBuffers(Tensor.Zeros(6, 4, 7), good.HN, good.CN)));
        Assert.Contains("RnnOutputBuffers.Output: expected shape (6,5,7), found (6,4,7)", e.Message);
        e = Assert.Throws<ArgumentException>(() => plan.ForwardInto(inputs, new RnnOutputBuffers(good.Output, Tensor.Zeros(1, 5, 7), good.CN)));
        Assert.Contains("RnnOutputBuffers.HN: expected shape (2,5,7), found (1,5,7)", e.Message);
        e = Assert.Throws<ArgumentException>(() => plan.ForwardInto(inputs, new RnnOutputBuffers(good.Output, good.HN)));
        Assert.Contains("RnnOutputBuffers.CN: is null", e.Message);
        e = Assert.Throws<ArgumentException>(() => plan.ForwardInto(inputs with { H0 = good.HN }, good));
        Assert.Contains("also one of the inputs", e.Message);
        e = Assert.Throws<ArgumentException>(() => new RnnOutputBuffers(good.Output, good.Output));
        Assert.Contains("separate tensors", e.Message);

        var (gru, gruInputs) = RnnTestProblems.MakeProblem("gru:I5:H7:L1:D1:P0", seed: 1);
        using var gruPlan = BackendRegistry.Get("cpu").CreateRnnPlan(RnnParameters.Create(gru, new Random(3)));
        var gruGood = RnnOutputBuffers.For(gru, 6, 5);
        e = Assert.Throws<ArgumentException>(() => gruPlan.ForwardInto(gruInputs, new RnnOutputBuffers(gruGood.Output, gruGood.HN, Tensor.Zeros(1, 5, 7))));
        Assert.Contains("RnnOutputBuffers.CN: must be null for Gru", e.Message);
        // nothing was written by the refused calls
        Assert.All(good.Output.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Cpu_ForwardInto_allocates_no_output_sized_array_per_call()
    {
        // (T=64, N=16, 2*64): a 512 KB output, far above what a call may allocate besides it. Counted on this thread, where
        // the plan allocates its results (tests in other classes run in parallel).
        var desc = new RnnDesc(RnnMode.Lstm, 32, 64, numLayers: 2, bidirectional: true);
        var x = RnnTestProblems.RandomTensor(new Random(2), [64, 16, 32]);
        using var plan = BackendRegistry.Get("cpu").CreateRnnPlan(RnnParameters.Create(desc, new Random(3)));
        var inputs = new RnnInputs(x);
        var into = RnnOutputBuffers.For(desc, 64, 16);
        long outputBytes = (long)into.Output.Length * sizeof(float);
        for (int i = 0; i < 3; i++) plan.ForwardInto(inputs, into); // warm: the plan's scratch is pooled after the first call
        long before = GC.GetAllocatedBytesForCurrentThread();
        const int calls = 10;
        for (int i = 0; i < calls; i++) plan.ForwardInto(inputs, into);
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / calls;
        Assert.True(perCall < outputBytes / 16, $"ForwardInto allocated {perCall} bytes per call (the output is {outputBytes})");
        // Forward, for contrast, allocates the output every call
        before = GC.GetAllocatedBytesForCurrentThread();
        plan.Forward(inputs, training: false);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before >= outputBytes);
    }

    private static void Fill(RnnOutputBuffers b, float v)
    {
        b.Output.Span.Fill(v);
        b.HN.Span.Fill(v);
        b.CN?.Span.Fill(v);
    }
}
