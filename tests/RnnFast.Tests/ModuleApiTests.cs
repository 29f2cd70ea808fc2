// The module API (RnnFast.Nn: Lstm, Gru, Rnn): inference equals a reference plan on the same weights, batch_first,
// state carried across calls, state_dict round trip and strict loading, the span overloads, training on the tape,
// and PyTorch's own LSTM output (lstm_basic golden) through LoadStateDict.
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.IO;
using RnnFast.Nn;
using RnnFast.Optim;
using Xunit;

namespace RnnFast.Tests;

public sealed class ModuleApiTests
{
    private const double Atol = Backend.DefaultAbsTolerance, Rtol = Backend.DefaultRelTolerance;

    /// <summary>U(-1,1) host tensor of <paramref name="shape"/>.</summary>
    private static Tensor Rand(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var t = Tensor.Zeros(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    private static void Close(Tensor expected, Tensor actual, string what, double atol = Atol, double rtol = Rtol)
    {
        Assert.True(expected.SameShape(actual), $"{what}: shape {Tensor.FormatShape(actual.Shape)}, expected {Tensor.FormatShape(expected.Shape)}");
        var e = expected.ToArray();
        var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(a[i] - e[i]) <= atol + rtol * Math.Abs(e[i]), $"{what}[{i}]: {a[i]} vs expected {e[i]}");
    }

    private static void Identical(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.SameShape(actual), what);
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    /// <summary>(A,B,C) -> (B,A,C).</summary>
    private static Tensor Swap(Tensor t) => RnnRunner.SwapFirstTwo(t);

    /// <summary>Rows [from, to) of the first axis of a (A,B,C) host tensor.</summary>
    private static Tensor Slice0(Tensor t, int from, int to)
    {
        int row = t.Shape[1] * t.Shape[2];
        return Tensor.FromArray(t.ToArray().AsSpan(from * row, (to - from) * row).ToArray(), to - from, t.Shape[1], t.Shape[2]);
    }

    public static IEnumerable<object[]> Configs() =>
    [
        ["lstm_proj"],
        ["gru_bidir"],
        ["rnn_relu"],
    ];

    private static RecurrentModule Make(string config, bool batchFirst = false, string? backend = null, int seed = 7) => config switch
    {
        "lstm_proj" => new Lstm(5, 8, numLayers: 2, projSize: 3, batchFirst: batchFirst, backend: backend, seed: seed),
        "gru_bidir" => new Gru(5, 6, numLayers: 2, bidirectional: true, batchFirst: batchFirst, backend: backend, seed: seed),
        "rnn_relu" => new Rnn(5, 7, nonlinearity: Nonlinearity.Relu, bidirectional: true, batchFirst: batchFirst, backend: backend, seed: seed),
        _ => throw new ArgumentException($"config: unknown '{config}'", nameof(config)),
    };

    private static RnnStateTensors RandomState(RecurrentModule m, int n, int seed)
    {
        var d = m.Desc;
        int ld = d.NumLayers * d.Directions;
        return new RnnStateTensors(Rand(seed, ld, n, d.OutputHiddenSize), d.HasCellState ? Rand(seed + 1, ld, n, d.HiddenSize) : null);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Inference_equals_a_reference_plan_on_the_same_weights(string config)
    {
        using var m = Make(config); // RNNFAST_BACKEND or auto
        const int T = 6, N = 3;
        var x = Rand(1, T, N, 5);
        var state = RandomState(m, N, 2);
        var (y, s) = m.Forward(x, state);

        var weights = m.StateDict();
        var parameters = RnnParameters.FromNamed(m.Desc, name => weights.TryGetValue(name, out var t) ? t.Clone() : null);
        using var plan = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
        using var r = RnnRunner.Forward(plan, x, state.H, state.C);
        var (atol, rtol) = m.Backend.CheckTolerance;
        Assert.Equal([T, N, m.Desc.OutputSize], y.Shape);
        Close(r.Output, y, $"{config} on {m.Backend.Name}: output", atol, rtol);
        Close(r.HN, s.H, "h_n", atol, rtol);
        if (m.Desc.HasCellState) Close(r.CN!, s.C!, "c_n", atol, rtol);
        else Assert.Null(s.C);
    }

    [Fact]
    public void Two_lines_from_weights_to_output()
    {
        var x = Rand(3, 4, 2, 64); // (T,N,I)
        using var lstm = new Lstm(64, 128, numLayers: 2); var (y, state) = lstm.Forward(x);
        Assert.Equal([4, 2, 128], y.Shape);
        Assert.Equal([2, 2, 128], state.H.Shape);
        Assert.Equal([2, 2, 128], state.C!.Shape);
        Assert.Equal(8, lstm.Parameters().Count());
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"],
            lstm.StateDict().Keys);
        // PyTorch's default init: U(-1/sqrt(H), 1/sqrt(H)).
        float k = 1f / MathF.Sqrt(128);
        Assert.All(lstm.StateDict().Values.SelectMany(t => t.ToArray()), v => Assert.InRange(v, -k, k));
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Batch_first_is_the_time_major_result_transposed(string config)
    {
        using var tm = Make(config, batchFirst: false, backend: "reference");
        using var bf = Make(config, batchFirst: true, backend: "reference", seed: 99);
        bf.LoadStateDict(tm.StateDict());
        var x = Rand(4, 5, 2, 5);                       // (T,N,I)
        var state = RandomState(tm, 2, 5);
        var (yTm, sTm) = tm.Forward(x, state);
        var (yBf, sBf) = bf.Forward(Swap(x), state);    // (N,T,I): the state stays (L*D,N,H)
        Assert.Equal([2, 5, tm.Desc.OutputSize], yBf.Shape);
        Identical(Swap(yTm), yBf, "output");
        Identical(sTm.H, sBf.H, "h_n");
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("rnn_relu")]
    public void State_carried_across_two_halves_equals_the_whole_sequence(string config)
    {
        // Unidirectional only: a reverse direction's state does not carry forward in time.
        using RecurrentModule m = config == "lstm"
            ? new Lstm(5, 8, numLayers: 2, projSize: 3, backend: "reference", seed: 4)
            : new Rnn(5, 7, numLayers: 2, nonlinearity: Nonlinearity.Relu, backend: "reference", seed: 4);
        const int T = 8, N = 2;
        var x = Rand(6, T, N, 5);
        var (whole, sWhole) = m.Forward(x);
        var (first, s1) = m.Forward(Slice0(x, 0, 3));
        var (second, s2) = m.Forward(Slice0(x, 3, T), s1);
        Close(Slice0(whole, 0, 3), first, "first half");
        Close(Slice0(whole, 3, T), second, "second half");
        Close(sWhole.H, s2.H, "h_n");
        if (m.Desc.HasCellState) Close(sWhole.C!, s2.C!, "c_n");
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void State_dict_round_trip_into_a_fresh_module_gives_identical_outputs(string config)
    {
        using var a = Make(config, seed: 1);
        using var b = Make(config, seed: 2);
        var x = Rand(7, 4, 3, 5);
        var (ya, _) = a.Forward(x);
        var (yb0, _) = b.Forward(x);
        Assert.NotEqual(ya.ToArray(), yb0.ToArray());
        var snapshot = a.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var result = b.LoadStateDict(snapshot);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var (yb, _) = b.Forward(x);
        Identical(ya, yb, "output after LoadStateDict");
        // A copy, not a share: changing the source afterwards does not change the loaded module.
        snapshot.Values.First().Span[0] += 1f;
        Identical(ya, b.Forward(x).Output, "output after changing the source");
    }

    [Fact]
    public void Strict_loading_names_every_missing_and_unexpected_tensor()
    {
        using var m = new Lstm(4, 6, projSize: 2, backend: "reference", seed: 3);
        var before = m.StateDict()["weight_ih_l0"].ToArray();
        var dict = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        dict.Remove("weight_hr_l0");
        dict.Remove("bias_hh_l0");
        dict["weight_ih_l0"].Span.Fill(0.5f);
        dict["fc.weight"] = Tensor.Zeros(2, 2);
        var e = Assert.Throws<ArgumentException>(() => m.LoadStateDict(dict));
        Assert.Equal("stateDict", e.ParamName);
        Assert.Contains("'weight_hr_l0'", e.Message);
        Assert.Contains("'bias_hh_l0'", e.Message);
        Assert.Contains("unexpected key(s) 'fc.weight'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(before, m.StateDict()["weight_ih_l0"].ToArray()); // nothing copied

        var r = m.LoadStateDict(dict, strict: false);
        Assert.Equal(["bias_hh_l0", "weight_hr_l0"], r.MissingKeys.Order());
        Assert.Equal(["fc.weight"], r.UnexpectedKeys);
        Assert.All(m.StateDict()["weight_ih_l0"].ToArray(), v => Assert.Equal(0.5f, v));
    }

    [Fact]
    public void A_wrong_shape_is_refused_naming_the_tensor_and_both_shapes()
    {
        using var m = new Gru(4, 6, backend: "reference", seed: 3);
        var dict = m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        dict["weight_hh_l0"] = Tensor.Zeros(18, 5);
        foreach (bool strict in new[] { true, false })
        {
            var e = Assert.Throws<ArgumentException>(() => m.LoadStateDict(dict, strict));
            Assert.Contains("'weight_hh_l0' expected (18,6), found (18,5)", e.Message);
        }
    }

    [Fact]
    public void Bad_inputs_and_states_are_named_with_shapes()
    {
        using var m = new Lstm(4, 6, numLayers: 2, backend: "reference", seed: 3);
        var e1 = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(3, 2, 5)));
        Assert.Equal("x", e1.ParamName);
        Assert.Contains("I=4, found (3,2,5)", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(3, 2, 4), new RnnStateTensors(Tensor.Zeros(1, 2, 6))));
        Assert.Contains("H expected (L*D,N,H_out) = (2,2,6), found (1,2,6)", e2.Message);
        using var g = new Gru(4, 6, backend: "reference", seed: 3);
        var e3 = Assert.Throws<ArgumentException>(() => g.Forward(Tensor.Zeros(3, 2, 4), new RnnStateTensors(Tensor.Zeros(1, 2, 6), Tensor.Zeros(1, 2, 6))));
        Assert.Contains("C must be null for GRU", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => m.Forward(new float[3 * 2 * 4], 3, 2, new float[3 * 2 * 6], new float[2 * 2 * 6], new float[7]));
        Assert.Equal("c", e4.ParamName);
        Assert.Contains("expected L*D*N*H = 24 floats, found 7", e4.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Span_overload_fills_the_callers_buffers_and_carries_the_state(bool batchFirst)
    {
        using var m = new Lstm(5, 8, numLayers: 2, projSize: 3, batchFirst: batchFirst, backend: "reference", seed: 11);
        const int T = 6, N = 2;
        var xTm = Rand(12, T, N, 5);
        var x = batchFirst ? Swap(xTm) : xTm;
        var state = RandomState(m, N, 13);
        var (y, s) = m.Forward(x, state);

        var output = new float[T * N * m.Desc.OutputSize];
        var h = state.H.ToArray();
        var c = state.C!.ToArray();
        m.Forward(x.ToArray(), T, N, output, h, c);
        Assert.Equal(y.ToArray(), output);
        Assert.Equal(s.H.ToArray(), h);
        Assert.Equal(s.C!.ToArray(), c);

        // Zero-state overload, then the same from explicit zeros.
        var out0 = new float[output.Length];
        m.Forward(x.ToArray(), T, N, out0);
        Assert.Equal(m.Forward(x).Output.ToArray(), out0);
    }

    [Fact]
    public void Tape_forward_trains_loss_decreases_under_adam()
    {
        using var m = new Gru(3, 8, batchFirst: true, backend: "reference", seed: 21);
        const int N = 4, T = 6;
        var x = Rand(22, N, T, 3);
        var target = Tensor.FromArray(Rand(23, N, T, 8).ToArray().Select(v => 0.5f * v).ToArray(), N, T, 8);
        var adam = new Adam(m.Parameters().ToList(), lr: 0.02);
        var losses = new List<float>();
        for (int step = 0; step < 30; step++)
        {
            var tape = new Tape();
            var (output, hn, cn) = m.Forward(tape, Variable.Constant(x, "x"));
            Assert.Null(cn);
            Assert.Equal([N, T, 8], output.Shape);
            var loss = tape.MseLoss(output, target);
            adam.ZeroGrad();
            tape.Backward(loss);
            losses.Add(loss.Value.Span[0]);
            adam.Step();
        }
        Assert.True(losses[^1] < 0.7f * losses[0], "losses: " + string.Join(", ", losses));
        Assert.All(losses.Skip(1), l => Assert.True(l < losses[0], "losses: " + string.Join(", ", losses)));
        // Inference sees the trained weights.
        var (y, _) = m.Forward(x);
        var tape2 = new Tape();
        Close(tape2.Rnn(m.Plan, Variable.Constant(x), null, null, null, m.Layer.Weights).Output.Value, y, "inference after training");
    }

    [Fact]
    public void Pytorch_lstm_basic_output_through_load_state_dict()
    {
        using var file = SafeTensorsFile.Open(TestPaths.Golden("lstm_basic"));
        int I = int.Parse(file.Metadata["input_size"]), H = int.Parse(file.Metadata["hidden_size"]);
        Assert.Equal("LSTM", file.Metadata["mode"]);
        using var lstm = new Lstm(I, H, numLayers: int.Parse(file.Metadata["num_layers"]), seed: 5);
        var all = file.Tensors.ToDictionary(t => t.Name, t => file.ReadTensor(t.Name));
        var loaded = lstm.LoadStateDict(all, strict: false);
        Assert.Empty(loaded.MissingKeys);
        Assert.Contains("input", loaded.UnexpectedKeys);
        var (y, state) = lstm.Forward(all["input"], new RnnStateTensors(all["h0"], all["c0"]));
        Close(all["output"], y, $"output on {lstm.Backend.Name}");
        Close(all["h_n"], state.H, "h_n");
        Close(all["c_n"], state.C!, "c_n");
    }
}
