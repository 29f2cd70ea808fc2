// A line a command wants printed before training (classify's "no --data: a generated task ..."), held back until the
// trainer reports its first event: options the trainer refuses then leave stdout empty, with the one error line on stderr.
using RnnFast.Training;

namespace RnnFast.Cli;

internal sealed class PendingLineObserver(ITrainObserver inner, TextWriter output, string? line) : ITrainObserver
{
    private string? _pending = line;

    /// <summary>Prints the held line now, if it has not been printed.</summary>
    public void Flush()
    {
        if (_pending == null) return;
        output.WriteLine(_pending);
        _pending = null;
    }

    public void OnStep(StepReport report)
    {
        Flush();
        inner.OnStep(report);
    }

    public void OnEval(EvalReport report)
    {
        Flush();
        inner.OnEval(report);
    }

    public void OnCheckpoint(string path, int step)
    {
        Flush();
        inner.OnCheckpoint(path, step);
    }

    public void OnMessage(string message)
    {
        Flush();
        inner.OnMessage(message);
    }
}
