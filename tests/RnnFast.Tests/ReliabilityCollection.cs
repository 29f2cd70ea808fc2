// The reliability tests (hostile files, concurrency stress, killed training runs, native memory loops) are heavy and
// timing-sensitive: they run in one collection, after the parallel tests and one at a time, so that they neither
// slow the rest of the suite on CI's two cores nor get their time bounds and RSS readings disturbed by it.
using Xunit;

namespace RnnFast.Tests;

/// <summary>xunit collection of the reliability tests: not run in parallel with anything else.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReliabilityCollection
{
    public const string Name = "reliability (serial)";
}
