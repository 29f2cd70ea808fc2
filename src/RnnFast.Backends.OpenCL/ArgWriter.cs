// A cursor that sets an OpenCL kernel's arguments in order (index 0, 1, 2, ...), so launch code reads like the
// kernel's parameter list.
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>Sets a kernel's arguments in order (a mutable cursor; use it as a local variable).</summary>
internal struct ArgWriter(CL cl, CLKernel kernel)
{
    private uint _next;

    public void Int(int value) => cl.SetKernelArg(kernel, _next++, value);
    public void Float(float value) => cl.SetKernelArg(kernel, _next++, value);
    public void Buf(CLBuffer buffer) => cl.SetKernelArg(kernel, _next++, buffer);
}
