// The checks every plan runs on what it is given, before any kernel (managed with unsafe pointers, or native) reads a
// buffer: a plan may be called directly with RnnInputs the user built, so the shapes, the lengths and the upstream
// gradients are checked here, once per call, with the tensor named and the shape expected vs found. Time-major
// throughout: X (T,N,I), Y (T,N,D*H_out), h (L*D,N,H_out), c (L*D,N,H). RnnRunner.Prepare only checks the rank it needs
// to convert a batch-first input; when a plan refuses what RnnRunner.Forward prepared, the runner restates the problem
// in the names of its own arguments (input, h0, c0, lengths) and the shape the caller passed (see UserProblem).
namespace RnnFast;

/// <summary>Argument checks for <see cref="IRnnPlan.Forward"/> and <see cref="IRnnPlan.Backward"/>; every backend's plan calls them.</summary>
public static class RnnInputChecks
{
    /// <summary>Throws an ArgumentException naming the tensor unless <paramref name="inputs"/> fit <paramref name="desc"/>.</summary>
    public static void Forward(RnnDesc desc, RnnInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(desc);
        ArgumentNullException.ThrowIfNull(inputs);
        if (Find(desc, inputs, userInputShape: null) is { } p) throw new ArgumentException(p.Message, p.Param);
    }

    /// <summary>
    /// The problem <see cref="Forward"/> reports for <paramref name="inputs"/>, stated for a caller of RnnRunner: the
    /// tensors named input, h0, c0 and lengths, and the input's shape as that caller passed it
    /// (<paramref name="userInputShape"/>, batch-first or not); null when the inputs are fine (the plan refused
    /// something else). Only called after a plan threw, so the happy path checks once.
    /// </summary>
    internal static ArgumentException? UserProblem(RnnDesc desc, RnnInputs inputs, int[] userInputShape, Exception planError) =>
        Find(desc, inputs, userInputShape) is { } p ? new ArgumentException(p.Message, p.Param, planError) : null;

    /// <summary>The first problem with <paramref name="inputs"/>, named for a plan's caller, or for RnnRunner's when <paramref name="userInputShape"/> is given.</summary>
    private static (string Message, string Param)? Find(RnnDesc desc, RnnInputs inputs, int[]? userInputShape)
    {
        bool user = userInputShape != null;
        string input = user ? "input" : "inputs.Input", h0Name = user ? "h0" : "inputs.H0", c0Name = user ? "c0" : "inputs.C0";
        string lengthsName = user ? "lengths" : "inputs.Lengths"; // literals: no allocation
        string Param(string userName) => user ? userName : nameof(inputs);

        var x = inputs.Input;
        if (x == null) return ($"{input}: is null", Param("input"));
        string Shown() => Tensor.FormatShape(userInputShape ?? x.Shape); // only on the error paths: the checks allocate nothing
        if (x.Rank != 3 || x.Shape[2] != desc.InputSize)
        {
            return user
                ? ($"input: expected feature size I={desc.InputSize}, found shape {Shown()}", "input")
                : ($"inputs.Input: expected (T,N,{desc.InputSize}) time-major, found {Shown()}", nameof(inputs));
        }
        int T = x.Shape[0], N = x.Shape[1];
        if (T == 0 || N == 0) return ($"{input}: empty sequence batch {Shown()} (T and N must be positive)", Param("input"));
        int LD = desc.NumLayers * desc.Directions;
        if (inputs.H0 is { } h0 && !h0.HasShape(LD, N, desc.OutputHiddenSize))
            return ($"{h0Name}: expected {Tensor.FormatShape([LD, N, desc.OutputHiddenSize])}, found {Tensor.FormatShape(h0.Shape)}", Param("h0"));
        if (inputs.C0 is { } c0)
        {
            if (!desc.HasCellState) return ($"{c0Name}: only LSTM has a cell state, this is {desc.Mode}", Param("c0"));
            if (!c0.HasShape(LD, N, desc.HiddenSize))
                return ($"{c0Name}: expected {Tensor.FormatShape([LD, N, desc.HiddenSize])}, found {Tensor.FormatShape(c0.Shape)}", Param("c0"));
        }
        if (inputs.Lengths is { } lengths)
        {
            if (lengths.Length != N) return ($"{lengthsName}: expected {N} entries (one per sequence), found {lengths.Length}", Param("lengths"));
            for (int n = 0; n < N; n++)
                if (lengths[n] < 1 || lengths[n] > T)
                    return ($"{lengthsName}: sequence {n} has length {lengths[n]}, must be in 1..T={T}", Param("lengths"));
        }
        return null;
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
