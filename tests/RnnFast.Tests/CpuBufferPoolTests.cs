// The cpu plan's pool of training buffers: what it hands out (exact length, zeroed when asked even if reused, never the
// same buffer twice), and that a training step's buffers come back to it and are taken again: when a forward result is
// disposed, when a tape is disposed, and a backward's own scratch. Correctness on reused (dirty) buffers is checked
// against the reference by CpuKernelTests' accumulating backward and by every tape test.
using RnnFast.Autograd;
using RnnFast.Backends.Cpu;
using Xunit;

namespace RnnFast.Tests;

public sealed class CpuBufferPoolTests
{
    [Fact]
    public void A_returned_buffer_is_reused_for_the_same_length_and_cleared_when_asked()
    {
        var pool = new BufferPool();
        var a = pool.Rent(1000);
        a.Span.Fill(3f);
        pool.Return(a);
        pool.Return(a); // a second return of the same buffer is ignored
        Assert.Equal(1, pool.Count);
        Assert.NotSame(a, pool.Rent(999));
        var again = pool.Rent(1000);
        Assert.Same(a, again);
        Assert.All(again.Span.ToArray(), v => Assert.Equal(0f, v));
        Assert.NotSame(a, pool.Rent(1000)); // handed out once only
        again.Span.Fill(5f);
        pool.Return(again);
        Assert.Equal(5f, pool.Rent(1000, clear: false)[999]);
    }

    [Fact]
    public void A_pool_keeps_at_most_eight_buffers_of_one_length()
    {
        var pool = new BufferPool();
        var rented = Enumerable.Range(0, 12).Select(_ => pool.Rent(64)).ToList();
        foreach (var b in rented) pool.Return(b);
        Assert.Equal(8, pool.Count);
        pool.Clear();
        Assert.Equal(0, pool.Count);
    }

    [Theory]
    [InlineData("lstm:I6:H64:L2:D2:P0:varlen:h0")]
    [InlineData("lstm:I6:H40:L2:D1:P5:varlen")]
    [InlineData("gru:I5:H32:L2:D2:P0:varlen:h0")]
    [InlineData("gru:I5:H33:L1:D1:P0:h0")]
    [InlineData("rnn_relu:I4:H32:L1:D1:P0:varlen")]
    public void A_step_on_pooled_buffers_filled_with_NaN_matches_the_reference(string spec)
    {
        var (desc, inputs) = RnnTestProblems.MakeProblem(spec, seed: 4);
        var parameters = RnnParameters.Create(desc, new Random(5));
        using var plan = new CpuRnnPlan(parameters);
        using var oracle = new RnnFast.Backends.Reference.ReferenceBackend().CreateRnnPlan(parameters);
        var r = new Random(6);
        var fr = oracle.Forward(inputs, training: true);
        var dy = RnnTestProblems.RandomTensor(r, fr.Output.Shape);
        var dh = RnnTestProblems.RandomTensor(r, fr.HN.Shape);
        var dc = desc.HasCellState ? RnnTestProblems.RandomTensor(r, fr.CN!.Shape) : null;
        var expected = oracle.Backward(inputs, fr, dy, dh, dc);

        plan.Forward(inputs, training: true).Dispose(); // fills the pool with this shape's buffers
        plan.Backward(inputs, plan.Forward(inputs, training: true), dy, dh, dc);
        Assert.True(plan.TrainingBuffers.Count > 0);
        plan.TrainingBuffers.FillHeld(float.NaN); // whatever a call reads without writing (or clearing) first shows up

        var f = plan.Forward(inputs, training: true);
        RnnTestProblems.AssertClose(fr.Output, f.Output, "output");
        RnnTestProblems.AssertClose(fr.HN, f.HN, "h_n");
        var g = plan.Backward(inputs, f, dy, dh, dc);
        RnnTestProblems.AssertClose(expected.DInput, g.DInput, "grad_input");
        RnnTestProblems.AssertClose(expected.DH0, g.DH0, "grad_h0");
        for (int i = 0; i < parameters.Ids.Count; i++)
            RnnTestProblems.AssertClose(expected.DParams.Tensors[i], g.DParams.Tensors[i], "grad." + parameters.Ids[i].TorchName);
    }

    [Fact]
    public void A_training_steps_buffers_go_back_to_the_plan_and_the_next_step_takes_them()
    {
        var desc = new RnnDesc(RnnMode.Lstm, 6, 8, numLayers: 2, projSize: 5);
        var parameters = RnnParameters.Create(desc, new Random(1));
        using var plan = new CpuRnnPlan(parameters);
        var (_, inputs) = RnnTestProblems.MakeProblem("lstm:I6:H8:L2:D1:P5", seed: 2);
        var dy = RnnTestProblems.RandomTensor(new Random(3), [6, 5, 5]);

        var fwd = plan.Forward(inputs, training: true);
        plan.Backward(inputs, fwd, dy, null, null);
        int afterBackward = plan.TrainingBuffers.Count;
        Assert.True(afterBackward > 0, "the backward's scratch was not returned");
        fwd.Dispose();
        int afterDispose = plan.TrainingBuffers.Count;
        Assert.True(afterDispose > afterBackward, "the disposed forward's workspace was not returned");

        var next = plan.Forward(inputs, training: true);
        Assert.True(plan.TrainingBuffers.Count < afterDispose, "the next forward allocated instead of reusing");
        next.Dispose();

        // through the tape: disposing it releases the RNN node's workspace
        var x = Variable.Constant(inputs.Input);
        var ps = parameters.Tensors.Select(t => Variable.Parameter(t)).ToList();
        int before = plan.TrainingBuffers.Count;
        var tape = new Tape();
        var y = tape.Rnn(plan, x, null, null, null, ps);
        Assert.True(plan.TrainingBuffers.Count < before);
        tape.Backward(tape.Sum(y.Output));
        tape.Dispose();
        Assert.Equal(afterDispose, plan.TrainingBuffers.Count);
        Assert.All(ps, p => Assert.NotNull(p.Grad));
    }
}
