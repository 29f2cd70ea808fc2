// The one place where the CLI turns the library's names into its own flags. The engine's messages name its properties
// and parameters (`TrainOptions.Layers: must be positive, got 0`, `testFraction: must be in (0, 1), got 2`); each
// command has a table from those names to the flags that set them, so its one-line errors name what the user typed
// (`--layers: must be positive, got 0`). Rules, in order:
//   - a message that starts with a mapped name and a colon gets the flag instead;
//   - otherwise an ArgumentException whose ParamName is mapped gets "--flag: " in front;
//   - a mapped qualified name (TrainOptions.SeqLen) or camelCase parameter (maxLength) anywhere else becomes its flag;
//   - .NET's " (Parameter 'x')" suffixes are dropped (CliErrors.OneLine): the flag already says which argument.
// A name a command has no flag for stays as the library wrote it, which is still accurate.
using System.Text.RegularExpressions;
using RnnFast.Models;
using RnnFast.Training;

namespace RnnFast.Cli;

internal sealed partial class OptionNames
{
    private readonly Dictionary<string, string> _flags;

    private OptionNames(Dictionary<string, string> flags) => _flags = flags;

    /// <summary>`rnnfast train`: every <see cref="TrainOptions"/> property it sets, and CharLmTrainer's text (--data).</summary>
    public static OptionNames Train { get; } = new(new Dictionary<string, string>
    {
        [T(nameof(TrainOptions.Mode))] = "--model",
        [T(nameof(TrainOptions.Layers))] = "--layers",
        [T(nameof(TrainOptions.Hidden))] = "--hidden",
        [T(nameof(TrainOptions.Embed))] = "--embed",
        [T(nameof(TrainOptions.Peephole))] = "--peephole",
        [T(nameof(TrainOptions.SeqLen))] = "--seq-len",
        [T(nameof(TrainOptions.Batch))] = "--batch",
        [T(nameof(TrainOptions.Steps))] = "--steps",
        [T(nameof(TrainOptions.Epochs))] = "--epochs",
        [T(nameof(TrainOptions.LearningRate))] = "--lr",
        [T(nameof(TrainOptions.Optimizer))] = "--optimizer",
        [T(nameof(TrainOptions.Momentum))] = "--momentum",
        [T(nameof(TrainOptions.Clip))] = "--clip",
        [T(nameof(TrainOptions.Dropout))] = "--dropout",
        [T(nameof(TrainOptions.ValFraction))] = "--val-fraction",
        [T(nameof(TrainOptions.Seed))] = "--seed",
        [T(nameof(TrainOptions.Backend))] = "--backend",
        [T(nameof(TrainOptions.Threads))] = "--threads",
        [T(nameof(TrainOptions.Out))] = "--out",
        [T(nameof(TrainOptions.Resume))] = "--resume",
        [T(nameof(TrainOptions.CheckpointEvery))] = "--checkpoint-every",
        [T(nameof(TrainOptions.EvalEvery))] = "--eval-every",
        [T(nameof(TrainOptions.MaxSeconds))] = "--max-seconds",
        [T(nameof(TrainOptions.OnNonFinite))] = "--on-nonfinite",
        [T(nameof(TrainOptions.EarlyStopping))] = "--early-stopping",
        [T(nameof(TrainOptions.Keep))] = "--keep",
        [T(nameof(TrainOptions.Monitor))] = "--monitor",
        [T(nameof(TrainOptions.LrSchedule))] = "--lr-schedule",
        [T(nameof(TrainOptions.WarmupSteps))] = "--warmup-steps",
        [T(nameof(TrainOptions.LrStepEvery))] = "--lr-step-every",
        [T(nameof(TrainOptions.LrGamma))] = "--lr-gamma",
        [T(nameof(TrainOptions.LrMin))] = "--lr-min",
        [T(nameof(TrainOptions.LrPatience))] = "--lr-patience",
        [T(nameof(TrainOptions.InitFrom))] = "--init-from",
        [T(nameof(TrainOptions.MaxConsecutiveSkips))] = "--max-skips",
        ["text"] = "--data", // CharLmTrainer.Train(text, ...): the file's contents
    });

    /// <summary>`rnnfast train --task forecast`: every <see cref="ForecastOptions"/> property it sets.</summary>
    public static OptionNames Forecast { get; } = new(new Dictionary<string, string>
    {
        [F(nameof(ForecastOptions.Target))] = "--target",
        [F(nameof(ForecastOptions.Features))] = "--features",
        [F(nameof(ForecastOptions.Horizon))] = "--horizon",
        [F(nameof(ForecastOptions.Mode))] = "--model",
        [F(nameof(ForecastOptions.Layers))] = "--layers",
        [F(nameof(ForecastOptions.Hidden))] = "--hidden",
        [F(nameof(ForecastOptions.SeqLen))] = "--seq-len",
        [F(nameof(ForecastOptions.Batch))] = "--batch",
        [F(nameof(ForecastOptions.Steps))] = "--steps",
        [F(nameof(ForecastOptions.LearningRate))] = "--lr",
        [F(nameof(ForecastOptions.Clip))] = "--clip",
        [F(nameof(ForecastOptions.ValFraction))] = "--val-fraction",
        [F(nameof(ForecastOptions.Seed))] = "--seed",
        [F(nameof(ForecastOptions.Backend))] = "--backend",
        [F(nameof(ForecastOptions.Threads))] = "--threads",
        [F(nameof(ForecastOptions.Out))] = "--out",
        [F(nameof(ForecastOptions.LrSchedule))] = "--lr-schedule",
        [F(nameof(ForecastOptions.WarmupSteps))] = "--warmup-steps",
        [F(nameof(ForecastOptions.LrStepEvery))] = "--lr-step-every",
        [F(nameof(ForecastOptions.LrGamma))] = "--lr-gamma",
        [F(nameof(ForecastOptions.LrMin))] = "--lr-min",
        ["valFraction"] = "--val-fraction",
        ["window"] = "--seq-len",
    });

    private static string F(string property) => ForecastOptions.NameOf(property);

    /// <summary>`rnnfast train --task tag`: the <see cref="TrainOptions"/> it sets and TaggerTrainer's parameters.</summary>
    public static OptionNames Tag { get; } = new(new Dictionary<string, string>
    {
        [T(nameof(TrainOptions.Mode))] = "--model",
        [T(nameof(TrainOptions.Layers))] = "--layers",
        [T(nameof(TrainOptions.Hidden))] = "--hidden",
        [T(nameof(TrainOptions.Embed))] = "--embed",
        [T(nameof(TrainOptions.Bidirectional))] = "--bidirectional",
        [T(nameof(TrainOptions.Peephole))] = "--peephole",
        [T(nameof(TrainOptions.Batch))] = "--batch",
        [T(nameof(TrainOptions.Steps))] = "--steps",
        [T(nameof(TrainOptions.LearningRate))] = "--lr",
        [T(nameof(TrainOptions.Optimizer))] = "--optimizer",
        [T(nameof(TrainOptions.Momentum))] = "--momentum",
        [T(nameof(TrainOptions.Clip))] = "--clip",
        [T(nameof(TrainOptions.Dropout))] = "--dropout",
        [T(nameof(TrainOptions.Seed))] = "--seed",
        [T(nameof(TrainOptions.Backend))] = "--backend",
        [T(nameof(TrainOptions.Threads))] = "--threads",
        [T(nameof(TrainOptions.Out))] = "--out",
        ["testFraction"] = "--val-fraction", // TaggerTrainer.Train(examples, testFraction, ...)
        ["examples"] = "--data",
    });

    /// <summary>`rnnfast classify`: the <see cref="TrainOptions"/> it sets, ClassifierTrainer's parameters and the generated task's.</summary>
    public static OptionNames Classify { get; } = new(new Dictionary<string, string>
    {
        [T(nameof(TrainOptions.Mode))] = "--model",
        [T(nameof(TrainOptions.Layers))] = "--layers",
        [T(nameof(TrainOptions.Hidden))] = "--hidden",
        [T(nameof(TrainOptions.Embed))] = "--embed",
        [T(nameof(TrainOptions.Bidirectional))] = "--bidirectional",
        [T(nameof(TrainOptions.Peephole))] = "--peephole",
        [T(nameof(TrainOptions.Pooling))] = "--pooling",
        [T(nameof(TrainOptions.Batch))] = "--batch",
        [T(nameof(TrainOptions.Steps))] = "--steps",
        [T(nameof(TrainOptions.LearningRate))] = "--lr",
        [T(nameof(TrainOptions.Optimizer))] = "--optimizer",
        [T(nameof(TrainOptions.Clip))] = "--clip",
        [T(nameof(TrainOptions.Dropout))] = "--dropout",
        [T(nameof(TrainOptions.ForgetBias))] = "--forget-bias",
        [T(nameof(TrainOptions.Seed))] = "--seed",
        [T(nameof(TrainOptions.Backend))] = "--backend",
        [T(nameof(TrainOptions.Threads))] = "--threads",
        [T(nameof(TrainOptions.EvalEvery))] = "--eval-every",
        [T(nameof(TrainOptions.EarlyStopping))] = "--early-stopping",
        [T(nameof(TrainOptions.Keep))] = "--keep",
        [T(nameof(TrainOptions.Monitor))] = "--monitor",
        [T(nameof(TrainOptions.LrSchedule))] = "--lr-schedule",
        [T(nameof(TrainOptions.WarmupSteps))] = "--warmup-steps",
        [T(nameof(TrainOptions.LrStepEvery))] = "--lr-step-every",
        [T(nameof(TrainOptions.LrGamma))] = "--lr-gamma",
        [T(nameof(TrainOptions.LrMin))] = "--lr-min",
        [T(nameof(TrainOptions.LrPatience))] = "--lr-patience",
        [T(nameof(TrainOptions.InitFrom))] = "--init-from",
        [T(nameof(TrainOptions.Resume))] = "--resume",
        [T(nameof(TrainOptions.CheckpointEvery))] = "--checkpoint-every",
        [T(nameof(TrainOptions.Out))] = "--out",
        ["testFraction"] = "--test-fraction", // ClassifierTrainer.Train(examples, testFraction, ...)
        ["examples"] = "--data",               // with a generated task: --examples (ClassifyCommand)
        ["count"] = "--examples",              // MemoryTask.Generate(count, minLength, maxLength, numClasses, seed)
        ["minLength"] = "--min-length",
        ["maxLength"] = "--max-length",
        ["numClasses"] = "--classes",
    });

    /// <summary>`rnnfast sample`: <see cref="SamplingOptions"/> and RnnModel.Generate's parameters.</summary>
    public static OptionNames Sample { get; } = new(new Dictionary<string, string>
    {
        [S(nameof(SamplingOptions.Temperature))] = "--temperature",
        [S(nameof(SamplingOptions.TopK))] = "--top-k",
        [S(nameof(SamplingOptions.TopP))] = "--top-p",
        [S(nameof(SamplingOptions.Stop))] = "--stop",
        [S(nameof(SamplingOptions.Argmax))] = "--argmax",
        [S(nameof(SamplingOptions.Seed))] = "--seed",
        ["length"] = "--length", // RnnModel.Generate(prime, length, options)
        ["prime"] = "--prime",
    });

    /// <summary>`rnnfast demo`: the <see cref="TrainOptions"/> its flags set.</summary>
    public static OptionNames Demo { get; } = new(new Dictionary<string, string>
    {
        [T(nameof(TrainOptions.MaxSeconds))] = "--seconds",
        [T(nameof(TrainOptions.Out))] = "--out-dir", // the model is written in it
        [T(nameof(TrainOptions.Seed))] = "--seed",
        [T(nameof(TrainOptions.Backend))] = "--backend",
        [CtcOptions.NameOf(nameof(CtcOptions.MaxSeconds))] = "--seconds",
        [CtcOptions.NameOf(nameof(CtcOptions.Seed))] = "--seed",
        [CtcOptions.NameOf(nameof(CtcOptions.Backend))] = "--backend",
    });

    private static string T(string property) => TrainOptions.NameOf(property);

    private static string S(string property) => nameof(SamplingOptions) + "." + property;

    /// <summary>Every flag this table names.</summary>
    public IEnumerable<string> Flags => _flags.Values.Distinct();

    /// <summary>This table with <paramref name="name"/> mapped to <paramref name="flag"/> instead.</summary>
    public OptionNames With(string name, string flag) => new(new Dictionary<string, string>(_flags) { [name] = flag });

    /// <summary>The flag for a library name (<c>TrainOptions.Layers</c>, <c>testFraction</c>), or null when this command has none.</summary>
    public string? FlagFor(string name) => _flags.GetValueOrDefault(name);

    /// <summary><paramref name="e"/>'s message (one line) in this command's flags.</summary>
    public string Message(Exception e)
    {
        string msg = CliErrors.OneLine(e);
        int colon = msg.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && FlagFor(msg[..colon]) is { } lead) msg = lead + msg[colon..];
        else if (e is ArgumentException { ParamName: { } p } && FlagFor(p) is { } named) msg = $"{named}: {msg}";
        msg = QualifiedName().Replace(msg, m => FlagFor(m.Value) ?? m.Value);
        return CamelCaseName().Replace(msg, m => FlagFor(m.Value) ?? m.Value);
    }

    /// <summary>A library message (not an error) with each mapped qualified name replaced by its flag.</summary>
    public string Text(string message) => QualifiedName().Replace(message, m => FlagFor(m.Value) ?? m.Value);

    /// <summary>Runs a library parser for the value of <paramref name="flag"/>; its ArgumentException comes back naming the flag.</summary>
    public static TValue Parse<TValue>(string flag, Func<TValue> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            string msg = CliErrors.OneLine(e);
            int colon = msg.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0 && !msg[..colon].Contains(' ')) msg = msg[(colon + 2)..]; // drop the parser's own "text: "
            throw new ArgumentException($"{flag}: {msg}", e);
        }
    }

    /// <summary>A camelCase parameter name (minLength, testFraction) as a whole word: mapped ones become flags anywhere.</summary>
    [GeneratedRegex(@"(?<![\w.-])[a-z]+[A-Z]\w*(?![\w.])")]
    private static partial Regex CamelCaseName();

    /// <summary>Type.Property, not inside a longer dotted name.</summary>
    [GeneratedRegex(@"(?<![\w.])[A-Z]\w*\.[A-Z]\w*(?!\w)")]
    private static partial Regex QualifiedName();
}
