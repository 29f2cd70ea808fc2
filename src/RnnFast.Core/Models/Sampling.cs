// Turning logits into the next token: temperature, top-k and greedy (argmax) choice, allocation-free.
namespace RnnFast.Models;

/// <summary>How <see cref="RnnModel.Generate"/> picks each next character.</summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature (> 0): below 1 sharper, above 1 flatter.</summary>
    public float Temperature { get; init; } = 1f;
    /// <summary>Sample only among the K most likely tokens (0 = all).</summary>
    public int TopK { get; init; }
    /// <summary>Always take the most likely token.</summary>
    public bool Argmax { get; init; }
    /// <summary>Seed of the sampling random generator (same seed and model: same text).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checks every option; the message starts with the property, e.g. <c>SamplingOptions.Temperature: must be a positive number, got 0</c>.</summary>
    public void Validate()
    {
        if (!(Temperature > 0) || float.IsInfinity(Temperature))
            throw new ArgumentException($"{nameof(SamplingOptions)}.{nameof(Temperature)}: must be a positive number, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"{nameof(SamplingOptions)}.{nameof(TopK)}: must be 0 (off) or positive, got {TopK}");
    }
}

/// <summary>Picks the next token from logits (temperature, top-k, argmax).</summary>
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
        double u = rng.NextDouble() * total, acc = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            acc += scratch[i];
            if (u < acc) return i;
        }
        return best;
    }
}
