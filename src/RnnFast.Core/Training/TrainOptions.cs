// The recipe of a character-model training run (defaults: char-rnn's 2-layer 128-unit LSTM, Adam 2e-3, clip 5).
namespace RnnFast.Training;

/// <summary>Hyperparameters and bookkeeping for <see cref="CharLmTrainer"/> and <see cref="ClassifierTrainer"/>.</summary>
public sealed record TrainOptions
{
    /// <summary>The recurrent cell.</summary>
    public RnnMode Mode { get; init; } = RnnMode.Lstm;
    /// <summary>L: stacked RNN layers.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>H: hidden size of each direction.</summary>
    public int Hidden { get; init; } = 128;
    /// <summary>E: embedding size (the RNN's input size I).</summary>
    public int Embed { get; init; } = 64;
    /// <summary>True for a bidirectional RNN (D = 2).</summary>
    public bool Bidirectional { get; init; }

    /// <summary>LSTM peephole connections (weight_ph_l{k}); LSTM only (CLI --peephole).</summary>
    public bool Peephole { get; init; }
    /// <summary>Classifier only: read each sequence's last step (default) or the mean over its steps.</summary>
    public RnnFast.Models.SequencePooling Pooling { get; init; } = RnnFast.Models.SequencePooling.Last;
    /// <summary>T: characters per training sequence (truncated BPTT length).</summary>
    public int SeqLen { get; init; } = 64;
    /// <summary>N: sequences per optimizer step.</summary>
    public int Batch { get; init; } = 32;
    /// <summary>
    /// Total optimizer steps (including those before a resume). Null: derived from <see cref="Epochs"/>. On resume it is the
    /// global step to reach and must be past the checkpoint's step; null (and no <see cref="Epochs"/>) continues to the total the
    /// checkpoint planned.
    /// </summary>
    public int? Steps { get; init; }
    /// <summary>Passes over the training text (each step sees SeqLen*Batch characters).</summary>
    public double? Epochs { get; init; }
    /// <summary>The optimizer's learning rate.</summary>
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>The optimizer: "adam", "sgd" or "adagrad".</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>SGD momentum (0 = none).</summary>
    public double Momentum { get; init; }
    /// <summary>Global L2 gradient-norm clip (0 = off).</summary>
    public double Clip { get; init; } = 5;
    /// <summary>Dropout probability applied during training between the network's layers (0 = off).</summary>
    public float Dropout { get; init; }
    /// <summary>LSTM only: initial value of the forget gate's input bias (b_ih[H..2H)); 1 helps long-range memory. 0 = PyTorch's init.</summary>
    public float ForgetBias { get; init; }
    /// <summary>The fraction of the data held out for validation.</summary>
    public double ValFraction { get; init; } = 0.05;
    /// <summary>Seed of initialisation, the split and batch order (same seed, data and backend: same run).</summary>
    public int Seed { get; init; } = 1;
    /// <summary>
    /// The backend to train on, by name (see <see cref="Backends.BackendRegistry.Get"/>). Null (the default): the
    /// RNNFAST_BACKEND environment variable, else "auto" (the best available).
    /// </summary>
    public string? Backend { get; init; }

    /// <summary>
    /// Worker threads for the backend (cpu, onednn: see <see cref="Backends.IBackendThreads"/>; the calling thread
    /// included), set when training starts. Null (the default) leaves the backend as it is (cpu: one per logical core).
    /// </summary>
    public int? Threads { get; init; }
    /// <summary>
    /// Checkpoint path (written atomically); null = none. Its folder must exist (it is never created) and accept new files,
    /// and no other run may be writing it: the run holds "&lt;Out&gt;.lock" (<see cref="RnnFast.IO.OutputLock"/>) from before
    /// its first step to its end.
    /// </summary>
    public string? Out { get; init; }
    /// <summary>
    /// A checkpoint to continue from (character language models and classifiers). It fixes the model and the data recipe: options that
    /// differ from it (<see cref="Mode"/>, <see cref="Layers"/>, <see cref="Hidden"/>, <see cref="Embed"/>,
    /// <see cref="Bidirectional"/>, <see cref="Dropout"/>, <see cref="SeqLen"/>, <see cref="Batch"/>, <see cref="Seed"/>,
    /// <see cref="ValFraction"/>, <see cref="Optimizer"/>) are refused; the schedule (<see cref="LearningRate"/>,
    /// <see cref="Clip"/>, <see cref="Momentum"/>, <see cref="Steps"/>) may change and the changes are reported. Start from
    /// <see cref="FromCheckpoint"/> to get the checkpoint's own values.
    /// </summary>
    public string? Resume { get; init; }

    /// <summary>
    /// The recipe a character-model checkpoint was trained with, as options that resume it (<see cref="Resume"/> set to
    /// <paramref name="path"/>, <see cref="Steps"/> to the total it planned when recorded); change the schedule with
    /// <c>with { ... }</c>. A file that is not a resumable checkpoint throws <see cref="RnnFormatException"/>.
    /// </summary>
    public static TrainOptions FromCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ResumeRecipe.FromContents(RnnFast.Models.Checkpoint.Read(path), path);
    }
    /// <summary>Optimizer steps between checkpoint saves (0 = only at the end).</summary>
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Validation loss (and a sample) every this many steps (0 = only at the end).</summary>
    public int EvalEvery { get; init; } = 100;
    /// <summary>
    /// Character language models and sequence trainers (classifier, multi-label classifier, tagger): stop when the held-out
    /// loss has not improved for this many checks in a row (one every <see cref="EvalEvery"/> steps). Null (the default): never stop early.
    /// </summary>
    public int? EarlyStopping { get; init; }
    /// <summary>
    /// Character language models and sequence trainers: the parameters saved to <see cref="Out"/> at the end and scored,
    /// the last step's (the default) or those at the best held-out loss (<see cref="KeepModel.Best"/>; the checks are
    /// every <see cref="EvalEvery"/> steps). Periodic checkpoints hold the current parameters (to resume), and the best
    /// copy with them.
    /// </summary>
    public KeepModel Keep { get; init; } = KeepModel.Last;
    /// <summary>
    /// What the held-out checks are judged by, for <see cref="Keep"/>, <see cref="EarlyStopping"/> and the plateau
    /// schedule: the loss (the default) or, for the classifier, multi-label classifier and tagger, the accuracy (so the
    /// kept model is the one that scored the best accuracy at a check). A language model has no accuracy: Loss only.
    /// </summary>
    public HeldOutMetric Monitor { get; init; } = HeldOutMetric.Loss;
    /// <summary>How the learning rate changes over the run (from <see cref="LearningRate"/>); see <see cref="LearningRateSchedule"/>.</summary>
    public LrScheduleKind LrSchedule { get; init; } = LrScheduleKind.Constant;
    /// <summary>Steps of linear warm-up from 0 to the scheduled rate (0 = none): step s (0-based) uses (s + 1) / WarmupSteps of it.</summary>
    public int WarmupSteps { get; init; }
    /// <summary><see cref="LrScheduleKind.Step"/>: multiply the rate by <see cref="LrGamma"/> every this many steps (required with it).</summary>
    public int? LrStepEvery { get; init; }
    /// <summary><see cref="LrScheduleKind.Step"/> and <see cref="LrScheduleKind.Plateau"/>: the factor of each decay, in (0, 1).</summary>
    public double LrGamma { get; init; } = 0.1;
    /// <summary><see cref="LrScheduleKind.Cosine"/>: the rate at the end of the run, in [0, <see cref="LearningRate"/>).</summary>
    public double LrMin { get; init; }
    /// <summary><see cref="LrScheduleKind.Plateau"/>: held-out checks in a row without improvement before each decay.</summary>
    public int LrPatience { get; init; } = 2;
    /// <summary>
    /// A trained model (character language model or classifier) to start from: its weights, new data. The architecture
    /// options must match it (one that differs is refused, naming it, the model's value and the file); a language model's
    /// vocabulary is extended with the new text's characters (new rows initialised as a fresh model's), a classifier's
    /// labels must be the same set. The step counter, optimizer state and schedule start fresh (unlike <see cref="Resume"/>).
    /// </summary>
    public string? InitFrom { get; init; }
    /// <summary>Characters of sample text generated at each evaluation (language models; 0 = no samples).</summary>
    public int SampleLength { get; init; } = 120;
    /// <summary>Stop after this much wall time (the step count is then an upper bound). Null = no limit.</summary>
    public double? MaxSeconds { get; init; }
    /// <summary>A step whose loss or gradients are NaN or infinite: stop (default) or skip it.</summary>
    public NonFinitePolicy OnNonFinite { get; init; } = NonFinitePolicy.Stop;
    /// <summary>With <see cref="NonFinitePolicy.Skip"/>: stop after this many skipped steps in a row.</summary>
    public int MaxConsecutiveSkips { get; init; } = 10;

    /// <summary>
    /// Character language models: train data-parallel over an MPI job (the same options on every rank); null (the
    /// default) trains in this process alone. <see cref="Batch"/> stays the global batch (it must be divisible by the
    /// number of ranks); rank 0 alone writes <see cref="Out"/> and reports progress.
    /// </summary>
    public RnnFast.Distributed.DataParallel? DataParallel { get; init; }
    /// <summary>Test seam: called after each backward pass with (step, parameters), before the NaN/Inf check.</summary>
    internal Action<int, IReadOnlyList<RnnFast.Autograd.Variable>>? AfterBackward { get; init; }

    /// <summary>
    /// Checks every option. An invalid one is an <see cref="ArgumentException"/> whose message starts with the property
    /// it names, e.g. <c>TrainOptions.Layers: must be positive, got 0</c> (see <see cref="NameOf"/>).
    /// </summary>
    public void Validate()
    {
        Positive(Layers, nameof(Layers));
        Positive(Hidden, nameof(Hidden));
        Positive(Embed, nameof(Embed));
        Positive(SeqLen, nameof(SeqLen));
        Positive(Batch, nameof(Batch));
        if (!Enum.IsDefined(Mode)) Fail(nameof(Mode), $"must be an RnnMode, got {(int)Mode}");
        if (!Enum.IsDefined(Pooling)) Fail(nameof(Pooling), $"must be Last or Mean, got {(int)Pooling}");
        if (Peephole && Mode != RnnMode.Lstm) Fail(nameof(Peephole), $"peephole connections are only defined for LSTM, not {RnnDesc.TorchModeName(Mode)}");
        if (Steps is <= 0) Fail(nameof(Steps), $"must be positive, got {Steps}");
        if (Epochs is { } e && (!(e > 0) || double.IsInfinity(e))) Fail(nameof(Epochs), $"must be a positive number, got {e}");
        if (Steps != null && Epochs != null)
            throw new ArgumentException($"{NameOf(nameof(Steps))} and {NameOf(nameof(Epochs))}: give one, not both (got {Steps} and {Epochs})");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) Fail(nameof(LearningRate), $"must be a positive number, got {LearningRate}");
        if (Optimizer is not ("adam" or "sgd" or "adagrad")) Fail(nameof(Optimizer), $"must be adam, sgd or adagrad, got '{Optimizer}'");
        if (!(Momentum >= 0) || double.IsInfinity(Momentum)) Fail(nameof(Momentum), $"must be a number >= 0, got {Momentum}");
        if (!(Clip >= 0)) Fail(nameof(Clip), $"must be >= 0 (0 = off), got {Clip}");
        if (Dropout is < 0 or >= 1 || float.IsNaN(Dropout)) Fail(nameof(Dropout), $"must be in [0, 1), got {Dropout}");
        if (!float.IsFinite(ForgetBias)) Fail(nameof(ForgetBias), $"must be a finite number, got {ForgetBias}");
        if (ValFraction is <= 0 or >= 1 || double.IsNaN(ValFraction)) Fail(nameof(ValFraction), $"must be in (0, 1), got {ValFraction}");
        if (CheckpointEvery < 0) Fail(nameof(CheckpointEvery), $"must be >= 0 (0 = only at the end), got {CheckpointEvery}");
        if (EvalEvery < 0) Fail(nameof(EvalEvery), $"must be >= 0 (0 = only at the end), got {EvalEvery}");
        if (EarlyStopping is < 1) Fail(nameof(EarlyStopping), $"must be at least 1 (held-out checks without improvement), got {EarlyStopping}");
        if (EarlyStopping != null && EvalEvery == 0) Fail(nameof(EarlyStopping), $"needs periodic held-out checks: {NameOf(nameof(EvalEvery))} is 0");
        if (!Enum.IsDefined(Keep)) Fail(nameof(Keep), $"must be Last or Best, got {(int)Keep}");
        if (!Enum.IsDefined(Monitor)) Fail(nameof(Monitor), $"must be Loss or Accuracy, got {(int)Monitor}");
        LearningRateSchedule.Check(NameOf, LearningRate, LrSchedule, WarmupSteps, LrStepEvery, LrGamma, LrMin, LrPatience,
            EvalEvery == 0 ? $"{NameOf(nameof(EvalEvery))} is 0" : null);
        if (InitFrom != null && Resume != null)
            throw new ArgumentException($"{NameOf(nameof(InitFrom))} and {NameOf(nameof(Resume))}: give one, not both (resume continues a run; init-from starts a new one from a model's weights)");
        if (SampleLength < 0) Fail(nameof(SampleLength), $"must be >= 0 (0 = no samples), got {SampleLength}");
        if (MaxSeconds is { } s && (!(s > 0) || double.IsInfinity(s))) Fail(nameof(MaxSeconds), $"must be a positive number of seconds, got {s}");
        if (!Enum.IsDefined(OnNonFinite)) Fail(nameof(OnNonFinite), $"must be Stop or Skip, got {(int)OnNonFinite}");
        if (Threads is < 1) Fail(nameof(Threads), $"must be at least 1, got {Threads}");
        if (MaxConsecutiveSkips < 1) Fail(nameof(MaxConsecutiveSkips), $"must be positive, got {MaxConsecutiveSkips}");
        CheckSizes();
    }

    /// <summary>
    /// The arrays a run allocates hold at most <see cref="int.MaxValue"/> elements: every product of sizes the options
    /// fix (the batch's tokens, its embeddings, its gate pre-activations and outputs, the recurrent and input weights) is
    /// checked in long arithmetic, e.g. <c>TrainOptions.SeqLen x TrainOptions.Batch = 4294967360 elements is more than one array holds (2147483647)</c>.
    /// Products with the vocabulary are checked by the trainers with <see cref="CheckElements"/>.
    /// </summary>
    private void CheckSizes()
    {
        long gates = RnnDesc.GateCountOf(Mode), dirs = Bidirectional ? 2 : 1;
        string T = NameOf(nameof(SeqLen)), N = NameOf(nameof(Batch)), E = NameOf(nameof(Embed)), H = NameOf(nameof(Hidden));
        string G = $"{gates} gates", D = "2 directions";
        CheckElements([(T, SeqLen), (N, Batch)]);
        CheckElements([(T, SeqLen), (N, Batch), (E, Embed)]);
        CheckElements(Bidirectional ? [(T, SeqLen), (N, Batch), (H, Hidden), (D, dirs)] : [(T, SeqLen), (N, Batch), (H, Hidden)]);
        CheckElements([(T, SeqLen), (N, Batch), (H, Hidden), (G, gates)]);
        CheckElements([(H, Hidden), (H, Hidden), (G, gates)]);
        CheckElements([(E, Embed), (H, Hidden), (G, gates)]);
        if (Bidirectional) CheckElements([(H, Hidden), (D, dirs), (H, Hidden), (G, gates)]);
        // Every layer's recurrent weights together: a model past int.MaxValue weights is refused before any is allocated.
        // Hidden x Hidden x gates fits an int (checked above), so with Layers <= int.MaxValue and 2 directions the long cannot overflow.
        long weights = (long)Layers * dirs * Hidden * Hidden * gates;
        if (Layers > 0 && Hidden > 0 && weights > int.MaxValue)
            throw new ArgumentException($"{NameOf(nameof(Layers))} x {H} x {H} x {G}{(Bidirectional ? " x " + D : "")} = {weights} weights is more than one model holds ({int.MaxValue})");
    }

    /// <summary>
    /// Refuses a product of sizes past <see cref="int.MaxValue"/> elements with an <see cref="ArgumentException"/> naming
    /// each factor and the product (computed in long arithmetic, saturating), e.g.
    /// <c>TrainOptions.SeqLen x TrainOptions.Batch = 4294967360 elements is more than one array holds (2147483647)</c>.
    /// </summary>
    public static void CheckElements(IReadOnlyList<(string Name, long Value)> factors)
    {
        long product = 1;
        bool over = false;
        foreach (var (_, v) in factors)
        {
            if (v <= 0) return; // refused elsewhere as non-positive
            if (product > long.MaxValue / v) { over = true; product = long.MaxValue; break; }
            product *= v;
        }
        if (!over && product <= int.MaxValue) return;
        string names = string.Join(" x ", factors.Where(f => f.Value != 1).Select(f => f.Name)); // a factor of 1 (an unused size) changes nothing
        string value = over ? $"more than {long.MaxValue}" : product.ToString(System.Globalization.CultureInfo.InvariantCulture);
        throw new ArgumentException($"{names} = {value} elements is more than one array holds ({int.MaxValue})");
    }

    /// <summary>How messages name an option: <c>TrainOptions.</c> and the property, e.g. <c>TrainOptions.SeqLen</c>.</summary>
    public static string NameOf(string property) => nameof(TrainOptions) + "." + property;

    private static void Positive(int v, string property)
    {
        if (v <= 0) Fail(property, $"must be positive, got {v}");
    }

    private static void Fail(string property, string problem) => throw new ArgumentException($"{NameOf(property)}: {problem}");
}
