// Plain-text charts for the terminal (Unicode block and box-drawing characters): a one-line sparkline and a small
// line plot with a labelled y axis, used to show a loss curve or throughput trend while a command runs.
using System.Text;

namespace RnnFast.Charts;

/// <summary>Text charts for the terminal.</summary>
public static class TerminalChart
{
    private const string Blocks = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"; // ▁▂▃▄▅▆▇█

    /// <summary>
    /// A one-line sparkline of eight block heights. With more values than <paramref name="width"/> they are averaged
    /// in equal buckets, so the result has min(values.Count, width) characters. NaN or infinite values (or buckets
    /// of them only) are spaces; all-equal values draw a flat middle line.
    /// </summary>
    /// <param name="values">The values, oldest first.</param>
    /// <param name="width">Maximum number of characters (at least 1).</param>
    /// <returns>The sparkline ("" for no values).</returns>
    public static string Sparkline(IReadOnlyList<double> values, int width = 60)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int n = Math.Min(values.Count, width);
        var cols = new double[n];
        for (int c = 0; c < n; c++)
        {
            int a = (int)((long)c * values.Count / n), b = (int)((long)(c + 1) * values.Count / n);
            double sum = 0; int k = 0;
            for (int i = a; i < b; i++) if (double.IsFinite(values[i])) { sum += values[i]; k++; }
            cols[c] = k > 0 ? sum / k : double.NaN;
        }
        var (min, max) = Range(cols);
        var sb = new StringBuilder(n);
        foreach (double v in cols)
        {
            if (!double.IsFinite(v)) { sb.Append(' '); continue; }
            int level = max > min ? (int)Math.Round((v - min) / (max - min) * (Blocks.Length - 1)) : Blocks.Length / 2 - 1;
            sb.Append(Blocks[Math.Clamp(level, 0, Blocks.Length - 1)]);
        }
        return sb.ToString();
    }

    /// <summary>
    /// A line plot <paramref name="height"/> rows by <paramref name="width"/> columns, with the maximum in the top row
    /// and the minimum in the bottom row, y labels on the left (max, middle, min), an x axis line and the first and
    /// last index below it. Every plot row is "label ┤" or "label │" followed by exactly <paramref name="width"/>
    /// characters, the line drawn with box-drawing characters (─ ╮ │ ╰ ╯ ╭). More values than columns are bucketed:
    /// a column shows its bucket's mean, or the overall max or min when the bucket holds it, so extremes survive.
    /// Fewer values are spread over the width and joined by straight segments. Non-finite values leave gaps.
    /// </summary>
    /// <param name="values">The values, oldest first.</param>
    /// <param name="width">Plot columns (at least 2).</param>
    /// <param name="height">Plot rows (at least 2).</param>
    /// <param name="title">Optional first line.</param>
    /// <returns>The plot, lines separated by '\n', no trailing newline.</returns>
    public static string LinePlot(IReadOnlyList<double> values, int width = 70, int height = 12, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 2);

        // One value per column (NaN = gap).
        var col = new double[width];
        Array.Fill(col, double.NaN);
        int n = values.Count;
        double gMin = double.PositiveInfinity, gMax = double.NegativeInfinity;
        foreach (double v in values) if (double.IsFinite(v)) { gMin = Math.Min(gMin, v); gMax = Math.Max(gMax, v); }
        if (n >= width)
        {
            // Bucket means, except that a bucket holding the overall max or min shows it, so extremes survive.
            for (int c = 0; c < width; c++)
            {
                int a = (int)((long)c * n / width), b = (int)((long)(c + 1) * n / width);
                double sum = 0; int k = 0; bool hasMax = false, hasMin = false;
                for (int i = a; i < b; i++)
                {
                    double v = values[i];
                    if (!double.IsFinite(v)) continue;
                    sum += v; k++;
                    hasMax |= v == gMax;
                    hasMin |= v == gMin;
                }
                if (k > 0) col[c] = hasMax ? gMax : hasMin ? gMin : sum / k;
            }
        }
        else if (n == 1)
        {
            if (double.IsFinite(values[0])) Array.Fill(col, values[0]);
        }
        else if (n > 1)
        {
            // Value i sits exactly at column round(i (w-1)/(n-1)); columns between two finite values interpolate.
            for (int i = 0; i + 1 < n; i++)
            {
                int c0 = Col(i), c1 = Col(i + 1);
                double v0 = values[i], v1 = values[i + 1];
                if (double.IsFinite(v0)) col[c0] = v0;
                if (double.IsFinite(v1)) col[c1] = v1;
                if (!double.IsFinite(v0) || !double.IsFinite(v1)) continue;
                for (int c = c0 + 1; c < c1; c++) col[c] = v0 + (v1 - v0) * (c - c0) / (c1 - c0);
            }
            int Col(int i) => (int)Math.Round(i * (double)(width - 1) / (n - 1));
        }

        bool hasData = gMin <= gMax;
        double min = hasData ? gMin : 0, max = hasData ? gMax : 1;
        int Row(double v) => max > min ? Math.Clamp((int)Math.Round((max - v) / (max - min) * (height - 1)), 0, height - 1) : (height - 1) / 2;

        var grid = new char[height, width];
        for (int r = 0; r < height; r++) for (int c = 0; c < width; c++) grid[r, c] = ' ';
        for (int c = 0; c < width; c++)
        {
            if (double.IsNaN(col[c])) continue;
            int r = Row(col[c]);
            if (c == 0 || double.IsNaN(col[c - 1])) { grid[r, c] = '\u2500'; continue; }
            int p = Row(col[c - 1]);
            if (p == r) { grid[r, c] = '\u2500'; continue; }            // ─
            // A step between columns: a corner where the line leaves the previous row, a vertical run, and a corner
            // where it arrives (╮ │ ╰ going down, ╯ │ ╭ going up).
            bool down = r > p;
            grid[p, c] = down ? '\u256E' : '\u256F';
            grid[r, c] = down ? '\u2570' : '\u256D';
            for (int y = Math.Min(p, r) + 1; y < Math.Max(p, r); y++) grid[y, c] = '\u2502';
        }

        // Labels: max on the top row, min on the bottom row, the midpoint on the middle row.
        var labels = new string[height];
        for (int r = 0; r < height; r++) labels[r] = "";
        if (hasData)
        {
            var labelValues = height >= 3 ? new[] { max, (max + min) / 2, min } : new[] { max, min };
            double step = max > min ? (max - min) / (height - 1) : 0;
            var text = AxisTicks.FormatTicks(labelValues, step);
            labels[0] = text[0];
            labels[height - 1] = text[^1];
            if (height >= 3) labels[(height - 1) / 2] = height % 2 == 1 ? text[1] : "";
        }
        int labelWidth = Math.Max(1, labels.Max(l => l.Length));

        var sb = new StringBuilder();
        if (!string.IsNullOrEmpty(title)) sb.Append(title).Append('\n');
        for (int r = 0; r < height; r++)
        {
            sb.Append(labels[r].PadLeft(labelWidth)).Append(' ').Append(labels[r].Length > 0 ? '\u2524' : '\u2502');
            for (int c = 0; c < width; c++) sb.Append(grid[r, c]);
            sb.Append('\n');
        }
        sb.Append(new string(' ', labelWidth + 1)).Append('\u2514').Append(new string('\u2500', width)).Append('\n');
        string first = "0", last = Math.Max(0, n - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string axis = first + (n > 1 ? last.PadLeft(Math.Max(1, width - first.Length)) : "");
        sb.Append(new string(' ', labelWidth + 2)).Append(axis);
        return sb.ToString();
    }

    private static (double Min, double Max) Range(double[] values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
            if (double.IsFinite(v)) { min = Math.Min(min, v); max = Math.Max(max, v); }
        return min <= max ? (min, max) : (double.NaN, double.NaN);
    }
}
