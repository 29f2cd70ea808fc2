// The training-steering flags `train` (--task lm) and `classify` share (issue 19): held-out early stopping and which
// parameters to keep, the learning-rate schedule with warm-up, and starting from a trained model's weights. One
// definition, so both commands spell, document and parse them alike; the library validates the values
// (TrainOptions.Validate) and OptionNames maps its messages back to these flags.
using System.CommandLine;
using RnnFast.Training;

namespace RnnFast.Cli;

internal sealed class SteeringOptions
{
    public Option<int?> EarlyStopping { get; } = new("--early-stopping")
    {
        Description = "stop when the held-out loss has not improved for this many checks (--eval-every); default: never",
    };
    public Option<string> Keep { get; } = new("--keep")
    {
        Description = "the model saved at the end: best (the parameters at the best held-out loss) or last", DefaultValueFactory = _ => "best",
    };
    public Option<string> Monitor { get; } = new("--monitor")
    {
        Description = "what the held-out checks are judged by for --keep best, --early-stopping and the plateau schedule: loss, or accuracy (classify)",
        DefaultValueFactory = _ => "loss",
    };
    public Option<string> LrSchedule { get; } = new("--lr-schedule")
    {
        Description = "learning-rate schedule: constant, step (x --lr-gamma every --lr-step-every steps), cosine (down to --lr-min at the last step) " +
                      "or plateau (x --lr-gamma after --lr-patience held-out checks without improvement)",
        DefaultValueFactory = _ => "constant",
    };
    public Option<int> WarmupSteps { get; } = new("--warmup-steps")
    {
        Description = "linear learning-rate warm-up from 0 over this many steps (0 = none)", DefaultValueFactory = _ => 0,
    };
    public Option<int?> LrStepEvery { get; } = new("--lr-step-every") { Description = "step schedule: steps between decays (required with it)" };
    public Option<double> LrGamma { get; } = new("--lr-gamma")
    {
        Description = "step and plateau schedules: the factor of each decay, in (0, 1)", DefaultValueFactory = _ => 0.1,
    };
    public Option<double> LrMin { get; } = new("--lr-min") { Description = "cosine schedule: the learning rate at the last step", DefaultValueFactory = _ => 0 };
    public Option<int> LrPatience { get; } = new("--lr-patience")
    {
        Description = "plateau schedule: held-out checks without improvement before each decay", DefaultValueFactory = _ => 2,
    };
    public Option<string?> InitFrom { get; } = new("--init-from")
    {
        Description = "start a new run from this trained model's weights: the architecture flags default to the model's (one that differs is refused), new characters extend the vocabulary; step, optimizer and schedule start fresh",
    };

    /// <summary>Refuses any of these flags given to a task that does not take them (tag: all; forecast: all but the step and cosine schedules).</summary>
    public void RefuseFor(ParseResult r, string task)
    {
        var takes = task == "forecast" ? new Option[] { LrSchedule, WarmupSteps, LrStepEvery, LrGamma, LrMin } : [];
        foreach (var option in All.Except(takes))
            if (r.GetResult(option) is { Implicit: false })
                throw new ArgumentException($"{option.Name}: only with --task lm{(takes.Length > 0 ? " (a forecast takes --lr-schedule constant|step|cosine, --warmup-steps, --lr-step-every, --lr-gamma, --lr-min)" : "")}, not {task}");
    }

    /// <summary>A forecaster's options with the schedule flags applied.</summary>
    public ForecastOptions ApplyTo(ParseResult r, ForecastOptions o) => o with
    {
        LrSchedule = OptionNames.Parse("--lr-schedule", () => LearningRateSchedule.Parse(r.GetValue(LrSchedule) ?? "")),
        WarmupSteps = r.GetValue(WarmupSteps), LrStepEvery = r.GetValue(LrStepEvery), LrGamma = r.GetValue(LrGamma), LrMin = r.GetValue(LrMin),
    };

    public IEnumerable<Option> All => [EarlyStopping, Keep, Monitor, LrSchedule, WarmupSteps, LrStepEvery, LrGamma, LrMin, LrPatience, InitFrom];

    /// <summary>
    /// With --init-from: the model's architecture (cell, layers, hidden, embedding, peephole, directions, pooling) as
    /// options, the defaults of the architecture flags not given; null without --init-from.
    /// </summary>
    public TrainOptions? ModelArchitecture(ParseResult r)
    {
        if (r.GetValue(InitFrom) is not { } path) return null;
        InputFiles.RequireRegular("--init-from", path);
        var c = RnnFast.Models.Checkpoint.Read(path).Config;
        return new TrainOptions
        {
            Mode = c.Mode, Layers = c.Layers, Hidden = c.Hidden, Embed = c.Embed, Peephole = c.Peephole, Bidirectional = c.Bidirectional, Pooling = c.Pooling,
        };
    }

    /// <summary>
    /// <paramref name="o"/> with the steering flags applied. On resume (<paramref name="saved"/>) a schedule flag not given
    /// keeps the checkpoint's value.
    /// </summary>
    public TrainOptions Apply(ParseResult r, TrainOptions o, TrainOptions? saved = null)
    {
        T Given<T>(Option<T> option, Func<TrainOptions, T> fromCheckpoint) =>
            saved != null && r.GetResult(option) is not { Implicit: false } ? fromCheckpoint(saved) : r.GetValue(option)!;
        var keep = (r.GetValue(Keep) ?? "").Trim().ToLowerInvariant() switch
        {
            "best" => KeepModel.Best,
            "last" => KeepModel.Last,
            var k => throw new ArgumentException($"--keep: must be best or last, got '{k}'"),
        };
        var monitor = (r.GetValue(Monitor) ?? "").Trim().ToLowerInvariant() switch
        {
            "loss" => HeldOutMetric.Loss,
            "accuracy" => HeldOutMetric.Accuracy,
            var m => throw new ArgumentException($"--monitor: must be loss or accuracy, got '{m}'"),
        };
        var schedule = saved != null && r.GetResult(LrSchedule) is not { Implicit: false }
            ? saved.LrSchedule
            : OptionNames.Parse("--lr-schedule", () => LearningRateSchedule.Parse(r.GetValue(LrSchedule) ?? ""));
        string? init = r.GetValue(InitFrom);
        if (init != null) InputFiles.RequireRegular("--init-from", init);
        return o with
        {
            EarlyStopping = r.GetValue(EarlyStopping), Keep = keep, Monitor = monitor, LrSchedule = schedule,
            WarmupSteps = Given(WarmupSteps, s => s.WarmupSteps), LrStepEvery = Given(LrStepEvery, s => s.LrStepEvery),
            LrGamma = Given(LrGamma, s => s.LrGamma), LrMin = Given(LrMin, s => s.LrMin), LrPatience = Given(LrPatience, s => s.LrPatience),
            InitFrom = init,
        };
    }
}
