// A `kind = train_char_lstm` reference case: Embedding(V,E) -> LSTM(E,H,L) -> Linear(H,V), mean cross-entropy over
// all T*N targets, global-norm clipping, then the optimizer, for a number of steps. Run() replays PyTorch's batches
// through our tape and optimizer and compares the loss and pre-clip gradient norm of every step and the final weights.
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Optim;

namespace RnnFast.Checks;

/// <summary>A `kind = train_char_lstm` reference case: replays PyTorch training steps and compares losses and final weights.</summary>
public sealed class TrainCharLstmCase
{
    private readonly CaseFile _file;

    private TrainCharLstmCase(CaseFile file) => _file = file;

    /// <summary>The LSTM stack PyTorch trained.</summary>
    public required RnnDesc Desc { get; init; }
    /// <summary>V: the vocabulary size.</summary>
    public required int Vocab { get; init; }
    /// <summary>The number of training steps replayed.</summary>
    public required int Steps { get; init; }
    /// <summary>T: characters per sequence.</summary>
    public required int SeqLen { get; init; }
    /// <summary>N: sequences per step.</summary>
    public required int Batch { get; init; }
    /// <summary>The optimizer PyTorch used ("adam", "sgd", ...).</summary>
    public required string OptimizerName { get; init; }
    /// <summary>The gradient-norm clip, or null when off.</summary>
    public required double? ClipNorm { get; init; }
    /// <summary>The initial (V,E) embedding table.</summary>
    public required Tensor Embedding { get; init; }
    /// <summary>The initial LSTM weights.</summary>
    public required RnnParameters Lstm { get; init; }
    /// <summary>The initial (V, D*H) head weight.</summary>
    public required Tensor HeadWeight { get; init; }
    /// <summary>The initial (V) head bias.</summary>
    public required Tensor HeadBias { get; init; }
    /// <summary>(steps, T, N) token ids and targets.</summary>
    public required int[] Tokens { get; init; }
    /// <summary>(steps, T, N) target ids.</summary>
    public required int[] Targets { get; init; }
    /// <summary>PyTorch's loss at each step.</summary>
    public required Tensor ExpectedLoss { get; init; }
    /// <summary>PyTorch's gradient norm at each step, when recorded.</summary>
    public Tensor? ExpectedGradNorm { get; init; }
    /// <summary>PyTorch's weights after the last step, by parameter name.</summary>
    public required Dictionary<string, Tensor> ExpectedFinal { get; init; }

    internal static TrainCharLstmCase Load(CaseFile f)
    {
        int V = f.MetaInt("vocab_size"), E = f.MetaInt("embed_size"), H = f.MetaInt("hidden_size");
        int L = f.MetaInt("num_layers", 1), N = f.MetaInt("batch"), T = f.MetaInt("seq_len"), S = f.MetaInt("steps");
        if (V <= 0 || E <= 0 || N <= 0 || T <= 0 || S <= 0)
            throw f.Error($"__metadata__ sizes must be positive (vocab_size={V}, embed_size={E}, batch={N}, seq_len={T}, steps={S})");
        if ((long)S * T * N > 100_000_000) throw f.Error($"steps*seq_len*batch = {(long)S * T * N} is too large");
        RnnDesc desc;
        try
        {
            var mode = f.MetaOrNull("mode") is { } m ? RnnDesc.ParseMode(m) : RnnMode.Lstm;
            desc = new RnnDesc(mode, E, H, L);
        }
        catch (ArgumentException e)
        {
            throw f.Error($"__metadata__ describes no valid RNN: {e.Message}", e);
        }
        string optimizer = f.MetaOrNull("optimizer") ?? "adam";
        if (optimizer is not ("adam" or "sgd" or "adagrad")) throw f.Error($"optimizer '{optimizer}' is not one of adam, sgd, adagrad");
        double? clip = f.MetaOrNull("clip_global_norm") is null ? null : f.MetaDouble("clip_global_norm");

        var final = new Dictionary<string, Tensor>();
        void Final(string name, int[] shape)
        {
            var t = f.TensorOrNull("final." + name, shape);
            if (t != null) final[name] = t;
        }
        var lstm = RnnParameters.FromNamed(desc, name => f.Has(name) ? f.Tensor(name) : null, "lstm.", f.Name);
        Final("embedding.weight", [V, E]);
        foreach (var id in lstm.Ids) Final("lstm." + id.TorchName, RnnParameters.ShapeOf(desc, id));
        Final("head.weight", [V, H]);
        Final("head.bias", [V]);

        return new TrainCharLstmCase(f)
        {
            Desc = desc, Vocab = V, Steps = S, SeqLen = T, Batch = N, OptimizerName = optimizer, ClipNorm = clip,
            Embedding = f.Tensor("embedding.weight", V, E),
            Lstm = lstm,
            HeadWeight = f.Tensor("head.weight", V, desc.OutputHiddenSize),
            HeadBias = f.Tensor("head.bias", V),
            Tokens = f.Ints("tokens", [S, T, N], 0, V - 1),
            Targets = f.Ints("targets", [S, T, N], 0, V - 1),
            ExpectedLoss = f.Tensor("loss", S),
            ExpectedGradNorm = f.TensorOrNull("grad_norm_before_clip", S),
            ExpectedFinal = final,
        };
    }

    private Optimizer MakeOptimizer(IReadOnlyList<Variable> parameters)
    {
        var f = _file;
        double lr = f.MetaDouble("lr");
        double wd = f.MetaDouble("weight_decay", 0);
        return OptimizerName switch
        {
            "sgd" => new Sgd(parameters, lr, f.MetaDouble("momentum", 0), wd),
            "adagrad" => new Adagrad(parameters, lr, weightDecay: wd),
            _ => new Adam(parameters, lr, f.MetaDouble("beta1", 0.9), f.MetaDouble("beta2", 0.999), f.MetaDouble("eps", 1e-8), wd),
        };
    }

    /// <summary>Trains from the file's initial weights on its batches with <paramref name="backend"/> running the LSTM.</summary>
    public IReadOnlyList<TensorCheck> Run(Backend backend)
    {
        int S = Steps, T = SeqLen, N = Batch;
        var emb = Variable.Parameter(Embedding.Clone(), "embedding.weight");
        var lstmParams = RnnParameters.FromTensors(Desc, Lstm.Tensors.Select(t => t.Clone()).ToArray());
        var lstmVars = lstmParams.Ids.Select((id, i) => Variable.Parameter(lstmParams.Tensors[i], "lstm." + id.TorchName)).ToArray();
        var headW = Variable.Parameter(HeadWeight.Clone(), "head.weight");
        var headB = Variable.Parameter(HeadBias.Clone(), "head.bias");
        var all = new List<Variable> { emb };
        all.AddRange(lstmVars);
        all.Add(headW);
        all.Add(headB);
        var optimizer = MakeOptimizer(all);
        using var plan = backend.CreateRnnPlan(lstmParams);

        var losses = new float[S];
        var norms = new float[S];
        for (int s = 0; s < S; s++)
        {
            using var tape = new Tape(); // disposed at the end of the step: the RNN workspaces go back to their plans
            var ids = Tokens.AsSpan(s * T * N, T * N).ToArray();
            var targets = Targets.AsSpan(s * T * N, T * N).ToArray();
            var x = tape.Embedding(emb, ids, [T, N]);                        // (T,N,E)
            var rnn = tape.Rnn(plan, x, null, null, null, lstmVars);          // (T,N,H)
            var logits = tape.Linear(rnn.Output, headW, headB);               // (T,N,V)
            var loss = tape.CrossEntropy(tape.Reshape(logits, T * N, Vocab), targets);
            optimizer.ZeroGrad();
            tape.Backward(loss);
            losses[s] = loss.Value.Span[0];
            norms[s] = ClipNorm is { } max
                ? (float)GradClip.ClipGradNorm(all, max)
                : (float)GradClip.ClipGradNorm(all, double.PositiveInfinity);
            optimizer.Step();
        }

        var checks = new List<TensorCheck>
        {
            // The goldens promise the loss to about 1e-4 relative at every step.
            TensorComparison.Compare("loss", losses, ExpectedLoss.Span, atol: 1e-5, rtol: 1e-4),
        };
        if (ExpectedGradNorm != null) checks.Add(TensorComparison.Compare("grad_norm_before_clip", norms, ExpectedGradNorm.Span));
        foreach (var v in all)
            if (v.Name != null && ExpectedFinal.TryGetValue(v.Name, out var want))
                checks.Add(TensorComparison.Compare("final." + v.Name, v.Value, want));
        return checks;
    }
}
