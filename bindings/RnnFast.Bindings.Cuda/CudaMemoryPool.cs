// A caching device allocator (the idea of PyTorch's CUDA caching allocator, much simplified): cuMemAlloc_v2 and
// cuMemFree_v2 synchronize and cost tens of microseconds, which would dominate small RNN calls, so freed blocks are kept
// in size buckets and handed out again. All users queue their work on one stream, so a block reused by later work is
// ordered after the earlier work that used it. Device tensors a caller drops come back when the GC finalizes their
// handles, so after every 32 blocks taken from the driver the pool runs a young-generation collection and the pending
// finalizers once, and looks in the cache again (results that die young, as in a timing loop, are then reused rather
// than allocated anew); on CUDA_ERROR_OUT_OF_MEMORY the cache is emptied, a full collection runs, and the allocation is
// tried once more.
namespace RnnFast.Bindings.Cuda;

/// <summary>Caches device memory blocks by size for reuse; thread-safe. Blocks come back when their <see cref="CudaDeviceMemory"/> is released.</summary>
public sealed class CudaMemoryPool : IDisposable
{
    private const long SmallGranule = 512, LargeGranule = 2L << 20, LargeThreshold = 1L << 20;
    private const int CollectEvery = 32;
    private readonly object _gate = new();
    private readonly SortedDictionary<long, Stack<ulong>> _free = [];
    private long _cachedBytes, _inUseBytes;
    private int _driverAllocations;
    private bool _disposed;

    /// <param name="context">The context every block lives in (kept alive by the pool).</param>
    /// <param name="maxCachedBytes">Free blocks beyond this many bytes are returned to the driver.</param>
    public CudaMemoryPool(CudaContext context, long maxCachedBytes)
    {
        Context = context ?? throw new ArgumentNullException(nameof(context));
        MaxCachedBytes = Math.Max(0, maxCachedBytes);
    }

    /// <summary>The context the blocks belong to.</summary>
    public CudaContext Context { get; }

    /// <summary>The most free bytes kept for reuse.</summary>
    public long MaxCachedBytes { get; }

    /// <summary>Bytes held in free blocks.</summary>
    public long CachedBytes
    {
        get
        {
            lock (_gate) return _cachedBytes;
        }
    }

    /// <summary>Bytes in blocks currently rented out.</summary>
    public long InUseBytes
    {
        get
        {
            lock (_gate) return _inUseBytes;
        }
    }

    /// <summary>The block size a request of <paramref name="bytes"/> is rounded to (512 B granules, 2 MiB from 1 MiB up).</summary>
    public static long RoundUp(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long g = bytes >= LargeThreshold ? LargeGranule : SmallGranule;
        return (bytes + g - 1) / g * g;
    }

    /// <summary>A block of at least <paramref name="bytes"/> bytes (contents undefined); zero bytes give the null pointer.</summary>
    public CudaDeviceMemory Rent(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0) return CudaDeviceMemory.Allocate(Context, 0);
        long size = RoundUp(bytes);
        if (TryTakeCached(size) is { } cached) return cached;
        bool collect;
        lock (_gate) collect = ++_driverAllocations >= CollectEvery;
        if (collect)
        {
            // Dropped device tensors hold blocks until their finalizers run: let them, then look again.
            GC.Collect(1, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            lock (_gate) _driverAllocations = 0;
            if (TryTakeCached(size) is { } again) return again;
        }
        ulong fresh = AllocateFromDriver(size);
        lock (_gate) _inUseBytes += size;
        return CudaDeviceMemory.FromPool(this, fresh, size);
    }

    /// <summary>The best-fitting cached block: the smallest one at least <paramref name="size"/> and at most twice it.</summary>
    private CudaDeviceMemory? TryTakeCached(long size)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (var (blockSize, stack) in _free)
            {
                if (blockSize < size) continue;
                if (blockSize > 2 * size) break;
                if (stack.Count == 0) continue;
                ulong p = stack.Pop();
                _cachedBytes -= blockSize;
                _inUseBytes += blockSize;
                return CudaDeviceMemory.FromPool(this, p, blockSize);
            }
        }
        return null;
    }

    /// <summary>Frees every cached block (blocks rented out are unaffected).</summary>
    public void Trim()
    {
        List<ulong> toFree;
        lock (_gate)
        {
            toFree = _free.Values.SelectMany(s => s).ToList();
            _free.Clear();
            _cachedBytes = 0;
        }
        FreeAll(toFree);
    }

    /// <summary>Called when a rented block's handle is released (any thread, finalizers included).</summary>
    internal void Return(ulong pointer, long size)
    {
        bool keep;
        lock (_gate)
        {
            _inUseBytes -= size;
            keep = !_disposed && _cachedBytes + size <= MaxCachedBytes;
            if (keep)
            {
                if (!_free.TryGetValue(size, out var stack)) _free[size] = stack = new Stack<ulong>();
                stack.Push(pointer);
                _cachedBytes += size;
            }
        }
        if (!keep) FreeAll([pointer]);
    }

    /// <summary>Frees every cached and outstanding device block; the pool must not be used afterwards.</summary>
    public void Dispose()
    {
        lock (_gate) _disposed = true;
        Trim();
    }

    private unsafe ulong AllocateFromDriver(long size)
    {
        Context.MakeCurrent();
        ulong p;
        int r = DriverApiNative.cuMemAlloc_v2(&p, (nuint)size);
        if (r == (int)CuResult.ErrorOutOfMemory)
        {
            // Give back what is cached and what dead tensors hold, then try once more.
            Trim();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Trim();
            Context.MakeCurrent();
            r = DriverApiNative.cuMemAlloc_v2(&p, (nuint)size);
        }
        CudaException.Check(r, "cuMemAlloc_v2", $"{size} bytes; pool: {InUseBytes} bytes in use, {CachedBytes} cached");
        return p;
    }

    private void FreeAll(List<ulong> pointers)
    {
        if (pointers.Count == 0 || Context.IsClosed) return;
        DriverApiNative.cuCtxSetCurrent(Context.Raw);
        foreach (var p in pointers) DriverApiNative.cuMemFree_v2(p); // release path: a failure here cannot be reported
    }
}
