// A node value of the autograd tape: a host tensor, its (lazily allocated, accumulated) gradient, and whether
// gradients flow to it. Leaves are parameters (Variable.Parameter) or constants (Variable.Constant); every other
// Variable is the result of a Tape op.
namespace RnnFast.Autograd;

/// <summary>A value on the autograd tape: a host tensor, its accumulated gradient, and whether gradients flow to it.</summary>
public sealed class Variable
{
    private Tensor? _grad;

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
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        if (setToNone) _grad = null;
        else _grad?.Span.Clear();
    }

    /// <summary>A constant sharing this variable's value: gradients stop here (truncated BPTT state carry).</summary>
    public Variable Detach() => Constant(Value, Name);

    /// <summary>The gradient buffer, allocated (zeros) on first use; backward rules add into it.</summary>
    internal Span<float> GradForAccumulate()
    {
        _grad ??= Tensor.Zeros((int[])Value.Shape.Clone());
        return _grad.Span;
    }

    /// <summary>Adds <paramref name="g"/> (same element count as Value) into the gradient, when this variable requires one.</summary>
    internal void AccumulateGrad(Tensor g)
    {
        if (!RequiresGrad) return;
        if (g.Length != Value.Length)
            throw new InvalidOperationException($"gradient of {g.Length} elements for a value of shape {Tensor.FormatShape(Value.Shape)}");
        var src = g.IsHost ? g.HostArray : g.ToArray();
        Kernels.Add(GradForAccumulate(), src);
    }

    internal void ClearGradSilently() => _grad = null;

    public override string ToString() =>
        $"Variable{(Name != null ? " '" + Name + "'" : "")}{Tensor.FormatShape(Value.Shape)}{(RequiresGrad ? " requires_grad" : "")}";
}
