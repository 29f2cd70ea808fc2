// Every public type of every library assembly has an XML <summary> (read from the generated documentation files), and
// those files exist. Members are held to the same rule by the compiler: CS1591 is an error in src/ and bindings/
// (ApiGateTests proves a missing member comment fails the build).
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Xunit;

namespace RnnFast.Tests;

public sealed class XmlDocTests
{
    // By name, so that a type moving between these assemblies does not break the list.
    public static TheoryData<string> Assemblies => new()
    {
        "RnnFast.Core", "RnnFast.Backends.OneDnn", "RnnFast.Backends.OpenCL", "RnnFast.Backends.Cuda",
        "RnnFast.Bindings.OneDnn", "RnnFast.Bindings.OpenCL", "RnnFast.Bindings.Cuda", "RnnFast.Tools",
    };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Every_public_type_has_an_xml_summary(string assemblyName)
    {
        var asm = Assembly.Load(assemblyName);
        var xmlPath = Path.ChangeExtension(asm.Location, ".xml");
        Assert.True(File.Exists(xmlPath), $"{xmlPath} missing: GenerateDocumentationFile must be on for src/ and bindings/");
        var documented = XDocument.Load(xmlPath).Descendants("member")
            .Where(m => m.Element("summary") is { } s && s.Value.Trim().Length > 0)
            .Select(m => (string)m.Attribute("name")!)
            .ToHashSet();
        // compiler-made types (a fixed buffer's) have no source to document
        var types = asm.GetExportedTypes().Where(t => !t.IsDefined(typeof(CompilerGeneratedAttribute), false)).ToArray();
        Assert.NotEmpty(types);
        var missing = types
            .Select(t => "T:" + t.FullName!.Replace('+', '.'))
            .Where(name => !documented.Contains(name))
            .Order()
            .ToList();
        Assert.True(missing.Count == 0, "public types without an XML summary: " + string.Join(", ", missing));
    }
}
