// How the CLI reports failures: one line on stderr, no stack trace, and a documented exit code
// (0 success, 1 a check failed, 2 unusable input or an unavailable backend).
using RnnFast.Backends;
using RnnFast.IO;

namespace RnnFast.Cli;

internal static class CliErrors
{
    public const int Ok = 0;
    public const int CheckFailed = 1;
    public const int BadInput = 2;

    /// <summary>True for the exceptions that mean "the user's input cannot be used" (exit code 2).</summary>
    public static bool IsUserError(Exception e) => e is RnnFormatException or SafeTensorsFormatException or BackendUnavailableException
        or ArgumentException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException;

    public static string OneLine(Exception e)
    {
        string msg = e switch
        {
            FileNotFoundException f => $"{f.FileName ?? "file"}: not found",
            _ => e.Message,
        };
        return msg.ReplaceLineEndings(" ");
    }

    public static int Report(Exception e)
    {
        Console.Error.WriteLine($"error: {OneLine(e)}");
        return BadInput;
    }
}
