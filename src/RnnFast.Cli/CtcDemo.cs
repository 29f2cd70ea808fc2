// `rnnfast demo --task ctc`: CTC sequence labelling end to end on generated data, no download. Noisy frame sequences
// of variable-duration symbols with silences (CtcSymbolTask, unsegmented: only the label string is given) train a
// bidirectional LSTM + linear head with the CTC loss (CtcTrainer); held-out sequences are decoded greedily and with
// prefix beam search and scored by the label error rate; the network is saved to --out-dir. The last line is `ler_greedy=<x> ler_beam=<y>`.
using System.Diagnostics;
using System.Globalization;
using RnnFast.Backends;
using RnnFast.Data;
using RnnFast.Training;

namespace RnnFast.Cli;

internal static class CtcDemo
{
    /// <summary>Runs the CTC demo; <paramref name="seconds"/> caps the training time (the default recipe needs far less).</summary>
    public static int Run(double seconds, string outDir, string? backendName, int seed, TextWriter o)
    {
        var options = new CtcOptions { Seed = seed, Backend = backendName, MaxSeconds = seconds, EvalEvery = 100 };
        options.Validate();
        var backend = BackendRegistry.Get(backendName);
        o.WriteLine($"RnnFast demo (ctc): backend '{backend.Name}' ({backend.Description})");
        const int Symbols = 6, Features = 8, Count = 2000;
        const double Noise = 0.6;
        var labels = CtcSymbolTask.SymbolNames(Symbols);
        var examples = CtcSymbolTask.Generate(Count, Symbols, Features, minLabels: 2, maxLabels: 6, Noise, seed);
        var first = examples[0];
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"data: {Count} unsegmented sequences of 2-6 symbols from {{{string.Join(",", labels)}}}, {Features} features a frame, " +
            $"{examples.Min(e => e.Steps)}-{examples.Max(e => e.Steps)} frames, noise sd {Noise}; e.g. \"{string.Concat(first.Labels.Select(k => labels[k]))}\" over {first.Steps} frames"));

        var progress = o == Console.Out ? ConsoleProgress.ForConsole() : new ConsoleProgress(o, interactive: false);
        var clock = Stopwatch.StartNew();
        using var outcome = new CtcTrainer().Train(examples, labels, options with { Backend = backend.Name }, progress);
        clock.Stop();
        progress.ClearBar();

        var test = outcome.Test;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"trained {outcome.Run.Steps} steps in {clock.Elapsed.TotalSeconds:F1} s (with the held-out evaluations) on '{outcome.Run.BackendName}'"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"held out: {test.Sequences} sequences, CTC loss {test.Loss:F4}, label error rate greedy {test.GreedyLabelErrorRate:P2}, beam (width {options.BeamWidth}) {test.BeamLabelErrorRate:P2}"));
        foreach (var (reference, greedy, beam) in test.Decodings.Take(5))
            o.WriteLine($"  reference {Spell(reference),-8} greedy {Spell(greedy),-8} beam {Spell(beam)}");
        Directory.CreateDirectory(outDir);
        string modelPath = Path.Combine(outDir, "ctc-model.safetensors");
        outcome.Network.Save(modelPath);
        o.WriteLine($"model: {modelPath} (CtcNetwork.Load reads it back)");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ler_greedy={test.GreedyLabelErrorRate:F4} ler_beam={test.BeamLabelErrorRate:F4}"));
        return CliErrors.Ok;

        string Spell(int[] s) => s.Length == 0 ? "(empty)" : outcome.Network.Spell(s);
    }
}
