// The autograd tape: ops run eagerly and, when any input requires grad, append a node holding the backward
// rule. Backward(loss) seeds d(loss)=1 and runs the nodes in reverse record order, each adding its inputs'
// gradients into Variable.Grad (a gradient table in the style of tinygrad). Ops live in TapeOps.cs/TapeRnn.cs.
//
// A tape is NOT thread-safe: record and run backward from one thread. Use a new tape (or Reset) per step; Reset and
// Dispose release what the nodes hold (an RNN node's training workspace goes back to its plan for the next step).
namespace RnnFast.Autograd;

/// <summary>Records tape ops in order and runs their backward rules in reverse (reverse-mode autodiff). Not thread-safe: one tape per training step and thread.</summary>
public sealed partial class Tape : IDisposable
{
    /// <summary>One recorded op: the variables it produced and the rule that pushes their gradients to its inputs.</summary>
    private sealed class Node
    {
        public Node(Variable[] outputs, Action backward, IDisposable? state)
        {
            Outputs = outputs;
            Backward = backward;
            State = state;
        }

        public Variable[] Outputs { get; }
        public Action Backward { get; }
        public IDisposable? State { get; } // what the backward rule reads besides the variables (released by Reset)
    }

    private readonly List<Node> _nodes = [];

    /// <summary>Number of recorded ops.</summary>
    public int Count => _nodes.Count;

    /// <summary>
    /// Forgets every recorded op and releases the forward state they kept (an RNN's training workspace goes back to its
    /// plan, whose next training call reuses the buffers). Backward cannot run on what was recorded before.
    /// </summary>
    public void Reset()
    {
        foreach (var node in _nodes) node.State?.Dispose();
        _nodes.Clear();
    }

    /// <summary>Same as <see cref="Reset"/>: <c>using var tape = new Tape();</c> per training step.</summary>
    public void Dispose() => Reset();

    /// <summary>
    /// Back-propagates from <paramref name="loss"/> (one element): gradients are added into the Grad of every
    /// variable that requires one. Gradients of intermediate results are recomputed from scratch on each call, so
    /// calling Backward twice accumulates twice into the leaves (like retain_graph=True in PyTorch).
    /// </summary>
    public void Backward(Variable loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (loss.Value.Length != 1)
            throw new ArgumentException($"loss: backward needs a single-element loss, found shape {Tensor.FormatShape(loss.Value.Shape)}", nameof(loss));
        if (!loss.RequiresGrad)
            throw new InvalidOperationException("loss does not require grad: no parameter reached it (were all inputs constants?)");
        if (loss.Creator != null && !ReferenceEquals(loss.Creator, this))
            throw new InvalidOperationException("loss was recorded on another tape");

        foreach (var node in _nodes)
            foreach (var v in node.Outputs)
                v.ClearGradSilently();

        loss.GradForAccumulate()[0] += 1f;

        for (int i = _nodes.Count - 1; i >= 0; i--)
        {
            var node = _nodes[i];
            bool reached = false;
            foreach (var v in node.Outputs)
                if (v.Grad != null) { reached = true; break; }
            if (reached) node.Backward();
        }
    }

    /// <summary>Wraps an op's result; requires grad when any input does.</summary>
    private Variable Result(Tensor value, params Variable?[] inputs) => Variable.Result(value, AnyRequiresGrad(inputs), this);

    private static bool AnyRequiresGrad(IEnumerable<Variable?> inputs)
    {
        foreach (var v in inputs)
            if (v != null && v.RequiresGrad) return true;
        return false;
    }

    /// <summary>Records a node for <paramref name="outputs"/> when the first output requires grad.</summary>
    private void Record(Action backward, params Variable[] outputs) => Record(backward, null, outputs);

    /// <summary>Records a node whose backward also reads <paramref name="state"/> (disposed by Reset; at once when no node is recorded).</summary>
    private void Record(Action backward, IDisposable? state, params Variable[] outputs)
    {
        if (outputs[0].RequiresGrad) _nodes.Add(new Node(outputs, backward, state));
        else state?.Dispose();
    }
}
