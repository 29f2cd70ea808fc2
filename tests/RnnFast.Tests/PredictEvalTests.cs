// `rnnfast predict` and `rnnfast eval` through CliApp.Run on small models trained here through the library: a
// classifier labels every input line in order (unseen characters and empty lines included), eval's accuracy agrees
// with predict's labels, a forecaster's CSV has one row per data row after its header, the metrics and last lines are
// printed, and unusable input exits with code 2 and one line naming the problem.
using System.Globalization;
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Datasets;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

/// <summary>A classifier, a forecaster (horizon 2) and a language model, trained once for the tests below.</summary>
public sealed class PredictEvalModels : IDisposable
{
    public string Dir { get; } = TestPaths.NewTempDir();
    public string Classifier { get; }
    public string Forecaster { get; }
    public string LanguageModel { get; }
    public const int Horizon = 2;

    public PredictEvalModels()
    {
        Classifier = Path.Combine(Dir, "cls.safetensors");
        Forecaster = Path.Combine(Dir, "fc.safetensors");
        LanguageModel = Path.Combine(Dir, "lm.safetensors");
        new ClassifierTrainer().Train(CaseExamples(240, 5), 0.2, new TrainOptions
        {
            Mode = RnnMode.Lstm, Layers = 1, Hidden = 16, Embed = 8, Batch = 16, Steps = 60, LearningRate = 1e-2, Seed = 1,
            EvalEvery = 0, Backend = "cpu", Out = Classifier,
        });
        var series = CsvSeries.Read(Nottem, ["value"]);
        new ForecastTrainer().Train(series, "nottem.csv", new ForecastOptions
        {
            Target = "value", Horizon = Horizon, SeqLen = 16, Hidden = 8, Layers = 1, Batch = 8, Steps = 20, LearningRate = 0.01,
            ValFraction = 0.2, Seed = 1, Backend = "cpu", Out = Forecaster,
        });
        new CharLmTrainer().Train(ProgramCorpus.Generate(6000, 7), "corpus", new TrainOptions
        {
            Mode = RnnMode.Lstm, Layers = 1, Hidden = 16, Embed = 8, SeqLen = 24, Batch = 4, Steps = 3, LearningRate = 1e-2, Seed = 3,
            EvalEvery = 0, CheckpointEvery = 0, SampleLength = 0, ValFraction = 0.1, Backend = "cpu", Out = LanguageModel,
        });
    }

    public static string Nottem => Path.Combine(TestPaths.RepoRoot, "data", "series", "nottem.csv");

    /// <summary>Texts of upper-case letters labelled `up`, of lower-case letters `low`.</summary>
    public static (string Label, string Text)[] CaseExamples(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            bool up = rng.Next(2) == 0;
            var chars = Enumerable.Range(0, rng.Next(3, 12)).Select(_ => (char)((up ? 'A' : 'a') + rng.Next(6))).ToArray();
            return (up ? "up" : "low", new string(chars));
        }).ToArray();
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

public sealed class PredictEvalTests(PredictEvalModels models) : IClassFixture<PredictEvalModels>
{
    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private string NewFile(string name, string contents)
    {
        string path = Path.Combine(models.Dir, Guid.NewGuid().ToString("N")[..8] + "-" + name);
        File.WriteAllText(path, contents);
        return path;
    }

    private static string[] Lines(string text) => text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');

    [Fact]
    public void Classifier_predict_writes_one_labelled_line_per_input_line_in_order()
    {
        // an empty line, unseen characters (Z, €, a tab) mixed in, and a line of unseen characters only
        string[] inputs = ["ABCDE", "", "abZcd€", "FEDCBA", "a\tb", "ZZ€", "fedcba", "BAD"];
        string data = NewFile("lines.txt", string.Join("\n", inputs) + "\n");
        var (code, stdout, err) = Cli("predict", "--model", models.Classifier, "--data", data, "--backend", "cpu");
        Assert.True(code == 0, err);
        var lines = Lines(stdout);
        Assert.Equal(inputs.Length, lines.Length);
        using var model = RnnModel.Load(models.Classifier, "cpu");
        for (int i = 0; i < inputs.Length; i++)
        {
            var parts = lines[i].Split('\t');
            Assert.Equal(2, parts.Length);
            Assert.Contains(parts[0], model.Labels);
            Assert.Matches(@"^\d\.\d{4}$", parts[1]);
            double p = double.Parse(parts[1], CultureInfo.InvariantCulture);
            Assert.InRange(p, 0, 1);
        }
        // lines the model fully knows are labelled as RnnModel.Classify labels them; unseen characters are dropped
        Assert.Equal(model.Classify("ABCDE").Label, lines[0].Split('\t')[0]);
        Assert.Equal(model.Classify("FEDCBA").Label, lines[3].Split('\t')[0]);
        Assert.Equal(model.Classify("abcd").Label, lines[2].Split('\t')[0]);
        Assert.Equal(model.Classify("ab").Label, lines[4].Split('\t')[0]);
        // a line with no known character gets the same uninformed guess as an empty line
        Assert.Equal(lines[1], lines[5]);

        // --out: the same text in the file, nothing on stdout, no temporary file left behind
        string outPath = Path.Combine(models.Dir, "predictions-" + Guid.NewGuid().ToString("N")[..8] + ".tsv");
        var (code2, stdout2, err2) = Cli("predict", "--model", models.Classifier, "--data", data, "--out", outPath, "--backend", "cpu");
        Assert.True(code2 == 0, err2);
        Assert.Equal("", stdout2);
        Assert.Equal(stdout.Replace("\r\n", "\n"), File.ReadAllText(outPath));
        Assert.Empty(Directory.GetFiles(models.Dir, "*.tmp"));
    }

    [Fact]
    public void Classifier_eval_accuracy_equals_the_fraction_of_matching_predict_labels()
    {
        var examples = PredictEvalModels.CaseExamples(50, 99).Select((e, i) => i % 7 == 3 ? (Label: e.Label, Text: e.Text + "Z€") : e).ToArray();
        string labelled = NewFile("test.tsv", string.Concat(examples.Select(e => $"{e.Label}\t{e.Text}\n")));
        string texts = NewFile("test.txt", string.Concat(examples.Select(e => e.Text + "\n")));

        var (code, stdout, err) = Cli("eval", "--model", models.Classifier, "--data", labelled, "--backend", "cpu");
        Assert.True(code == 0, err);
        var evalLines = Lines(stdout);
        Assert.StartsWith("accuracy=", evalLines[^1]);
        Assert.Contains("confusion matrix (rows: true, columns: predicted):", stdout);
        Assert.Contains("precision", stdout);
        Assert.Contains("recall", stdout);
        Assert.Contains(evalLines, l => l.StartsWith("macro_f1=", StringComparison.Ordinal));
        Assert.Contains("14 character(s) the model never saw dropped", stdout); // 7 texts with Z and €

        var (pcode, pout, perr) = Cli("predict", "--model", models.Classifier, "--data", texts, "--backend", "cpu");
        Assert.True(pcode == 0, perr);
        var labels = Lines(pout).Select(l => l.Split('\t')[0]).ToArray();
        Assert.Equal(examples.Length, labels.Length);
        double fraction = examples.Zip(labels).Count(p => p.First.Label == p.Second) / (double)examples.Length;
        Assert.Equal($"accuracy={fraction.ToString("F4", CultureInfo.InvariantCulture)}", evalLines[^1]);

        // per-class rows: support adds up to the number of examples
        int support = evalLines.Where(l => l.TrimStart().StartsWith("up ", StringComparison.Ordinal) || l.TrimStart().StartsWith("low ", StringComparison.Ordinal))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 5)
            .Sum(f => int.Parse(f[4], CultureInfo.InvariantCulture));
        Assert.Equal(examples.Length, support);
    }

    [Fact]
    public void Forecaster_predict_writes_a_csv_with_a_header_and_one_row_per_data_row()
    {
        var series = CsvSeries.Read(PredictEvalModels.Nottem, ["value"], "time");
        int n = series.Length;
        string outPath = Path.Combine(models.Dir, "forecast-" + Guid.NewGuid().ToString("N")[..8] + ".csv");
        string plot = Path.Combine(models.Dir, "forecast-" + Guid.NewGuid().ToString("N")[..8] + ".svg");
        var (code, stdout, err) = Cli("predict", "--model", models.Forecaster, "--data", PredictEvalModels.Nottem, "--time-column", "time",
            "--out", outPath, "--plot", plot, "--backend", "cpu");
        Assert.True(code == 0, err);
        Assert.Equal("", stdout);
        var lines = Lines(File.ReadAllText(outPath));
        Assert.Equal(n + 1, lines.Length);
        Assert.Equal("time,actual,forecast", lines[0]);
        var levels = series.Column("value");
        using var model = RnnModel.Load(models.Forecaster, "cpu");
        var forecasts = new SeriesForecaster(model).Forecast([levels], levels);
        for (int t = 0; t < n; t++)
        {
            var f = lines[t + 1].Split(',');
            Assert.Equal(3, f.Length);
            Assert.Equal(series.Times![t], f[0]);
            Assert.Equal(levels[t], double.Parse(f[1], CultureInfo.InvariantCulture));
            if (t < PredictEvalModels.Horizon) Assert.Equal("", f[2]);
            else Assert.Equal(forecasts[t - PredictEvalModels.Horizon], double.Parse(f[2], CultureInfo.InvariantCulture), 1e-4 * Math.Max(1, Math.Abs(forecasts[t - PredictEvalModels.Horizon])));
        }
        Assert.StartsWith("<svg", File.ReadAllText(plot).TrimStart().Split('\n').First(l => l.StartsWith("<svg", StringComparison.Ordinal)));

        // without --time-column the first column is the row index; to stdout
        var (code2, stdout2, err2) = Cli("predict", "--model", models.Forecaster, "--data", PredictEvalModels.Nottem, "--backend", "cpu");
        Assert.True(code2 == 0, err2);
        var rows = Lines(stdout2);
        Assert.Equal(n + 1, rows.Length);
        Assert.StartsWith("0,", rows[1]);
        Assert.StartsWith($"{n - 1},", rows[^1]);
    }

    [Fact]
    public void Forecaster_eval_prints_the_errors_and_ends_with_val_rmse_and_naive_rmse()
    {
        var (code, stdout, err) = Cli("eval", "--model", models.Forecaster, "--data", PredictEvalModels.Nottem, "--backend", "cpu");
        Assert.True(code == 0, err);
        var lines = Lines(stdout);
        Assert.Matches(@"^val_rmse=[0-9.Ee+-]+ naive_rmse=[0-9.Ee+-]+$", lines[^1]);
        Assert.Matches(@"^val_mae=[0-9.Ee+-]+ naive_mae=[0-9.Ee+-]+ ratio_rmse=[0-9.]+$", lines[^2]);
        // persistence K steps ahead over the whole series, computed here
        var y = CsvSeries.Read(PredictEvalModels.Nottem, ["value"]).Column("value");
        int K = PredictEvalModels.Horizon;
        double naive = Math.Sqrt(Enumerable.Range(K, y.Length - K).Average(t => (y[t] - y[t - K]) * (y[t] - y[t - K])));
        Assert.EndsWith($"naive_rmse={naive.ToString("G6", CultureInfo.InvariantCulture)}", lines[^1]);
        Assert.Contains($"{y.Length - K} forecasts", lines[0]);
    }

    [Fact]
    public void Language_model_eval_prints_cross_entropy_bits_per_character_and_perplexity()
    {
        string text = ProgramCorpus.Generate(6000, 7)[..1500] + "\u00e9\u00e9\u20ac"; // three characters outside the vocabulary
        string data = NewFile("text.txt", text);
        var (code, stdout, err) = Cli("eval", "--model", models.LanguageModel, "--data", data, "--backend", "cpu");
        Assert.True(code == 0, err);
        var values = Lines(stdout).Where(l => l.Contains('=')).ToDictionary(l => l.Split('=')[0], l => double.Parse(l.Split('=')[1], CultureInfo.InvariantCulture));
        double nats = values["nats_per_char"], bits = values["bits_per_char"], ppl = values["perplexity"];
        Assert.InRange(nats, 0.01, 10);
        Assert.Equal(nats / Math.Log(2), bits, 3);
        Assert.Equal(Math.Exp(nats), ppl, 0.01 * ppl);
        Assert.Contains("3 character(s) outside the model's vocabulary", stdout);
        Assert.StartsWith("perplexity=", Lines(stdout)[^1]);
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "predict --model {cls} --data {dir}/missing.txt", "--data: " },
        { "eval --model {dir}/missing.safetensors --data {nottem}", "--model: " },
        { "predict --model {lm} --data {nottem}", "rnnfast sample" },
        { "predict --model {fc} --data {nocolumn}", "--data: " },
        { "eval --model {fc} --data {nocolumn}", "no column 'value'" },
        { "predict --model {fc} --data {nottem} --time-column when", "--time-column: " },
        { "eval --model {cls} --data {badlabel}", "example 2 has the label 'sideways'" },
        { "predict --model {cls} --data {nottem} --time-column time", "--time-column: only for a forecaster" },
        { "predict --model {cls} --data {nottem} --out {dir}/no/such/folder/out.txt", "--out: " },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_exits_with_code_2_and_one_line(string commandLine, string expected)
    {
        string noColumn = NewFile("nocolumn.csv", "time,other\n1,2\n2,3\n3,4\n");
        string badLabel = NewFile("badlabel.tsv", "up\tABC\nsideways\tabc\n");
        var args = commandLine.Split(' ').Select(a => a
            .Replace("{cls}", models.Classifier).Replace("{fc}", models.Forecaster).Replace("{lm}", models.LanguageModel)
            .Replace("{dir}", models.Dir).Replace("{nottem}", PredictEvalModels.Nottem)
            .Replace("{nocolumn}", noColumn).Replace("{badlabel}", badLabel)).Append("--backend").Append("cpu").ToArray();
        var (code, stdout, err) = Cli(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var lines = err.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }
}
