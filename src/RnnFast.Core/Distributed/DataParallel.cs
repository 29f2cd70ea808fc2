// Data-parallel training over an MPI job: every rank holds the whole model, computes the loss and gradients of its
// share of the global batch (Batch / Size windows: rank r takes windows [r*N/K, (r+1)*N/K) of the batch a single
// process would draw), and the gradients are summed with one in-place allreduce per step. Each rank's gradient is scaled
// by its share (1/K) first, so the sum is the gradient of the mean loss over the global batch, exactly what one process
// computes, up to float summation order. Clipping, the non-finite guard and the optimizer then see identical gradients
// on every rank, so the parameters stay identical; a hash of them is compared across ranks every CheckEvery steps.
using RnnFast.Autograd;

namespace RnnFast.Distributed;

/// <summary>
/// Data-parallel training over an <see cref="MpiComm"/>: set <see cref="Training.TrainOptions.DataParallel"/> on every
/// rank. Rank 0 alone writes checkpoints and reports progress.
/// </summary>
public sealed class DataParallel
{
    private readonly ICollectives _comm;
    private float[] _buffer = [];

    /// <summary>Trains over <paramref name="comm"/>; the parameters are compared across ranks every <paramref name="checkEvery"/> steps (0 = never).</summary>
    public DataParallel(MpiComm comm, int checkEvery = 100) : this((ICollectives)comm, checkEvery)
    {
    }

    /// <summary>Over any implementation of the collectives (tests: ranks as threads of one process).</summary>
    internal DataParallel(ICollectives comm, int checkEvery)
    {
        ArgumentNullException.ThrowIfNull(comm);
        if (checkEvery < 0) throw new ArgumentException($"checkEvery: must be >= 0, got {checkEvery}", nameof(checkEvery));
        _comm = comm;
        CheckEvery = checkEvery;
    }

    /// <summary>This process's rank (0 writes the outputs).</summary>
    public int Rank => _comm.Rank;

    /// <summary>The number of ranks (K).</summary>
    public int Size => _comm.Size;

    /// <summary>True on the rank that writes checkpoints, logs and samples.</summary>
    public bool IsRoot => _comm.Rank == 0;

    /// <summary>Steps between two comparisons of the parameters' hash across ranks (0 = never).</summary>
    public int CheckEvery { get; }

    /// <summary>Time this rank spent in the gradient allreduce (waiting for slower ranks included), over <see cref="Reductions"/> steps.</summary>
    public TimeSpan AllreduceTime { get; private set; }

    /// <summary>Gradient allreduces (steps) so far.</summary>
    public int Reductions { get; private set; }

    /// <summary>This rank's windows of a global batch of <paramref name="globalBatch"/>: (first, count); a batch not divisible by Size is refused naming <paramref name="batchName"/>.</summary>
    internal (int First, int Count) Share(int globalBatch, string batchName)
    {
        if (globalBatch % Size != 0)
            throw new ArgumentException($"{batchName}: the global batch {globalBatch} is not divisible by the {Size} ranks (each rank takes an equal share)");
        int n = globalBatch / Size;
        return (Rank * n, n);
    }

    /// <summary>
    /// Sums every rank's gradients of <paramref name="parameters"/>, each scaled by 1/Size (its share of a mean over the
    /// global batch), with the local loss in the same allreduce; returns the global mean loss. A parameter no backward
    /// reached takes part as zeros, so every rank sends the same layout.
    /// </summary>
    internal float ReduceGradients(IReadOnlyList<Variable> parameters, float localLoss)
    {
        long total = 1;
        foreach (var p in parameters) total += p.Value.Length;
        if (_buffer.Length != total) _buffer = new float[total];
        float share = 1f / Size;
        int at = 0;
        foreach (var p in parameters)
        {
            var g = p.GradForAccumulate();
            for (int i = 0; i < g.Length; i++) _buffer[at + i] = g[i] * share;
            at += g.Length;
        }
        _buffer[at] = localLoss * share;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        _comm.AllreduceSum(_buffer);
        AllreduceTime += System.Diagnostics.Stopwatch.GetElapsedTime(start);
        Reductions++;
        at = 0;
        foreach (var p in parameters)
        {
            var g = p.Grad!.Span;
            _buffer.AsSpan(at, g.Length).CopyTo(g);
            at += g.Length;
        }
        return _buffer[at];
    }

    /// <summary>The largest of every rank's stop code (0 = go on; e.g. a time limit, a signal): all ranks stop at the same step.</summary>
    internal int AgreeToStop(int local) => _comm.AllreduceMax(local);

    /// <summary>
    /// After <paramref name="step"/> steps, when it is a multiple of <see cref="CheckEvery"/>: compares a hash of the
    /// parameters' bits with rank 0's; any difference throws <see cref="MpiException"/> on every rank.
    /// </summary>
    internal void CheckInSync(IReadOnlyList<Variable> parameters, int step, bool force = false)
    {
        if (!force && (CheckEvery == 0 || step % CheckEvery != 0)) return;
        ulong mine = Hash(parameters);
        Span<byte> root = stackalloc byte[8];
        BitConverter.TryWriteBytes(root, mine);
        _comm.Broadcast(root);
        int differs = BitConverter.ToUInt64(root) != mine ? 1 : 0;
        Span<int> count = [differs];
        _comm.AllreduceSum(count);
        if (count[0] != 0)
            throw new MpiException($"after step {step}: the parameters of {count[0]} of {Size} rank(s) differ from rank 0's (hash {BitConverter.ToUInt64(root):x16}" +
                                   (differs != 0 ? $", this rank {Rank}: {mine:x16}" : "") + "); data-parallel training stopped");
    }

    /// <summary>FNV-1a (64-bit) over the bits of every parameter, in order.</summary>
    internal static ulong Hash(IReadOnlyList<Variable> parameters)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (var p in parameters)
        {
            var t = p.Value;
            var data = t.IsHost ? t.Span : t.ToArray();
            foreach (var v in data)
            {
                h ^= BitConverter.SingleToUInt32Bits(v);
                h *= 0x100000001b3UL;
            }
        }
        return h;
    }
}

/// <summary>The collectives data-parallel training uses (MPI's, or a test's in-process stand-in).</summary>
internal interface ICollectives
{
    int Rank { get; }
    int Size { get; }
    void AllreduceSum(Span<float> data);
    void AllreduceSum(Span<int> data);
    int AllreduceMax(int value);
    void Broadcast(Span<byte> data, int root = 0);
}
