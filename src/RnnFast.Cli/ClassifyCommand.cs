// `rnnfast classify`: trains and evaluates a many-to-one sequence classifier from a TSV/CSV of `label<TAB>text`
// (or, without --data, on a generated task that needs memory), then prints accuracy and the confusion matrix. With
// --multi-label the rows are `LABEL1,LABEL2<TAB>TEXT` (a label set; - for none) and it prints per-label scores.
using System.CommandLine;
using System.Globalization;
using RnnFast.Data;
using RnnFast.Training;

namespace RnnFast.Cli;

internal static class ClassifyCommand
{
    public static Command Create()
    {
        var dataFile = new Option<string?>("--data") { Description = "TSV/CSV of label<TAB>text (default: a generated memory task)" };
        var model = new Option<string>("--model") { Description = "cell: lstm, gru, rnn or rnn_relu", DefaultValueFactory = _ => "lstm" };
        var layers = new Option<int>("--layers") { Description = "stacked RNN layers", DefaultValueFactory = _ => 1 };
        var hidden = new Option<int>("--hidden") { Description = "hidden units per layer (and direction)", DefaultValueFactory = _ => 64 };
        var embed = new Option<int>("--embed") { Description = "character embedding size", DefaultValueFactory = _ => 16 };
        var bidir = new Option<bool>("--bidirectional") { Description = "read each sequence both ways" };
        var peephole = new Option<bool>("--peephole") { Description = "an LSTM with peephole connections (weight_ph_l{k}: the gates also read the cell state)" };
        var multiLabel = new Option<bool>("--multi-label") { Description = "several labels per text: --data rows are LABEL1,LABEL2<TAB>TEXT (- for none); a sigmoid per label" };
        var pooling = new Option<string>("--pooling") { Description = "what the head reads: last (the last step) or mean (the mean over every step)", DefaultValueFactory = _ => "last" };
        var batch = new Option<int>("--batch") { Description = "examples per optimizer step", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "optimizer steps", DefaultValueFactory = _ => 600 };
        var lr = new Option<double>("--lr") { Description = "learning rate", DefaultValueFactory = _ => 0.01 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam, sgd or adagrad", DefaultValueFactory = _ => "adam" };
        var clip = new Option<double>("--clip") { Description = "global gradient-norm clip (0 = off)", DefaultValueFactory = _ => 5 };
        var dropout = new Option<float>("--dropout") { Description = "dropout between layers, in [0, 1)", DefaultValueFactory = _ => 0 };
        var testFraction = new Option<double>("--test-fraction") { Description = "held-out fraction of the examples, in (0, 1)", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { Description = "random seed (weights, split, batches, generated task)", DefaultValueFactory = _ => 1 };
        var backend = BackendOption.Create();
        var threads = BackendOption.CreateThreads();
        var output = new Option<string?>("--out") { Description = "save the trained classifier (.safetensors)" };
        var examples = new Option<int>("--examples") { Description = "generated task: number of sequences", DefaultValueFactory = _ => 6000 };
        var minLength = new Option<int>("--min-length") { Description = "generated task: shortest sequence", DefaultValueFactory = _ => 30 };
        var maxLength = new Option<int>("--max-length") { Description = "generated task: longest sequence", DefaultValueFactory = _ => 60 };
        var forgetBias = new Option<float>("--forget-bias") { Description = "LSTM: initial forget-gate bias (helps long-range memory)", DefaultValueFactory = _ => 3f };
        var plot = new Option<string?>("--plot") { Description = "write the training and held-out loss curves (with the learning rate) to this .svg file" };
        var evalEvery = new Option<int>("--eval-every") { Description = "held-out loss and accuracy every this many steps (0 = only at the end)", DefaultValueFactory = _ => 100 };
        var steering = new SteeringOptions();
        var resume = new Option<string?>("--resume")
        {
            Description = "continue from this checkpoint (same data and --test-fraction); its model and recipe stay (a flag that differs is refused); " +
                          "--steps is the global step to reach; --lr, --clip and the --lr-* schedule may change",
        };
        var every = new Option<int>("--checkpoint-every") { Description = "write --out every this many steps (0 = only at the end)", DefaultValueFactory = _ => 100 };
        var classes = new Option<int>("--classes") { Description = "generated task: number of classes", DefaultValueFactory = _ => 4 };
        var distributed = new Option<string>("--distributed")
        {
            Description = "under mpirun -np K: auto (data-parallel over the K ranks, --batch is the global batch) or off (ignore the MPI job)",
            DefaultValueFactory = _ => "auto",
        };
        var syncCheck = new Option<int>("--sync-check-every")
        {
            Description = "data-parallel: compare a hash of the parameters across ranks every this many steps (0 = only at the end)", DefaultValueFactory = _ => 100,
        };
        var cmd = new Command("classify", "Train and evaluate a sequence classifier (accuracy and confusion matrix)")
        {
            dataFile, model, layers, hidden, embed, bidir, peephole, pooling, multiLabel, batch, steps, lr, optimizer, clip, dropout, testFraction, seed, backend, threads, output,
            examples, minLength, maxLength, classes, forgetBias, plot, evalEvery, resume, every, distributed, syncCheck,
        };
        foreach (var option in steering.All) cmd.Options.Add(option);
        cmd.SetAction(r =>
        {
            if (r.GetValue(syncCheck) < 0)
                return CliErrors.Report(new ArgumentException($"--sync-check-every: must be >= 0, got {r.GetValue(syncCheck)}"), r.InvocationConfiguration.Error, OptionNames.Classify);
            RnnFast.Distributed.MpiComm? world;
            try { world = DistributedTrain.Start(r.GetValue(distributed), "classify"); }
            catch (Exception e) when (CliErrors.IsUserError(e) || e is RnnFast.Distributed.MpiException || e is DllNotFoundException || e is EntryPointNotFoundException)
            {
                return CliErrors.Report(e, r.InvocationConfiguration.Error, OptionNames.Classify);
            }
            try
            {
                // The flags not given: the --resume checkpoint's recipe, for the architecture also the --init-from model's
                // (RecipeDefaults); the trainer refuses a given flag that differs, and applies (and reports) a new schedule.
                var defaults = RecipeDefaults.Read(r, resume, steering);
                string? resumePath = defaults.ResumePath;
                TrainOptions? saved = defaults.Saved;
                var arch = defaults.Architecture;
                T Given<T>(Option<T> option, Func<TrainOptions, T> fromCheckpoint) => defaults.Given(option, fromCheckpoint);
                T Arch<T>(Option<T> option, Func<TrainOptions, T> fromModel) => defaults.Arch(option, fromModel);
                var pool = arch != null && !defaults.IsGiven(pooling)
                    ? arch.Pooling : OptionNames.Parse("--pooling", () => RnnFast.Models.NetworkConfig.ParsePooling(r.GetValue(pooling) ?? ""));
                IReadOnlyList<(string Label, string Text)> data;
                string? intro = null;
                var path = r.GetValue(dataFile);
                bool multi = r.GetValue(multiLabel);
                if (multi && path == null) throw new ArgumentException("--multi-label: needs --data, a file of LABEL1,LABEL2<TAB>TEXT rows");
                if (path != null)
                {
                    InputFiles.RequireRegular("--data", path);
                    InputFiles.RequireDistinct("--out", r.GetValue(output), "--data", path);
                    data = RnnFast.Datasets.LabeledText.Read(path);
                }
                else
                {
                    int count = r.GetValue(examples), lo = r.GetValue(minLength), hi = r.GetValue(maxLength), c = r.GetValue(classes);
                    // The generated texts, their concatenation for the vocabulary and their ids: ~8 bytes a character
                    // and ~100 bytes an example, checked before anything is generated (issue 15 item 13).
                    if (count > 0 && hi > 0)
                        MemoryEstimate.Require([new MemoryEstimate.Term("--examples x --max-length", (double)count * (8.0 * hi + 100))], "the generated task");
                    data = MemoryTask.Generate(count, lo, hi, c, Given(seed, s => s.Seed)).Select(e => (MemoryTask.ClassName(e.Label), e.Text)).ToArray();
                    // Printed when the trainer starts (PendingLineObserver): a refused option leaves stdout empty.
                    intro = $"no --data: a generated task that needs memory: {count} sequences of {lo}..{hi} characters, " +
                            $"the label ({c} classes) is the first character, the rest are distractors";
                }
                TrainingPlot.Check(r.GetValue(plot), ("--data", path), ("--out", r.GetValue(output)), ("--resume", resumePath), ("--init-from", r.GetValue(steering.InitFrom)));
                InputFiles.RequireDistinct("--out", r.GetValue(output), "--init-from", r.GetValue(steering.InitFrom));
                var mode = arch != null && r.GetResult(model) is not { Implicit: false } ? arch.Mode : CliErrors.ParseMode(r.GetValue(model));
                var o = new TrainOptions
                {
                    Mode = mode, Layers = Arch(layers, s => s.Layers), Hidden = Arch(hidden, s => s.Hidden),
                    Embed = Arch(embed, s => s.Embed), Bidirectional = Arch(bidir, s => s.Bidirectional), Peephole = Arch(peephole, s => s.Peephole), Pooling = pool,
                    Batch = Given(batch, s => s.Batch), Steps = r.GetValue(steps),
                    LearningRate = Given(lr, s => s.LearningRate),
                    Optimizer = saved != null && r.GetResult(optimizer) is not { Implicit: false } ? saved.Optimizer : r.GetValue(optimizer)!.ToLowerInvariant(),
                    Clip = Given(clip, s => s.Clip), Dropout = Given(dropout, s => s.Dropout),
                    ForgetBias = mode == RnnMode.Lstm ? r.GetValue(forgetBias) : 0, Seed = Given(seed, s => s.Seed), Backend = r.GetValue(backend),
                    Threads = r.GetValue(threads), Out = r.GetValue(output), EvalEvery = r.GetValue(evalEvery),
                    Resume = resumePath, CheckpointEvery = r.GetValue(every),
                    SeqLen = 1, // a classifier reads whole texts, not windows: no window length enters its sizes
                };
                o = steering.Apply(r, o, saved);
                // Rank 0 of an MPI job (or the only process) prints and writes; the other ranks train silently (TextWriter.Null).
                int TrainAndPrint(TrainOptions o, TextWriter writer)
                {
                    string? plotPath = ReferenceEquals(writer, TextWriter.Null) ? null : r.GetValue(plot); // rank 0 alone draws the chart
                    var progress = writer == Console.Out ? ConsoleProgress.ForConsole() : new ConsoleProgress(writer, interactive: false);
                    progress.Names = OptionNames.Classify;
                    var observer = new PendingLineObserver(progress, writer, intro);
                    // SIGINT, SIGTERM, SIGHUP: finish the step, save the model, evaluate, exit 128 + the signal; a second one exits at once.
                    using var signals = new StopSignals(Console.Error);
                    if (multi)
                    {
                        var (mtest, mrun) = new MultiLabelTrainer().Train(data, Given(testFraction, s => s.ValFraction), o, observer, signals.Token);
                        observer.Flush();
                        progress.ClearBar();
                        if (mrun.Cancelled) writer.WriteLine($"interrupted at step {mrun.Steps}");
                        if (o.Out != null) writer.WriteLine($"model saved to {o.Out} (label new text with: rnnfast predict --model {o.Out} --data FILE)");
                        TrainingPlot.Save(plotPath, mrun, "multi-label classifier", o.LearningRate, o.Optimizer, "nats per example", writer, o.LrSchedule);
                        writer.WriteLine($"on {mtest.Count} held-out examples (a label is predicted when its probability is above 0.5):");
                        EvalCommand.PrintMultiLabel(mtest, writer);
                        return mrun.Cancelled ? signals.ExitCode : CliErrors.Ok;
                    }
                    var (test, run) = new ClassifierTrainer().Train(data, Given(testFraction, s => s.ValFraction), o, observer, signals.Token);
                    observer.Flush();
                    progress.ClearBar();
                    if (run.Cancelled) writer.WriteLine($"interrupted at step {run.Steps}");
                    if (o.Out != null)
                        writer.WriteLine($"model saved to {o.Out}{(!run.Cancelled && run.KeptStep is { } kept && kept != run.Steps ? $" (the best held-out parameters, step {kept})" : "")} " +
                                         $"(label new text with: rnnfast predict --model {o.Out} --data FILE)");
                    TrainingPlot.Save(plotPath, run, "classifier", o.LearningRate, o.Optimizer, "nats per example", writer, o.LrSchedule);
                    Print(test, writer);
                    return run.Cancelled ? signals.ExitCode : CliErrors.Ok;
                }
                if (world != null)
                {
                    var names = r.GetValue(dataFile) != null ? OptionNames.Classify : OptionNames.Classify.With("examples", "--examples");
                    return DistributedTrain.Run(world, r.GetValue(syncCheck), o, r.InvocationConfiguration.Output, r.InvocationConfiguration.Error,
                        (dpOptions, rankOutput) => TrainAndPrint(dpOptions, rankOutput), names);
                }
                return TrainAndPrint(o, r.InvocationConfiguration.Output);
            }
            catch (Exception e) when (CliErrors.IsUserError(e) || e is FormatException || e is TrainingDivergedException)
            {
                // Without --data the examples are the generated task's, whose count is --examples.
                var names = r.GetValue(dataFile) != null ? OptionNames.Classify : OptionNames.Classify.With("examples", "--examples");
                return CliErrors.Report(e, r.InvocationConfiguration.Error, names);
            }
        });
        return cmd;
    }

    public static void Print(ClassifierEvaluation ev, TextWriter o)
    {
        int C = ev.Labels.Count;
        int w = Math.Max(6, ev.Labels.Max(l => l.Length) + 1);
        o.WriteLine($"confusion matrix on {ev.Count} held-out examples (rows: true, columns: predicted):");
        o.Write(new string(' ', w));
        foreach (var l in ev.Labels) o.Write(l.PadLeft(w));
        o.WriteLine();
        for (int i = 0; i < C; i++)
        {
            o.Write(ev.Labels[i].PadLeft(w));
            for (int j = 0; j < C; j++) o.Write(ev.Confusion[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(w));
            o.WriteLine();
        }
        o.WriteLine($"test_loss={ev.Loss.ToString("F4", CultureInfo.InvariantCulture)}");
        o.WriteLine($"accuracy={ev.Accuracy.ToString("F4", CultureInfo.InvariantCulture)}");
    }
}
