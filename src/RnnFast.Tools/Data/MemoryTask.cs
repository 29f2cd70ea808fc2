// A synthetic sequence-classification task that needs long memory: the class is a marker letter at the start of the
// sequence, followed by a long run of distractor characters; plus reading and writing such data sets as TSV/CSV.
using System.Text;

namespace RnnFast.Data;

/// <summary>
/// The "remember the first character" task. Each item's text starts with its class letter ('A' for class 0, 'B' for
/// class 1, ...) followed by random distractors drawn from lowercase letters and digits (which never include a class
/// letter), so the model must carry the marker across the whole sequence to classify it at the end.
/// </summary>
public static class MemoryTask
{
    /// <summary>The characters distractors are drawn from: lowercase ASCII letters and digits.</summary>
    public const string DistractorAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>The largest supported number of classes (one per uppercase letter).</summary>
    public const int MaxClasses = 26;

    /// <summary>The most characters one generated task holds (items x longest length), so an absurd request is refused, not allocated.</summary>
    public const long MaxCharacters = 1L << 31;

    /// <summary>
    /// Generates <paramref name="count"/> items with labels uniform in [0, <paramref name="numClasses"/>) and text
    /// lengths (marker included) uniform in [<paramref name="minLength"/>, <paramref name="maxLength"/>].
    /// The same arguments always give the same items.
    /// </summary>
    /// <param name="count">Number of items (0 or more).</param>
    /// <param name="minLength">Shortest text length, at least 1.</param>
    /// <param name="maxLength">Longest text length, at least <paramref name="minLength"/>.</param>
    /// <param name="numClasses">Number of classes, 1 to 26.</param>
    /// <param name="seed">Seed for <see cref="Random"/>.</param>
    /// <returns>The items: integer label and text.</returns>
    public static IReadOnlyList<(int Label, string Text)> Generate(int count, int minLength, int maxLength, int numClasses, int seed)
    {
        // Each problem names its parameter first ("minLength: must be at least 1, got 0"), so a caller can map it.
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), $"{nameof(count)}: must be 0 or more, got {count}");
        if (minLength < 1) throw new ArgumentOutOfRangeException(nameof(minLength), $"{nameof(minLength)}: must be at least 1, got {minLength}");
        if (maxLength < minLength)
            throw new ArgumentOutOfRangeException(nameof(maxLength), $"{nameof(maxLength)}: must be at least {nameof(minLength)} ({minLength}), got {maxLength}");
        if (numClasses is < 1 or > MaxClasses)
            throw new ArgumentOutOfRangeException(nameof(numClasses), $"{nameof(numClasses)}: must be from 1 to {MaxClasses} (one letter each), got {numClasses}");
        if ((long)count * maxLength > MaxCharacters)
            throw new ArgumentOutOfRangeException(nameof(count),
                $"{nameof(count)}: {count} items of up to {nameof(maxLength)} ({maxLength}) characters is {(long)count * maxLength} characters, more than a generated task holds ({MaxCharacters})");

        var rng = new Random(seed);
        var items = new List<(int, string)>(count);
        for (int n = 0; n < count; n++)
        {
            int label = rng.Next(numClasses);
            int length = rng.Next(minLength, maxLength + 1);
            var chars = new char[length];
            chars[0] = ClassLetter(label);
            for (int i = 1; i < length; i++) chars[i] = DistractorAlphabet[rng.Next(DistractorAlphabet.Length)];
            items.Add((label, new string(chars)));
        }
        return items;
    }

    /// <summary>The marker letter of a class: 'A' for 0, 'B' for 1, ...</summary>
    /// <param name="label">Class index, 0 to 25.</param>
    /// <returns>The letter.</returns>
    public static char ClassLetter(int label)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(label, MaxClasses);
        return (char)('A' + label);
    }

    /// <summary>The class name used in files: the marker letter as a string ("A", "B", ...).</summary>
    /// <param name="label">Class index, 0 to 25.</param>
    /// <returns>The name.</returns>
    public static string ClassName(int label) => ClassLetter(label).ToString();

    /// <summary>The class index of a name written by <see cref="ClassName"/>.</summary>
    /// <param name="name">A single uppercase letter "A".."Z".</param>
    /// <returns>The class index.</returns>
    /// <exception cref="FormatException">The name is not a single uppercase ASCII letter.</exception>
    public static int ClassIndex(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length != 1 || name[0] < 'A' || name[0] > 'Z')
            throw new FormatException($"'{name}' is not a memory-task class name (expected one letter A..Z).");
        return name[0] - 'A';
    }

    /// <summary>Writes items as UTF-8 lines <c>label&lt;TAB&gt;text</c>, labels as class names ("A", "B", ...).</summary>
    /// <param name="path">Destination file (its directory is created if missing).</param>
    /// <param name="items">The items.</param>
    /// <exception cref="ArgumentException">A text contains a tab or line break, which the format cannot hold.</exception>
    public static void WriteTsv(string path, IEnumerable<(int Label, string Text)> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        WriteTsv(path, items.Select(it => (ClassName(it.Label), it.Text)));
    }

    /// <summary>Writes items with string labels as UTF-8 lines <c>label&lt;TAB&gt;text</c>.</summary>
    /// <param name="path">Destination file (its directory is created if missing).</param>
    /// <param name="items">The items.</param>
    /// <exception cref="ArgumentException">A label or text contains a tab or line break, or a label is empty.</exception>
    public static void WriteTsv(string path, IEnumerable<(string Label, string Text)> items)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(items);
        var sb = new StringBuilder();
        int index = 0;
        foreach (var (label, text) in items)
        {
            if (string.IsNullOrWhiteSpace(label) || label.AsSpan().IndexOfAny("\t\r\n") >= 0)
                throw new ArgumentException($"Item {index}: label '{label}' is empty or contains a tab or line break.", nameof(items));
            if (text is null || text.AsSpan().IndexOfAny("\t\r\n") >= 0)
                throw new ArgumentException($"Item {index}: text is null or contains a tab or line break.", nameof(items));
            sb.Append(label).Append('\t').Append(text).Append('\n');
            index++;
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, sb.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    /// <summary>
    /// Reads a labelled text file: one item per line, <c>label&lt;TAB&gt;text</c> or <c>label,text</c> (a tab, when
    /// present, is the separator; otherwise the first comma; no quoting). Blank lines are skipped, as is a first line
    /// reading <c>label&lt;sep&gt;text</c> (a header). Labels are trimmed; texts are kept as they are.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The items with their string labels, in file order.</returns>
    /// <exception cref="FormatException">A line has no separator or an empty label; the message names the file and line number.</exception>
    public static IReadOnlyList<(string Label, string Text)> ReadTsv(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var items = new List<(string, string)>();
        int lineNo = 0;
        bool seenContent = false;
        foreach (string raw in File.ReadLines(path, Encoding.UTF8))
        {
            lineNo++;
            string line = raw.TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line)) continue;
            int sep = line.IndexOf('\t');
            if (sep < 0) sep = line.IndexOf(',');
            if (sep < 0)
                throw new FormatException($"{path}:{lineNo}: expected 'label<TAB>text' or 'label,text' but the line has no tab or comma: '{Shorten(line)}'.");
            string label = line[..sep].Trim();
            string text = line[(sep + 1)..];
            if (label.Length == 0)
                throw new FormatException($"{path}:{lineNo}: empty label before the separator: '{Shorten(line)}'.");
            bool isHeader = !seenContent && label.Equals("label", StringComparison.OrdinalIgnoreCase)
                && text.Trim().Equals("text", StringComparison.OrdinalIgnoreCase);
            seenContent = true;
            if (!isHeader) items.Add((label, text));
        }
        return items;
    }

    private static string Shorten(string line) => line.Length <= 60 ? line : line[..57] + "...";
}
