// A built-in sweep of generated problems that a backend must agree with an oracle (the reference backend) on: every
// cell (rnn_tanh, rnn_relu, lstm, lstm with projection, gru) x 1 or 2 layers x uni- or bidirectional x fixed or
// variable lengths (unsorted, including a length-1 sequence), with random h0/c0. Each case runs forward inference,
// forward training and backward (every gradient, from random upstream gradients of output, h_n and c_n; the output's
// gradient is random at padded steps too, which a backend must ignore), with the
// inputs in the backend's own memory (so a GPU backend runs device-resident), and compares every tensor under the
// goldens' tolerance |a-b| <= atol + rtol*|b| (TensorComparison). `rnnfast verify` runs it after the goldens.
using RnnFast.Backends;

namespace RnnFast.Checks;

/// <summary>One generated problem of the sweep.</summary>
public sealed record SweepCase(string Cell, RnnDesc Desc, int T, int N, int[]? Lengths)
{
    /// <summary>e.g. "lstm+proj L=2 bi varlen T=6 N=4 I=5 H=7 P=3".</summary>
    public string Name =>
        $"{Cell} L={Desc.NumLayers} {(Desc.Bidirectional ? "bi" : "uni")} {(Lengths == null ? "fixed" : "varlen")} T={T} N={N} " +
        $"I={Desc.InputSize} H={Desc.HiddenSize}" + (Desc.ProjSize > 0 ? $" P={Desc.ProjSize}" : "");
}

/// <summary>The outcome of one sweep case: every tensor compared, or the error the backend raised.</summary>
public sealed record SweepResult(SweepCase Case, IReadOnlyList<TensorCheck> Checks, string? Error = null)
{
    /// <summary>True when the backend ran without error and every check passed.</summary>
    public bool Passed => Error == null && Checks.Count > 0 && Checks.All(c => c.Passed);

    /// <summary>The largest |a-b| / (atol + rtol|b|) over every tensor (1 = at the tolerance).</summary>
    public double WorstRatio => Checks.Select(c => c.WorstToleranceRatio).DefaultIfEmpty(0).Max();
}

/// <summary>Generates the sweep's problems and runs one on a backend against an oracle.</summary>
public static class BackendSweep
{
    /// <summary>Every cell x layers 1/2 x uni/bi x fixed/variable lengths: 40 small cases (T=6, N=4, I=5, H=7, P=3).</summary>
    public static IReadOnlyList<SweepCase> Cases()
    {
        const int T = 6, N = 4, I = 5, H = 7, P = 3;
        var cells = new (string Name, RnnMode Mode, int Proj)[]
        {
            ("rnn_tanh", RnnMode.RnnTanh, 0), ("rnn_relu", RnnMode.RnnRelu, 0), ("lstm", RnnMode.Lstm, 0),
            ("lstm+proj", RnnMode.Lstm, P), ("gru", RnnMode.Gru, 0),
        };
        var list = new List<SweepCase>();
        foreach (var (name, mode, proj) in cells)
        foreach (int layers in new[] { 1, 2 })
        foreach (bool bi in new[] { false, true })
        foreach (bool varlen in new[] { false, true })
            list.Add(new SweepCase(name, new RnnDesc(mode, I, H, layers, bi, projSize: proj), T, N, varlen ? [6, 1, 4, 3] : null));
        return list;
    }

    /// <summary>
    /// Runs <paramref name="c"/> on <paramref name="backend"/> and on <paramref name="oracle"/> with the same weights and
    /// inputs (from <paramref name="seed"/>) and compares inference outputs, training outputs and every gradient.
    /// A backend that throws yields a result with <see cref="SweepResult.Error"/> set (the oracle's errors propagate).
    /// </summary>
    public static SweepResult Run(SweepCase c, Backend backend, Backend oracle, int seed = 1,
        double atol = TensorComparison.DefaultAbsTolerance, double rtol = TensorComparison.DefaultRelTolerance)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(oracle);
        var desc = c.Desc;
        var rng = new Random(seed);
        var parameters = RnnParameters.Create(desc, rng);
        int ld = desc.NumLayers * desc.Directions;
        var x = Random(rng, c.T, c.N, desc.InputSize);
        var h0 = Random(rng, ld, c.N, desc.OutputHiddenSize);
        var c0 = desc.HasCellState ? Random(rng, ld, c.N, desc.HiddenSize) : null;
        var dy = Random(rng, c.T, c.N, desc.OutputSize);
        var dhn = Random(rng, ld, c.N, desc.OutputHiddenSize);
        var dcn = desc.HasCellState ? Random(rng, ld, c.N, desc.HiddenSize) : null;

        var want = Outputs(oracle, parameters, x, h0, c0, c.Lengths, dy, dhn, dcn);
        List<(string Name, Tensor Value)> got;
        try
        {
            got = Outputs(backend, parameters, x, h0, c0, c.Lengths, dy, dhn, dcn);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new SweepResult(c, [], $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" "));
        }
        var checks = new List<TensorCheck>();
        foreach (var (name, expected) in want)
        {
            var actual = got.FirstOrDefault(g => g.Name == name).Value;
            checks.Add(actual == null
                ? new TensorCheck(name, expected.Length, double.NaN, double.NaN, double.PositiveInfinity, false, "missing")
                : TensorComparison.Compare(name, actual, expected, atol, rtol));
        }
        return new SweepResult(c, checks);
    }

    /// <summary>Inference outputs, training outputs and every gradient of one backend, by the names the goldens use.</summary>
    private static List<(string Name, Tensor Value)> Outputs(Backend backend, RnnParameters parameters, Tensor x, Tensor h0, Tensor? c0,
        int[]? lengths, Tensor dy, Tensor dhn, Tensor? dcn)
    {
        var list = new List<(string, Tensor)>();
        using var plan = backend.CreateRnnPlan(parameters);
        var inputs = new RnnInputs(x.To(backend), h0.To(backend), c0?.To(backend), lengths);
        var inference = plan.Forward(inputs, training: false);
        list.Add(("output", inference.Output.ToHost()));
        list.Add(("h_n", inference.HN.ToHost()));
        if (inference.CN != null) list.Add(("c_n", inference.CN.ToHost()));
        var train = plan.Forward(inputs, training: true);
        list.Add(("output (training forward)", train.Output.ToHost()));
        list.Add(("h_n (training forward)", train.HN.ToHost()));
        if (train.CN != null) list.Add(("c_n (training forward)", train.CN.ToHost()));
        var g = plan.Backward(inputs, train, dy.To(backend), dhn.To(backend), dcn?.To(backend));
        list.Add(("grad_input", g.DInput.ToHost()));
        list.Add(("grad_h0", g.DH0.ToHost()));
        if (g.DC0 != null) list.Add(("grad_c0", g.DC0.ToHost()));
        for (int i = 0; i < g.DParams.Ids.Count; i++)
            list.Add(("grad." + g.DParams.Ids[i].TorchName, g.DParams.Tensors[i].ToHost()));
        return list;
    }

    private static Tensor Random(Random rng, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }
}
