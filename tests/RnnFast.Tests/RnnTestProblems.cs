// Shared by the native backends' tests (oneDNN, OpenCL): small random RNN problems from a one-line spec, and the
// comparisons those tests make (closeness at the backends' tolerance, zeros at padded steps).
using RnnFast.Backends;
using Xunit;

namespace RnnFast.Tests;

/// <summary>Random time-major RNN problems and their assertions, for backend tests.</summary>
internal static class RnnTestProblems
{
    /// <summary>
    /// The problem <paramref name="spec"/> (see <see cref="MakeProblem"/>) on <paramref name="backend"/> against the
    /// reference: training and inference forward, padding zeros, and backward (every gradient).
    /// </summary>
    /// <param name="backend">The backend under test.</param>
    /// <param name="spec">The problem, as <see cref="MakeProblem"/> reads it.</param>
    /// <param name="more">Further checks on the same run, before its plans are disposed.</param>
    public static void AssertMatchesReference(string backend, string spec, Action<ReferenceRun>? more = null)
    {
        var problem = spec;
        var (desc, inputs) = MakeProblem(problem, seed: problem.GetHashCode(StringComparison.Ordinal) & 0xffff);
        var parameters = RnnParameters.Create(desc, new Random(7));
        using var ours = BackendRegistry.Get(backend).CreateRnnPlan(parameters);
        using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);

        var a = ours.Forward(inputs, training: true);
        var b = oracle.Forward(inputs, training: true);
        AssertClose(b.Output, a.Output, "output");
        AssertClose(b.HN, a.HN, "h_n");
        if (desc.HasCellState) AssertClose(b.CN!, a.CN!, "c_n");
        if (inputs.Lengths != null) AssertPaddingIsZero(a.Output, inputs.Lengths);

        var inf = ours.Forward(inputs, training: false);
        AssertClose(a.Output, inf.Output, "inference output");
        AssertClose(a.HN, inf.HN, "inference h_n");

        var r = new Random(11);
        var dY = RandomTensor(r, a.Output.Shape);
        var dH = RandomTensor(r, a.HN.Shape);
        var dC = desc.HasCellState ? RandomTensor(r, a.CN!.Shape) : null;
        var ga = ours.Backward(inputs, a, dY, dH, dC);
        var gb = oracle.Backward(inputs, b, dY, dH, dC);
        AssertClose(gb.DInput, ga.DInput, "grad_input");
        AssertClose(gb.DH0, ga.DH0, "grad_h0");
        if (desc.HasCellState) AssertClose(gb.DC0!, ga.DC0!, "grad_c0");
        for (int i = 0; i < parameters.Ids.Count; i++)
            AssertClose(gb.DParams.Tensors[i], ga.DParams.Tensors[i], "grad." + parameters.Ids[i].TorchName);
        more?.Invoke(new ReferenceRun(inputs, ours, oracle, a, b, dH));
        AssertAccumulatedBackward(ours, inputs, a, gb, dY, dH, dC);
    }

    /// <summary>
    /// After <paramref name="first"/> is disposed (a cpu plan pools its buffers, so this forward and backward run on
    /// reused, dirty ones): BackwardAccumulate adds the reference's gradients into buffers that already hold 0.5, and
    /// returns them as DParams; dX, dh0, dc0 are as from Backward.
    /// </summary>
    public static void AssertAccumulatedBackward(IRnnPlan ours, RnnInputs inputs, RnnForwardResult first, RnnGradients expected,
        Tensor dY, Tensor dH, Tensor? dC)
    {
        first.Dispose();
        using var again = ours.Forward(inputs, training: true);
        var into = RnnParameters.Zeros(ours.Desc);
        foreach (var t in into.Tensors) t.Span.Fill(0.5f);
        var g = ours.BackwardAccumulate(inputs, again, dY, dH, dC, into);
        Assert.Same(into, g.DParams);
        AssertClose(expected.DInput, g.DInput, "accumulating backward: grad_input");
        AssertClose(expected.DH0, g.DH0, "accumulating backward: grad_h0");
        if (dC != null) AssertClose(expected.DC0!, g.DC0!, "accumulating backward: grad_c0");
        for (int i = 0; i < into.Ids.Count; i++)
        {
            var want = expected.DParams.Tensors[i].ToArray();
            for (int j = 0; j < want.Length; j++) want[j] += 0.5f;
            AssertClose(Tensor.FromArray(want, expected.DParams.Tensors[i].Shape), into.Tensors[i], "accumulated grad." + into.Ids[i].TorchName);
        }
    }

    /// <summary>Every parameter changed (and marked) after a forward: the next forward uses the new weights and matches the reference.</summary>
    public static void AssertWeightUpdatesAreSeen(string backend, string spec)
    {
        var (desc, inputs) = MakeProblem(spec, seed: 5);
        var parameters = RnnParameters.Create(desc, new Random(9));
        using var ours = BackendRegistry.Get(backend).CreateRnnPlan(parameters);
        using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
        var before = ours.Forward(inputs, training: false).Output.ToArray();
        foreach (var t in parameters.Tensors)
        {
            var s = t.Span;
            for (int i = 0; i < s.Length; i++) s[i] *= -1.5f;
            t.MarkChanged();
        }
        var after = ours.Forward(inputs, training: false);
        Assert.NotEqual(before, after.Output.ToArray());
        AssertClose(oracle.Forward(inputs, training: false).Output, after.Output, "output after the update");
    }

    /// <summary><paramref name="calls"/> inference calls on one plan from up to <paramref name="threads"/> threads give the single-call answer.</summary>
    public static void AssertConcurrentInferenceAgrees(string backend, int calls, int threads)
    {
        var (desc, inputs) = MakeProblem("lstm:I8:H16:L2:D2:P0:varlen:h0", seed: 3);
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(4)));
        var expected = plan.Forward(inputs, training: false).Output.ToArray();
        var results = new float[calls][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = threads },
            i => results[i] = plan.Forward(inputs, training: false).Output.ToArray());
        Assert.All(results, r => Assert.Equal(expected, r));
    }

    /// <summary>One run of <see cref="AssertMatchesReference"/>: the plans, their training forwards and the h_n gradient used.</summary>
    public sealed record ReferenceRun(RnnInputs Inputs, IRnnPlan Plan, IRnnPlan Oracle, RnnForwardResult Forward,
        RnnForwardResult OracleForward, Tensor DHN);

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
