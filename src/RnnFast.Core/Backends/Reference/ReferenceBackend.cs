// The reference backend: plain scalar C#, no intrinsics, written to be read. It is the oracle every other
// backend is tested against, and it is itself checked against PyTorch's numbers (../shared/goldens).
namespace RnnFast.Backends.Reference;

/// <summary>The scalar, readable reference backend: the oracle every other backend is tested against.</summary>
public sealed class ReferenceBackend : Backend
{
    /// <summary>The one instance the registry lists; it also owns plain host tensors.</summary>
    public static ReferenceBackend Instance { get; } = new();

    public override string Name => "reference";
    public override BackendKind Kind => BackendKind.Cpu;
    public override string Description => "scalar C#, double accumulation; the oracle (slow)";
    public override int Score => 1;

    protected override BackendAvailability Probe() => BackendAvailability.Yes("always");

    public override IRnnPlan CreateRnnPlan(RnnParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new ReferenceRnnPlan(parameters);
    }
}
