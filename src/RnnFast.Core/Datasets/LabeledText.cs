// Labelled texts as LABEL<TAB>TEXT rows with no header, RFC 4180 quoting with a tab separator (through CsvHelper): a
// field holding a tab, a quote or a line break is quoted, inner quotes doubled. Reads what the classifier trains on
// and writes the same format.
using System.Text;
using CsvHelper;

namespace RnnFast.Datasets;

/// <summary>
/// Reads and writes labelled texts, one <c>LABEL&lt;TAB&gt;TEXT</c> record per row, no header.
/// </summary>
/// <remarks>
/// <para>Fields follow RFC 4180 with a tab as the separator: a field that starts with a quote is a quoted field, in
/// which tabs and line breaks are text and <c>""</c> is one quote; a quote elsewhere in an unquoted field is kept as
/// text (<c>He said "hi"</c>). Lines end with LF or CRLF.</para>
/// <para>Also read, as the earlier line-based reader did: blank lines are skipped; a first record reading
/// <c>label</c>, <c>text</c> (any case, label unquoted) is a header and skipped; a row with no tab is split at its first comma
/// (<c>label,text</c>, no quoting); labels are trimmed, texts kept as they are.</para>
/// </remarks>
public static class LabeledText
{
    /// <summary>Reads a labelled text file.</summary>
    /// <param name="path">The file (UTF-8, a byte order mark allowed).</param>
    /// <returns>The items in file order.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A row has more than two fields, no separator, or an empty label, or its quoting
    /// is malformed; the message names the file, the row and its line.</exception>
    public static IReadOnlyList<(string Label, string Text)> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"path: {path} not found", path);
        TextCorpus.RequireText(path);
        using var text = new LineLengthLimit(new StreamReader(path, detectEncodingFromByteOrderMarks: true), TextCorpus.MaxLineLength, path);
        return Read(text, path);
    }

    /// <summary>Reads labelled texts from a <see cref="TextReader"/> (read to its end, not disposed).</summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">The name error messages give the text (a file path, say).</param>
    public static IReadOnlyList<(string Label, string Text)> Read(TextReader reader, string source = "(labelled text)")
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(source);
        var malformed = new List<CsvMalformedRecord>();
        var options = CsvReaderOptions.Default with
        {
            Separator = '\t',
            HasHeader = false,
            TrackLineNumbers = true,
            DetectSeparatorHint = false,
            MalformedData = CsvMalformedDataHandling.Recover,
            OnMalformedRecord = r => malformed.Add(r),
        };
        using var tsv = CsvReader.Create(reader, options, leaveOpen: true);
        var items = new List<(string, string)>();
        bool first = true;
        while (tsv.Read())
        {
            MalformedQuoting.ThrowIfBad(malformed, source, header: false);
            long row = tsv.RowNumber, line = tsv.LineNumber;
            string where = $"{source}: row {row} (line {line})";
            string label, text;
            if (tsv.FieldCount == 1)
            {
                string only = tsv.GetString(0);
                if (string.IsNullOrWhiteSpace(only)) continue;
                int comma = only.IndexOf(',');
                if (comma < 0)
                    throw new FormatException($"{where}: expected LABEL<TAB>TEXT but the row has no tab (or comma): '{CsvSeries.Shorten(only)}'");
                (label, text) = (only[..comma], only[(comma + 1)..]);
            }
            else if (tsv.FieldCount == 2) (label, text) = (tsv.GetString(0), tsv.GetString(1));
            else
                throw new FormatException($"{where}: {tsv.FieldCount} tab-separated fields, expected 2 (LABEL<TAB>TEXT); " +
                                          "a text holding a tab must be quoted: \"...\" with inner quotes doubled");
            label = label.Trim();
            if (label.Length == 0) throw new FormatException($"{where}: empty label before the separator");
            bool header = first && !(tsv.FieldCount == 2 && StartsQuoted(tsv.GetRawSpan(0))) && label.Equals("label", StringComparison.OrdinalIgnoreCase)
                          && text.Trim().Equals("text", StringComparison.OrdinalIgnoreCase);
            first = false;
            if (!header) items.Add((label, text));
        }
        MalformedQuoting.ThrowIfBad(malformed, source, header: false);
        return items;
    }

    private static bool StartsQuoted(ReadOnlySpan<byte> raw) => raw.TrimStart(" \t"u8).StartsWith("\""u8);

    /// <summary>Writes labelled texts to a file as UTF-8 (no byte order mark), LF line ends; its directory is created if missing.</summary>
    /// <param name="path">The destination.</param>
    /// <param name="items">The items; labels non-empty without surrounding whitespace (the reader trims labels).</param>
    /// <exception cref="ArgumentException">A label is empty or has surrounding whitespace, or a text is null.</exception>
    public static void Write(string path, IEnumerable<(string Label, string Text)> items)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(items);
        var buffered = Check(items);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var file = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        WriteChecked(file, buffered);
    }

    /// <summary>Writes labelled texts to a <see cref="TextWriter"/> (flushed, not disposed); see <see cref="Write(string, IEnumerable{ValueTuple{string, string}})"/>.</summary>
    public static void Write(TextWriter writer, IEnumerable<(string Label, string Text)> items)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(items);
        WriteChecked(writer, Check(items));
    }

    private static List<(string Label, string Text)> Check(IEnumerable<(string Label, string Text)> items)
    {
        var list = new List<(string, string)>();
        foreach (var (label, text) in items)
        {
            if (string.IsNullOrWhiteSpace(label) || label.Trim().Length != label.Length)
                throw new ArgumentException($"items: item {list.Count}: label '{label}' is empty or has surrounding whitespace, which reading trims", nameof(items));
            if (text is null) throw new ArgumentException($"items: item {list.Count}: text is null", nameof(items));
            list.Add((label, text));
        }
        return list;
    }

    private static void WriteChecked(TextWriter writer, List<(string Label, string Text)> items)
    {
        // A first item reading label/text would be taken for a header: quote it so that reading keeps it (the reader
        // only skips an unquoted header).
        bool quoteFirst = items.Count > 0 && items[0].Label.Equals("label", StringComparison.OrdinalIgnoreCase)
                          && items[0].Text.Trim().Equals("text", StringComparison.OrdinalIgnoreCase);
        var options = CsvWriterOptions.Default with { Separator = '\t', NewLine = "\n", HasHeader = false };
        using var tsv = CsvWriter.Create(writer, options, leaveOpen: true);
        for (int i = 0; i < items.Count; i++)
        {
            var quoting = i == 0 && quoteFirst ? CsvQuoting.Always : CsvQuoting.WhenNeeded;
            tsv.WriteField(items[i].Label, quoting);
            tsv.WriteField(items[i].Text, quoting);
            tsv.EndRecord();
        }
        tsv.Flush();
        writer.Flush();
    }
}
