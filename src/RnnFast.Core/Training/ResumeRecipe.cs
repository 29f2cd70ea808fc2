// What a resumed character-model run may change. The checkpoint fixes the model and the data recipe (cell, sizes,
// dropout, window, batch, seed, held-out fraction, optimizer): an option that differs is refused, naming the option,
// the checkpoint's value and the file. The schedule may change (learning rate, clip, momentum, the step to reach):
// the new values are applied and listed. Steps on resume is the global step to reach, so it must be past the
// checkpoint's step; without Steps or Epochs the run continues to the total the checkpoint planned.
using System.Globalization;
using RnnFast.Models;

namespace RnnFast.Training;

internal static class ResumeRecipe
{
    /// <summary>The planned total of steps, stored as metadata "train.x.steps".</summary>
    public const string PlannedStepsKey = "steps";

    /// <summary>The checkpoint's recipe as options (Resume set to <paramref name="path"/>, Steps to its planned total if recorded).</summary>
    public static TrainOptions FromContents(CheckpointContents c, string path)
    {
        var t = c.Training ?? throw new RnnFormatException(Path.GetFileName(path), "holds no training state (train.* metadata); it cannot be resumed");
        string file = Path.GetFileName(path);
        double momentum = 0;
        if (t.Extra.TryGetValue("momentum", out var m) &&
            !double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out momentum))
            throw new RnnFormatException(file, $"metadata 'train.x.momentum' = '{m}' is not a number");
        if (double.IsNaN(momentum)) throw new RnnFormatException(file, "metadata 'train.x.momentum' is NaN");
        int? planned = null;
        if (t.Extra.TryGetValue(PlannedStepsKey, out var s))
        {
            if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p <= 0)
                throw new RnnFormatException(file, $"metadata 'train.x.{PlannedStepsKey}' = '{s}' is not a positive whole number");
            planned = p;
        }
        // The learning-rate schedule (absent in checkpoints from before schedules: constant).
        string? Text(string key) => t.Extra.TryGetValue(key, out var v) ? v : null;
        RnnFormatException Bad(string key, string v) => new(file, $"metadata 'train.x.{key}' = '{v}' is not a valid value");
        var kind = LrScheduleKind.Constant;
        if (Text(LearningRateSchedule.KindKey) is { } k)
        {
            try { kind = LearningRateSchedule.Parse(k); }
            catch (ArgumentException) { throw Bad(LearningRateSchedule.KindKey, k); }
        }
        int IntOf(string key, int fallback) => Text(key) is { } v ? (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int x) ? x : throw Bad(key, v)) : fallback;
        double DoubleOf(string key, double fallback) => Text(key) is { } v
            ? (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x) ? x : throw Bad(key, v)) : fallback;
        var defaults = new TrainOptions();
        return new TrainOptions
        {
            LrSchedule = kind, WarmupSteps = IntOf(LearningRateSchedule.WarmupKey, 0),
            LrStepEvery = Text(LearningRateSchedule.EveryKey) != null ? IntOf(LearningRateSchedule.EveryKey, 1) : null,
            LrGamma = DoubleOf(LearningRateSchedule.GammaKey, defaults.LrGamma), LrMin = DoubleOf(LearningRateSchedule.MinKey, defaults.LrMin),
            LrPatience = IntOf(LearningRateSchedule.PatienceKey, defaults.LrPatience),
            Mode = c.Config.Mode, Layers = c.Config.Layers, Hidden = c.Config.Hidden, Embed = c.Config.Embed, Peephole = c.Config.Peephole,
            Bidirectional = c.Config.Bidirectional, Pooling = c.Config.Pooling, Dropout = c.Config.Dropout, SeqLen = t.SeqLen, Batch = t.Batch, Seed = t.Seed,
            LearningRate = t.LearningRate, Optimizer = t.Optimizer, Momentum = momentum, Clip = t.Clip, ValFraction = t.ValFraction,
            Steps = planned, Resume = path,
        };
    }

    /// <summary>
    /// Refuses an option of <paramref name="given"/> that differs from the checkpoint's recipe <paramref name="saved"/>
    /// where the checkpoint fixes it; returns the schedule changes that will be applied (one phrase each).
    /// </summary>
    public static List<string> Reconcile(TrainOptions given, TrainOptions saved, string file)
    {
        void Fixed<T>(string property, T mine, T theirs, Func<T, string> show)
        {
            if (EqualityComparer<T>.Default.Equals(mine, theirs)) return;
            throw new ArgumentException(
                $"{TrainOptions.NameOf(property)}: {show(mine)} differs from the checkpoint's {show(theirs)} ({file}); a resumed run keeps the checkpoint's model and data recipe");
        }
        static string Num<T>(T v) where T : IFormattable => v.ToString(null, CultureInfo.InvariantCulture);
        Fixed(nameof(TrainOptions.Mode), given.Mode, saved.Mode, m => RnnDesc.TorchModeName(m).ToLowerInvariant());
        Fixed(nameof(TrainOptions.Layers), given.Layers, saved.Layers, Num);
        Fixed(nameof(TrainOptions.Hidden), given.Hidden, saved.Hidden, Num);
        Fixed(nameof(TrainOptions.Embed), given.Embed, saved.Embed, Num);
        Fixed(nameof(TrainOptions.Peephole), given.Peephole, saved.Peephole, b => b ? "true" : "false");
        Fixed(nameof(TrainOptions.Bidirectional), given.Bidirectional, saved.Bidirectional, b => b ? "true" : "false");
        Fixed(nameof(TrainOptions.Dropout), given.Dropout, saved.Dropout, Num);
        Fixed(nameof(TrainOptions.SeqLen), given.SeqLen, saved.SeqLen, Num);
        Fixed(nameof(TrainOptions.Batch), given.Batch, saved.Batch, Num);
        Fixed(nameof(TrainOptions.Seed), given.Seed, saved.Seed, Num);
        Fixed(nameof(TrainOptions.ValFraction), given.ValFraction, saved.ValFraction, Num);
        Fixed(nameof(TrainOptions.Optimizer), given.Optimizer, saved.Optimizer, o => o);

        var applied = new List<string>();
        void Schedule(string property, double mine, double theirs)
        {
            if (mine.Equals(theirs)) return;
            applied.Add($"{TrainOptions.NameOf(property)} {Num(mine)} (the checkpoint's was {Num(theirs)})");
        }
        Schedule(nameof(TrainOptions.LearningRate), given.LearningRate, saved.LearningRate);
        Schedule(nameof(TrainOptions.Clip), given.Clip, saved.Clip);
        Schedule(nameof(TrainOptions.Momentum), given.Momentum, saved.Momentum);
        if (given.LrSchedule != saved.LrSchedule)
            applied.Add($"{TrainOptions.NameOf(nameof(TrainOptions.LrSchedule))} {LearningRateSchedule.Name(given.LrSchedule)} (the checkpoint's was {LearningRateSchedule.Name(saved.LrSchedule)})");
        Schedule(nameof(TrainOptions.WarmupSteps), given.WarmupSteps, saved.WarmupSteps);
        if (given.LrStepEvery != saved.LrStepEvery)
            applied.Add($"{TrainOptions.NameOf(nameof(TrainOptions.LrStepEvery))} {given.LrStepEvery?.ToString(CultureInfo.InvariantCulture) ?? "none"} (the checkpoint's was {saved.LrStepEvery?.ToString(CultureInfo.InvariantCulture) ?? "none"})");
        Schedule(nameof(TrainOptions.LrGamma), given.LrGamma, saved.LrGamma);
        Schedule(nameof(TrainOptions.LrMin), given.LrMin, saved.LrMin);
        Schedule(nameof(TrainOptions.LrPatience), given.LrPatience, saved.LrPatience);
        return applied;
    }

    /// <summary>
    /// The global step a resumed run trains to: <see cref="TrainOptions.Steps"/>, else <see cref="TrainOptions.Epochs"/>
    /// counted from step 0, else the checkpoint's planned total, else one epoch. It must be past <paramref name="step"/>.
    /// </summary>
    public static int TotalSteps(TrainOptions o, int? planned, int step, int trainLength, int perStep, string file, List<string> applied)
    {
        int total;
        string property = TrainOptions.NameOf(nameof(TrainOptions.Steps));
        if (o.Steps is { } s) total = s;
        else if (o.Epochs is { } e) { total = EpochSteps(e, trainLength, perStep); property = TrainOptions.NameOf(nameof(TrainOptions.Epochs)); }
        else total = planned ?? EpochSteps(1, trainLength, perStep);
        if (total <= step)
            throw new ArgumentException(
                $"{property}: the run would end at step {total}, but {file} is already at step {step}; on resume {TrainOptions.NameOf(nameof(TrainOptions.Steps))} is the " +
                $"global step to reach, so give more than {step}");
        if (planned != total) applied.Add($"{TrainOptions.NameOf(nameof(TrainOptions.Steps))} {total} (the checkpoint planned {(planned is { } p ? p.ToString(CultureInfo.InvariantCulture) : "an unrecorded total")})");
        return total;
    }

    /// <summary>Steps in <paramref name="epochs"/> passes over <paramref name="trainLength"/> characters at <paramref name="perStep"/> a step.</summary>
    public static int EpochSteps(double epochs, int trainLength, int perStep) => (int)Math.Ceiling(epochs * trainLength / (double)perStep);
}
