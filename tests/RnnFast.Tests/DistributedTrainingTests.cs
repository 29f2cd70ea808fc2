// `mpirun -np 2 rnnfast train` (Open MPI from openmpi-bin; 2 ranks on this machine with --oversubscribe): the 2-rank
// loss curve follows the 1-process one (same seed, same global batch) within float summation differences; one rank
// under mpirun is the single-process path bit for bit; a batch not divisible by the ranks is refused; and a rank killed
// mid-run ends the whole job within 10 s with the previous checkpoint intact. Skipped, with the reason, where mpirun
// is not installed (native/install-deps.sh installs it).
using System.Diagnostics;
using RnnFast.Data;
using RnnFast.Models;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

/// <summary>A fact that is skipped, with the reason, where Open MPI's mpirun is not on the PATH.</summary>
public sealed class FactNeedsMpirunAttribute : FactAttribute
{
    public FactNeedsMpirunAttribute()
    {
        if (DistributedTrainingTests.FindMpirun() == null) Skip = "mpirun not found on PATH: Open MPI is not installed (apt install openmpi-bin libopenmpi-dev)";
    }
}

/// <summary>A theory that is skipped, with the reason, where Open MPI's mpirun is not on the PATH.</summary>
public sealed class TheoryNeedsMpirunAttribute : TheoryAttribute
{
    public TheoryNeedsMpirunAttribute()
    {
        if (DistributedTrainingTests.FindMpirun() == null) Skip = "mpirun not found on PATH: Open MPI is not installed (apt install openmpi-bin libopenmpi-dev)";
    }
}

[Collection(ReliabilityCollection.Name)]
public sealed class DistributedTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static string? FindMpirun() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    private string Data()
    {
        string data = Path.Combine(_dir, "text.txt");
        if (!File.Exists(data)) File.WriteAllText(data, ProgramCorpus.Generate(40_000, 4));
        return data;
    }

    private string[] TrainArgs(string model, int steps, int batch = 8, int every = 5) =>
    [
        "train", "--data", Data(), "--out", model, "--model", "lstm", "--layers", "1", "--hidden", "32", "--embed", "16",
        "--seq-len", "16", "--batch", batch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--checkpoint-every", every.ToString(System.Globalization.CultureInfo.InvariantCulture), "--eval-every", "0",
        "--seed", "7", "--backend", "cpu", "--threads", "1", "--sync-check-every", "2",
    ];

    /// <summary>mpirun -np <paramref name="ranks"/> dotnet rnnfast.dll ARGS (root allowed: CI containers run as root).</summary>
    internal static ProcessStartInfo Mpirun(int ranks, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(FindMpirun()!)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var a in new[] { "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "--oversubscribe", CliProcess.DotnetHost, CliProcess.CliDll })
            psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        psi.Environment["OMPI_MCA_btl"] = "self,vader"; // one machine: shared memory only (no network probing in containers)
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["RNNFAST_BACKEND"] = null;
        return psi;
    }

    internal static (int Code, string Out, string Err) Run(ProcessStartInfo psi, TimeSpan timeout)
    {
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start mpirun");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"mpirun did not finish in {timeout.TotalSeconds} s");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [FactNeedsMpirun]
    public void Two_ranks_follow_the_single_process_loss_curve()
    {
        string one = Path.Combine(_dir, "one.safetensors"), two = Path.Combine(_dir, "two.safetensors");
        const int steps = 12;
        var single = CliProcess.Run(TrainArgs(one, steps), timeout: TimeSpan.FromSeconds(120));
        Assert.True(single.Code == 0, single.Err);
        var dual = Run(Mpirun(2, TrainArgs(two, steps)), TimeSpan.FromSeconds(180));
        Assert.True(dual.Code == 0, dual.Out + dual.Err);
        // Rank 0 alone reports: one final val_loss line for the job.
        Assert.Single(dual.Out.Split('\n'), l => l.StartsWith("val_loss=", StringComparison.Ordinal));

        var a = Checkpoint.Read(one).Training!.TrainLossHistory;
        var b = Checkpoint.Read(two).Training!.TrainLossHistory;
        Assert.Equal(steps, a.Count);
        Assert.Equal(steps, b.Count);
        double worst = 0;
        for (int i = 0; i < steps; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]) / Math.Abs(a[i]));
        output.WriteLine($"largest relative loss difference over {steps} steps, 2 ranks vs 1 process: {worst:E2}");
        Assert.True(worst < 1e-4, $"2-rank loss curve departs from the single-process one by {worst:E2} (relative)");
        Assert.True(a[steps - 1] < a[0], "the loss did not fall: the comparison would prove nothing");
    }

    [FactNeedsMpirun]
    public void One_rank_under_mpirun_is_the_single_process_path()
    {
        string one = Path.Combine(_dir, "one.safetensors"), mpi = Path.Combine(_dir, "mpi1.safetensors");
        var single = CliProcess.Run(TrainArgs(one, 4), timeout: TimeSpan.FromSeconds(120));
        Assert.True(single.Code == 0, single.Err);
        var job = Run(Mpirun(1, TrainArgs(mpi, 4)), TimeSpan.FromSeconds(120));
        Assert.True(job.Code == 0, job.Out + job.Err);
        Assert.Equal(Checkpoint.Read(one).Training!.TrainLossHistory, Checkpoint.Read(mpi).Training!.TrainLossHistory);
    }

    [FactNeedsMpirun]
    public void A_batch_not_divisible_by_the_ranks_is_refused()
    {
        var job = Run(Mpirun(2, TrainArgs(Path.Combine(_dir, "m.safetensors"), 4, batch: 7)), TimeSpan.FromSeconds(120));
        Assert.NotEqual(0, job.Code);
        Assert.Contains("--batch: the global batch 7 is not divisible by the 2 ranks", job.Err); // "error: " or "error: rank 1 of 2: ": whichever rank aborts first
        Assert.False(File.Exists(Path.Combine(_dir, "m.safetensors")));
    }

    [FactNeedsMpirun]
    public void A_missing_mpi_library_is_a_one_line_error_with_the_loaders_trace()
    {
        var psi = Mpirun(2, TrainArgs(Path.Combine(_dir, "m.safetensors"), 4));
        psi.Environment["RNNFAST_MPI_PATH"] = Path.Combine(_dir, "no-such-libmpi.so.40");
        var job = Run(psi, TimeSpan.FromSeconds(120));
        Assert.NotEqual(0, job.Code);
        Assert.Contains("error: Open MPI library not found (RNNFAST_MPI_PATH=", job.Err);
        Assert.Contains("no-such-libmpi.so.40: no such file", job.Err);
        Assert.Contains("to install: Debian/Ubuntu: apt install openmpi-bin libopenmpi-dev", job.Err);
    }

    [TheoryNeedsMpirun]
    [InlineData(1)] // a rank that only computes
    [InlineData(0)] // the rank that writes the checkpoint (every 2 steps: often killed while writing)
    public void Killing_one_rank_stops_the_job_within_10_seconds_and_keeps_the_last_checkpoint(int victimRank)
    {
        string model = Path.Combine(_dir, "m.safetensors");
        using var job = Process.Start(Mpirun(2, TrainArgs(model, 100_000, every: 2)))!;
        var stdout = job.StandardOutput.ReadToEndAsync();
        var stderr = job.StandardError.ReadToEndAsync();
        var wait = Stopwatch.StartNew();
        while (!File.Exists(model) && wait.Elapsed < TimeSpan.FromSeconds(120) && !job.HasExited) Thread.Sleep(50);
        Assert.True(File.Exists(model), "no checkpoint appeared: " + (job.HasExited ? stderr.Result : "still running"));
        Thread.Sleep(300);
        var ranks = Ranks(job.Id);
        Assert.Equal(2, ranks.Count);
        var victim = ranks.Single(r => r.Rank == victimRank).Pid;
        var survivor = ranks.Single(r => r.Rank != victimRank).Pid;
        var killed = Stopwatch.StartNew();
        Process.GetProcessById(victim).Kill();
        bool ended = job.WaitForExit(TimeSpan.FromSeconds(10));
        output.WriteLine($"mpirun ended {killed.Elapsed.TotalSeconds:F2} s after rank {victimRank} was killed; exit code {(ended ? job.ExitCode : -1)}");
        if (!ended) job.Kill(entireProcessTree: true);
        Assert.True(ended, "the job did not end within 10 s of a rank being killed");
        job.WaitForExit();
        Assert.NotEqual(0, job.ExitCode);
        var gone = Stopwatch.StartNew();
        while (Running(survivor) && gone.Elapsed < TimeSpan.FromSeconds(2)) Thread.Sleep(20);
        Assert.False(Running(survivor), "the other rank still runs after the job ended");
        // The checkpoint rank 0 wrote last is whole: it loads, with its training state.
        var saved = Checkpoint.Read(model);
        Assert.True(saved.Training!.Step >= 2);
        output.WriteLine($"checkpoint intact at step {saved.Training.Step}; mpirun said: {CliErrorsTail(stderr.Result)}");
    }

    /// <summary>True while <paramref name="pid"/> runs: a zombie (ended, not yet reaped, as orphans are in containers whose init does not reap) has ended.</summary>
    private static bool Running(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            char state = stat[stat.LastIndexOf(')') + 2];
            return state is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static string CliErrorsTail(string err) => string.Join(" | ", err.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(3));

    /// <summary>The rank processes mpirun started (its children), with their OMPI_COMM_WORLD_RANK.</summary>
    private static List<(int Pid, int Rank)> Ranks(int mpirunPid)
    {
        var found = new List<(int, int)>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) != mpirunPid) continue;
                var env = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                var rank = env.FirstOrDefault(e => e.StartsWith("OMPI_COMM_WORLD_RANK=", StringComparison.Ordinal));
                if (rank != null) found.Add((pid, int.Parse(rank["OMPI_COMM_WORLD_RANK=".Length..], System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a process that ended meanwhile
        }
        return found;
    }
}
