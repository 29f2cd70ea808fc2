// Allocation proofs with BenchmarkDotNet's [MemoryDiagnoser] (issue: no GC allocation in the steady-state step loop).
// StepLoopAllocations runs one LSTM stack forward at T = 1 and at T = 64 on the chosen backend: when the time loop
// allocates nothing, both rows show the same bytes apart from the larger returned output Y (T,N,H) (64x the T=1
// output array). StreamingStep is the embedding API's step (RnnModel.Step with its own RnnState): 0 B per token.
using BenchmarkDotNet.Attributes;
using RnnFast.Backends;
using RnnFast.Models;

namespace RnnFast.Benchmarks;

/// <summary>One LSTM stack's inference forward at two sequence lengths: the allocation must not grow with T except for the returned output.</summary>
[MemoryDiagnoser]
[Config(typeof(SuiteConfig))]
public class StepLoopAllocations
{
    private IRnnPlan? _plan;
    private RnnInputs? _inputs;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "cpu";

    public IEnumerable<string> BackendNames() => SuiteData.BackendNames();

    [Params(1, 64)]
    public int T { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var desc = new RnnDesc(RnnMode.Lstm, 128, 256, numLayers: 2);
        var backend = BackendRegistry.Get(Backend);
        _plan = backend.CreateRnnPlan(RnnParameters.Create(desc, new Random(1)));
        var x = Tensor.Zeros(T, 8, 128);
        var s = x.Span;
        var rng = new Random(2);
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
        _inputs = new RnnInputs(x.To(backend));
    }

    [GlobalCleanup]
    public void Cleanup() => _plan?.Dispose();

    [Benchmark]
    public RnnForwardResult Forward() => _plan!.Forward(_inputs!, training: false);
}

/// <summary>The streaming API: one token through a 2x256 LSTM character model per call, with the caller's state.</summary>
[MemoryDiagnoser]
[Config(typeof(SuiteConfig))]
public class StreamingStep
{
    private RnnModel? _model;
    private RnnState? _state;
    private int _token;

    [GlobalSetup]
    public void Setup()
    {
        var vocab = CharVocab.FromText("abcdefghijklmnopqrstuvwxyz .,\n");
        var config = new NetworkConfig { Kind = NetworkKind.LanguageModel, Mode = RnnMode.Lstm, Layers = 2, Hidden = 256, Embed = 64, Vocab = vocab };
        _model = RnnModel.FromNetwork(new CharNetwork(config, BackendRegistry.Get("cpu"), new Random(1)));
        _state = _model.NewState();
    }

    [GlobalCleanup]
    public void Cleanup() => _model?.Dispose();

    [Benchmark]
    public float Step()
    {
        _token = (_token + 7) % _model!.Vocab.Count;
        return _model.Step(_state!, _token)[0];
    }
}
