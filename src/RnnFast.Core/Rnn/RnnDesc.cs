// What an RNN layer stack is: the cell, the sizes, layers, directions, layout, projection and bias.
// Mirrors torch.nn.RNN/LSTM/GRU's constructor arguments; invalid combinations are rejected here, once.
namespace RnnFast;

/// <summary>The recurrent cell. Gate orders follow PyTorch: LSTM i,f,g,o; GRU r,z,n.</summary>
public enum RnnMode
{
    /// <summary>Elman RNN with tanh: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).</summary>
    RnnTanh,
    /// <summary>Elman RNN with relu: h' = relu(W_ih x + b_ih + W_hh h + b_hh).</summary>
    RnnRelu,
    /// <summary>LSTM (4 gates i,f,g,o; cell state c), optionally with a projection.</summary>
    Lstm,
    /// <summary>GRU (3 gates r,z,n), PyTorch's variant (r applied after W_hn h + b_hn).</summary>
    Gru,
}

/// <summary>An immutable description of a (possibly stacked, bidirectional) RNN.</summary>
public sealed record RnnDesc
{
    /// <summary>Describes a stack like torch.nn.RNN/LSTM/GRU's constructor (input_size, hidden_size, num_layers, bidirectional, batch_first, proj_size, bias); throws ArgumentException naming the argument on an invalid combination.</summary>
    public RnnDesc(RnnMode mode, int inputSize, int hiddenSize, int numLayers = 1, bool bidirectional = false,
        bool batchFirst = false, int projSize = 0, bool bias = true, bool peephole = false)
    {
        if (!Enum.IsDefined(mode))
            throw new ArgumentException($"mode: {(int)mode} is not an RnnMode", nameof(mode));
        if (inputSize <= 0)
            throw new ArgumentException($"inputSize: must be positive, got {inputSize}", nameof(inputSize));
        if (hiddenSize <= 0)
            throw new ArgumentException($"hiddenSize: must be positive, got {hiddenSize}", nameof(hiddenSize));
        if (numLayers <= 0)
            throw new ArgumentException($"numLayers: must be positive, got {numLayers}", nameof(numLayers));
        if (projSize < 0)
            throw new ArgumentException($"projSize: must be 0 (no projection) or positive, got {projSize}", nameof(projSize));
        if (projSize > 0 && mode != RnnMode.Lstm)
            throw new ArgumentException($"projSize: projection is only defined for LSTM, not {mode}", nameof(projSize));
        if (projSize >= hiddenSize)
            throw new ArgumentException($"projSize: must be smaller than hiddenSize ({hiddenSize}), got {projSize}", nameof(projSize));
        if (peephole && mode != RnnMode.Lstm)
            throw new ArgumentException($"peephole: peephole connections are only defined for LSTM, not {mode}", nameof(peephole));
        long largest = (long)GateCountOf(mode) * hiddenSize * Math.Max(inputSize, Math.Max(hiddenSize, hiddenSize * 2));
        if (largest > Array.MaxLength)
            throw new ArgumentException($"hiddenSize/inputSize: a weight matrix of {largest} elements is too large", nameof(hiddenSize));

        Mode = mode;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bidirectional = bidirectional;
        BatchFirst = batchFirst;
        ProjSize = projSize;
        Bias = bias;
        Peephole = peephole;
    }

    /// <summary>The recurrent cell.</summary>
    public RnnMode Mode { get; }
    /// <summary>I: the input feature size of layer 0.</summary>
    public int InputSize { get; }
    /// <summary>H: the hidden (and cell) size of each direction.</summary>
    public int HiddenSize { get; }
    /// <summary>L: the number of stacked layers.</summary>
    public int NumLayers { get; }
    /// <summary>True when each layer also runs backwards in time (D = 2); outputs of the two directions are concatenated.</summary>
    public bool Bidirectional { get; }
    /// <summary>True when inputs and outputs are (N,T,features) as in PyTorch's batch_first; false (default): (T,N,features).</summary>
    public bool BatchFirst { get; }
    /// <summary>LSTM projection size (0 = none): h is projected from H to P by weight_hr.</summary>
    public int ProjSize { get; }
    /// <summary>False drops b_ih and b_hh (PyTorch's bias=False).</summary>
    public bool Bias { get; }

    /// <summary>
    /// LSTM peephole connections: per layer and direction weight_ph (3*H; i, f, o) add p_i*c_prev and p_f*c_prev to the
    /// i and f gates' pre-activations and p_o*c_t (the new cell) to the o gate's.
    /// </summary>
    public bool Peephole { get; }

    /// <summary>D: 2 when bidirectional, else 1.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>G: gates per cell (RNN 1, GRU 3, LSTM 4).</summary>
    public int GateCount => GateCountOf(Mode);

    /// <summary>H_out: the size of h (ProjSize when projecting, else HiddenSize).</summary>
    public int OutputHiddenSize => ProjSize > 0 ? ProjSize : HiddenSize;

    /// <summary>The feature size of the output sequence: D * H_out.</summary>
    public int OutputSize => Directions * OutputHiddenSize;

    /// <summary>True for LSTM, which carries a cell state c (L*D,N,H) besides h.</summary>
    public bool HasCellState => Mode == RnnMode.Lstm;

    /// <summary>The input feature size of layer <paramref name="layer"/>: I for layer 0, D*H_out above.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : OutputSize;

    /// <summary>G: gates per cell of <paramref name="mode"/> (RNN 1, GRU 3, LSTM 4).</summary>
    public static int GateCountOf(RnnMode mode) => mode switch
    {
        RnnMode.Lstm => 4,
        RnnMode.Gru => 3,
        _ => 1,
    };

    /// <summary>Parses PyTorch's mode names (LSTM, GRU, RNN_TANH, RNN_RELU) and ours (lstm, gru, rnn, rnn_relu, ...).</summary>
    public static RnnMode ParseMode(string text) => text.Trim().ToUpperInvariant().Replace("-", "_") switch
    {
        "LSTM" => RnnMode.Lstm,
        "GRU" => RnnMode.Gru,
        "RNN_TANH" or "RNNTANH" or "RNN" or "TANH" => RnnMode.RnnTanh,
        "RNN_RELU" or "RNNRELU" or "RELU" => RnnMode.RnnRelu,
        _ => throw new ArgumentException($"mode: unknown RNN mode '{text}' (expected LSTM, GRU, RNN_TANH or RNN_RELU)", nameof(text)),
    };

    /// <summary>PyTorch's name for <paramref name="mode"/> ("RNN_TANH", "RNN_RELU", "LSTM", "GRU").</summary>
    public static string TorchModeName(RnnMode mode) => mode switch
    {
        RnnMode.Lstm => "LSTM",
        RnnMode.Gru => "GRU",
        RnnMode.RnnTanh => "RNN_TANH",
        _ => "RNN_RELU",
    };

    /// <inheritdoc/>
    public override string ToString() =>
        $"{TorchModeName(Mode)}(I={InputSize}, H={HiddenSize}, L={NumLayers}, D={Directions}" +
        (ProjSize > 0 ? $", P={ProjSize}" : "") + (Peephole ? ", peephole" : "") + (Bias ? "" : ", no bias") + (BatchFirst ? ", batch_first" : "") + ")";
}
