// The base of every native handle in the bindings (oneDNN, OpenCL, CUDA/cuDNN): a SafeHandle that owns one native object
// and, when that object lives inside another (memory on its engine, a kernel on its program, a stream in its context),
// holds a reference on the parent's handle. Release order is then always child first, finalizers included. A binding
// names only how its objects are destroyed.
using System.Runtime.InteropServices;

namespace RnnFast.Native;

/// <summary>A SafeHandle for one native object that keeps the handle it depends on alive until it is released itself.</summary>
public abstract class DependentHandle : SafeHandle
{
    private DependentHandle? _parent;
    private bool _parentRefAdded;

    /// <summary>Starts invalid; the derived handle takes its native object with <see cref="Attach"/> once the create call succeeded.</summary>
    protected DependentHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The handle this one depends on (null for a root object).</summary>
    protected DependentHandle? Parent => _parent;

    /// <summary>Takes ownership of <paramref name="value"/>; <paramref name="parent"/> stays alive until this handle is released.</summary>
    protected void Attach(nint value, DependentHandle? parent)
    {
        if (parent != null)
        {
            bool added = false;
            parent.DangerousAddRef(ref added);
            _parent = parent;
            _parentRefAdded = added;
        }
        SetHandle(value);
    }

    /// <summary>Destroys the native object; returns the library's status (0 = success).</summary>
    protected abstract int Destroy(nint value);

    /// <inheritdoc/>
    protected sealed override bool ReleaseHandle()
    {
        int status = Destroy(handle);
        if (_parentRefAdded) _parent!.DangerousRelease();
        return status == 0;
    }
}
