// A node value of the autograd tape: a host tensor, its (lazily allocated, accumulated) gradient, and whether
// gradients flow to it. Leaves are parameters (Variable.Parameter) or constants (Variable.Constant); every other
// Variable is the result of a Tape op. The gradient buffer is allocated once, on the first backward that reaches the
// variable, and kept: ZeroGrad (to null) only hides it, and the next backward overwrites or clears it in place.
using System.Numerics.Tensors;

namespace RnnFast.Autograd;

/// <summary>A value on the autograd tape: a host tensor, its accumulated gradient, and whether gradients flow to it.</summary>
public sealed class Variable
{
    private Tensor? _grad;
    private Tensor? _store; // the gradient buffer this variable allocated (or took over); reused after ZeroGrad

    private Variable(Tensor value, bool requiresGrad, string? name, Tape? creator)
    {
        ArgumentNullException.ThrowIfNull(value);
        Value = value;
        RequiresGrad = requiresGrad;
        Name = name;
        Creator = creator;
    }

    /// <summary>The forward value (a host tensor).</summary>
    public Tensor Value { get; }

    /// <summary>
    /// d(loss)/d(Value), same shape as <see cref="Value"/>; null until a backward pass reaches this variable
    /// (or after <see cref="ZeroGrad"/>). Backward passes add into it.
    /// </summary>
    public Tensor? Grad
    {
        get => _grad;
        set
        {
            if (value != null && !value.SameShape(Value))
                throw new ArgumentException($"Grad: shape {Tensor.FormatShape(value.Shape)} does not match the value's {Tensor.FormatShape(Value.Shape)}", nameof(value));
            _grad = value;
        }
    }

    /// <summary>True when gradients are computed for this variable.</summary>
    public bool RequiresGrad { get; }

    /// <summary>A label (modules set PyTorch-style names such as "weight" or "weight_ih_l0").</summary>
    public string? Name { get; set; }

    /// <summary>True for parameters and constants, false for op results.</summary>
    public bool IsLeaf => Creator == null;

    /// <summary>The shape of <see cref="Value"/>.</summary>
    public int[] Shape => Value.Shape;

    /// <summary>The tape whose op produced this variable (null for leaves).</summary>
    internal Tape? Creator { get; }

    /// <summary>A leaf that requires grad (a trainable parameter). The tensor is used as is, not copied.</summary>
    public static Variable Parameter(Tensor value, string? name = null) => new(value, true, name, null);

    /// <summary>A leaf that takes no gradient (data, targets, detached state).</summary>
    public static Variable Constant(Tensor value, string? name = null) => new(value, false, name, null);

    internal static Variable Result(Tensor value, bool requiresGrad, Tape creator) => new(value, requiresGrad, null, creator);

    /// <summary>
    /// Clears the gradient. With <paramref name="setToNone"/> (the default, like PyTorch) Grad becomes null, so an
    /// optimizer skips this parameter until a backward pass reaches it again; otherwise it is filled with zeros.
    /// Either way the buffer is kept and the next backward writes into it again: copy Grad (ToArray) to keep the
    /// values of one step past ZeroGrad.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        if (setToNone) _grad = null;
        else _grad?.Span.Clear();
    }

    /// <summary>A constant sharing this variable's value: gradients stop here (truncated BPTT state carry).</summary>
    public Variable Detach() => Constant(Value, Name);

    /// <summary>The gradient buffer, zeros when no backward reached it yet (allocated once, then reused); backward rules add into it.</summary>
    internal Span<float> GradForAccumulate()
    {
        var span = GradForWrite(out bool accumulate);
        if (!accumulate) span.Clear();
        return span;
    }

    /// <summary>The gradient tensor, zeros when no backward reached it yet (the buffer kept across steps); a backward adds into it.</summary>
    internal Tensor GradTensorForAccumulate()
    {
        GradForAccumulate();
        return _grad!;
    }

    /// <summary>
    /// The gradient buffer for a backward rule that writes every element: <paramref name="accumulate"/> is true when it
    /// already holds gradient (add into it); false when it is fresh (stale or zero contents: overwrite every element).
    /// </summary>
    internal Span<float> GradForWrite(out bool accumulate)
    {
        accumulate = _grad != null;
        if (_grad == null)
            _grad = _store ??= Tensor.Zeros((int[])Value.Shape.Clone());
        return _grad.Span;
    }

    /// <summary>
    /// Adds <paramref name="g"/> (same element count as Value) into the gradient, when this variable requires one.
    /// With <paramref name="takeOver"/> the caller hands over a fresh host tensor it will not touch again: when no
    /// gradient is held yet and the shapes match, it becomes the gradient buffer instead of being copied.
    /// </summary>
    internal void AccumulateGrad(Tensor g, bool takeOver = false)
    {
        if (!RequiresGrad) return;
        if (g.Length != Value.Length)
            throw new InvalidOperationException($"gradient of {g.Length} elements for a value of shape {Tensor.FormatShape(Value.Shape)}");
        if (takeOver && _grad == null && g.IsHost && g.SameShape(Value) && !ReferenceEquals(g, Value))
        {
            _grad = _store = g;
            return;
        }
        ReadOnlySpan<float> src = g.IsHost ? g.HostArray : g.ToArray();
        var dst = GradForWrite(out bool accumulate);
        if (accumulate) TensorPrimitives.Add(dst, src, dst);
        else src.CopyTo(dst);
    }

    internal void ClearGradSilently() => _grad = null;

    /// <inheritdoc/>
    public override string ToString() =>
        $"Variable{(Name != null ? " '" + Name + "'" : "")}{Tensor.FormatShape(Value.Shape)}{(RequiresGrad ? " requires_grad" : "")}";
}
