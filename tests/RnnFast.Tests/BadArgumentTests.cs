// Bad arguments everywhere, table-driven: the public API (RnnModel Forward/Step/Classify/Generate, sampling, tensors,
// RnnDesc, RnnParameters, RnnRunner, plans of every backend called directly, backend names) must throw an
// ArgumentException whose message names the argument; the CLI must exit with code 2 and one `error:` line naming the
// option. A row passes only if its call throws the right type with the right word (no row passes by not running).
using RnnFast.Backends;
using RnnFast.Cli;
using RnnFast.Data;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class BadArgumentTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Row(string Call, Action Act, string Word);

    private sealed class CompositeDisposable(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var i in items) i.Dispose();
        }
    }

    /// <summary>Runs every row; each must throw an ArgumentException (or subclass) whose message contains its word.</summary>
    private void AssertAll(string area, IReadOnlyList<Row> rows)
    {
        var failures = new List<string>();
        foreach (var row in rows)
        {
            try
            {
                row.Act();
                failures.Add($"{row.Call}: did not throw");
            }
            catch (ArgumentException e) when (e.Message.Contains(row.Word, StringComparison.Ordinal) && !e.Message.Contains('\n'))
            {
            }
            catch (Exception e)
            {
                failures.Add($"{row.Call}: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")} (expected an ArgumentException naming '{row.Word}')");
            }
        }
        output.WriteLine($"{area}: {rows.Count} bad calls, {rows.Count - failures.Count} rejected with an ArgumentException naming the argument");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static readonly string Corpus = ProgramCorpus.Generate(2500, 9);

    private (RnnModel Lm, RnnModel Classifier) Models()
    {
        string lm = Path.Combine(_dir, "lm.safetensors"), cls = Path.Combine(_dir, "cls.safetensors");
        var vocab = CharVocab.FromText("abcdefgh");
        var reference = BackendRegistry.Get("reference");
        using (var net = new CharNetwork(new NetworkConfig { Kind = NetworkKind.LanguageModel, Mode = RnnMode.Lstm, Layers = 1, Hidden = 6, Embed = 3, Vocab = vocab }, reference, new Random(1)))
            Checkpoint.Save(lm, net);
        using (var net = new CharNetwork(new NetworkConfig
               {
                   Kind = NetworkKind.Classifier, Mode = RnnMode.Gru, Layers = 1, Hidden = 6, Embed = 3, Vocab = vocab, Labels = ["x", "y"], Bidirectional = true,
               }, reference, new Random(2)))
            Checkpoint.Save(cls, net);
        return (RnnModel.Load(lm, "reference"), RnnModel.Load(cls, "reference"));
    }

    [Fact]
    public void RnnModel_and_sampling_name_the_bad_argument()
    {
        var (lm, cls) = Models();
        var (other, otherCls) = Models();
        using var disposeAll = new CompositeDisposable(lm, cls, other, otherCls);
        int V = lm.Vocab.Count;
        var s = lm.NewState();
        var ok = new SamplingOptions();
        AssertAll("RnnModel and Sampler", [
            new("Forward(null)", () => lm.Forward(null!), "sequences"),
            new("Forward([])", () => lm.Forward([]), "sequences"),
            new("Forward([[]])", () => lm.Forward([[]]), "sequences"),
            new("Forward([null])", () => lm.Forward([null!]), "sequences"),
            new("Forward([[V]])", () => lm.Forward([[0, V]]), "sequences"),
            new("Forward([[-1]])", () => lm.Forward([[-1]]), "sequences"),
            new("Step(null, 0)", () => lm.Step(null!, 0), "state"),
            new("Step(s, -1)", () => lm.Step(s, -1), "token"),
            new("Step(s, V)", () => lm.Step(s, V), "token"),
            new("Step(other model's state)", () => lm.Step(other.NewState(), 0), "state"),
            new("Classify((string)null)", () => cls.Classify((string)null!), "text"),
            new("Classify(null list)", () => cls.Classify((IReadOnlyList<string>)null!), "texts"),
            new("Classify([])", () => cls.Classify(Array.Empty<string>()), "texts"),
            new("Classify([\"\"])", () => cls.Classify([""]), "texts"),
            new("Classify([null])", () => cls.Classify([null!]), "texts"),
            new("Classify(unknown char)", () => cls.Classify(["abz"]), "texts"),
            new("Generate(length -1)", () => lm.Generate("a", -1, ok), "length"),
            new("Generate(options null)", () => lm.Generate("a", 1, null!), "options"),
            new("Generate(temperature 0)", () => lm.Generate("a", 1, ok with { Temperature = 0 }), "SamplingOptions.Temperature"),
            new("Generate(temperature -1)", () => lm.Generate("a", 1, ok with { Temperature = -1 }), "SamplingOptions.Temperature"),
            new("Generate(temperature NaN)", () => lm.Generate("a", 1, ok with { Temperature = float.NaN }), "SamplingOptions.Temperature"),
            new("Generate(temperature +Inf)", () => lm.Generate("a", 1, ok with { Temperature = float.PositiveInfinity }), "SamplingOptions.Temperature"),
            new("Generate(top-k -1)", () => lm.Generate("a", 1, ok with { TopK = -1 }), "SamplingOptions.TopK"),
            new("Generate(prime outside vocab)", () => lm.Generate("az", 1, ok), "prime"),
            new("Sampler.Pick(empty logits)", () => Sampler.Pick([], ok, new Random(1), new float[1]), "logits"),
            new("Sampler.Pick(short scratch)", () => Sampler.Pick(new float[4], ok, new Random(1), new float[3]), "scratch"),
            new("Sampler.Pick(options null)", () => Sampler.Pick(new float[4], null!, new Random(1), new float[4]), "options"),
            new("Sampler.Pick(temperature 0)", () => Sampler.Pick(new float[4], ok with { Temperature = 0 }, new Random(1), new float[4]), "SamplingOptions.Temperature"),
            new("Sampler.Pick(rng null)", () => Sampler.Pick(new float[4], ok, null!, new float[4]), "rng"),
            new("state.CopyTo(short)", () => s.CopyTo(new float[1]), "destination"),
            new("state.CopyFrom(short)", () => s.CopyFrom(new float[1]), "source"),
            new("Vocab.Encode(unknown)", () => lm.Vocab.Encode("q"), "text"),
            new("Vocab.Decode(V)", () => lm.Vocab.Decode([V]), "ids"),
            new("CharVocab.FromText(\"\")", () => CharVocab.FromText(""), "text"),
            new("CharVocab(duplicate)", () => _ = new CharVocab(["a", "a"]), "vocab"),
            new("RnnModel.Load(unknown backend)", () => RnnModel.Load(Path.Combine(_dir, "lm.safetensors"), "abacus"), "backend"),
            new("RnnModel.Load(\"\")", () => RnnModel.Load(""), "path"),
        ]);
    }

    [Fact]
    public void Tensors_descs_parameters_and_the_runner_name_the_bad_argument()
    {
        var desc = new RnnDesc(RnnMode.Lstm, 3, 4);
        var gru = new RnnDesc(RnnMode.Gru, 3, 4);
        var p = RnnParameters.Create(desc, new Random(1));
        using var plan = BackendRegistry.Get("reference").CreateRnnPlan(p);
        using var gruPlan = BackendRegistry.Get("reference").CreateRnnPlan(RnnParameters.Create(gru, new Random(2)));
        var x = Tensor.Zeros(5, 2, 3);
        AssertAll("Tensor, RnnDesc, RnnParameters, RnnRunner, BackendRegistry", [
            new("Tensor.Zeros(-1, 2)", () => Tensor.Zeros(-1, 2), "shape"),
            new("Tensor.Zeros(huge)", () => Tensor.Zeros(int.MaxValue, int.MaxValue), "shape"),
            new("Tensor.FromArray(6 floats, 2x4)", () => Tensor.FromArray(new float[6], 2, 4), "data"),
            new("Tensor.FromArray(null)", () => Tensor.FromArray(null!, 2), "data"),
            new("Tensor.Full(v, -3)", () => Tensor.Full(1f, -3), "shape"),
            new("tensor.Reshape(7)", () => x.Reshape(7), "shape"),
            new("new RnnDesc(inputSize 0)", () => _ = new RnnDesc(RnnMode.Lstm, 0, 4), "inputSize"),
            new("new RnnDesc(inputSize -5)", () => _ = new RnnDesc(RnnMode.Lstm, -5, 4), "inputSize"),
            new("new RnnDesc(hiddenSize 0)", () => _ = new RnnDesc(RnnMode.Gru, 3, 0), "hiddenSize"),
            new("new RnnDesc(numLayers -1)", () => _ = new RnnDesc(RnnMode.Gru, 3, 4, numLayers: -1), "numLayers"),
            new("new RnnDesc(projSize -1)", () => _ = new RnnDesc(RnnMode.Lstm, 3, 4, projSize: -1), "projSize"),
            new("new RnnDesc(projSize >= hidden)", () => _ = new RnnDesc(RnnMode.Lstm, 3, 4, projSize: 4), "projSize"),
            new("new RnnDesc(GRU with projection)", () => _ = new RnnDesc(RnnMode.Gru, 3, 4, projSize: 2), "projSize"),
            new("new RnnDesc(mode 99)", () => _ = new RnnDesc((RnnMode)99, 3, 4), "mode"),
            new("new RnnDesc(huge)", () => _ = new RnnDesc(RnnMode.Lstm, int.MaxValue, 1 << 20), "hiddenSize"),
            new("RnnDesc.ParseMode(\"transformer\")", () => RnnDesc.ParseMode("transformer"), "mode"),
            new("RnnParameters.Create(null desc)", () => RnnParameters.Create(null!, new Random(1)), "desc"),
            new("RnnParameters.Create(null random)", () => RnnParameters.Create(desc, null!), "random"),
            new("RnnParameters.FromTensors(too few)", () => RnnParameters.FromTensors(desc, p.Tensors.Take(2).ToArray()), "tensors"),
            new("RnnParameters.FromTensors(wrong shape)", () => RnnParameters.FromTensors(gru, p.Tensors), "tensors"),
            new("RnnRunner.Forward(null plan)", () => RnnRunner.Forward(null!, x), "plan"),
            new("RnnRunner.Forward(rank 2)", () => RnnRunner.Forward(plan, Tensor.Zeros(5, 3)), "input"),
            new("RnnRunner.Forward(wrong I)", () => RnnRunner.Forward(plan, Tensor.Zeros(5, 2, 4)), "input"),
            new("RnnRunner.Forward(T = 0)", () => RnnRunner.Forward(plan, Tensor.Zeros(0, 2, 3)), "input"),
            new("RnnRunner.Forward(N = 0)", () => RnnRunner.Forward(plan, Tensor.Zeros(5, 0, 3)), "input"),
            new("RnnRunner.Forward(h0 wrong)", () => RnnRunner.Forward(plan, x, h0: Tensor.Zeros(1, 3, 4)), "h0"),
            new("RnnRunner.Forward(c0 wrong)", () => RnnRunner.Forward(plan, x, c0: Tensor.Zeros(1, 2, 5)), "c0"),
            new("RnnRunner.Prepare(rank 2)", () => RnnRunner.Prepare(gru, Tensor.Zeros(5, 3)), "input"),
            new("RnnRunner.Forward(c0 on GRU)", () => RnnRunner.Forward(gruPlan, x, c0: Tensor.Zeros(1, 2, 4)), "c0"),
            new("RnnRunner.Forward(lengths count)", () => RnnRunner.Forward(plan, x, lengths: [5]), "lengths"),
            new("RnnRunner.Forward(length 0)", () => RnnRunner.Forward(plan, x, lengths: [5, 0]), "lengths"),
            new("RnnRunner.Forward(length -2)", () => RnnRunner.Forward(plan, x, lengths: [-2, 5]), "lengths"),
            new("RnnRunner.Forward(length > T)", () => RnnRunner.Forward(plan, x, lengths: [6, 5]), "lengths"),
            new("BackendRegistry.Get(unknown)", () => BackendRegistry.Get("warp-drive"), "backend"),
            new("TrainOptions(batch -1)", () => new TrainOptions { Batch = -1 }.Validate(), "TrainOptions.Batch"),
            new("TrainOptions(lr NaN)", () => new TrainOptions { LearningRate = double.NaN }.Validate(), "TrainOptions.LearningRate"),
            new("TrainOptions(max skips 0)", () => new TrainOptions { MaxConsecutiveSkips = 0 }.Validate(), "TrainOptions.MaxConsecutiveSkips"),
            new("NonFinitePolicyNames.Parse(\"ignore\")", () => NonFinitePolicyNames.Parse("ignore"), "text"),
        ]);
    }

    public static IEnumerable<object[]> Backends() => BackendData.Backends();

    [BackendTheory]
    [MemberData(nameof(Backends))]
    public void Plans_called_directly_check_their_inputs(string backend)
    {
        var b = BackendRegistry.Get(backend);
        var lstm = new RnnDesc(RnnMode.Lstm, 3, 4, numLayers: 2, bidirectional: true);
        var gru = new RnnDesc(RnnMode.Gru, 3, 4);
        using var plan = b.CreateRnnPlan(RnnParameters.Create(lstm, new Random(1)));
        using var gruPlan = b.CreateRnnPlan(RnnParameters.Create(gru, new Random(2)));
        var x = Tensor.Zeros(5, 2, 3).To(b);
        var good = new RnnInputs(x);
        var train = plan.Forward(good, training: true);
        var infer = plan.Forward(good, training: false);
        AssertAll($"plans on {backend}", [
            new("Forward(null)", () => plan.Forward(null!, false), "inputs"),
            new("Forward(wrong I)", () => plan.Forward(new RnnInputs(Tensor.Zeros(5, 2, 7).To(b)), false), "inputs.Input"),
            new("Forward(rank 2)", () => plan.Forward(new RnnInputs(Tensor.Zeros(10, 3).To(b)), false), "inputs.Input"),
            new("Forward(T = 0)", () => plan.Forward(new RnnInputs(Tensor.Zeros(0, 2, 3).To(b)), false), "inputs.Input"),
            new("Forward(h0 too small)", () => plan.Forward(new RnnInputs(x, H0: Tensor.Zeros(1, 2, 4).To(b)), false), "inputs.H0"),
            new("Forward(c0 too small)", () => plan.Forward(new RnnInputs(x, C0: Tensor.Zeros(4, 1, 4).To(b)), true), "inputs.C0"),
            new("GRU Forward(c0)", () => gruPlan.Forward(new RnnInputs(x, C0: Tensor.Zeros(1, 2, 4).To(b)), false), "inputs.C0"),
            new("Forward(lengths > T)", () => plan.Forward(new RnnInputs(x, Lengths: [5, 6]), false), "inputs.Lengths"),
            new("Forward(length 0)", () => plan.Forward(new RnnInputs(x, Lengths: [0, 5]), false), "inputs.Lengths"),
            new("Forward(lengths count)", () => plan.Forward(new RnnInputs(x, Lengths: [5, 5, 5]), true), "inputs.Lengths"),
            new("Backward(inference result)", () => plan.Backward(good, infer, null, null, null), "forward"),
            new("Backward(dOutput wrong)", () => plan.Backward(good, train, Tensor.Zeros(5, 2, 4).To(b), null, null), "dOutput"),
            new("Backward(dHN wrong)", () => plan.Backward(good, train, null, Tensor.Zeros(4, 2, 5).To(b), null), "dHN"),
            new("Backward(dCN wrong)", () => plan.Backward(good, train, null, null, Tensor.Zeros(1, 2, 4).To(b)), "dCN"),
            new("Backward(other inputs)", () => plan.Backward(new RnnInputs(Tensor.Zeros(4, 2, 3).To(b)), train, null, null, null), "forward"),
        ]);
        // The plan still works after all that.
        var again = plan.Forward(good, training: false);
        Assert.Equal(infer.Output.ToArray(), again.Output.ToArray());
    }

    public static IEnumerable<object[]> CliRows() =>
    [
        ["sample --model missing.safetensors", "missing.safetensors"],
        ["sample --model {lm} --length abc", "--length"],
        ["sample --model {lm} --length -5", "--length"],
        ["sample --model {lm} --temperature 0", "--temperature"],
        ["sample --model {lm} --temperature -2", "--temperature"],
        ["sample --model {lm} --temperature NaN", "--temperature"],
        ["sample --model {lm} --top-k -1", "--top-k"],
        ["sample --model {lm} --backend warp-drive", "unknown backend 'warp-drive'"],
        ["sample --model {lm} --prime zz", "--prime"],
        ["sample --model {lm} --bogus 1", "--bogus"],
        ["sample --length 3", "--model"],
        ["train --data missing.txt --out {dir}/m.safetensors", "--data"],
        ["train --data {text} --out {dir}/m.safetensors --hidden -1", "--hidden"],
        ["train --data {text} --out {dir}/m.safetensors --hidden many", "--hidden"],
        ["train --data {text} --out {dir}/m.safetensors --layers 0", "--layers"],
        ["train --data {text} --out {dir}/m.safetensors --batch 0", "--batch"],
        ["train --data {text} --out {dir}/m.safetensors --seq-len -3", "--seq-len"],
        ["train --data {text} --out {dir}/m.safetensors --steps 0", "--steps"],
        ["train --data {text} --out {dir}/m.safetensors --lr 0", "--lr"],
        ["train --data {text} --out {dir}/m.safetensors --lr NaN", "--lr"],
        ["train --data {text} --out {dir}/m.safetensors --dropout 1", "--dropout"],
        ["train --data {text} --out {dir}/m.safetensors --optimizer lbfgs", "--optimizer"],
        ["train --data {text} --out {dir}/m.safetensors --model transformer", "--model"],
        ["train --data {text} --out {dir}/m.safetensors --val-fraction 2", "--val-fraction"],
        ["train --data {text} --out {dir}/m.safetensors --backend warp-drive", "unknown backend 'warp-drive'"],
        ["train --data {text} --out {dir}/m.safetensors --resume {dir}/nothing.safetensors", "nothing.safetensors"],
        ["train --data {text}", "--out"],
        ["check {dir}/nothing.safetensors", "nothing.safetensors"],
        ["check {lm} --backend warp-drive", "unknown backend 'warp-drive'"],
        ["classify --data missing.tsv", "--data"],
        ["classify --hidden 0", "--hidden"],
        ["frobnicate", "frobnicate"],
    ];

    [Fact]
    public void Cli_exits_2_with_one_line_naming_the_option()
    {
        var (lm, cls) = Models();
        lm.Dispose();
        cls.Dispose();
        string text = Path.Combine(_dir, "text.txt");
        File.WriteAllText(text, Corpus);
        var failures = new List<string>();
        var rows = CliRows().ToList();
        foreach (var row in rows)
        {
            string line = ((string)row[0]).Replace("{lm}", Path.Combine(_dir, "lm.safetensors")).Replace("{dir}", _dir).Replace("{text}", text);
            string word = (string)row[1];
            var o = new StringWriter();
            var e = new StringWriter();
            int code = CliApp.Run(line.Split(' '), o, e);
            var lines = e.ToString().TrimEnd('\n').Split('\n');
            if (code != 2 || lines.Length != 1 || !lines[0].StartsWith("error: ", StringComparison.Ordinal) || !lines[0].Contains(word, StringComparison.Ordinal))
                failures.Add($"rnnfast {line}: exit {code}, stderr: {e.ToString().Trim()} (expected exit 2 and one line naming '{word}')");
        }
        output.WriteLine($"CLI: {rows.Count} bad command lines, {rows.Count - failures.Count} exit 2 with one line naming the option");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
