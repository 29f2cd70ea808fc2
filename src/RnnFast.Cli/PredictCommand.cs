// `rnnfast predict --model M --data FILE`: applies a trained model to new data. A classifier labels each line of a
// text file (`LABEL<TAB>PROBABILITY`, one output line per input line, in order); a multi-label classifier writes, per
// input line, the comma-separated labels whose probability is above 0.5 (an empty line when none); a tagger writes, per input line, one
// line of space-separated tags, one per character it kept (unseen characters are dropped); a forecaster writes the CSV
// `time,actual,forecast` for a series (and optionally an SVG chart of it). A language model is refused (`rnnfast
// sample` generates text). Also the helpers `rnnfast eval` shares: how texts with characters the model never saw are
// classified, how a forecaster's columns are read, and how --out is written (a temporary file, then renamed).
using System.CommandLine;
using System.Globalization;
using System.Text;
using RnnFast.Charts;
using RnnFast.Datasets;
using RnnFast.Models;

namespace RnnFast.Cli;

internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model")
        {
            Description = "a classifier, tagger or forecaster written by `rnnfast classify` / `rnnfast train --task tag` / `rnnfast train --task forecast`",
            Required = true,
        };
        var data = new Option<string>("--data")
        {
            Description = "classifier: a text file, one input per line, taken literally (characters the model never saw are dropped; " +
                          "a line left with no known character, an empty line included, gets the model's uninformed guess); " +
                          "tagger: a text file, one input per line (unseen characters dropped: one tag per kept character); " +
                          "forecaster: a CSV with the model's input and target columns",
            Required = true,
        };
        var output = new Option<string?>("--out") { Description = "write the predictions to this file (written whole, then renamed) instead of stdout" };
        var timeColumn = new Option<string?>("--time-column") { Description = "forecaster: the CSV column that labels each row (default: the row index, 0 = the first data row)" };
        var plot = new Option<string?>("--plot") { Description = "forecaster: also draw the actual series and the forecasts as an SVG chart" };
        var backend = BackendOption.Create();
        var threads = BackendOption.CreateThreads();
        var cmd = new Command("predict",
            "Label each line of a text file with a classifier (LABEL<TAB>PROBABILITY, one line per input line) or a tagger " +
            "(space-separated tags, one per character), " +
            "or forecast a CSV series with a forecaster (time,actual,forecast)")
        {
            model, data, output, timeColumn, plot, backend, threads,
        };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(output), r.GetValue(timeColumn), r.GetValue(plot),
            r.GetValue(backend), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, r.GetValue(threads)));
        return cmd;
    }

    /// <summary>Runs `rnnfast predict`; returns the exit code (2 with one line on <paramref name="err"/> for unusable input).</summary>
    public static int Run(string modelPath, string dataPath, string? outPath, string? timeColumn, string? plotPath, string? backend, TextWriter o, TextWriter err,
        int? threads = null)
    {
        try
        {
            ModelInput.RequireFile("--data", dataPath);
            if (outPath != null) ModelInput.RequireWritable("--out", outPath);
            if (plotPath != null) ModelInput.RequireWritable("--plot", plotPath);
            using var m = ModelInput.Load(modelPath, backend);
            RnnFast.Backends.BackendThreads.Apply(m.Backend, threads, "--threads");
            switch (m.Kind)
            {
                case NetworkKind.Classifier:
                    if (timeColumn != null) throw new ArgumentException($"--time-column: only for a forecaster; {modelPath} is a classifier");
                    if (plotPath != null) throw new ArgumentException($"--plot: only for a forecaster; {modelPath} is a classifier");
                    var lines = ModelInput.ReadLines(dataPath);
                    var predictions = TextClassification.Classify(m, lines);
                    ModelInput.WriteOutput(outPath, o, w =>
                    {
                        foreach (var p in predictions)
                            w.Write($"{m.Labels[p.ClassId]}\t{p.Probability.ToString("F4", CultureInfo.InvariantCulture)}\n");
                    });
                    return CliErrors.Ok;
                case NetworkKind.MultiLabel:
                    if (timeColumn != null) throw new ArgumentException($"--time-column: only for a forecaster; {modelPath} is a multi-label classifier");
                    if (plotPath != null) throw new ArgumentException($"--plot: only for a forecaster; {modelPath} is a multi-label classifier");
                    var inputs = ModelInput.ReadLines(dataPath);
                    var probs = RnnFast.Training.MultiLabelTrainer.Predict(m, inputs);
                    ModelInput.WriteOutput(outPath, o, w =>
                    {
                        foreach (var p in probs)
                            w.Write(string.Join(',', Enumerable.Range(0, p.Length).Where(c => p[c] > 0.5f).Select(c => m.Labels[c])) + "\n");
                    });
                    return CliErrors.Ok;
                case NetworkKind.Tagger:
                    if (timeColumn != null) throw new ArgumentException($"--time-column: only for a forecaster; {modelPath} is a tagger");
                    if (plotPath != null) throw new ArgumentException($"--plot: only for a forecaster; {modelPath} is a tagger");
                    var texts = ModelInput.ReadLines(dataPath);
                    var tagged = new List<IReadOnlyList<TagPrediction>>(texts.Count);
                    for (int b = 0; b < texts.Count; b += 64)
                        tagged.AddRange(m.Tag(texts.GetRange(b, Math.Min(64, texts.Count - b)), skipUnknown: true));
                    ModelInput.WriteOutput(outPath, o, w =>
                    {
                        foreach (var line in tagged) w.Write(string.Join(' ', line.Select(t => t.Label)) + "\n");
                    });
                    return CliErrors.Ok;
                case NetworkKind.Forecaster:
                    var s = ForecastInput.Read(m, dataPath, timeColumn);
                    var forecasts = new SeriesForecaster(m).Forecast(s.Inputs, s.Levels);
                    int K = new SeriesForecaster(m).Horizon;
                    ModelInput.WriteOutput(outPath, o, w => WriteForecastCsv(w, s, forecasts, K));
                    if (plotPath != null) Plot(plotPath, m, s, forecasts, K);
                    return CliErrors.Ok;
                default:
                    throw new ArgumentException($"--model: {modelPath} is a language model, which predict cannot apply to a file; " +
                                                "use `rnnfast sample` to generate text from it (or `rnnfast eval` to score a text)");
            }
        }
        catch (Exception e) when (CliErrors.IsUserError(e) || e is FormatException)
        {
            return CliErrors.Report(e, err);
        }
    }

    /// <summary>`time,actual,forecast`: row t holds the time, the target at t and the forecast of t made K steps earlier.</summary>
    private static void WriteForecastCsv(TextWriter w, ForecastInput s, double[] forecasts, int horizon)
    {
        var inv = CultureInfo.InvariantCulture;
        w.Write("time,actual,forecast\n");
        for (int t = 0; t < s.Levels.Length; t++)
        {
            string time = s.Times?[t] ?? t.ToString(inv);
            string forecast = t >= horizon ? forecasts[t - horizon].ToString("G7", inv) : "";
            w.Write($"{ModelInput.CsvField(time)},{s.Levels[t].ToString("R", inv)},{forecast}\n");
        }
    }

    /// <summary>The actual series and the forecasts on one chart; x is the time column when every cell is a number, else the row index.</summary>
    private static void Plot(string path, RnnModel m, ForecastInput s, double[] forecasts, int horizon)
    {
        int n = s.Levels.Length;
        var x = new double[n];
        bool numericTime = s.Times != null && s.Times.All(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        for (int t = 0; t < n; t++) x[t] = numericTime ? double.Parse(s.Times![t], NumberStyles.Float, CultureInfo.InvariantCulture) : t;
        string target = m.Config.TargetNames[0];
        var chart = new LineChart
        {
            Title = $"{target}: forecasts {horizon} step(s) ahead",
            XLabel = numericTime ? s.TimeColumn! : "row",
            YLabel = target,
        };
        chart.Series.Add(new ChartSeries("actual", Enumerable.Range(0, n).Select(t => (x[t], s.Levels[t])).ToArray()));
        chart.Series.Add(new ChartSeries("forecast", Enumerable.Range(horizon, Math.Max(0, n - horizon)).Select(t => (x[t], forecasts[t - horizon])).ToArray()));
        chart.Save(path);
    }
}

/// <summary>Checks and reading shared by `rnnfast predict` and `rnnfast eval`.</summary>
internal static class ModelInput
{
    /// <summary>The model at <paramref name="path"/> on <paramref name="backend"/>; a missing file names --model.</summary>
    public static RnnModel Load(string path, string? backend)
    {
        RequireFile("--model", path);
        return RnnModel.Load(path, backend);
    }

    public static void RequireFile(string flag, string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{flag}: a file name is required");
        InputFiles.RequireRegular(flag, path);
    }

    /// <summary>An output file's folder must exist (checked before any work is done).</summary>
    public static void RequireWritable(string flag, string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{flag}: a file name is required");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ArgumentException($"{flag}: {path} is a directory, not a file");
        string? dir = Path.GetDirectoryName(full);
        if (dir != null && !Directory.Exists(dir)) throw new ArgumentException($"{flag}: the folder {dir} does not exist");
    }

    /// <summary>The lines of a UTF-8 text file (LF or CRLF; a final line break does not start another line).</summary>
    public static List<string> ReadLines(string path)
    {
        var lines = new List<string>();
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines;
    }

    /// <summary>
    /// Writes to <paramref name="stdout"/>, or with <paramref name="outPath"/> to a temporary file beside it that is
    /// renamed over it once complete (a failed run leaves no partial file).
    /// </summary>
    public static void WriteOutput(string? outPath, TextWriter stdout, Action<TextWriter> write)
    {
        if (outPath == null)
        {
            write(stdout);
            stdout.Flush();
            return;
        }
        string full = Path.GetFullPath(outPath);
        string tmp = Path.Combine(Path.GetDirectoryName(full) ?? ".", "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            using (var file = new StreamWriter(tmp, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
                write(file);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>A CSV field, quoted (inner quotes doubled) when it holds a comma, a quote or a line break.</summary>
    public static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    /// <summary>A library message that starts with its own parameter name (`columns: ...`) restated for <paramref name="flag"/>.</summary>
    public static ArgumentException ForFlag(string flag, ArgumentException e)
    {
        string msg = CliErrors.OneLine(e);
        int colon = msg.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && !msg[..colon].Contains(' ')) msg = msg[(colon + 2)..];
        return new ArgumentException($"{flag}: {msg}", e);
    }
}

/// <summary>One classified text: the class, its probability and every class's probability.</summary>
internal sealed record TextPrediction(int ClassId, float Probability, float[] Probabilities);

/// <summary>
/// Classifies texts that may hold characters the model never saw. Such characters are dropped (the model has no
/// embedding for them, and inventing one, e.g. a space, would feed it a character that is not there). A text left
/// with no known character (an empty line, say) gets the model's uninformed guess: the class probabilities averaged
/// over every one-character input of its vocabulary, so that every input still gets a label.
/// </summary>
internal static class TextClassification
{
    private const int Batch = 64;

    /// <summary>The known characters of <paramref name="text"/> as ids; <paramref name="dropped"/> counts the others.</summary>
    public static int[] KnownIds(CharVocab vocab, string text, ref long dropped)
    {
        var ids = new List<int>(text.Length);
        foreach (var r in text.EnumerateRunes())
        {
            if (vocab.TryGetId(r, out int id)) ids.Add(id);
            else dropped++;
        }
        return ids.ToArray();
    }

    public static IReadOnlyList<TextPrediction> Classify(RnnModel m, IReadOnlyList<string> texts) => Classify(m, texts, out _);

    /// <summary>One prediction per text, in order (batches of 64 through <see cref="RnnModel.Forward(IReadOnlyList{int[]})"/>).</summary>
    public static IReadOnlyList<TextPrediction> Classify(RnnModel m, IReadOnlyList<string> texts, out long droppedCharacters)
    {
        long dropped = 0;
        var ids = texts.Select(t => KnownIds(m.Vocab, t, ref dropped)).ToArray();
        droppedCharacters = dropped;
        var result = new TextPrediction[texts.Count];
        TextPrediction? prior = null;
        var known = Enumerable.Range(0, ids.Length).Where(i => ids[i].Length > 0).ToArray();
        for (int b = 0; b < known.Length; b += Batch)
        {
            var chunk = known.AsSpan(b, Math.Min(Batch, known.Length - b)).ToArray();
            var probs = Probabilities(m, chunk.Select(i => ids[i]).ToArray());
            for (int j = 0; j < chunk.Length; j++) result[chunk[j]] = Best(probs[j]);
        }
        for (int i = 0; i < result.Length; i++)
            result[i] ??= prior ??= Prior(m);
        return result;
    }

    /// <summary>The class probabilities averaged over every one-character input of the vocabulary.</summary>
    private static TextPrediction Prior(RnnModel m)
    {
        var mean = new float[m.OutputSize];
        int V = m.Vocab.Count;
        for (int b = 0; b < V; b += Batch)
        {
            var seqs = Enumerable.Range(b, Math.Min(Batch, V - b)).Select(v => new[] { v }).ToArray();
            foreach (var p in Probabilities(m, seqs))
                for (int c = 0; c < mean.Length; c++) mean[c] += p[c] / V;
        }
        return Best(mean);
    }

    private static TextPrediction Best(float[] p)
    {
        int best = 0;
        for (int c = 1; c < p.Length; c++) if (p[c] > p[best]) best = c;
        return new TextPrediction(best, p[best], p);
    }

    /// <summary>Softmax of the class logits of each (non-empty) id sequence.</summary>
    private static float[][] Probabilities(RnnModel m, int[][] seqs)
    {
        var logits = m.Forward(seqs).ToArray();                            // (N,C)
        int C = m.OutputSize;
        var result = new float[seqs.Length][];
        for (int n = 0; n < seqs.Length; n++)
        {
            var row = logits.AsSpan(n * C, C);
            float max = float.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            var p = new double[C];
            for (int c = 0; c < C; c++) sum += p[c] = Math.Exp(row[c] - max);
            result[n] = p.Select(v => (float)(v / sum)).ToArray();
        }
        return result;
    }
}

/// <summary>A forecaster's columns read from a CSV: its inputs (in the model's order), the target's levels, the times.</summary>
internal sealed record ForecastInput(double[][] Inputs, double[] Levels, IReadOnlyList<string>? Times, string? TimeColumn)
{
    /// <summary>
    /// Reads the model's input columns and target from <paramref name="path"/>; a column the file lacks names --data
    /// (and the columns it has), a missing time column names --time-column.
    /// </summary>
    public static ForecastInput Read(RnnModel m, string path, string? timeColumn)
    {
        var cfg = m.Config;
        string target = cfg.TargetNames[0];
        var columns = cfg.FeatureNames.Append(target).Distinct().ToArray();
        CsvSeries series;
        try
        {
            series = CsvSeries.Read(path, columns, timeColumn);
        }
        catch (ArgumentException e)
        {
            throw ModelInput.ForFlag(e.ParamName == "timeColumn" ? "--time-column" : "--data", e);
        }
        catch (FormatException e)
        {
            throw new FormatException($"--data: {e.Message}", e);
        }
        int n = series.Length;
        if (n < 2) throw new ArgumentException($"--data: {path} has {n} data row(s); a forecast needs at least 2");
        return new ForecastInput(cfg.FeatureNames.Select(series.Column).ToArray(), series.Column(target), series.Times, timeColumn);
    }
}
