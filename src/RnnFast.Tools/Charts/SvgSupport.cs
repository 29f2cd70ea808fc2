// Small helpers shared by the SVG chart writers: XML escaping, invariant number formatting, the series palette,
// rough text-width estimates and the atomic file write.
using System.Globalization;
using System.Text;

namespace RnnFast.Charts;

/// <summary>Colours assigned to chart series, in order.</summary>
public static class ChartPalette
{
    private static readonly string[] Base =
    {
        "#2563eb", // blue
        "#dc2626", // red
        "#16a34a", // green
        "#d97706", // amber
        "#7c3aed", // violet
        "#0891b2", // cyan
        "#db2777", // pink
        "#4b5563", // slate
        "#65a30d", // lime
        "#92400e", // brown
    };

    /// <summary>
    /// The colour (as "#rrggbb") of the series at <paramref name="index"/>: ten hand-picked colours, then hues spread
    /// by the golden angle so that any number of series stay distinguishable.
    /// </summary>
    /// <param name="index">Zero-based series index.</param>
    /// <returns>A CSS hex colour.</returns>
    public static string Color(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (index < Base.Length) return Base[index];
        double hue = (index - Base.Length) * 137.508 % 360;
        double lightness = 0.38 + 0.12 * ((index / 3) % 2);
        return Hsl(hue, 0.65, lightness);
    }

    private static string Hsl(double h, double s, double l)
    {
        double c = (1 - Math.Abs(2 * l - 1)) * s;
        double x = c * (1 - Math.Abs(h / 60 % 2 - 1));
        double m = l - c / 2;
        (double r, double g, double b) = h switch
        {
            < 60 => (c, x, 0.0),
            < 120 => (x, c, 0.0),
            < 180 => (0.0, c, x),
            < 240 => (0.0, x, c),
            < 300 => (x, 0.0, c),
            _ => (c, 0.0, x),
        };
        static int Byte(double v) => Math.Clamp((int)Math.Round(v * 255), 0, 255);
        return string.Create(CultureInfo.InvariantCulture, $"#{Byte(r + m):x2}{Byte(g + m):x2}{Byte(b + m):x2}");
    }
}

/// <summary>Internal building blocks of the SVG writers.</summary>
internal static class Svg
{
    public const string Namespace = "http://www.w3.org/2000/svg";
    public const double FontSize = 12;
    public const double TitleFontSize = 16;

    /// <summary>Escapes text for XML content and attribute values; characters XML 1.0 forbids become U+FFFD.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                case '\t': case '\n': case '\r': sb.Append(' '); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        sb.Append(c).Append(text[i + 1]);
                        i++;
                    }
                    else if (c < 0x20 || char.IsSurrogate(c) || c == '\uFFFE' || c == '\uFFFF')
                        sb.Append('\uFFFD');
                    else
                        sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A coordinate with at most two decimals, invariant culture, never "-0".</summary>
    public static string N(double v)
    {
        if (!double.IsFinite(v)) v = 0;
        string s = Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);
        return s == "-0" ? "0" : s;
    }

    /// <summary>Approximate rendered width of <paramref name="text"/> in a sans-serif font.</summary>
    public static double TextWidth(string text, double fontSize = FontSize) => text.Length * fontSize * 0.6;

    /// <summary>Shortens <paramref name="text"/> with an ellipsis so that it fits roughly in <paramref name="width"/>.</summary>
    public static string Fit(string text, double width, double fontSize = FontSize)
    {
        int maxChars = Math.Max(1, (int)Math.Floor(width / (fontSize * 0.6) + 1e-6));
        return text.Length <= maxChars ? text : text[..Math.Max(0, maxChars - 1)] + "\u2026";
    }

    public static void Open(StringBuilder sb, int width, int height, string title)
    {
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "Chart width must be positive.");
        if (height <= 0) throw new ArgumentOutOfRangeException(nameof(height), height, "Chart height must be positive.");
        sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.Append($"<svg xmlns=\"{Namespace}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" ")
          .Append($"font-family=\"sans-serif\" font-size=\"{N(FontSize)}\">\n");
        if (title.Length > 0) sb.Append("<title>").Append(Escape(title)).Append("</title>\n");
        sb.Append($"<rect class=\"background\" x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n");
        if (title.Length > 0)
            sb.Append($"<text class=\"chart-title\" x=\"{N(width / 2.0)}\" y=\"{N(TitleFontSize + 8)}\" text-anchor=\"middle\" ")
              .Append($"font-size=\"{N(TitleFontSize)}\" font-weight=\"bold\">").Append(Escape(title)).Append("</text>\n");
    }

    public static void Close(StringBuilder sb) => sb.Append("</svg>\n");

    /// <summary>Horizontal grid lines and labels of a value (y) axis.</summary>
    public static void YAxis(StringBuilder sb, AxisScale scale, PlotArea area)
    {
        sb.Append("<g class=\"y-axis\">\n");
        for (int i = 0; i < scale.Ticks.Count; i++)
        {
            double y = area.Y(scale, scale.Ticks[i]);
            sb.Append($"<line class=\"grid\" x1=\"{N(area.Left)}\" y1=\"{N(y)}\" x2=\"{N(area.Right)}\" y2=\"{N(y)}\" stroke=\"#e5e7eb\" stroke-width=\"1\"/>\n");
            sb.Append($"<text class=\"tick-label y-tick\" x=\"{N(area.Left - 6)}\" y=\"{N(y + 4)}\" text-anchor=\"end\" fill=\"#374151\">")
              .Append(Escape(scale.Labels[i])).Append("</text>\n");
        }
        sb.Append("</g>\n");
    }

    /// <summary>Left and bottom axis lines plus the axis titles.</summary>
    public static void Frame(StringBuilder sb, PlotArea area, string xLabel, string yLabel, int height)
    {
        sb.Append($"<line class=\"axis\" x1=\"{N(area.Left)}\" y1=\"{N(area.Top)}\" x2=\"{N(area.Left)}\" y2=\"{N(area.Bottom)}\" stroke=\"#374151\" stroke-width=\"1\"/>\n");
        sb.Append($"<line class=\"axis\" x1=\"{N(area.Left)}\" y1=\"{N(area.Bottom)}\" x2=\"{N(area.Right)}\" y2=\"{N(area.Bottom)}\" stroke=\"#374151\" stroke-width=\"1\"/>\n");
        if (xLabel.Length > 0)
            sb.Append($"<text class=\"axis-label x-label\" x=\"{N((area.Left + area.Right) / 2)}\" y=\"{N(height - 10)}\" text-anchor=\"middle\">")
              .Append(Escape(xLabel)).Append("</text>\n");
        if (yLabel.Length > 0)
        {
            double cx = 16, cy = (area.Top + area.Bottom) / 2;
            sb.Append($"<text class=\"axis-label y-label\" x=\"{N(cx)}\" y=\"{N(cy)}\" text-anchor=\"middle\" transform=\"rotate(-90 {N(cx)} {N(cy)})\">")
              .Append(Escape(yLabel)).Append("</text>\n");
        }
    }

    /// <summary>The legend, one entry per series, to the right of the plot area.</summary>
    public static void Legend(StringBuilder sb, IReadOnlyList<string> names, PlotArea area, double legendWidth, LegendSwatch swatch)
    {
        if (names.Count == 0) return;
        double x = area.Right + 15, y = area.Top + 4;
        const double row = 18;
        sb.Append("<g class=\"legend\">\n");
        for (int i = 0; i < names.Count; i++)
        {
            string color = ChartPalette.Color(i);
            double cy = y + i * row + 6;
            switch (swatch)
            {
                case LegendSwatch.Box:
                    sb.Append($"<rect class=\"legend-swatch\" x=\"{N(x)}\" y=\"{N(cy - 6)}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\n");
                    break;
                default:
                    sb.Append($"<line class=\"legend-swatch\" x1=\"{N(x)}\" y1=\"{N(cy)}\" x2=\"{N(x + 18)}\" y2=\"{N(cy)}\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
                    if (swatch == LegendSwatch.LineWithMarker)
                        sb.Append($"<circle class=\"legend-swatch\" cx=\"{N(x + 9)}\" cy=\"{N(cy)}\" r=\"3\" fill=\"{color}\"/>\n");
                    break;
            }
            string text = Fit(names[i], legendWidth - 26);
            sb.Append($"<text class=\"legend-label\" x=\"{N(x + 24)}\" y=\"{N(cy + 4)}\">").Append(Escape(text)).Append("</text>\n");
        }
        sb.Append("</g>\n");
    }

    /// <summary>Writes <paramref name="content"/> to a temporary file next to <paramref name="path"/> and renames it into place.</summary>
    public static void WriteAtomic(string path, string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            File.WriteAllText(tmp, content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}

/// <summary>How a legend entry is drawn.</summary>
internal enum LegendSwatch { Line, LineWithMarker, Box }

/// <summary>The rectangle the data is drawn in, in SVG pixels.</summary>
internal readonly record struct PlotArea(double Left, double Top, double Right, double Bottom)
{
    public double Width => Right - Left;
    public double Height => Bottom - Top;
    public double X(AxisScale scale, double v) => Left + scale.Fraction(v) * Width;
    public double Y(AxisScale scale, double v) => Bottom - scale.Fraction(v) * Height;

    /// <summary>Lays out margins for tick labels, axis titles, the title and a legend of the given width.</summary>
    public static PlotArea Layout(int width, int height, bool hasTitle, bool hasXLabel, bool hasYLabel, double yTickLabelWidth, double legendWidth)
    {
        double left = 10 + (hasYLabel ? 22 : 0) + yTickLabelWidth + 8;
        double right = width - (legendWidth > 0 ? legendWidth + 25 : 20);
        double top = hasTitle ? Svg.TitleFontSize + 24 : 16;
        double bottom = height - (hasXLabel ? 46 : 28);
        // Tiny charts still produce a well-formed (if cramped) plot area.
        if (right - left < 10) { double mid = (left + right) / 2; left = mid - 5; right = mid + 5; }
        if (bottom - top < 10) { double mid = (top + bottom) / 2; top = mid - 5; bottom = mid + 5; }
        return new PlotArea(left, top, right, bottom);
    }
}
