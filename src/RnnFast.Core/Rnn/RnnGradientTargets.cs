// The parameter-gradient buffers IRnnPlan.BackwardAccumulate adds into: the check that they fit the plan (same stack,
// host tensors of the parameters' shapes), and the plain element-wise add backends without a direct path use.
using System.Numerics.Tensors;

namespace RnnFast;

internal static class RnnGradientTargets
{
    /// <summary>Throws ArgumentException (naming paramGrads and the tensor) unless <paramref name="paramGrads"/> fits <paramref name="desc"/>.</summary>
    public static void Check(RnnDesc desc, RnnParameters paramGrads)
    {
        ArgumentNullException.ThrowIfNull(paramGrads);
        if (paramGrads.Desc != desc)
            throw new ArgumentException($"paramGrads: laid out for {paramGrads.Desc}, the plan runs {desc}", nameof(paramGrads));
        for (int i = 0; i < paramGrads.Tensors.Count; i++)
            if (!paramGrads.Tensors[i].IsHost)
                throw new ArgumentException($"paramGrads: '{paramGrads.Ids[i].TorchName}' is not a host tensor (gradient buffers live on the host)", nameof(paramGrads));
    }

    /// <summary>target[i] += grads[i] for every parameter (grads may be device tensors; they are read back).</summary>
    public static void AddInto(RnnParameters grads, RnnParameters target)
    {
        for (int i = 0; i < target.Tensors.Count; i++)
        {
            var g = grads.Tensors[i];
            ReadOnlySpan<float> src = g.IsHost ? g.HostArray : g.ToArray();
            var dst = target.Tensors[i].Span;
            TensorPrimitives.Add(dst, src, dst);
        }
    }
}
