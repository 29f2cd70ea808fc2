// A command line System.CommandLine could not parse, as one line in the CLI's own words: an unknown option with the
// closest option of that command (`unknown option '--hiden' (did you mean '--hidden'?)`), a value of the wrong type
// (`--max-seconds: 'abc' is not a number`, never a .NET type name), a missing required option (`--data: required`),
// always ending with the subcommand's help (`see 'rnnfast train --help'`). `rnnfast help [command]` is --help.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace RnnFast.Cli;

internal static partial class CliParseErrors
{
    /// <summary>`rnnfast help [command...]` becomes `rnnfast [command...] --help`; other command lines are unchanged.</summary>
    public static string[] HelpAlias(string[] args) =>
        args.Length > 0 && args[0] == "help" ? [.. args[1..], "--help"] : args;

    /// <summary>The `rnnfast` and subcommand words of the command the parser reached, e.g. `rnnfast train`.</summary>
    public static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (SymbolResult? r = parsed.CommandResult; r != null; r = r.Parent)
            if (r is CommandResult { Command: not RootCommand } c) names.Insert(0, c.Command.Name);
        return string.Join(' ', ["rnnfast", .. names]);
    }

    /// <summary>Every parse error of <paramref name="parsed"/> on one line, unknown tokens first, ending with the command's help.</summary>
    public static string Describe(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var problems = new List<string>();
        var unmatched = parsed.UnmatchedTokens;
        if (unmatched.Count > 0) problems.Add(Unknown(command, unmatched[0]));
        foreach (var e in parsed.Errors)
        {
            if (e.SymbolResult is CommandResult && unmatched.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) continue;
            if (unmatched.Count > 0 && e.SymbolResult is CommandResult { Command: RootCommand }) continue; // "a command is required": the unknown one says it
            problems.Add(Describe(e, command));
        }
        return $"{string.Join("; ", problems.Distinct())} (see '{CommandPath(parsed)} --help')";
    }

    private static string Describe(ParseError e, Command command)
    {
        var optionResult = e.SymbolResult as OptionResult ?? e.SymbolResult?.Parent as OptionResult;
        if (optionResult != null)
        {
            var option = optionResult.Option;
            string kind = KindOf(option.ValueType);
            var tokens = optionResult.Tokens;
            if (tokens.Count == 0 && kind != "") return $"{option.Name}: needs a value ({kind})";
            if (kind != "")
                foreach (var t in tokens)
                    if (ValueProblem(t.Value, option.ValueType) is { } problem) return $"{option.Name}: {problem}";
        }
        string msg = CliErrors.OneLine(e.Message);
        if (RequiredOption().Match(msg) is { Success: true } m) return $"{m.Groups[1].Value}: required";
        if (e.SymbolResult is CommandResult { Command: RootCommand } && msg.StartsWith("Required command", StringComparison.Ordinal))
            return $"a command is required ({string.Join(", ", command.Subcommands.Select(c => c.Name))})";
        return TypeName().Replace(msg, "");
    }

    /// <summary>An unknown token: an option (with the closest one of <paramref name="command"/>) or a command or argument.</summary>
    private static string Unknown(Command command, string token)
    {
        if (token.StartsWith('-'))
        {
            string name = token.Split('=', ':')[0];
            string? near = Closest(name, command.Options.Concat(Ancestors(command)).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal)));
            return $"unknown option '{name}'" + (near != null ? $" (did you mean '{near}'?)" : "");
        }
        if (command is RootCommand || command.Subcommands.Count > 0)
        {
            string? near = Closest(token, command.Subcommands.Select(c => c.Name));
            return $"unknown command '{token}'" + (near != null ? $" (did you mean '{near}'?)" : "");
        }
        return $"unexpected argument '{token}'";
    }

    /// <summary>The recursive options of the commands above <paramref name="command"/> (--help, --version).</summary>
    private static IEnumerable<Option> Ancestors(Command command) =>
        command is RootCommand ? [] : CliApp.Build().Options.Where(o => o.Recursive);

    /// <summary>The candidate nearest to <paramref name="typed"/> in edit distance, if it is near enough to be a typo.</summary>
    public static string? Closest(string typed, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates.Distinct())
        {
            int d = Distance(typed.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (c, d);
        }
        if (best == null) return null;
        int core = best.TrimStart('-').Length;
        return bestDistance <= Math.Max(1, Math.Min(3, core / 3)) ? best : null;
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions; a swap of neighbours counts 1).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    /// <summary>What a value of <paramref name="type"/> is called in a message ("an integer", "a number"), or "" for text.</summary>
    private static string KindOf(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(int) || t == typeof(long) || t == typeof(short)) return "an integer";
        if (t == typeof(double) || t == typeof(float) || t == typeof(decimal)) return "a number";
        if (t == typeof(bool)) return "true or false";
        return "";
    }

    /// <summary>Why <paramref name="text"/> is no value of <paramref name="type"/>, or null when it is one.</summary>
    private static string? ValueProblem(string text, Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        var inv = CultureInfo.InvariantCulture;
        if (t == typeof(int) || t == typeof(long) || t == typeof(short))
        {
            if (long.TryParse(text, NumberStyles.Integer, inv, out long v) && (t == typeof(long) || v is >= int.MinValue and <= int.MaxValue)) return null;
            return BigInteger.TryParse(text, NumberStyles.Integer, inv, out _)
                ? $"'{text}' is out of range (an integer from {int.MinValue} to {int.MaxValue})"
                : $"'{text}' is not an integer";
        }
        if (t == typeof(double) || t == typeof(float) || t == typeof(decimal))
            return double.TryParse(text, NumberStyles.Float, inv, out _) ? null : $"'{text}' is not a number";
        if (t == typeof(bool)) return bool.TryParse(text, out _) ? null : $"'{text}' is not true or false";
        return null;
    }

    [GeneratedRegex(@"^Option '(-[^']+)' is required\.?$")]
    private static partial Regex RequiredOption();

    /// <summary>" as expected type 'System.X'" in a parser message that no rule above rewrote.</summary>
    [GeneratedRegex(@" as expected type '[^']*'")]
    private static partial Regex TypeName();
}
