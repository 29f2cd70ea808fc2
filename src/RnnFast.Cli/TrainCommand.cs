// `rnnfast train`: trains a character language model on a text file (char-rnn), with progress, validation samples,
// atomic checkpoints, --resume and SIGINT/SIGTERM/SIGHUP (saves, validates, then exits; a second signal exits at once). The last line printed is `val_loss=<nats per char>`.
// `--task forecast` trains a forecaster on a CSV series instead (ForecastTrainer); its last line is
// `val_rmse=<x> naive_rmse=<y>` in the target's units. `--task tag` trains a character tagger on a TAGS<TAB>TEXT file
// (TaggerTrainer, one space-separated tag per character); its last line is `accuracy=<x>` per character, held out.
using System.CommandLine;
using System.Globalization;
using RnnFast.Distributed;
using RnnFast.Training;

namespace RnnFast.Cli;

internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "training text file (UTF-8)", Required = true };
        var model = new Option<string>("--model") { Description = "cell: lstm, gru, rnn (tanh) or rnn_relu", DefaultValueFactory = _ => "lstm" };
        var layers = new Option<int>("--layers") { Description = "stacked RNN layers", DefaultValueFactory = _ => 2 };
        var hidden = new Option<int>("--hidden") { Description = "hidden units per layer (and direction)", DefaultValueFactory = _ => 128 };
        var embed = new Option<int>("--embed") { Description = "character embedding size", DefaultValueFactory = _ => 64 };
        var seqLen = new Option<int>("--seq-len") { Description = "characters per training window (truncated backprop length)", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "windows per optimizer step", DefaultValueFactory = _ => 32 };
        var steps = new Option<int?>("--steps")
        {
            Description = "total optimizer steps (default: one epoch); with --resume the global step to reach (more than the checkpoint's; default: the total it planned)",
        };
        var epochs = new Option<double?>("--epochs") { Description = "passes over the training text (instead of --steps)" };
        var lr = new Option<double>("--lr") { Description = "learning rate", DefaultValueFactory = _ => 0.002 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam, sgd or adagrad", DefaultValueFactory = _ => "adam" };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => 0 };
        var clip = new Option<double>("--clip") { Description = "global gradient-norm clip (0 = off)", DefaultValueFactory = _ => 5 };
        var dropout = new Option<float>("--dropout") { Description = "dropout between layers, in [0, 1)", DefaultValueFactory = _ => 0 };
        var valFraction = new Option<double>("--val-fraction") { Description = "held-out last fraction of the text", DefaultValueFactory = _ => 0.05 };
        var seed = new Option<int>("--seed") { Description = "random seed (initial weights, batches, samples)", DefaultValueFactory = _ => 1 };
        var backend = BackendOption.Create();
        var threads = BackendOption.CreateThreads();
        var output = new Option<string?>("--out") { Description = "checkpoint (.safetensors), written atomically (required for --task lm)" };
        var resume = new Option<string?>("--resume")
        {
            Description = "continue from this checkpoint (same data); its model and recipe stay (a flag that differs is refused), --lr, --clip, --momentum, --steps and the --lr-* schedule may change",
        };
        var every = new Option<int>("--checkpoint-every") { Description = "write --out every this many steps (0 = only at the end)", DefaultValueFactory = _ => 100 };
        var evalEvery = new Option<int>("--eval-every") { Description = "validation loss and a sample every this many steps (0 = only at the end)", DefaultValueFactory = _ => 100 };
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
        var plot = new Option<string?>("--plot") { Description = "lm: write the training and held-out loss curves (with the learning rate) to this .svg file" };
        var allowBinary = new Option<bool>("--allow-binary") { Description = "lm: train on a file that looks like binary data (NUL bytes, invalid UTF-8)" };
        var distributed = new Option<string>("--distributed")
        {
            Description = "lm under mpirun -np K: auto (data-parallel over the K ranks, --batch is the global batch) or off (ignore the MPI job)",
            DefaultValueFactory = _ => "auto",
        };
        var syncCheck = new Option<int>("--sync-check-every")
        {
            Description = "data-parallel: compare a hash of the parameters across ranks every this many steps (0 = only at the end)", DefaultValueFactory = _ => 100,
        };

        var steering = new SteeringOptions();

        var cmd = new Command("train",
            "Train a character language model on a text file, (--task forecast) a forecaster on a CSV series, or (--task tag) a character tagger on TAGS<TAB>TEXT rows")
        {
            data, model, layers, hidden, embed, seqLen, batch, steps, epochs, lr, optimizer, momentum, clip, dropout, valFraction,
            seed, backend, threads, output, resume, every, evalEvery, maxSeconds, onNonFinite, maxSkips, task, target, features, horizon, difference, bidir, peephole, allowBinary, plot,
            distributed, syncCheck,
        };
        foreach (var option in steering.All) cmd.Options.Add(option);
        cmd.SetAction(r =>
        {
            string taskName = r.GetValue(task)!.Trim().ToLowerInvariant();
            if (taskName is not ("lm" or "forecast" or "tag"))
                return CliErrors.Report(new ArgumentException($"--task: must be lm or forecast (or tag, a character tagger), got '{r.GetValue(task)}'"), r.InvocationConfiguration.Error, OptionNames.Train);
            if (r.GetValue(syncCheck) < 0)
                return CliErrors.Report(new ArgumentException($"--sync-check-every: must be >= 0, got {r.GetValue(syncCheck)}"), r.InvocationConfiguration.Error, OptionNames.Train);
            MpiComm? world;
            try { world = DistributedTrain.Start(r.GetValue(distributed), taskName); }
            catch (Exception e) when (CliErrors.IsUserError(e) || e is MpiException || e is DllNotFoundException || e is EntryPointNotFoundException)
            {
                return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Train);
            }
            if (taskName != "lm")
            {
                try { steering.RefuseFor(r, taskName); }
                catch (ArgumentException e) { return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Train); }
            }
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
                        Dropout = r.GetValue(dropout), Seed = r.GetValue(seed), Backend = r.GetValue(backend), Threads = r.GetValue(threads), Out = r.GetValue(output), EvalEvery = 0,
                        SeqLen = 1, // a tagger reads whole texts, not windows: no window length enters its sizes
                    };
                    return RunTag(r.GetValue(data)!, Pick(valFraction, 0.2), to, r.InvocationConfiguration.Output);
                }
                catch (Exception e) when (CliErrors.IsUserError(e) || e is FormatException || e is TrainingDivergedException)
                {
                    return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Tag);
                }
            }
            if (taskName != "lm" && r.GetValue(plot) != null)
                return CliErrors.Report(new ArgumentException("--plot: only with --task lm (a language model's loss curves)"), r.InvocationConfiguration.Error, OptionNames.Train);
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
                        Threads = r.GetValue(threads), Out = r.GetValue(output),
                    };
                    return RunForecast(r.GetValue(data)!, steering.ApplyTo(r, fo), r.InvocationConfiguration.Output);
                }
                catch (Exception e) when (CliErrors.IsUserError(e) || e is TrainingDivergedException)
                {
                    return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Forecast);
                }
            }
            try
            {
                if (r.GetValue(output) == null) throw new ArgumentException("--out: required (the checkpoint to write)");
                // The flags not given: the --resume checkpoint's recipe, for the architecture also the --init-from model's
                // (RecipeDefaults); the trainer refuses a given flag that differs, and applies (and reports) a new schedule.
                var defaults = RecipeDefaults.Read(r, resume, steering);
                string? resumePath = defaults.ResumePath;
                TrainOptions? saved = defaults.Saved;
                var arch = defaults.Architecture;
                T Given<T>(Option<T> option, Func<TrainOptions, T> fromCheckpoint) => defaults.Given(option, fromCheckpoint);
                T Arch<T>(Option<T> option, Func<TrainOptions, T> fromModel) => defaults.Arch(option, fromModel);
                int? stepsValue = r.GetValue(steps);
                double? epochsValue = r.GetValue(epochs);
                if (saved != null && stepsValue == null && epochsValue == null) stepsValue = saved.Steps;
                var options = new TrainOptions
                {
                    Mode = arch != null && r.GetResult(model) is not { Implicit: false } ? arch.Mode : CliErrors.ParseMode(r.GetValue(model)),
                    Layers = Arch(layers, s => s.Layers), Hidden = Arch(hidden, s => s.Hidden),
                    Embed = Arch(embed, s => s.Embed), Peephole = Arch(peephole, s => s.Peephole), SeqLen = Given(seqLen, s => s.SeqLen), Batch = Given(batch, s => s.Batch), Steps = stepsValue,
                    Epochs = epochsValue, LearningRate = Given(lr, s => s.LearningRate),
                    Optimizer = saved != null && r.GetResult(optimizer) is not { Implicit: false } ? saved.Optimizer : r.GetValue(optimizer)!.ToLowerInvariant(),
                    Momentum = Given(momentum, s => s.Momentum), Clip = Given(clip, s => s.Clip), Dropout = Given(dropout, s => s.Dropout),
                    ValFraction = Given(valFraction, s => s.ValFraction), Seed = Given(seed, s => s.Seed), Backend = r.GetValue(backend), Threads = r.GetValue(threads),
                    Out = r.GetValue(output), Resume = resumePath, CheckpointEvery = r.GetValue(every),
                    EvalEvery = r.GetValue(evalEvery), MaxSeconds = r.GetValue(maxSeconds),
                    OnNonFinite = OptionNames.Parse("--on-nonfinite", () => NonFinitePolicyNames.Parse(r.GetValue(onNonFinite))), MaxConsecutiveSkips = r.GetValue(maxSkips),
                };
                options = steering.Apply(r, options, saved);
                if (world != null)
                    return DistributedTrain.Run(world, r.GetValue(syncCheck), options, r.InvocationConfiguration.Output, r.InvocationConfiguration.Error,
                        (dpOptions, rankOutput) => Run(r.GetValue(data)!, dpOptions, rankOutput, r.GetValue(allowBinary),
                            ReferenceEquals(rankOutput, TextWriter.Null) ? null : r.GetValue(plot))); // rank 0 alone draws the chart
                return Run(r.GetValue(data)!, options, r.InvocationConfiguration.Output, r.GetValue(allowBinary), r.GetValue(plot));
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
        using var signals = new StopSignals(Console.Error);
        var result = new ForecastTrainer().Train(series, Path.GetFileName(dataPath), options, progress, signals.Token);
        progress.ClearBar();
        var inv = CultureInfo.InvariantCulture;
        var e = result.Errors;
        if (result.Cancelled) o.WriteLine($"interrupted at step {result.Steps}" + (options.Out != null ? $"; model saved to {options.Out}" : ""));
        o.WriteLine($"trained {result.Steps} steps on {result.BackendName}: {result.TrainLength} training steps, {e.Count} held-out forecasts {options.Horizon} step(s) ahead" +
                    (options.Out != null ? $"; model saved to {options.Out}" : ""));
        o.WriteLine($"val_mae={e.Mae.ToString("G6", inv)} naive_mae={e.NaiveMae.ToString("G6", inv)} ratio_rmse={e.Ratio.ToString("F3", inv)}");
        o.WriteLine($"val_rmse={e.Rmse.ToString("G6", inv)} naive_rmse={e.NaiveRmse.ToString("G6", inv)}");
        return result.Cancelled ? signals.ExitCode : CliErrors.Ok;
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
        using var signals = new StopSignals(Console.Error);
        var (test, run) = new TaggerTrainer().Train(examples, testFraction, options, progress, signals.Token);
        progress.ClearBar();
        var inv = CultureInfo.InvariantCulture;
        if (run.Cancelled) o.WriteLine($"interrupted at step {run.Steps}" + (options.Out != null ? $"; model saved to {options.Out}" : ""));
        o.WriteLine($"trained {run.Steps} steps on {run.BackendName}: {test.Sequences} held-out examples, {test.Characters} characters" +
                    (options.Out != null ? $"; model saved to {options.Out}" : ""));
        o.WriteLine($"test_loss={test.Loss.ToString("F4", inv)}");
        o.WriteLine($"accuracy={test.Accuracy.ToString("F4", inv)}");
        return run.Cancelled ? signals.ExitCode : CliErrors.Ok;
    }

    /// <summary>
    /// Trains on the text in <paramref name="dataPath"/>. The options are validated by the trainer (once); its
    /// exceptions name <see cref="TrainOptions"/> properties, which the command maps to flags (OptionNames.Train).
    /// </summary>
    public static int Run(string dataPath, TrainOptions options, TextWriter o, bool allowBinary = false, string? plot = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        InputFiles.RequireRegular("--data", dataPath);
        InputFiles.RequireDistinct("--out", options.Out, "--data", dataPath);
        if (options.Resume != null) InputFiles.RequireRegular("--resume", options.Resume);
        if (options.InitFrom != null) InputFiles.RequireRegular("--init-from", options.InitFrom);
        InputFiles.RequireDistinct("--out", options.Out, "--init-from", options.InitFrom);
        TrainingPlot.Check(plot, ("--data", dataPath), ("--out", options.Out), ("--resume", options.Resume), ("--init-from", options.InitFrom));
        string text = RnnFast.Datasets.TextCorpus.Read(dataPath, allowBinary);
        var progress = o == Console.Out ? ConsoleProgress.ForConsole() : new ConsoleProgress(o, interactive: false);
        progress.Names = OptionNames.Train;
        // SIGINT, SIGTERM, SIGHUP: finish the step, save a checkpoint, validate, exit 128 + the signal; a second one exits at once.
        using var signals = new StopSignals(Console.Error);
        var result = new CharLmTrainer().Train(text, Path.GetFileName(dataPath), options, progress, signals.Token);
        progress.ClearBar();
        if (result.Cancelled) o.WriteLine($"interrupted at step {result.Steps}; checkpoint saved to {options.Out} (continue with --resume {options.Out})");
        else o.WriteLine($"trained {result.Steps} steps on {result.BackendName}{(result.StoppedEarly ? " (stopped early)" : "")}; model saved to {options.Out}" +
                         (result.KeptStep is { } kept && kept != result.Steps ? $" (the best held-out parameters, step {kept})" : ""));
        if (result.SkippedSteps > 0) o.WriteLine($"skipped {result.SkippedSteps} step(s) whose loss or gradients were not finite");
        TrainingPlot.Save(plot, result, "language model", options.LearningRate, options.Optimizer, "nats per character", o, options.LrSchedule);
        o.WriteLine("val_loss=" + result.ValLoss.ToString("F4", CultureInfo.InvariantCulture));
        return result.Cancelled ? signals.ExitCode : CliErrors.Ok;
    }
}
