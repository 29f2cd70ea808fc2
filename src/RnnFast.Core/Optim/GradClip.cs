// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_: the norm over every gradient together
// (accumulated in double); when max_norm / (norm + 1e-6) < 1 every gradient is scaled by that factor.
using RnnFast.Autograd;

namespace RnnFast.Optim;

/// <summary>Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_.</summary>
public static class GradClip
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> (those that have one) so that their global L2 norm is at
    /// most <paramref name="maxNorm"/>. Returns the norm before clipping. A NaN norm leaves the gradients as they are;
    /// an infinite one scales them by 0 (check the returned norm for non-finite values).
    /// </summary>
    public static double ClipGradNorm(IEnumerable<Variable> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm >= 0))
            throw new ArgumentException($"maxNorm: must be >= 0, got {maxNorm}", nameof(maxNorm));
        var grads = new List<Tensor>();
        var seen = new HashSet<Variable>(ReferenceEqualityComparer.Instance);
        foreach (var p in parameters)
            if (p?.Grad != null && seen.Add(p)) grads.Add(p.Grad);

        double sumSq = 0;
        foreach (var g in grads)
            foreach (var v in g.Span) sumSq += (double)v * v;
        double norm = Math.Sqrt(sumSq);

        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1)
        {
            float c = (float)coef;
            foreach (var g in grads)
            {
                var s = g.Span;
                for (int i = 0; i < s.Length; i++) s[i] *= c;
            }
        }
        return norm;
    }
}
