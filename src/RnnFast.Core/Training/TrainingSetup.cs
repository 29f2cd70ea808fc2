// Pieces every trainer shares: the optimizer by name, deterministic per-step random streams (so a resumed run draws
// exactly the batches an uninterrupted one would), a data fingerprint, and one guarded optimizer step.
using System.Security.Cryptography;
using System.Text;
using RnnFast.Autograd;
using RnnFast.Optim;

namespace RnnFast.Training;

internal static class TrainingSetup
{
    public static Optimizer MakeOptimizer(string name, IReadOnlyList<Variable> parameters, double lr, double momentum) => name switch
    {
        "sgd" => new Sgd(parameters, lr, momentum),
        "adagrad" => new Adagrad(parameters, lr),
        _ => new Adam(parameters, lr),
    };

    /// <summary>
    /// One optimizer step after a recorded forward: zero the gradients, backpropagate <paramref name="loss"/>, clip to the
    /// global norm <paramref name="clip"/> (0 = off), let <paramref name="guard"/> judge a NaN/Inf loss or gradient (stop,
    /// or skip the update), then update and check that every weight is still finite. Returns the loss, the pre-clip norm
    /// and whether the weights were updated. <paramref name="step"/> is the 0-based index of this step.
    /// <paramref name="afterBackward"/> is a test seam (e.g. to inject a NaN). With <paramref name="parallel"/> the
    /// gradients and loss are summed over the ranks (each scaled by its share) right after backward.
    /// </summary>
    public static (float Loss, double GradNorm, bool Updated) BackwardAndStep(Tape tape, Variable loss, Optimizer optimizer,
        IReadOnlyList<Variable> parameters, double clip, int step, NonFiniteGuard guard, IReadOnlyList<string>? names = null,
        Action<int, IReadOnlyList<Variable>>? afterBackward = null, Distributed.DataParallel? parallel = null)
    {
        optimizer.ZeroGrad();
        tape.Backward(loss);
        afterBackward?.Invoke(step, parameters);
        float l = loss.Value.Span[0];
        // Data-parallel: the gradients (and the loss) of the global batch, summed over the ranks, before clipping.
        if (parallel != null) l = parallel.ReduceGradients(parameters, l);
        double norm = GradClip.ClipGradNorm(parameters, clip > 0 ? clip : double.PositiveInfinity);
        if (!guard.Admit(l, norm, step + 1)) return (l, norm, false); // messages count steps from 1, as the progress bar does
        optimizer.Step();
        NonFiniteGuard.EnsureFiniteWeights(parameters, names, step + 1);
        return (l, norm, true);
    }

    /// <summary>
    /// The bookkeeping after one guarded optimizer step of the sequence trainers (classifier, multi-label, tagger): counts
    /// the step, keeps its loss or reports it skipped, and reports progress (tokens a second, time left).
    /// </summary>
    public static void CountStep(ref int step, int startStep, int totalSteps, float loss, double norm, bool updated, List<float> losses,
        ref long tokensSeen, long tokens, System.Diagnostics.Stopwatch clock, NonFiniteGuard guard, ITrainObserver observer, double? rate = null)
    {
        step++;
        if (updated) losses.Add(loss);
        else observer.OnMessage($"step {step}: loss {loss} / gradient norm {norm} is not finite; step skipped ({guard.InARow} in a row, {guard.Skipped} in all)");
        tokensSeen += tokens;
        var elapsed = clock.Elapsed;
        observer.OnStep(new StepReport(step, totalSteps, loss, norm, tokensSeen / Math.Max(elapsed.TotalSeconds, 1e-9), elapsed,
            TimeSpan.FromSeconds(elapsed.TotalSeconds / (step - startStep) * (totalSteps - step))) { LearningRate = rate });
    }

    /// <summary>The metadata key of the learning rate of every recorded step (parallel to the training loss history).</summary>
    public const string RatesKey = "lr_history";

    /// <summary>
    /// After a periodic held-out check of <paramref name="loss"/> at <paramref name="step"/>: keep-best and the plateau
    /// schedule take it in, a decay and an early stop are reported. True when the run stops early.
    /// </summary>
    public static bool AfterCheck(HeldOutTracker tracker, LearningRateSchedule schedule, double loss, double? accuracy, int step, ITrainObserver observer)
    {
        tracker.Consider(loss, accuracy, step);
        if (schedule.OnCheck(tracker.Score(loss, accuracy)))
            observer.OnMessage($"step {step}: no held-out improvement in {schedule.PlateauPatience} check(s); learning rate now {schedule.At(step).ToString("G4", System.Globalization.CultureInfo.InvariantCulture)}");
        if (tracker.StopReason(step) is not { } why) return false;
        observer.OnMessage(why);
        return true;
    }

    /// <summary><paramref name="extra"/> with what a resumed run continues: the schedule's and the tracker's state, the rates so far.</summary>
    public static Dictionary<string, string> StepperState(Dictionary<string, string> extra, LearningRateSchedule schedule, HeldOutTracker tracker, IReadOnlyList<float> rates)
    {
        schedule.Save(extra);
        tracker.Save(extra);
        extra[RatesKey] = Models.ModelJson.Floats(rates);
        return extra;
    }

    /// <summary>
    /// The learning rates a checkpoint recorded, one per training-loss entry; a checkpoint from before they were recorded
    /// gets NaN (a gap in the chart) for each of its losses.
    /// </summary>
    public static IReadOnlyList<float> ReadRates(Models.TrainingState t, string file)
    {
        float[]? rates = null;
        if (t.Extra.TryGetValue(RatesKey, out var json))
        {
            try { rates = Models.ModelJson.ParseFloats(json); }
            catch (System.Text.Json.JsonException e) { throw new RnnFormatException(file, $"metadata 'train.x.{RatesKey}' is not a JSON array of numbers", e); }
        }
        rates ??= [];
        if (rates.Length == t.TrainLossHistory.Count) return rates;
        return Enumerable.Range(0, t.TrainLossHistory.Count).Select(i => i < rates.Length ? rates[i] : float.NaN).ToArray();
    }

    /// <summary>A random stream that depends only on (seed, step, purpose): batches, dropout, samples.</summary>
    public static Random StepRandom(int seed, int step, int purpose)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (ulong v in new[] { (ulong)(uint)seed, (ulong)(uint)step, (ulong)(uint)purpose })
        {
            h ^= v + 0x9E3779B97F4A7C15UL + (h << 6) + (h >> 2);
            h *= 0xBF58476D1CE4E5B9UL;
            h ^= h >> 31;
        }
        return new Random((int)(h & 0x7FFFFFFF));
    }

    /// <summary>
    /// The backend a run trains on: <see cref="TrainOptions.Backend"/> (else RNNFAST_BACKEND, else auto), with
    /// <see cref="TrainOptions.Threads"/> applied to it (the one place the trainers choose it).
    /// </summary>
    public static Backends.Backend ChooseBackend(TrainOptions o)
    {
        var backend = Backends.BackendRegistry.Get(o.Backend);
        Backends.BackendThreads.Apply(backend, o.Threads, TrainOptions.NameOf(nameof(TrainOptions.Threads)));
        return backend;
    }

    public static string Fingerprint(string text)
    {
        // SHA-256 of the text's UTF-8, encoded in chunks: no copy of the whole text (a 50 MB corpus stays one string).
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var encoder = Encoding.UTF8.GetEncoder();
        var bytes = new byte[Encoding.UTF8.GetMaxByteCount(1 << 16)];
        for (int at = 0; at < text.Length; at += 1 << 16)
        {
            var part = text.AsSpan(at, Math.Min(1 << 16, text.Length - at));
            int n = encoder.GetBytes(part, bytes, flush: at + part.Length == text.Length);
            hash.AppendData(bytes, 0, n);
        }
        return Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
    }
}

/// <summary>Training produced NaN or infinity (see <see cref="NonFinitePolicy"/>); nothing non-finite was saved.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
