// The training loop the sequence trainers share (classifier, multi-label classifier, tagger): a network from the
// config, the optimizer, N random examples a step (the draw depends only on seed and step, so runs repeat exactly),
// a guarded optimizer step, progress, periodic and final evaluation on the held-out examples (with early stopping and
// keep-best: TrainOptions.EarlyStopping, TrainOptions.Keep), the atomic save. Each
// trainer supplies only what differs: how a batch becomes a loss, and how a model is scored.
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Models;

namespace RnnFast.Training;

internal static class SequenceTrainingLoop
{
    /// <summary>Refuses a held-out fraction outside (0, 1) and fewer than 4 examples.</summary>
    public static void CheckSplit(int examples, double testFraction)
    {
        if (testFraction is <= 0 or >= 1 || double.IsNaN(testFraction))
            throw new ArgumentException($"testFraction: must be in (0, 1), got {testFraction}", nameof(testFraction));
        if (examples < 4) throw new ArgumentException($"examples: needs at least 4 examples, got {examples}", nameof(examples));
    }

    /// <summary>The example indices shuffled by <paramref name="seed"/>: the first round(count x testFraction) (at least 1) held out, the rest for training.</summary>
    public static (int[] Test, int[] Train) Split(int count, double testFraction, int seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        int testCount = Math.Max(1, (int)Math.Round(count * testFraction));
        return (order[..testCount], order[testCount..]);
    }

    /// <param name="config">The network to train (kind, sizes, labels).</param>
    /// <param name="backend">Where the RNN runs.</param>
    /// <param name="o">The recipe (validated by the caller).</param>
    /// <param name="train">The training examples, drawn with replacement.</param>
    /// <param name="testFraction">Recorded in the checkpoint.</param>
    /// <param name="describe">The start message, given (batch, total steps).</param>
    /// <param name="batchLoss">A batch's loss on the tape and its token count (tape, network, examples, dropout random).</param>
    /// <param name="evaluate">Scores a snapshot of the network on the held-out examples.</param>
    /// <param name="score">The evaluation's mean loss and accuracy, for the reports.</param>
    /// <param name="observer">Progress.</param>
    /// <param name="cancel">Stops after the current step: the model is saved first, then evaluated.</param>
    public static (TEval Final, TrainResult Result) Run<TExample, TEval>(NetworkConfig config, Backend backend, TrainOptions o,
        TExample[] train, double testFraction, Func<int, int, string> describe,
        Func<Tape, CharNetwork, TExample[], Random, (Variable Loss, long Tokens)> batchLoss,
        Func<RnnModel, TEval> evaluate, Func<TEval, (double Loss, double Accuracy)> score, ITrainObserver observer, CancellationToken cancel)
    {
        // Data-parallel (an MPI job): this rank's share of every global batch; rank 0 alone writes and reports. Every rank
        // evaluates the same (identical) parameters on the same held-out examples, so all return the same evaluation.
        var dp = o.DataParallel;
        int N = Math.Min(o.Batch, train.Length);
        var (first, localN) = dp?.Share(N, TrainOptions.NameOf(nameof(TrainOptions.Batch))) ?? (0, N);
        if (dp is { IsRoot: false })
        {
            o = o with { Out = null };
            observer = new SilentObserver();
        }
        // The output must be writable, and this run its only writer, before any step (the lock is held to the end).
        using var outputLock = o.Out != null ? RnnFast.IO.OutputLock.Acquire(o.Out, TrainOptions.NameOf(nameof(TrainOptions.Out))) : null;
        using var net = new CharNetwork(config, backend, new Random(o.Seed));
        if (o.ForgetBias != 0) net.SetForgetBias(o.ForgetBias);
        var parameters = net.Parameters();
        var optimizer = TrainingSetup.MakeOptimizer(o.Optimizer, parameters, o.LearningRate, o.Momentum);
        int totalSteps = o.Steps ?? (int)Math.Ceiling((o.Epochs ?? 1) * train.Length / (double)N);
        observer.OnMessage(describe(N, totalSteps));

        var losses = new List<float>();
        var guard = new NonFiniteGuard(o.OnNonFinite, o.MaxConsecutiveSkips);
        var names = net.NamedParameters().Select(p => p.Name).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int step = 0;
        long tokensSeen = 0;
        bool cancelled = false;
        // Keep-best: the lowest held-out loss seen at a check, its step and (with KeepModel.Best) a host copy of the parameters then.
        double bestLoss = double.PositiveInfinity;
        int bestStep = -1, checksSinceBest = 0;
        float[][]? bestParameters = null;
        void Consider(double loss, int at)
        {
            if (loss < bestLoss) // a NaN loss never improves
            {
                bestLoss = loss; bestStep = at; checksSinceBest = 0;
                if (o.Keep == KeepModel.Best) bestParameters = Snapshot(parameters, bestParameters);
            }
            else checksSinceBest++;
        }
        while (step < totalSteps)
        {
            bool timeUp = o.MaxSeconds is { } max && clock.Elapsed.TotalSeconds >= max;
            if (dp != null)
            {
                // Every rank stops at the same step (a signal or the clock may reach one rank first), else the others would wait forever.
                int stop = dp.AgreeToStop(cancel.IsCancellationRequested ? 2 : timeUp ? 1 : 0); // 2: a signal, 1: the time limit
                if (stop != 0) { cancelled = stop == 2; break; }
            }
            else
            {
                if (cancel.IsCancellationRequested) { cancelled = true; break; }
                if (timeUp) break;
            }
            var rng = TrainingSetup.StepRandom(o.Seed, step, 0);
            var batch = new TExample[localN];
            for (int n = 0; n < N; n++)
            {
                var pick = train[rng.Next(train.Length)]; // every rank draws the whole global batch and keeps its share
                int k = n - first;
                if ((uint)k < (uint)localN) batch[k] = pick;
            }
            var tape = new Tape();
            var dropoutRng = TrainingSetup.StepRandom(o.Seed, step, dp == null || dp.IsRoot ? 1 : 1000 + dp.Rank); // ranks drop different units
            var (loss, tokens) = batchLoss(tape, net, batch, dropoutRng);
            var (l, norm, updated) = TrainingSetup.BackwardAndStep(tape, loss, optimizer, parameters, o.Clip, step, guard, names, o.AfterBackward, dp);
            TrainingSetup.CountStep(ref step, totalSteps, l, norm, updated, losses, ref tokensSeen, tokens, clock, guard, observer);
            dp?.CheckInSync(parameters, step);
            if (o.EvalEvery > 0 && step % o.EvalEvery == 0 && step < totalSteps)
            {
                using var snapshot = RnnModel.FromNetwork(net);
                var (el, ea) = score(evaluate(snapshot));
                observer.OnEval(new EvalReport(step, el, null, ea));
                Consider(el, step);
                if (o.EarlyStopping is { } patience && checksSinceBest >= patience)
                {
                    observer.OnMessage(bestStep < 0
                        ? $"early stopping at step {step}: no finite held-out loss in {patience} check(s)"
                        : $"early stopping at step {step}: no held-out improvement in {patience} check(s) since step {bestStep} (loss {bestLoss:F4})");
                    break;
                }
            }
        }

        dp?.CheckInSync(parameters, step, force: true); // the model rank 0 saves is every rank's
        // Stopped by a signal: the model is saved before the evaluation (a second signal may end the process at any moment);
        // with keep-best, the best parameters seen at a check.
        if (cancelled)
        {
            if (bestParameters != null) { Restore(parameters, bestParameters); observer.OnMessage(KeptMessage(bestStep, bestLoss, step)); }
            TrainingSetup.SaveSequenceModel(o, net, optimizer, step, N, testFraction, losses, observer);
        }
        var model = RnnModel.FromNetwork(net);
        var final = evaluate(model);
        var (fl, fa) = score(final);
        observer.OnEval(new EvalReport(step, fl, null, fa));
        if (!cancelled && o.Keep == KeepModel.Best)
        {
            // The end of the run is a check too: the last parameters are kept unless a periodic check scored lower.
            if (bestParameters != null && !(fl <= bestLoss) && bestStep != step) // a NaN last loss loses to any finite best
            {
                Restore(parameters, bestParameters);
                model.Dispose();
                model = RnnModel.FromNetwork(net);
                final = evaluate(model);
                (fl, fa) = score(final);
                observer.OnMessage(KeptMessage(bestStep, fl, step));
            }
            else observer.OnMessage($"kept the last parameters (step {step}, held-out loss {fl:F4}): no check scored lower");
        }
        model.Dispose();
        if (!cancelled) TrainingSetup.SaveSequenceModel(o, net, optimizer, step, N, testFraction, losses, observer);
        return (final, new TrainResult(step, fl, losses, [(step, fl)], cancelled, backend.Name, guard.Skipped));
    }

    private static string KeptMessage(int bestStep, double bestLoss, int lastStep) =>
        $"kept the best parameters: step {bestStep} (held-out loss {bestLoss:F4}), not the last (step {lastStep})";

    /// <summary>Host copies of the parameters' values (reusing <paramref name="into"/> when given).</summary>
    private static float[][] Snapshot(IReadOnlyList<Variable> parameters, float[][]? into)
    {
        into ??= parameters.Select(p => new float[p.Value.Length]).ToArray();
        for (int i = 0; i < parameters.Count; i++) parameters[i].Value.Storage.CopyToHost(into[i]);
        return into;
    }

    /// <summary>Writes host copies back into the parameters (wherever they live) and marks them changed.</summary>
    private static void Restore(IReadOnlyList<Variable> parameters, float[][] values)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            parameters[i].Value.Storage.CopyFromHost(values[i]);
            parameters[i].Value.MarkChanged();
        }
    }

    private sealed class SilentObserver : ITrainObserver;
}
