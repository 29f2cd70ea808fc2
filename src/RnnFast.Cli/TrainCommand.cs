// `rnnfast train`: trains a character language model on a text file (char-rnn), with progress, validation samples,
// atomic checkpoints, --resume and Ctrl-C (saves, then exits). The last line printed is `val_loss=<nats per char>`.
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
        var output = new Option<string>("--out") { Description = "checkpoint (.safetensors), written atomically", Required = true };
        var resume = new Option<string?>("--resume") { Description = "continue from this checkpoint (same data)" };
        var every = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 100 };
        var evalEvery = new Option<int>("--eval-every") { DefaultValueFactory = _ => 100 };
        var maxSeconds = new Option<double?>("--max-seconds") { Description = "stop after this much wall time" };
        var onNonFinite = new Option<string>("--on-nonfinite")
        {
            Description = "a step whose loss or gradients are NaN/Inf: stop (keep the last checkpoint) or skip it", DefaultValueFactory = _ => "stop",
        };
        var maxSkips = new Option<int>("--max-skips") { Description = "with --on-nonfinite skip: stop after this many skipped steps in a row", DefaultValueFactory = _ => 10 };

        var cmd = new Command("train", "Train a character language model on a text file")
        {
            data, model, layers, hidden, embed, seqLen, batch, steps, epochs, lr, optimizer, momentum, clip, dropout, valFraction,
            seed, backend, output, resume, every, evalEvery, maxSeconds, onNonFinite, maxSkips,
        };
        cmd.SetAction(r =>
        {
            try
            {
                var options = new TrainOptions
                {
                    Mode = CliErrors.ParseMode(r.GetValue(model)), Layers = r.GetValue(layers), Hidden = r.GetValue(hidden),
                    Embed = r.GetValue(embed), SeqLen = r.GetValue(seqLen), Batch = r.GetValue(batch), Steps = r.GetValue(steps),
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

    /// <summary>
    /// Trains on the text in <paramref name="dataPath"/>. The options are validated by the trainer (once); its
    /// exceptions name <see cref="TrainOptions"/> properties, which the command maps to flags (OptionNames.Train).
    /// </summary>
    public static int Run(string dataPath, TrainOptions options, TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(dataPath)) throw new FileNotFoundException($"--data: {dataPath} not found", dataPath);
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
