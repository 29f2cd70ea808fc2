// Reads and finds problem lists (bench/shapes/*.txt). One problem a line, whitespace-separated:
//   cell dir layers T N I H phase      e.g.  lstm uni 1 50 64 512 512 inference
// cell: lstm | lstm_peephole | gru | rnn_tanh | rnn_relu; dir: uni | bi; phase: inference | training; '#' starts a comment.
// Every error names the file and the line (file:line: problem) and is a ProblemFileException.
using System.Globalization;

namespace RnnFast.Bench;

/// <summary>A shapes file that cannot be used; the message starts with "file:line:".</summary>
public sealed class ProblemFileException : RnnFormatException
{
    /// <summary>Line <paramref name="line"/> of shapes file <paramref name="file"/> is invalid: <paramref name="problem"/>.</summary>
    public ProblemFileException(string file, int line, string problem)
        : base(line > 0 ? $"{file}:{line}" : file, problem)
    {
        File = file;
        Line = line;
    }

    /// <summary>The file as it was named.</summary>
    public string File { get; }

    /// <summary>1-based line number (0 when the problem is the file as a whole).</summary>
    public int Line { get; }
}

/// <summary>Parses problem lists and resolves a --shapes argument (a NAME of bench/shapes/NAME.txt, or a file).</summary>
public static class ProblemFile
{
    /// <summary>The line format, for help texts and error messages.</summary>
    public const string Format = "cell dir layers T N I H phase (cell lstm|lstm_peephole|gru|rnn_tanh|rnn_relu, dir uni|bi, phase inference|training)";

    /// <summary>Reads <paramref name="path"/>; the problems in file order.</summary>
    public static IReadOnlyList<BenchProblem> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!System.IO.File.Exists(path)) throw new ProblemFileException(path, 0, "file not found");
        return Parse(System.IO.File.ReadAllText(path), path);
    }

    /// <summary>Parses the text of a shapes file; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<BenchProblem> Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var problems = new List<BenchProblem>();
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            var f = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 0) continue;
            problems.Add(ParseLine(f, source, i + 1));
        }
        if (problems.Count == 0) throw new ProblemFileException(source, 0, $"no problems (expected lines of: {Format})");
        return problems;
    }

    /// <summary>
    /// The memory a problem takes, in bytes: the weights (a reference copy for the check; for training also their
    /// gradients), and per layer and direction the gate pre-activations, states and outputs of every step (twice for
    /// training: the saved activations and their gradients).
    /// </summary>
    public static IReadOnlyList<RnnFast.Training.MemoryEstimate.Term> MemoryTerms(BenchProblem p)
    {
        ArgumentNullException.ThrowIfNull(p);
        double G = RnnDesc.GateCountOf(p.Cell), D = p.Directions, H = p.H, L = p.Layers;
        double weights = D * G * H * (p.I + H + 2) + (L - 1) * D * G * H * (D * H + H + 2);
        bool training = p.Phase == BenchPhase.Training;
        double activations = (double)p.T * p.N * (p.I + L * D * (G + 3) * H);
        return
        [
            new("layers x H (x I)", 4 * weights * (training ? 3 : 2)),
            new("T x N x layers x H", 4 * activations * (training ? 2 : 1)),
        ];
    }

    private static BenchProblem ParseLine(string[] f, string source, int line)
    {
        ProblemFileException Bad(string what) => new(source, line, what);
        if (f.Length != 8)
            throw Bad($"expected 8 fields ({Format}), found {f.Length}: '{string.Join(' ', f)}'");
        bool peephole = f[0].Equals("lstm_peephole", StringComparison.OrdinalIgnoreCase);
        var cell = f[0].ToLowerInvariant() switch
        {
            "lstm" or "lstm_peephole" => RnnMode.Lstm,
            "gru" => RnnMode.Gru,
            "rnn_tanh" or "tanh" => RnnMode.RnnTanh,
            "rnn_relu" or "relu" or "vanilla" => RnnMode.RnnRelu,
            _ => throw Bad($"unknown cell '{f[0]}' (expected lstm, lstm_peephole, gru, rnn_tanh or rnn_relu)"),
        };
        bool bi = f[1].ToLowerInvariant() switch
        {
            "uni" or "1" => false,
            "bi" or "2" => true,
            _ => throw Bad($"unknown direction '{f[1]}' (expected uni or bi)"),
        };
        int Positive(int k, string name)
        {
            if (!int.TryParse(f[k], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0)
                throw Bad($"{name} must be a positive integer, found '{f[k]}'");
            return v;
        }
        int layers = Positive(2, "layers"), t = Positive(3, "T"), n = Positive(4, "N"), inSize = Positive(5, "I"), h = Positive(6, "H");
        var phase = f[7].ToLowerInvariant() switch
        {
            "inference" or "infer" or "fwd" => BenchPhase.Inference,
            "training" or "train" => BenchPhase.Training,
            _ => throw Bad($"unknown phase '{f[7]}' (expected inference or training)"),
        };
        var p = new BenchProblem(cell, bi, layers, t, n, inSize, h, phase, source, line) { Peephole = peephole };
        try
        {
            _ = p.ToDesc();
        }
        catch (ArgumentException e)
        {
            throw Bad(e.Message);
        }
        if ((long)t * n * Math.Max(inSize, h * p.Directions) > Array.MaxLength)
            throw Bad($"T*N*max(I, D*H) = {(long)t * n * Math.Max(inSize, h * p.Directions)} elements is too large for one tensor");
        try
        {
            RnnFast.Training.MemoryEstimate.Require(MemoryTerms(p), "the problem");
        }
        catch (ArgumentException e)
        {
            throw Bad(e.Message);
        }
        return p;
    }

    /// <summary>
    /// Resolves a --shapes argument: an existing file path as given; otherwise a NAME (with or without .txt) looked
    /// up as bench/shapes/NAME.txt in the repository above <paramref name="baseDirectory"/> (the directory holding
    /// RnnFast.sln), then as shapes/NAME.txt beside it (where a published rnnfast carries them).
    /// </summary>
    public static string Resolve(string nameOrPath, string? baseDirectory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (System.IO.File.Exists(nameOrPath)) return Path.GetFullPath(nameOrPath);
        string name = nameOrPath.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) ? nameOrPath[..^4] : nameOrPath;
        var dirs = SearchDirectories(baseDirectory ?? AppContext.BaseDirectory);
        if (name.IndexOfAny(['/', '\\']) < 0)
            foreach (var dir in dirs)
            {
                var candidate = Path.Combine(dir, name + ".txt");
                if (System.IO.File.Exists(candidate)) return candidate;
            }
        var known = AvailableNames(baseDirectory);
        throw new ProblemFileException(nameOrPath, 0,
            $"no such file, and no shapes list of that name (known: {(known.Count == 0 ? "none found" : string.Join(", ", known))}; searched {string.Join(", ", dirs)})");
    }

    /// <summary>The names of the shapes lists found (bench/shapes in the repository, or shapes/ beside the executable).</summary>
    public static IReadOnlyList<string> AvailableNames(string? baseDirectory = null) =>
        SearchDirectories(baseDirectory ?? AppContext.BaseDirectory)
            .Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, "*.txt"))
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

    private static List<string> SearchDirectories(string baseDirectory)
    {
        var dirs = new List<string>();
        for (var d = new DirectoryInfo(Path.GetFullPath(baseDirectory)); d != null; d = d.Parent)
            if (System.IO.File.Exists(Path.Combine(d.FullName, "RnnFast.sln")))
            {
                dirs.Add(Path.Combine(d.FullName, "bench", "shapes"));
                break;
            }
        dirs.Add(Path.Combine(Path.GetFullPath(baseDirectory), "shapes"));
        return dirs;
    }
}
