// Shared by the native backends' tests (oneDNN, OpenCL): small random RNN problems from a one-line spec, and the
// comparisons those tests make (closeness at the backends' tolerance, zeros at padded steps).
using Xunit;

namespace RnnFast.Tests;

/// <summary>Random time-major RNN problems and their assertions, for backend tests.</summary>
internal static class RnnTestProblems
{
    /// <summary>"mode:I5:H7:L2:D2:P3[:varlen][:h0][:nobias]" -> a desc and random time-major inputs (T=6, N=5).</summary>
    public static (RnnDesc, RnnInputs) MakeProblem(string spec, int seed)
    {
        var parts = spec.Split(':');
        int Get(char k) => int.Parse(parts.First(p => p[0] == k && char.IsDigit(p[1]))[1..]);
        var desc = new RnnDesc(RnnDesc.ParseMode(parts[0]), Get('I'), Get('H'), Get('L'), Get('D') == 2, projSize: Get('P'),
            bias: !parts.Contains("nobias"));
        const int T = 6, N = 5;
        var r = new Random(seed);
        var x = RandomTensor(r, [T, N, desc.InputSize]);
        int S = desc.NumLayers * desc.Directions;
        Tensor? h0 = null, c0 = null;
        if (parts.Contains("h0"))
        {
            h0 = RandomTensor(r, [S, N, desc.OutputHiddenSize]);
            if (desc.HasCellState) c0 = RandomTensor(r, [S, N, desc.HiddenSize]);
        }
        int[]? lengths = parts.Contains("varlen") ? [4, 6, 1, 4, 2] : null;
        return (desc, RnnRunner.Prepare(desc, x, h0, c0, lengths));
    }

    public static Tensor RandomTensor(Random r, int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(r.NextDouble() * 2 - 1);
        return t;
    }

    public static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToArray();
        var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++)
        {
            double tol = 2e-5 + 2e-4 * Math.Abs(e[i]);
            Assert.True(Math.Abs(e[i] - a[i]) <= tol, $"{what}[{i}]: expected {e[i]}, got {a[i]}");
        }
    }

    public static void AssertPaddingIsZero(Tensor output, int[] lengths)
    {
        int T = output.Shape[0], N = output.Shape[1], F = output.Shape[2];
        var y = output.ToArray();
        for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++)
            if (t >= lengths[n])
                for (int f = 0; f < F; f++) Assert.Equal(0f, y[(t * N + n) * F + f]);
    }
}
