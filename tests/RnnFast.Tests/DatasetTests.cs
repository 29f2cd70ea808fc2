// Tests of the dataset readers (RnnFast.Datasets): CsvSeries' RFC 4180 quoting, missing values, interpolation and
// counts, and its messages for bad cells and unknown columns; SeriesPreparation's differencing, z-scoring, windows
// and inverse transforms against hand-computed values; LabeledText's TSV round trip and compatibility with the
// earlier line-based format; and the committed real series under data/series.
using System.Text;
using RnnFast.Datasets;
using Xunit;

namespace RnnFast.Tests;

public class DatasetTests
{
    private static CsvSeries Csv(string text, string[] columns, string? time = null) =>
        CsvSeries.Read(new StringReader(text), columns, time, "test.csv");

    // ---------------------------------------------------------------- CsvSeries: quoting

    [Fact]
    public void Csv_QuotedFieldsWithCommasQuotesAndNewlines_AreOneCell()
    {
        string text = "date,\"note, with comma\",value\r\n" +
                      "\"2020-01\",\"a, b\",1.5\r\n" +
                      "2020-02,\"he said \"\"hi\"\"\nand left\",\"2.5\"\n" +
                      "2020-03,plain,-3e-1\n";
        var s = Csv(text, ["value"], time: "date");
        Assert.Equal(3, s.Length);
        Assert.Equal([1.5, 2.5, -0.3], s.Column("value"));
        Assert.Equal(["2020-01", "2020-02", "2020-03"], s.Times!);
        Assert.Equal(["date", "note, with comma", "value"], s.AvailableColumns);
        // The quoted header name with a comma can itself be selected (as text it is not a number, so as the time column).
        var byNote = Csv(text, ["value"], time: "note, with comma");
        Assert.Equal("he said \"hi\"\nand left", byNote.Times![1]);
    }

    [Fact]
    public void Csv_SelectsColumnsInTheOrderAsked_AndIgnoresOthers()
    {
        var s = Csv("a,b,c\n1,x,3\n4,y,6\n", ["c", "a"]);
        Assert.Equal(["c", "a"], s.Columns);
        Assert.Equal([3.0, 6.0], s.Column(0));
        Assert.Equal([1.0, 4.0], s.Column("a"));
        Assert.Null(s.Times);
    }

    [Fact]
    public void Csv_NumbersAreCultureInvariant()
    {
        Assert.Equal([1.25, -2000.0, 0.5], Csv("v\n1.25\n-2e3\n .5 \n", ["v"]).Column("v"));
        // A decimal comma (quoted so that it is one cell) is not a number, whatever the current culture.
        var e = Assert.Throws<FormatException>(() => Csv("v\n1.25\n\"1,5\"\n", ["v"]));
        Assert.Contains("row 2 (line 3), column 'v': '1,5' is not a finite number", e.Message);
    }

    // ---------------------------------------------------------------- CsvSeries: missing values

    [Fact]
    public void Csv_MissingValuesAreInterpolatedLinearly_AndCounted()
    {
        // a: a gap of two between 1 and 4 -> 2, 3; missing at both ends -> the nearest present value.
        // b: markers in every spelling, one interior gap.
        string text = "t,a,b\n" +
                      "0,,10\n" +
                      "1,1,NA\n" +
                      "2,NaN,30\n" +
                      "3,null,nan\n" +
                      "4,4, NULL \n" +
                      "5,\"\",60\n";
        var s = Csv(text, ["a", "b"]);
        Assert.Equal([1.0, 1.0, 2.0, 3.0, 4.0, 4.0], s.Column("a"));
        Assert.Equal([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], s.Column("b"));
        Assert.Equal(4, s.FilledCounts["a"]);
        Assert.Equal(3, s.FilledCounts["b"]);
    }

    [Fact]
    public void FillMissing_MatchesTheReferenceFormula()
    {
        double[] v = [double.NaN, 2, double.NaN, double.NaN, double.NaN, 10, double.NaN];
        Assert.Equal(5, CsvSeries.FillMissing(v));
        // v[a] + (v[b]-v[a]) (i-a)/(b-a) with a=1, b=5: 4, 6, 8
        Assert.Equal([2.0, 2, 4, 6, 8, 10, 10], v);
        double[] none = [double.NaN, double.NaN];
        Assert.Equal(2, CsvSeries.FillMissing(none));
        Assert.True(double.IsNaN(none[0]));
    }

    [Fact]
    public void Csv_ColumnWithNoValues_IsAnError()
    {
        var e = Assert.Throws<FormatException>(() => Csv("t,v\n1,NA\n2,\n", ["v"]));
        Assert.Contains("test.csv", e.Message);
        Assert.Contains("'v' has no values", e.Message);
    }

    // ---------------------------------------------------------------- CsvSeries: errors

    [Fact]
    public void Csv_BadCell_NamesSourceRowLineColumnAndText()
    {
        string text = "t,\"x\",y\n1,2,3\n\"2\nmore\",4,4\n3,5,oops\n";
        var e = Assert.Throws<FormatException>(() => Csv(text, ["x", "y"]));
        // Row 3 of the data starts on line 5: the quoted time cell of row 2 spans lines 3-4.
        Assert.Contains("test.csv: row 3 (line 5), column 'y': 'oops' is not a finite number", e.Message);
        Assert.DoesNotContain("\n", e.Message);

        var e2 = Assert.Throws<FormatException>(() => Csv("v\n1\nInfinity\n", ["v"]));
        Assert.Contains("row 2 (line 3), column 'v': 'Infinity'", e2.Message);

        var e3 = Assert.Throws<FormatException>(() => Csv("v\n1\n1,000\n", ["v"]));
        Assert.Contains("row 2 (line 3): 2 fields, but the header has 1", e3.Message);
    }

    [Fact]
    public void Csv_UnknownColumn_ListsTheAvailableOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Csv("time,DAX,SMI\n1,2,3\n", ["DAX", "FTSE"]));
        Assert.Equal("columns", e.ParamName);
        Assert.Contains("test.csv has no column 'FTSE'; its columns are: 'time', 'DAX', 'SMI'", e.Message);
        var t = Assert.Throws<ArgumentException>(() => Csv("time,DAX\n1,2\n", ["DAX"], time: "date"));
        Assert.Equal("timeColumn", t.ParamName);
        Assert.Contains("no column 'date'", t.Message);
    }

    [Fact]
    public void Csv_MalformedInput_IsNamed()
    {
        Assert.Contains("never closed", Assert.Throws<FormatException>(() => Csv("v\n1\n\"2\n3\n", ["v"])).Message);
        Assert.Contains("no data rows", Assert.Throws<FormatException>(() => Csv("v\n", ["v"])).Message);
        Assert.Contains("no header", Assert.Throws<FormatException>(() => Csv("", ["v"])).Message);
        Assert.Contains("named twice", Assert.Throws<ArgumentException>(() => Csv("v\n1\n", ["v", "v"])).Message);
        Assert.Throws<FileNotFoundException>(() => CsvSeries.Read("/nonexistent/x.csv", ["v"]));
    }

    // ---------------------------------------------------------------- SeriesPreparation

    [Fact]
    public void Preparation_ZScoresWithTheTrainingPartOnly_SampleStd()
    {
        // n = 6, valFraction 0.5 -> train = 3 rows: y = 1, 2, 3 -> mean 2, sample std 1. x = 2, 4, 6 -> mean 4, std 2.
        double[] y = [1, 2, 3, 100, 200, 300];
        double[] x = [2, 4, 6, 8, 10, 12];
        var p = new SeriesPreparation([x], y, valFraction: 0.5);
        Assert.Equal(3, p.TrainLength);
        Assert.Equal(2f, p.Normalization.TargetMean);
        Assert.Equal(1f, p.Normalization.TargetStd);
        Assert.Equal([4f], p.Normalization.Mean);
        Assert.Equal([2f], p.Normalization.Std);
        Assert.Equal([-1f, 0, 1, 98, 198, 298], p.Target.ToArray());
        Assert.Equal([-1f, 0, 1, 2, 3, 4], p.Inputs.ToArray());
        Assert.False(p.Normalization.Differenced);
        // int(n * (1 - valFraction)) as the recipe: 10 rows at 0.2 -> 8; 7 rows at 0.2 -> int(5.6) = 5.
        Assert.Equal(8, new SeriesPreparation([Ramp(10)], Ramp(10)).TrainLength);
        Assert.Equal(5, new SeriesPreparation([Ramp(7)], Ramp(7)).TrainLength);
    }

    [Fact]
    public void Preparation_Differencing_MatchesTheRecipe()
    {
        // y = 1, 3, 6, 10, 15 -> changes 0, 2, 3, 4, 5; train = int(5 * 0.8) = 4 rows: 0, 2, 3, 4 -> mean 2.25,
        // sample var = (5.0625 + 0.0625 + 0.5625 + 3.0625) / 3 = 2.916666..., std = 1.707825...
        double[] y = [1, 3, 6, 10, 15];
        var p = new SeriesPreparation([y], y, valFraction: 0.2, difference: true);
        Assert.True(p.Differenced);
        double std = Math.Sqrt(8.75 / 3);
        Assert.Equal(2.25f, p.Normalization.TargetMean);
        Assert.Equal((float)std, p.Normalization.TargetStd, 6);
        double[] changes = [0, 2, 3, 4, 5];
        for (int t = 0; t < 5; t++)
        {
            Assert.Equal((changes[t] - 2.25) / std, p.Target[t], 1e-5);
            Assert.Equal((changes[t] - 2.25) / std, p.Inputs[t], 1e-5);
        }
        Assert.Equal(y, p.Levels);
        Assert.Equal([0.0, 2, 3, 4, 5], SeriesPreparation.Difference(y));
        // A forecast made at t is the level at t plus the predicted change: predicting the true change gives y[t+1].
        for (int t = 0; t < 4; t++) Assert.Equal(y[t + 1], p.ForecastLevel(t, p.Target[t + 1]), 4);
        // Two steps ahead from t = 1: 3 + 3 + 4 = 10.
        Assert.Equal(10, p.ForecastLevel(1, [p.Target[2], p.Target[3]]), 4);
    }

    [Fact]
    public void Preparation_InverseWithoutDifferencing_IsTheLevel()
    {
        double[] y = [5, 7, 9, 11, 13, 15, 17, 19, 21, 23];
        var p = new SeriesPreparation([y], y);
        for (int t = 0; t < 9; t++) Assert.Equal(y[t + 1], p.ForecastLevel(t, p.Target[t + 1]), 4);
        Assert.Equal(y[9], p.Normalization.DenormalizeTarget(p.Normalization.NormalizeTarget(y[9])), 4);
        // A stored normalization (a trained model's) is applied as is to new data.
        var q = new SeriesPreparation([y.Select(v => v + 1).ToArray()], y, p.Normalization);
        Assert.Equal(p.Normalization.NormalizeInput(0, 6), q.Inputs[0]);
        Assert.Same(p.Normalization, q.Normalization);
    }

    [Fact]
    public void Preparation_ConstantOrBadColumns_AreNamed()
    {
        double[] y = Ramp(20);
        double[] flat = Enumerable.Repeat(3.0, 20).ToArray();
        var e = Assert.Throws<ArgumentException>(() => new SeriesPreparation([y, flat], y, inputNames: ["level", "flag"]));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("column 'flag' is constant (3) over the training part (rows 1..16)", e.Message);
        Assert.Contains("'y' is constant", Assert.Throws<ArgumentException>(() => new SeriesPreparation([y], flat, targetName: "y")).Message);
        double[] withNaN = Ramp(20); withNaN[4] = double.NaN;
        Assert.Contains("entry 4 (0-based) is NaN", Assert.Throws<ArgumentException>(() => new SeriesPreparation([withNaN], y)).Message);
        Assert.Contains("has 19 values but target 'target' has 20", Assert.Throws<ArgumentException>(() => new SeriesPreparation([Ramp(19)], y)).Message);
        Assert.Equal("valFraction", Assert.Throws<ArgumentException>(() => new SeriesPreparation([y], y, valFraction: 1)).ParamName);
    }

    [Fact]
    public void Windows_AreTimeMajor_FromTheTrainingPart_WithNextStepTargets()
    {
        // Two inputs: the level and its negative; distinct values everywhere so a window's place can be recovered.
        int n = 100;
        double[] y = Ramp(n).Select(v => v * v + 1).ToArray();
        double[] neg = y.Select(v => -v).ToArray();
        var p = new SeriesPreparation([y, neg], y, valFraction: 0.2);
        var z = p.Normalization;
        int W = 8, B = 16;
        var (x, t) = p.SampleWindows(new Random(3), W, B);
        Assert.Equal([W, B, 2], x.Shape);
        Assert.Equal([W, B], t.Shape);
        var xs = x.ToArray(); var ts = t.ToArray();
        var startsSeen = new HashSet<int>();
        for (int b = 0; b < B; b++)
        {
            // Recover the start from the first step's first input, then check every step.
            double level0 = z.Std[0] * xs[(0 * B + b) * 2] + z.Mean[0];
            int a = Array.FindIndex(y, v => Math.Abs(v - level0) < 1e-3 * Math.Max(1, v));
            Assert.InRange(a, 0, p.TrainLength - W - 2);
            startsSeen.Add(a);
            for (int s = 0; s < W; s++)
            {
                Assert.Equal(p.Inputs[(a + s) * 2], xs[(s * B + b) * 2]);
                Assert.Equal(p.Inputs[(a + s) * 2 + 1], xs[(s * B + b) * 2 + 1]);
                Assert.Equal(p.Target[a + s + 1], ts[s * B + b]);     // the next step
            }
        }
        Assert.True(startsSeen.Count > 4, "windows should start at different places");

        // Horizon 3: the target is three steps on.
        var (x3, t3) = p.SampleWindows(new Random(5), W, B, horizon: 3);
        var x3s = x3.ToArray(); var t3s = t3.ToArray();
        for (int b = 0; b < B; b++)
        {
            double level0 = z.Std[0] * x3s[b * 2] + z.Mean[0];
            int a = Array.FindIndex(y, v => Math.Abs(v - level0) < 1e-3 * Math.Max(1, v));
            Assert.InRange(a, 0, p.TrainLength - W - 4);
            for (int s = 0; s < W; s++) Assert.Equal(p.Target[a + s + 3], t3s[s * B + b]);
        }
    }

    [Fact]
    public void Windows_NeverReachTheHeldOutPart_AndRefuseWindowsThatDoNotFit()
    {
        // The target is 0 in the training part (but varies there slightly so it can be z-scored) and huge afterwards.
        int n = 50;
        double[] y = Enumerable.Range(0, n).Select(i => i < 40 ? (i % 2) : 1e6).ToArray();
        var p = new SeriesPreparation([y], y, valFraction: 0.2);
        Assert.Equal(40, p.TrainLength);
        var rng = new Random(1);
        float limit = p.Normalization.NormalizeTarget(1) + 1e-3f;
        for (int i = 0; i < 50; i++)
        {
            var (x, t) = p.SampleWindows(rng, 30, 8);
            Assert.All(t.ToArray(), v => Assert.True(v <= limit));
            Assert.All(x.ToArray(), v => Assert.True(v <= limit));
        }
        var e = Assert.Throws<ArgumentException>(() => p.SampleWindows(rng, 39, 4));
        Assert.Equal("window", e.ParamName);
        Assert.Contains("the largest window is 38", e.Message);
        p.SampleWindows(rng, 38, 4);
    }

    [Fact]
    public void InputSequence_IsTimeMajorBatchOne()
    {
        double[] y = Ramp(12);
        var p = new SeriesPreparation([y, y.Select(v => v * v).ToArray()], y);
        var s = p.InputSequence(2, 5);
        Assert.Equal([5, 1, 2], s.Shape);
        Assert.Equal(p.Inputs.Slice(4, 10).ToArray(), s.ToArray());
        Assert.Equal([12, 1, 2], p.InputSequence().Shape);
    }

    // ---------------------------------------------------------------- LabeledText

    [Fact]
    public void Tsv_RoundTrip_KeepsTabsQuotesAndNewlines()
    {
        (string, string)[] items =
        [
            ("pos", "plain text"),
            ("neg", "a\ttab inside"),
            ("pos", "she said \"hi\" twice: \"\""),
            ("neg", "\"starts with a quote"),
            ("x y", "line one\nline two\r\nline three"),
            ("tab\tlabel", ""),
            ("pos", "  leading and trailing spaces  "),
        ];
        var sw = new StringWriter();
        LabeledText.Write(sw, items);
        string written = sw.ToString();
        Assert.StartsWith("pos\tplain text\nneg\t\"a\ttab inside\"\n", written);
        Assert.Contains("pos\t\"she said \"\"hi\"\" twice: \"\"\"\"\"\n", written);
        Assert.Equal(items, LabeledText.Read(new StringReader(written)));

        // Through a file as well, with CRLF line ends in the file.
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "sub", "data.tsv");
            LabeledText.Write(path, items);
            Assert.Equal(items, LabeledText.Read(path));
            File.WriteAllText(path, "a\tone\r\nb\t\"two\r\nlines\"\r\n");
            Assert.Equal([("a", "one"), ("b", "two\r\nlines")], LabeledText.Read(path));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Tsv_ReadsTheEarlierFormat_LikeTheLineReader()
    {
        // Header skipped, blank lines skipped, labels trimmed, texts kept, a stray quote kept, label,text without a tab.
        string text = "label\ttext\n\n A \tHe said \"hi\" to me \n   \nB,comma, separated\nC\t\n";
        Assert.Equal([("A", "He said \"hi\" to me "), ("B", "comma, separated"), ("C", "")],
            LabeledText.Read(new StringReader(text)));
        // A written first item that reads like a header is quoted, so it is kept.
        var sw = new StringWriter();
        LabeledText.Write(sw, [("label", "text"), ("b", "c")]);
        Assert.Equal([("label", "text"), ("b", "c")], LabeledText.Read(new StringReader(sw.ToString())));
    }

    [Fact]
    public void Tsv_Errors_NameFileRowAndLine()
    {
        var e = Assert.Throws<FormatException>(() => LabeledText.Read(new StringReader("a\tok\n\"b\nc\"\tfine\nd\te\tf\n"), "x.tsv"));
        Assert.Contains("x.tsv: row 3 (line 4): 3 tab-separated fields, expected 2", e.Message);
        Assert.Contains("row 2 (line 2): expected LABEL<TAB>TEXT but the row has no tab",
            Assert.Throws<FormatException>(() => LabeledText.Read(new StringReader("a\tb\nnothing here\n"), "x.tsv")).Message);
        Assert.Contains("row 1 (line 1): empty label",
            Assert.Throws<FormatException>(() => LabeledText.Read(new StringReader(" \tb\n"), "x.tsv")).Message);
        Assert.Contains("x.tsv: the record starting on line 2: a quoted field is never closed",
            Assert.Throws<FormatException>(() => LabeledText.Read(new StringReader("a\tb\nc\t\"open\nmore\n"), "x.tsv")).Message);
        Assert.Contains("text after the closing quote",
            Assert.Throws<FormatException>(() => LabeledText.Read(new StringReader("a\t\"quoted\" then more\n"), "x.tsv")).Message);
        Assert.Equal("items", Assert.Throws<ArgumentException>(() => LabeledText.Write(new StringWriter(), [(" a", "b")])).ParamName);
    }

    // ---------------------------------------------------------------- the committed real series

    [Theory]
    [InlineData("co2.csv", "value", 468, 313.0, 367.0)]
    [InlineData("sunspot_month.csv", "value", 3177, 0.0, 260.0)]
    [InlineData("nottem.csv", "value", 240, 30.0, 70.0)]
    [InlineData("eustockmarkets.csv", "DAX", 1860, 1400.0, 6200.0)]
    public void RealSeries_ReadWhole_AndPrepare(string file, string column, int length, double min, double max)
    {
        string path = Path.Combine(TestPaths.RepoRoot, "data", "series", file);
        var s = CsvSeries.Read(path, [column], timeColumn: "time");
        Assert.Equal(length, s.Length);
        Assert.Equal(0, s.FilledCounts[column]);
        var v = s.Column(column);
        Assert.InRange(v.Min(), min, max);
        Assert.InRange(v.Max(), min, max);
        Assert.Equal(length, s.Times!.Count);
        var p = SeriesPreparation.FromCsv(s, column, difference: true);
        Assert.Equal((int)(length * 0.8), p.TrainLength);
        var (x, t) = p.SampleWindows(new Random(1), 32, 32);
        Assert.Equal([32, 32, 1], x.Shape);
        Assert.Equal([32, 32], t.Shape);
    }

    private static double[] Ramp(int n) => Enumerable.Range(0, n).Select(i => (double)i).ToArray();
}
