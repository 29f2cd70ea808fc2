// The checks every plan runs on what it is given, before any kernel (managed with unsafe pointers, or native) reads a
// buffer: a plan may be called directly with RnnInputs the user built, so the shapes, the lengths and the upstream
// gradients are checked here, once, with the tensor named and the shape expected vs found. Time-major throughout:
// X (T,N,I), Y (T,N,D*H_out), h (L*D,N,H_out), c (L*D,N,H). RnnRunner.Prepare checks the user-facing layout first.
namespace RnnFast;

/// <summary>Argument checks for <see cref="IRnnPlan.Forward"/> and <see cref="IRnnPlan.Backward"/>; every backend's plan calls them.</summary>
public static class RnnInputChecks
{
    /// <summary>Throws an ArgumentException naming the tensor unless <paramref name="inputs"/> fit <paramref name="desc"/>.</summary>
    public static void Forward(RnnDesc desc, RnnInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(inputs);
        var x = inputs.Input ?? throw new ArgumentException("inputs.Input: is null", nameof(inputs));
        if (x.Rank != 3 || x.Shape[2] != desc.InputSize)
            throw new ArgumentException($"inputs.Input: expected (T,N,{desc.InputSize}) time-major, found {Tensor.FormatShape(x.Shape)}", nameof(inputs));
        int T = x.Shape[0], N = x.Shape[1];
        if (T == 0 || N == 0)
            throw new ArgumentException($"inputs.Input: empty sequence batch {Tensor.FormatShape(x.Shape)} (T and N must be positive)", nameof(inputs));
        int LD = desc.NumLayers * desc.Directions;
        if (inputs.H0 is { } h0 && !h0.HasShape(LD, N, desc.OutputHiddenSize))
            throw new ArgumentException($"inputs.H0: expected {Tensor.FormatShape([LD, N, desc.OutputHiddenSize])}, found {Tensor.FormatShape(h0.Shape)}", nameof(inputs));
        if (inputs.C0 is { } c0)
        {
            if (!desc.HasCellState)
                throw new ArgumentException($"inputs.C0: only LSTM has a cell state, this is {desc.Mode}", nameof(inputs));
            if (!c0.HasShape(LD, N, desc.HiddenSize))
                throw new ArgumentException($"inputs.C0: expected {Tensor.FormatShape([LD, N, desc.HiddenSize])}, found {Tensor.FormatShape(c0.Shape)}", nameof(inputs));
        }
        if (inputs.Lengths is { } lengths)
        {
            if (lengths.Length != N)
                throw new ArgumentException($"inputs.Lengths: expected {N} entries (one per sequence), found {lengths.Length}", nameof(inputs));
            for (int n = 0; n < N; n++)
                if (lengths[n] < 1 || lengths[n] > T)
                    throw new ArgumentException($"inputs.Lengths: sequence {n} has length {lengths[n]}, must be in 1..T={T}", nameof(inputs));
        }
    }

    /// <summary>
    /// Checks a backward call: the inputs as for <see cref="Forward"/>, a forward result from a training pass, and the
    /// upstream gradients' shapes (dOutput (T,N,D*H_out), dHN (L*D,N,H_out), dCN (L*D,N,H), LSTM only).
    /// </summary>
    public static void Backward(RnnDesc desc, RnnInputs inputs, RnnForwardResult forward, Tensor? dOutput, Tensor? dHN, Tensor? dCN)
    {
        Forward(desc, inputs);
        ArgumentNullException.ThrowIfNull(forward);
        if (forward.Workspace == null)
            throw new ArgumentException("forward: has no workspace; it must come from Forward(training: true) of this plan", nameof(forward));
        int T = inputs.SeqLen, N = inputs.Batch, LD = desc.NumLayers * desc.Directions;
        if (!forward.Output.HasShape(T, N, desc.OutputSize))
            throw new ArgumentException($"forward: its output {Tensor.FormatShape(forward.Output.Shape)} is not from these inputs (expected {Tensor.FormatShape([T, N, desc.OutputSize])})", nameof(forward));
        if (dOutput != null && !dOutput.HasShape(T, N, desc.OutputSize))
            throw new ArgumentException($"dOutput: expected {Tensor.FormatShape([T, N, desc.OutputSize])}, found {Tensor.FormatShape(dOutput.Shape)}", nameof(dOutput));
        if (dHN != null && !dHN.HasShape(LD, N, desc.OutputHiddenSize))
            throw new ArgumentException($"dHN: expected {Tensor.FormatShape([LD, N, desc.OutputHiddenSize])}, found {Tensor.FormatShape(dHN.Shape)}", nameof(dHN));
        if (dCN != null)
        {
            if (!desc.HasCellState)
                throw new ArgumentException($"dCN: only LSTM has a cell state, this is {desc.Mode}", nameof(dCN));
            if (!dCN.HasShape(LD, N, desc.HiddenSize))
                throw new ArgumentException($"dCN: expected {Tensor.FormatShape([LD, N, desc.HiddenSize])}, found {Tensor.FormatShape(dCN.Shape)}", nameof(dCN));
        }
    }
}
