// Trains a CTC sequence labeller (CtcNetwork: frames -> RNN -> Linear -> LogSoftmax) on unsegmented examples, each a
// sequence of feature frames and its label sequence with no alignment between them, and scores it on held-out examples
// by the label error rate of greedy and prefix beam-search decoding. The examples are shuffled with the seed and split;
// every step draws a batch that depends only on (seed, step), pads it, and minimises Tape.CtcLoss (mean reduction:
// each sequence's loss over its label count, then the batch mean). An example whose frames are too few for its labels
// (one frame per label, plus one between each pair of equal neighbours) can never be aligned and is refused up front.
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Models;

namespace RnnFast.Training;

/// <summary>One unsegmented example: <paramref name="Steps"/> frames of F features (row-major (Steps, F)) and its labels (0..K-1).</summary>
public sealed record CtcExample(float[] Frames, int Steps, int[] Labels);

/// <summary>Held-out scores of a CTC labeller.</summary>
/// <param name="GreedyLabelErrorRate">Edit distance of the greedy decodings over the references' total length.</param>
/// <param name="BeamLabelErrorRate">The same for prefix beam search.</param>
/// <param name="Loss">The mean CTC loss (each sequence's over its label count, then the mean).</param>
/// <param name="Sequences">Examples scored.</param>
/// <param name="Decodings">Per example: the reference, the greedy and the beam decoding.</param>
public sealed record CtcEvaluation(double GreedyLabelErrorRate, double BeamLabelErrorRate, double Loss, int Sequences,
    IReadOnlyList<(int[] Reference, int[] Greedy, int[] Beam)> Decodings);

/// <summary>What <see cref="CtcTrainer.Train"/> produced: the held-out scores, the run, and the trained network (the caller disposes it).</summary>
public sealed record CtcTrainingOutcome(CtcEvaluation Test, TrainResult Run, CtcNetwork Network) : IDisposable
{
    /// <summary>Releases the network.</summary>
    public void Dispose() => Network.Dispose();
}

/// <summary>Trains and evaluates a <see cref="CtcNetwork"/> on unsegmented examples.</summary>
public sealed class CtcTrainer
{
    /// <summary>
    /// Trains on <paramref name="examples"/> (all with frames of the same width) whose labels index
    /// <paramref name="labels"/>; returns the evaluation on the held-out <see cref="CtcOptions.TestFraction"/>.
    /// </summary>
    public CtcTrainingOutcome Train(IReadOnlyList<CtcExample> examples, IReadOnlyList<string> labels, CtcOptions options,
        ITrainObserver? observer = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        var o = options;
        o.Validate();
        observer ??= new NullObserver();
        if (labels.Count < 1 || labels.Any(string.IsNullOrEmpty)) throw new ArgumentException("labels: needs at least one label, none empty", nameof(labels));
        SequenceTrainingLoop.CheckSplit(examples.Count, o.TestFraction);
        int F = CheckExamples(examples, labels.Count);
        var backend = BackendRegistry.Get(o.Backend);

        var (testIds, trainIds) = SequenceTrainingLoop.Split(examples.Count, o.TestFraction, o.Seed);
        var test = testIds.Select(i => examples[i]).ToArray();
        var train = trainIds.Select(i => examples[i]).ToArray();
        var desc = new RnnDesc(o.Mode, F, o.Hidden, o.Layers, o.Bidirectional);
        var net = new CtcNetwork(F, labels, desc, backend, new Random(o.Seed));
        try
        {
            var parameters = net.Parameters();
            var names = net.NamedParameters().Select(p => p.Name).ToArray();
            var optimizer = TrainingSetup.MakeOptimizer(o.Optimizer, parameters, o.LearningRate, 0);
            int N = Math.Min(o.Batch, train.Length);
            observer.OnMessage($"ctc {desc} on {backend.Name}: {labels.Count} labels + blank, F={F}, {train.Length} train / {test.Length} test sequences, {o.Steps} steps");

            var losses = new List<float>();
            var schedule = o.Schedule();
            var rates = new List<float>();
            var history = new List<(int, double)>();
            var guard = new NonFiniteGuard(o.OnNonFinite, 10);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int step = 0;
            long framesSeen = 0;
            bool cancelled = false;
            while (step < o.Steps)
            {
                if (cancel.IsCancellationRequested) { cancelled = true; break; }
                if (o.MaxSeconds is { } max && clock.Elapsed.TotalSeconds >= max) break;
                var rng = TrainingSetup.StepRandom(o.Seed, step, 0);
                var batch = new CtcExample[N];
                for (int n = 0; n < N; n++) batch[n] = train[rng.Next(train.Length)];
                using var tape = new Tape(); // disposed at the end of the step: the RNN workspaces go back to their plans
                var loss = BatchLoss(tape, net, batch);
                double rate = optimizer.LearningRate = schedule.At(step);
                var (l, norm, updated) = TrainingSetup.BackwardAndStep(tape, loss, optimizer, parameters, o.Clip, step, guard, names);
                if (updated) rates.Add((float)rate);
                TrainingSetup.CountStep(ref step, 0, o.Steps, l, norm, updated, losses, ref framesSeen, batch.Sum(b => (long)b.Steps), clock, guard, observer, rate);
                if (o.EvalEvery > 0 && step % o.EvalEvery == 0 && step < o.Steps)
                {
                    var ev = Evaluate(net, test, o.BeamWidth);
                    history.Add((step, ev.Loss));
                    observer.OnMessage($"step {step}: held-out CTC loss {ev.Loss:F4}, label error rate greedy {ev.GreedyLabelErrorRate:P2}, beam {ev.BeamLabelErrorRate:P2}");
                    if (schedule.OnCheck(ev.Loss))
                        observer.OnMessage($"step {step}: no held-out improvement in {o.LrPatience} check(s); learning rate now {schedule.At(step).ToString("G4", System.Globalization.CultureInfo.InvariantCulture)}");
                }
            }
            var final = Evaluate(net, test, o.BeamWidth);
            history.Add((step, final.Loss));
            observer.OnMessage($"step {step}: held-out CTC loss {final.Loss:F4}, label error rate greedy {final.GreedyLabelErrorRate:P2}, beam {final.BeamLabelErrorRate:P2}");
            return new CtcTrainingOutcome(final, new TrainResult(step, final.Loss, losses, history, cancelled, backend.Name, guard.Skipped) { LearningRates = rates }, net);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The held-out scores of <paramref name="network"/> on <paramref name="examples"/>: label error rates of greedy and
    /// prefix beam-search decoding (width <paramref name="beamWidth"/>) and the mean CTC loss.
    /// </summary>
    public static CtcEvaluation Evaluate(CtcNetwork network, IReadOnlyList<CtcExample> examples, int beamWidth = 8, int batch = 64)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) throw new ArgumentException("examples: nothing to evaluate", nameof(examples));
        if (batch <= 0) throw new ArgumentException($"batch: must be positive, got {batch}", nameof(batch));
        CheckExamples(examples, network.Labels.Count, network.Features);
        var decoded = network.Decode(examples.Select(e => (e.Frames, e.Steps)).ToArray(), beamWidth, batch);
        double lossSum = 0;
        for (int b = 0; b < examples.Count; b += batch)
        {
            var chunk = examples.Skip(b).Take(batch).ToArray();
            var (frames, lengths, T) = CtcNetwork.Pad(chunk.Select(e => (e.Frames, e.Steps)).ToArray(), network.Features);
            var lp = network.InferLogProbs(frames, lengths, T, chunk.Length);
            var (targets, targetLengths) = Targets(chunk);
            var loss = new Tape().CtcLoss(Variable.Constant(Tensor.FromArray(lp, T, chunk.Length, network.Classes)), targets, lengths, targetLengths,
                CtcNetwork.Blank, CtcReduction.Mean);
            lossSum += loss.Value.Span[0] * (double)chunk.Length;
        }
        var rows = examples.Select((e, i) => (e.Labels, decoded[i].Greedy, decoded[i].Beam)).ToArray();
        bool anyLabel = examples.Any(e => e.Labels.Length > 0);
        double greedy = anyLabel ? CtcDecoding.LabelErrorRate(rows.Select(r => (r.Greedy, r.Labels))) : double.NaN;
        double beam = anyLabel ? CtcDecoding.LabelErrorRate(rows.Select(r => (r.Beam, r.Labels))) : double.NaN;
        return new CtcEvaluation(greedy, beam, lossSum / examples.Count, examples.Count, rows);
    }

    /// <summary>The mean CTC loss of a batch on the tape.</summary>
    private static Variable BatchLoss(Tape tape, CtcNetwork net, CtcExample[] batch)
    {
        var (frames, lengths, T) = CtcNetwork.Pad(batch.Select(e => (e.Frames, e.Steps)).ToArray(), net.Features);
        var logProbs = net.LogProbs(tape, frames, lengths, T, batch.Length);    // (T,N,C)
        var (targets, targetLengths) = Targets(batch);
        return tape.CtcLoss(logProbs, targets, lengths, targetLengths, CtcNetwork.Blank, CtcReduction.Mean);
    }

    /// <summary>The batch's labels as padded (N,S) classes (label k = class k+1) and their lengths.</summary>
    private static (int[] Targets, int[] Lengths) Targets(CtcExample[] batch)
    {
        int N = batch.Length, S = Math.Max(1, batch.Max(e => e.Labels.Length));
        var targets = new int[N * S];
        var lengths = new int[N];
        for (int n = 0; n < N; n++)
        {
            lengths[n] = batch[n].Labels.Length;
            for (int k = 0; k < lengths[n]; k++) targets[n * S + k] = batch[n].Labels[k] + 1;
        }
        return (targets, lengths);
    }

    /// <summary>Checks every example (frames, labels in 0..K-1, enough frames to align); returns the frame width F.</summary>
    private static int CheckExamples(IReadOnlyList<CtcExample> examples, int labelCount, int features = 0)
    {
        int F = features;
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i] ?? throw new ArgumentException($"examples: example {i + 1} is null", nameof(examples));
            if (e.Frames == null || e.Labels == null) throw new ArgumentException($"examples: example {i + 1} has no frames or no labels", nameof(examples));
            if (e.Steps < 1) throw new ArgumentException($"examples: example {i + 1} has {e.Steps} frames; at least 1 is needed", nameof(examples));
            if (e.Frames.Length % e.Steps != 0 || e.Frames.Length == 0)
                throw new ArgumentException($"examples: example {i + 1} has {e.Frames.Length} floats, not a whole number of its {e.Steps} frames", nameof(examples));
            int width = e.Frames.Length / e.Steps;
            if (F == 0) F = width;
            else if (width != F)
                throw new ArgumentException($"examples: example {i + 1} has frames of {width} features, expected {F}", nameof(examples));
            int needed = 0;
            for (int k = 0; k < e.Labels.Length; k++)
            {
                if ((uint)e.Labels[k] >= (uint)labelCount)
                    throw new ArgumentException($"examples: example {i + 1} has the label {e.Labels[k]}, expected 0..{labelCount - 1}", nameof(examples));
                needed += k > 0 && e.Labels[k] == e.Labels[k - 1] ? 2 : 1;
            }
            if (needed > e.Steps)
                throw new ArgumentException($"examples: example {i + 1} has {e.Labels.Length} labels needing at least {needed} frames, but only {e.Steps} frames", nameof(examples));
        }
        return F;
    }

    private sealed class NullObserver : ITrainObserver;
}
