// What training does when a step's loss or gradients are NaN or infinite (a bad batch, an overflow): stop with a clear
// message (the default), or skip the step (no update) and go on, stopping after too many skipped steps in a row. An
// update that itself makes a weight non-finite always stops training: it cannot be undone, and the last checkpoint on
// disk (written before it) is kept. Nothing non-finite is ever written to a checkpoint (Checkpoint.Save refuses too).
using RnnFast.Autograd;

namespace RnnFast.Training;

/// <summary>What training does with a step whose loss or gradients are NaN or infinite.</summary>
public enum NonFinitePolicy
{
    /// <summary>Stop training with a <see cref="TrainingDivergedException"/>; the last checkpoint is kept.</summary>
    Stop,

    /// <summary>Skip the step (no update) and go on; stop after <see cref="TrainOptions.MaxConsecutiveSkips"/> in a row.</summary>
    Skip,
}

/// <summary>Parses the names of <see cref="NonFinitePolicy"/> values ("stop", "skip").</summary>
public static class NonFinitePolicyNames
{
    /// <summary>"stop" or "skip" (any case); anything else is an ArgumentException naming <paramref name="text"/>.</summary>
    public static NonFinitePolicy Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "stop" => NonFinitePolicy.Stop,
        "skip" => NonFinitePolicy.Skip,
        _ => throw new ArgumentException($"text: must be stop or skip, got '{text}'", nameof(text)),
    };
}

/// <summary>Counts skipped steps and decides, per step, whether the update may go ahead.</summary>
internal sealed class NonFiniteGuard(NonFinitePolicy policy, int maxConsecutiveSkips)
{
    /// <summary>Steps skipped so far in this run.</summary>
    public int Skipped { get; private set; }

    /// <summary>Steps skipped since the last good one.</summary>
    public int InARow { get; private set; }

    /// <summary>
    /// True when the step may update the weights. A non-finite loss or gradient norm throws under
    /// <see cref="NonFinitePolicy.Stop"/>, and returns false (skip) under <see cref="NonFinitePolicy.Skip"/> until
    /// <c>maxConsecutiveSkips</c> steps in a row were skipped, which throws.
    /// </summary>
    public bool Admit(float loss, double gradNorm, int step)
    {
        if (float.IsFinite(loss) && double.IsFinite(gradNorm))
        {
            InARow = 0;
            return true;
        }
        string what = !float.IsFinite(loss) ? $"loss is {loss}" : $"gradient norm is {gradNorm}";
        if (policy == NonFinitePolicy.Stop)
            throw new TrainingDivergedException($"step {step}: {what}; training stopped, the last checkpoint is kept (try a lower {TrainOptions.NameOf(nameof(TrainOptions.LearningRate))} or {TrainOptions.NameOf(nameof(TrainOptions.Clip))}, or skip such steps: {TrainOptions.NameOf(nameof(TrainOptions.OnNonFinite))})");
        Skipped++;
        InARow++;
        if (InARow >= maxConsecutiveSkips)
            throw new TrainingDivergedException($"step {step}: {what}; {InARow} steps in a row were not finite and were skipped ({TrainOptions.NameOf(nameof(TrainOptions.MaxConsecutiveSkips))} is {maxConsecutiveSkips}); training stopped, the last checkpoint is kept");
        return false;
    }

    /// <summary>After an update: every weight must still be finite, else training stops (the update cannot be undone).</summary>
    public static void EnsureFiniteWeights(IReadOnlyList<Variable> parameters, IReadOnlyList<string>? names, int step)
    {
        for (int i = 0; i < parameters.Count; i++)
        {
            var t = parameters[i].Value;
            var data = t.IsHost ? t.Span : t.ToArray();
            for (int j = 0; j < data.Length; j++)
            {
                if (float.IsFinite(data[j])) continue;
                string name = names != null && i < names.Count ? names[i] : $"parameter {i}";
                throw new TrainingDivergedException(
                    $"step {step}: the update made '{name}' non-finite ({data[j]} at element {j}); training stopped, the last checkpoint is kept (try a lower {TrainOptions.NameOf(nameof(TrainOptions.LearningRate))})");
            }
        }
    }
}
