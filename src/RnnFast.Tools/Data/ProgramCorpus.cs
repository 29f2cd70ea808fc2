// A generated training corpus of tiny Python-like programs, each followed by the value it prints ("#=> N"), in the
// spirit of the "learning to execute" experiments: a character model has to learn to run the program to predict
// the result. Programs are built as small syntax trees, rendered to text and evaluated by the generator itself.
using System.Globalization;
using System.Text;

namespace RnnFast.Data;

/// <summary>
/// Generates a corpus of small programs (assignments, + - and small *, if/else on a comparison, for loops over
/// small ranges, parenthesised nested expressions) each followed by a line <c>#=&gt; N</c> holding the value the
/// program prints, programs separated by a blank line. The vocabulary is digits, the letters of a few variable
/// names and keywords (print, for, in, range, if, else), <c>+ - * = &lt; &gt; ! ( ) : # </c>, space and newline.
/// </summary>
public static class ProgramCorpus
{
    /// <summary>The line prefix that introduces a program's result.</summary>
    public const string ResultPrefix = "#=> ";

    /// <summary>
    /// Generates programs until the text is at least <paramref name="approxChars"/> characters long (it overshoots
    /// by at most one program, under about 120 characters). The same seed always gives the same text.
    /// </summary>
    /// <param name="approxChars">Target size in characters; 0 or less gives "".</param>
    /// <param name="seed">Seed for <see cref="Random"/>.</param>
    /// <returns>The corpus: programs with their results, separated by blank lines, ending with a newline.</returns>
    public static string Generate(int approxChars, int seed)
    {
        if (approxChars <= 0) return "";
        var rng = new Random(seed);
        var sb = new StringBuilder(approxChars + 128);
        while (sb.Length < approxChars)
        {
            if (sb.Length > 0) sb.Append('\n');
            var program = RandomProgram(rng);
            foreach (var st in program) Render(st, "", sb);
            long result = Run(program);
            sb.Append(ResultPrefix).Append(result.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Splits a generated corpus into its programs (each with its result line, without the blank separator).</summary>
    /// <param name="corpus">Text produced by <see cref="Generate"/>.</param>
    /// <returns>The program blocks in order.</returns>
    public static IReadOnlyList<string> SplitPrograms(string corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        return corpus.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Trim('\n')).Where(p => p.Length > 0).ToList();
    }

    // ------------------------------------------------------------------ syntax tree

    private abstract record Expr;
    private sealed record Num(long Value) : Expr;
    private sealed record Var(char Name) : Expr;
    private sealed record Bin(char Op, Expr Left, Expr Right) : Expr;
    private sealed record Cmp(string Op, Expr Left, Expr Right);

    private abstract record Stmt;
    private sealed record Assign(char Name, Expr Value) : Stmt;
    private sealed record AugAssign(char Name, char Op, Expr Value) : Stmt;      // a+=e, a-=e
    private sealed record For(char Name, int Count, Stmt[] Body) : Stmt;         // for x in range(n): ...
    private sealed record IfElse(Cmp Condition, Stmt Then, Stmt Else) : Stmt;    // if c:s / else:s
    private sealed record Print(Expr Value) : Stmt;

    // ------------------------------------------------------------------ generation

    private static List<Stmt> RandomProgram(Random rng)
    {
        var p = new List<Stmt>();
        switch (rng.Next(7))
        {
            case 0: // print((12+7)*3-45)
                p.Add(new Print(RandomExpr(rng, rng.Next(2, 4), Array.Empty<char>(), 99)));
                break;
            case 1: // a=427 / print(a-12)
                p.Add(new Assign('a', Const(rng, 999)));
                p.Add(new Print(RandomExpr(rng, rng.Next(1, 3), new[] { 'a' }, 99, mustUse: 'a')));
                break;
            case 2: // a=12 / b=345 / c=a+b / print(c*2)
                p.Add(new Assign('a', Const(rng, 999)));
                p.Add(new Assign('b', Const(rng, 999)));
                if (rng.Next(2) == 0)
                {
                    p.Add(new Assign('c', RandomExpr(rng, 1, new[] { 'a', 'b' }, 99, mustUse: 'b')));
                    p.Add(new Print(RandomExpr(rng, 1, new[] { 'a', 'c' }, 99, mustUse: 'c')));
                }
                else p.Add(new Print(new Bin(rng.Next(2) == 0 ? '+' : '-', new Var('a'), new Var('b'))));
                break;
            case 3: // a=427 / for x in range(3):a+=26 / print(a-12)
                p.Add(new Assign('a', Const(rng, 999)));
                p.Add(new For('x', rng.Next(2, 10), new Stmt[] { new AugAssign('a', PlusMinus(rng), Const(rng, 99)) }));
                p.Add(new Print(RandomExpr(rng, 1, new[] { 'a' }, 99, mustUse: 'a')));
                break;
            case 4: // b=5 / for x in range(6):b+=x*2 / print(b)
                p.Add(new Assign('b', Const(rng, 99)));
                Expr step = rng.Next(2) == 0 ? new Var('x') : new Bin('*', new Var('x'), new Num(rng.Next(2, 10)));
                p.Add(new For('x', rng.Next(2, 10), new Stmt[] { new AugAssign('b', PlusMinus(rng), step) }));
                p.Add(new Print(new Var('b')));
                break;
            case 5: // a=52 / b=80 / if a<b:c=a+3 / else:c=b-7 / print(c)
                p.Add(new Assign('a', Const(rng, 99)));
                p.Add(new Assign('b', Const(rng, 99)));
                p.Add(new IfElse(RandomCmp(rng, new Var('a'), new Var('b')),
                    new Assign('c', RandomExpr(rng, 1, new[] { 'a', 'b' }, 99, mustUse: 'a')),
                    new Assign('c', RandomExpr(rng, 1, new[] { 'a', 'b' }, 99, mustUse: 'b'))));
                p.Add(new Print(new Var('c')));
                break;
            default: // a=10 / for x in range(4): / (indented) if x<2:a+=3 / else:a-=x / print(a)
                p.Add(new Assign('a', Const(rng, 99)));
                var cond = RandomCmp(rng, new Var('x'), new Num(rng.Next(1, 8)));
                p.Add(new For('x', rng.Next(2, 10), new Stmt[]
                {
                    new IfElse(cond,
                        new AugAssign('a', PlusMinus(rng), rng.Next(2) == 0 ? new Var('x') : Const(rng, 20)),
                        new AugAssign('a', PlusMinus(rng), Const(rng, 20))),
                }));
                p.Add(new Print(new Var('a')));
                break;
        }
        return p;
    }

    private static Num Const(Random rng, int max) => new(rng.Next(1, max + 1));

    private static char PlusMinus(Random rng) => rng.Next(2) == 0 ? '+' : '-';

    private static Cmp RandomCmp(Random rng, Expr left, Expr right)
    {
        string[] ops = { "<", ">", "==", "!=", "<=", ">=" };
        return new Cmp(ops[rng.Next(ops.Length)], left, right);
    }

    /// <summary>
    /// A random expression tree of at most <paramref name="depth"/> operator levels over constants up to
    /// <paramref name="maxConst"/> and the given variables; '*' always has a one-digit constant operand so values stay
    /// small. <paramref name="mustUse"/>, when given, is guaranteed to appear.
    /// </summary>
    private static Expr RandomExpr(Random rng, int depth, char[] vars, int maxConst, char? mustUse = null)
    {
        Expr e = Build(depth, top: true);
        if (mustUse is char v && !Uses(e, v))
            e = new Bin(PlusMinus(rng), new Var(v), e);
        return e;

        Expr Build(int d, bool top)
        {
            if (d <= 0 || (!top && rng.Next(3) == 0)) return Leaf();
            int k = rng.Next(5);
            if (k == 0)
            {
                Expr small = new Num(rng.Next(2, 10));
                Expr other = Build(d - 1, false);
                return rng.Next(2) == 0 ? new Bin('*', other, small) : new Bin('*', small, other);
            }
            return new Bin(k % 2 == 0 ? '+' : '-', Build(d - 1, false), Build(d - 1, false));
        }

        Expr Leaf() => vars.Length > 0 && rng.Next(2) == 0 ? new Var(vars[rng.Next(vars.Length)]) : Const(rng, maxConst);
    }

    private static bool Uses(Expr e, char v) => e switch
    {
        Var x => x.Name == v,
        Bin b => Uses(b.Left, v) || Uses(b.Right, v),
        _ => false,
    };

    // ------------------------------------------------------------------ rendering

    private static void Render(Stmt s, string indent, StringBuilder sb)
    {
        switch (s)
        {
            case Assign a:
                sb.Append(indent).Append(a.Name).Append('=');
                RenderExpr(a.Value, sb);
                sb.Append('\n');
                break;
            case AugAssign a:
                sb.Append(indent).Append(a.Name).Append(a.Op).Append('=');
                RenderExpr(a.Value, sb);
                sb.Append('\n');
                break;
            case Print p:
                sb.Append(indent).Append("print(");
                RenderExpr(p.Value, sb);
                sb.Append(")\n");
                break;
            case IfElse c:
                sb.Append(indent).Append("if ");
                RenderExpr(c.Condition.Left, sb);
                sb.Append(c.Condition.Op);
                RenderExpr(c.Condition.Right, sb);
                sb.Append(':');
                RenderInline(c.Then, sb);
                sb.Append(indent).Append("else:");
                RenderInline(c.Else, sb);
                break;
            case For f:
                sb.Append(indent).Append("for ").Append(f.Name).Append(" in range(")
                  .Append(f.Count.ToString(CultureInfo.InvariantCulture)).Append("):");
                if (f.Body.Length == 1 && f.Body[0] is Assign or AugAssign)
                    RenderInline(f.Body[0], sb);
                else
                {
                    sb.Append('\n');
                    foreach (var b in f.Body) Render(b, indent + " ", sb);
                }
                break;
            default:
                throw new InvalidOperationException("Unknown statement " + s.GetType().Name);
        }
    }

    private static void RenderInline(Stmt s, StringBuilder sb) => Render(s, "", sb);

    private static int Precedence(Expr e) => e is Bin b ? (b.Op == '*' ? 2 : 1) : 3;

    private static void RenderExpr(Expr e, StringBuilder sb)
    {
        switch (e)
        {
            case Num n: sb.Append(n.Value.ToString(CultureInfo.InvariantCulture)); break;
            case Var v: sb.Append(v.Name); break;
            case Bin b:
                int p = Precedence(b);
                // Left operands need parentheses only when they bind more loosely; right operands also when they
                // bind equally (a-(b-c)), which keeps every rendering unambiguous under left associativity.
                Operand(b.Left, Precedence(b.Left) < p);
                sb.Append(b.Op);
                Operand(b.Right, Precedence(b.Right) <= p);
                break;
            default: throw new InvalidOperationException("Unknown expression " + e.GetType().Name);
        }

        void Operand(Expr child, bool parens)
        {
            if (parens) sb.Append('(');
            RenderExpr(child, sb);
            if (parens) sb.Append(')');
        }
    }

    // ------------------------------------------------------------------ evaluation

    private static long Run(List<Stmt> program)
    {
        var env = new Dictionary<char, long>();
        long? printed = null;
        foreach (var s in program) Exec(s, env, ref printed);
        return printed ?? throw new InvalidOperationException("Generated program printed nothing.");
    }

    private static void Exec(Stmt s, Dictionary<char, long> env, ref long? printed)
    {
        switch (s)
        {
            case Assign a: env[a.Name] = Eval(a.Value, env); break;
            case AugAssign a:
                long v = Eval(a.Value, env);
                env[a.Name] = a.Op == '+' ? env[a.Name] + v : env[a.Name] - v;
                break;
            case Print p: printed = Eval(p.Value, env); break;
            case IfElse c: Exec(Test(c.Condition, env) ? c.Then : c.Else, env, ref printed); break;
            case For f:
                for (int i = 0; i < f.Count; i++)
                {
                    env[f.Name] = i;
                    foreach (var b in f.Body) Exec(b, env, ref printed);
                }
                break;
            default: throw new InvalidOperationException("Unknown statement " + s.GetType().Name);
        }
    }

    private static bool Test(Cmp c, Dictionary<char, long> env)
    {
        long l = Eval(c.Left, env), r = Eval(c.Right, env);
        return c.Op switch
        {
            "<" => l < r,
            ">" => l > r,
            "==" => l == r,
            "!=" => l != r,
            "<=" => l <= r,
            ">=" => l >= r,
            _ => throw new InvalidOperationException("Unknown comparison " + c.Op),
        };
    }

    private static long Eval(Expr e, Dictionary<char, long> env) => e switch
    {
        Num n => n.Value,
        Var v => env[v.Name],
        Bin { Op: '+' } b => Eval(b.Left, env) + Eval(b.Right, env),
        Bin { Op: '-' } b => Eval(b.Left, env) - Eval(b.Right, env),
        Bin { Op: '*' } b => Eval(b.Left, env) * Eval(b.Right, env),
        _ => throw new InvalidOperationException("Unknown expression " + e.GetType().Name),
    };
}
