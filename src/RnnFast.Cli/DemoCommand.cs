// `rnnfast demo`: the main job on an embedded default, no download. Generates a corpus of small Python-like programs
// with their printed results ("learning to execute"), trains a small LSTM on it for about a minute with the progress
// bar, prints samples at a few temperatures and the loss curve (terminal and SVG), and says which backend ran it.
using System.CommandLine;
using System.Globalization;
using RnnFast.Backends;
using RnnFast.Charts;
using RnnFast.Data;
using RnnFast.Models;
using RnnFast.Training;

namespace RnnFast.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var seconds = new Option<double>("--seconds") { Description = "training time budget", DefaultValueFactory = _ => 60 };
        var outDir = new Option<string>("--out-dir") { Description = "where the model and the loss-curve SVG go", DefaultValueFactory = _ => "demo-output" };
        var backend = BackendOption.Create();
        var seed = new Option<int>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1 };
        var task = new Option<string>("--task")
        {
            Description = "lm (a character LSTM on generated programs) or ctc (a bidirectional LSTM labelling unsegmented noisy symbol frames with CTC)",
            DefaultValueFactory = _ => "lm",
        };
        var cmd = new Command("demo", "Train a small LSTM on a generated corpus of programs for about a minute and sample from it (--task ctc: a CTC sequence labeller)")
        {
            seconds, outDir, backend, seed, task,
        };
        cmd.SetAction(r =>
        {
            try
            {
                string taskName = r.GetValue(task)!.Trim().ToLowerInvariant();
                if (taskName == "ctc") return CtcDemo.Run(r.GetValue(seconds), r.GetValue(outDir)!, r.GetValue(backend), r.GetValue(seed), Console.Out);
                if (taskName != "lm") throw new ArgumentException($"--task: must be lm or ctc, got '{r.GetValue(task)}'");
                return Run(r.GetValue(seconds), r.GetValue(outDir)!, r.GetValue(backend), r.GetValue(seed), Console.Out);
            }
            catch (Exception e) when (CliErrors.IsUserError(e) || e is TrainingDivergedException)
            {
                return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Demo);
            }
        });
        return cmd;
    }

    /// <summary>Runs the demo; <paramref name="backendName"/> null means RNNFAST_BACKEND, else auto. The trainer validates the options.</summary>
    public static int Run(double seconds, string outDir, string? backendName, int seed, TextWriter o)
    {
        // Before the corpus and the output folder: a time budget that is not a positive finite number is refused (--seconds).
        if (!(seconds > 0) || double.IsInfinity(seconds))
            throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.MaxSeconds))}: must be a positive number of seconds, got {seconds.ToString(CultureInfo.InvariantCulture)}");
        // The output folder is made here if missing, but not its parents; a file in its place is refused (before any work).
        if (string.IsNullOrWhiteSpace(outDir)) throw new ArgumentException($"--out-dir: a folder name is required, got '{outDir}'");
        if (File.Exists(outDir)) throw new ArgumentException($"--out-dir: {outDir} is a file, not a folder");
        string? parent = Path.GetDirectoryName(Path.GetFullPath(outDir));
        if (parent != null && !Directory.Exists(parent))
            throw new ArgumentException($"--out-dir: {outDir}: the folder {parent} does not exist (only the last folder is created; make it first)");
        var backend = BackendRegistry.Get(backendName);
        o.WriteLine($"RnnFast demo: backend '{backend.Name}' ({backend.Description}); CPU SIMD: {InfoCommand.IsaSummary()}");
        string corpus = ProgramCorpus.Generate(200_000, seed);
        o.WriteLine($"corpus: {corpus.Length:N0} characters of generated programs and their printed results, e.g.");
        foreach (var line in ProgramCorpus.SplitPrograms(corpus).Take(2).SelectMany(p => p.Split('\n'))) o.WriteLine("    " + line);

        Directory.CreateDirectory(outDir);
        string modelPath = Path.Combine(outDir, "demo-model.safetensors");
        var options = new TrainOptions
        {
            Mode = RnnMode.Lstm, Layers = 2, Hidden = 128, Embed = 32, SeqLen = 64, Batch = 32, Steps = 5000,
            LearningRate = 3e-3, Clip = 5, Seed = seed, Backend = backend.Name, Out = modelPath, MaxSeconds = seconds,
            EvalEvery = 100, CheckpointEvery = 0, SampleLength = 80,
        };
        var progress = o == Console.Out ? ConsoleProgress.ForConsole() : new ConsoleProgress(o, interactive: false);
        // SIGINT, SIGTERM, SIGHUP: finish the step, save the model, then the samples and chart; a second one exits at once.
        using var signals = new StopSignals(Console.Error);
        var result = new CharLmTrainer().Train(corpus, "generated programs", options, progress, signals.Token);
        progress.ClearBar();
        if (result.Cancelled) o.WriteLine($"interrupted at step {result.Steps}; model saved to {modelPath}");

        using var model = RnnModel.Load(modelPath, backend.Name);
        foreach (var temperature in new[] { 0.5f, 0.8f, 1.0f })
        {
            o.WriteLine($"--- sample at temperature {temperature.ToString(CultureInfo.InvariantCulture)} ---");
            o.WriteLine(model.Generate("a=", 240, new SamplingOptions { Temperature = temperature, Seed = seed }));
        }

        var smoothed = Smooth(result.TrainLoss, 10);
        o.WriteLine(TerminalChart.LinePlot(smoothed, 70, 12, "training loss (nats/char, 10-step mean)"));
        var chart = new LineChart { Title = $"char-LSTM on generated programs ({backend.Name})", XLabel = "step", YLabel = "loss (nats per character)" };
        chart.Series.Add(new ChartSeries("train (10-step mean)", smoothed.Select((v, i) => ((double)i + 1, v)).ToArray()));
        chart.Series.Add(new ChartSeries("validation", result.ValHistory.Select(v => ((double)v.Step, v.Loss)).ToArray()));
        string svg = Path.Combine(outDir, "demo-loss.svg");
        chart.Save(svg);
        o.WriteLine($"trained {result.Steps} steps in about {seconds:F0} s on '{result.BackendName}'; model: {modelPath}; loss curve: {svg}");
        o.WriteLine($"try: rnnfast sample --model {modelPath} --prime \"a=\" --temperature 0.5");
        o.WriteLine("val_loss=" + result.ValLoss.ToString("F4", CultureInfo.InvariantCulture));
        return result.Cancelled ? signals.ExitCode : CliErrors.Ok;
    }

    private static double[] Smooth(IReadOnlyList<float> values, int window)
    {
        var result = new double[values.Count];
        double sum = 0;
        for (int i = 0; i < values.Count; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
