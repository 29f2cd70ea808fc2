// A synthetic unsegmented sequence-labelling task for CTC: each sequence is a string of symbols, each symbol shown for
// a random number of frames as its own prototype vector plus Gaussian noise, with random stretches of silence (noise
// around zero) before, between and after them; the label sequence is the symbols, with no frame alignment given. Two
// equal neighbours are always separated by silence, so the labels can be read back from the frames.
using RnnFast.Training;

namespace RnnFast.Data;

/// <summary>Noisy frame sequences of variable-duration symbols, and their label strings (a CTC task).</summary>
public static class CtcSymbolTask
{
    /// <summary>The largest number of symbols (one per uppercase letter).</summary>
    public const int MaxSymbols = 26;

    /// <summary>The names of <paramref name="symbols"/> symbols: "A", "B", ...</summary>
    public static IReadOnlyList<string> SymbolNames(int symbols)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(symbols, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(symbols, MaxSymbols);
        return Enumerable.Range(0, symbols).Select(k => ((char)('A' + k)).ToString()).ToArray();
    }

    /// <summary>
    /// Generates <paramref name="count"/> sequences of <paramref name="minLabels"/> to <paramref name="maxLabels"/>
    /// symbols out of <paramref name="symbols"/>; a symbol lasts 2 to 5 frames of <paramref name="features"/> values
    /// (its prototype, entries of +-1 drawn once per seed, plus N(0, noise^2) per value); silences last 0 to 2 frames
    /// (at least 1 between equal neighbours, 0 to 3 at either end). The same arguments always give the same data.
    /// </summary>
    public static IReadOnlyList<CtcExample> Generate(int count, int symbols, int features, int minLabels, int maxLabels, double noise, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(symbols, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(symbols, MaxSymbols);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minLabels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLabels, minLabels);
        if (!(noise >= 0) || double.IsInfinity(noise)) throw new ArgumentOutOfRangeException(nameof(noise), noise, "must be a finite number >= 0");

        var rng = new Random(seed);
        var prototypes = new float[symbols][];
        for (int k = 0; k < symbols; k++)
            prototypes[k] = Enumerable.Range(0, features).Select(_ => rng.Next(2) == 0 ? -1f : 1f).ToArray();

        var result = new CtcExample[count];
        var frames = new List<float>();
        for (int i = 0; i < count; i++)
        {
            frames.Clear();
            int length = rng.Next(minLabels, maxLabels + 1);
            var labels = new int[length];
            void Emit(float[]? prototype, int steps)
            {
                for (int s = 0; s < steps; s++)
                    for (int f = 0; f < features; f++)
                        frames.Add((prototype?[f] ?? 0f) + (float)(noise * Gaussian(rng)));
            }
            Emit(null, rng.Next(0, 4));
            for (int k = 0; k < length; k++)
            {
                labels[k] = rng.Next(symbols);
                if (k > 0) Emit(null, rng.Next(labels[k] == labels[k - 1] ? 1 : 0, 3));
                Emit(prototypes[labels[k]], rng.Next(2, 6));
            }
            Emit(null, rng.Next(0, 4));
            result[i] = new CtcExample([.. frames], frames.Count / features, labels);
        }
        return result;
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
