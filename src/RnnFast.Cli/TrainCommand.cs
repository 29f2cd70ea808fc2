// `rnnfast train`: trains a character language model on a text file (char-rnn), with progress, validation samples,
// atomic checkpoints, --resume and Ctrl-C (saves, then exits). The last line printed is `val_loss=<nats per char>`.
// `--task forecast` trains a forecaster on a CSV series instead (ForecastTrainer); its last line is
// `val_rmse=<x> naive_rmse=<y>` in the target's units. `--task tag` trains a character tagger on a TAGS<TAB>TEXT file
// (TaggerTrainer, one space-separated tag per character); its last line is `accuracy=<x>` per character, held out.
using System.CommandLine;
using System.Globalization;
using RnnFast.Training;

namespace RnnFast.Cli;

internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "training text file (UTF-8)", Required = true };
        var model = new Option<string>("--model") { Description = "cell: lstm, gru, rnn (tanh) or rnn_relu", DefaultValueFactory = _ => "lstm" };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 2 };
        var hidden = new Option<int>("--hidden") { DefaultValueFactory = _ => 128 };
        var embed = new Option<int>("--embed") { DefaultValueFactory = _ => 64 };
        var seqLen = new Option<int>("--seq-len") { DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 32 };
        var steps = new Option<int?>("--steps") { Description = "total optimizer steps (default: one epoch)" };
        var epochs = new Option<double?>("--epochs") { Description = "passes over the training text (instead of --steps)" };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 0.002 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam, sgd or adagrad", DefaultValueFactory = _ => "adam" };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => 0 };
        var clip = new Option<double>("--clip") { Description = "global gradient-norm clip (0 = off)", DefaultValueFactory = _ => 5 };
        var dropout = new Option<float>("--dropout") { DefaultValueFactory = _ => 0 };
        var valFraction = new Option<double>("--val-fraction") { Description = "held-out last fraction of the text", DefaultValueFactory = _ => 0.05 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var backend = BackendOption.Create();
        var output = new Option<string?>("--out") { Description = "checkpoint (.safetensors), written atomically (required for --task lm)" };
        var resume = new Option<string?>("--resume") { Description = "continue from this checkpoint (same data)" };
        var every = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 100 };
        var evalEvery = new Option<int>("--eval-every") { DefaultValueFactory = _ => 100 };
        var maxSeconds = new Option<double?>("--max-seconds") { Description = "stop after this much wall time" };
        var onNonFinite = new Option<string>("--on-nonfinite")
        {
            Description = "a step whose loss or gradients are NaN/Inf: stop (keep the last checkpoint) or skip it", DefaultValueFactory = _ => "stop",
        };
        var maxSkips = new Option<int>("--max-skips") { Description = "with --on-nonfinite skip: stop after this many skipped steps in a row", DefaultValueFactory = _ => 10 };

        var task = new Option<string>("--task")
        {
            Description = "lm (character language model on a text file), forecast (a CSV series) or tag (a tagger on TAGS<TAB>TEXT rows)",
            DefaultValueFactory = _ => "lm",
        };
        var bidir = new Option<bool>("--bidirectional") { Description = "tag: read each text both ways" };
        var peephole = new Option<bool>("--peephole") { Description = "lm, tag: an LSTM with peephole connections (weight_ph_l{k}: the gates also read the cell state)" };
        var target = new Option<string?>("--target") { Description = "forecast: the CSV column to forecast" };
        var features = new Option<string?>("--features") { Description = "forecast: input columns, comma-separated (default: the target alone)" };
        var horizon = new Option<int>("--horizon") { Description = "forecast: steps ahead", DefaultValueFactory = _ => 1 };
        var difference = new Option<bool>("--difference") { Description = "forecast: model changes instead of levels (trending series)" };

        var cmd = new Command("train",
            "Train a character language model on a text file, (--task forecast) a forecaster on a CSV series, or (--task tag) a character tagger on TAGS<TAB>TEXT rows")
        {
            data, model, layers, hidden, embed, seqLen, batch, steps, epochs, lr, optimizer, momentum, clip, dropout, valFraction,
            seed, backend, output, resume, every, evalEvery, maxSeconds, onNonFinite, maxSkips, task, target, features, horizon, difference, bidir, peephole,
        };
        cmd.SetAction(r =>
        {
            string taskName = r.GetValue(task)!.Trim().ToLowerInvariant();
            if (taskName is not ("lm" or "forecast" or "tag"))
                return CliErrors.Report(new ArgumentException($"--task: must be lm or forecast (or tag, a character tagger), got '{r.GetValue(task)}'"), r.InvocationConfiguration.Error, OptionNames.Train);
            if (taskName == "tag")
            {
                // The tagger's own defaults (those of `rnnfast classify`) where a flag was not given.
                T Pick<T>(Option<T> option, T recipe) => r.GetResult(option) is { Implicit: false } ? r.GetValue(option)! : recipe;
                try
                {
                    var to = new TrainOptions
                    {
                        Mode = CliErrors.ParseMode(r.GetValue(model)), Layers = Pick(layers, 1), Hidden = Pick(hidden, 64), Embed = Pick(embed, 16),
                        Bidirectional = r.GetValue(bidir), Peephole = r.GetValue(peephole), Batch = r.GetValue(batch), Steps = r.GetValue(steps) ?? 600, LearningRate = Pick(lr, 0.01),
                        Optimizer = r.GetValue(optimizer)!.ToLowerInvariant(), Momentum = r.GetValue(momentum), Clip = r.GetValue(clip),
                        Dropout = r.GetValue(dropout), Seed = r.GetValue(seed), Backend = r.GetValue(backend), Out = r.GetValue(output), EvalEvery = 0,
                    };
                    return RunTag(r.GetValue(data)!, Pick(valFraction, 0.2), to, r.InvocationConfiguration.Output);
                }
                catch (Exception e) when (CliErrors.IsUserError(e) || e is FormatException || e is TrainingDivergedException)
                {
                    return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Tag);
                }
            }
            if (r.GetValue(bidir))
                return CliErrors.Report(new ArgumentException("--bidirectional: only with --task tag"), r.InvocationConfiguration.Error, OptionNames.Train);
            if (taskName == "forecast" && r.GetValue(peephole))
                return CliErrors.Report(new ArgumentException("--peephole: only with --task lm or tag"), r.InvocationConfiguration.Error, OptionNames.Train);
            if (taskName == "forecast")
            {
                // The forecasting recipe's own defaults (../shared/tools/torch_forecast.py) where a flag was not given.
                T Pick<T>(Option<T> option, T recipe) => r.GetResult(option) is { Implicit: false } ? r.GetValue(option)! : recipe;
                try
                {
                    var fo = new ForecastOptions
                    {
                        Target = r.GetValue(target) ?? throw new ArgumentException("--target: required with --task forecast (the column to forecast)"),
                        Features = r.GetValue(features) is { } fs ? fs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null,
                        Horizon = r.GetValue(horizon), Difference = r.GetValue(difference),
                        Mode = CliErrors.ParseMode(r.GetValue(model)), Layers = Pick(layers, 1), Hidden = Pick(hidden, 32),
                        SeqLen = Pick(seqLen, 32), Batch = Pick(batch, 32), Steps = r.GetValue(steps) ?? 300, LearningRate = Pick(lr, 0.01),
                        Clip = Pick(clip, 0.0), ValFraction = Pick(valFraction, 0.2), Seed = r.GetValue(seed), Backend = r.GetValue(backend),
                        Out = r.GetValue(output),
                    };
                    return RunForecast(r.GetValue(data)!, fo, r.InvocationConfiguration.Output);
                }
                catch (Exception e) when (CliErrors.IsUserError(e) || e is TrainingDivergedException)
                {
                    return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Forecast);
                }
            }
            try
            {
                if (r.GetValue(output) == null) throw new ArgumentException("--out: required (the checkpoint to write)");
                var options = new TrainOptions
                {
                    Mode = CliErrors.ParseMode(r.GetValue(model)), Layers = r.GetValue(layers), Hidden = r.GetValue(hidden),
                    Embed = r.GetValue(embed), Peephole = r.GetValue(peephole), SeqLen = r.GetValue(seqLen), Batch = r.GetValue(batch), Steps = r.GetValue(steps),
                    Epochs = r.GetValue(epochs), LearningRate = r.GetValue(lr), Optimizer = r.GetValue(optimizer)!.ToLowerInvariant(),
                    Momentum = r.GetValue(momentum), Clip = r.GetValue(clip), Dropout = r.GetValue(dropout),
                    ValFraction = r.GetValue(valFraction), Seed = r.GetValue(seed), Backend = r.GetValue(backend),
                    Out = r.GetValue(output), Resume = r.GetValue(resume), CheckpointEvery = r.GetValue(every),
                    EvalEvery = r.GetValue(evalEvery), MaxSeconds = r.GetValue(maxSeconds),
                    OnNonFinite = OptionNames.Parse("--on-nonfinite", () => NonFinitePolicyNames.Parse(r.GetValue(onNonFinite))), MaxConsecutiveSkips = r.GetValue(maxSkips),
                };
                return Run(r.GetValue(data)!, options, r.InvocationConfiguration.Output);
            }
            catch (Exception e) when (CliErrors.IsUserError(e) || e is TrainingDivergedException)
            {
                return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Train);
            }
        });
        return cmd;
    }

    /// <summary>Trains a forecaster on the CSV in <paramref name="dataPath"/>; the last line is `val_rmse=... naive_rmse=...`.</summary>
    public static int RunForecast(string dataPath, ForecastOptions options, TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(options);
        InputFiles.RequireRegular("--data", dataPath);
        InputFiles.RequireDistinct("--out", options.Out, "--data", dataPath);
        var columns = (options.Features ?? []).Append(options.Target).Distinct().ToArray();
        var series = RnnFast.Datasets.CsvSeries.Read(dataPath, columns);
        foreach (var (column, filled) in series.FilledCounts)
            if (filled > 0) o.WriteLine($"{column}: {filled} missing value(s) filled by linear interpolation");
        var progress = o == Console.Out ? ConsoleProgress.ForConsole() : new ConsoleProgress(o, interactive: false);
        var result = new ForecastTrainer().Train(series, Path.GetFileName(dataPath), options, progress);
        progress.ClearBar();
        var inv = CultureInfo.InvariantCulture;
        var e = result.Errors;
        o.WriteLine($"trained {result.Steps} steps on {result.BackendName}: {result.TrainLength} training steps, {e.Count} held-out forecasts {options.Horizon} step(s) ahead" +
                    (options.Out != null ? $"; model saved to {options.Out}" : ""));
        o.WriteLine($"val_mae={e.Mae.ToString("G6", inv)} naive_mae={e.NaiveMae.ToString("G6", inv)} ratio_rmse={e.Ratio.ToString("F3", inv)}");
        o.WriteLine($"val_rmse={e.Rmse.ToString("G6", inv)} naive_rmse={e.NaiveRmse.ToString("G6", inv)}");
        return CliErrors.Ok;
    }

    /// <summary>
    /// Trains a tagger on the TAGS&lt;TAB&gt;TEXT rows in <paramref name="dataPath"/>, holding out
    /// <paramref name="testFraction"/> of them; the last line is `accuracy=...` per held-out character.
    /// </summary>
    public static int RunTag(string dataPath, double testFraction, TrainOptions options, TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(options);
        InputFiles.RequireRegular("--data", dataPath);
        InputFiles.RequireDistinct("--out", options.Out, "--data", dataPath);
        var examples = TaggerTrainer.Read(dataPath);
        var progress = o == Console.Out ? ConsoleProgress.ForConsole() : new ConsoleProgress(o, interactive: false);
        var (test, run) = new TaggerTrainer().Train(examples, testFraction, options, progress);
        progress.ClearBar();
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"trained {run.Steps} steps on {run.BackendName}: {test.Sequences} held-out examples, {test.Characters} characters" +
                    (options.Out != null ? $"; model saved to {options.Out}" : ""));
        o.WriteLine($"test_loss={test.Loss.ToString("F4", inv)}");
        o.WriteLine($"accuracy={test.Accuracy.ToString("F4", inv)}");
        return CliErrors.Ok;
    }

    /// <summary>
    /// Trains on the text in <paramref name="dataPath"/>. The options are validated by the trainer (once); its
    /// exceptions name <see cref="TrainOptions"/> properties, which the command maps to flags (OptionNames.Train).
    /// </summary>
    public static int Run(string dataPath, TrainOptions options, TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(options);
        InputFiles.RequireRegular("--data", dataPath);
        InputFiles.RequireDistinct("--out", options.Out, "--data", dataPath);
        if (options.Resume != null) InputFiles.RequireRegular("--resume", options.Resume);
        string text = File.ReadAllText(dataPath);
        var progress = o == Console.Out ? ConsoleProgress.ForConsole() : new ConsoleProgress(o, interactive: false);
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // finish the step, save a checkpoint, then exit
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var result = new CharLmTrainer().Train(text, Path.GetFileName(dataPath), options, progress, cts.Token);
            progress.ClearBar();
            if (result.Cancelled) o.WriteLine($"interrupted at step {result.Steps}; checkpoint saved to {options.Out} (continue with --resume {options.Out})");
            else o.WriteLine($"trained {result.Steps} steps on {result.BackendName}; model saved to {options.Out}");
            if (result.SkippedSteps > 0) o.WriteLine($"skipped {result.SkippedSteps} step(s) whose loss or gradients were not finite");
            o.WriteLine("val_loss=" + result.ValLoss.ToString("F4", CultureInfo.InvariantCulture));
            return result.Cancelled ? 130 : CliErrors.Ok;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
