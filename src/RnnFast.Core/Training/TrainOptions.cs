// The recipe of a character-model training run (defaults: char-rnn's 2-layer 128-unit LSTM, Adam 2e-3, clip 5).
namespace RnnFast.Training;

/// <summary>Hyperparameters and bookkeeping for <see cref="CharLmTrainer"/> and <see cref="ClassifierTrainer"/>.</summary>
public sealed record TrainOptions
{
    public RnnMode Mode { get; init; } = RnnMode.Lstm;
    public int Layers { get; init; } = 2;
    public int Hidden { get; init; } = 128;
    public int Embed { get; init; } = 64;
    public bool Bidirectional { get; init; }
    public int SeqLen { get; init; } = 64;
    public int Batch { get; init; } = 32;
    /// <summary>Total optimizer steps (including those before a resume). Null: derived from <see cref="Epochs"/>.</summary>
    public int? Steps { get; init; }
    /// <summary>Passes over the training text (each step sees SeqLen*Batch characters).</summary>
    public double? Epochs { get; init; }
    public double LearningRate { get; init; } = 2e-3;
    public string Optimizer { get; init; } = "adam";
    public double Momentum { get; init; }
    /// <summary>Global L2 gradient-norm clip (0 = off).</summary>
    public double Clip { get; init; } = 5;
    public float Dropout { get; init; }
    /// <summary>LSTM only: initial value of the forget gate's input bias (b_ih[H..2H)); 1 helps long-range memory. 0 = PyTorch's init.</summary>
    public float ForgetBias { get; init; }
    public double ValFraction { get; init; } = 0.05;
    public int Seed { get; init; } = 1;
    public string Backend { get; init; } = "auto";
    /// <summary>Checkpoint path (written atomically); null = none.</summary>
    public string? Out { get; init; }
    public string? Resume { get; init; }
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Validation loss (and a sample) every this many steps (0 = only at the end).</summary>
    public int EvalEvery { get; init; } = 100;
    public int SampleLength { get; init; } = 120;
    /// <summary>Stop after this much wall time (the step count is then an upper bound). Null = no limit.</summary>
    public double? MaxSeconds { get; init; }
    /// <summary>A step whose loss or gradients are NaN or infinite: stop (default) or skip it.</summary>
    public NonFinitePolicy OnNonFinite { get; init; } = NonFinitePolicy.Stop;
    /// <summary>With <see cref="NonFinitePolicy.Skip"/>: stop after this many skipped steps in a row.</summary>
    public int MaxConsecutiveSkips { get; init; } = 10;
    /// <summary>Test seam: called after each backward pass with (step, parameters), before the NaN/Inf check.</summary>
    internal Action<int, IReadOnlyList<RnnFast.Autograd.Variable>>? AfterBackward { get; init; }

    /// <summary>Checks every option; the message names it as the command line does.</summary>
    public void Validate()
    {
        Positive(Layers, "--layers");
        Positive(Hidden, "--hidden");
        Positive(Embed, "--embed");
        Positive(SeqLen, "--seq-len");
        Positive(Batch, "--batch");
        if (Steps is <= 0) throw new ArgumentException($"--steps: must be positive, got {Steps}");
        if (Epochs is { } e && !(e > 0)) throw new ArgumentException($"--epochs: must be positive, got {e}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"--lr: must be a positive number, got {LearningRate}");
        if (Optimizer is not ("adam" or "sgd" or "adagrad")) throw new ArgumentException($"--optimizer: must be adam, sgd or adagrad, got '{Optimizer}'");
        if (Clip < 0 || double.IsNaN(Clip)) throw new ArgumentException($"--clip: must be >= 0 (0 = off), got {Clip}");
        if (Dropout is < 0 or >= 1 || float.IsNaN(Dropout)) throw new ArgumentException($"--dropout: must be in [0, 1), got {Dropout}");
        if (ValFraction is <= 0 or >= 1 || double.IsNaN(ValFraction)) throw new ArgumentException($"--val-fraction: must be in (0, 1), got {ValFraction}");
        if (CheckpointEvery < 0) throw new ArgumentException($"--checkpoint-every: must be >= 0, got {CheckpointEvery}");
        if (EvalEvery < 0) throw new ArgumentException($"--eval-every: must be >= 0, got {EvalEvery}");
        if (MaxSeconds is { } s && !(s > 0)) throw new ArgumentException($"--max-seconds: must be positive, got {s}");
        if (!Enum.IsDefined(OnNonFinite)) throw new ArgumentException($"--on-nonfinite: must be stop or skip, got {(int)OnNonFinite}");
        if (MaxConsecutiveSkips < 1) throw new ArgumentException($"--max-skips: must be positive, got {MaxConsecutiveSkips}");
    }

    private static void Positive(int v, string name)
    {
        if (v <= 0) throw new ArgumentException($"{name}: must be positive, got {v}");
    }
}
