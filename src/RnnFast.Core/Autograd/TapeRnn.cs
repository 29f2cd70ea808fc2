// The RNN as one fused tape node: forward runs an IRnnPlan (training forward, keeping the backend's workspace),
// backward calls plan.Backward once with the upstream gradients of output, h_n and c_n (null where the loss did
// not use them) and adds d(input), d(h0), d(c0) and every parameter's gradient into the variables. When every
// parameter is trained, the plan adds straight into their gradient buffers (IRnnPlan.BackwardAccumulate: no
// gradient-sized arrays per step); otherwise its fresh gradient tensors are taken over or added. The forward's
// workspace is the node's state: Tape.Reset (or Dispose) gives it back to the plan.
namespace RnnFast.Autograd;

/// <summary>
/// The results of <see cref="Tape.Rnn"/>: Output (T,N,D*H_out), or (N,T,D*H_out) when batch_first;
/// HN (L*D,N,H_out); CN (L*D,N,H) for LSTM, else null.
/// </summary>
public sealed record RnnOutputs(Variable Output, Variable HN, Variable? CN);

/// <summary>Records tape ops in order and runs their backward rules in reverse (reverse-mode autodiff). Not thread-safe: one tape per training step and thread.</summary>
public sealed partial class Tape
{
    /// <summary>
    /// Runs <paramref name="plan"/> on <paramref name="input"/> (T,N,I), or (N,T,I) when the plan's desc is batch_first,
    /// with optional initial states h0 (L*D,N,H_out), c0 (L*D,N,H) and per-sequence lengths (N).
    /// <paramref name="parameters"/> must wrap exactly plan.Parameters.Tensors, in the same order.
    /// </summary>
    public RnnOutputs Rnn(IRnnPlan plan, Variable input, Variable? h0, Variable? c0, int[]? lengths, IReadOnlyList<Variable> parameters)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(parameters);
        var desc = plan.Desc;
        var planTensors = plan.Parameters.Tensors;
        if (parameters.Count != planTensors.Count)
            throw new ArgumentException($"parameters: the plan ({desc}) has {planTensors.Count} parameters, got {parameters.Count}", nameof(parameters));
        for (int i = 0; i < planTensors.Count; i++)
        {
            if (parameters[i] == null || !ReferenceEquals(parameters[i].Value, planTensors[i]))
                throw new ArgumentException(
                    $"parameters: entry {i} does not wrap the plan's tensor '{plan.Parameters.Ids[i].TorchName}' (wrap plan.Parameters.Tensors in order)",
                    nameof(parameters));
        }

        var ps = parameters.ToArray();
        var inputs = RnnRunner.Prepare(desc, input.Value, h0?.Value, c0?.Value, lengths);
        var all = new List<Variable?>(ps.Length + 3) { input, h0, c0 };
        all.AddRange(ps);
        bool needsGrad = AnyRequiresGrad(all);

        var fwd = RnnRunner.Run(plan, inputs, input.Value.Shape, training: needsGrad); // a refused input is named as the caller passed it (h0, not inputs.H0)
        var outTm = Host(fwd.Output);                               // (T,N,D*H_out)
        var output = Result(desc.BatchFirst ? RnnRunner.SwapFirstTwo(outTm) : outTm, all.ToArray());
        var hn = Result(Host(fwd.HN), all.ToArray());              // (L*D,N,H_out)
        var cn = fwd.CN == null ? null : Result(Host(fwd.CN), all.ToArray()); // (L*D,N,H)

        Variable[] outs = cn == null ? [output, hn] : [output, hn, cn];
        Record(() =>
        {
            Tensor? dOut = output.Grad;
            if (dOut != null && desc.BatchFirst) dOut = RnnRunner.SwapFirstTwo(dOut); // (N,T,·) -> (T,N,·)
            // every parameter trained (the usual case): the plan adds into their gradient buffers, kept across steps
            bool allParams = Array.TrueForAll(ps, p => p.RequiresGrad);
            var grads = allParams
                ? plan.BackwardAccumulate(inputs, fwd, dOut, hn.Grad, cn?.Grad,
                    RnnParameters.FromTensors(desc, Array.ConvertAll(ps, p => p.GradTensorForAccumulate())))
                : plan.Backward(inputs, fwd, dOut, hn.Grad, cn?.Grad);

            if (input.RequiresGrad)
                input.AccumulateGrad(desc.BatchFirst ? RnnRunner.SwapFirstTwo(grads.DInput) : grads.DInput, takeOver: true);
            if (h0 != null && h0.RequiresGrad) h0.AccumulateGrad(grads.DH0, takeOver: true);
            if (c0 != null && c0.RequiresGrad && grads.DC0 != null) c0.AccumulateGrad(grads.DC0, takeOver: true);
            var dParams = grads.DParams.Tensors;
            if (!allParams)
                for (int i = 0; i < ps.Length; i++)
                    if (ps[i].RequiresGrad) ps[i].AccumulateGrad(dParams[i], takeOver: true);
        }, fwd, outs);
        return new RnnOutputs(output, hn, cn);
    }

    private static Tensor Host(Tensor t) => t.IsHost ? t : t.ToHost();
}
