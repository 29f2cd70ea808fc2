// BenchmarkDotNet entry for RnnFast's kernel-level suites (see Suites.cs). Run through ./build.sh --target=Bench, or
//   dotnet run -c Release --project bench/RnnFast.Benchmarks -- --job short --filter '*'
// RNNFAST_BENCH_SHAPES picks the problem list (a NAME of bench/shapes/NAME.txt or a file; default small) and
// RNNFAST_BENCH_BACKENDS the backends (comma-separated; default every available backend but the slow reference).
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(RnnFast.Benchmarks.RnnSuite).Assembly).Run(args);
