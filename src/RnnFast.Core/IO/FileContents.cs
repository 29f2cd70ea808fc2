// A whole file read into native memory with bounded reads (no memory mapping): a file truncated or rewritten while it
// is read gives an IOException naming what changed, never a SIGBUS. The memory is owned by a SafeHandle, so it is
// freed even if the owner is never disposed.
using System.Runtime.InteropServices;

namespace RnnFast.IO;

/// <summary>Native memory freed by <see cref="NativeMemory.Free"/> when released.</summary>
internal sealed unsafe class NativeMemoryHandle : SafeHandle
{
    private readonly long _length;

    private NativeMemoryHandle(nint pointer, long length) : base(0, ownsHandle: true)
    {
        SetHandle(pointer);
        _length = length;
        if (length > 0) GC.AddMemoryPressure(length);
    }

    /// <summary>Allocates <paramref name="length"/> bytes (at least one); OutOfMemoryException if the allocation fails.</summary>
    public static NativeMemoryHandle Allocate(long length)
    {
        void* p = NativeMemory.Alloc((nuint)Math.Max(length, 1));
        return new NativeMemoryHandle((nint)p, length);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        NativeMemory.Free((void*)handle);
        if (_length > 0) GC.RemoveMemoryPressure(_length);
        return true;
    }
}

/// <summary>Reads a file's bytes into native memory, refusing a file that changes size while it is read.</summary>
internal static unsafe class FileContents
{
    private const int Chunk = 16 << 20;

    /// <summary>
    /// Reads the first <paramref name="length"/> bytes of <paramref name="file"/> into a new native buffer. A file that
    /// ends early, or whose length is no longer <paramref name="length"/> once read, is an <see cref="IOException"/>.
    /// </summary>
    public static NativeMemoryHandle Read(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length)
    {
        var buffer = NativeMemoryHandle.Allocate(length);
        try
        {
            byte* p = (byte*)buffer.DangerousGetHandle();
            long done = 0;
            while (done < length)
            {
                int n = (int)Math.Min(Chunk, length - done);
                int got = RandomAccess.Read(file, new Span<byte>(p + done, n), done);
                if (got <= 0)
                    throw new IOException($"the file shrank while it was being read: it ended after {done} of the {length} bytes it had when opened");
                done += got;
            }

            long now = RandomAccess.GetLength(file);
            if (now != length)
                throw new IOException($"the file changed while it was being read: {length} bytes when opened, {now} after reading");
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }
}
