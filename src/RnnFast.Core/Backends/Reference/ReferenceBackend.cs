// The reference backend: plain scalar C#, no intrinsics, written to be read. It is the oracle every other
// backend is tested against, and it is itself checked against PyTorch's numbers (../shared/goldens).
namespace RnnFast.Backends.Reference;

/// <summary>The scalar, readable reference backend: the oracle every other backend is tested against.</summary>
public sealed class ReferenceBackend : Backend
{
    /// <summary>The one instance the registry lists; it also owns plain host tensors.</summary>
    public static ReferenceBackend Instance { get; } = new();

    /// <inheritdoc/>
    public override string Name => "reference";
    /// <inheritdoc/>
    public override BackendKind Kind => BackendKind.Cpu;
    /// <inheritdoc/>
    public override string Description => "scalar C#, double accumulation; the oracle (slow)";
    /// <inheritdoc/>
    public override int Score => 1;

    /// <inheritdoc/>
    protected override BackendAvailability Probe() => BackendAvailability.Yes("always");

    /// <inheritdoc/>
    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new ReferenceRnnPlan(parameters);
    }
}
