// Trains a character language model (char-rnn): random windows of SeqLen+1 characters from the training part of the
// text, batch of N windows per step, mean cross-entropy over T*N next-character targets, gradient clipping, then the
// optimizer. Validation: consecutive non-overlapping windows of the held-out tail. Checkpoints are atomic; a resumed
// run continues the same loss curve because every step's batch depends only on (seed, step).
using System.Diagnostics;
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Models;
using RnnFast.Optim;

namespace RnnFast.Training;

/// <summary>Trains a character language model (char-rnn recipe) with validation, samples, checkpoints and exact resume.</summary>
public sealed class CharLmTrainer
{
    /// <summary>The options a resumed run takes from the checkpoint, and the metadata keys (or sizes) that hold them.</summary>
    private static readonly (string Property, string Key)[] CheckpointKeys =
    [
        (nameof(TrainOptions.Mode), "mode"), (nameof(TrainOptions.Layers), "num_layers"), (nameof(TrainOptions.Hidden), "hidden_size"),
        (nameof(TrainOptions.Embed), "embed_size"), (nameof(TrainOptions.Dropout), "dropout"), (nameof(TrainOptions.SeqLen), "train.seq_len"),
        (nameof(TrainOptions.Batch), "train.batch"), (nameof(TrainOptions.LearningRate), "train.lr"), (nameof(TrainOptions.Optimizer), "train.optimizer"),
        (nameof(TrainOptions.Clip), "train.clip"), (nameof(TrainOptions.ValFraction), "train.val_fraction"), (nameof(TrainOptions.Momentum), "train.x.momentum"),
    ];

    /// <summary>True when a validation message names an option a resumed run took from the checkpoint (else it is the caller's).</summary>
    private static bool FromCheckpoint(string message) =>
        CheckpointKeys.Any(k => message.Contains(TrainOptions.NameOf(k.Property), StringComparison.Ordinal)) || message.Contains("characters of vocabulary", StringComparison.Ordinal);

    /// <summary>Trains on <paramref name="text"/> (named <paramref name="dataName"/> in the checkpoint).</summary>
    public TrainResult Train(string text, string dataName, TrainOptions options, ITrainObserver? observer = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        observer ??= new NullObserver();
        var backend = TrainingSetup.ChooseBackend(options);

        // Resume: the checkpoint fixes the model and the data recipe (an option that differs is refused); the schedule
        // (learning rate, clip, momentum, the step to reach) may change and is reported; the data must be the same text.
        CheckpointContents? resume = options.Resume != null ? Checkpoint.Read(options.Resume) : null;
        TrainOptions o = options;
        TrainOptions? saved = null;
        string resumeFile = options.Resume != null ? Path.GetFileName(options.Resume) : "";
        var applied = new List<string>();
        if (resume != null)
        {
            Checkpoint.RequireKind(resume, NetworkKind.LanguageModel, Path.GetFileName(options.Resume!));
            saved = ResumeRecipe.FromContents(resume, options.Resume!);
            var t = resume.Training!;
            if (t.DataFingerprint != TrainingSetup.Fingerprint(text))
                throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.Resume))}: {resumeFile} was trained on other data ({t.DataName}, fingerprint {t.DataFingerprint})");
        }
        // Init-from: a new run from a trained model's weights; its architecture must be the options', its vocabulary is extended.
        CheckpointContents? init = null;
        string initFile = options.InitFrom != null ? Path.GetFileName(options.InitFrom) : "";
        if (options.InitFrom != null)
        {
            options.Validate();
            init = InitFromModel.Read(options.InitFrom, NetworkKind.LanguageModel);
            InitFromModel.CheckArchitecture(options, init.Config, initFile, pooling: false);
        }
        var vocab = resume?.Config.Vocab ?? (init != null ? InitFromModel.ExtendVocab(init.Config.Vocab, [text]) : CharVocab.FromText(text));
        try
        {
            (saved ?? o).Validate();
            // The products with the vocabulary: the logits (SeqLen x Batch x V), the embedding and the output layer.
            string V = $"{vocab.Count} characters of vocabulary";
            var r = saved ?? o;
            TrainOptions.CheckElements([(TrainOptions.NameOf(nameof(TrainOptions.SeqLen)), r.SeqLen), (TrainOptions.NameOf(nameof(TrainOptions.Batch)), r.Batch), (V, vocab.Count)]);
            TrainOptions.CheckElements([(V, vocab.Count), (TrainOptions.NameOf(nameof(TrainOptions.Embed)), r.Embed)]);
            TrainOptions.CheckElements([(V, vocab.Count), (TrainOptions.NameOf(nameof(TrainOptions.Hidden)), r.Hidden)]);
            // The whole run against the memory available, before the network is built (issue 15 item 13).
            MemoryEstimate.Require(MemoryEstimate.Training(r, vocab.Count, vocab.Count, r.SeqLen, r.Batch,
                TrainOptions.NameOf(nameof(TrainOptions.SeqLen)), TrainOptions.NameOf(nameof(TrainOptions.Batch))));
        }
        catch (ArgumentException e) when (resume != null && FromCheckpoint(e.Message))
        {
            // The checkpoint's recipe is what failed: the file's problem, in its metadata keys, not the caller's options.
            string msg = e.Message;
            foreach (var (property, key) in CheckpointKeys) msg = msg.Replace(TrainOptions.NameOf(property), $"metadata '{key}'", StringComparison.Ordinal);
            throw new RnnFormatException(Path.GetFileName(options.Resume!), msg, e);
        }
        if (saved != null)
        {
            applied = ResumeRecipe.Reconcile(o, saved, resumeFile);
            o.Validate(); // the schedule given for the resumed run
        }
        if (o.Monitor != HeldOutMetric.Loss)
            throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.Monitor))}: a language model's held-out checks have no accuracy; it is monitored by its loss", nameof(options));
        // Data-parallel (an MPI job): this rank's share of the global batch; rank 0 alone writes and reports.
        var dp = o.DataParallel;
        var (first, localN) = dp?.Share(o.Batch, TrainOptions.NameOf(nameof(TrainOptions.Batch))) ?? (0, o.Batch);
        if (dp is { IsRoot: false })
        {
            o = o with { Out = null };
            observer = new NullObserver();
        }

        // The output must be writable, and this run its only writer, before any work (the lock is held to the end).
        using var outputLock = o.Out != null ? RnnFast.IO.OutputLock.Acquire(o.Out, TrainOptions.NameOf(nameof(TrainOptions.Out))) : null;
        if (outputLock?.PreviousHolder is { } dead)
            observer.OnMessage($"{Path.GetFileName(outputLock.LockPath)}: left by process {dead}, which has exited; taken over" +
                               (outputLock.StaleTemporariesRemoved > 0 ? $" ({outputLock.StaleTemporariesRemoved} temporary file(s) it left removed)" : ""));

        int[] ids = vocab.Encode(text);
        int split = (int)(ids.Length * (1 - o.ValFraction));
        int T = o.SeqLen, N = o.Batch;
        string seqLen = TrainOptions.NameOf(nameof(TrainOptions.SeqLen));
        if (split - T - 1 <= 0)
            throw new ArgumentException($"text: the training part ({split} characters) is shorter than {seqLen} + 2 ({T + 2})", nameof(text));
        if (ids.Length - split - T - 1 <= 0)
            throw new ArgumentException($"{TrainOptions.NameOf(nameof(TrainOptions.ValFraction))}: the held-out part ({ids.Length - split} characters) is shorter than {seqLen} + 2 ({T + 2}); use a larger fraction or a longer text");
        var val = ids.AsSpan(split).ToArray();
        var train = ids; // the training part is train[0..trainLength): used in place, not copied
        int trainLength = split;
        int step = resume?.Training?.Step ?? 0;
        int totalSteps = resume != null
            ? ResumeRecipe.TotalSteps(o, saved!.Steps, step, trainLength, T * N, resumeFile, applied)
            : o.Steps ?? ResumeRecipe.EpochSteps(o.Epochs ?? 1, trainLength, T * N);
        if (applied.Count > 0) observer.OnMessage($"resuming {resumeFile} at step {step}; applied: {string.Join(", ", applied)}");

        var config = new NetworkConfig
        {
            Kind = NetworkKind.LanguageModel, Mode = o.Mode, Layers = o.Layers, Hidden = o.Hidden, Embed = o.Embed,
            Peephole = o.Peephole, Dropout = o.Dropout, Vocab = vocab,
        };
        using var net = resume != null ? Checkpoint.ToNetwork(resume, backend) : new CharNetwork(config, backend, new Random(o.Seed));
        if (init != null)
        {
            InitFromModel.CopyWeights(net, init, initFile);
            int added = vocab.Count - init.Config.Vocab.Count;
            observer.OnMessage($"starting from the weights of {initFile} (step 0, fresh optimizer)" +
                               (added > 0 ? $"; vocabulary extended by {added} character(s) to {vocab.Count}" : ""));
        }
        var parameters = net.Parameters();
        var names = net.NamedParameters().Select(p => p.Name).ToArray();
        var optimizer = TrainingSetup.MakeOptimizer(o.Optimizer, parameters, o.LearningRate, o.Momentum);
        if (resume != null) Checkpoint.RestoreOptimizer(resume, optimizer, Path.GetFileName(o.Resume!));
        // The learning rate of every step and the held-out bookkeeping (keep-best, early stopping), continued on resume.
        var schedule = new LearningRateSchedule(o, totalSteps);
        var tracker = new HeldOutTracker(o, parameters, names);
        var trainLoss = new List<float>(resume?.Training?.TrainLossHistory ?? []);
        var rates = new List<float>();
        if (resume?.Training is { } rs)
        {
            schedule.Restore(rs.Extra, resumeFile);
            tracker.Restore(resume, resumeFile);
            rates.AddRange(TrainingSetup.ReadRates(rs, resumeFile));
        }
        var valHistory = new List<(int, double)>();
        if (resume?.Training is { } rt)
        {
            for (int i = 0; i < rt.ValLossHistory.Count; i++)
                valHistory.Add((i < rt.ValStepHistory.Count ? (int)rt.ValStepHistory[i] : i, rt.ValLossHistory[i]));
        }
        observer.OnMessage($"training {config.RnnDesc} on {backend.Name}: V={vocab.Count}, {trainLength} train / {val.Length} val characters, steps {step}..{totalSteps}, {schedule.Describe()}");

        string fingerprint = TrainingSetup.Fingerprint(text);
        TrainingState State() => new()
        {
            Step = step, Optimizer = o.Optimizer, LearningRate = o.LearningRate, Clip = o.Clip, SeqLen = T, Batch = N, Seed = o.Seed,
            ValFraction = o.ValFraction, DataName = dataName, DataFingerprint = fingerprint,
            TrainLossHistory = trainLoss, ValLossHistory = valHistory.Select(v => (float)v.Item2).ToArray(),
            ValStepHistory = valHistory.Select(v => (float)v.Item1).ToArray(),
            Extra = TrainingSetup.StepperState(new Dictionary<string, string>
            {
                ["momentum"] = o.Momentum.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                [ResumeRecipe.PlannedStepsKey] = totalSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, schedule, tracker, rates),
        };
        void Save()
        {
            if (o.Out == null) return;
            Checkpoint.Save(o.Out, net, StateCarryingOptimizer.With(optimizer, tracker.BestTensors()), State());
            observer.OnCheckpoint(o.Out, step);
        }

        var guard = new NonFiniteGuard(o.OnNonFinite, o.MaxConsecutiveSkips);
        var tokens = new int[T * localN];
        var targets = new int[T * localN];
        var clock = Stopwatch.StartNew();
        int startStep = step;
        bool cancelled = false, stoppedEarly = false;
        // Every rank of a data-parallel run evaluates when a check changes the training (early stopping, plateau), so all decide alike.
        bool checksDecide = o.EarlyStopping != null || o.LrSchedule == LrScheduleKind.Plateau;
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

            var batchRng = TrainingSetup.StepRandom(o.Seed, step, 0);
            for (int n = 0; n < N; n++)
            {
                int a = batchRng.Next(0, trainLength - T - 1); // every rank draws the whole batch and keeps its share
                int k = n - first;
                if ((uint)k >= (uint)localN) continue;
                for (int t = 0; t < T; t++)
                {
                    tokens[t * localN + k] = train[a + t];                      // (T,localN) time-major
                    targets[t * localN + k] = train[a + t + 1];
                }
            }
            using var tape = new Tape(); // disposed at the end of the step: the RNN workspaces go back to their plans
            var dropoutRng = TrainingSetup.StepRandom(o.Seed, step, dp == null || dp.IsRoot ? 1 : 1000 + dp.Rank); // ranks drop different units
            var loss = net.LanguageModelLoss(tape, tokens, targets, T, localN, training: true, dropoutRng);
            double rate = optimizer.LearningRate = schedule.At(step);
            var (l, norm, updated) = TrainingSetup.BackwardAndStep(tape, loss, optimizer, parameters, o.Clip, step, guard, names, o.AfterBackward, dp);
            step++;
            dp?.CheckInSync(parameters, step);
            if (updated) { trainLoss.Add(l); rates.Add((float)rate); }
            else observer.OnMessage($"step {step}: loss {l} / gradient norm {norm} is not finite; step skipped ({guard.InARow} in a row, {guard.Skipped} in all)");

            var elapsed = clock.Elapsed;
            double tps = (step - startStep) * (double)T * N / Math.Max(elapsed.TotalSeconds, 1e-9);
            TimeSpan? eta = step > startStep ? TimeSpan.FromSeconds(elapsed.TotalSeconds / (step - startStep) * (totalSteps - step)) : null;
            observer.OnStep(new StepReport(step, totalSteps, l, norm, tps, elapsed, eta) { LearningRate = rate });

            if (o.EvalEvery > 0 && step % o.EvalEvery == 0 && step < totalSteps && (dp is not { IsRoot: false } || checksDecide))
            {
                var (vl, sample) = Evaluate(net, val, T, N, o, step, withSample: dp is not { IsRoot: false });
                valHistory.Add((step, vl));
                observer.OnEval(new EvalReport(step, vl, sample));
                stoppedEarly = TrainingSetup.AfterCheck(tracker, schedule, vl, null, step, observer);
            }
            if (o.CheckpointEvery > 0 && step % o.CheckpointEvery == 0) Save();
            if (stoppedEarly) break;
        }

        // Stopped by a signal: the checkpoint first (a second signal may end the process at any moment), then the usual
        // validation and sample, then the checkpoint again with that validation in its history.
        if (dp is { Reductions: > 0 })
        {
            double stepMs = clock.Elapsed.TotalMilliseconds / dp.Reductions, reduceMs = dp.AllreduceTime.TotalMilliseconds / dp.Reductions;
            observer.OnMessage($"data-parallel over {dp.Size} ranks ({localN} of {N} windows each): gradient allreduce {reduceMs:F2} ms of {stepMs:F2} ms a step ({100 * reduceMs / stepMs:F1}%, waiting for the slowest rank included)");
        }
        if (cancelled) Save();
        dp?.CheckInSync(parameters, step, force: true); // the model rank 0 saves is every rank's
        if (dp is { IsRoot: false }) return new TrainResult(step, double.NaN, trainLoss, valHistory, cancelled, backend.Name, guard.Skipped) { LearningRates = rates };
        var (finalVal, finalSample) = Evaluate(net, val, T, N, o, step, withSample: o.SampleLength > 0);
        valHistory.Add((step, finalVal));
        observer.OnEval(new EvalReport(step, finalVal, finalSample));
        // Keep: the end of the run is a check too; with keep-best the best parameters win unless the last ones score no worse.
        // (Interrupted: the current parameters are saved, so --resume continues exactly; the best copy travels with them.)
        int kept = step;
        if (!cancelled)
        {
            if (tracker.BestBeats(finalVal, null, step))
            {
                tracker.RestoreBest();
                kept = tracker.BestStep;
                finalVal = Evaluate(net, val, T, N, o, step, withSample: false).Loss;
                observer.OnMessage(tracker.KeptBestMessage(finalVal, step));
            }
            else observer.OnMessage(HeldOutTracker.KeptMessage(o.Keep, step, finalVal));
        }
        Save();
        return new TrainResult(step, finalVal, trainLoss, valHistory, cancelled, backend.Name, guard.Skipped) { LearningRates = rates, KeptStep = kept, StoppedEarly = stoppedEarly };
    }

    /// <summary>Mean cross-entropy (nats per character) over consecutive windows of the held-out text, and a sample.</summary>
    public static (double Loss, string? Sample) Evaluate(CharNetwork net, int[] val, int T, int N, TrainOptions o, int step, bool withSample)
    {
        using var model = RnnModel.FromNetwork(net);
        double loss = ValidationLoss(model, val, T, N);
        string? sample = withSample
            ? model.Generate("", o.SampleLength, new SamplingOptions { Temperature = 0.8f, Seed = o.Seed + step })
            : null;
        return (loss, sample);
    }

    /// <summary>The held-out loss as the PyTorch recipe measures it: windows starting 0, T, 2T, ... in batches of N.</summary>
    public static double ValidationLoss(RnnModel model, int[] val, int T, int N)
    {
        var starts = new List<int>();
        for (int a = 0; a < val.Length - T - 1; a += T) starts.Add(a);
        double total = 0;
        int V = model.OutputSize;
        for (int b = 0; b < starts.Count; b += N)
        {
            var chunk = starts.Skip(b).Take(N).ToArray();
            var seqs = chunk.Select(a => val.AsSpan(a, T).ToArray()).ToArray();
            var logits = model.Forward(seqs).Span;                              // (T,n,V)
            int n = chunk.Length;
            for (int t = 0; t < T; t++)
            for (int k = 0; k < n; k++)
            {
                var row = logits.Slice((t * n + k) * V, V);
                total += CrossEntropy(row, val[chunk[k] + t + 1]);
            }
        }
        return total / (starts.Count * (double)T);
    }

    internal static double CrossEntropy(ReadOnlySpan<float> logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return Math.Log(sum) + max - logits[target];
    }

    private sealed class NullObserver : ITrainObserver;
}
