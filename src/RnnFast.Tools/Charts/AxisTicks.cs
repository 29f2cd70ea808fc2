// "Nice" axis scales for the chart writers: tick steps of 1, 2 or 5 x 10^k on linear axes, 1-2-5 or decade ticks on
// log axes, and compact, culture-invariant tick labels (0.2, 1.5k, 20M, 3e-7).
using System.Globalization;

namespace RnnFast.Charts;

/// <summary>An axis range with its tick positions and their labels, as produced by <see cref="AxisTicks"/>.</summary>
/// <param name="Min">Lower end of the axis (data units).</param>
/// <param name="Max">Upper end of the axis (data units); always greater than <paramref name="Min"/>.</param>
/// <param name="Step">Distance between ticks on a linear axis; 0 on a log axis.</param>
/// <param name="Ticks">Tick positions in ascending order, all within [Min, Max].</param>
/// <param name="Labels">One compact label per tick.</param>
/// <param name="Log">True when the axis is logarithmic (base 10).</param>
public sealed record AxisScale(double Min, double Max, double Step, IReadOnlyList<double> Ticks, IReadOnlyList<string> Labels, bool Log)
{
    /// <summary>Maps a data value to a fraction of the axis length: 0 at <see cref="Min"/>, 1 at <see cref="Max"/>.</summary>
    /// <param name="value">The value to map (must be positive on a log axis).</param>
    /// <returns>The fraction; outside [0, 1] for values outside the axis range.</returns>
    public double Fraction(double value) => Log
        ? (Math.Log10(value) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min))
        : (value - Min) / (Max - Min);
}

/// <summary>Computes "nice" axis ticks and formats their labels compactly with the invariant culture.</summary>
public static class AxisTicks
{
    private const double Limit = 1e300; // inputs are clamped so that spans stay finite

    /// <summary>
    /// A linear axis covering [<paramref name="dataMin"/>, <paramref name="dataMax"/>] with at most about
    /// <paramref name="maxTicks"/> ticks spaced 1, 2 or 5 x 10^k apart. Equal or non-finite bounds are widened to a
    /// usable range, so the result never has a zero span.
    /// </summary>
    /// <param name="dataMin">Smallest data value.</param>
    /// <param name="dataMax">Largest data value.</param>
    /// <param name="maxTicks">Upper bound on the tick count (at least 2).</param>
    /// <param name="extendToTicks">When true the axis range is widened to the enclosing ticks (typical for a value
    /// axis); when false the range is the data range and the ticks fall inside it.</param>
    /// <returns>The axis scale.</returns>
    public static AxisScale Linear(double dataMin, double dataMax, int maxTicks = 6, bool extendToTicks = true)
    {
        if (!double.IsFinite(dataMin) || !double.IsFinite(dataMax)) { dataMin = 0; dataMax = 1; }
        if (dataMin > dataMax) (dataMin, dataMax) = (dataMax, dataMin);
        dataMin = Math.Clamp(dataMin, -Limit, Limit);
        dataMax = Math.Clamp(dataMax, -Limit, Limit);
        if (dataMax - dataMin <= Math.Max(Math.Abs(dataMax), Math.Abs(dataMin)) * 1e-12)
        {
            double pad = dataMax == 0 ? 1 : Math.Abs(dataMax) * 0.1;
            dataMin -= pad;
            dataMax += pad;
        }
        maxTicks = Math.Max(2, maxTicks);

        double step = NiceStep((dataMax - dataMin) / (maxTicks - 1));
        while (true)
        {
            double lo = extendToTicks ? Math.Floor(dataMin / step) * step : dataMin;
            double hi = extendToTicks ? Math.Ceiling(dataMax / step) * step : dataMax;
            long first = (long)Math.Ceiling(lo / step - 1e-9);
            long last = (long)Math.Floor(hi / step + 1e-9);
            // Allow one tick over the bound when the range was extended (0..0.93 by 0.2 gives 0..1, six ticks).
            if (last - first + 1 > maxTicks + (extendToTicks ? 1 : 0))
            {
                step = NiceStep(step * 1.5);
                continue;
            }
            var ticks = new List<double>();
            for (long k = first; k <= last; k++) ticks.Add(Clean(k * step, step));
            if (extendToTicks && ticks.Count > 0) { lo = ticks[0]; hi = ticks[^1]; }
            if (hi <= lo) hi = lo + step;
            return new AxisScale(lo, hi, step, ticks, FormatTicks(ticks, step), Log: false);
        }
    }

    /// <summary>
    /// A base-10 logarithmic axis covering the positive range [<paramref name="dataMin"/>, <paramref name="dataMax"/>]:
    /// ticks at 1, 2 and 5 x 10^k when the range spans at most three decades, otherwise at powers of ten (every
    /// n-th decade for very wide ranges). The range is widened to the enclosing ticks. Non-positive or non-finite
    /// bounds fall back to [1, 10].
    /// </summary>
    /// <param name="dataMin">Smallest positive data value.</param>
    /// <param name="dataMax">Largest data value.</param>
    /// <returns>The axis scale.</returns>
    public static AxisScale Log10(double dataMin, double dataMax)
    {
        if (!(dataMin > 0) || !(dataMax > 0) || !double.IsFinite(dataMin) || !double.IsFinite(dataMax)) { dataMin = 1; dataMax = 10; }
        if (dataMin > dataMax) (dataMin, dataMax) = (dataMax, dataMin);
        dataMin = Math.Max(dataMin, 1e-300);
        dataMax = Math.Min(dataMax, 1e300);
        if (dataMax / dataMin < 1 + 1e-9) { dataMin /= 2; dataMax *= 2; }

        double decades = Math.Log10(dataMax) - Math.Log10(dataMin);
        var candidates = new List<double>();
        int e0 = (int)Math.Floor(Math.Log10(dataMin)) - 1;
        int e1 = (int)Math.Ceiling(Math.Log10(dataMax)) + 1;
        if (decades <= 3)
        {
            for (int e = e0; e <= e1; e++)
                foreach (int m in new[] { 1, 2, 5 }) candidates.Add(Pow10Times(m, e));
        }
        else
        {
            int every = Math.Max(1, (int)Math.Ceiling(decades / 8));
            e0 = FloorDiv(e0, every) * every;
            for (int e = e0; e <= e1 + every; e += every) candidates.Add(Pow10Times(1, e));
        }
        // Widen to the enclosing candidates, then keep the ticks inside.
        double lo = candidates.Where(c => c <= dataMin * (1 + 1e-12)).DefaultIfEmpty(dataMin).Max();
        double hi = candidates.Where(c => c >= dataMax * (1 - 1e-12)).DefaultIfEmpty(dataMax).Min();
        var ticks = candidates.Where(c => c >= lo && c <= hi).ToList();
        var labels = ticks.Select(FormatValue).ToList();
        return new AxisScale(lo, hi, 0, ticks, labels, Log: true);
    }

    /// <summary>The smallest step of the form 1, 2 or 5 x 10^k that is at least <paramref name="rawStep"/>.</summary>
    /// <param name="rawStep">The desired spacing; non-positive or non-finite values give 1.</param>
    /// <returns>The nice step.</returns>
    public static double NiceStep(double rawStep)
    {
        if (!(rawStep > 0) || !double.IsFinite(rawStep)) return 1;
        int exp = (int)Math.Floor(Math.Log10(rawStep));
        double f = rawStep / Pow10Times(1, exp);
        // Guard against log10 landing a hair below an exact power of ten.
        if (f >= 10 * (1 - 1e-12)) { exp++; f /= 10; }
        int m = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10;
        return Pow10Times(m, exp);
    }

    /// <summary>
    /// Formats the ticks of one axis consistently: decimals just fine enough for <paramref name="step"/>, a k/M/G/T
    /// suffix from 10^4 up, scientific notation for very large values or very fine steps; always '.' decimals.
    /// </summary>
    /// <param name="ticks">The tick values.</param>
    /// <param name="step">Their spacing (non-positive: derived from the values' magnitude).</param>
    /// <returns>One label per tick.</returns>
    public static IReadOnlyList<string> FormatTicks(IReadOnlyList<double> ticks, double step)
    {
        double maxAbs = 0;
        foreach (double t in ticks) if (double.IsFinite(t)) maxAbs = Math.Max(maxAbs, Math.Abs(t));
        if (!(step > 0) || !double.IsFinite(step)) step = maxAbs > 0 ? Pow10Times(1, (int)Math.Floor(Math.Log10(maxAbs)) - 2) : 1;

        var labels = new string[ticks.Count];
        bool scientific = maxAbs >= 1e15 || step < 1e-5;
        if (scientific)
        {
            int e = maxAbs > 0 ? (int)Math.Floor(Math.Log10(maxAbs)) : 0;
            int md = Math.Clamp(e - (int)Math.Floor(Math.Log10(step) + 1e-9), 0, 10);
            for (int i = 0; i < ticks.Count; i++) labels[i] = Scientific(ticks[i], e, md);
            return labels;
        }
        (double unit, string suffix) = maxAbs >= 1e12 ? (1e12, "T") : maxAbs >= 1e9 ? (1e9, "G") : maxAbs >= 1e6 ? (1e6, "M") : maxAbs >= 1e4 ? (1e3, "k") : (1.0, "");
        int d = Math.Clamp(-(int)Math.Floor(Math.Log10(step / unit) + 1e-9), 0, 15);
        for (int i = 0; i < ticks.Count; i++) labels[i] = Fixed(ticks[i], unit, d, suffix);
        return labels;
    }

    /// <summary>Formats one value compactly on its own (e.g. a log-axis tick or a terminal-plot label).</summary>
    /// <param name="value">The value.</param>
    /// <returns>A short invariant-culture label.</returns>
    public static string FormatValue(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        if (value == 0) return "0";
        // Three significant digits, trailing zeros dropped.
        double step = Pow10Times(1, (int)Math.Floor(Math.Log10(Math.Abs(value))) - 2);
        string s = FormatTicks(new[] { value }, step)[0];
        return TrimZeros(s);
    }

    private static string Fixed(double v, double unit, int decimals, string suffix)
    {
        if (!double.IsFinite(v)) return FormatValue(v);
        string s = (v / unit).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (IsZeroText(s)) return "0";
        return s + suffix;
    }

    private static string Scientific(double v, int exponent, int mantissaDecimals)
    {
        if (!double.IsFinite(v)) return FormatValue(v);
        double mant = v / Pow10Times(1, exponent);
        string s = mant.ToString("F" + mantissaDecimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (IsZeroText(s)) return "0";
        return s + "e" + exponent.ToString(CultureInfo.InvariantCulture);
    }

    private static bool IsZeroText(string s) => s.TrimStart('-').All(c => c == '0' || c == '.');

    private static string TrimZeros(string s)
    {
        // Drop trailing zeros of the decimal part only, keeping any suffix or exponent.
        int dot = s.IndexOf('.');
        if (dot < 0) return s;
        int end = dot + 1;
        while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
        int cut = end;
        while (cut > dot + 1 && s[cut - 1] == '0') cut--;
        if (cut == dot + 1) cut = dot;
        return s[..cut] + s[end..];
    }

    /// <summary>m x 10^e computed so that small decimal steps are the nearest doubles (0.2, not 0.20000000000000004).</summary>
    private static double Pow10Times(int m, int e) => e >= 0 ? m * Math.Pow(10, e) : m / Math.Pow(10, -e);

    private static double Clean(double v, double step)
    {
        // Round away accumulation noise (0.6000000000000001 -> 0.6) and negative zero.
        int decimals = -(int)Math.Floor(Math.Log10(step)) + 1;
        if (decimals is > 0 and <= 15) v = Math.Round(v, decimals);
        return v == 0 ? 0 : v;
    }

    private static int FloorDiv(int a, int b) => (int)Math.Floor(a / (double)b);
}
