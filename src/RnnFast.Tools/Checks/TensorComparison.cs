// Element-wise comparison of a computed tensor with a reference one, under the goldens' tolerance:
// |a - b| <= atol + rtol * |b| for every element (NaN or Inf where the reference is finite fails).
namespace RnnFast.Checks;

/// <summary>The outcome of comparing one tensor.</summary>
public sealed record TensorCheck(string Name, int Count, double MaxAbsError, double MaxRelError, double WorstToleranceRatio, bool Passed, string? Problem = null)
{
    /// <inheritdoc/>
    public override string ToString() => Problem != null
        ? $"{Name}: FAIL ({Problem})"
        : $"{Name}: max_abs={MaxAbsError:E2} max_rel={MaxRelError:E2} {(Passed ? "pass" : "FAIL")}";
}

/// <summary>Element-wise comparison under the goldens tolerance |a-b| &lt;= atol + rtol*|b|.</summary>
public static class TensorComparison
{
    /// <summary>The default absolute tolerance (the backends' fp32 tolerance).</summary>
    public const double DefaultAbsTolerance = RnnFast.Backends.Backend.DefaultAbsTolerance;
    /// <summary>The default relative tolerance.</summary>
    public const double DefaultRelTolerance = RnnFast.Backends.Backend.DefaultRelTolerance;

    /// <summary>Compares <paramref name="actual"/> with <paramref name="expected"/> (shapes must match).</summary>
    public static TensorCheck Compare(string name, Tensor actual, Tensor expected, double atol = DefaultAbsTolerance, double rtol = DefaultRelTolerance)
    {
        if (!actual.SameShape(expected))
            return new TensorCheck(name, expected.Length, double.NaN, double.NaN, double.PositiveInfinity, false,
                $"shape {Tensor.FormatShape(actual.Shape)}, expected {Tensor.FormatShape(expected.Shape)}");
        return Compare(name, actual.ToArray(), expected.ToArray(), atol, rtol);
    }

    /// <summary>Compares <paramref name="actual"/> with <paramref name="expected"/> element by element: passes when |a - e| &lt;= atol + rtol * |e| everywhere.</summary>
    public static TensorCheck Compare(string name, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double atol = DefaultAbsTolerance, double rtol = DefaultRelTolerance)
    {
        if (actual.Length != expected.Length)
            return new TensorCheck(name, expected.Length, double.NaN, double.NaN, double.PositiveInfinity, false,
                $"{actual.Length} elements, expected {expected.Length}");
        double maxAbs = 0, maxRel = 0, worst = 0;
        bool ok = true;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], b = expected[i];
            double err = Math.Abs(a - b);
            if (double.IsNaN(err) || double.IsInfinity(err))
            {
                if (a.Equals(b)) continue; // the same infinity on both sides
                ok = false;
                maxAbs = double.PositiveInfinity;
                worst = double.PositiveInfinity;
                continue;
            }
            maxAbs = Math.Max(maxAbs, err);
            if (Math.Abs(b) > 1e-6) maxRel = Math.Max(maxRel, err / Math.Abs(b));
            double ratio = err / (atol + rtol * Math.Abs(b));
            worst = Math.Max(worst, ratio);
            if (ratio > 1) ok = false;
        }
        return new TensorCheck(name, actual.Length, maxAbs, maxRel, worst, ok);
    }
}
