// RnnDesc: derived sizes, parameter layout and names, and clear errors for invalid combinations.
using Xunit;

namespace RnnFast.Tests;

public sealed class RnnDescTests
{
    [Theory]
    [InlineData(RnnMode.RnnTanh, 1)]
    [InlineData(RnnMode.RnnRelu, 1)]
    [InlineData(RnnMode.Gru, 3)]
    [InlineData(RnnMode.Lstm, 4)]
    public void Gate_counts_follow_the_mode(RnnMode mode, int gates) =>
        Assert.Equal(gates, new RnnDesc(mode, 3, 5).GateCount);

    [Fact]
    public void Sizes_for_a_bidirectional_projected_stack()
    {
        var d = new RnnDesc(RnnMode.Lstm, 10, 16, numLayers: 2, bidirectional: true, projSize: 6);
        Assert.Equal(2, d.Directions);
        Assert.Equal(6, d.OutputHiddenSize);
        Assert.Equal(12, d.OutputSize);
        Assert.Equal(10, d.LayerInputSize(0));
        Assert.Equal(12, d.LayerInputSize(1));
        Assert.Equal([64, 12], RnnParameters.ShapeOf(d, new RnnParamId(1, 1, RnnParamKind.WeightIh)));
        Assert.Equal([64, 6], RnnParameters.ShapeOf(d, new RnnParamId(0, 0, RnnParamKind.WeightHh)));
        Assert.Equal([6, 16], RnnParameters.ShapeOf(d, new RnnParamId(0, 1, RnnParamKind.WeightHr)));
    }

    [Fact]
    public void Layout_uses_pytorch_names_in_state_dict_order()
    {
        var d = new RnnDesc(RnnMode.Lstm, 4, 8, numLayers: 1, bidirectional: true, projSize: 3);
        var names = RnnParameters.Layout(d).Select(id => id.TorchName).ToArray();
        Assert.Equal(new[]
        {
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_hr_l0_reverse",
        }, names);
        Assert.DoesNotContain(RnnParameters.Layout(new RnnDesc(RnnMode.Gru, 4, 8, bias: false)), id => id.Kind is RnnParamKind.BiasIh or RnnParamKind.BiasHh);
    }

    [Theory]
    [InlineData(RnnMode.Lstm, 0, 8, 1, 0, "inputSize")]
    [InlineData(RnnMode.Lstm, 4, -1, 1, 0, "hiddenSize")]
    [InlineData(RnnMode.Lstm, 4, 8, 0, 0, "numLayers")]
    [InlineData(RnnMode.Lstm, 4, 8, 1, -2, "projSize")]
    [InlineData(RnnMode.Lstm, 4, 8, 1, 8, "projSize")]
    [InlineData(RnnMode.Gru, 4, 8, 1, 2, "projSize")]
    [InlineData(RnnMode.RnnTanh, 4, 8, 1, 2, "projSize")]
    [InlineData((RnnMode)42, 4, 8, 1, 0, "mode")]
    public void Invalid_combinations_name_the_field(RnnMode mode, int input, int hidden, int layers, int proj, string field)
    {
        var e = Assert.Throws<ArgumentException>(() => new RnnDesc(mode, input, hidden, layers, projSize: proj));
        Assert.Equal(field, e.ParamName);
        Assert.StartsWith(field + ":", e.Message);
    }

    [Theory]
    [InlineData("LSTM", RnnMode.Lstm)]
    [InlineData("gru", RnnMode.Gru)]
    [InlineData("RNN_TANH", RnnMode.RnnTanh)]
    [InlineData("rnn_relu", RnnMode.RnnRelu)]
    public void Mode_names_parse(string text, RnnMode mode) => Assert.Equal(mode, RnnDesc.ParseMode(text));

    [Fact]
    public void Unknown_mode_name_is_an_error() =>
        Assert.Contains("'transformer'", Assert.Throws<ArgumentException>(() => RnnDesc.ParseMode("transformer")).Message);

    [Fact]
    public void Parameters_from_a_state_dict_report_missing_and_misshapen_tensors()
    {
        var d = new RnnDesc(RnnMode.Gru, 3, 4);
        var good = RnnParameters.Create(d, new Random(1));
        var dict = good.Ids.Select((id, i) => (id.TorchName, good.Tensors[i])).ToDictionary(x => "gru." + x.TorchName, x => x.Item2);

        var loaded = RnnParameters.FromNamed(d, n => dict.GetValueOrDefault(n), "gru.", "m.safetensors");
        Assert.Same(dict["gru.weight_hh_l0"], loaded.Get(0, 0, RnnParamKind.WeightHh));

        dict.Remove("gru.bias_hh_l0");
        var missing = Assert.Throws<RnnFormatException>(() => RnnParameters.FromNamed(d, n => dict.GetValueOrDefault(n), "gru.", "m.safetensors"));
        Assert.Equal("m.safetensors: tensor 'gru.bias_hh_l0' is missing (needed by GRU(I=3, H=4, L=1, D=1))", missing.Message);

        dict["gru.bias_hh_l0"] = Tensor.Zeros(13);
        var shape = Assert.Throws<RnnFormatException>(() => RnnParameters.FromNamed(d, n => dict.GetValueOrDefault(n), "gru.", "m.safetensors"));
        Assert.Contains("'gru.bias_hh_l0' has shape (13,), expected (12,)", shape.Message);
    }
}
