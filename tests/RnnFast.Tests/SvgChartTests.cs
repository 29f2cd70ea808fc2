// Tests of the chart writers: the SVG parses as XML with the requested size, one path per line series with one
// M/L command per drawable point, bars = categories x series, nice tick labels, escaping, NaN gaps, empty and flat
// data, invariant number formatting, atomic saving, and the terminal sparkline and line plot layout.
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RnnFast.Charts;
using Xunit;

namespace RnnFast.Tests;

public class SvgChartTests
{
    private static readonly XNamespace S = "http://www.w3.org/2000/svg";

    private static XDocument Parse(string svg) => XDocument.Parse(svg);

    private static IEnumerable<XElement> WithClass(XDocument doc, string cls) =>
        doc.Descendants().Where(e => ((string?)e.Attribute("class"))?.Split(' ').Contains(cls) == true);

    private static List<char> PathCommands(XElement path) =>
        Regex.Matches((string?)path.Attribute("d") ?? "", "[A-Za-z]").Select(m => m.Value[0]).ToList();

    private static ChartSeries Series(string name, params double[] ys) =>
        new(name, ys.Select((y, i) => ((double)i, y)).ToList());

    // ---------------------------------------------------------------- line chart

    [Fact]
    public void LineChart_IsXmlWithSvgRootOfGivenSize()
    {
        var chart = new LineChart { Title = "Loss", XLabel = "step", YLabel = "loss", Width = 640, Height = 360 };
        chart.Series.Add(Series("train", 3, 2, 1.5, 1.2));
        var doc = Parse(chart.ToSvg());
        Assert.Equal(S + "svg", doc.Root!.Name);
        Assert.Equal("640", (string?)doc.Root.Attribute("width"));
        Assert.Equal("360", (string?)doc.Root.Attribute("height"));
        Assert.Contains(doc.Descendants(S + "text"), t => t.Value == "Loss");
        Assert.Contains(doc.Descendants(S + "text"), t => t.Value == "step");
        Assert.Contains(doc.Descendants(S + "text"), t => t.Value == "loss");
    }

    [Fact]
    public void LineChart_HasOnePathPerSeriesWithOneCommandPerPoint()
    {
        var chart = new LineChart();
        chart.Series.Add(Series("train", Enumerable.Range(0, 10).Select(i => 1.0 / (i + 1)).ToArray()));
        chart.Series.Add(Series("validation", 0.9, 0.5, 0.4, 0.35, 0.3));
        var doc = Parse(chart.ToSvg());
        var paths = WithClass(doc, "series-line").ToList();
        Assert.Equal(2, paths.Count);
        Assert.Equal(10, PathCommands(paths[0]).Count);
        Assert.Equal(5, PathCommands(paths[1]).Count);
        Assert.Equal('M', PathCommands(paths[0])[0]);
        Assert.All(PathCommands(paths[0]).Skip(1), c => Assert.Equal('L', c));
        // Every point lies inside the SVG.
        foreach (var p in paths)
        {
            var nums = Regex.Matches((string)p.Attribute("d")!, @"-?\d+(\.\d+)?").Select(m => double.Parse(m.Value, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(2 * PathCommands(p).Count, nums.Count);
            for (int i = 0; i < nums.Count; i += 2)
            {
                Assert.InRange(nums[i], 0, chart.Width);
                Assert.InRange(nums[i + 1], 0, chart.Height);
            }
        }
        // Larger y is higher on the page (smaller SVG y).
        var first = Regex.Matches((string)paths[0].Attribute("d")!, @"-?\d+(\.\d+)?").Select(m => double.Parse(m.Value, CultureInfo.InvariantCulture)).ToList();
        Assert.True(first[1] < first[^1]);
    }

    [Fact]
    public void LineChart_SeriesGetDistinctColoursAndLegendEntries()
    {
        var chart = new LineChart();
        for (int i = 0; i < 12; i++) chart.Series.Add(Series("s" + i, i, i + 1));
        var doc = Parse(chart.ToSvg());
        var strokes = WithClass(doc, "series-line").Select(p => (string)p.Attribute("stroke")!).ToList();
        Assert.Equal(12, strokes.Distinct().Count());
        var legend = WithClass(doc, "legend-label").Select(t => t.Value).ToList();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => "s" + i), legend);
        Assert.Equal(100, Enumerable.Range(0, 100).Select(ChartPalette.Color).Distinct().Count());
        Assert.All(Enumerable.Range(0, 100).Select(ChartPalette.Color), c => Assert.Matches("^#[0-9a-f]{6}$", c));
    }

    [Fact]
    public void LegendShortensOnlyVeryLongNames()
    {
        var chart = new LineChart();
        chart.Series.Add(Series("short", 1, 2));
        chart.Series.Add(Series(new string('x', 400), 2, 1));
        var doc = Parse(chart.ToSvg());
        var labels = WithClass(doc, "legend-label").Select(t => t.Value).ToList();
        Assert.Equal("short", labels[0]);
        Assert.EndsWith("\u2026", labels[1]);
        Assert.True(labels[1].Length < 60);
        // The plot keeps most of the width even with a huge legend entry.
        var xs = WithClass(doc, "series-line").SelectMany(p => Regex.Matches((string)p.Attribute("d")!, @"M([\d.]+)|L([\d.]+)")
            .Select(m => double.Parse(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value, CultureInfo.InvariantCulture))).ToList();
        Assert.True(xs.Max() - xs.Min() > chart.Width * 0.5);
    }

    [Fact]
    public void LineChart_NonFinitePointsLeaveGaps()
    {
        var ys = Enumerable.Range(0, 10).Select(i => (double)i).ToArray();
        ys[3] = double.NaN;
        ys[6] = double.PositiveInfinity;
        var chart = new LineChart { Markers = true };
        var pts = ys.Select((y, i) => ((double)i, y)).ToList();
        pts.Add((double.NaN, 5)); // a NaN x is skipped too
        chart.Series.Add(new ChartSeries("gappy", pts));
        string svg = chart.ToSvg();
        var doc = Parse(svg);
        var cmds = PathCommands(WithClass(doc, "series-line").Single());
        Assert.Equal(8, cmds.Count);                    // 10 points, 2 skipped
        Assert.Equal(3, cmds.Count(c => c == 'M'));     // segments 0-2, 4-5, 7-9
        Assert.Equal(8, WithClass(doc, "marker").Count());
        Assert.DoesNotContain("NaN", svg);
        Assert.DoesNotContain("Infinity", svg);
        Assert.DoesNotContain("\u221E", svg);
    }

    [Fact]
    public void LineChart_IsolatedPointWithoutMarkersStillGetsADot()
    {
        var chart = new LineChart();
        chart.Series.Add(Series("lonely", double.NaN, 2, double.NaN));
        var doc = Parse(chart.ToSvg());
        Assert.Single(PathCommands(WithClass(doc, "series-line").Single()));
        Assert.Single(WithClass(doc, "point"));
    }

    [Fact]
    public void LineChart_LogXSkipsNonPositiveXAndUsesPowerTicks()
    {
        var chart = new LineChart { LogX = true, Markers = true };
        chart.Series.Add(new ChartSeries("cpu", new List<(double, double)> { (0, 1), (1, 2), (16, 5), (64, 9), (256, 12) }));
        var doc = Parse(chart.ToSvg());
        Assert.Equal(4, PathCommands(WithClass(doc, "series-line").Single()).Count);
        var xLabels = WithClass(doc, "x-tick").Select(t => t.Value).ToList();
        Assert.Contains("1", xLabels);
        Assert.Contains("10", xLabels);
        Assert.Contains("100", xLabels);
        // Ticks are evenly spaced per decade: positions of 1, 10, 100 are equidistant.
        double X(string label) => double.Parse((string)WithClass(doc, "x-tick").First(t => t.Value == label).Attribute("x")!, CultureInfo.InvariantCulture);
        Assert.Equal(X("10") - X("1"), X("100") - X("10"), 1);
    }

    [Fact]
    public void LineChart_YTicksAreNiceNumbers()
    {
        var chart = new LineChart();
        chart.Series.Add(Series("loss", 0, 0.31, 0.93, 0.5));
        var doc = Parse(chart.ToSvg());
        var labels = WithClass(doc, "y-tick").Select(t => t.Value).ToList();
        var values = labels.Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToList();
        Assert.Contains("0", labels);
        foreach (double v in new[] { 0.2, 0.4, 0.6, 0.8 }) Assert.Contains(values, x => Math.Abs(x - v) < 1e-12);
        for (int i = 1; i < values.Count; i++) Assert.Equal(0.2, values[i] - values[i - 1], 9);
        Assert.True(values[^1] >= 0.93);
        Assert.All(labels, l => Assert.True(l.Length <= 4, l));
    }

    [Theory]
    [InlineData(0, 0.93)]
    [InlineData(0.3, 3.4)]
    [InlineData(-7, 13)]
    [InlineData(1000, 1003)]
    [InlineData(0.00123, 0.00456)]
    [InlineData(0, 123456)]
    [InlineData(-1e-9, 3e-9)]
    [InlineData(2.5, 2.5)]
    [InlineData(0, 0)]
    [InlineData(-4e12, 9e12)]
    public void AxisTicks_LinearStepsAre125TimesPowerOfTenAndCoverTheData(double min, double max)
    {
        var scale = AxisTicks.Linear(min, max, maxTicks: 6);
        Assert.True(scale.Max > scale.Min);
        Assert.True(scale.Min <= min && scale.Max >= max);
        Assert.InRange(scale.Ticks.Count, 2, 7);
        double exp = Math.Floor(Math.Log10(scale.Step));
        double mantissa = Math.Round(scale.Step / Math.Pow(10, exp), 9);
        Assert.Contains(mantissa, new[] { 1.0, 2.0, 5.0 });
        for (int i = 0; i < scale.Ticks.Count; i++)
        {
            double k = scale.Ticks[i] / scale.Step;
            Assert.Equal(Math.Round(k), k, 6);                                         // multiples of the step
            if (i > 0) Assert.Equal(scale.Step, scale.Ticks[i] - scale.Ticks[i - 1], scale.Step * 1e-6);
        }
        Assert.Equal(scale.Ticks.Count, scale.Labels.Count);
        Assert.Equal(scale.Labels.Count, scale.Labels.Distinct().Count());             // labels tell ticks apart
        Assert.All(scale.Labels, l => Assert.True(l.Length <= 8, l));
    }

    [Fact]
    public void AxisTicks_ZeroToPoint93GivesTenthsOfTwo()
    {
        var scale = AxisTicks.Linear(0, 0.93);
        Assert.Equal(0.2, scale.Step, 12);
        Assert.Equal(new[] { "0", "0.2", "0.4", "0.6", "0.8", "1.0" }, scale.Labels);
        Assert.Equal(0.6, scale.Ticks[3]); // exactly the double 0.6, not 0.6000000000000001
    }

    [Fact]
    public void AxisTicks_LabelsAreCompact()
    {
        Assert.Equal(new[] { "0", "10k", "20k", "30k", "40k", "50k" }, AxisTicks.Linear(0, 45000).Labels);
        Assert.Contains("5M", AxisTicks.Linear(0, 2.5e7).Labels);
        Assert.Equal(new[] { "0", "1e-6", "2e-6", "3e-6" }, AxisTicks.Linear(1e-7, 3e-6, 5).Labels);
        Assert.Equal("1.23M", AxisTicks.FormatValue(1234567));
        Assert.Equal("0.05", AxisTicks.FormatValue(0.05));
        Assert.Equal("42", AxisTicks.FormatValue(42));
        Assert.Equal("-3.5", AxisTicks.FormatValue(-3.5));
        Assert.Equal(new[] { 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0 }, AxisTicks.Log10(1, 256).Ticks);
    }

    [Fact]
    public void NumbersUseInvariantCultureWhateverTheCurrentCulture()
    {
        var saved = CultureInfo.CurrentCulture;
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        comma.NumberFormat.NumberGroupSeparator = ".";
        try
        {
            CultureInfo.CurrentCulture = comma;
            var chart = new LineChart();
            chart.Series.Add(Series("loss", 0.123, 0.456, 0.789));
            var doc = Parse(chart.ToSvg());
            Assert.Contains(WithClass(doc, "y-tick"), t => t.Value == "0.2");
            Assert.DoesNotMatch(@"\d,\d", (string)WithClass(doc, "series-line").Single().Attribute("d")!);
            Assert.Equal(new[] { "0", "0.5", "1.0", "1.5" }, AxisTicks.Linear(0, 1.4, 5).Labels);
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    [Fact]
    public void TextIsEscaped()
    {
        const string title = "loss <train> & \"val\" 'x'";
        var chart = new LineChart { Title = title, XLabel = "a<b", YLabel = "c&d" };
        chart.Series.Add(Series("<script>&amp;", 1, 2));
        chart.Series.Add(Series("ctrl\u0001char\uD800", 2, 1));
        var doc = Parse(chart.ToSvg());
        Assert.Equal(title, doc.Root!.Element(S + "title")!.Value);
        Assert.Contains(doc.Descendants(S + "text"), t => t.Value == title);
        Assert.Contains(doc.Descendants(S + "text"), t => t.Value == "a<b");
        Assert.Contains(doc.Descendants(S + "text"), t => t.Value == "c&d");
        Assert.Contains(WithClass(doc, "legend-label"), t => t.Value == "<script>&amp;");
        Assert.DoesNotContain(doc.Descendants(), e => e.Name.LocalName == "script");

        var bars = new BarChart { Title = "</svg>", Categories = new[] { "N=<1>", "\"q\"" } };
        bars.Series.Add(("a&b", new[] { 1.0, 2.0 }));
        var bdoc = Parse(bars.ToSvg());
        Assert.Contains(WithClass(bdoc, "x-tick"), t => t.Value == "N=<1>");
        Assert.Contains(WithClass(bdoc, "legend-label"), t => t.Value == "a&b");
    }

    [Fact]
    public void EmptyAndFlatChartsAreStillValid()
    {
        var empty = Parse(new LineChart { Title = "nothing yet" }.ToSvg());
        Assert.Empty(WithClass(empty, "series-line"));
        Assert.NotEmpty(WithClass(empty, "y-tick"));

        var noPoints = new LineChart();
        noPoints.Series.Add(new ChartSeries("empty", Array.Empty<(double, double)>()));
        noPoints.Series.Add(Series("all-nan", double.NaN, double.NaN));
        var np = Parse(noPoints.ToSvg());
        Assert.Equal(2, WithClass(np, "series-line").Count());
        Assert.All(WithClass(np, "series-line"), p => Assert.Empty(PathCommands(p)));

        var flat = new LineChart { Markers = true };
        flat.Series.Add(new ChartSeries("flat", Enumerable.Repeat((3.0, 5.0), 4).ToList())); // same x and same y
        string svg = flat.ToSvg();
        var fd = Parse(svg);
        Assert.Equal(4, PathCommands(WithClass(fd, "series-line").Single()).Count);
        Assert.DoesNotContain("NaN", svg);
        Assert.True(WithClass(fd, "y-tick").Count() >= 2);

        var emptyBars = Parse(new BarChart().ToSvg());
        Assert.Empty(WithClass(emptyBars, "bar"));
        var zeroBars = new BarChart { Categories = new[] { "a", "b" } };
        zeroBars.Series.Add(("zero", new[] { 0.0, 0.0 }));
        var zb = Parse(zeroBars.ToSvg());
        Assert.Equal(2, WithClass(zb, "bar").Count());
        Assert.DoesNotContain("NaN", zeroBars.ToSvg());
    }

    [Fact]
    public void ChartSizeMustBePositive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LineChart { Width = 0 }.ToSvg());
        Assert.Throws<ArgumentOutOfRangeException>(() => new BarChart { Height = -1 }.ToSvg());
        // Tiny but positive sizes still give well-formed XML.
        var tiny = new LineChart { Width = 20, Height = 20, Title = "t" };
        tiny.Series.Add(Series("s", 1, 2, 3));
        Parse(tiny.ToSvg());
    }

    // ---------------------------------------------------------------- bar chart

    [Fact]
    public void BarChart_HasOneBarPerCategoryAndSeries()
    {
        var chart = new BarChart
        {
            Title = "GFLOP/s", XLabel = "batch", YLabel = "GFLOP/s", Width = 900, Height = 500,
            Categories = new[] { "N=1", "N=16", "N=64", "N=256" },
        };
        chart.Series.Add(("reference", new[] { 0.5, 1.2, 1.5, 1.6 }));
        chart.Series.Add(("cpu", new[] { 4.0, 12, 25, 31 }));
        chart.Series.Add(("cuda", new[] { 2.0, 40, 160, 420 }));
        var doc = Parse(chart.ToSvg());
        Assert.Equal("900", (string?)doc.Root!.Attribute("width"));
        Assert.Equal("500", (string?)doc.Root.Attribute("height"));
        var bars = WithClass(doc, "bar").ToList();
        Assert.Equal(4 * 3, bars.Count);
        Assert.Equal(3, bars.Select(b => (string)b.Attribute("fill")!).Distinct().Count());
        Assert.Equal(new[] { "N=1", "N=16", "N=64", "N=256" }, WithClass(doc, "x-tick").Select(t => t.Value));
        Assert.Equal(new[] { "reference", "cpu", "cuda" }, WithClass(doc, "legend-label").Select(t => t.Value));

        double H(XElement b) => double.Parse((string)b.Attribute("height")!, CultureInfo.InvariantCulture);
        var cuda = WithClass(doc, "series").Single(g => (string?)g.Attribute("data-name") == "cuda").Elements(S + "rect").ToList();
        Assert.True(H(cuda[3]) > H(cuda[2]) && H(cuda[2]) > H(cuda[1]) && H(cuda[1]) > H(cuda[0]));
        // Bars of one group sit inside that group and do not overlap.
        var xs = bars.Select(b => double.Parse((string)b.Attribute("x")!, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(xs.Count, xs.Distinct().Count());
    }

    [Fact]
    public void BarChart_SkipsNonFiniteAndMissingValuesAndHandlesNegatives()
    {
        var chart = new BarChart { Categories = new[] { "a", "b", "c" } };
        chart.Series.Add(("s1", new[] { 1.0, double.NaN, -2.0 }));
        chart.Series.Add(("s2", new[] { 3.0 }));                         // shorter than the categories
        chart.Series.Add(("s3", new[] { 1.0, 2.0, 3.0, 4.0 }));          // longer: the extra value is ignored
        string svg = chart.ToSvg();
        var doc = Parse(svg);
        Assert.Equal(2 + 1 + 3, WithClass(doc, "bar").Count());
        Assert.Single(WithClass(doc, "zero"));
        Assert.Contains(WithClass(doc, "y-tick"), t => t.Value.StartsWith('-'));
        Assert.DoesNotContain("NaN", svg);
    }

    // ---------------------------------------------------------------- saving

    [Fact]
    public void Save_WritesAtomicallyAndOverwrites()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "sub", "loss.svg");
            var chart = new LineChart { Title = "first" };
            chart.Series.Add(Series("train", 1, 2, 3));
            chart.Save(path);
            Assert.Equal(chart.ToSvg(), File.ReadAllText(path));
            var bars = new BarChart { Title = "second", Categories = new[] { "x" } };
            bars.Series.Add(("s", new[] { 1.0 }));
            bars.Save(path);
            Assert.Equal(bars.ToSvg(), File.ReadAllText(path));
            Assert.Equal(new[] { "loss.svg" }, Directory.GetFiles(Path.Combine(dir, "sub")).Select(Path.GetFileName));
            Parse(File.ReadAllText(path));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    // ---------------------------------------------------------------- terminal charts

    [Fact]
    public void Sparkline_WidthLevelsAndGaps()
    {
        var up = Enumerable.Range(0, 8).Select(i => (double)i).ToList();
        Assert.Equal("\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588", TerminalChart.Sparkline(up));
        var many = Enumerable.Range(0, 1000).Select(i => Math.Sin(i / 50.0)).ToList();
        Assert.Equal(60, TerminalChart.Sparkline(many).Length);
        Assert.Equal(25, TerminalChart.Sparkline(many, 25).Length);
        Assert.Equal(" \u2588\u2581", TerminalChart.Sparkline(new[] { double.NaN, 5, 1 }));
        string flat = TerminalChart.Sparkline(new[] { 2.0, 2.0, 2.0 });
        Assert.Equal(3, flat.Length);
        Assert.Single(flat.Distinct());
        Assert.Equal("", TerminalChart.Sparkline(Array.Empty<double>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => TerminalChart.Sparkline(up, 0));
    }

    private static (List<string> Rows, int AxisPos) PlotRows(string plot, int height, bool hasTitle)
    {
        var lines = plot.Split('\n').ToList();
        Assert.Equal(height + 2 + (hasTitle ? 1 : 0), lines.Count);
        var rows = lines.Skip(hasTitle ? 1 : 0).Take(height).ToList();
        int axis = rows[0].IndexOf('\u2524');
        Assert.True(axis > 0);
        return (rows, axis);
    }

    [Theory]
    [InlineData(5, 70, 12)]
    [InlineData(300, 70, 12)]
    [InlineData(70, 70, 5)]
    [InlineData(1000, 40, 8)]
    [InlineData(2, 10, 2)]
    public void LinePlot_HasRequestedSizeWithExtremesInTopAndBottomRows(int n, int width, int height)
    {
        var rng = new Random(n);
        var values = Enumerable.Range(0, n).Select(i => Math.Exp(-i / (double)n * 3) + rng.NextDouble() * 0.2).ToList();
        int maxAt = n / 3, minAt = 2 * n / 3;
        values[maxAt] = 10;
        values[minAt] = -10;
        string plot = TerminalChart.LinePlot(values, width, height, title: "loss");
        Assert.StartsWith("loss\n", plot);
        var (rows, axis) = PlotRows(plot, height, hasTitle: true);
        foreach (var row in rows)
        {
            Assert.Contains(row[axis], "\u2524\u2502");
            Assert.Equal(width, row.Length - axis - 1);
        }
        Assert.StartsWith("10", rows[0].TrimStart());
        Assert.StartsWith("-10", rows[^1].TrimStart());
        int Col(int i) => n >= width ? (int)((long)i * width / n) : (int)Math.Round(i * (double)(width - 1) / (n - 1));
        Assert.NotEqual(' ', rows[0][axis + 1 + Col(maxAt)]);
        Assert.NotEqual(' ', rows[^1][axis + 1 + Col(minAt)]);
        // Nothing else reaches the extreme rows in columns far from the extremes.
        Assert.Equal(' ', rows[0][axis + 1 + width - 1]);
    }

    [Fact]
    public void LinePlot_HandlesFlatEmptyAndNaNInput()
    {
        string flat = TerminalChart.LinePlot(new[] { 4.0, 4.0, 4.0 }, 20, 5);
        var (rows, axis) = PlotRows(flat, 5, hasTitle: false);
        Assert.Equal(new string('\u2500', 20), rows[2][(axis + 1)..]);

        string empty = TerminalChart.LinePlot(Array.Empty<double>(), 20, 4);
        var (erows, eaxis) = PlotRows(empty.Replace('\u2502', '\u2524'), 4, hasTitle: false);
        Assert.All(erows, r => Assert.Equal(new string(' ', 20), r[(eaxis + 1)..]));

        string gaps = TerminalChart.LinePlot(new[] { 1.0, double.NaN, double.NaN, double.NaN, 2.0 }, 9, 3);
        var (grows, gaxis) = PlotRows(gaps, 3, hasTitle: false);
        Assert.All(grows, r => Assert.Equal(' ', r[gaxis + 1 + 4]));       // the middle column is a gap
        Assert.DoesNotContain("NaN", gaps);
        Assert.Throws<ArgumentOutOfRangeException>(() => TerminalChart.LinePlot(new[] { 1.0 }, 1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => TerminalChart.LinePlot(new[] { 1.0 }, 10, 1));
    }
}
