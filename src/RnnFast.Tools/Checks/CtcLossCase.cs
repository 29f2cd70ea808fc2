// A `kind = ctc_loss` reference case (torch.nn.functional.ctc_loss in float64): log_probs (T,N,C), padded targets
// (N,S), input and target lengths, blank, reduction, zero_infinity. Run() computes the loss with Tape.CtcLoss on the
// host (the backend plays no part), backpropagates sum(loss * grad_loss) and compares the loss and grad_log_probs.
// Infinite and NaN reference values must be matched in kind (TensorComparison treats equal non-finite values as equal).
using RnnFast.Autograd;
using RnnFast.Backends;

namespace RnnFast.Checks;

/// <summary>A `kind = ctc_loss` reference case: PyTorch's CTC loss and its gradient with respect to the log-probabilities.</summary>
public sealed class CtcLossCase
{
    private CtcLossCase()
    {
    }

    /// <summary>(T,N,C) log-probabilities.</summary>
    public required Tensor LogProbs { get; init; }
    /// <summary>(N,S) padded targets, row-major.</summary>
    public required int[] Targets { get; init; }
    /// <summary>(N) valid steps of each sequence.</summary>
    public required int[] InputLengths { get; init; }
    /// <summary>(N) labels of each sequence's target.</summary>
    public required int[] TargetLengths { get; init; }
    /// <summary>The blank class.</summary>
    public required int Blank { get; init; }
    /// <summary>PyTorch's reduction.</summary>
    public required CtcReduction Reduction { get; init; }
    /// <summary>PyTorch's zero_infinity.</summary>
    public required bool ZeroInfinity { get; init; }
    /// <summary>The upstream gradient: (1) for mean/sum, (N) for none.</summary>
    public required Tensor GradLoss { get; init; }
    /// <summary>PyTorch's loss: (1) for mean/sum, (N) for none.</summary>
    public required Tensor ExpectedLoss { get; init; }
    /// <summary>PyTorch's d(sum(loss * grad_loss))/d(log_probs), (T,N,C).</summary>
    public required Tensor ExpectedGrad { get; init; }

    internal static CtcLossCase Load(CaseFile f)
    {
        var lp = f.Tensor("log_probs");
        if (lp.Rank != 3 || lp.Length == 0)
            throw f.Error($"tensor 'log_probs' has shape {Tensor.FormatShape(lp.Shape)}, expected a non-empty (T,N,C)");
        int T = lp.Shape[0], N = lp.Shape[1], C = lp.Shape[2];
        if (!f.File.Contains("targets")) throw f.Error("tensor 'targets' is missing");
        var targetShape = f.File.GetInfo("targets").Shape;
        if (targetShape.Length != 2 || targetShape[0] != N)
            throw f.Error($"tensor 'targets' has shape {Tensor.FormatShape(targetShape)}, expected (N={N}, S)");
        int S = targetShape[1];
        int blank = f.MetaInt("blank");
        if (blank < 0 || blank >= C) throw f.Error($"__metadata__ 'blank' = {blank} is not a class in 0..{C - 1}");
        var reduction = f.Meta("reduction") switch
        {
            "mean" => CtcReduction.Mean,
            "sum" => CtcReduction.Sum,
            "none" => CtcReduction.None,
            var r => throw f.Error($"__metadata__ 'reduction' = '{r}' is not mean, sum or none"),
        };
        int lossLength = reduction == CtcReduction.None ? N : 1;
        return new CtcLossCase
        {
            LogProbs = lp,
            Targets = f.Ints("targets", [N, S], int.MinValue, int.MaxValue),   // labels checked by CtcLoss; padding is free
            InputLengths = f.Ints("input_lengths", [N], 0, T),
            TargetLengths = f.Ints("target_lengths", [N], 0, S),
            Blank = blank,
            Reduction = reduction,
            ZeroInfinity = f.MetaBool("zero_infinity", false),
            GradLoss = f.Tensor("grad_loss", lossLength),
            ExpectedLoss = f.Tensor("loss", lossLength),
            ExpectedGrad = f.Tensor("grad_log_probs", T, N, C),
        };
    }

    /// <summary>Computes the loss and its gradient on the tape (on the host: <paramref name="backend"/> is only reported) and compares both.</summary>
    public IReadOnlyList<TensorCheck> Run(Backend? backend = null)
    {
        _ = backend;
        var (loss, grad) = Compute();
        return
        [
            TensorComparison.Compare("loss", loss, ExpectedLoss),
            TensorComparison.Compare("grad_log_probs", grad, ExpectedGrad),
        ];
    }

    /// <summary>The loss and d(sum(loss * grad_loss))/d(log_probs) as Tape.CtcLoss computes them.</summary>
    public (Tensor Loss, Tensor Grad) Compute()
    {
        var lp = Variable.Parameter(LogProbs.Clone(), "log_probs");
        var tape = new Tape();
        var loss = tape.CtcLoss(lp, Targets, InputLengths, TargetLengths, Blank, Reduction, ZeroInfinity);
        tape.Backward(tape.Sum(tape.Mul(loss, Variable.Constant(GradLoss))));
        return (loss.Value, lp.Grad!);
    }
}
