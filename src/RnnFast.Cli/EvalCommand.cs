// `rnnfast eval --model M --data FILE`: scores a trained model on a file. A language model: cross-entropy per character
// (nats and bits) and perplexity of a text; a classifier: accuracy, per-class precision/recall/F1 and the confusion
// matrix on a LABEL<TAB>TEXT file; a multi-label classifier: per-label precision/recall/F1 and subset accuracy on a
// LABEL1,LABEL2<TAB>TEXT file (last line `accuracy=<x>`); a tagger: per-character accuracy on a TAGS<TAB>TEXT file (last line
// `accuracy=<x>`); a forecaster: RMSE and MAE of its forecasts over a CSV series beside the
// persistence forecast's, ending with `val_rmse=<x> naive_rmse=<y>`.
using System.CommandLine;
using System.Globalization;
using RnnFast.Datasets;
using RnnFast.Models;

namespace RnnFast.Cli;

internal static class EvalCommand
{
    /// <summary>Characters per window a language model is scored on (each window starts from a zero state).</summary>
    public const int Window = 256;

    private const int WindowBatch = 16;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "a model written by `rnnfast train` or `rnnfast classify`", Required = true };
        var data = new Option<string>("--data")
        {
            Description = "language model: a text file (characters outside its vocabulary are skipped and counted); " +
                          "classifier: LABEL<TAB>TEXT rows (characters it never saw are dropped, as predict does); " +
                          "multi-label classifier: LABEL1,LABEL2<TAB>TEXT rows (- for no label); " +
                          "tagger: TAGS<TAB>TEXT rows, one space-separated tag per character (unseen characters dropped with their tags); " +
                          "forecaster: a CSV with its input and target columns",
            Required = true,
        };
        var backend = BackendOption.Create();
        var threads = BackendOption.CreateThreads();
        var cmd = new Command("eval",
            "Score a model on a file: cross-entropy, bits per character and perplexity (language model), accuracy, " +
            "precision/recall/F1 and confusion matrix (classifier), per-character accuracy (tagger), RMSE/MAE against persistence (forecaster)")
        {
            model, data, backend, threads,
        };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(backend), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error,
            r.GetValue(threads)));
        return cmd;
    }

    /// <summary>Runs `rnnfast eval`; returns the exit code (2 with one line on <paramref name="err"/> for unusable input).</summary>
    public static int Run(string modelPath, string dataPath, string? backend, TextWriter o, TextWriter err, int? threads = null)
    {
        try
        {
            ModelInput.RequireFile("--data", dataPath);
            using var m = ModelInput.Load(modelPath, backend);
            RnnFast.Backends.BackendThreads.Apply(m.Backend, threads, "--threads");
            var report = new StringWriter(); // printed only once the whole evaluation has succeeded
            switch (m.Kind)
            {
                case NetworkKind.LanguageModel: LanguageModel(m, dataPath, report); break;
                case NetworkKind.Classifier: Classifier(m, dataPath, report); break;
                case NetworkKind.Tagger: Tagger(m, dataPath, report); break;
                case NetworkKind.MultiLabel: MultiLabel(m, dataPath, report); break;
                default: Forecaster(m, dataPath, report); break;
            }
            o.Write(report.ToString());
            o.Flush();
            return CliErrors.Ok;
        }
        catch (Exception e) when (CliErrors.IsUserError(e) || e is FormatException)
        {
            return CliErrors.Report(e, err);
        }
    }

    /// <summary>
    /// Mean cross-entropy of each next character given the ones before it in its window of <see cref="Window"/>
    /// characters (the first character of the text has no prediction); characters outside the vocabulary are skipped.
    /// </summary>
    private static void LanguageModel(RnnModel m, string path, TextWriter o)
    {
        string text = File.ReadAllText(path);
        long skipped = 0;
        var ids = TextClassification.KnownIds(m.Vocab, text, ref skipped);
        if (ids.Length < 2)
            throw new ArgumentException($"--data: {path} has {ids.Length} character(s) in the model's vocabulary; scoring needs at least 2");
        int V = m.Vocab.Count;
        // Window w reads ids[s .. s+len) and predicts ids[s+1 .. s+len]; consecutive windows share no predicted character.
        var starts = new List<(int Start, int Length)>();
        for (int s = 0; s < ids.Length - 1; s += Window) starts.Add((s, Math.Min(Window, ids.Length - 1 - s)));
        double nats = 0;
        long scored = 0;
        for (int b = 0; b < starts.Count; b += WindowBatch)
        {
            var chunk = starts.Skip(b).Take(WindowBatch).ToArray();
            int N = chunk.Length;
            var logits = m.Forward(chunk.Select(c => ids.AsSpan(c.Start, c.Length).ToArray()).ToArray()).ToArray(); // (T,N,V)
            for (int n = 0; n < N; n++)
                for (int t = 0; t < chunk[n].Length; t++)
                {
                    var row = logits.AsSpan((t * N + n) * V, V);
                    float max = float.NegativeInfinity;
                    foreach (var v in row) max = Math.Max(max, v);
                    double sum = 0;
                    foreach (var v in row) sum += Math.Exp(v - max);
                    nats += Math.Log(sum) + max - row[ids[chunk[n].Start + t + 1]];
                    scored++;
                }
        }
        double mean = nats / scored;
        o.WriteLine($"scored {scored} characters in {starts.Count} window(s) of up to {Window} (each from a zero state); " +
                    $"{skipped} character(s) outside the model's vocabulary of {V} skipped");
        o.WriteLine($"nats_per_char={mean.ToString("F4", Inv)}");
        o.WriteLine($"bits_per_char={(mean / Math.Log(2)).ToString("F4", Inv)}");
        o.WriteLine($"perplexity={Math.Exp(mean).ToString("F4", Inv)}");
    }

    /// <summary>Accuracy, per-class precision/recall/F1 and the confusion matrix, with predict's handling of unseen characters.</summary>
    private static void Classifier(RnnModel m, string path, TextWriter o)
    {
        IReadOnlyList<(string Label, string Text)> examples;
        try
        {
            examples = LabeledText.Read(path);
        }
        catch (FormatException e)
        {
            throw new FormatException($"--data: {e.Message}", e);
        }
        if (examples.Count == 0) throw new ArgumentException($"--data: {path} has no LABEL<TAB>TEXT rows");
        var labels = m.Labels;
        int C = labels.Count;
        var truth = new int[examples.Count];
        for (int i = 0; i < examples.Count; i++)
        {
            truth[i] = IndexOf(labels, examples[i].Label);
            if (truth[i] < 0)
                throw new ArgumentException($"--data: {path}: example {i + 1} has the label '{CliErrors.OneLine(examples[i].Label)}', " +
                                            $"which the model does not know (its labels: {string.Join(", ", labels)})");
        }
        var predictions = TextClassification.Classify(m, examples.Select(e => e.Text).ToArray(), out long dropped);
        var confusion = new int[C, C];
        int correct = 0;
        for (int i = 0; i < examples.Count; i++)
        {
            confusion[truth[i], predictions[i].ClassId]++;
            if (truth[i] == predictions[i].ClassId) correct++;
        }

        int w = Math.Max(10, labels.Max(l => l.Length) + 1);
        o.WriteLine($"{examples.Count} examples, {C} classes; {dropped} character(s) the model never saw dropped");
        o.WriteLine("confusion matrix (rows: true, columns: predicted):");
        o.Write(new string(' ', w));
        foreach (var l in labels) o.Write(l.PadLeft(w));
        o.WriteLine();
        for (int i = 0; i < C; i++)
        {
            o.Write(labels[i].PadLeft(w));
            for (int j = 0; j < C; j++) o.Write(confusion[i, j].ToString(Inv).PadLeft(w));
            o.WriteLine();
        }
        o.WriteLine($"{"class".PadLeft(w)}{"precision".PadLeft(w)}{"recall".PadLeft(w)}{"f1".PadLeft(w)}{"support".PadLeft(w)}");
        double macroF1 = 0;
        for (int c = 0; c < C; c++)
        {
            int tp = confusion[c, c], predicted = 0, actual = 0;
            for (int k = 0; k < C; k++) { predicted += confusion[k, c]; actual += confusion[c, k]; }
            // 0/0 (a class never predicted, or absent from the file) counts as 0, as scikit-learn reports it.
            double precision = predicted == 0 ? 0 : tp / (double)predicted, recall = actual == 0 ? 0 : tp / (double)actual;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            macroF1 += f1 / C;
            o.WriteLine($"{labels[c].PadLeft(w)}{precision.ToString("F4", Inv).PadLeft(w)}{recall.ToString("F4", Inv).PadLeft(w)}" +
                        $"{f1.ToString("F4", Inv).PadLeft(w)}{actual.ToString(Inv).PadLeft(w)}");
        }
        o.WriteLine($"macro_f1={macroF1.ToString("F4", Inv)}");
        o.WriteLine($"accuracy={(correct / (double)examples.Count).ToString("F4", Inv)}");
    }

    /// <summary>Per-character accuracy and cross-entropy of a tagger, with predict's handling of unseen characters.</summary>
    private static void Tagger(RnnModel m, string path, TextWriter o)
    {
        IReadOnlyList<RnnFast.Training.TaggedText> examples;
        try
        {
            examples = RnnFast.Training.TaggerTrainer.Read(path);
        }
        catch (FormatException e)
        {
            throw new FormatException($"--data: {e.Message}", e);
        }
        if (examples.Count == 0) throw new ArgumentException($"--data: {path} has no TAGS<TAB>TEXT rows");
        RnnFast.Training.TaggerEvaluation ev;
        try
        {
            ev = RnnFast.Training.TaggerTrainer.Evaluate(m, examples);
        }
        catch (ArgumentException e)
        {
            throw ModelInput.ForFlag("--data", e);
        }
        if (ev.Characters == 0) throw new ArgumentException($"--data: {path} has no character the model knows; nothing to score");
        o.WriteLine($"{ev.Sequences} examples, {ev.Characters} characters scored, {ev.Labels.Count} tags; {ev.Dropped} character(s) the model never saw dropped");
        o.WriteLine($"loss={ev.Loss.ToString("F4", Inv)}");
        o.WriteLine($"accuracy={ev.Accuracy.ToString("F4", Inv)}");
    }

    /// <summary>Per-label precision/recall/F1 and subset accuracy of a multi-label classifier on LABEL1,LABEL2&lt;TAB&gt;TEXT rows.</summary>
    private static void MultiLabel(RnnModel m, string path, TextWriter o)
    {
        IReadOnlyList<(string Label, string Text)> examples;
        try
        {
            examples = LabeledText.Read(path);
        }
        catch (FormatException e)
        {
            throw new FormatException($"--data: {e.Message}", e);
        }
        if (examples.Count == 0) throw new ArgumentException($"--data: {path} has no LABELS<TAB>TEXT rows");
        RnnFast.Training.MultiLabelEvaluation ev;
        try
        {
            ev = RnnFast.Training.MultiLabelTrainer.Evaluate(m, examples);
        }
        catch (ArgumentException e)
        {
            throw ModelInput.ForFlag("--data", e);
        }
        o.WriteLine($"{ev.Count} examples, {m.Labels.Count} labels (a label is predicted when its probability is above 0.5)");
        PrintMultiLabel(ev, o);
    }

    /// <summary>The per-label table, micro F1, loss and subset accuracy (last line `accuracy=`), shared with `rnnfast classify --multi-label`.</summary>
    public static void PrintMultiLabel(RnnFast.Training.MultiLabelEvaluation ev, TextWriter o)
    {
        int w = Math.Max(10, ev.PerLabel.Select(l => l.Label.Length).DefaultIfEmpty(0).Max() + 1);
        o.WriteLine($"{"label".PadLeft(w)}{"precision".PadLeft(w)}{"recall".PadLeft(w)}{"f1".PadLeft(w)}{"support".PadLeft(w)}");
        foreach (var l in ev.PerLabel)
            o.WriteLine($"{l.Label.PadLeft(w)}{l.Precision.ToString("F4", Inv).PadLeft(w)}{l.Recall.ToString("F4", Inv).PadLeft(w)}" +
                        $"{l.F1.ToString("F4", Inv).PadLeft(w)}{l.Support.ToString(Inv).PadLeft(w)}");
        o.WriteLine($"micro_f1={ev.MicroF1.ToString("F4", Inv)}");
        o.WriteLine($"loss={ev.Loss.ToString("F4", Inv)}");
        o.WriteLine($"accuracy={ev.SubsetAccuracy.ToString("F4", Inv)}");
    }

    private static int IndexOf(IReadOnlyList<string> labels, string label)
    {
        for (int i = 0; i < labels.Count; i++) if (string.Equals(labels[i], label, StringComparison.Ordinal)) return i;
        return -1;
    }

    /// <summary>Errors of the forecasts of every step from K on (each made K steps earlier) against persistence.</summary>
    private static void Forecaster(RnnModel m, string path, TextWriter o)
    {
        var s = ForecastInput.Read(m, path, timeColumn: null);
        var forecaster = new SeriesForecaster(m);
        int K = forecaster.Horizon, n = s.Levels.Length;
        if (n <= K) throw new ArgumentException($"--data: {path} has {n} data rows; forecasts {K} step(s) ahead need more than {K}");
        var forecasts = forecaster.Forecast(s.Inputs, s.Levels);
        var e = SeriesForecaster.Errors(forecasts, s.Levels, K, K);
        o.WriteLine($"{e.Count} forecasts of '{m.Config.TargetNames[0]}' {K} step(s) ahead (rows {K}..{n - 1} of {n}), against persistence");
        o.WriteLine($"val_mae={e.Mae.ToString("G6", Inv)} naive_mae={e.NaiveMae.ToString("G6", Inv)} ratio_rmse={e.Ratio.ToString("F3", Inv)}");
        o.WriteLine($"val_rmse={e.Rmse.ToString("G6", Inv)} naive_rmse={e.NaiveRmse.ToString("G6", Inv)}");
    }
}
