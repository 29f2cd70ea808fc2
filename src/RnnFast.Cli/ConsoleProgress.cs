// Training progress on the terminal: a live bar (step, train loss, tokens/s, ETA) redrawn in place when stdout is a
// terminal, and plain periodic lines when it is redirected (CI logs); validation results and samples between.
using System.Text;
using RnnFast.Training;

namespace RnnFast.Cli;

internal sealed class ConsoleProgress(TextWriter output, bool interactive) : ITrainObserver
{
    private DateTime _lastDraw = DateTime.MinValue;
    private int _lastLoggedPercent = -1;
    private bool _barVisible;

    public static ConsoleProgress ForConsole() => new(Console.Out, !Console.IsOutputRedirected);

    /// <summary>The command's flags for the library's option names in messages (e.g. what a resumed run applied); null: as written.</summary>
    public OptionNames? Names { get; set; }

    public void OnStep(StepReport r)
    {
        string lr = r.LearningRate is { } rate ? $"  lr {rate.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)}" : "";
        string line = $"step {r.Step}/{r.TotalSteps}  loss {r.TrainLoss:F4}{lr}  {FormatRate(r.TokensPerSecond)} tok/s  " +
                      $"elapsed {Format(r.Elapsed)}  ETA {(r.Remaining is { } e ? Format(e) : "?")}";
        if (interactive)
        {
            if ((DateTime.UtcNow - _lastDraw).TotalMilliseconds < 100 && r.Step < r.TotalSteps) return;
            _lastDraw = DateTime.UtcNow;
            output.Write("\r" + Bar(r.Step, r.TotalSteps, 30) + " " + line + "\u001b[K");
            output.Flush();
            _barVisible = true;
        }
        else
        {
            int pct = (int)(100L * r.Step / Math.Max(1, r.TotalSteps));
            if (pct / 10 == _lastLoggedPercent / 10 && r.Step != 1) return;
            _lastLoggedPercent = pct;
            output.WriteLine(line);
        }
    }

    public void OnEval(EvalReport r)
    {
        ClearBar();
        string acc = r.Accuracy is { } a ? $"  accuracy {a:P1}" : $" ({r.ValLoss / Math.Log(2):F3} bits/char)";
        output.WriteLine($"[step {r.Step}] val_loss {r.ValLoss:F4}{acc}");
        if (!string.IsNullOrEmpty(r.Sample))
            output.WriteLine("  sample: " + r.Sample.Replace("\n", "\n          "));
    }

    public void OnCheckpoint(string path, int step)
    {
        if (!interactive) return;
        ClearBar();
        output.WriteLine($"[step {step}] checkpoint written to {path}");
    }

    public void OnMessage(string message)
    {
        ClearBar();
        output.WriteLine(Names?.Text(message) ?? message);
    }

    public void ClearBar()
    {
        if (!_barVisible) return;
        output.Write("\r\u001b[K");
        _barVisible = false;
    }

    private static string Bar(int done, int total, int width)
    {
        int filled = (int)((long)width * done / Math.Max(1, total));
        var sb = new StringBuilder("[");
        sb.Append('#', filled).Append('.', width - filled).Append(']');
        return sb.ToString();
    }

    private static string FormatRate(double v) => v >= 1e6 ? $"{v / 1e6:F2}M" : v >= 1e3 ? $"{v / 1e3:F1}k" : $"{v:F0}";

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"m\:ss");
}
