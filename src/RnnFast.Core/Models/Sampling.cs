// Turning logits into the next token: temperature, top-k, top-p (nucleus) and greedy (argmax) choice, allocation-free
// for vocabularies up to 1024 (larger ones rent a buffer for top-p).
namespace RnnFast.Models;

/// <summary>How <see cref="RnnModel.Generate"/> picks each next character.</summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature (> 0): below 1 sharper, above 1 flatter.</summary>
    public float Temperature { get; init; } = 1f;
    /// <summary>Sample only among the K most likely tokens (0 = all).</summary>
    public int TopK { get; init; }
    /// <summary>
    /// Nucleus sampling, in (0, 1]: sample only among the most likely tokens whose probabilities (after temperature and
    /// top-k) add up to at least P; 1 = all. A tiny P keeps only the most likely token (the same choice as argmax).
    /// </summary>
    public float TopP { get; init; } = 1f;
    /// <summary>Always take the most likely token.</summary>
    public bool Argmax { get; init; }
    /// <summary>Seed of the random generator that <see cref="RnnModel.Generate"/> samples with.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>
    /// Stop string: <see cref="RnnModel.Generate"/> stops as soon as the generated text (without the prime) ends with it;
    /// the stop string is part of the text produced. Null = no stop string (generate the whole length).
    /// </summary>
    public string? Stop { get; init; }

    /// <summary>Checks every option; the message starts with the property, e.g. <c>SamplingOptions.Temperature: must be a positive number, got 0</c>.</summary>
    public void Validate()
    {
        if (!(Temperature > 0) || float.IsInfinity(Temperature))
            throw new ArgumentException($"{nameof(SamplingOptions)}.{nameof(Temperature)}: must be a positive number, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"{nameof(SamplingOptions)}.{nameof(TopK)}: must be 0 (off) or positive, got {TopK}");
        if (!(TopP > 0 && TopP <= 1))
            throw new ArgumentException($"{nameof(SamplingOptions)}.{nameof(TopP)}: must be in (0, 1] (1 = off), got {TopP.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        if (Stop is { Length: 0 }) throw new ArgumentException($"{nameof(SamplingOptions)}.{nameof(Stop)}: must not be empty (null = no stop string)");
    }
}

/// <summary>Picks the next token from logits (temperature, top-k, top-p, argmax).</summary>
public static class Sampler
{
    /// <summary>Picks a token from <paramref name="logits"/>; <paramref name="scratch"/> must be as long as the logits.</summary>
    public static int Pick(ReadOnlySpan<float> logits, SamplingOptions options, Random rng, Span<float> scratch)
    {
        if (logits.Length == 0) throw new ArgumentException("logits: empty", nameof(logits));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentNullException.ThrowIfNull(rng);
        if (scratch.Length < logits.Length)
            throw new ArgumentException($"scratch: needs at least {logits.Length} floats (one per logit), found {scratch.Length}", nameof(scratch));
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        if (options.Argmax) return best;

        // Top-k threshold: the k-th largest logit (ties keep every equal value).
        float threshold = float.NegativeInfinity;
        if (options.TopK > 0 && options.TopK < logits.Length)
        {
            logits.CopyTo(scratch);
            scratch[..logits.Length].Sort();
            threshold = scratch[logits.Length - options.TopK];
        }
        double max = logits[best], total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double p = logits[i] >= threshold ? Math.Exp((logits[i] - max) / options.Temperature) : 0;
            scratch[i] = (float)p;
            total += p;
        }
        if (options.TopP < 1) total = KeepNucleus(scratch[..logits.Length], total, options.TopP);
        double u = rng.NextDouble() * total, acc = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            acc += scratch[i];
            if (u < acc) return i;
        }
        return best;
    }

    /// <summary>
    /// Top-p: <paramref name="weights"/> (V, unnormalised, summing to <paramref name="total"/>) keep only the largest
    /// ones whose sum reaches <paramref name="p"/> of the total (ties with the smallest kept weight are kept too); the
    /// others become 0. Returns the new total.
    /// </summary>
    private static double KeepNucleus(Span<float> weights, double total, float p)
    {
        int V = weights.Length;
        float[]? rented = V > 1024 ? System.Buffers.ArrayPool<float>.Shared.Rent(V) : null;
        Span<float> sorted = rented != null ? rented.AsSpan(0, V) : stackalloc float[V];
        try
        {
            weights.CopyTo(sorted);
            sorted.Sort();
            // Walk down from the largest weight until the kept mass reaches p of the total.
            double need = p * total, acc = 0;
            float threshold = sorted[V - 1];
            for (int i = V - 1; i >= 0; i--)
            {
                acc += sorted[i];
                threshold = sorted[i];
                if (acc >= need) break;
            }
            double kept = 0;
            for (int i = 0; i < V; i++)
            {
                if (weights[i] < threshold) weights[i] = 0;
                kept += weights[i];
            }
            return kept;
        }
        finally
        {
            if (rented != null) System.Buffers.ArrayPool<float>.Shared.Return(rented);
        }
    }
}
