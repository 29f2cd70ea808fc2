// The project's SVG chart writer: line charts (training loss vs step, throughput vs batch size) and grouped bar
// charts (throughput per backend per batch size), written as standalone, self-contained SVG files.
using System.Text;

namespace RnnFast.Charts;

/// <summary>One named series of (x, y) points for a <see cref="LineChart"/>.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Points">The points, drawn in the given order; NaN or infinite coordinates leave a gap.</param>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// A line chart with nice axis ticks, a legend and one colour per series. Points with a non-finite coordinate (or a
/// non-positive x on a log axis) are skipped and break the line. Each series becomes one
/// <c>&lt;path class="series-line"&gt;</c> whose <c>M</c>/<c>L</c> commands are its drawn points.
/// </summary>
public sealed class LineChart
{
    /// <summary>Chart title, drawn above the plot ("" for none).</summary>
    public string Title { get; init; } = "";

    /// <summary>Title of the x axis ("" for none).</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Title of the y axis ("" for none).</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Whether the x axis is logarithmic (base 10), e.g. for batch sizes 1..1024.</summary>
    public bool LogX { get; init; }

    /// <summary>Whether every point gets a circular marker.</summary>
    public bool Markers { get; init; }

    /// <summary>The series, drawn in order with <see cref="ChartPalette"/> colours.</summary>
    public List<ChartSeries> Series { get; } = new();

    /// <summary>Width of the SVG in pixels.</summary>
    public int Width { get; init; } = 800;

    /// <summary>Height of the SVG in pixels.</summary>
    public int Height { get; init; } = 480;

    /// <summary>Renders the chart as an SVG document.</summary>
    /// <returns>The SVG text (UTF-8 XML with an &lt;svg&gt; root of <see cref="Width"/> x <see cref="Height"/>).</returns>
    public string ToSvg()
    {
        var sb = new StringBuilder(4096);
        Svg.Open(sb, Width, Height, Title ?? "");

        // Data ranges over the drawable points only.
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity;
        double yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        foreach (var s in Series)
            foreach (var (x, y) in s.Points)
                if (Drawable(x, y))
                {
                    xMin = Math.Min(xMin, x); xMax = Math.Max(xMax, x);
                    yMin = Math.Min(yMin, y); yMax = Math.Max(yMax, y);
                }
        bool any = xMin <= xMax;
        AxisScale xs = LogX
            ? AxisTicks.Log10(any ? xMin : 1, any ? xMax : 10)
            : AxisTicks.Linear(any ? xMin : 0, any ? xMax : 1, maxTicks: Math.Clamp(Width / 90, 2, 10), extendToTicks: true);
        AxisScale ys = AxisTicks.Linear(any ? yMin : 0, any ? yMax : 1, maxTicks: Math.Clamp(Height / 60, 2, 10), extendToTicks: true);

        var names = Series.Select(s => s.Name ?? "").ToList();
        double legendWidth = LegendWidth(names, Width);
        double yLabelWidth = ys.Labels.Select(l => Svg.TextWidth(l)).DefaultIfEmpty(0).Max();
        var area = PlotArea.Layout(Width, Height, (Title ?? "").Length > 0, (XLabel ?? "").Length > 0, (YLabel ?? "").Length > 0, yLabelWidth, legendWidth);

        Svg.YAxis(sb, ys, area);
        sb.Append("<g class=\"x-axis\">\n");
        for (int i = 0; i < xs.Ticks.Count; i++)
        {
            double x = area.X(xs, xs.Ticks[i]);
            sb.Append($"<line class=\"grid\" x1=\"{Svg.N(x)}\" y1=\"{Svg.N(area.Top)}\" x2=\"{Svg.N(x)}\" y2=\"{Svg.N(area.Bottom)}\" stroke=\"#f3f4f6\" stroke-width=\"1\"/>\n");
            sb.Append($"<text class=\"tick-label x-tick\" x=\"{Svg.N(x)}\" y=\"{Svg.N(area.Bottom + 16)}\" text-anchor=\"middle\" fill=\"#374151\">")
              .Append(Svg.Escape(xs.Labels[i])).Append("</text>\n");
        }
        sb.Append("</g>\n");
        Svg.Frame(sb, area, XLabel ?? "", YLabel ?? "", Height);

        for (int si = 0; si < Series.Count; si++)
            AppendSeries(sb, Series[si], ChartPalette.Color(si), xs, ys, area);

        Svg.Legend(sb, names, area, legendWidth, Markers ? LegendSwatch.LineWithMarker : LegendSwatch.Line);
        Svg.Close(sb);
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToSvg"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    /// <param name="path">Destination file; its directory is created if missing.</param>
    public void Save(string path) => Svg.WriteAtomic(path, ToSvg());

    private bool Drawable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!LogX || x > 0);

    private void AppendSeries(StringBuilder sb, ChartSeries series, string color, AxisScale xs, AxisScale ys, PlotArea area)
    {
        var d = new StringBuilder();
        var markers = new StringBuilder();
        var drawn = new List<(double X, double Y, bool Isolated)>();
        bool penDown = false;
        var points = series.Points ?? Array.Empty<(double X, double Y)>();
        for (int i = 0; i < points.Count; i++)
        {
            var (x, y) = points[i];
            if (!Drawable(x, y)) { penDown = false; continue; }
            double px = area.X(xs, x), py = area.Y(ys, y);
            if (d.Length > 0) d.Append(' ');
            d.Append(penDown ? 'L' : 'M').Append(Svg.N(px)).Append(' ').Append(Svg.N(py));
            bool prevOk = i > 0 && Drawable(points[i - 1].X, points[i - 1].Y);
            bool nextOk = i + 1 < points.Count && Drawable(points[i + 1].X, points[i + 1].Y);
            drawn.Add((px, py, !prevOk && !nextOk));
            penDown = true;
        }
        foreach (var (px, py, isolated) in drawn)
        {
            // Without markers a lone point between gaps would be invisible; it still gets a small dot.
            if (Markers) markers.Append($"<circle class=\"marker\" cx=\"{Svg.N(px)}\" cy=\"{Svg.N(py)}\" r=\"3.5\" fill=\"{color}\"/>\n");
            else if (isolated) markers.Append($"<circle class=\"point\" cx=\"{Svg.N(px)}\" cy=\"{Svg.N(py)}\" r=\"2\" fill=\"{color}\"/>\n");
        }
        string name = Svg.Escape(series.Name);
        sb.Append($"<g class=\"series\" data-name=\"{name}\">\n<title>{name}</title>\n");
        sb.Append($"<path class=\"series-line\" d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n");
        sb.Append(markers);
        sb.Append("</g>\n");
    }

    internal static double LegendWidth(IReadOnlyList<string> names, int width)
    {
        if (names.Count == 0) return 0;
        double w = names.Max(n => Svg.TextWidth(n)) + 26;
        return Math.Clamp(w, 40, Math.Max(40, width * 0.3));
    }
}

/// <summary>
/// A grouped bar chart: one group per category along x, one bar per series inside each group, one colour per series
/// and a legend. Each drawn bar is a <c>&lt;rect class="bar"&gt;</c>; non-finite or missing values draw no bar.
/// Bars grow from zero, so negative values point down.
/// </summary>
public sealed class BarChart
{
    /// <summary>Chart title, drawn above the plot ("" for none).</summary>
    public string Title { get; init; } = "";

    /// <summary>Title of the x (category) axis ("" for none).</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Title of the y (value) axis ("" for none).</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Width of the SVG in pixels.</summary>
    public int Width { get; init; } = 800;

    /// <summary>Height of the SVG in pixels.</summary>
    public int Height { get; init; } = 480;

    /// <summary>The x groups, e.g. "N=1", "N=16".</summary>
    public IReadOnlyList<string> Categories { get; init; } = Array.Empty<string>();

    /// <summary>
    /// The series: a name and one value per category (index-aligned with <see cref="Categories"/>; values beyond the
    /// categories are ignored, missing ones draw no bar).
    /// </summary>
    public List<(string Series, double[] Values)> Series { get; } = new();

    /// <summary>Renders the chart as an SVG document.</summary>
    /// <returns>The SVG text (UTF-8 XML with an &lt;svg&gt; root of <see cref="Width"/> x <see cref="Height"/>).</returns>
    public string ToSvg()
    {
        var sb = new StringBuilder(4096);
        Svg.Open(sb, Width, Height, Title ?? "");
        var categories = Categories ?? Array.Empty<string>();
        int nCat = categories.Count, nSer = Series.Count;

        double vMin = 0, vMax = 0; // bars start at zero, so zero is always on the axis
        bool any = false;
        foreach (var (_, values) in Series)
            for (int c = 0; c < Math.Min(nCat, values?.Length ?? 0); c++)
                if (double.IsFinite(values![c])) { vMin = Math.Min(vMin, values[c]); vMax = Math.Max(vMax, values[c]); any = true; }
        if (!any || vMin == vMax) vMax = vMin + 1;
        AxisScale ys = AxisTicks.Linear(vMin, vMax, maxTicks: Math.Clamp(Height / 60, 2, 10), extendToTicks: true);

        var names = Series.Select(s => s.Series ?? "").ToList();
        double legendWidth = LineChart.LegendWidth(names, Width);
        double yLabelWidth = ys.Labels.Select(l => Svg.TextWidth(l)).DefaultIfEmpty(0).Max();
        var area = PlotArea.Layout(Width, Height, (Title ?? "").Length > 0, (XLabel ?? "").Length > 0, (YLabel ?? "").Length > 0, yLabelWidth, legendWidth);

        Svg.YAxis(sb, ys, area);
        double groupWidth = nCat > 0 ? area.Width / nCat : area.Width;
        double inner = groupWidth * 0.8;
        double barWidth = nSer > 0 ? inner / nSer : inner;
        double zeroY = area.Y(ys, 0);

        sb.Append("<g class=\"x-axis\">\n");
        for (int c = 0; c < nCat; c++)
        {
            double cx = area.Left + (c + 0.5) * groupWidth;
            sb.Append($"<text class=\"tick-label x-tick\" x=\"{Svg.N(cx)}\" y=\"{Svg.N(area.Bottom + 16)}\" text-anchor=\"middle\" fill=\"#374151\">")
              .Append(Svg.Escape(Svg.Fit(categories[c] ?? "", groupWidth))).Append("</text>\n");
        }
        sb.Append("</g>\n");
        Svg.Frame(sb, area, XLabel ?? "", YLabel ?? "", Height);

        for (int s = 0; s < nSer; s++)
        {
            var (name, values) = Series[s];
            string color = ChartPalette.Color(s);
            string escName = Svg.Escape(name);
            sb.Append($"<g class=\"series\" data-name=\"{escName}\">\n");
            for (int c = 0; c < Math.Min(nCat, values?.Length ?? 0); c++)
            {
                double v = values![c];
                if (!double.IsFinite(v)) continue;
                double x = area.Left + c * groupWidth + (groupWidth - inner) / 2 + s * barWidth;
                double y = area.Y(ys, v);
                double top = Math.Min(y, zeroY), h = Math.Abs(zeroY - y);
                sb.Append($"<rect class=\"bar\" x=\"{Svg.N(x)}\" y=\"{Svg.N(top)}\" width=\"{Svg.N(Math.Max(barWidth - 1, 0.5))}\" height=\"{Svg.N(h)}\" fill=\"{color}\">")
                  .Append("<title>").Append(escName).Append(", ").Append(Svg.Escape(categories[c] ?? "")).Append(": ")
                  .Append(Svg.Escape(AxisTicks.FormatValue(v))).Append("</title></rect>\n");
            }
            sb.Append("</g>\n");
        }
        if (vMin < 0)
            sb.Append($"<line class=\"zero\" x1=\"{Svg.N(area.Left)}\" y1=\"{Svg.N(zeroY)}\" x2=\"{Svg.N(area.Right)}\" y2=\"{Svg.N(zeroY)}\" stroke=\"#374151\" stroke-width=\"1\"/>\n");

        Svg.Legend(sb, names, area, legendWidth, LegendSwatch.Box);
        Svg.Close(sb);
        return sb.ToString();
    }

    /// <summary>Writes <see cref="ToSvg"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    /// <param name="path">Destination file; its directory is created if missing.</param>
    public void Save(string path) => Svg.WriteAtomic(path, ToSvg());
}
