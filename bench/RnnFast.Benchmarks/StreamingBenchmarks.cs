// Streaming throughput on the cpu backend: 64 streams of a 2-layer LSTM (I = H = 256) advanced one step, three ways.
// Every benchmark is one op = 64 stream-steps:
//   MultiStream   one Step of the cpu stepper over a 64-stream state: x (64,I) -> y (64,H), one GEMM per layer
//   SingleStreams 64 N=1 Steps of the same stepper, one state per stream (GEMV path)
//   HostLoop      the old managed per-stream loop (StreamingCell.Step, RnnModel.Step's kernel) over 64 streams
// [MemoryDiagnoser] shows the steppers' 0 B per op.
using BenchmarkDotNet.Attributes;
using RnnFast.Backends;
using RnnFast.Models;

namespace RnnFast.Benchmarks;

/// <summary>64 streams of a 2x256 LSTM one step forward: one multi-stream step, 64 single-stream steps, and the old host loop.</summary>
[MemoryDiagnoser]
[Config(typeof(SuiteConfig))]
public class StreamingBenchmarks
{
    private const int Streams = 64, I = 256, H = 256, L = 2;
    private RnnParameters? _parameters;
    private IRnnPlan? _plan;
    private RnnStepper? _stepper;
    private RnnStepState? _multi;
    private RnnStepState[] _single = [];
    private float[] _x = [], _y = [];
    // the host loop's state: h and c (Streams, L, H), the gate scratch (G*H) and GRU's (H)
    private float[] _hostH = [], _hostC = [], _gates = [], _hhN = [];

    [GlobalSetup]
    public void Setup()
    {
        var desc = new RnnDesc(RnnMode.Lstm, I, H, numLayers: L);
        _parameters = RnnParameters.Create(desc, new Random(1));
        _plan = BackendRegistry.Get("cpu").CreateRnnPlan(_parameters);
        _stepper = _plan.CreateStepper(Streams);
        if (_stepper.ExecutedBy != "cpu") throw new InvalidOperationException($"the stepper runs on {_stepper.ExecutedBy}, not cpu");
        _multi = _stepper.CreateState(Streams);
        _single = new RnnStepState[Streams];
        for (int s = 0; s < Streams; s++) _single[s] = _stepper.CreateState(1);
        var rng = new Random(2);
        _x = new float[Streams * I];                  // (N, I)
        for (int i = 0; i < _x.Length; i++) _x[i] = (float)(rng.NextDouble() * 2 - 1);
        _y = new float[Streams * H];                  // (N, H)
        _hostH = new float[Streams * L * H];
        _hostC = new float[Streams * L * H];
        _gates = new float[4 * H];
        _hhN = new float[H];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _multi?.Dispose();
        foreach (var s in _single) s.Dispose();
        _stepper?.Dispose();
        _plan?.Dispose();
    }

    /// <summary>(a) 64 streams in one Step: x (64,I) -> y (64,H).</summary>
    [Benchmark]
    public float MultiStream()
    {
        _stepper!.Step(_multi!, _x, _y);
        return _y[0];
    }

    /// <summary>(b) 64 single-stream Steps on one stepper, one N=1 state per stream.</summary>
    [Benchmark(Baseline = true)]
    public float SingleStreams()
    {
        for (int s = 0; s < Streams; s++)
            _stepper!.Step(_single[s], _x.AsSpan(s * I, I), _y.AsSpan(s * H, H));
        return _y[0];
    }

    /// <summary>(c) the old managed host loop: StreamingCell.Step per stream and layer.</summary>
    [Benchmark]
    public float HostLoop()
    {
        for (int s = 0; s < Streams; s++)
        {
            ReadOnlySpan<float> x = _x.AsSpan(s * I, I);
            for (int l = 0; l < L; l++)
            {
                var h = _hostH.AsSpan((s * L + l) * H, H);
                StreamingCell.Step(RnnMode.Lstm, _parameters!, l, x, h, _hostC.AsSpan((s * L + l) * H, H), _gates, _hhN);
                x = h;
            }
            _hostH.AsSpan((s * L + L - 1) * H, H).CopyTo(_y.AsSpan(s * H, H));
        }
        return _y[0];
    }
}
