// The automatic choice between cuDNN's standard and persistent-static RNN algorithms for one batch shape (batch size,
// sequence-length range, phase): the first calls of the shape alternate between the two, one untimed call of each (the
// persistent kernels are planned and their weight space filled on first use), then TuningCalls timed calls of each;
// the algorithm with the lower best time is kept. Pure bookkeeping: the plan times the calls and reports them here.
// Measured on an H200 (cuDNN 9.19, FP32): persistent kernels ran LSTM T=150 N=1 H=256 8.7x faster and ReLU-RNN
// T=672 N=1 H=32 14x faster than standard, but LSTM T=50 N=1 H=1536 2.7x slower, so no size rule picks well: time it.
using RnnFast.Bindings.Cuda;

namespace RnnFast.Backends.Cuda;

/// <summary>The tuning state of one batch shape.</summary>
internal sealed class AlgorithmTuning
{
    private readonly int _timedCalls;
    private readonly double[] _best = [double.PositiveInfinity, double.PositiveInfinity];
    private int _calls;

    public AlgorithmTuning(int timedCalls) => _timedCalls = Math.Max(1, timedCalls);

    /// <summary>The algorithm kept once tuning ended (null while still timing).</summary>
    public CudnnRnnAlgo? Chosen { get; private set; }

    /// <summary>Best seconds seen for standard and persistent (infinity where not timed).</summary>
    public (double Standard, double Persistent) Best => (_best[0], _best[1]);

    /// <summary>The algorithm for the next call, and whether that call is to be timed and reported.</summary>
    public CudnnRnnAlgo Next(out bool timed)
    {
        if (Chosen is { } c)
        {
            timed = false;
            return c;
        }
        timed = _calls >= 2; // calls 0 and 1 warm each algorithm up
        return _calls % 2 == 0 ? CudnnRnnAlgo.Standard : CudnnRnnAlgo.PersistStatic;
    }

    /// <summary>Records a call made with <paramref name="algo"/> (as <see cref="Next"/> said) that took <paramref name="seconds"/> (ignored when untimed).</summary>
    public void Report(CudnnRnnAlgo algo, bool timed, double seconds)
    {
        if (Chosen != null) return;
        if (timed)
        {
            int i = algo == CudnnRnnAlgo.Standard ? 0 : 1;
            _best[i] = Math.Min(_best[i], seconds);
        }
        _calls++;
        if (_calls >= 2 + 2 * _timedCalls) Chosen = _best[1] < _best[0] ? CudnnRnnAlgo.PersistStatic : CudnnRnnAlgo.Standard;
    }

    /// <summary>cuDNN declined the persistent algorithm for this shape: standard from now on.</summary>
    public void Decline() => Chosen = CudnnRnnAlgo.Standard;

    /// <summary>The sequence-length range a shape is tuned for: T rounded up to a power of two.</summary>
    public static int LengthBucket(int t) => t <= 1 ? 1 : (int)Math.Min(1L << 30, 1L << (32 - int.LeadingZeroCount(t - 1)));
}
