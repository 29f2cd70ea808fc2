// Simple features of a text, computed on the fly per character, to find the cells that follow them: inside quotes
// (a string literal: '...' or "...", tripled quotes, backslash escapes), inside brackets, bracket nesting depth,
// position in the line, inside a comment (// or # to the end of the line, or /* ... */). Each value is the feature
// after reading that character (a cell that reacts to a character can only do so from that step on). Correlate:
// Pearson r of every cell against every feature over the steps read.
namespace RnnFast.Models;

/// <summary>A named per-character feature of a text (see <see cref="TextFeatures.Compute"/>).</summary>
public sealed record TextFeature(string Name, float[] Values);

/// <summary>How strongly one cell follows one feature: Pearson's r over the steps (NaN-free: 0 when either is constant).</summary>
public sealed record CellCorrelation(string Feature, int Cell, double R);

/// <summary>Text features per character and their correlation with cell activations.</summary>
public static class TextFeatures
{
    /// <summary>The feature names, in the order <see cref="Compute"/> returns them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["inside quotes", "inside brackets", "bracket depth", "position in line", "inside a comment"];

    /// <summary>Every feature of <paramref name="symbols"/> (one value per character, after reading it).</summary>
    public static IReadOnlyList<TextFeature> Compute(IReadOnlyList<string> symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        int n = symbols.Count;
        float[] quote = new float[n], inBrackets = new float[n], depth = new float[n], column = new float[n], comment = new float[n];
        // A string: opened by ' or " (or a tripled quote, which may span lines), closed by the same quote; a backslash
        // escapes the next character; a string that is not tripled ends at the end of its line (an unclosed one does
        // not swallow the rest of the text). An apostrophe inside a word (don't) opens nothing, unless the letters before
        // it are a string prefix (r'', f'', b'', u'', rb'', ...). Brackets and comment starts inside a string do not count.
        string? quoteChar = null;
        bool triple = false, escaped = false, lineComment = false, blockComment = false;
        int skip = 0, d = 0, col = 0;
        string prev = "";
        for (int i = 0; i < n; i++)
        {
            string s = symbols[i];
            bool wasBlock = blockComment;
            if (s == "\n")
            {
                col = 0;
                lineComment = false;
            }
            else col++;
            if (blockComment) { if (s == "/" && prev == "*") blockComment = false; }
            else if (lineComment) { }
            else if (quoteChar != null)
            {
                if (skip > 0) skip--; // the 2nd and 3rd quote of a tripled opener
                else if (escaped) escaped = false;
                else if (s == "\\") escaped = true;
                else if (s == quoteChar && (!triple || (symbols[i - 1] == s && symbols[i - 2] == s))) quoteChar = null;
                else if (s == "\n" && !triple) quoteChar = null;
            }
            else if (s == "\"" || (s == "'" && OpensSingleQuote(symbols, i)))
            {
                quoteChar = s;
                triple = i + 2 < n && symbols[i + 1] == s && symbols[i + 2] == s;
                skip = triple ? 2 : 0;
                escaped = false;
            }
            else if (s is "(" or "[" or "{") d++;
            else if (s is ")" or "]" or "}") d = Math.Max(0, d - 1);
            else if (s == "#" || (s == "/" && prev == "/")) lineComment = true;
            else if (s == "*" && prev == "/") blockComment = true;
            quote[i] = quoteChar != null ? 1 : 0;
            inBrackets[i] = d > 0 ? 1 : 0;
            depth[i] = d;
            column[i] = col;
            comment[i] = lineComment || blockComment || wasBlock ? 1 : 0;
            prev = s;
        }
        return [new(Names[0], quote), new(Names[1], inBrackets), new(Names[2], depth), new(Names[3], column), new(Names[4], comment)];
    }

    /// <summary>Whether the ' at <paramref name="i"/> opens a string: not after a letter or digit (an apostrophe in a word), unless those letters are a string prefix.</summary>
    private static bool OpensSingleQuote(IReadOnlyList<string> symbols, int i)
    {
        int start = i;
        while (start > 0 && symbols[start - 1].Length == 1 && char.IsLetterOrDigit(symbols[start - 1][0])) start--;
        if (start == i) return true;
        if (i - start > 2 || (start > 0 && symbols[start - 1] == "_")) return false;
        string word = string.Concat(symbols.Skip(start).Take(i - start)).ToLowerInvariant();
        return word is "r" or "u" or "b" or "f" or "rb" or "br" or "fr" or "rf";
    }

    /// <summary>
    /// Pearson's r of every cell of <paramref name="activations"/> against every feature, over the characters the model
    /// read. Returns (features, cells): entry [f][c]; 0 where the feature or the cell is constant over the text.
    /// </summary>
    public static double[][] Correlate(CellActivations activations, IReadOnlyList<TextFeature> features)
    {
        ArgumentNullException.ThrowIfNull(activations);
        ArgumentNullException.ThrowIfNull(features);
        int T = activations.Steps, H = activations.Cells;
        var rows = new List<int>(T); // the character index of every step
        for (int i = 0; i < activations.StepOf.Count; i++) if (activations.StepOf[i] >= 0) rows.Add(i);
        var result = new double[features.Count][];
        // Per-cell mean and spread, once.
        var mean = new double[H];
        var spread = new double[H];
        for (int t = 0; t < T; t++)
            for (int c = 0; c < H; c++) mean[c] += activations.Values[t * H + c];
        for (int c = 0; c < H; c++) mean[c] /= Math.Max(1, T);
        for (int t = 0; t < T; t++)
            for (int c = 0; c < H; c++) { double v = activations.Values[t * H + c] - mean[c]; spread[c] += v * v; }
        for (int f = 0; f < features.Count; f++)
        {
            var x = features[f].Values;
            if (x.Length != activations.Symbols.Count)
                throw new ArgumentException($"features: '{features[f].Name}' has {x.Length} values, expected {activations.Symbols.Count} (one per character)", nameof(features));
            double fm = 0;
            foreach (int i in rows) fm += x[i];
            fm /= Math.Max(1, T);
            double fs = 0;
            var cov = new double[H];
            for (int t = 0; t < T; t++)
            {
                double dx = x[rows[t]] - fm;
                fs += dx * dx;
                if (dx == 0) continue;
                for (int c = 0; c < H; c++) cov[c] += dx * (activations.Values[t * H + c] - mean[c]);
            }
            var r = new double[H];
            for (int c = 0; c < H; c++)
                r[c] = fs > 0 && spread[c] > 1e-12 ? Math.Clamp(cov[c] / Math.Sqrt(fs * spread[c]), -1, 1) : 0;
            result[f] = r;
        }
        return result;
    }

    /// <summary>For each feature, the <paramref name="top"/> cells that follow it most strongly (largest |r| first).</summary>
    public static IReadOnlyList<IReadOnlyList<CellCorrelation>> Rank(IReadOnlyList<TextFeature> features, double[][] r, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(r);
        return features.Select((f, i) => (IReadOnlyList<CellCorrelation>)r[i].Select((v, c) => new CellCorrelation(f.Name, c, v))
            .OrderByDescending(x => Math.Abs(x.R)).ThenBy(x => x.Cell).Take(top).ToArray()).ToArray();
    }
}
