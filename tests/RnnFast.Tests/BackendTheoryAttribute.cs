// [BackendTheory]: a theory whose first argument is a backend name. Rows for a backend that cannot run here are
// reported as skipped with the backend's own reason (never silently passed).
using RnnFast.Backends;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace RnnFast.Tests;

[XunitTestCaseDiscoverer("RnnFast.Tests.BackendTheoryDiscoverer", "RnnFast.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class BackendTheoryAttribute : TheoryAttribute;

public sealed class BackendTheoryDiscoverer : TheoryDiscoverer
{
    public BackendTheoryDiscoverer(IMessageSink diagnosticMessageSink) : base(diagnosticMessageSink) { }

    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(ITestFrameworkDiscoveryOptions discoveryOptions,
        ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow)
    {
        if (dataRow.Length > 0 && dataRow[0] is string name)
        {
            var backend = BackendRegistry.All.FirstOrDefault(b => b.Name == name);
            if (backend != null && !backend.IsAvailable)
                return CreateTestCasesForSkippedDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow,
                    $"backend '{name}' unavailable: {backend.Availability.Reason}");
            // a reference case the backend cannot run by design (cuda: a peephole LSTM) is skipped with its reason
            if (backend != null && dataRow.Length > 1 && dataRow[1] is string golden && RefusedGolden(backend, golden) is { } why)
                return CreateTestCasesForSkippedDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow,
                    $"backend '{name}' refuses {golden}: {why}");
        }
        return base.CreateTestCasesForDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow);
    }

    private static string? RefusedGolden(Backend backend, string golden)
    {
        if (!golden.EndsWith(".safetensors", StringComparison.Ordinal) && !golden.Contains('/')) golden += ".safetensors";
        var path = TestPaths.Golden(golden);
        if (!File.Exists(path)) return null;
        using (var f = RnnFast.IO.SafeTensorsFile.Open(path))
            if (!f.Metadata.TryGetValue("kind", out var kind) || kind != "rnn_layer") return null;
        return backend.RefusalFor(RnnFast.Checks.ReferenceCaseRunner.LoadRnnLayer(path).Desc);
    }
}

/// <summary>Test data: every registered backend name, crossed with other values.</summary>
public static class BackendData
{
    public static IEnumerable<string> Names => BackendRegistry.All.Select(b => b.Name);

    public static IEnumerable<object[]> Backends() => Names.Select(n => new object[] { n });

    public static IEnumerable<object[]> BackendsTimesGoldens() =>
        from b in Names from g in TestPaths.AllGoldenNames() select new object[] { b, g };

    public static IEnumerable<object[]> BackendsTimesLayerGoldens() =>
        from b in Names from g in TestPaths.AllGoldenNames() where !Path.GetFileName(g).StartsWith("train_") select new object[] { b, g };
}
