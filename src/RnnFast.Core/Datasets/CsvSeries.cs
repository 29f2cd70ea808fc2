// Reads named numeric columns of a CSV file with a header (RFC 4180 through CsvHelper: quoted fields, doubled quotes,
// CRLF or LF). Missing cells (empty, NA, NaN, null) are filled by linear interpolation between the nearest present
// values (the nearest present value at either end) and counted per column; an optional time column is kept as text.
using System.Globalization;
using CsvHelper;

namespace RnnFast.Datasets;

/// <summary>
/// Real-valued columns read from a CSV file with a header, with missing values filled. Columns that are not asked for
/// (a date column, notes) are ignored; the time column, when named, is kept as text for printing forecasts.
/// </summary>
/// <remarks>
/// Numbers are parsed culture-invariantly (<c>1234.5</c>, <c>-1e-3</c>; no thousands separators). A cell that is empty
/// or reads <c>NA</c>, <c>NaN</c> or <c>null</c> (any case, surrounding spaces ignored) is missing; any other text that is
/// not a finite number is an error naming the source, the data row, the column and the text.
/// </remarks>
public sealed class CsvSeries
{
    /// <summary>The cell texts (compared ignoring case, after trimming) that mean "no value here".</summary>
    public static IReadOnlyList<string> MissingMarkers { get; } = ["", "NA", "NaN", "null"];

    private readonly double[][] _values;
    private readonly string[] _columns;

    private CsvSeries(string source, IReadOnlyList<string> header, string[] columns, double[][] values, int[] filled,
        string? timeColumn, string[]? times)
    {
        Source = source;
        AvailableColumns = header;
        _columns = columns;
        Columns = columns;
        _values = values;
        Length = values[0].Length;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < columns.Length; c++) counts[columns[c]] = filled[c];
        FilledCounts = counts;
        TimeColumn = timeColumn;
        Times = times;
    }

    /// <summary>The file path (or the name given for a <see cref="TextReader"/>), as error messages name it.</summary>
    public string Source { get; }

    /// <summary>Every column name of the header, in file order.</summary>
    public IReadOnlyList<string> AvailableColumns { get; }

    /// <summary>The numeric columns read, in the order they were asked for.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The number of data rows (every column has this many values).</summary>
    public int Length { get; }

    /// <summary>How many missing cells were filled by interpolation, per column of <see cref="Columns"/>.</summary>
    public IReadOnlyDictionary<string, int> FilledCounts { get; }

    /// <summary>The column read as text for labelling time steps, or <see langword="null"/> when none was named.</summary>
    public string? TimeColumn { get; }

    /// <summary>The cells of <see cref="TimeColumn"/> as written (trimmed), one per row; <see langword="null"/> without one.</summary>
    public IReadOnlyList<string>? Times { get; }

    /// <summary>A copy of the values of a column of <see cref="Columns"/>, missing values filled.</summary>
    /// <exception cref="ArgumentException"><paramref name="column"/> is not one of <see cref="Columns"/>.</exception>
    public double[] Column(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        int i = Array.IndexOf(_columns, column);
        if (i < 0)
            throw new ArgumentException($"column: '{column}' was not read from {Source}; the columns read are: {string.Join(", ", Columns)}", nameof(column));
        return (double[])_values[i].Clone();
    }

    /// <summary>A copy of the values of column <paramref name="index"/> of <see cref="Columns"/>, missing values filled.</summary>
    public double[] Column(int index)
    {
        if ((uint)index >= (uint)_values.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index: must be in [0, {_values.Length}), the number of columns read");
        return (double[])_values[index].Clone();
    }

    /// <summary>Reads the named numeric columns (and optionally a time column as text) of a CSV file with a header.</summary>
    /// <param name="path">The CSV file (UTF-8, a byte order mark allowed).</param>
    /// <param name="columns">The numeric columns to read, by header name (exact, surrounding spaces in the header ignored).</param>
    /// <param name="timeColumn">A column to keep as text, one label per row (e.g. a date), or <see langword="null"/>.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">No columns are named, a name is repeated, or a column is not in the header
    /// (the message lists the columns that are).</exception>
    /// <exception cref="FormatException">The file has no header or no data rows, a row has a different number of fields
    /// than the header, a quoted field is malformed, a cell is not a number, or a column has no values at all.</exception>
    public static CsvSeries Read(string path, IReadOnlyList<string> columns, string? timeColumn = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"path: {path} not found", path);
        TextCorpus.RequireText(path);
        using var text = new LineLengthLimit(new StreamReader(path, detectEncodingFromByteOrderMarks: true), TextCorpus.MaxLineLength, path);
        return Read(text, columns, timeColumn, path);
    }

    /// <summary>Reads the named numeric columns of CSV text with a header; see <see cref="Read(string, IReadOnlyList{string}, string?)"/>.</summary>
    /// <param name="reader">The CSV text; read to its end, not disposed.</param>
    /// <param name="columns">The numeric columns to read, by header name.</param>
    /// <param name="timeColumn">A column to keep as text, or <see langword="null"/>.</param>
    /// <param name="source">The name error messages give the text (a file path, say).</param>
    public static CsvSeries Read(TextReader reader, IReadOnlyList<string> columns, string? timeColumn = null, string source = "(csv text)")
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(source);
        if (columns.Count == 0) throw new ArgumentException("columns: name at least one numeric column to read", nameof(columns));
        var wanted = new string[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            if (string.IsNullOrWhiteSpace(columns[c])) throw new ArgumentException($"columns: entry {c} is empty", nameof(columns));
            if (Array.IndexOf(wanted, columns[c], 0, c) >= 0) throw new ArgumentException($"columns: '{columns[c]}' is named twice", nameof(columns));
            wanted[c] = columns[c];
        }

        var malformed = new List<CsvMalformedRecord>();
        var options = CsvReaderOptions.Default with
        {
            Separator = ',',
            HasHeader = true,
            TrackLineNumbers = true,
            DetectSeparatorHint = false,
            MalformedData = CsvMalformedDataHandling.Recover,
            OnMalformedRecord = r => malformed.Add(r),
        };
        using var csv = CsvReader.Create(reader, options, leaveOpen: true);

        IReadOnlyList<string> header;
        try { header = [.. csv.Headers]; }
        catch (CsvFormatException e) { throw new FormatException($"{source}: line 1: the header is malformed: {e.Message}", e); }
        if (header.Count == 0 || header.All(string.IsNullOrWhiteSpace))
            throw new FormatException($"{source}: no header line (expected column names on the first line)");
        MalformedQuoting.ThrowIfBad(malformed, source, header: true);

        int[] index = wanted.Select(name => FindColumn(header, name, source, nameof(columns))).ToArray();
        int timeIndex = timeColumn is null ? -1 : FindColumn(header, timeColumn, source, nameof(timeColumn));

        var cells = wanted.Select(_ => new List<double>()).ToArray();
        var times = timeColumn is null ? null : new List<string>();
        while (csv.Read())
        {
            MalformedQuoting.ThrowIfBad(malformed, source, header: false);
            long row = csv.RowNumber, line = csv.LineNumber;
            if (csv.FieldCount != header.Count)
                throw new FormatException($"{source}: row {row} (line {line}): {csv.FieldCount} fields, but the header has {header.Count}");
            for (int c = 0; c < wanted.Length; c++)
                cells[c].Add(ParseCell(csv.GetString(index[c]), source, row, line, wanted[c]));
            times?.Add(csv.GetString(timeIndex).Trim());
        }
        MalformedQuoting.ThrowIfBad(malformed, source, header: false);
        if (cells[0].Count == 0) throw new FormatException($"{source}: no data rows after the header");

        var values = new double[wanted.Length][];
        var filled = new int[wanted.Length];
        for (int c = 0; c < wanted.Length; c++)
        {
            values[c] = [.. cells[c]];
            filled[c] = FillMissing(values[c]);
            if (filled[c] == values[c].Length)
                throw new FormatException($"{source}: column '{wanted[c]}' has no values (all {values[c].Length} cells are missing)");
        }
        return new CsvSeries(source, header, wanted, values, filled, timeColumn, times?.ToArray());
    }

    /// <summary>
    /// Fills the NaN entries of <paramref name="values"/> in place by linear interpolation between the nearest
    /// non-NaN entries on either side; before the first (after the last) present value, that value is repeated.
    /// </summary>
    /// <returns>The number of entries filled (<paramref name="values"/>.Length when none is present: nothing is filled then).</returns>
    public static int FillMissing(Span<double> values)
    {
        int missing = 0, previous = -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i])) { missing++; continue; }
            int gap = i - previous - 1;
            if (gap > 0)
            {
                if (previous < 0) values[..i].Fill(values[i]);
                else
                {
                    double a = values[previous], b = values[i];
                    for (int j = previous + 1; j < i; j++) values[j] = a + (b - a) * (j - previous) / (i - previous);
                }
            }
            previous = i;
        }
        if (previous >= 0 && previous < values.Length - 1) values[(previous + 1)..].Fill(values[previous]);
        return missing;
    }

    private static int FindColumn(IReadOnlyList<string> header, string name, string source, string parameter)
    {
        int found = -1;
        for (int i = 0; i < header.Count; i++)
        {
            if (!string.Equals(header[i].Trim(), name.Trim(), StringComparison.Ordinal)) continue;
            if (found >= 0)
                throw new FormatException($"{source}: the header names column '{name}' twice (columns {found + 1} and {i + 1})");
            found = i;
        }
        if (found < 0)
            throw new ArgumentException($"{parameter}: {source} has no column '{name}'; its columns are: {string.Join(", ", header.Select(h => $"'{h.Trim()}'"))}", parameter);
        return found;
    }

    private static double ParseCell(string cell, string source, long row, long line, string column)
    {
        string text = cell.Trim();
        foreach (string marker in MissingMarkers)
            if (string.Equals(text, marker, StringComparison.OrdinalIgnoreCase)) return double.NaN;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)) return v;
        throw new FormatException($"{source}: row {row} (line {line}), column '{column}': '{Shorten(text)}' is not a finite number " +
                                  "(a missing value is written as an empty cell, NA, NaN or null)");
    }

    internal static string Shorten(string text)
    {
        string flat = text.ReplaceLineEndings(" ");
        return flat.Length <= 60 ? flat : flat[..57] + "...";
    }
}

/// <summary>Turns CsvHelper's reports of malformed quoting into errors naming the source and line.</summary>
internal static class MalformedQuoting
{
    /// <summary>
    /// Throws for the first reported record whose quoting cannot be read back as written: a quoted field never closed,
    /// or text after a closing quote. A stray quote inside an unquoted field (<c>He said "hi"</c>) is kept as text.
    /// </summary>
    public static void ThrowIfBad(List<CsvMalformedRecord> reports, string source, bool header)
    {
        foreach (var r in reports)
        {
            string where = header ? "the header" : r.LineNumber > 0 ? $"the record starting on line {r.LineNumber}" : $"record {r.RecordNumber}";
            switch (r.Reason)
            {
                case CsvMalformedReason.UnterminatedQuote:
                    throw new FormatException($"{source}: {where}: a quoted field is never closed (a quote inside a quoted field is written as two quotes)");
                case CsvMalformedReason.TextAfterClosingQuote:
                    throw new FormatException($"{source}: {where}: text after the closing quote of a quoted field " +
                                              "(a field that starts with a quote must be quoted whole, with inner quotes doubled)");
            }
        }
        reports.Clear();
    }
}
