// Tests of the generated corpora: ProgramCorpus is deterministic per seed, near the requested size, uses a small
// vocabulary, and every "#=> N" matches an independent interpreter written here; MemoryTask labels, lengths and
// distractors, and the TSV/CSV reader and writer (round trip, header, blank lines, malformed-line messages).
using System.Text.RegularExpressions;
using RnnFast.Data;
using Xunit;

namespace RnnFast.Tests;

public class CorpusTests
{
    // ---------------------------------------------------------------- ProgramCorpus

    [Fact]
    public void ProgramCorpus_IsDeterministicPerSeed()
    {
        Assert.Equal(ProgramCorpus.Generate(5000, 42), ProgramCorpus.Generate(5000, 42));
        Assert.NotEqual(ProgramCorpus.Generate(5000, 1), ProgramCorpus.Generate(5000, 2));
        // A longer corpus continues the shorter one from the same seed.
        Assert.StartsWith(ProgramCorpus.Generate(1000, 7), ProgramCorpus.Generate(3000, 7));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(5000)]
    [InlineData(100_000)]
    public void ProgramCorpus_HasApproximatelyTheRequestedSize(int chars)
    {
        string text = ProgramCorpus.Generate(chars, 3);
        Assert.InRange(text.Length, chars, chars + 200);
        Assert.EndsWith("\n", text);
        Assert.Equal("", ProgramCorpus.Generate(0, 3));
        Assert.Equal("", ProgramCorpus.Generate(-5, 3));
    }

    [Fact]
    public void ProgramCorpus_UsesASmallVocabularyAndSeveralShapes()
    {
        string text = ProgramCorpus.Generate(50_000, 11);
        var vocab = text.Distinct().ToHashSet();
        Assert.All(vocab, c => Assert.True(char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || "+-*=<>!():# \n".Contains(c), $"unexpected char U+{(int)c:X4}"));
        Assert.InRange(vocab.Count, 20, 45);
        Assert.Contains("for x in range(", text);
        Assert.Contains("\nelse:", text);
        Assert.Contains("\n if x", text);   // an if/else nested in a loop body
        Assert.Contains("*", text);
        Assert.Matches(@"print\([^\n]*\(", text); // parenthesised nested expressions
        Assert.Matches(@"#=> -\d", text);          // some results are negative
        Assert.DoesNotContain("\n\n\n", text);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(12345)]
    public void ProgramCorpus_ResultsMatchAnIndependentInterpreter(int seed)
    {
        string text = ProgramCorpus.Generate(60_000, seed);
        var programs = ProgramCorpus.SplitPrograms(text);
        Assert.True(programs.Count > 500);
        // The text is exactly the programs joined by blank lines.
        Assert.Equal(text, string.Join("\n\n", programs) + "\n");
        foreach (string program in programs)
        {
            var lines = program.Split('\n');
            Assert.StartsWith(ProgramCorpus.ResultPrefix, lines[^1]);
            long expected = long.Parse(lines[^1][ProgramCorpus.ResultPrefix.Length..]);
            long actual = MiniPython.Run(lines[..^1]);
            Assert.True(expected == actual, $"program\n{program}\nprints {actual}");
        }
    }

    [Fact]
    public void MiniPython_SelfCheck()
    {
        Assert.Equal(493, MiniPython.Run("a=427\nfor x in range(3):a+=26\nprint(a-12)".Split('\n')));
        Assert.Equal(55, MiniPython.Run("a=52\nb=80\nif a<b:c=a+3\nelse:c=b-7\nprint(c)".Split('\n')));
        Assert.Equal(-286, MiniPython.Run(new[] { "print((1-38)*6+(30-34-60))" }));
        Assert.Equal(10 - 0 - 1 + 5 + 5, MiniPython.Run("a=10\nfor x in range(4):\n if x<2:a-=x\n else:a+=5\nprint(a)".Split('\n')));
        Assert.Equal(2 - (3 - 4) * 2, MiniPython.Run(new[] { "print(2-(3-4)*2)" }));
    }

    /// <summary>
    /// A deliberately separate interpreter for the Python subset the corpus uses, working on the text: statements
    /// <c>v=e</c>, <c>v+=e</c>, <c>v-=e</c>, <c>print(e)</c>, <c>for v in range(n):</c> and <c>if c:</c>/<c>else:</c>
    /// with an inline statement or an indented block; expressions with + - * and parentheses; comparisons.
    /// </summary>
    private static class MiniPython
    {
        private abstract record Node;
        private sealed record Simple(string Text) : Node;
        private sealed record Loop(string Var, int Count, List<Node> Body) : Node;
        private sealed record Branch(string Cond, List<Node> Then, List<Node> Else) : Node;

        public static long Run(string[] lines)
        {
            int i = 0;
            var block = ParseBlock(lines, ref i, 0);
            Assert.Equal(lines.Length, i);
            var env = new Dictionary<string, long>();
            long? printed = null;
            Exec(block, env, ref printed);
            return printed ?? throw new InvalidOperationException("nothing printed");
        }

        private static int Indent(string line) => line.Length - line.TrimStart(' ').Length;

        private static List<Node> ParseBlock(string[] lines, ref int i, int indent)
        {
            var nodes = new List<Node>();
            while (i < lines.Length && Indent(lines[i]) == indent)
            {
                string s = lines[i].Trim();
                i++;
                var m = Regex.Match(s, @"^for ([a-z]) in range\((\d+)\):(.*)$");
                if (m.Success)
                {
                    nodes.Add(new Loop(m.Groups[1].Value, int.Parse(m.Groups[2].Value), Body(m.Groups[3].Value, lines, ref i, indent)));
                    continue;
                }
                m = Regex.Match(s, @"^if (.+?):(.*)$");
                if (m.Success)
                {
                    var then = Body(m.Groups[2].Value, lines, ref i, indent);
                    var els = new List<Node>();
                    if (i < lines.Length && Indent(lines[i]) == indent && lines[i].Trim().StartsWith("else:"))
                    {
                        string rest = lines[i].Trim()["else:".Length..];
                        i++;
                        els = Body(rest, lines, ref i, indent);
                    }
                    nodes.Add(new Branch(m.Groups[1].Value, then, els));
                    continue;
                }
                nodes.Add(new Simple(s));
            }
            return nodes;
        }

        private static List<Node> Body(string inline, string[] lines, ref int i, int indent)
        {
            if (inline.Length > 0) return new List<Node> { new Simple(inline) };
            int inner = Indent(lines[i]);
            Assert.True(inner > indent);
            return ParseBlock(lines, ref i, inner);
        }

        private static void Exec(List<Node> block, Dictionary<string, long> env, ref long? printed)
        {
            foreach (var node in block)
            {
                switch (node)
                {
                    case Loop l:
                        for (int k = 0; k < l.Count; k++) { env[l.Var] = k; Exec(l.Body, env, ref printed); }
                        break;
                    case Branch b:
                        Exec(Condition(b.Cond, env) ? b.Then : b.Else, env, ref printed);
                        break;
                    case Simple { Text: var t }:
                        var m = Regex.Match(t, @"^print\((.*)\)$");
                        if (m.Success) { printed = Expr(m.Groups[1].Value, env); break; }
                        m = Regex.Match(t, @"^([a-z])([+-]?)=(.+)$");
                        Assert.True(m.Success, "cannot parse statement: " + t);
                        long v = Expr(m.Groups[3].Value, env);
                        string name = m.Groups[1].Value;
                        env[name] = m.Groups[2].Value switch { "+" => env[name] + v, "-" => env[name] - v, _ => v };
                        break;
                }
            }
        }

        private static bool Condition(string c, Dictionary<string, long> env)
        {
            foreach (string op in new[] { "<=", ">=", "==", "!=", "<", ">" })
            {
                int at = c.IndexOf(op, StringComparison.Ordinal);
                if (at < 0) continue;
                long l = Expr(c[..at], env), r = Expr(c[(at + op.Length)..], env);
                return op switch { "<=" => l <= r, ">=" => l >= r, "==" => l == r, "!=" => l != r, "<" => l < r, _ => l > r };
            }
            throw new InvalidOperationException("no comparison in " + c);
        }

        private static long Expr(string text, Dictionary<string, long> env)
        {
            int pos = 0;
            long v = Sum(text, ref pos, env);
            Assert.True(pos == text.Length, $"trailing text in '{text}' at {pos}");
            return v;
        }

        private static long Sum(string s, ref int p, Dictionary<string, long> env)
        {
            long v = Product(s, ref p, env);
            while (p < s.Length && (s[p] == '+' || s[p] == '-'))
            {
                char op = s[p++];
                long r = Product(s, ref p, env);
                v = op == '+' ? v + r : v - r;
            }
            return v;
        }

        private static long Product(string s, ref int p, Dictionary<string, long> env)
        {
            long v = Atom(s, ref p, env);
            while (p < s.Length && s[p] == '*') { p++; v *= Atom(s, ref p, env); }
            return v;
        }

        private static long Atom(string s, ref int p, Dictionary<string, long> env)
        {
            if (s[p] == '(')
            {
                p++;
                long v = Sum(s, ref p, env);
                Assert.Equal(')', s[p]);
                p++;
                return v;
            }
            if (s[p] == '-') { p++; return -Atom(s, ref p, env); }
            if (char.IsAsciiDigit(s[p]))
            {
                int start = p;
                while (p < s.Length && char.IsAsciiDigit(s[p])) p++;
                return long.Parse(s[start..p]);
            }
            if (char.IsAsciiLetterLower(s[p]))
            {
                string name = s[p].ToString();
                p++;
                Assert.True(env.ContainsKey(name), $"variable {name} used before assignment");
                return env[name];
            }
            throw new InvalidOperationException($"unexpected '{s[p]}' in '{s}'");
        }
    }

    // ---------------------------------------------------------------- MemoryTask

    [Fact]
    public void MemoryTask_LabelIsTheFirstCharacterAndDistractorsAvoidClassLetters()
    {
        var items = MemoryTask.Generate(600, 20, 60, 4, seed: 7);
        Assert.Equal(600, items.Count);
        foreach (var (label, text) in items)
        {
            Assert.InRange(label, 0, 3);
            Assert.Equal((char)('A' + label), text[0]);
            Assert.InRange(text.Length, 20, 60);
            Assert.All(text[1..], c => Assert.True(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c), $"bad distractor '{c}'"));
            Assert.DoesNotContain(text[1..], c => c is >= 'A' and <= 'Z');
        }
        Assert.Equal(4, items.Select(it => it.Label).Distinct().Count());
        Assert.Equal(20, items.Min(it => it.Text.Length));
        Assert.Equal(60, items.Max(it => it.Text.Length));
    }

    [Fact]
    public void MemoryTask_IsDeterministicPerSeed()
    {
        Assert.Equal(MemoryTask.Generate(50, 10, 30, 3, 1), MemoryTask.Generate(50, 10, 30, 3, 1));
        Assert.NotEqual(MemoryTask.Generate(50, 10, 30, 3, 1), MemoryTask.Generate(50, 10, 30, 3, 2));
        var fixedLength = MemoryTask.Generate(20, 5, 5, 26, 3);
        Assert.All(fixedLength, it => Assert.Equal(5, it.Text.Length));
        Assert.Empty(MemoryTask.Generate(0, 1, 1, 1, 0));
    }

    [Fact]
    public void MemoryTask_RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTask.Generate(-1, 5, 10, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTask.Generate(1, 0, 10, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTask.Generate(1, 10, 5, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTask.Generate(1, 5, 10, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryTask.Generate(1, 5, 10, 27, 0));
        Assert.Equal("C", MemoryTask.ClassName(2));
        Assert.Equal(2, MemoryTask.ClassIndex("C"));
        Assert.Throws<FormatException>(() => MemoryTask.ClassIndex("c"));
    }

    [Fact]
    public void MemoryTask_TsvRoundTrip()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "data", "memory.tsv");
            var items = MemoryTask.Generate(100, 8, 40, 5, 9);
            MemoryTask.WriteTsv(path, items);
            var lines = File.ReadAllLines(path);
            Assert.Equal(100, lines.Length);
            Assert.Matches("^[A-E]\t[A-E][a-z0-9]+$", lines[0]);
            var back = MemoryTask.ReadTsv(path);
            Assert.Equal(items.Select(it => (MemoryTask.ClassName(it.Label), it.Text)), back);
            Assert.Equal(items.Select(it => it.Label), back.Select(it => MemoryTask.ClassIndex(it.Label)));

            Assert.Throws<ArgumentException>(() => MemoryTask.WriteTsv(path, new[] { ("A", "has\ttab") }));
            Assert.Throws<ArgumentException>(() => MemoryTask.WriteTsv(path, new[] { ("", "text") }));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void MemoryTask_ReadsCsvHeadersBlankLinesAndCrLf()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "mixed.csv");
            File.WriteAllText(path, "label,text\r\n\r\nA,hello, world\r\n  \r\nB\tx,y\tz\r\npositive,great movie\n");
            var items = MemoryTask.ReadTsv(path);
            Assert.Equal(new[] { ("A", "hello, world"), ("B", "x,y\tz"), ("positive", "great movie") }, items);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("A\tok\nno separator here\n", 2)]
    [InlineData("A\tok\n\n,missing label\n", 3)]
    [InlineData("\t\tx\n", 1)]
    public void MemoryTask_MalformedLinesNameFileAndLine(string content, int badLine)
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "bad.tsv");
            File.WriteAllText(path, content);
            var ex = Assert.Throws<FormatException>(() => MemoryTask.ReadTsv(path));
            Assert.Contains(path + ":" + badLine + ":", ex.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
