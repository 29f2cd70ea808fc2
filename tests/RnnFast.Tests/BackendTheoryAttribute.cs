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
        }
        return base.CreateTestCasesForDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow);
    }
}

/// <summary>Test data: every registered backend name, crossed with other values.</summary>
public static class BackendData
{
    public static IEnumerable<string> Names => BackendRegistry.All.Select(b => b.Name);

    public static IEnumerable<object[]> Backends() => Names.Select(n => new object[] { n });

    public static IEnumerable<object[]> BackendsTimesGoldens() =>
        from b in Names from g in TestPaths.GoldenNames() select new object[] { b, g };

    public static IEnumerable<object[]> BackendsTimesLayerGoldens() =>
        from b in Names from g in TestPaths.GoldenNames() where !g.StartsWith("train_") select new object[] { b, g };
}
