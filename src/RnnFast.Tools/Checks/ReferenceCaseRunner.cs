// Runs any reference file (`kind = rnn_layer`, `kind = train_char_lstm` or `kind = ctc_loss`) on a backend and reports per tensor.
using RnnFast.Backends;
using RnnFast.IO;

namespace RnnFast.Checks;

/// <summary>The result of one reference file: every tensor compared, and whether all passed.</summary>
public sealed record CaseReport(string File, string Kind, string Backend, IReadOnlyList<TensorCheck> Checks)
{
    /// <summary>The number of checks that passed.</summary>
    public int PassedCount => Checks.Count(c => c.Passed);
    /// <summary>True when there was at least one check and all passed.</summary>
    public bool Passed => Checks.Count > 0 && Checks.All(c => c.Passed);
}

/// <summary>Runs PyTorch reference files (rnn_layer, train_char_lstm and ctc_loss kinds) on a backend and compares every tensor.</summary>
public static class ReferenceCaseRunner
{
    /// <summary>
    /// Loads <paramref name="path"/> and runs it on <paramref name="backend"/>. An unusable file throws
    /// <see cref="RnnFormatException"/> or <see cref="SafeTensorsFormatException"/>, naming the file and the problem.
    /// </summary>
    public static CaseReport Run(string path, Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        using var file = SafeTensorsFile.Open(path);
        var f = new CaseFile(file);
        string kind = f.Meta("kind");
        IReadOnlyList<TensorCheck> checks = kind switch
        {
            "rnn_layer" => RnnLayerCase.Load(f).Run(backend),
            "train_char_lstm" => TrainCharLstmCase.Load(f).Run(backend),
            "ctc_loss" => CtcLossCase.Load(f).Run(backend),
            _ => throw f.Error($"unknown kind '{kind}' (expected rnn_layer, train_char_lstm or ctc_loss)"),
        };
        return new CaseReport(f.Name, kind, backend.Name, checks);
    }

    /// <summary>Loads an rnn_layer case (for tests and tools that run it their own way).</summary>
    public static RnnLayerCase LoadRnnLayer(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        var f = new CaseFile(file);
        if (f.Meta("kind") != "rnn_layer") throw f.Error($"kind is '{f.Meta("kind")}', expected rnn_layer");
        return RnnLayerCase.Load(f);
    }

    /// <summary>Loads a ctc_loss case (for tests that run it their own way).</summary>
    public static CtcLossCase LoadCtcLoss(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        var f = new CaseFile(file);
        if (f.Meta("kind") != "ctc_loss") throw f.Error($"kind is '{f.Meta("kind")}', expected ctc_loss");
        return CtcLossCase.Load(f);
    }

    /// <summary>The kind a reference file declares in its metadata (e.g. rnn_layer, ctc_loss).</summary>
    public static string KindOf(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return new CaseFile(file).Meta("kind");
    }
}
