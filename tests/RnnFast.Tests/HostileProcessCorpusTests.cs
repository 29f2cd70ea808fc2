// Runs the hostile-process corpus (HostileProcessCorpus): every case is the real `rnnfast` in a child process, two at a
// time, each within 10 s and under 500 MB of peak resident memory (MeasuredProcess), ending with exit 0 or 2 (never a
// signal, never 1), at most one `error:` line on stderr and no stack frame; exit 2 says what the case expects (the file,
// the flag, "truncated"). The test prints the counts, the slowest run and the largest peak, for the issue's closing note.
using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class HostileProcessCorpusTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);
    private const long PeakLimit = 500L * 1000 * 1000;

    /// <summary>The problems of one finished case (empty: it passed).</summary>
    internal static List<string> Problems(ProcessCase c, MeasuredOutcome r)
    {
        var problems = new List<string>();
        if (r.TimedOut) { problems.Add($"did not finish within {Limit.TotalSeconds:0} s (killed)"); return problems; }
        if (r.Signal != 0) problems.Add($"ended by signal {r.Signal}");
        else if (!c.Codes.Contains(r.Code)) problems.Add($"exit {r.Code}, expected {string.Join(" or ", c.Codes)}");
        if (r.Elapsed > Limit) problems.Add($"took {r.Elapsed.TotalSeconds:0.0} s");
        if (r.PeakBytes < 0) problems.Add("peak memory unknown");
        else if (r.PeakBytes >= PeakLimit) problems.Add($"peak {r.PeakBytes / 1e6:0} MB");
        var errorLines = r.Err.Split('\n').Count(l => l.StartsWith("error:", StringComparison.Ordinal));
        if (errorLines > 1) problems.Add($"{errorLines} error: lines");
        if (r.Code == 2 && errorLines != 1) problems.Add("exit 2 without an error: line");
        if (r.Err.Contains("   at ", StringComparison.Ordinal) || r.Err.Contains("Unhandled exception", StringComparison.Ordinal))
            problems.Add("a stack trace on stderr");
        if (c.MustSay != null && r.Code == 2 && !r.Err.Contains(c.MustSay, StringComparison.Ordinal))
            problems.Add($"stderr does not name '{c.MustSay}'");
        if (c.MustSay != null && r.Code == 0 && !r.Out.Contains(c.MustSay, StringComparison.Ordinal))
            problems.Add($"stdout does not name '{c.MustSay}'");
        if (problems.Count == 0 && c.After?.Invoke() is { } left) problems.Add(left);
        if (problems.Count > 0)
        {
            string err = r.Err.Trim();
            problems.Add("stderr: " + (err.Length > 600 ? err[..600] + "..." : err));
        }
        return problems;
    }

    [Fact]
    public void Every_command_under_every_hostile_condition_ends_cleanly_in_bounded_time_and_memory()
    {
        var wall = Stopwatch.StartNew();
        using var corpus = new HostileProcessCorpus();
        var setup = wall.Elapsed;
        var results = new ConcurrentDictionary<int, (MeasuredOutcome Outcome, List<string> Problems)>();
        var runnable = corpus.Cases.Select((c, i) => (c, i)).Where(x => x.c.Skip == null).ToList();
        Parallel.ForEach(runnable, new ParallelOptions { MaxDegreeOfParallelism = 2 }, x =>
        {
            var r = MeasuredProcess.Run(x.c.Args, x.c.Env, x.c.WorkDir, Limit, x.c.CloseStdoutAfter);
            results[x.i] = (r, Problems(x.c, r));
        });
        wall.Stop();

        var failed = new List<string>();
        for (int i = 0; i < corpus.Cases.Count; i++)
        {
            var c = corpus.Cases[i];
            if (c.Skip != null) { output.WriteLine($"SKIP {c.Name}: {c.Skip}"); continue; }
            var (r, problems) = results[i];
            string line = $"{(problems.Count == 0 ? "ok  " : "FAIL")} {c.Name}: exit {r.Code}, {r.Elapsed.TotalSeconds:0.00} s, peak {r.PeakBytes / 1e6:0} MB";
            output.WriteLine(line);
            if (problems.Count > 0)
            {
                string detail = $"{line}: {string.Join("; ", problems)}\n    rnnfast {string.Join(' ', c.Args)}";
                output.WriteLine("     " + string.Join("; ", problems));
                failed.Add(detail);
            }
        }
        foreach (var note in corpus.Notes) output.WriteLine("note: " + note);

        var ran = results.Values.Select(v => v.Outcome).ToList();
        var slowest = results.OrderByDescending(kv => kv.Value.Outcome.Elapsed).First();
        var largest = results.OrderByDescending(kv => kv.Value.Outcome.PeakBytes).First();
        var perCommand = string.Join(", ", HostileProcessCorpus.Commands.Select(cmd =>
            $"{cmd} {corpus.Cases.Count(c => c.Command == cmd && c.Skip == null)}"));
        string summary =
            $"hostile-process corpus: {corpus.Cases.Count} cases, {ran.Count} run, {ran.Count - failed.Count} passed, {failed.Count} failed, " +
            $"{corpus.Cases.Count - ran.Count} skipped; exit 0: {ran.Count(r => r.Code == 0)}, exit 2: {ran.Count(r => r.Code == 2)}; " +
            $"max time {slowest.Value.Outcome.Elapsed.TotalSeconds:0.00} s ({corpus.Cases[slowest.Key].Name}), " +
            $"max peak {largest.Value.Outcome.PeakBytes / 1e6:0} MB ({corpus.Cases[largest.Key].Name}); peak by {MeasuredProcess.Method}; " +
            $"wall {wall.Elapsed.TotalSeconds:0} s (fixtures {setup.TotalSeconds:0} s), 2 at a time, RNNFAST_MEMORY_LIMIT={HostileProcessCorpus.MemoryLimit}; " +
            $"per command: {perCommand}";
        output.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(failed.Count == 0, $"{failed.Count} of {ran.Count} cases failed:\n{string.Join("\n", failed)}");
    }
}
