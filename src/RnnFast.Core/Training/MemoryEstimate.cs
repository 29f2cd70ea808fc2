// How much memory a run will need, estimated from its sizes before anything is allocated, against what this machine
// (or its container's cgroup limit) makes available: a run that cannot fit is refused with the sizes that make it
// large, instead of being killed after it has taken the machine's memory. Terms are counted in 4-byte floats:
// parameters, their gradients, optimizer state, the activations the tape keeps for backward (and their gradients),
// and the logits.
using System.Globalization;

namespace RnnFast.Training;

/// <summary>Estimates the memory of a training or benchmark run and refuses one that cannot fit.</summary>
public static class MemoryEstimate
{
    /// <summary>
    /// Environment variable that overrides the memory available (bytes, or with a K, M or G suffix: 512M, 2G), for
    /// tests and for sharing a machine; otherwise the runtime's total available memory (which honours cgroup limits
    /// and DOTNET_GCHeapHardLimit) is used.
    /// </summary>
    public const string LimitVariable = "RNNFAST_MEMORY_LIMIT";

    /// <summary>
    /// The bytes of memory this process may use: <see cref="LimitVariable"/> when set, else
    /// <see cref="GC.GetGCMemoryInfo()"/>'s TotalAvailableMemoryBytes (long.MaxValue when the runtime does not know).
    /// </summary>
    public static long AvailableBytes()
    {
        string? text = Environment.GetEnvironmentVariable(LimitVariable);
        if (!string.IsNullOrWhiteSpace(text))
        {
            if (TryParseBytes(text.Trim(), out long limit)) return limit;
            throw new ArgumentException($"{LimitVariable}: '{text}' is not a number of bytes (e.g. 2147483648, 512M, 2G)");
        }
        long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return total > 0 ? total : long.MaxValue;
    }

    /// <summary>One named part of an estimate: <see cref="Names"/> says which sizes make it (e.g. <c>TrainOptions.SeqLen x TrainOptions.Batch</c>).</summary>
    public readonly record struct Term(string Names, double Bytes);

    /// <summary>
    /// The terms of a recurrent training run, in bytes: parameters with gradients and optimizer state, the activations
    /// saved for backward (inputs, gate pre-activations, states and outputs per layer and direction, and their gradients),
    /// and the output layer's logits with their gradients. <paramref name="seqLen"/> x <paramref name="batch"/> is the
    /// largest batch the run forms; <paramref name="outputs"/> is V for a language model, C for a classifier.
    /// </summary>
    public static IReadOnlyList<Term> Training(TrainOptions o, int inputs, int outputs, int seqLen, int batch, string seqLenName, string batchName)
    {
        ArgumentNullException.ThrowIfNull(o);
        double G = RnnDesc.GateCountOf(o.Mode), D = o.Bidirectional ? 2 : 1, H = o.Hidden, L = o.Layers, E = o.Embed;
        double T = seqLen, N = batch;
        string layers = TrainOptions.NameOf(nameof(TrainOptions.Layers)), hidden = TrainOptions.NameOf(nameof(TrainOptions.Hidden));
        // Weights: embedding, layer 0 (input E), layers 1.. (input D*H), biases, head. x4: value, gradient, two Adam moments.
        double weights = inputs * E + D * G * H * (E + H + 2) + (L - 1) * D * G * H * (D * H + H + 2) + outputs * (D * H + 1);
        // Per layer and direction, per step and sequence: gate pre-activations and their gradients, states (h, c),
        // the layer's output and the gradients flowing back: about (2G + 6) H floats.
        double perLayer = T * N * L * D * (2 * G + 6) * H;
        double logits = 3 * T * N * outputs + 2 * T * N * E;
        return
        [
            new Term($"{layers} x {hidden}", 4 * 4 * weights),
            new Term($"{seqLenName} x {batchName} x {layers} x {hidden}", 4 * perLayer),
            new Term($"{seqLenName} x {batchName} x {outputs} outputs", 4 * logits),
        ];
    }

    /// <summary>
    /// Refuses (ArgumentException) a run whose terms add up to more than <see cref="AvailableBytes"/>, naming the
    /// largest term's sizes: <c>TrainOptions.SeqLen x TrainOptions.Batch ...: needs ~5.2 GiB, this machine has 2.0 GiB available</c>.
    /// </summary>
    public static void Require(IReadOnlyList<Term> terms, string what = "the run")
    {
        ArgumentNullException.ThrowIfNull(terms);
        double total = 0;
        Term largest = default;
        foreach (var t in terms)
        {
            total += t.Bytes;
            if (t.Bytes > largest.Bytes) largest = t;
        }
        long available = AvailableBytes();
        if (total <= available) return;
        throw new ArgumentException(
            $"{largest.Names}: {what} needs ~{Format(total)} ({Format(largest.Bytes)} of it for these sizes), this machine has {Format(available)} available");
    }

    /// <summary>Bytes as GiB (or MiB below one GiB) with one decimal, e.g. <c>5.2 GiB</c>.</summary>
    public static string Format(double bytes)
    {
        var inv = CultureInfo.InvariantCulture;
        const double GiB = 1L << 30, MiB = 1L << 20;
        return bytes >= GiB ? (bytes / GiB).ToString("F1", inv) + " GiB" : (bytes / MiB).ToString("F1", inv) + " MiB";
    }

    private static bool TryParseBytes(string text, out long bytes)
    {
        long scale = 1;
        char last = char.ToUpperInvariant(text[^1]);
        if (last is 'K' or 'M' or 'G')
        {
            scale = last switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            text = text[..^1];
        }
        bytes = 0;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0) || v * scale > long.MaxValue) return false;
        bytes = (long)(v * scale);
        return true;
    }
}
