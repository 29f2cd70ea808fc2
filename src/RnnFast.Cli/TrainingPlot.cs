// `train --plot FILE.svg` and `classify --plot FILE.svg`: the training loss of every step and the held-out loss
// (validation for train, the held-out examples for classify) as an SVG line chart, one path per series, drawn by the
// demo's chart writer (RnnFast.Charts.LineChart) from the trainer's TrainResult; the base learning rate, optimizer and
// schedule are in the title, and a rate that changes over the run (--lr-schedule, --warmup-steps) is drawn as a third
// series scaled onto the loss axis (its top at the highest loss; the factor is in its name). Written atomically (a temporary file, then a rename), also when the run
// was interrupted (the curves so far).
using System.Globalization;
using RnnFast.Charts;
using RnnFast.Training;

namespace RnnFast.Cli;

internal static class TrainingPlot
{
    /// <summary>Refuses a --plot that is not an .svg file or is the same file as another input or output, before any training.</summary>
    public static void Check(string? plot, params (string Flag, string? Path)[] others)
    {
        if (plot == null) return;
        if (plot.Length == 0 || !plot.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--plot: must name an .svg file, got '{plot}'");
        if (Directory.Exists(plot)) throw new ArgumentException($"--plot: {plot} is a directory");
        foreach (var (flag, path) in others)
            InputFiles.RequireDistinct("--plot", plot, flag, path);
    }

    /// <summary>The chart of <paramref name="run"/>: training loss per step and the held-out loss at the steps it was measured.</summary>
    public static LineChart Build(TrainResult run, string what, double learningRate, string optimizer, string unit, LrScheduleKind schedule = LrScheduleKind.Constant)
    {
        var inv = CultureInfo.InvariantCulture;
        string scheduleName = schedule == LrScheduleKind.Constant ? "" : ", " + LearningRateSchedule.Name(schedule);
        var chart = new LineChart
        {
            Title = $"{what} on {run.BackendName}: lr {learningRate.ToString("G4", inv)} ({optimizer}{scheduleName}), {run.Steps} steps",
            XLabel = "step", YLabel = $"loss ({unit})", Markers = run.ValHistory.Count < 3,
        };
        chart.Series.Add(new ChartSeries("training loss", run.TrainLoss.Select((v, i) => ((double)i + 1, (double)v)).ToArray()));
        chart.Series.Add(new ChartSeries("held-out loss", run.ValHistory.Select(v => ((double)v.Step, v.Loss)).ToArray()));
        var rates = run.LearningRates.Where(float.IsFinite).ToArray();
        if (rates.Length > 1 && rates.Max() > rates.Min())
        {
            // One axis: the rate scaled so its highest value sits at the highest loss drawn.
            double top = run.TrainLoss.Concat(run.ValHistory.Select(v => (float)v.Loss)).Where(float.IsFinite).DefaultIfEmpty(1f).Max();
            double scale = top / rates.Max();
            chart.Series.Add(new ChartSeries($"learning rate (x {scale.ToString("G3", inv)})",
                run.LearningRates.Select((v, i) => ((double)i + 1, v * scale)).ToArray()));
        }
        return chart;
    }

    /// <summary>Writes the chart of <paramref name="run"/> to <paramref name="path"/> (atomically) and says so on <paramref name="o"/>.</summary>
    public static void Save(string? path, TrainResult run, string what, double learningRate, string optimizer, string unit, TextWriter o,
        LrScheduleKind schedule = LrScheduleKind.Constant)
    {
        if (path == null) return;
        Build(run, what, learningRate, optimizer, unit, schedule).Save(path);
        o.WriteLine($"loss curves written to {path}");
    }
}
