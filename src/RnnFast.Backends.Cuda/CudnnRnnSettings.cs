// How an RnnDesc becomes cuDNN's RNN descriptor (the arguments of cudnnSetRNNDescriptor_v8) and the shapes of its
// state tensors. Pure: no library is needed, so every mode/projection/direction combination is unit-tested.
// Facts used (cuDNN 9 API reference, cudnnSetRNNDescriptor_v8 and cudnnRNNForward; PyTorch's cuDNN RNN calls the same way):
//   * cellMode: RNN_RELU / RNN_TANH / LSTM / GRU; biasMode DOUBLE_BIAS (separate input and recurrent biases, which is
//     PyTorch's formula, GRU's r * (W_hn h + b_hn) included) or NO_BIAS; inputMode LINEAR_INPUT (layer 0 has W_ih).
//   * projSize is the LSTM recurrent projection size, and must equal hiddenSize when there is no projection (not 0).
//   * dataType and mathPrec FLOAT; mathType FMA_MATH for exact FP32 (DEFAULT_MATH lets Ampere+ GPUs use TF32 tensor
//     cores, which is the opt-in "TF32" setting; this is what PyTorch picks for allow_tf32 false / true).
//   * auxFlags PADDED_IO_ENABLED: (T, N, C) sequence-major unpacked data with per-sequence lengths (padded I/O), for
//     variable-length batches; PADDED_IO_DISABLED with the SEQ_MAJOR_PACKED layout for batches of full-length sequences
//     (the same (T, N, C) memory; cuDNN's faster path, the one PyTorch's cuDNN RNN takes for unpacked tensors).
//   * hx/hy are (L*D, N, H_out) and cx/cy (L*D, N, H), fully packed, index layer*D + direction: our layout as it is.
using RnnFast.Bindings.Cuda;

namespace RnnFast.Backends.Cuda;

/// <summary>cuDNN descriptor parameters derived from an <see cref="RnnDesc"/>.</summary>
public static class CudnnRnnSettings
{
    /// <summary>The cudnnSetRNNDescriptor_v8 arguments for <paramref name="desc"/>.</summary>
    public static RnnDescriptorSettings From(RnnDesc desc, CudnnMathType mathType, CudnnRnnAlgo algo, bool paddedIo = true)
    {
        ArgumentNullException.ThrowIfNull(desc);
        return new RnnDescriptorSettings(
            Algo: algo,
            CellMode: CellMode(desc.Mode),
            BiasMode: desc.Bias ? CudnnRnnBiasMode.DoubleBias : CudnnRnnBiasMode.NoBias,
            DirMode: desc.Bidirectional ? CudnnDirectionMode.Bidirectional : CudnnDirectionMode.Unidirectional,
            InputMode: CudnnRnnInputMode.LinearInput,
            DataType: CudnnDataType.Float,
            MathPrec: CudnnDataType.Float,
            MathType: mathType,
            InputSize: desc.InputSize,
            HiddenSize: desc.HiddenSize,
            ProjSize: desc.OutputHiddenSize, // = HiddenSize without a projection, as cuDNN requires
            NumLayers: desc.NumLayers,
            AuxFlags: paddedIo ? CudnnRnnAuxFlags.PaddedIoEnabled : CudnnRnnAuxFlags.PaddedIoDisabled);
    }

    /// <summary>cudnnRNNMode_t of a cell.</summary>
    public static CudnnRnnMode CellMode(RnnMode mode) => mode switch
    {
        RnnMode.RnnRelu => CudnnRnnMode.Relu,
        RnnMode.RnnTanh => CudnnRnnMode.Tanh,
        RnnMode.Lstm => CudnnRnnMode.Lstm,
        RnnMode.Gru => CudnnRnnMode.Gru,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown RNN mode"),
    };

    /// <summary>linLayerIDs per pseudo-layer that hold a matrix of the cell: 2*G (W then R), plus 1 for the LSTM projection.</summary>
    public static int LinLayerCount(RnnDesc desc) => 2 * desc.GateCount + (desc.ProjSize > 0 ? 1 : 0);

    /// <summary>
    /// cuDNN's linLayerID of PyTorch gate <paramref name="torchGate"/> (LSTM i,f,g,o; GRU r,z,n; RNN the one gate) for the
    /// input matrix (W, <paramref name="recurrent"/> false) or the recurrent matrix (R). cuDNN documents LSTM 0/4 input
    /// gate, 1/5 forget, 2/6 new memory (g), 3/7 output; GRU 0/3 reset, 1/4 update (z), 2/5 new memory (n); RNN 0 / 1:
    /// the same order as PyTorch's, offset by G for the recurrent side.
    /// </summary>
    public static int LinLayerId(RnnDesc desc, int torchGate, bool recurrent)
    {
        int g = desc.GateCount;
        if ((uint)torchGate >= (uint)g) throw new ArgumentOutOfRangeException(nameof(torchGate), $"{desc.Mode} has {g} gate(s)");
        return (recurrent ? g : 0) + torchGate;
    }

    /// <summary>linLayerID of the LSTM recurrent projection matrix (8: after the 8 gate matrices).</summary>
    public const int ProjectionLinLayerId = 8;

    /// <summary>cuDNN's pseudo-layer of layer <paramref name="layer"/>, direction <paramref name="direction"/>: layer*D + direction.</summary>
    public static int PseudoLayer(RnnDesc desc, int layer, int direction) => layer * desc.Directions + direction;

    /// <summary>hDesc dims (L*D, N, H_out) and fully packed strides.</summary>
    public static (int[] Dims, int[] Strides) HiddenState(RnnDesc desc, int batch) => Packed3(desc.NumLayers * desc.Directions, batch, desc.OutputHiddenSize);

    /// <summary>cDesc dims (L*D, N, H) and fully packed strides.</summary>
    public static (int[] Dims, int[] Strides) CellState(RnnDesc desc, int batch) => Packed3(desc.NumLayers * desc.Directions, batch, desc.HiddenSize);

    /// <summary>vectorSize of the x data descriptor: I.</summary>
    public static int InputVectorSize(RnnDesc desc) => desc.InputSize;

    /// <summary>vectorSize of the y data descriptor: D * H_out.</summary>
    public static int OutputVectorSize(RnnDesc desc) => desc.OutputSize;

    private static (int[] Dims, int[] Strides) Packed3(int a, int b, int c) => ([a, b, c], [b * c, c, 1]);
}
