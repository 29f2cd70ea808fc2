// How the CLI reports failures: one line on stderr, no stack trace, and a documented exit code
// (0 success, 1 a check failed, 2 unusable input or an unavailable backend). Messages from the library name its
// properties and parameters; OptionNames turns them into the command's flags.
using System.Text.RegularExpressions;
using RnnFast.Backends;
using RnnFast.IO;

namespace RnnFast.Cli;

internal static partial class CliErrors
{
    public const int Ok = 0;
    public const int CheckFailed = 1;
    public const int BadInput = 2;

    /// <summary>True for the exceptions that mean "the user's input cannot be used" (exit code 2).</summary>
    public static bool IsUserError(Exception e) => e is RnnFormatException or SafeTensorsFormatException or BackendUnavailableException
        or ArgumentException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException or InvalidDataException;

    public static string OneLine(Exception e)
    {
        string msg = e switch
        {
            FileNotFoundException f when !f.Message.Contains(f.FileName ?? "\0", StringComparison.Ordinal) => $"{f.FileName ?? "file"}: not found",
            // .NET's "Access to the path '/x' is denied." (EACCES; also EBADF, see StdoutCheck) in the words of a shell.
            UnauthorizedAccessException u when AccessDenied().Match(u.Message) is { Success: true } m => $"{m.Groups[1].Value}: permission denied",
            _ => e.Message,
        };
        msg = ParameterSuffix().Replace(msg, "");
        // the library's "backend: ..." (BackendRegistry, the name it was given) is the --backend flag here
        if (e is ArgumentException && msg.StartsWith("backend: ", StringComparison.Ordinal)) msg = "--backend: " + msg["backend: ".Length..];
        return OneLine(msg);
    }

    [GeneratedRegex(@"^Access to the path '(.+)' is denied\.?$")]
    private static partial Regex AccessDenied();

    /// <summary>.NET's " (Parameter 'x')" after an ArgumentException's message: the message already names the argument.</summary>
    [GeneratedRegex(@" \(Parameter '[^']*'\)")]
    private static partial Regex ParameterSuffix();

    /// <summary>Line breaks become spaces, other control characters are dropped: an error is always one line.</summary>
    public static string OneLine(string message)
    {
        var sb = new System.Text.StringBuilder(message.Length);
        foreach (char c in message.ReplaceLineEndings(" "))
            if (!char.IsControl(c) && c is not ('\u2028' or '\u2029' or '\u0085')) sb.Append(c);
        return sb.ToString().Trim();
    }

    /// <summary>The cell names --model accepts, as the help lists them.</summary>
    public static readonly string[] CellNames = ["lstm", "gru", "rnn", "rnn_relu"];

    /// <summary>
    /// The --model option's cell name; an unknown one is an ArgumentException naming --model and listing the CLI's
    /// names (lstm, gru, rnn, rnn_relu), with the closest one when it looks like a typo.
    /// </summary>
    public static RnnMode ParseMode(string? text)
    {
        try
        {
            return RnnDesc.ParseMode(text ?? "");
        }
        catch (ArgumentException e)
        {
            string? near = CliParseErrors.Closest((text ?? "").Trim(), CellNames);
            throw new ArgumentException($"--model: unknown cell '{text}' (expected {string.Join(", ", CellNames[..^1])} or {CellNames[^1]})" +
                                        (near != null ? $"; did you mean '{near}'?" : ""), e);
        }
    }

    /// <summary>Writes `error: ` and the one-line message, in the flags of <paramref name="names"/> when given; returns <see cref="BadInput"/>.</summary>
    public static int Report(Exception e, TextWriter? err = null, OptionNames? names = null)
    {
        (err ?? Console.Error).WriteLine($"error: {(names != null ? names.Message(e) : OneLine(e))}");
        return BadInput;
    }
}
