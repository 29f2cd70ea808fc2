// Every public type of the library has an XML <summary> (read from the generated documentation file).
using System.Reflection;
using System.Xml.Linq;
using Xunit;

namespace RnnFast.Tests;

public sealed class XmlDocTests
{
    [Fact]
    public void Every_public_type_has_an_xml_summary()
    {
        var asm = typeof(Tensor).Assembly;
        var xmlPath = Path.ChangeExtension(asm.Location, ".xml");
        Assert.True(File.Exists(xmlPath), $"{xmlPath} missing: GenerateDocumentationFile must be on for src/");
        var documented = XDocument.Load(xmlPath).Descendants("member")
            .Where(m => m.Element("summary") is { } s && s.Value.Trim().Length > 0)
            .Select(m => (string)m.Attribute("name")!)
            .ToHashSet();
        var missing = asm.GetExportedTypes()
            .Select(t => "T:" + t.FullName!.Replace('+', '.'))
            .Where(name => !documented.Contains(name))
            .Order()
            .ToList();
        Assert.True(missing.Count == 0, "public types without an XML summary: " + string.Join(", ", missing));
    }
}
