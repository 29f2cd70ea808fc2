// The single exception type the safetensors reader throws for a file it cannot accept:
// always a one-line message of the form "<file>: <problem>". It is an RnnFormatException, so a caller that loads a
// model (RnnModel.Load, Checkpoint.Read) catches every problem with the file, at any level, with one type.
using System.Text;

namespace RnnFast.IO;

/// <summary>
/// Thrown when a safetensors file cannot be opened or does not follow the format, or when a tensor is
/// requested that the file does not hold (or not in a readable dtype). The message is always one line,
/// "<c>&lt;file&gt;: &lt;problem&gt;</c>".
/// </summary>
public sealed class SafeTensorsFormatException : RnnFormatException
{
    /// <summary>Creates the exception; control characters in <paramref name="problem"/> are escaped so the message stays on one line.</summary>
    public SafeTensorsFormatException(string filePath, string problem, Exception? inner = null)
        : base(filePath ?? string.Empty, problem ?? "unknown problem", inner)
    {
        FilePath = filePath ?? string.Empty;
    }

    /// <summary>The path of the file the problem was found in, as it was given to the reader.</summary>
    public string FilePath { get; }

    /// <summary>Escapes line breaks and other control characters so that text fits on one line.</summary>
    internal static string OneLine(string text)
    {
        int i = 0;
        while (i < text.Length && !NeedsEscape(text[i]))
        {
            i++;
        }

        if (i == text.Length)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        sb.Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (!NeedsEscape(c))
            {
                sb.Append(c);
            }
            else if (c == '\n')
            {
                sb.Append("\\n");
            }
            else if (c == '\r')
            {
                sb.Append("\\r");
            }
            else if (c == '\t')
            {
                sb.Append("\\t");
            }
            else
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static bool NeedsEscape(char c)
        => c < ' ' || c == '\u007f' || c == '\u0085' || c == '\u2028' || c == '\u2029';
}
