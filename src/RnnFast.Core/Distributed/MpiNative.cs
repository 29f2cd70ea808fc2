// Thin bindings to Open MPI's C API (libmpi.so.40), loaded through NativeLibraryLoader (its ELF checks and trace) and
// promoted to RTLD_GLOBAL (builds whose plugins are not linked against libmpi need it; Debian's 4.1.4 runs either way,
// checked by hand). The entry points are function pointers taken from the
// loaded library; Open MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of its
// exported globals (ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_op_sum, ...), and MPI_IN_PLACE is (void*)1.
using System.Runtime.InteropServices;
using RnnFast.Native;

namespace RnnFast.Distributed;

internal static unsafe class MpiNative
{
    public const int Success = 0;          // MPI_SUCCESS
    public const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED in Open MPI's mpi.h
    public static readonly IntPtr InPlace = 1; // MPI_IN_PLACE

    /// <summary>Open MPI's library: RNNFAST_MPI_PATH names the file, else the soname of Open MPI 3.x-5.x (ABI 40).</summary>
    public static readonly NativeLibrarySpec Spec = new("Open MPI", "mpi", "RNNFAST_MPI_PATH",
        ["libmpi.so.40", "/usr/lib/x86_64-linux-gnu/libmpi.so.40", "/usr/lib/aarch64-linux-gnu/libmpi.so.40", "/usr/lib64/openmpi/lib/libmpi.so.40"],
        ["MPI_Init_thread", "MPI_Allreduce", "ompi_mpi_comm_world"])
    {
        InstallHint = "Debian/Ubuntu: apt install openmpi-bin libopenmpi-dev",
        Global = true,
    };

    public static delegate* unmanaged<int*, IntPtr, int, int*, int> InitThread;
    public static delegate* unmanaged<int*, int> Initialized;
    public static delegate* unmanaged<int*, int> Finalized;
    public static delegate* unmanaged<int> Finalize;
    public static delegate* unmanaged<IntPtr, int*, int> CommSize;
    public static delegate* unmanaged<IntPtr, int*, int> CommRank;
    public static delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int> Allreduce;
    public static delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int> Bcast;
    public static delegate* unmanaged<IntPtr, int> Barrier;
    public static delegate* unmanaged<IntPtr, int, int> Abort;
    public static delegate* unmanaged<int, IntPtr, int*, int> ErrorString;

    public static IntPtr CommWorld, Float, Int, Byte, OpSum, OpMax;

    private static readonly object Gate = new();
    private static bool _bound;

    /// <summary>Loads libmpi and binds every entry point and handle used here; a DllNotFoundException carries the trace.</summary>
    public static void Bind()
    {
        lock (Gate)
        {
            if (_bound) return;
            var lib = NativeLibraryLoader.Load(Spec).GetHandleOrThrow().DangerousGetHandle();
            IntPtr F(string name) => NativeLibrary.TryGetExport(lib, name, out var p) ? p
                : throw new EntryPointNotFoundException($"Open MPI: the loaded libmpi does not export {name}");
            InitThread = (delegate* unmanaged<int*, IntPtr, int, int*, int>)F("MPI_Init_thread");
            Initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized");
            Finalized = (delegate* unmanaged<int*, int>)F("MPI_Finalized");
            Finalize = (delegate* unmanaged<int>)F("MPI_Finalize");
            CommSize = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_size");
            CommRank = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_rank");
            Allreduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int>)F("MPI_Allreduce");
            Bcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int>)F("MPI_Bcast");
            Barrier = (delegate* unmanaged<IntPtr, int>)F("MPI_Barrier");
            Abort = (delegate* unmanaged<IntPtr, int, int>)F("MPI_Abort");
            ErrorString = (delegate* unmanaged<int, IntPtr, int*, int>)F("MPI_Error_string");
            CommWorld = F("ompi_mpi_comm_world");
            Float = F("ompi_mpi_float");
            Int = F("ompi_mpi_int");
            Byte = F("ompi_mpi_byte");
            OpSum = F("ompi_mpi_op_sum");
            OpMax = F("ompi_mpi_op_max");
            _bound = true;
        }
    }

    /// <summary>Throws an <see cref="MpiException"/> naming <paramref name="call"/> unless <paramref name="code"/> is MPI_SUCCESS.</summary>
    public static void Check(int code, string call)
    {
        if (code == Success) return;
        string text = "";
        if (ErrorString != null)
        {
            var buf = stackalloc byte[256]; // MPI_MAX_ERROR_STRING is 256 in Open MPI
            int len = 0;
            if (ErrorString(code, (IntPtr)buf, &len) == Success && len > 0) text = ": " + System.Text.Encoding.UTF8.GetString(buf, Math.Min(len, 256));
        }
        throw new MpiException($"{call} failed with MPI error {code}{text}");
    }
}

/// <summary>An MPI call failed (its name and MPI's error text are in the message), or ranks disagree.</summary>
public sealed class MpiException(string message) : Exception(message);
