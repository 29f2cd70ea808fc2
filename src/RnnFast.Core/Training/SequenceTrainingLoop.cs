// The training loop the sequence trainers share (classifier, multi-label classifier, tagger): a network from the
// config, the optimizer, N random examples a step (the draw depends only on seed and step, so runs repeat exactly),
// a guarded optimizer step at the scheduled learning rate (LearningRateSchedule), progress, periodic and final
// evaluation on the held-out examples (early stopping, keep-best and the plateau schedule: HeldOutTracker, shared with
// CharLmTrainer), periodic atomic checkpoints, resume (TrainOptions.Resume) and init-from (TrainOptions.InitFrom). Each
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
    /// <param name="start">A checkpoint to resume (checked by the caller: <see cref="TrainOptions.Resume"/>) or a model to start from (<see cref="TrainOptions.InitFrom"/>).</param>
    /// <param name="dataFingerprint">Recorded in the checkpoint, so a resume on other data is refused.</param>
    public static (TEval Final, TrainResult Result) Run<TExample, TEval>(NetworkConfig config, Backend backend, TrainOptions o,
        TExample[] train, double testFraction, Func<int, int, string> describe,
        Func<Tape, CharNetwork, TExample[], Random, (Variable Loss, long Tokens)> batchLoss,
        Func<RnnModel, TEval> evaluate, Func<TEval, (double Loss, double Accuracy)> score, ITrainObserver observer, CancellationToken cancel,
        Start? start = null, string dataFingerprint = "")
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
        var resume = start?.Resume;
        string resumeFile = o.Resume != null ? Path.GetFileName(o.Resume) : "";
        int step = resume?.Training?.Step ?? 0;
        var applied = new List<string>(start?.Applied ?? []);
        int totalSteps = resume != null
            ? ResumeRecipe.TotalSteps(o, start!.PlannedSteps, step, train.Length, N, resumeFile, applied)
            : o.Steps ?? (int)Math.Ceiling((o.Epochs ?? 1) * train.Length / (double)N);
        // The output must be writable, and this run its only writer, before any step (the lock is held to the end).
        using var outputLock = o.Out != null ? RnnFast.IO.OutputLock.Acquire(o.Out, TrainOptions.NameOf(nameof(TrainOptions.Out))) : null;
        using var net = resume != null ? Checkpoint.ToNetwork(resume, backend) : new CharNetwork(config, backend, new Random(o.Seed));
        if (start?.Init is { } init)
        {
            string initFile = Path.GetFileName(o.InitFrom ?? "model");
            InitFromModel.CopyWeights(net, init, initFile);
            int added = config.Vocab.Count - init.Config.Vocab.Count;
            observer.OnMessage($"starting from the weights of {initFile} (step 0, fresh optimizer)" +
                               (added > 0 ? $"; vocabulary extended by {added} character(s) to {config.Vocab.Count}" : ""));
        }
        else if (resume == null && o.ForgetBias != 0) net.SetForgetBias(o.ForgetBias);
        var parameters = net.Parameters();
        var names = net.NamedParameters().Select(p => p.Name).ToArray();
        var optimizer = TrainingSetup.MakeOptimizer(o.Optimizer, parameters, o.LearningRate, o.Momentum);
        var schedule = new LearningRateSchedule(o, totalSteps);
        var tracker = new HeldOutTracker(o, parameters, names);
        var losses = new List<float>(resume?.Training?.TrainLossHistory ?? []);
        var rates = new List<float>();
        var valHistory = new List<(int Step, double Loss)>();
        if (resume?.Training is { } rt)
        {
            Checkpoint.RestoreOptimizer(resume, optimizer, resumeFile);
            schedule.Restore(rt.Extra, resumeFile);
            tracker.Restore(resume, resumeFile);
            rates.AddRange(TrainingSetup.ReadRates(rt, resumeFile));
            for (int i = 0; i < rt.ValLossHistory.Count; i++)
                valHistory.Add((i < rt.ValStepHistory.Count ? (int)rt.ValStepHistory[i] : i, rt.ValLossHistory[i]));
        }
        if (resume != null) observer.OnMessage($"resuming {resumeFile} at step {step}" + (applied.Count > 0 ? $"; applied: {string.Join(", ", applied)}" : ""));
        observer.OnMessage(describe(N, totalSteps) + ", " + schedule.Describe());

        var guard = new NonFiniteGuard(o.OnNonFinite, o.MaxConsecutiveSkips);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int startStep = step;
        long tokensSeen = 0;
        bool cancelled = false, stoppedEarly = false;
        void Save()
        {
            if (o.Out == null) return;
            var extra = TrainingSetup.StepperState(new Dictionary<string, string>
            {
                ["momentum"] = o.Momentum.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                [ResumeRecipe.PlannedStepsKey] = totalSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, schedule, tracker, rates);
            Checkpoint.Save(o.Out, net, StateCarryingOptimizer.With(optimizer, tracker.BestTensors()), new TrainingState
            {
                Step = step, Optimizer = o.Optimizer, LearningRate = o.LearningRate, Clip = o.Clip, Batch = N, Seed = o.Seed,
                SeqLen = 0, ValFraction = testFraction, TrainLossHistory = losses, DataFingerprint = dataFingerprint,
                ValLossHistory = valHistory.Select(v => (float)v.Loss).ToArray(), ValStepHistory = valHistory.Select(v => (float)v.Step).ToArray(),
                Extra = extra,
            });
            observer.OnCheckpoint(o.Out, step);
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
            using var tape = new Tape(); // disposed at the end of the step: the RNN workspaces go back to their plans
            var dropoutRng = TrainingSetup.StepRandom(o.Seed, step, dp == null || dp.IsRoot ? 1 : 1000 + dp.Rank); // ranks drop different units
            var (loss, tokens) = batchLoss(tape, net, batch, dropoutRng);
            double rate = optimizer.LearningRate = schedule.At(step);
            var (l, norm, updated) = TrainingSetup.BackwardAndStep(tape, loss, optimizer, parameters, o.Clip, step, guard, names, o.AfterBackward, dp);
            if (updated) rates.Add((float)rate);
            TrainingSetup.CountStep(ref step, startStep, totalSteps, l, norm, updated, losses, ref tokensSeen, tokens, clock, guard, observer, rate);
            dp?.CheckInSync(parameters, step);
            if (o.EvalEvery > 0 && step % o.EvalEvery == 0 && step < totalSteps)
            {
                using var snapshot = RnnModel.FromNetwork(net);
                var (el, ea) = score(evaluate(snapshot));
                observer.OnEval(new EvalReport(step, el, null, ea));
                valHistory.Add((step, el));
                stoppedEarly = TrainingSetup.AfterCheck(tracker, schedule, el, ea, step, observer);
            }
            if (o.CheckpointEvery > 0 && step % o.CheckpointEvery == 0 && step < totalSteps) Save();
            if (stoppedEarly) break;
        }

        dp?.CheckInSync(parameters, step, force: true); // the model rank 0 saves is every rank's
        // Stopped by a signal: the model is saved before the evaluation (a second signal may end the process at any moment):
        // the current parameters, so --resume continues exactly (the best copy travels with them).
        if (cancelled) Save();
        var model = RnnModel.FromNetwork(net);
        var final = evaluate(model);
        var (fl, fa) = score(final);
        observer.OnEval(new EvalReport(step, fl, null, fa));
        valHistory.Add((step, fl));
        int kept = step;
        if (!cancelled)
        {
            // The end of the run is a check too: with keep-best the last parameters are kept unless a periodic check scored lower.
            if (tracker.BestBeats(fl, fa, step))
            {
                tracker.RestoreBest();
                kept = tracker.BestStep;
                model.Dispose();
                model = RnnModel.FromNetwork(net);
                final = evaluate(model);
                (fl, fa) = score(final);
                observer.OnMessage(tracker.KeptBestMessage(fl, step));
            }
            else observer.OnMessage(HeldOutTracker.KeptMessage(o.Keep, step, fl));
        }
        model.Dispose();
        if (!cancelled) Save();
        return (final, new TrainResult(step, fl, losses, valHistory, cancelled, backend.Name, guard.Skipped)
        {
            LearningRates = rates, KeptStep = kept, StoppedEarly = stoppedEarly,
        });
    }

    /// <summary>Where a run starts other than from a fresh network: a checkpoint to resume (with the total it planned and the schedule changes), or a model's weights.</summary>
    internal sealed record Start(CheckpointContents? Resume, int? PlannedSteps, CheckpointContents? Init, IReadOnlyList<string> Applied);

    /// <summary>Trainers that cannot resume or start from a model yet refuse both, naming the option.</summary>
    public static void RefuseStart(TrainOptions o, string trainer)
    {
        if (o.Resume != null) throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.Resume))}: the {trainer} trainer cannot resume a run yet");
        if (o.InitFrom != null) throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.InitFrom))}: the {trainer} trainer cannot start from a model yet");
    }

    /// <summary>A fingerprint of labelled examples (labels and texts, in order), recorded so a resume on other data is refused.</summary>
    public static string Fingerprint(IEnumerable<(string Label, string Text)> examples) =>
        TrainingSetup.Fingerprint(string.Concat(examples.Select(e => $"{e.Label.Length}:{e.Label}\t{e.Text.Length}:{e.Text}\n")));

    /// <summary>
    /// What a sequence trainer starts from, and its vocabulary. <see cref="TrainOptions.Resume"/>: the checkpoint must hold
    /// a <paramref name="kind"/> trained on the same data (<paramref name="fingerprint"/>) with the same held-out fraction,
    /// and the options that fix the model and the draws must be its own (refused naming the option, the checkpoint's value
    /// and the file); its vocabulary is kept. <see cref="TrainOptions.InitFrom"/>: the model's architecture must be the
    /// options', its labels <paramref name="labels"/>, its vocabulary is extended with <paramref name="texts"/>' characters.
    /// Neither: a fresh vocabulary of <paramref name="texts"/>.
    /// </summary>
    public static (Start? Start, CharVocab Vocab) Prepare(TrainOptions o, NetworkKind kind, double testFraction, int trainCount, string fingerprint,
        IReadOnlyList<string> labels, IEnumerable<string> texts)
    {
        if (o.Resume != null)
        {
            string file = Path.GetFileName(o.Resume);
            var c = Checkpoint.Read(o.Resume);
            Checkpoint.RequireKind(c, kind, file);
            var saved = ResumeRecipe.FromContents(c, o.Resume) with { SeqLen = o.SeqLen, ValFraction = o.ValFraction };
            var applied = ResumeRecipe.Reconcile(o with { Batch = Math.Min(o.Batch, trainCount) }, saved, file);
            if (kind == NetworkKind.Classifier && o.Pooling != c.Config.Pooling)
                throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.Pooling))}: {NetworkConfig.PoolingName(o.Pooling)} differs from the checkpoint's " +
                                            $"{NetworkConfig.PoolingName(c.Config.Pooling)} ({file}); a resumed run keeps the checkpoint's model and data recipe");
            var t = c.Training!;
            if (!t.ValFraction.Equals(testFraction))
                throw new ArgumentException($"testFraction: {testFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)} differs from the checkpoint's " +
                                            $"{t.ValFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)} ({file}); a resumed run keeps the checkpoint's held-out split");
            if (t.DataFingerprint != fingerprint)
                throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.Resume))}: {file} was trained on other data " +
                                            $"(fingerprint {(t.DataFingerprint.Length > 0 ? t.DataFingerprint : "not recorded")}, this data's is {fingerprint})");
            return (new Start(c, saved.Steps, null, applied), c.Config.Vocab);
        }
        if (o.InitFrom != null)
        {
            string file = Path.GetFileName(o.InitFrom);
            var c = InitFromModel.Read(o.InitFrom, kind);
            InitFromModel.CheckArchitecture(o, c.Config, file, pooling: kind == NetworkKind.Classifier);
            InitFromModel.CheckLabels(c.Config, labels, file);
            return (new Start(null, null, c, []), InitFromModel.ExtendVocab(c.Config.Vocab, texts));
        }
        return (null, CharVocab.FromText(string.Concat(texts)));
    }

    private sealed class SilentObserver : ITrainObserver;
}
