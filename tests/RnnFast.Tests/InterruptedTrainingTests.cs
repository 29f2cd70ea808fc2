// Killing `rnnfast train` at random moments: the real program (rnnfast.dll under dotnet) trains a small char-LSTM with
// a checkpoint (about 1 MB with the Adam state, flushed to disk) every 2 steps and is SIGKILLed again and again, resuming each time from what it left. After every kill
// the checkpoint on disk is either absent (killed before the first one) or complete: it loads, its step never goes
// back, and --resume continues from it. A temporary file a kill leaves behind does not break the next run and is
// cleaned by the next write. At the end an unkilled run finishes, and its loss history equals, bit for bit, that of
// one uninterrupted run in process: nothing was lost or changed by the kills.
using System.Diagnostics;
using RnnFast.Data;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class InterruptedTrainingTests(ITestOutputHelper output) : IDisposable
{
    private const int Kills = 9, CheckpointEvery = 2;
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] TrainArgs(string data, string model, int steps, bool resume) =>
    [
        "train", "--data", data, "--out", model, "--model", "lstm", "--layers", "1", "--hidden", "96", "--embed", "16",
        "--seq-len", "24", "--batch", "8", "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--checkpoint-every", CheckpointEvery.ToString(System.Globalization.CultureInfo.InvariantCulture), "--eval-every", "0",
        "--seed", "5", "--backend", "cpu", .. (resume ? new[] { "--resume", model } : []),
    ];

    private string[] Temporaries(string model) => Directory.GetFiles(_dir, Path.GetFileName(model) + ".tmp-*");

    [Fact]
    public void A_write_removes_temporaries_of_killed_writers_but_not_of_live_ones()
    {
        string target = Path.Combine(_dir, "m.safetensors");
        string stale = target + ".tmp-0123456789abcdef", live = target + ".tmp-fedcba9876543210", foreign = target + ".tmp-notours";
        foreach (var f in new[] { stale, live, foreign }) File.WriteAllBytes(f, [1, 2, 3]);
        using (new FileStream(live, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) // as a writer holds its file
        {
            RnnFast.IO.SafeTensorsWriter.Write(target, [RnnFast.IO.SafeTensorEntry.F32("x", [1], new[] { 1f })]);
            Assert.False(File.Exists(stale));
            Assert.True(File.Exists(live));
            Assert.True(File.Exists(foreign));
        }
        Assert.Equal(1, RnnFast.IO.SafeTensorsWriter.DeleteStaleTemporaries(target));
        Assert.False(File.Exists(live));
    }

    [Fact]
    public void Sigkill_at_random_moments_never_leaves_a_broken_checkpoint_and_resume_continues_exactly()
    {
        string text = ProgramCorpus.Generate(40_000, 4);
        string data = Path.Combine(_dir, "text.txt"), model = Path.Combine(_dir, "model.safetensors");
        File.WriteAllText(data, text);
        var rng = new Random(2024);
        var clock = Stopwatch.StartNew();
        int lastStep = 0, killsWithoutCheckpoint = 0, killsLeavingTemp = 0, resumedRuns = 0, killsAimedAtWrites = 0;
        var steps = new List<int>();

        for (int kill = 1; kill <= Kills; kill++)
        {
            bool resume = File.Exists(model);
            resumedRuns += resume ? 1 : 0;
            var psi = CliProcess.StartInfo(TrainArgs(data, model, steps: 1_000_000, resume));
            using var p = new Process { StartInfo = psi };
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, _) => { };
            p.Start();
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            // Every third kill aims at a checkpoint being written: after a random delay, it waits for a temporary file
            // to appear and kills at once; the others fall at a random moment.
            bool aimAtWrite = kill % 3 == 0;
            Thread.Sleep(TimeSpan.FromMilliseconds(aimAtWrite ? rng.Next(300, 1200) : rng.Next(200, 2200)));
            if (aimAtWrite)
            {
                var until = Stopwatch.StartNew();
                while (Temporaries(model).Length == 0 && until.Elapsed < TimeSpan.FromSeconds(3) && !p.HasExited) Thread.SpinWait(200);
                killsAimedAtWrites++;
            }
            Assert.False(p.HasExited, $"run {kill} ended by itself (exit {(p.HasExited ? p.ExitCode : 0)}) before it was killed");
            p.Kill(); // SIGKILL: no handler runs, no finally block, no flush
            p.WaitForExit();

            int temps = Temporaries(model).Length;
            killsLeavingTemp += temps > 0 ? 1 : 0;
            if (!File.Exists(model))
            {
                Assert.Equal(0, lastStep); // once a checkpoint exists it is never removed
                killsWithoutCheckpoint++;
                steps.Add(0);
                continue;
            }
            var c = Checkpoint.Read(model); // complete and finite, or this throws
            int step = c.Training!.Step;
            Assert.True(step >= lastStep, $"kill {kill}: checkpoint went back from step {lastStep} to {step}");
            Assert.Equal(0, step % CheckpointEvery);
            Assert.Equal(step, c.Training.TrainLossHistory.Count);
            using (var m = RnnModel.Load(model)) Assert.True(m.Step(m.NewState(), 0).ToArray().All(float.IsFinite));
            lastStep = step;
            steps.Add(step);
        }

        // A last run that is not killed finishes a few steps past the last checkpoint (resuming from it).
        int final = lastStep + 2 * CheckpointEvery + 1;
        var (code, stdout, stderr) = CliProcess.Run(TrainArgs(data, model, final, resume: File.Exists(model)));
        Assert.True(code == 0, $"the final run failed with exit {code}: {stderr}");
        Assert.Matches(@"val_loss=\d+\.\d{4}\s*$", stdout);
        var done = Checkpoint.Read(model);
        Assert.Equal(final, done.Training!.Step);
        Assert.Empty(Temporaries(model));

        // The same recipe without interruptions, in process: the loss curve must be identical.
        var uninterrupted = new CharLmTrainer().Train(text, "text.txt", new TrainOptions
        {
            Mode = RnnMode.Lstm, Layers = 1, Hidden = 96, Embed = 16, SeqLen = 24, Batch = 8, Steps = final, EvalEvery = 0,
            CheckpointEvery = 0, SampleLength = 0, Seed = 5, Backend = "cpu",
        });
        Assert.Equal(uninterrupted.TrainLoss, done.Training.TrainLossHistory);

        output.WriteLine($"{Kills} SIGKILLs of `rnnfast train` at random moments ({killsWithoutCheckpoint} before any checkpoint existed, " +
                         $"{killsAimedAtWrites} aimed at a checkpoint write, {killsLeavingTemp} left a temporary file behind, {resumedRuns} killed runs were resumes); checkpoint step after each kill: " +
                         $"{string.Join(", ", steps)}; final run resumed to step {final}, loss history identical to an uninterrupted run; " +
                         $"{clock.Elapsed.TotalSeconds:F1} s");
    }
}
