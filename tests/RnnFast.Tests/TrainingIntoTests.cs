// A training step into the caller's buffers: IRnnPlan.ForwardInto(training: true) and BackwardAccumulate into
// RnnInputGradientBuffers must give exactly what Forward(training: true) + BackwardAccumulate give (into buffers that
// held garbage, a second step into the same buffers, padded steps of dX zero), refuse wrong or aliased buffers naming
// them, and on the cpu backend allocate no activation-sized array per step.
using RnnFast.Backends;
using Xunit;

namespace RnnFast.Tests;

public sealed class TrainingIntoTests
{
    [BackendTheory]
    [MemberData(nameof(ForwardIntoTests.Problems), MemberType = typeof(ForwardIntoTests))] // the same backends and problems
    public void A_training_step_into_dirty_buffers_gives_exactly_the_allocating_step(string backend, string problem)
    {
        var (desc, inputs) = RnnTestProblems.MakeProblem(problem, seed: 5);
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(3)));
        var rng = new Random(9);
        var dY = RnnTestProblems.RandomTensor(rng, [inputs.SeqLen, inputs.Batch, desc.OutputSize]);
        var dHN = RnnTestProblems.RandomTensor(rng, [desc.NumLayers * desc.Directions, inputs.Batch, desc.OutputHiddenSize]);

        using var expectedForward = plan.Forward(inputs, training: true);
        var expectedGrads = RnnParameters.Zeros(desc);
        var expected = plan.BackwardAccumulate(inputs, expectedForward, dY, dHN, null, expectedGrads);

        var into = RnnOutputBuffers.For(desc, inputs.SeqLen, inputs.Batch);
        var gradsInto = RnnInputGradientBuffers.For(desc, inputs.SeqLen, inputs.Batch);
        for (int step = 0; step < 2; step++) // the second step reuses buffers that already hold a result
        {
            Fill(into, gradsInto, float.NaN);
            var paramGrads = RnnParameters.Zeros(desc);
            int versionBefore = gradsInto.DInput.Version;
            using var r = plan.ForwardInto(inputs, into, training: true);
            Assert.Same(into.Output, r.Output);
            Assert.Same(into.HN, r.HN);
            Assert.NotNull(r.Workspace);
            Assert.Equal(expectedForward.Output.ToArray(), into.Output.ToArray());
            Assert.Equal(expectedForward.HN.ToArray(), into.HN.ToArray());
            if (desc.HasCellState) Assert.Equal(expectedForward.CN!.ToArray(), into.CN!.ToArray());

            var g = plan.BackwardAccumulate(inputs, r, dY, dHN, null, paramGrads, gradsInto);
            Assert.Same(gradsInto.DInput, g.DInput);
            Assert.Same(gradsInto.DH0, g.DH0);
            Assert.Same(paramGrads, g.DParams);
            Assert.True(gradsInto.DInput.Version > versionBefore, "BackwardAccumulate must mark dInput changed");
            Assert.Equal(expected.DInput.ToArray(), gradsInto.DInput.ToArray());
            Assert.Equal(expected.DH0.ToArray(), gradsInto.DH0.ToArray());
            if (desc.HasCellState) Assert.Equal(expected.DC0!.ToArray(), gradsInto.DC0!.ToArray());
            for (int i = 0; i < paramGrads.Tensors.Count; i++)
                Assert.Equal(expectedGrads.Tensors[i].ToArray(), paramGrads.Tensors[i].ToArray());
            if (inputs.Lengths != null) RnnTestProblems.AssertPaddingIsZero(gradsInto.DInput, inputs.Lengths);
        }
    }

    [Fact]
    public void Wrong_gradient_buffers_are_refused_naming_the_buffer_and_the_shapes()
    {
        var (desc, inputs) = RnnTestProblems.MakeProblem("lstm:I5:H7:L2:D1:P0", seed: 1); // T=6 N=5
        using var plan = BackendRegistry.Get("cpu").CreateRnnPlan(RnnParameters.Create(desc, new Random(3)));
        var good = RnnInputGradientBuffers.For(desc, inputs.SeqLen, inputs.Batch);
        var grads = RnnParameters.Zeros(desc);
        var dY = Tensor.Zeros(6, 5, 7);
        using var fwd = plan.Forward(inputs, training: true);

        var e = Assert.Throws<ArgumentException>(() => plan.BackwardAccumulate(inputs, fwd, dY, null, null, grads,
            new RnnInputGradientBuffers(Tensor.Zeros(6, 4, 5), good.DH0, good.DC0)));
        Assert.Contains("RnnInputGradientBuffers.DInput: expected shape (6,5,5), found (6,4,5)", e.Message);
        e = Assert.Throws<ArgumentException>(() => plan.BackwardAccumulate(inputs, fwd, dY, null, null, grads,
            new RnnInputGradientBuffers(good.DInput, Tensor.Zeros(1, 5, 7), good.DC0)));
        Assert.Contains("RnnInputGradientBuffers.DH0: expected shape (2,5,7), found (1,5,7)", e.Message);
        e = Assert.Throws<ArgumentException>(() => plan.BackwardAccumulate(inputs, fwd, dY, null, null, grads,
            new RnnInputGradientBuffers(good.DInput, good.DH0)));
        Assert.Contains("RnnInputGradientBuffers.DC0: is null", e.Message);
        e = Assert.Throws<ArgumentException>(() => plan.BackwardAccumulate(inputs, fwd, dY, good.DH0, null, grads, good));
        Assert.Contains("upstream gradient", e.Message);
        e = Assert.Throws<ArgumentException>(() => plan.BackwardAccumulate(inputs with { H0 = good.DH0 }, fwd, dY, null, null, grads, good));
        Assert.Contains("also an input", e.Message);
        e = Assert.Throws<ArgumentException>(() => new RnnInputGradientBuffers(good.DInput, good.DInput));
        Assert.Contains("separate tensors", e.Message);
        // nothing was written (nor added) by the refused calls
        Assert.All(good.DInput.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(grads.Tensors, t => Assert.All(t.ToArray(), v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void Cpu_training_step_into_kept_buffers_allocates_no_activation_sized_array()
    {
        // (T=64, N=16): a 512 KB output and a 256 KB dX. Counted on this thread, where the plan allocates its results.
        var desc = new RnnDesc(RnnMode.Lstm, 64, 64, numLayers: 2, bidirectional: true);
        var x = RnnTestProblems.RandomTensor(new Random(2), [64, 16, 64]);
        var dY = RnnTestProblems.RandomTensor(new Random(4), [64, 16, 128]);
        using var plan = BackendRegistry.Get("cpu").CreateRnnPlan(RnnParameters.Create(desc, new Random(3)));
        var inputs = new RnnInputs(x);
        var into = RnnOutputBuffers.For(desc, 64, 16);
        var gradsInto = RnnInputGradientBuffers.For(desc, 64, 16);
        var paramGrads = RnnParameters.Zeros(desc);
        long dXBytes = (long)gradsInto.DInput.Length * sizeof(float);
        void Step()
        {
            using var r = plan.ForwardInto(inputs, into, training: true);
            plan.BackwardAccumulate(inputs, r, dY, null, null, paramGrads, gradsInto);
        }
        for (int i = 0; i < 3; i++) Step(); // warm: the plan's training buffers are pooled after the first step
        long before = GC.GetAllocatedBytesForCurrentThread();
        const int steps = 10;
        for (int i = 0; i < steps; i++) Step();
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / steps;
        Assert.True(perStep < dXBytes / 8, $"a training step into kept buffers allocated {perStep} bytes (dX alone is {dXBytes})");
        // the allocating step, for contrast, takes a new output and dX every time
        before = GC.GetAllocatedBytesForCurrentThread();
        using (var r = plan.Forward(inputs, training: true)) plan.BackwardAccumulate(inputs, r, dY, null, null, paramGrads);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before >= dXBytes + (long)into.Output.Length * sizeof(float));
    }

    private static void Fill(RnnOutputBuffers b, RnnInputGradientBuffers g, float v)
    {
        b.Output.Span.Fill(v);
        b.HN.Span.Fill(v);
        b.CN?.Span.Fill(v);
        g.DInput.Span.Fill(v);
        g.DH0.Span.Fill(v);
        g.DC0?.Span.Fill(v);
    }
}
