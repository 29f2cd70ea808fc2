// The OpenCL bindings are a layer over Silk.NET.OpenCL (issue 16): the bindings assembly declares no native entry point
// of its own (no [LibraryImport]/[DllImport] method: both compile to a P/Invoke method) and references Silk.NET.OpenCL.
using System.Reflection;
using RnnFast.Bindings.OpenCL;
using Xunit;

namespace RnnFast.Tests;

public sealed class OpenCLBindingsTests
{
    [Fact]
    public void The_bindings_declare_no_native_entry_point_and_call_through_Silk_NET()
    {
        var assembly = typeof(CL).Assembly;
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var pinvokes = assembly.GetTypes()
            .SelectMany(t => t.GetMethods(all))
            .Where(m => m.Attributes.HasFlag(MethodAttributes.PinvokeImpl))
            .Select(m => $"{m.DeclaringType?.FullName}.{m.Name}")
            .ToList();
        Assert.True(pinvokes.Count == 0, "P/Invoke methods in RnnFast.Bindings.OpenCL: " + string.Join(", ", pinvokes));
        Assert.Contains(assembly.GetReferencedAssemblies(), n => n.Name == "Silk.NET.OpenCL");
    }
}
