// One benchmark problem: an RNN stack shape (cell, directions, layers, T, N, I, H) and the phase it is timed in.
// Problems are data (bench/shapes/*.txt, see ProblemFile); this record also knows its name and its FLOP count.
namespace RnnFast.Bench;

/// <summary>What a problem times: the inference forward, or a training step (forward with workspace, then backward).</summary>
public enum BenchPhase
{
    /// <summary>Times the inference forward only.</summary>
    Inference,
    /// <summary>Times a training step: forward keeping the workspace, then backward.</summary>
    Training,
}

/// <summary>
/// One problem of a shapes file: cell, directions D, layers L, sequence length T, batch N, input I, hidden H, phase.
/// <see cref="Source"/> and <see cref="Line"/> say where it was read (for messages).
/// </summary>
public sealed record BenchProblem(RnnMode Cell, bool Bidirectional, int Layers, int T, int N, int I, int H, BenchPhase Phase,
    string Source = "", int Line = 0)
{
    /// <summary>D: 2 when bidirectional, else 1.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>A peephole LSTM (shapes files: cell lstm_peephole); LSTM only.</summary>
    public bool Peephole { get; init; }

    /// <summary>The cell's name as the shapes files spell it: lstm, lstm_peephole, gru, rnn_tanh, rnn_relu.</summary>
    public string CellName => Peephole ? "lstm_peephole" : CellNameOf(Cell);

    /// <summary>"inference" or "training".</summary>
    public string PhaseName => PhaseNameOf(Phase);

    /// <summary>The problem's name without the phase, e.g. "lstm T=50 N=64 I=512 H=512 L=1 D=1".</summary>
    public string Name => $"{CellName} T={T} N={N} I={I} H={H} L={Layers} D={Directions}";

    /// <summary>The same shape without the batch size, for grouping problems that differ only in N.</summary>
    public string ShapeWithoutBatch => $"{CellName} T={T} I={I} H={H} L={Layers} D={Directions}";

    /// <summary>The RNN stack this problem runs (time-major, with biases, no projection; peepholes when asked).</summary>
    public RnnDesc ToDesc() => new(Cell, I, H, Layers, Bidirectional, peephole: Peephole);

    /// <summary>FLOPs of one timed call at sequence length <paramref name="t"/> (the whole problem when null).</summary>
    public double Flops(int? t = null) => FlopCount.Of(ToDesc(), t ?? T, N, Phase);

    /// <summary>This problem in another phase (same shape and origin).</summary>
    public BenchProblem WithPhase(BenchPhase phase) => this with { Phase = phase };

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {PhaseName}";

    /// <summary>The cell's name in shapes files and reports ("lstm", "gru", "rnn_tanh", "rnn_relu").</summary>
    public static string CellNameOf(RnnMode mode) => mode switch
    {
        RnnMode.Lstm => "lstm",
        RnnMode.Gru => "gru",
        RnnMode.RnnTanh => "rnn_tanh",
        _ => "rnn_relu",
    };

    /// <summary>The phase's name in shapes files and reports ("inference" or "training").</summary>
    public static string PhaseNameOf(BenchPhase phase) => phase == BenchPhase.Training ? "training" : "inference";
}

/// <summary>
/// FLOP counts of an RNN stack. Forward: 2*G*H*(I_l+H)*N*T per layer and direction, G = 1/3/4 for RNN/GRU/LSTM,
/// I_0 = I and I_l = D*H above (the two GEMMs of every step; gate math is not counted). Training (forward plus
/// backward) counts 3x the forward, as DeepBench does.
/// </summary>
public static class FlopCount
{
    /// <summary>Forward FLOPs of <paramref name="desc"/> over a (T,N) batch.</summary>
    public static double Forward(RnnDesc desc, int t, int n)
    {
        ArgumentNullException.ThrowIfNull(desc);
        double total = 0;
        int g = desc.GateCount, h = desc.HiddenSize;
        for (int l = 0; l < desc.NumLayers; l++)
            total += 2.0 * g * h * (desc.LayerInputSize(l) + (double)desc.OutputHiddenSize) * n * t * desc.Directions;
        return total;
    }

    /// <summary>FLOPs of one call in <paramref name="phase"/>: the forward, or 3x it for training.</summary>
    public static double Of(RnnDesc desc, int t, int n, BenchPhase phase) =>
        Forward(desc, t, n) * (phase == BenchPhase.Training ? 3 : 1);
}
