// `rnnfast classify`: trains and evaluates a many-to-one sequence classifier from a TSV/CSV of `label<TAB>text`
// (or, without --data, on a generated task that needs memory), then prints accuracy and the confusion matrix.
using System.CommandLine;
using System.Globalization;
using RnnFast.Data;
using RnnFast.Training;

namespace RnnFast.Cli;

internal static class ClassifyCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "TSV/CSV of label<TAB>text (default: a generated memory task)" };
        var model = new Option<string>("--model") { Description = "cell: lstm, gru, rnn or rnn_relu", DefaultValueFactory = _ => "lstm" };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 1 };
        var hidden = new Option<int>("--hidden") { DefaultValueFactory = _ => 64 };
        var embed = new Option<int>("--embed") { DefaultValueFactory = _ => 16 };
        var bidir = new Option<bool>("--bidirectional") { Description = "read each sequence both ways" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 32 };
        var steps = new Option<int?>("--steps") { Description = "optimizer steps (default: 3 epochs)" };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => 0.005 };
        var optimizer = new Option<string>("--optimizer") { DefaultValueFactory = _ => "adam" };
        var clip = new Option<double>("--clip") { DefaultValueFactory = _ => 5 };
        var dropout = new Option<float>("--dropout") { DefaultValueFactory = _ => 0 };
        var testFraction = new Option<double>("--test-fraction") { DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var backend = BackendOption.Create();
        var output = new Option<string?>("--out") { Description = "save the trained classifier (.safetensors)" };
        var cmd = new Command("classify", "Train and evaluate a sequence classifier (accuracy and confusion matrix)")
        {
            data, model, layers, hidden, embed, bidir, batch, steps, lr, optimizer, clip, dropout, testFraction, seed, backend, output,
        };
        cmd.SetAction(r =>
        {
            try
            {
                IReadOnlyList<(string Label, string Text)> examples;
                var path = r.GetValue(data);
                if (path != null)
                {
                    if (!File.Exists(path)) throw new FileNotFoundException($"--data: {path} not found", path);
                    examples = MemoryTask.ReadTsv(path);
                }
                else
                {
                    Console.WriteLine("no --data: generated memory task (label = the first character, 30..60 distractors after it)");
                    examples = MemoryTask.Generate(2000, 30, 60, 4, r.GetValue(seed))
                        .Select(e => (MemoryTask.ClassName(e.Label), e.Text)).ToArray();
                }
                var o = new TrainOptions
                {
                    Mode = RnnDesc.ParseMode(r.GetValue(model)!), Layers = r.GetValue(layers), Hidden = r.GetValue(hidden),
                    Embed = r.GetValue(embed), Bidirectional = r.GetValue(bidir), Batch = r.GetValue(batch), Steps = r.GetValue(steps),
                    Epochs = r.GetValue(steps) == null ? 3 : null, LearningRate = r.GetValue(lr), Optimizer = r.GetValue(optimizer)!.ToLowerInvariant(),
                    Clip = r.GetValue(clip), Dropout = r.GetValue(dropout), Seed = r.GetValue(seed), Backend = r.GetValue(backend) ?? "",
                    Out = r.GetValue(output), EvalEvery = 0,
                };
                var progress = ConsoleProgress.ForConsole();
                var (test, _) = new ClassifierTrainer().Train(examples, r.GetValue(testFraction), o, progress);
                progress.ClearBar();
                Print(test, Console.Out);
                return CliErrors.Ok;
            }
            catch (Exception e) when (CliErrors.IsUserError(e) || e is FormatException || e is TrainingDivergedException)
            {
                return CliErrors.Report(e);
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
