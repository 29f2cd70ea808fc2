// A known backend whose assembly this application does not carry (or could not load): listed by the registry,
// never available, with the reason.
namespace RnnFast.Backends;

/// <summary>A placeholder for a backend the registry knows by name but cannot construct here.</summary>
internal sealed class MissingBackend(string name, string reason) : Backend
{
    public override string Name => name;
    public override BackendKind Kind => BackendKind.Cpu;
    public override string Description => $"{name} (not present: {reason})";
    public override int Score => 0;
    protected override BackendAvailability Probe() => BackendAvailability.No(reason);
    public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => throw new BackendUnavailableException(name, reason);
}
