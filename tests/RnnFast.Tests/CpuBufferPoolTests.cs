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
