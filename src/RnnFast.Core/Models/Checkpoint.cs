// One safetensors file holds a whole model and, for training, everything needed to continue exactly:
//   tensors   embedding.weight (V,E), rnn.<PyTorch RNN names>, head.weight (V|C, D*H), head.bias, optim.<state name>
//   metadata  format, the NetworkConfig (kind: char_lm, char_classifier, char_tagger, char_multilabel or forecaster; mode, sizes, vocab, labels, a classifier's pooling) and the TrainingState (step, optimizer and
//             its hyperparameters, recipe, data fingerprint, loss history)
// Writes go to a temporary file that is renamed over the target, so an interrupted run never leaves a broken model.
using System.Globalization;
using RnnFast.IO;

namespace RnnFast.Models;

/// <summary>Where a training run stands: enough to resume it exactly.</summary>
public sealed record TrainingState
{
    /// <summary>The optimizer steps taken so far (global, across resumes).</summary>
    public int Step { get; init; }
    /// <summary>The optimizer's name, as in <see cref="RnnFast.Training.TrainOptions.Optimizer"/>.</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>The learning rate of the run.</summary>
    public double LearningRate { get; init; }
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    public double Clip { get; init; }
    /// <summary>Characters per training sequence (truncated BPTT length).</summary>
    public int SeqLen { get; init; }
    /// <summary>Sequences per optimizer step.</summary>
    public int Batch { get; init; }
    /// <summary>The seed that fixed initialisation, the train/validation split and batch order.</summary>
    public int Seed { get; init; }
    /// <summary>The fraction of the text held out for validation.</summary>
    public double ValFraction { get; init; }
    /// <summary>File name and a fingerprint of the training data, so a resume on other data is refused.</summary>
    public string DataName { get; init; } = "";
    /// <summary>A hash of the training data; a resume on different data is refused.</summary>
    public string DataFingerprint { get; init; } = "";
    /// <summary>The training loss history so far (nats per character).</summary>
    public IReadOnlyList<float> TrainLossHistory { get; init; } = [];
    /// <summary>Validation loss of every evaluation so far (steps in <see cref="ValStepHistory"/>).</summary>
    public IReadOnlyList<float> ValLossHistory { get; init; } = [];
    /// <summary>The step of each <see cref="ValLossHistory"/> entry.</summary>
    public IReadOnlyList<float> ValStepHistory { get; init; } = [];
    /// <summary>Extra recipe values (e.g. momentum, steps planned), stored as metadata "train.&lt;key&gt;".</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();
}

/// <summary>What <see cref="Checkpoint.Read"/> returns.</summary>
public sealed record CheckpointContents(NetworkConfig Config, Dictionary<string, Tensor> Tensors, TrainingState? Training, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Tensors of the file the model does not read (besides optimizer state), by name: reported, not loaded.</summary>
    public IReadOnlyList<string> UnusedTensors { get; init; } = [];
}

/// <summary>Saves and reads a character model with its optimizer state and training state in one safetensors file, atomically.</summary>
public static class Checkpoint
{
    /// <summary>The value of the "format" metadata key this version writes and reads.</summary>
    public const string Format = "rnnfast-char/1";
    /// <summary>The tensor-name prefix of optimizer state (e.g. "optim.exp_avg.0").</summary>
    public const string OptimizerPrefix = "optim.";

    /// <summary>Writes the network's weights, the optimizer's state (if any) and the training state, atomically.</summary>
    public static void Save(string path, CharNetwork network, RnnFast.Optim.Optimizer? optimizer = null, TrainingState? training = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var meta = network.Config.ToMetadata();
        meta["format"] = Format;
        var entries = new List<SafeTensorEntry>();
        void Add(string name, Tensor t)
        {
            var data = t.ToArray();
            // Never write a model that cannot be used: a NaN or infinite value anywhere keeps the previous file as it is.
            if (FirstNonFinite(data) is int at)
                throw new InvalidOperationException(
                    $"{Path.GetFileName(path)}: not written: tensor '{name}' holds a non-finite value ({data[at]} at element {at}); the previous checkpoint is kept");
            entries.Add(SafeTensorEntry.F32(name, t.Shape, data));
        }
        foreach (var (name, p) in network.NamedParameters()) Add(name, p.Value);
        if (optimizer != null)
        {
            foreach (var (name, t) in optimizer.StateTensors()) Add(OptimizerPrefix + name, t);
            meta["optimizer_step"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture);
        }
        if (training != null)
        {
            var inv = CultureInfo.InvariantCulture;
            meta["train.step"] = training.Step.ToString(inv);
            meta["train.optimizer"] = training.Optimizer;
            meta["train.lr"] = training.LearningRate.ToString("R", inv);
            meta["train.clip"] = training.Clip.ToString("R", inv);
            meta["train.seq_len"] = training.SeqLen.ToString(inv);
            meta["train.batch"] = training.Batch.ToString(inv);
            meta["train.seed"] = training.Seed.ToString(inv);
            meta["train.val_fraction"] = training.ValFraction.ToString("R", inv);
            meta["train.data_name"] = training.DataName;
            meta["train.data_fingerprint"] = training.DataFingerprint;
            meta["train.loss_history"] = ModelJson.Floats(training.TrainLossHistory);
            meta["train.val_loss_history"] = ModelJson.Floats(training.ValLossHistory);
            meta["train.val_step_history"] = ModelJson.Floats(training.ValStepHistory);
            foreach (var (k, v) in training.Extra) meta["train.x." + k] = v;
        }
        SafeTensorsWriter.Write(path, entries, meta);
    }

    /// <summary>
    /// Reads a checkpoint, or a PyTorch state_dict of Embedding + LSTM/GRU/RNN + Linear saved as safetensors (see the
    /// README's recipe). Sizes come from the tensors' shapes, the rest from the metadata; <paramref name="vocab"/>
    /// supplies a vocabulary when the file has none. Problems throw <see cref="RnnFormatException"/> naming the file.
    /// </summary>
    public static CheckpointContents Read(string path, CharVocab? vocab = null, string weightPrefix = "")
    {
        if (IO.Onnx.OnnxImport.IsOnnxPath(path)) return IO.Onnx.OnnxImport.Read(path, vocab);
        using var file = SafeTensorsFile.Open(path);
        string name = Path.GetFileName(path);
        var meta = file.Metadata;
        RnnFormatException Error(string problem, Exception? inner = null) => new(name, problem, inner);

        string p = weightPrefix;
        // A dimension of 0 makes a tensor hold no bytes whatever its other dimensions say, so those are bounded by nothing
        // in the file: a tensor the model reads must have no zero-width dimension (then every dimension is at most its
        // element count, which the reader has checked against the file's size) before any size is taken from it.
        SafeTensorInfo NonEmpty(SafeTensorInfo info) => info.ElementCount > 0 ? info
            : throw Error($"tensor '{info.Name}' has shape {Tensor.FormatShape(info.Shape)}, which holds no elements; a model's tensors cannot have a zero-width dimension");
        Tensor Need(string tensor) => file.Contains(p + tensor) ? file.ReadTensor(NonEmpty(file.GetInfo(p + tensor)).Name) : throw Error($"tensor '{p + tensor}' is missing");

        bool forecaster = meta.TryGetValue("kind", out var kindText) && kindText == "forecaster";
        Tensor? embedding = null;
        int V = 0, E = 0;
        if (!forecaster)
        {
            embedding = Need("embedding.weight");
            if (embedding.Rank != 2) throw Error($"tensor '{p}embedding.weight' has shape {Tensor.FormatShape(embedding.Shape)}, expected (V,E)");
            V = embedding.Shape[0];
            E = embedding.Shape[1];
        }

        // The RNN's prefix: ours is "rnn.", PyTorch models often call it "lstm." or "gru.".
        string? rnnPrefix = new[] { "rnn.", "lstm.", "gru.", "" }.Select(x => p + x).FirstOrDefault(x => file.Contains(x + "weight_ih_l0"))
            ?? throw Error($"tensor '{p}rnn.weight_ih_l0' is missing (also looked for lstm.* and gru.*)");
        var wih = NonEmpty(file.GetInfo(rnnPrefix + "weight_ih_l0"));
        var whh = file.Contains(rnnPrefix + "weight_hh_l0") ? NonEmpty(file.GetInfo(rnnPrefix + "weight_hh_l0")) : throw Error($"tensor '{rnnPrefix}weight_hh_l0' is missing");
        if (wih.Shape.Length != 2 || whh.Shape.Length != 2) throw Error($"tensor '{rnnPrefix}weight_ih_l0' or 'weight_hh_l0' is not a matrix");
        if (file.Contains(rnnPrefix + "weight_hr_l0")) throw Error("LSTM projection (weight_hr) is not supported in character models");
        int H = whh.Shape[1];
        if (H <= 0 || wih.Shape[0] % H != 0) throw Error($"tensor '{rnnPrefix}weight_ih_l0' has {wih.Shape[0]} rows, not a multiple of hidden size {H}");
        int gates = wih.Shape[0] / H;
        RnnMode mode;
        try
        {
            mode = meta.TryGetValue("mode", out var m) ? RnnDesc.ParseMode(m) : gates switch
            {
                4 => RnnMode.Lstm,
                3 => RnnMode.Gru,
                1 => RnnMode.RnnTanh,
                _ => throw Error($"tensor '{rnnPrefix}weight_ih_l0' implies {gates} gates; expected 1 (RNN), 3 (GRU) or 4 (LSTM)"),
            };
        }
        catch (ArgumentException e)
        {
            throw Error($"metadata 'mode': {e.Message}", e);
        }
        if (RnnDesc.GateCountOf(mode) != gates)
            throw Error($"metadata says {RnnDesc.TorchModeName(mode)} but '{rnnPrefix}weight_ih_l0' has {gates} gates of {H}");
        int layers = 0;
        while (file.Contains($"{rnnPrefix}weight_ih_l{layers}")) layers++;
        bool bidir = file.Contains(rnnPrefix + "weight_ih_l0_reverse");
        bool peephole = file.Contains(rnnPrefix + "weight_ph_l0");
        if (meta.TryGetValue("peephole", out var phs) && phs != (peephole ? "true" : "false"))
            throw Error($"metadata 'peephole' = '{phs}' but the tensors describe an RNN {(peephole ? "with" : "without")} peepholes ('{rnnPrefix}weight_ph_l0')");
        if (peephole && mode != RnnMode.Lstm)
            throw Error($"tensor '{rnnPrefix}weight_ph_l0' (peepholes) needs an LSTM, but the RNN is {RnnDesc.TorchModeName(mode)}");

        var headW = Need("head.weight");
        var headB = Need("head.bias");
        if (headW.Rank != 2) throw Error($"tensor '{p}head.weight' has shape {Tensor.FormatShape(headW.Shape)}, expected (outputs, hidden)");

        if (forecaster) return ReadForecaster(file, meta, Error, mode, layers, H, wih.Shape[1], rnnPrefix, headW, headB, p, peephole, bidir);

        CharVocab? v = vocab;
        if (meta.TryGetValue("vocab", out var vjson))
        {
            try { v = CharVocab.FromJson(vjson); }
            catch (ArgumentException e) { throw Error($"metadata 'vocab': {e.Message}", e); }
        }
        if (v == null && V > MaxPlaceholderSymbols)
            throw Error($"tensor 'embedding.weight' has {V} rows and the file has no 'vocab' metadata; without one at most {MaxPlaceholderSymbols} symbols can be numbered (save the vocabulary with the model)");
        v ??= PlaceholderVocab(V);
        if (v.Count != V) throw Error($"vocabulary has {v.Count} symbols but 'embedding.weight' has {V} rows");

        string[] labels = [];
        if (meta.TryGetValue("labels", out var ljson))
        {
            try { labels = ModelJson.ParseStrings(ljson) ?? []; }
            catch (System.Text.Json.JsonException e) { throw Error($"metadata 'labels' is not a JSON list of strings ({e.Message})", e); }
            if (labels.Any(l => l == null)) throw Error("metadata 'labels' holds null entries");
        }
        meta.TryGetValue("kind", out var k);
        var kind = k == "char_classifier" ? NetworkKind.Classifier
            : k == "char_tagger" ? NetworkKind.Tagger
            : k == "char_multilabel" ? NetworkKind.MultiLabel
            : headW.Shape[0] == V && labels.Length == 0 ? NetworkKind.LanguageModel
            : NetworkKind.Classifier;
        if (k == "char_lm" && headW.Shape[0] != V)
            throw Error($"metadata 'kind' = 'char_lm' (a language model) but tensor '{p}head.weight' has {headW.Shape[0]} rows, not one per vocabulary symbol ({V})");
        if (k == "char_lm" && labels.Length > 0) throw Error("metadata 'kind' = 'char_lm' (a language model) but the file has 'labels' (a classifier's)");
        if (kind is NetworkKind.Classifier or NetworkKind.Tagger or NetworkKind.MultiLabel && labels.Length == 0)
            labels = Enumerable.Range(0, headW.Shape[0]).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

        var pooling = SequencePooling.Last; // absent: files written before pooling was a choice read their last step
        if (meta.TryGetValue("pooling", out var ps))
        {
            try { pooling = NetworkConfig.ParsePooling(ps); }
            catch (ArgumentException) { throw Error($"metadata 'pooling' = '{ps}': expected last or mean"); }
        }

        float dropout = 0;
        if (meta.TryGetValue("dropout", out var ds) && !float.TryParse(ds, NumberStyles.Float, CultureInfo.InvariantCulture, out dropout))
            throw Error($"metadata 'dropout' = '{ds}' is not a number");
        CheckStated(meta, "num_layers", layers, "layers", Error);
        CheckStated(meta, "hidden_size", H, "hidden units", Error);
        CheckStated(meta, "embed_size", E, "embedding columns", Error);
        if (meta.TryGetValue("bidirectional", out var bs) && bs != (bidir ? "true" : "false"))
            throw Error($"metadata 'bidirectional' = '{bs}' but the tensors describe a {(bidir ? "bidirectional" : "unidirectional")} RNN");
        if (meta.TryGetValue("format", out var fmt) && fmt.StartsWith("rnnfast-char/", StringComparison.Ordinal) && fmt != Format)
            throw Error($"metadata 'format' = '{fmt}': this version reads {Format}");
        var config = new NetworkConfig
        {
            Kind = kind, Mode = mode, Layers = layers, Hidden = H, Embed = E, Bidirectional = bidir, Peephole = peephole,
            Dropout = dropout, Vocab = v, Labels = labels, Pooling = pooling,
            BatchFirst = MetaFlag(meta, "batch_first", "true", Error), IdentityHead = MetaFlag(meta, "head", "identity", Error),
        };
        try { config.Validate(); }
        catch (ArgumentException e) { throw Error($"describes no valid model: {e.Message}", e); }

        var tensors = new Dictionary<string, Tensor>
        {
            ["embedding.weight"] = embedding!,
            ["head.weight"] = headW,
            ["head.bias"] = headB,
        };
        var rnn = file.LoadRnnParameters(config.RnnDesc, rnnPrefix);
        for (int i = 0; i < rnn.Ids.Count; i++) tensors["rnn." + rnn.Ids[i].TorchName] = rnn.Tensors[i];
        var unused = Unused(file, p, [p + "embedding.weight", p + "head.weight", p + "head.bias", .. rnn.Ids.Select(id => rnnPrefix + id.TorchName)]);
        if (!headW.HasShape(config.OutputSize, config.RnnDesc.OutputSize))
            throw Error($"tensor '{p}head.weight' has shape {Tensor.FormatShape(headW.Shape)}, expected {Tensor.FormatShape([config.OutputSize, config.RnnDesc.OutputSize])}");
        if (!headB.HasShape(config.OutputSize))
            throw Error($"tensor '{p}head.bias' has shape {Tensor.FormatShape(headB.Shape)}, expected ({config.OutputSize},)");
        foreach (var info in file.Tensors)
            if (info.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                tensors[info.Name] = file.ReadTensor(info.Name);
        // A model file with NaN or infinite weights (or optimizer state) is refused: its outputs would be NaN, and a
        // resumed run would diverge at once. The message names the tensor and the first bad element.
        foreach (var (tn, t) in tensors)
            if (FirstNonFinite(t.Span) is int at)
                throw Error($"tensor '{tn}' holds a non-finite value ({t.Span[at]} at element {at}); a model with NaN or infinite weights cannot be used");

        return new CheckpointContents(config, tensors, ReadTraining(meta, Error), meta) { UnusedTensors = unused };
    }

    /// <summary>
    /// The file's tensors the model does not read, by name (PyTorch's load_state_dict reports them as unexpected keys):
    /// a caller can tell the user that part of the file was left out. Optimizer state (optim.*) and tensors outside
    /// <paramref name="prefix"/> are not the model's and are not listed. Missing tensors are errors (see Read).
    /// </summary>
    private static string[] Unused(SafeTensorsFile file, string prefix, IReadOnlyCollection<string> used)
    {
        var known = new HashSet<string>(used, StringComparer.Ordinal);
        return file.Tensors.Select(t => t.Name)
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && !n.StartsWith(OptimizerPrefix, StringComparison.Ordinal) && !known.Contains(n))
            .Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Refuses to continue training <paramref name="c"/> (read from <paramref name="file"/>) as a model of another task:
    /// an <see cref="RnnFormatException"/> naming the file, what it holds and what the trainer expected, e.g.
    /// <c>cls.safetensors: holds a classifier, not a language model; it cannot be resumed as one</c>.
    /// </summary>
    public static void RequireKind(CheckpointContents c, NetworkKind expected, string file)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.Config.Kind != expected)
            throw new RnnFormatException(file, $"holds {KindName(c.Config.Kind)}, not {KindName(expected)}; it cannot be resumed as one");
    }

    /// <summary>A task in words, with its article: "a language model", "a classifier", ...</summary>
    public static string KindName(NetworkKind kind) => kind switch
    {
        NetworkKind.LanguageModel => "a language model",
        NetworkKind.Classifier => "a classifier",
        NetworkKind.Tagger => "a tagger",
        NetworkKind.MultiLabel => "a multi-label classifier",
        NetworkKind.Forecaster => "a forecaster",
        _ => $"a model of kind {kind}",
    };

    /// <summary>A network built from checkpoint contents on <paramref name="backend"/>.</summary>
    public static CharNetwork ToNetwork(CheckpointContents c, Backends.Backend backend)
    {
        var rnn = RnnParameters.FromNamed(c.Config.RnnDesc, n => c.Tensors.GetValueOrDefault(n), "rnn.", "checkpoint");
        return new CharNetwork(c.Config, backend, c.Tensors.GetValueOrDefault("embedding.weight"), rnn, c.Tensors["head.weight"], c.Tensors["head.bias"]);
    }

    /// <summary>The forecaster part of <see cref="Read"/>: feature names, targets and scaling from the metadata.</summary>
    private static CheckpointContents ReadForecaster(SafeTensorsFile file, IReadOnlyDictionary<string, string> meta, Func<string, Exception?, RnnFormatException> error,
        RnnMode mode, int layers, int hidden, int inputs, string rnnPrefix, Tensor headW, Tensor headB, string p, bool peephole, bool bidir)
    {
        string[] Strings(string key)
        {
            if (!meta.TryGetValue(key, out var json)) throw error($"metadata '{key}' is missing (a forecaster names its columns)", null);
            try { return ModelJson.ParseStrings(json) ?? throw error($"metadata '{key}' is null", null); }
            catch (System.Text.Json.JsonException e) { throw error($"metadata '{key}' is not a JSON list of strings ({e.Message})", e); }
        }
        float[]? Floats(string key)
        {
            if (!meta.TryGetValue(key, out var json)) return null;
            try { return ModelJson.ParseFloats(json) ?? throw error($"metadata '{key}' is null", null); }
            catch (System.Text.Json.JsonException e) { throw error($"metadata '{key}' is not a JSON list of numbers ({e.Message})", e); }
        }
        var features = Strings("features");
        var targets = Strings("targets");
        CheckStated(meta, "input_size", inputs, "input columns", error);
        CheckStated(meta, "num_layers", layers, "layers", error);
        CheckStated(meta, "hidden_size", hidden, "hidden units", error);
        SeriesScaling? scaling = null;
        if (Floats("scaling.input_mean") is { } im)
        {
            int horizon = 1;
            if (meta.TryGetValue("scaling.horizon", out var hz) && !int.TryParse(hz, NumberStyles.Integer, CultureInfo.InvariantCulture, out horizon))
                throw error($"metadata 'scaling.horizon' = '{hz}' is not an integer", null);
            scaling = new SeriesScaling
            {
                InputMean = im,
                InputStd = Floats("scaling.input_std") ?? throw error("metadata 'scaling.input_std' is missing", null),
                TargetMean = Floats("scaling.target_mean") ?? throw error("metadata 'scaling.target_mean' is missing", null),
                TargetStd = Floats("scaling.target_std") ?? throw error("metadata 'scaling.target_std' is missing", null),
                Differenced = meta.TryGetValue("scaling.differenced", out var d) && d == "true",
                Horizon = horizon,
            };
        }
        float dropout = 0;
        if (meta.TryGetValue("dropout", out var ds) && !float.TryParse(ds, NumberStyles.Float, CultureInfo.InvariantCulture, out dropout))
            throw error($"metadata 'dropout' = '{ds}' is not a number", null);
        var config = new NetworkConfig
        {
            Kind = NetworkKind.Forecaster, Mode = mode, Layers = layers, Hidden = hidden, Embed = 0, Features = inputs, Peephole = peephole,
            Bidirectional = bidir, // an imported per-step model (no scaling) may be bidirectional; Validate refuses a trained forecaster that is
            FeatureNames = features, TargetNames = targets, Scaling = scaling, Dropout = dropout, Vocab = CharVocab.None,
            BatchFirst = MetaFlag(meta, "batch_first", "true", (m, _) => error(m, null)), IdentityHead = MetaFlag(meta, "head", "identity", (m, _) => error(m, null)),
        };
        try { config.Validate(); }
        catch (ArgumentException e) { throw error($"describes no valid model: {e.Message}", e); }
        var tensors = new Dictionary<string, Tensor> { ["head.weight"] = headW, ["head.bias"] = headB };
        var rnn = file.LoadRnnParameters(config.RnnDesc, rnnPrefix);
        for (int i = 0; i < rnn.Ids.Count; i++) tensors["rnn." + rnn.Ids[i].TorchName] = rnn.Tensors[i];
        var unused = Unused(file, p, [p + "head.weight", p + "head.bias", .. rnn.Ids.Select(id => rnnPrefix + id.TorchName)]);
        if (!headW.HasShape(config.OutputSize, config.RnnDesc.OutputSize))
            throw error($"tensor '{p}head.weight' has shape {Tensor.FormatShape(headW.Shape)}, expected {Tensor.FormatShape([config.OutputSize, config.RnnDesc.OutputSize])}", null);
        if (!headB.HasShape(config.OutputSize))
            throw error($"tensor '{p}head.bias' has shape {Tensor.FormatShape(headB.Shape)}, expected ({config.OutputSize},)", null);
        foreach (var info in file.Tensors)
            if (info.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                tensors[info.Name] = file.ReadTensor(info.Name);
        foreach (var (tn, t) in tensors)
            if (FirstNonFinite(t.Span) is int at)
                throw error($"tensor '{tn}' holds a non-finite value ({t.Span[at]} at element {at}); a model with NaN or infinite weights cannot be used", null);
        return new CheckpointContents(config, tensors, ReadTraining(meta, error), meta) { UnusedTensors = unused };
    }

    /// <summary>Copies saved optimizer state into <paramref name="optimizer"/>; every state tensor must be present.</summary>
    public static void RestoreOptimizer(CheckpointContents c, RnnFast.Optim.Optimizer optimizer, string file)
    {
        foreach (var (name, t) in optimizer.StateTensors())
        {
            if (!c.Tensors.TryGetValue(OptimizerPrefix + name, out var saved))
                throw new RnnFormatException(file, $"tensor '{OptimizerPrefix + name}' is missing (optimizer state needed to resume)");
            if (!saved.SameShape(t))
                throw new RnnFormatException(file, $"tensor '{OptimizerPrefix + name}' has shape {Tensor.FormatShape(saved.Shape)}, expected {Tensor.FormatShape(t.Shape)}");
            saved.Span.CopyTo(t.Span);
        }
        if (c.Metadata.TryGetValue("optimizer_step", out var s))
        {
            if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int step))
                throw new RnnFormatException(file, $"metadata 'optimizer_step' = '{Shorten(s)}' is not an integer");
            if (step < 0) throw new RnnFormatException(file, $"metadata 'optimizer_step' = {step} is negative");
            optimizer.StepCount = step;
        }
    }

    private static TrainingState? ReadTraining(IReadOnlyDictionary<string, string> meta, Func<string, Exception?, RnnFormatException> error)
    {
        if (!meta.ContainsKey("train.step")) return null;
        var inv = CultureInfo.InvariantCulture;
        string Get(string key) => meta.TryGetValue(key, out var v) ? v : throw error($"metadata '{key}' is missing", null);
        int Int(string key) => int.TryParse(Get(key), NumberStyles.Integer, inv, out var v) ? v : throw error($"metadata '{key}' = '{Get(key)}' is not an integer", null);
        double Dbl(string key) => double.TryParse(Get(key), NumberStyles.Float, inv, out var v) ? v : throw error($"metadata '{key}' = '{Get(key)}' is not a number", null);
        float[] Floats(string key)
        {
            try { return ModelJson.ParseFloats(Get(key)) ?? []; }
            catch (System.Text.Json.JsonException e) { throw error($"metadata '{key}' is not a JSON array of numbers", e); }
        }
        // A resumed run takes its recipe from here: a value no run could have saved is the file's problem, named by its key.
        // (Zero is what a run without that setting saves, e.g. a classifier's seq_len; the trainer that resumes checks more.)
        int Count(string key) => Int(key) is var v && v >= 0 ? v : throw error($"metadata '{key}' = {Int(key)} is negative", null);
        double Checked(string key, Func<double, bool> ok, string expected)
        {
            double v = Dbl(key);
            if (double.IsNaN(v)) throw error($"metadata '{key}' is NaN", null);
            return ok(v) ? v : throw error($"metadata '{key}' = {v.ToString("R", inv)} is not {expected}", null);
        }
        return new TrainingState
        {
            Step = Count("train.step"),
            Optimizer = Get("train.optimizer"),
            LearningRate = Checked("train.lr", v => v >= 0 && double.IsFinite(v), "a finite number >= 0"),
            Clip = Checked("train.clip", v => v >= 0 && double.IsFinite(v), "a finite number >= 0"),
            SeqLen = Count("train.seq_len"),
            Batch = Count("train.batch"),
            Seed = Int("train.seed"),
            ValFraction = Checked("train.val_fraction", v => v is >= 0 and < 1, "in [0, 1)"),
            DataName = Get("train.data_name"),
            DataFingerprint = Get("train.data_fingerprint"),
            TrainLossHistory = Floats("train.loss_history"),
            ValLossHistory = Floats("train.val_loss_history"),
            ValStepHistory = meta.ContainsKey("train.val_step_history") ? Floats("train.val_step_history") : [],
            Extra = meta.Where(kv => kv.Key.StartsWith("train.x.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["train.x.".Length..], kv => kv.Value),
        };
    }

    /// <summary>The most symbols a file without a vocabulary can have: one private-use code point each, U+F0000 to U+10FFFF.</summary>
    public const int MaxPlaceholderSymbols = 0x10FFFF - 0xF0000 + 1;

    internal static CharVocab PlaceholderVocab(int v) =>
        // A model saved without its vocabulary still runs on token ids; its symbols are private-use characters.
        new(Enumerable.Range(0, v).Select(i => char.ConvertFromUtf32(0xF0000 + i)));

    /// <summary>The index of the first NaN or infinity in <paramref name="s"/>, or null when every value is finite.</summary>
    internal static int? FirstNonFinite(ReadOnlySpan<float> s)
    {
        for (int i = 0; i < s.Length; i++) if (!float.IsFinite(s[i])) return i;
        return null;
    }

    /// <summary>An optional metadata flag: absent is false, <paramref name="on"/> is true, anything else is an error naming the key.</summary>
    private static bool MetaFlag(IReadOnlyDictionary<string, string> meta, string key, string on, Func<string, Exception?, RnnFormatException> error)
    {
        if (!meta.TryGetValue(key, out var text)) return false;
        if (text == on) return true;
        if (key == "batch_first" && text == "false") return false;
        throw error($"metadata '{key}' = '{Shorten(text)}': expected '{on}'{(key == "batch_first" ? " or 'false'" : "")}", null);
    }

    /// <summary>A size the metadata states must agree with the one the tensors' shapes give.</summary>
    private static void CheckStated(IReadOnlyDictionary<string, string> meta, string key, int actual, string what, Func<string, Exception?, RnnFormatException> error)
    {
        if (!meta.TryGetValue(key, out var text)) return;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int stated))
            throw error($"metadata '{key}' = '{Shorten(text)}' is not an integer", null);
        if (stated != actual) throw error($"metadata '{key}' = {stated} but the tensors hold {actual} {what}", null);
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
