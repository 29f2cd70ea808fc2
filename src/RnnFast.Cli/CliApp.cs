// The `rnnfast` command tree and its one entry point, used by Program.cs and, in process, by tests. A command line
// that cannot be parsed (a bad number, an unknown option, a missing required option) is an unusable input like any
// other: one line on stderr and exit code 2 (see CliErrors, CliParseErrors), never a help page with exit code 1.
// `rnnfast help [command]` prints the same as `rnnfast [command] --help`.
using System.CommandLine;

namespace RnnFast.Cli;

/// <summary>Builds the `rnnfast` commands and runs a command line with the given output and error writers.</summary>
public static class CliApp
{
    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("RnnFast: recurrent networks (RNN, LSTM, GRU) on managed SIMD, oneDNN, OpenCL or cuDNN backends");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(SampleCommand.Create());
        root.Subcommands.Add(ClassifyCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(VisualizeCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        return root;
    }

    /// <summary>
    /// Runs <paramref name="args"/> as `rnnfast` would and returns the exit code. Output and errors go to the given
    /// writers (default: the console). Parse errors give exit code 2 and one line naming the problem.
    /// </summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parsed = Build().Parse(CliParseErrors.HelpAlias(args));
        var err = error ?? Console.Error;
        // --help clears the parse errors; an unknown command or option next to it (`rnnfast help frob`) is still one.
        if (parsed.Errors.Count > 0 || parsed.UnmatchedTokens.Count > 0)
        {
            // Every problem on one line in the CLI's words (CliParseErrors), ending with the command's help.
            err.WriteLine($"error: {CliParseErrors.Describe(parsed)}");
            return CliErrors.BadInput;
        }
        if (output == null && StdoutCheck.Problem() is { } problem)
        {
            err.WriteLine($"error: {problem}");
            return CliErrors.BadInput;
        }
        var config = new InvocationConfiguration();
        if (output != null) config.Output = output;
        if (error != null) config.Error = error;
        return parsed.Invoke(config);
    }
}
