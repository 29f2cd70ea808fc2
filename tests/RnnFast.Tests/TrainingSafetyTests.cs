// Issue 15 items 8, 9, 10 and 17: what a training run does with its output and its signals. An unusable --out is
// refused before the first step (every training command); SIGTERM and SIGHUP stop like SIGINT, writing the
// checkpoint before the validation, and a second signal exits at once (real child processes, `kill`); two runs
// writing one --out: the second is refused while the first finishes intact (child processes); --resume refuses flags
// that differ from the checkpoint's model and applies (and reports) a new schedule, --steps being the step to reach.
using System.Diagnostics;
using System.Globalization;
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.IO;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class TrainingSafetyTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);

    private string TextFile(int chars = 20_000, string name = "text.txt")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, ProgramCorpus.Generate(chars, 3));
        return path;
    }

    private string SeriesFile()
    {
        string path = Path.Combine(_dir, "series.csv");
        File.WriteAllText(path, "t,y\n" + string.Concat(Enumerable.Range(0, 300).Select(i =>
            $"{i},{Math.Sin(i * 0.2).ToString("R", CultureInfo.InvariantCulture)}\n")));
        return path;
    }

    private string TagFile()
    {
        string path = Path.Combine(_dir, "tags.tsv");
        File.WriteAllText(path, string.Concat(Enumerable.Range(0, 40).Select(i =>
        {
            string text = i % 2 == 0 ? $"ab{i % 10}" : $"c{i % 10}d";
            return string.Join(' ', text.Select(c => char.IsDigit(c) ? "D" : "L")) + "\t" + text + "\n";
        })));
        return path;
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int rc = CliApp.Run(args, o, e);
        return (rc, o.ToString(), e.ToString());
    }

    // ---- item 8: an unusable --out is refused before the first step, by every command that trains ----

    private string[] Command(string task, string outPath) => task switch
    {
        "lm" => ["train", "--data", TextFile(), "--out", outPath, "--steps", "400", "--hidden", "8", "--embed", "4", "--layers", "1",
                 "--seq-len", "8", "--batch", "2", "--eval-every", "0", "--backend", "cpu"],
        "forecast" => ["train", "--task", "forecast", "--data", SeriesFile(), "--target", "y", "--out", outPath, "--steps", "400",
                       "--hidden", "4", "--seq-len", "8", "--batch", "2", "--backend", "cpu"],
        "tag" => ["train", "--task", "tag", "--data", TagFile(), "--out", outPath, "--steps", "400", "--hidden", "4", "--embed", "4", "--backend", "cpu"],
        "classify" => ["classify", "--examples", "40", "--min-length", "4", "--max-length", "6", "--out", outPath, "--steps", "400",
                       "--hidden", "4", "--embed", "4", "--backend", "cpu"],
        _ => throw new ArgumentException(task),
    };

    [Theory]
    [InlineData("lm", "missing-folder")]
    [InlineData("lm", "directory")]
    [InlineData("lm", "empty")]
    [InlineData("lm", "unwritable")]
    [InlineData("forecast", "missing-folder")]
    [InlineData("forecast", "directory")]
    [InlineData("forecast", "empty")]
    [InlineData("tag", "missing-folder")]
    [InlineData("tag", "directory")]
    [InlineData("tag", "unwritable")]
    [InlineData("classify", "missing-folder")]
    [InlineData("classify", "directory")]
    [InlineData("classify", "empty")]
    public void An_unusable_out_is_refused_before_the_first_step(string task, string kind)
    {
        string missingFolder = Path.Combine(_dir, "no", "such");
        string outPath = kind switch
        {
            "missing-folder" => Path.Combine(missingFolder, "m.safetensors"),
            "directory" => _dir,
            "empty" => "",
            // sysfs accepts no new files, not even from root (a read-only file system refuses the same way).
            "unwritable" => "/sys/rnnfast-test.safetensors",
            _ => throw new ArgumentException(kind),
        };
        if (kind == "unwritable" && !(OperatingSystem.IsLinux() && Directory.Exists("/sys/kernel")))
        {
            output.WriteLine("skipped: no sysfs here to stand for a folder where no file can be created");
            return;
        }
        var (code, stdout, stderr) = Cli(Command(task, outPath));
        output.WriteLine(stderr.Trim());
        Assert.Equal(2, code);
        Assert.StartsWith("error: --out: ", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.DoesNotContain("step 1/", stdout); // refused before training, not at the first checkpoint
        Assert.False(Directory.Exists(missingFolder), "a missing folder was created");
        if (kind == "unwritable") Assert.False(File.Exists(outPath));
    }

    // ---- item 10: one writer per output ----

    [Fact]
    public void A_second_lock_on_one_output_is_refused_and_a_dead_writers_lock_is_taken_over()
    {
        string target = Path.Combine(_dir, "m.safetensors");
        using (var held = OutputLock.Acquire(target, "TrainOptions.Out"))
        {
            Assert.True(File.Exists(held.LockPath));
            var e = Assert.Throws<ArgumentException>(() => OutputLock.Acquire(target, "TrainOptions.Out"));
            Assert.StartsWith("TrainOptions.Out: ", e.Message);
            Assert.Contains("being written by another run", e.Message);
        }
        Assert.False(File.Exists(target + ".lock"));

        // What a SIGKILLed writer leaves: its lock file (nobody holds it any more) and a temporary file.
        File.WriteAllText(target + ".lock", "999999\n");
        string stale = target + ".tmp-0123456789abcdef";
        File.WriteAllBytes(stale, [1, 2, 3]);
        using (var taken = OutputLock.Acquire(target, "TrainOptions.Out"))
        {
            Assert.Equal(999999, taken.PreviousHolder);
            Assert.Equal(1, taken.StaleTemporariesRemoved);
            Assert.False(File.Exists(stale));
        }
    }

    [Fact]
    public void Two_runs_writing_one_out_the_second_is_refused_and_the_first_finishes_intact()
    {
        string data = TextFile(40_000), model = Path.Combine(_dir, "shared.safetensors");
        string[] args = ["train", "--data", data, "--out", model, "--steps", "1000000", "--max-seconds", "5", "--hidden", "32", "--embed", "8",
            "--layers", "1", "--seq-len", "16", "--batch", "4", "--checkpoint-every", "1", "--eval-every", "0", "--backend", "cpu"];
        using var first = new Process { StartInfo = CliProcess.StartInfo(args) };
        var firstOut = new System.Text.StringBuilder();
        using var started = new ManualResetEventSlim();
        first.OutputDataReceived += (_, e) => { lock (firstOut) firstOut.AppendLine(e.Data); if (e.Data?.StartsWith("step ", StringComparison.Ordinal) == true) started.Set(); };
        first.ErrorDataReceived += (_, e) => { lock (firstOut) firstOut.AppendLine(e.Data); };
        first.Start();
        first.BeginOutputReadLine();
        first.BeginErrorReadLine();
        try
        {
            Assert.True(started.Wait(TimeSpan.FromSeconds(20)), "the first run did not start training: " + firstOut);
            var clock = Stopwatch.StartNew();
            var (code, stdout, stderr) = CliProcess.Run(args, timeout: TimeSpan.FromSeconds(30));
            output.WriteLine($"second run: exit {code} after {clock.Elapsed.TotalSeconds:F1} s: {stderr.Trim()}");
            Assert.Equal(2, code);
            Assert.False(first.HasExited, "the first run ended before the second was checked");
            Assert.StartsWith("error: --out: " + model + " is being written by another run", stderr);
            Assert.DoesNotContain("step 1/", stdout);
            Assert.True(first.WaitForExit(TimeSpan.FromSeconds(30)), "the first run did not finish");
            first.WaitForExit();
            Assert.True(first.ExitCode == 0, $"the first run failed (exit {first.ExitCode}): {firstOut}");
            var c = Checkpoint.Read(model);
            Assert.True(c.Training!.Step > 0);
            Assert.Empty(Directory.GetFiles(_dir, "shared.safetensors.tmp-*"));
            Assert.False(File.Exists(model + ".lock"));
            output.WriteLine($"first run: exit 0 at step {c.Training.Step}");
        }
        finally
        {
            if (!first.HasExited) { first.Kill(entireProcessTree: true); first.WaitForExit(); }
        }
    }

    // ---- item 9: stop signals save first, then validate; a second one exits at once ----

    private sealed class Recorder(Action<StepReport> onStep) : ITrainObserver
    {
        public List<string> Events { get; } = [];
        public void OnStep(StepReport report) => onStep(report);
        public void OnEval(EvalReport report) => Events.Add($"eval {report.Step}");
        public void OnCheckpoint(string path, int step) => Events.Add($"checkpoint {step}");
    }

    [Fact]
    public void A_cancelled_run_writes_its_checkpoint_before_the_final_validation()
    {
        using var cts = new CancellationTokenSource();
        var recorder = new Recorder(r => { if (r.Step == 3) cts.Cancel(); });
        string path = Path.Combine(_dir, "lm.safetensors");
        var result = new CharLmTrainer().Train(ProgramCorpus.Generate(20_000, 3), "corpus", new TrainOptions
        {
            Layers = 1, Hidden = 8, Embed = 4, SeqLen = 8, Batch = 2, Steps = 50, EvalEvery = 0, CheckpointEvery = 0, SampleLength = 5,
            Backend = "cpu", Out = path,
        }, recorder, cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(["checkpoint 3", "eval 3", "checkpoint 3"], recorder.Events);

        // The sequence trainers (one loop for classifier, multi-label and tagger).
        using var cts2 = new CancellationTokenSource();
        var recorder2 = new Recorder(r => { if (r.Step == 2) cts2.Cancel(); });
        var data = MemoryTask.Generate(40, 4, 6, 2, 1).Select(e => (MemoryTask.ClassName(e.Label), e.Text)).ToArray();
        var (_, run) = new ClassifierTrainer().Train(data, 0.2, new TrainOptions
        {
            Layers = 1, Hidden = 4, Embed = 4, Batch = 4, Steps = 50, EvalEvery = 0, Backend = "cpu", Out = Path.Combine(_dir, "c.safetensors"),
        }, recorder2, cts2.Token);
        Assert.True(run.Cancelled);
        Assert.Equal(["checkpoint 2", "eval 2"], recorder2.Events);
    }

    private static void Kill(Process p, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, Inv(p.Id)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Starts `rnnfast train` and returns once it printed its first step.</summary>
    private static (Process P, System.Text.StringBuilder Out) StartTraining(string[] args)
    {
        var p = new Process { StartInfo = CliProcess.StartInfo(args) };
        var text = new System.Text.StringBuilder();
        var started = new ManualResetEventSlim();
        p.OutputDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); if (e.Data?.StartsWith("step ", StringComparison.Ordinal) == true) started.Set(); };
        p.ErrorDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!started.Wait(TimeSpan.FromSeconds(20)))
        {
            p.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException("the run did not start training: " + text);
        }
        return (p, text);
    }

    [Fact]
    public void Sigterm_saves_a_checkpoint_first_and_a_second_sigterm_exits_at_once()
    {
        if (OperatingSystem.IsWindows()) { output.WriteLine("skipped: no kill(1) on Windows"); return; }
        // A held-out part large enough that the final validation takes seconds: the second signal falls inside it.
        string data = TextFile(400_000), model = Path.Combine(_dir, "term.safetensors");
        var (p, text) = StartTraining(["train", "--data", data, "--out", model, "--steps", "1000000", "--val-fraction", "0.9", "--hidden", "256",
            "--embed", "16", "--layers", "1", "--seq-len", "32", "--batch", "4", "--checkpoint-every", "0", "--eval-every", "0", "--backend", "cpu"]);
        using (p)
        {
            try
            {
                Assert.False(File.Exists(model));
                Kill(p, "TERM");
                var clock = Stopwatch.StartNew();
                while (!File.Exists(model) && !p.HasExited && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(5);
                Assert.True(File.Exists(model), $"no checkpoint after SIGTERM (exited: {p.HasExited}): {text}");
                double saveSeconds = clock.Elapsed.TotalSeconds;
                Assert.False(p.HasExited, "the run ended before its validation: the second signal cannot be tested");
                var c = Checkpoint.Read(model);
                Assert.True(c.Training!.Step > 0);

                Kill(p, "TERM");
                var second = Stopwatch.StartNew();
                Assert.True(p.WaitForExit(TimeSpan.FromSeconds(5)), "a second SIGTERM did not end the run within 5 s");
                p.WaitForExit();
                output.WriteLine($"checkpoint (step {c.Training.Step}) {saveSeconds:F2} s after SIGTERM; exit {p.ExitCode} {second.Elapsed.TotalSeconds:F2} s after the second; {text}");
                Assert.Equal(143, p.ExitCode);
                Assert.DoesNotContain("val_loss=", text.ToString()); // the validation was cut short
                Assert.Equal(c.Training.Step, Checkpoint.Read(model).Training!.Step); // the complete checkpoint stays
                using var m = RnnModel.Load(model);
            }
            finally
            {
                if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(); }
            }
        }
    }

    [Theory]
    [InlineData("HUP", 129)]
    [InlineData("INT", 130)]
    public void Sighup_and_sigint_save_a_checkpoint_then_validate_and_exit(string signal, int exitCode)
    {
        if (OperatingSystem.IsWindows()) { output.WriteLine("skipped: no kill(1) on Windows"); return; }
        string data = TextFile(20_000), model = Path.Combine(_dir, signal + ".safetensors");
        var (p, text) = StartTraining(["train", "--data", data, "--out", model, "--steps", "1000000", "--hidden", "16", "--embed", "8",
            "--layers", "1", "--seq-len", "16", "--batch", "4", "--checkpoint-every", "0", "--eval-every", "0", "--backend", "cpu"]);
        using (p)
        {
            try
            {
                Kill(p, signal);
                Assert.True(p.WaitForExit(TimeSpan.FromSeconds(20)), "the run did not stop");
                p.WaitForExit();
                output.WriteLine(text.ToString());
                Assert.Equal(exitCode, p.ExitCode);
                Assert.Contains("interrupted at step", text.ToString());
                Assert.Matches(@"val_loss=\d+\.\d{4}", text.ToString());
                var c = Checkpoint.Read(model);
                Assert.True(c.Training!.Step > 0);
                Assert.Single(c.Training.ValLossHistory); // saved again after the validation, with it
            }
            finally
            {
                if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(); }
            }
        }
    }

    // ---- item 17: --resume and conflicting flags ----

    private string[] Small(string data, string model, params string[] more) =>
        ["train", "--data", data, "--out", model, "--hidden", "16", "--embed", "8", "--layers", "1", "--seq-len", "16", "--batch", "4",
         "--lr", "0.01", "--eval-every", "0", "--backend", "cpu", .. more];

    [Fact]
    public void Resume_refuses_flags_that_differ_from_the_checkpoint_and_applies_the_schedule()
    {
        string data = TextFile(), model = Path.Combine(_dir, "r.safetensors");
        var (code, _, err) = Cli(Small(data, model, "--steps", "4"));
        Assert.True(code == 0, err);

        string[] Resume(params string[] flags) =>
            ["train", "--data", data, "--out", model, "--resume", model, "--eval-every", "0", "--backend", "cpu", .. flags];

        (code, _, err) = Cli(Resume("--hidden", "512", "--steps", "8"));
        Assert.Equal(2, code);
        Assert.Equal("error: --hidden: 512 differs from the checkpoint's 16 (r.safetensors); a resumed run keeps the checkpoint's model and data recipe", err.Trim());
        (code, _, err) = Cli(Resume("--model", "gru", "--steps", "8"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: --model: gru differs from the checkpoint's lstm (r.safetensors)", err.Trim());
        (code, _, err) = Cli(Resume("--seq-len", "32", "--steps", "8"));
        Assert.StartsWith("error: --seq-len: 32 differs from the checkpoint's 16 (r.safetensors)", err.Trim());

        // --steps is the global step to reach: not past the checkpoint's is refused; without it, the planned total (4) is done.
        (code, _, err) = Cli(Resume("--steps", "3"));
        Assert.Equal(2, code);
        Assert.StartsWith("error: --steps: the run would end at step 3, but r.safetensors is already at step 4", err.Trim());
        (code, _, err) = Cli(Resume());
        Assert.Equal(2, code);
        Assert.StartsWith("error: --steps: the run would end at step 4, but r.safetensors is already at step 4", err.Trim());
        Assert.Equal(4, Checkpoint.Read(model).Training!.Step); // nothing was trained or written by the refused runs

        // The schedule may change: applied, said, and recorded. Flags equal to the checkpoint's are accepted silently.
        string stdout;
        (code, stdout, err) = Cli(Resume("--lr", "0.5", "--steps", "9", "--hidden", "16"));
        Assert.True(code == 0, err);
        output.WriteLine(stdout);
        Assert.Contains("resuming r.safetensors at step 4; applied: --lr 0.5 (the checkpoint's was 0.01), --steps 9 (the checkpoint planned 4)", stdout);
        Assert.Contains("trained 9 steps", stdout);
        var t = Checkpoint.Read(model).Training!;
        Assert.Equal(9, t.Step);
        Assert.Equal(0.5, t.LearningRate);
        Assert.Equal(9, t.TrainLossHistory.Count);
    }

    [Fact]
    public void Resume_without_steps_continues_to_the_planned_total()
    {
        // A run stopped at step 3 of a planned 7 (cancelled through the library) resumes to 7 without --steps.
        string data = TextFile(), model = Path.Combine(_dir, "p.safetensors");
        using var cts = new CancellationTokenSource();
        new CharLmTrainer().Train(File.ReadAllText(data), "text.txt", new TrainOptions
        {
            Layers = 1, Hidden = 16, Embed = 8, SeqLen = 16, Batch = 4, Steps = 7, LearningRate = 0.01, EvalEvery = 0, CheckpointEvery = 0,
            SampleLength = 0, Backend = "cpu", Out = model,
        }, new Recorder(r => { if (r.Step == 3) cts.Cancel(); }), cts.Token);
        Assert.Equal(3, Checkpoint.Read(model).Training!.Step);
        var (code, stdout, err) = Cli("train", "--data", data, "--out", model, "--resume", model, "--eval-every", "0", "--backend", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("trained 7 steps", stdout);
        Assert.Equal(7, Checkpoint.Read(model).Training!.Step);
        var o = TrainOptions.FromCheckpoint(model);
        Assert.Equal((16, 16, 4, 7), (o.Hidden, o.SeqLen, o.Batch, o.Steps ?? 0));
    }
}
