// A persistent fork/join pool for the managed CPU backend: ProcessorCount-1 long-lived worker threads and the
// calling thread run one job (a static function pointer + a context pointer) as `count` indexed parts, then join.
// Each participant owns a contiguous home range of parts (so a thread keeps touching the same weight panels step
// after step) and, when its range is done, steals unclaimed parts from the others: if a worker is descheduled
// (more busy threads than cores), the caller simply does the work instead of waiting for it.
// Workers spin briefly between jobs (the per-time-step fork/join of an RNN is microseconds apart) and then sleep.
// The pool serves one job at a time: a caller that finds it busy (another thread's job, or a nested call from
// inside a job) runs all parts itself, in order. A part's result never depends on which thread ran it.
// The process has one current pool (Shared); Resize replaces it with one of another size (CpuBackend.Threads) and
// retires the old one's workers once they are idle (a job still running on it finishes: its caller takes any parts
// no worker claimed).
using System.Diagnostics;

namespace RnnFast.Backends.Cpu;

internal sealed unsafe class WorkerPool
{
    private static readonly long SpinTicksBeforeSleep = Stopwatch.Frequency / 1000; // a worker spins ~1 ms before sleeping
    private static readonly long JoinSpinTicks = Stopwatch.Frequency / 20_000;        // the caller spins ~50 us, then yields
    private const int Stride = 16;        // claim words 128 bytes apart (no false sharing)
    private const int FieldBits = 20;     // part index / range end: up to 2^20 parts
    private const long FieldMask = (1L << FieldBits) - 1;

    private static WorkerPool s_shared = new(Math.Max(1, Environment.ProcessorCount));
    private static readonly Lock s_resize = new();

    /// <summary>The pool the CPU kernels run on (one per process; see <see cref="Resize"/>).</summary>
    public static WorkerPool Shared => Volatile.Read(ref s_shared);

    /// <summary>Makes the shared pool one of <paramref name="participants"/> threads (the caller included).</summary>
    public static void Resize(int participants)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        lock (s_resize)
        {
            var old = Shared;
            if (old.Size == participants) return;
            Volatile.Write(ref s_shared, new WorkerPool(participants));
            old.Retire();
        }
    }

    private int _retired;

    /// <summary>Worker threads of this pool still running (0 once a retired pool's workers have exited).</summary>
    public int LiveWorkers => Volatile.Read(ref _live);

    private int _live;

    private void Retire()
    {
        Volatile.Write(ref _retired, 1);
        foreach (var w in _workers) w.Wake.Set();
    }

    private readonly Worker[] _workers;
    private readonly long[] _claims;      // [p * Stride]: (generation << 40) | (end << 20) | next; generation 24 bits, read unsigned
    private int _busy;
    private int _generation;
    private int _done;
    private delegate*<void*, int, int, void> _fn;
    private void* _ctx;
    private int _count;
    private Exception? _failure;

    private sealed class Worker
    {
        public readonly ManualResetEventSlim Wake = new(false, 0);
        public int Sleeping;
    }

    private WorkerPool(int participants)
    {
        Size = participants;
        _claims = new long[participants * Stride];
        _workers = new Worker[participants - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Worker();
            int index = i + 1;
            var thread = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"RnnFast.Cpu worker {index}" };
            thread.Start();
        }
    }

    /// <summary>Participants in a job: the workers plus the calling thread.</summary>
    public int Size { get; }

    /// <summary>Runs fn(ctx, i, count) once for every part i in 0..count-1 on the pool's threads; returns when all finished.</summary>
    public void Run(delegate*<void*, int, int, void> fn, void* ctx, int count)
    {
        if (count < 1) return;
        if (count > FieldMask) throw new ArgumentOutOfRangeException(nameof(count), $"at most {FieldMask} parts");
        if (count == 1 || Size == 1 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) fn(ctx, i, count);
            return;
        }
        try
        {
            _fn = fn;
            _ctx = ctx;
            _count = count;
            _failure = null;
            Volatile.Write(ref _done, 0);
            int gen = (_generation + 1) & 0xFFFFFF;
            for (int p = 0; p < Size; p++)
            {
                Split(count, p, Size, out int begin, out int end);
                Volatile.Write(ref _claims[p * Stride], ((long)gen << 40) | ((long)end << FieldBits) | (long)begin);
            }
            Interlocked.Exchange(ref _generation, gen); // full fence: job and claims are visible before the generation
            for (int w = 0; w < _workers.Length; w++)
                if (Volatile.Read(ref _workers[w].Sleeping) != 0) _workers[w].Wake.Set();

            Participate(0, gen);

            long joinStart = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _done) != count)
            {
                if (Stopwatch.GetTimestamp() - joinStart < JoinSpinTicks) Thread.SpinWait(4);
                else Thread.Yield();
            }
            if (_failure != null) throw new AggregateException("a CPU backend kernel failed", _failure);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Runs parts of job <paramref name="gen"/>: first this participant's home range, then any left elsewhere.</summary>
    private void Participate(int me, int gen)
    {
        for (int k = 0; k < Size; k++)
        {
            int owner = (me + k) % Size;
            while (TryClaim(owner, gen, out int part))
            {
                try
                {
                    _fn(_ctx, part, _count);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, e, null);
                }
                Interlocked.Increment(ref _done);
            }
        }
    }

    private bool TryClaim(int owner, int gen, out int part)
    {
        ref long word = ref _claims[owner * Stride];
        while (true)
        {
            long c = Volatile.Read(ref word);
            int next = (int)(c & FieldMask), end = (int)((c >> FieldBits) & FieldMask);
            if ((int)(c >>> 40) != gen || next >= end) // unsigned: a generation of 2^23 or more sets the word's sign bit
            {
                part = -1;
                return false;
            }
            if (Interlocked.CompareExchange(ref word, c + 1, c) == c)
            {
                part = next;
                return true;
            }
        }
    }

    private void WorkerLoop(int index)
    {
        var me = _workers[index - 1];
        int seen = Volatile.Read(ref _generation);
        Interlocked.Increment(ref _live);
        try
        {
            WaitAndWork(me, index, seen);
        }
        finally
        {
            Interlocked.Decrement(ref _live);
        }
    }

    private void WaitAndWork(Worker me, int index, int seen)
    {
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen)
            {
                if (Volatile.Read(ref _retired) != 0) return;
                if (Stopwatch.GetTimestamp() - start < SpinTicksBeforeSleep)
                {
                    Thread.SpinWait(8);
                    continue;
                }
                Interlocked.Exchange(ref me.Sleeping, 1); // full fence before re-reading the generation
                if (Volatile.Read(ref _generation) == seen && Volatile.Read(ref _retired) == 0) me.Wake.Wait();
                me.Wake.Reset();
                Volatile.Write(ref me.Sleeping, 0);
                start = Stopwatch.GetTimestamp();
            }
            seen = Volatile.Read(ref _generation);
            Participate(index, seen);
        }
    }

    /// <summary>
    /// How many parts to cut a step's work of <paramref name="units"/> chunks or panels into: a few per thread, so that
    /// a thread that is held up has its parts taken over by the others.
    /// </summary>
    public int Parts(int units) => Math.Max(1, Math.Min(units, 4 * Size));

    /// <summary>
    /// Parts for a step whose units are compute-bound (a GEMM over more than a few batch rows): one per unit, up to 16 per
    /// thread, so that the step's last part, which the other thread waits for, is one unit and not a few. Measured with
    /// a temporary counter of the caller's join wait (2 rounds, `rnnfast bench` 1 s, cpu): LSTM 50x64x512 inference
    /// 4.5-7.3% -> 2.4-2.8% of the pool's time, 35x32x650 inference 5.0-7.7% -> 2.3-2.5%, with 290/307 -> 304/316 and
    /// 279/277 -> 289/286 GFLOP/s in the same runs. At batch 1-4 (bandwidth-bound GEMV steps) alternating runs lost
    /// (LSTM 50x1x512 107 -> 101, 25x4x1024 250 -> 242, medians of 6), so those keep <see cref="Parts"/>.
    /// </summary>
    public int FineParts(int units) => Math.Max(1, Math.Min(units, 16 * Size));

    /// <summary>The part [begin, end) of <paramref name="total"/> items that part <paramref name="index"/> of <paramref name="count"/> owns.</summary>
    public static void Split(int total, int index, int count, out int begin, out int end)
    {
        begin = (int)((long)total * index / count);
        end = (int)((long)total * (index + 1) / count);
    }
}
