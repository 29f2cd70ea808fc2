// The library/CLI boundary: the engine's exceptions name its own properties and parameters (TrainOptions.Layers,
// SamplingOptions.Temperature, testFraction), never a command-line flag; the CLI maps them back to its flags in one
// place (OptionNames) and still exits 2 with one line naming the flag. Shapes are checked once per call, by the plan,
// and RnnRunner reports them naming the caller's tensors. A null TrainOptions.Backend means RNNFAST_BACKEND, else auto.
using System.CommandLine;
using RnnFast.Backends;
using RnnFast.Cli;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class LibraryMessageTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Row(string Call, Action Act, string Name);

    /// <summary>Every row must throw an ArgumentException whose message starts with "Name:" and holds no "--".</summary>
    private static void AssertNamed(IReadOnlyList<Row> rows)
    {
        var failures = new List<string>();
        foreach (var row in rows)
        {
            try
            {
                row.Act();
                failures.Add($"{row.Call}: did not throw");
            }
            catch (ArgumentException e)
            {
                if (!e.Message.StartsWith(row.Name + ": ", StringComparison.Ordinal))
                    failures.Add($"{row.Call}: '{e.Message}' does not start with '{row.Name}: '");
                if (e.Message.Contains("--", StringComparison.Ordinal))
                    failures.Add($"{row.Call}: '{e.Message}' names a command-line flag");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static readonly TrainOptions Ok = new();

    [Fact]
    public void Option_validation_names_the_property_and_never_a_flag()
    {
        Ok.Validate(); // the defaults are valid: every row below fails for its own reason
        new SamplingOptions().Validate();
        AssertNamed([
            new("Layers 0", () => (Ok with { Layers = 0 }).Validate(), "TrainOptions.Layers"),
            new("Hidden -1", () => (Ok with { Hidden = -1 }).Validate(), "TrainOptions.Hidden"),
            new("Embed 0", () => (Ok with { Embed = 0 }).Validate(), "TrainOptions.Embed"),
            new("SeqLen 0", () => (Ok with { SeqLen = 0 }).Validate(), "TrainOptions.SeqLen"),
            new("Batch 0", () => (Ok with { Batch = 0 }).Validate(), "TrainOptions.Batch"),
            new("Mode 99", () => (Ok with { Mode = (RnnMode)99 }).Validate(), "TrainOptions.Mode"),
            new("Steps 0", () => (Ok with { Steps = 0 }).Validate(), "TrainOptions.Steps"),
            new("Epochs -1", () => (Ok with { Epochs = -1 }).Validate(), "TrainOptions.Epochs"),
            new("Epochs NaN", () => (Ok with { Epochs = double.NaN }).Validate(), "TrainOptions.Epochs"),
            new("Steps and Epochs", () => (Ok with { Steps = 3, Epochs = 1 }).Validate(), "TrainOptions.Steps and TrainOptions.Epochs"),
            new("LearningRate 0", () => (Ok with { LearningRate = 0 }).Validate(), "TrainOptions.LearningRate"),
            new("LearningRate +Inf", () => (Ok with { LearningRate = double.PositiveInfinity }).Validate(), "TrainOptions.LearningRate"),
            new("Optimizer lbfgs", () => (Ok with { Optimizer = "lbfgs" }).Validate(), "TrainOptions.Optimizer"),
            new("Momentum -0.5", () => (Ok with { Momentum = -0.5 }).Validate(), "TrainOptions.Momentum"),
            new("Momentum NaN", () => (Ok with { Momentum = double.NaN }).Validate(), "TrainOptions.Momentum"),
            new("Clip -1", () => (Ok with { Clip = -1 }).Validate(), "TrainOptions.Clip"),
            new("Clip NaN", () => (Ok with { Clip = double.NaN }).Validate(), "TrainOptions.Clip"),
            new("Dropout 1", () => (Ok with { Dropout = 1 }).Validate(), "TrainOptions.Dropout"),
            new("ForgetBias NaN", () => (Ok with { ForgetBias = float.NaN }).Validate(), "TrainOptions.ForgetBias"),
            new("ValFraction 0", () => (Ok with { ValFraction = 0 }).Validate(), "TrainOptions.ValFraction"),
            new("ValFraction NaN", () => (Ok with { ValFraction = double.NaN }).Validate(), "TrainOptions.ValFraction"),
            new("CheckpointEvery -1", () => (Ok with { CheckpointEvery = -1 }).Validate(), "TrainOptions.CheckpointEvery"),
            new("EvalEvery -1", () => (Ok with { EvalEvery = -1 }).Validate(), "TrainOptions.EvalEvery"),
            new("SampleLength -1", () => (Ok with { SampleLength = -1 }).Validate(), "TrainOptions.SampleLength"),
            new("MaxSeconds 0", () => (Ok with { MaxSeconds = 0 }).Validate(), "TrainOptions.MaxSeconds"),
            new("OnNonFinite 7", () => (Ok with { OnNonFinite = (NonFinitePolicy)7 }).Validate(), "TrainOptions.OnNonFinite"),
            new("MaxConsecutiveSkips 0", () => (Ok with { MaxConsecutiveSkips = 0 }).Validate(), "TrainOptions.MaxConsecutiveSkips"),
            new("Temperature 0", () => new SamplingOptions { Temperature = 0 }.Validate(), "SamplingOptions.Temperature"),
            new("Temperature NaN", () => new SamplingOptions { Temperature = float.NaN }.Validate(), "SamplingOptions.Temperature"),
            new("TopK -1", () => new SamplingOptions { TopK = -1 }.Validate(), "SamplingOptions.TopK"),
            new("NonFinitePolicyNames.Parse(maybe)", () => NonFinitePolicyNames.Parse("maybe"), "text"),
        ]);
        Assert.Equal("TrainOptions.Layers: must be positive, got 0", Assert.Throws<ArgumentException>(() => (Ok with { Layers = 0 }).Validate()).Message);
    }

    [Fact]
    public void NetworkConfig_validation_names_the_property()
    {
        var vocab = CharVocab.FromText("abc");
        var lm = new NetworkConfig { Kind = NetworkKind.LanguageModel, Mode = RnnMode.Gru, Layers = 1, Hidden = 4, Embed = 2, Vocab = vocab };
        lm.Validate();
        AssertNamed([
            new("Layers 0", () => (lm with { Layers = 0 }).Validate(), "NetworkConfig.Layers"),
            new("Hidden 0", () => (lm with { Hidden = 0 }).Validate(), "NetworkConfig.Hidden"),
            new("Embed -2", () => (lm with { Embed = -2 }).Validate(), "NetworkConfig.Embed"),
            new("Dropout -0.1", () => (lm with { Dropout = -0.1f }).Validate(), "NetworkConfig.Dropout"),
            new("bidirectional language model", () => (lm with { Bidirectional = true }).Validate(), "NetworkConfig.Bidirectional"),
            new("classifier with one label", () => (lm with { Kind = NetworkKind.Classifier, Labels = ["x"] }).Validate(), "NetworkConfig.Labels"),
        ]);
    }

    [Fact]
    public void Trainers_name_their_parameters_and_the_options_they_compare()
    {
        var small = Ok with { Layers = 1, Hidden = 4, Embed = 2, SeqLen = 8, Batch = 2, Steps = 1, Backend = "reference" };
        var examples = new[] { ("a", "xy"), ("b", "yx"), ("a", "xx"), ("b", "yy") };
        AssertNamed([
            new("ClassifierTrainer testFraction 2", () => new ClassifierTrainer().Train(examples, 2, small), "testFraction"),
            new("ClassifierTrainer testFraction NaN", () => new ClassifierTrainer().Train(examples, double.NaN, small), "testFraction"),
            new("ClassifierTrainer 3 examples", () => new ClassifierTrainer().Train(examples[..3], 0.25, small), "examples"),
            new("ClassifierTrainer empty text", () => new ClassifierTrainer().Train([.. examples, ("a", "")], 0.25, small), "examples"),
            new("ClassifierTrainer one label", () => new ClassifierTrainer().Train(examples.Select(e => ("a", e.Item2)).ToArray(), 0.25, small), "examples"),
            new("ClassifierTrainer bad options", () => new ClassifierTrainer().Train(examples, 0.25, small with { Batch = 0 }), "TrainOptions.Batch"),
            new("CharLmTrainer short text", () => new CharLmTrainer().Train("abcdefgh", "t", small), "text"),
            new("CharLmTrainer short held-out part", () => new CharLmTrainer().Train(new string('a', 400) + "b", "t", small with { ValFraction = 0.01 }), "TrainOptions.ValFraction"),
            new("CharLmTrainer bad options", () => new CharLmTrainer().Train("abcdefgh", "t", small with { Hidden = 0 }), "TrainOptions.Hidden"),
        ]);
        var e = Assert.Throws<ArgumentException>(() => new CharLmTrainer().Train("abcdefgh", "t", small));
        Assert.Equal("text", e.ParamName);
        Assert.Contains("shorter than TrainOptions.SeqLen + 2 (10)", e.Message);
        Assert.Throws<ArgumentNullException>(() => new ClassifierTrainer().Train(examples, 0.25, null!));
    }

    [Fact]
    public void A_diverging_run_names_the_options_to_change()
    {
        var o = Ok with
        {
            Layers = 1, Hidden = 8, Embed = 4, SeqLen = 8, Batch = 2, Steps = 4, EvalEvery = 0, CheckpointEvery = 0, SampleLength = 0,
            ValFraction = 0.2, Backend = "reference",
            AfterBackward = (step, ps) => { if (step == 1) ps[0].Grad!.Span[0] = float.NaN; },
        };
        string text = string.Concat(Enumerable.Repeat("the quick brown fox ", 10));
        var stop = Assert.Throws<TrainingDivergedException>(() => new CharLmTrainer().Train(text, "t", o));
        Assert.Contains("TrainOptions.LearningRate", stop.Message);
        Assert.Contains("TrainOptions.OnNonFinite", stop.Message);
        Assert.DoesNotContain("--", stop.Message);

        var skips = Assert.Throws<TrainingDivergedException>(() => new CharLmTrainer().Train(text, "t", o with
        {
            OnNonFinite = NonFinitePolicy.Skip, MaxConsecutiveSkips = 1,
        }));
        Assert.Contains("(TrainOptions.MaxConsecutiveSkips is 1)", skips.Message);
        Assert.DoesNotContain("--", skips.Message);
        // The CLI's wording of the same messages names its flags.
        Assert.Contains("(try a lower --lr or --clip, or skip such steps: --on-nonfinite)", OptionNames.Train.Message(stop));
        Assert.Contains("(--max-skips is 1)", OptionNames.Train.Message(skips));
    }

    [Fact]
    public void The_backend_option_defaults_to_unset_so_RNNFAST_BACKEND_applies()
    {
        Assert.Null(new TrainOptions().Backend);
        // BackendRegistry.Get(options.Backend) = Resolve(All, options.Backend, $RNNFAST_BACKEND): with the default the
        // environment's choice wins; an explicit name (even "auto") would override it.
        var all = BackendRegistry.All;
        Assert.Equal("reference", BackendRegistry.Resolve(all, new TrainOptions().Backend, "reference").Name);
        Assert.Equal(BackendRegistry.Auto(all).Name, BackendRegistry.Resolve(all, new TrainOptions().Backend, null).Name);
        Assert.Equal("cpu", BackendRegistry.Resolve(all, (Ok with { Backend = "cpu" }).Backend, "reference").Name);
    }

    [Fact]
    public void The_cli_leaves_the_backend_unset_so_the_environment_variable_applies()
    {
        string lm = SaveLanguageModel();
        string text = Path.Combine(_dir, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("abcdefgh ", 40)));
        var env = new Dictionary<string, string?> { ["RNNFAST_BACKEND"] = "warp-drive" };
        foreach (var args in new[]
                 {
                     new[] { "sample", "--model", lm, "--length", "3" },
                     ["train", "--data", text, "--out", Path.Combine(_dir, "t.safetensors"), "--steps", "1"],
                     ["classify", "--examples", "20", "--steps", "1"],
                 })
        {
            var (code, _, err) = CliProcess.Run(args, env);
            Assert.True(code == 2 && err.Contains("unknown backend 'warp-drive'", StringComparison.Ordinal),
                $"rnnfast {args[0]} with RNNFAST_BACKEND=warp-drive: exit {code}, {err.Trim()}");
        }
        var named = CliProcess.Run(["sample", "--model", lm, "--length", "3", "--backend", "reference"], env);
        Assert.True(named.Code == 0, named.Err); // --backend wins over the variable
    }

    private string SaveLanguageModel()
    {
        string path = Path.Combine(_dir, "lm.safetensors");
        var config = new NetworkConfig { Kind = NetworkKind.LanguageModel, Mode = RnnMode.Lstm, Layers = 1, Hidden = 6, Embed = 3, Vocab = CharVocab.FromText("abcdefgh") };
        using var net = new CharNetwork(config, BackendRegistry.Get("reference"), new Random(1));
        Checkpoint.Save(path, net);
        return path;
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void The_cli_maps_library_names_back_to_its_flags()
    {
        string lm = SaveLanguageModel();
        string shortText = Path.Combine(_dir, "short.txt"), text = Path.Combine(_dir, "text.txt");
        File.WriteAllText(shortText, "abcdefgh");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("abcdefgh ", 40)));
        string m = Path.Combine(_dir, "m.safetensors");
        string[] train = ["train", "--data", text, "--out", m, "--backend", "reference"];
        var rows = new (string[] Args, string Error)[]
        {
            ([.. train, "--layers", "0"], "error: --layers: must be positive, got 0"),
            ([.. train, "--steps", "3", "--epochs", "2"], "error: --steps and --epochs: give one, not both (got 3 and 2)"),
            ([.. train, "--momentum", "-1"], "error: --momentum: must be a number >= 0, got -1"),
            ([.. train, "--model", "transformer"], "error: --model: unknown cell 'transformer' (expected lstm, gru, rnn or rnn_relu)"),
            ([.. train, "--on-nonfinite", "maybe"], "error: --on-nonfinite: must be stop or skip, got 'maybe'"),
            (["train", "--data", shortText, "--out", m, "--backend", "reference"],
                "error: --data: the training part (7 characters) is shorter than --seq-len + 2 (66)"),
            ([.. train, "--seq-len", "8", "--val-fraction", "0.01"],
                "error: --val-fraction: the held-out part (4 characters) is shorter than --seq-len + 2 (10); use a larger fraction or a longer text"),
            (["classify", "--examples", "20", "--test-fraction", "2", "--backend", "reference"], "error: --test-fraction: must be in (0, 1), got 2"),
            (["classify", "--examples", "20", "--hidden", "0", "--backend", "reference"], "error: --hidden: must be positive, got 0"),
            (["classify", "--examples", "3", "--backend", "reference"], "error: --examples: needs at least 4 examples, got 3"),
            (["sample", "--model", lm, "--temperature", "0"], "error: --temperature: must be a positive number, got 0"),
            (["sample", "--model", lm, "--top-k", "-2"], "error: --top-k: must be 0 (off) or positive, got -2"),
            (["sample", "--model", lm, "--length", "-5"], "error: --length: must be >= 0, got -5"),
        };
        var failures = new List<string>();
        foreach (var (args, error) in rows)
        {
            var (code, _, err) = Cli(args);
            if (code != 2 || err.Trim() != error) failures.Add($"rnnfast {string.Join(' ', args)}: exit {code}, '{err.Trim()}' (expected exit 2, '{error}')");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // A refused prime: one line naming --prime, and nothing on stdout (Generate checks before it produces anything).
        var (c, o, e) = Cli("sample", "--model", lm, "--prime", "zz");
        Assert.Equal(2, c);
        Assert.StartsWith("error: --prime: ", e);
        Assert.Single(e.Trim().Split('\n'));
        Assert.Equal("", o);
    }

    [Fact]
    public void Every_mapped_flag_is_an_option_of_its_command()
    {
        var root = CliApp.Build();
        foreach (var (command, names) in new[] { ("train", OptionNames.Train), ("classify", OptionNames.Classify), ("sample", OptionNames.Sample), ("demo", OptionNames.Demo) })
        {
            var flags = root.Subcommands.Single(c => c.Name == command).Options.Select(o => o.Name).ToHashSet();
            var missing = names.Flags.Where(f => !flags.Contains(f)).ToList();
            Assert.True(missing.Count == 0, $"{command}: OptionNames maps to {string.Join(", ", missing)}, which it does not have");
        }
        Assert.Equal("--seq-len", OptionNames.Train.FlagFor("TrainOptions.SeqLen"));
        Assert.Null(OptionNames.Classify.FlagFor("TrainOptions.SeqLen")); // classify has no --seq-len: the property name stays
        Assert.Equal("TrainOptions.SeqLen: must be positive, got 0", OptionNames.Classify.Message(new ArgumentException("TrainOptions.SeqLen: must be positive, got 0")));
        Assert.Equal("--seq-len: must be positive, got 0", OptionNames.Train.Message(new ArgumentException("TrainOptions.SeqLen: must be positive, got 0")));
        // A parameter named by ArgumentException.ParamName only (a .NET guard) gets the flag in front, without the suffix.
        Assert.Equal("--min-length: too short", OptionNames.Classify.Message(new ArgumentException("too short", "minLength")));
        // Longer dotted names and other words are left alone.
        Assert.Equal("see MyTrainOptions.SeqLen and TrainOptions.SeqLenX", OptionNames.Train.Message(new InvalidOperationException("see MyTrainOptions.SeqLen and TrainOptions.SeqLenX")));
    }

    [Fact]
    public void Shapes_are_checked_by_the_plan_and_reported_in_the_callers_names()
    {
        var desc = new RnnDesc(RnnMode.Lstm, 3, 4);
        using var plan = BackendRegistry.Get("reference").CreateRnnPlan(RnnParameters.Create(desc, new Random(1)));
        var x = Tensor.Zeros(5, 2, 3);

        // Prepare converts the layout and checks the rank only: the rest is the plan's, once.
        var prepared = RnnRunner.Prepare(desc, x, h0: Tensor.Zeros(3, 16), lengths: [5]);
        Assert.NotNull(prepared.Lengths); // a wrong list is kept for the plan to report, not dropped as "all full"
        Assert.Null(RnnRunner.Prepare(desc, x, lengths: [5, 5]).Lengths);
        Assert.Equal("inputs.H0: expected (1,2,4), found (3,16) (Parameter 'inputs')",
            Assert.Throws<ArgumentException>(() => plan.Forward(prepared, false)).Message);

        var h0 = Assert.Throws<ArgumentException>(() => RnnRunner.Forward(plan, x, h0: Tensor.Zeros(3, 16)));
        Assert.Equal("h0", h0.ParamName);
        Assert.StartsWith("h0: expected (1,2,4), found (3,16)", h0.Message);
        Assert.StartsWith("lengths: expected 2 entries (one per sequence), found 1",
            Assert.Throws<ArgumentException>(() => RnnRunner.Forward(plan, x, lengths: [5])).Message);
        Assert.StartsWith("c0: expected (1,2,4), found (1,2,5)",
            Assert.Throws<ArgumentException>(() => RnnRunner.Forward(plan, x, c0: Tensor.Zeros(1, 2, 5))).Message);

        // Batch-first: the shape in the message is the one the caller passed, (N,T,I), not the plan's time-major copy.
        var bf = new RnnDesc(RnnMode.Gru, 3, 4, batchFirst: true);
        using var bfPlan = BackendRegistry.Get("reference").CreateRnnPlan(RnnParameters.Create(bf, new Random(2)));
        Assert.StartsWith("input: expected feature size I=3, found shape (2,5,4)",
            Assert.Throws<ArgumentException>(() => RnnRunner.Forward(bfPlan, Tensor.Zeros(2, 5, 4))).Message);
        Assert.StartsWith("input: empty sequence batch (2,0,3)",
            Assert.Throws<ArgumentException>(() => RnnRunner.Forward(bfPlan, Tensor.Zeros(2, 0, 3))).Message);
        Assert.StartsWith("input: expected rank 3 (N,T,I), found (2,3)",
            Assert.Throws<ArgumentException>(() => RnnRunner.Forward(bfPlan, Tensor.Zeros(2, 3))).Message);
        Assert.StartsWith("c0: only LSTM has a cell state, this is Gru",
            Assert.Throws<ArgumentException>(() => RnnRunner.Forward(bfPlan, Tensor.Zeros(2, 5, 3), c0: Tensor.Zeros(1, 2, 4))).Message);
        // Good inputs still run, batch-first in and out.
        Assert.Equal([2, 5, 4], RnnRunner.Forward(bfPlan, Tensor.Zeros(2, 5, 3)).Output.Shape);
    }
}
