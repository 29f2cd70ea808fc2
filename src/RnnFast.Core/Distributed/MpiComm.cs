// MPI_COMM_WORLD of a process started by Open MPI's launcher (mpirun/mpiexec), as a SafeHandle: MPI_Init_thread when
// it is made, MPI_Finalize when it is released. Only the collectives that data-parallel training needs: in-place
// sum/max allreduce, broadcast, and MPI_Abort (which ends every rank of the job).
using System.Runtime.InteropServices;

namespace RnnFast.Distributed;

/// <summary>
/// The world communicator of an MPI job (Open MPI). Made once per process by <see cref="Initialize"/>; disposing it
/// finalizes MPI. Every MPI return code is checked: a failure throws <see cref="MpiException"/> naming the call.
/// </summary>
public sealed unsafe class MpiComm : SafeHandle, ICollectives
{
    private static int _made;

    private MpiComm(IntPtr world, int rank, int size) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(world);
        Rank = rank;
        Size = size;
    }

    /// <summary>This process's rank in the job, 0..Size-1.</summary>
    public int Rank { get; }

    /// <summary>The number of processes in the job.</summary>
    public int Size { get; }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>
    /// The Open MPI launcher's description of this process: (rank, size) from OMPI_COMM_WORLD_RANK and
    /// OMPI_COMM_WORLD_SIZE, or null when the process was not started by mpirun. Malformed values throw.
    /// </summary>
    public static (int Rank, int Size)? FromLauncher()
    {
        string? size = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE");
        string? rank = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK");
        if (string.IsNullOrEmpty(size)) return null;
        if (!int.TryParse(size, out int s) || s < 1 || !int.TryParse(rank, out int r) || r < 0 || r >= s)
            throw new MpiException($"OMPI_COMM_WORLD_SIZE='{size}' / OMPI_COMM_WORLD_RANK='{rank}': not a rank within a job size");
        return (r, s);
    }

    /// <summary>
    /// Loads Open MPI, calls MPI_Init_thread (MPI_THREAD_SERIALIZED) and returns the world communicator. Once per
    /// process (MPI cannot be initialized again after MPI_Finalize). A missing library throws DllNotFoundException with
    /// the loader's trace.
    /// </summary>
    public static MpiComm Initialize()
    {
        if (Interlocked.Exchange(ref _made, 1) != 0) throw new InvalidOperationException("MpiComm.Initialize: MPI is initialized once per process");
        MpiNative.Bind();
        int provided = 0;
        MpiNative.Check(MpiNative.InitThread(null, IntPtr.Zero, MpiNative.ThreadSerialized, &provided), "MPI_Init_thread");
        var world = MpiNative.CommWorld;
        int rank = 0, size = 0;
        MpiNative.Check(MpiNative.CommRank(world, &rank), "MPI_Comm_rank");
        MpiNative.Check(MpiNative.CommSize(world, &size), "MPI_Comm_size");
        var comm = new MpiComm(world, rank, size);
        if (provided < MpiNative.ThreadSerialized)
        {
            comm.Dispose();
            throw new MpiException($"MPI_Init_thread: the library provides thread level {provided}, below MPI_THREAD_SERIALIZED ({MpiNative.ThreadSerialized})");
        }
        return comm;
    }

    /// <summary>Sums <paramref name="data"/> element-wise over every rank, in place (every rank gets the sum).</summary>
    public void AllreduceSum(Span<float> data) => Allreduce(data, MpiNative.Float, MpiNative.OpSum);

    /// <summary>Sums <paramref name="data"/> element-wise over every rank, in place.</summary>
    public void AllreduceSum(Span<int> data) => Allreduce(data, MpiNative.Int, MpiNative.OpSum);

    /// <summary>The largest of every rank's <paramref name="value"/>.</summary>
    public int AllreduceMax(int value)
    {
        Span<int> one = [value];
        Allreduce(one, MpiNative.Int, MpiNative.OpMax);
        return one[0];
    }

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="data"/> to every rank's.</summary>
    public void Broadcast(Span<byte> data, int root = 0)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        fixed (byte* p = data) MpiNative.Check(MpiNative.Bcast((IntPtr)p, data.Length, MpiNative.Byte, root, handle), "MPI_Bcast");
    }

    /// <summary>Waits until every rank reaches this call.</summary>
    public void Barrier()
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        MpiNative.Check(MpiNative.Barrier(handle), "MPI_Barrier");
    }

    /// <summary>Ends every process of the job with <paramref name="exitCode"/> (MPI_Abort); does not return.</summary>
    public void Abort(int exitCode)
    {
        MpiNative.Abort(MpiNative.CommWorld, exitCode);
        Environment.Exit(exitCode); // MPI_Abort does not return; should it, this process still must not go on
    }

    private void Allreduce<T>(Span<T> data, IntPtr type, IntPtr op) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        // MPI counts are int: a larger buffer goes in chunks (each element is reduced on its own, so chunks are exact).
        const int chunk = 1 << 30;
        fixed (T* p = data)
        {
            for (int at = 0; at < data.Length; at += chunk)
            {
                int n = Math.Min(chunk, data.Length - at);
                MpiNative.Check(MpiNative.Allreduce(MpiNative.InPlace, (IntPtr)(p + at), n, type, op, handle), "MPI_Allreduce");
            }
        }
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        int finalized = 0;
        if (MpiNative.Finalized(&finalized) != MpiNative.Success || finalized != 0) return true;
        return MpiNative.Finalize() == MpiNative.Success;
    }
}
