// Forecasting real-valued series end to end: a forecaster trained with the PyTorch recipe beats persistence on a real
// series (Mauna Loa CO2, data/series), its feature-vector Step equals Forward on every backend and allocates nothing
// on cpu, the saved model reproduces the trained one's forecasts, and the CLI's `train --task forecast` prints
// `val_rmse= naive_rmse=` or one clear error with exit code 2.
using RnnFast.Cli;
using RnnFast.Datasets;
using RnnFast.Models;
using RnnFast.Training;
using Xunit;

namespace RnnFast.Tests;

public sealed class ForecastTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Series(string name) => Path.Combine(TestPaths.RepoRoot, "data", "series", name);

    private static ForecastOptions Recipe(string? outPath = null, int steps = 300, string backend = "cpu") => new()
    {
        Target = "value", Difference = true, SeqLen = 32, Hidden = 32, Layers = 1, Batch = 32, Steps = steps, LearningRate = 0.01,
        ValFraction = 0.2, Seed = 1, Backend = backend, Out = outPath,
    };

    [Fact]
    public void A_differenced_forecaster_beats_persistence_on_the_CO2_series_and_its_saved_model_forecasts_the_same()
    {
        var series = CsvSeries.Read(Series("co2.csv"), ["value"]);
        string path = Path.Combine(_dir, "co2.safetensors");
        var r = new ForecastTrainer().Train(series, "co2.csv", Recipe(path));
        Assert.Equal(300, r.Steps);
        Assert.Equal(94, r.Errors.Count);
        Assert.Equal(1.3259, r.Errors.NaiveRmse, 3);           // persistence on the last 20%, as PyTorch's recipe computes it
        Assert.True(r.Errors.Ratio < 0.5, $"val_rmse/naive_rmse = {r.Errors.Ratio:F3} (PyTorch's recipe: 0.25)");
        Assert.True(r.TrainLoss.TakeLast(20).Average() < r.TrainLoss.Take(20).Average());

        using var model = RnnModel.Load(path, "cpu");
        Assert.Equal(NetworkKind.Forecaster, model.Kind);
        Assert.True(model.Config.Scaling!.Differenced);
        var levels = series.Column("value");
        var forecasts = new SeriesForecaster(model).Forecast([levels], levels);
        var errors = SeriesForecaster.Errors(forecasts, levels, r.TrainLength, 1);
        Assert.Equal(r.Errors.Rmse, errors.Rmse, 6);
    }

    [BackendTheory]
    [MemberData(nameof(BackendData.Backends), MemberType = typeof(BackendData))]
    public void Feature_steps_equal_batch_forward(string backend)
    {
        var series = CsvSeries.Read(Series("nottem.csv"), ["value"]);
        string path = Path.Combine(_dir, $"nottem-{backend.Replace(':', '-')}.safetensors");
        new ForecastTrainer().Train(series, "nottem.csv", Recipe(path, steps: 3) with { Difference = false, Layers = 2, Hidden = 16 });
        using var model = RnnModel.Load(path, backend);
        var levels = series.Column("value");
        int T = 40;
        var x = levels.Take(T).Select(v => (float)v).ToArray();
        var batch = model.Forward(Tensor.FromArray(x, T, 1, 1)).ToArray();    // (T,1,1)
        using var state = model.NewState();
        var y = new float[1];
        var (atol, rtol) = model.Backend.CheckTolerance;
        for (int t = 0; t < T; t++)
        {
            model.Step(state, x.AsSpan(t, 1), y);
            Assert.True(Math.Abs(y[0] - batch[t]) <= atol + rtol * Math.Abs(batch[t]) + 1e-3 * Math.Abs(batch[t]), $"step {t}: {y[0]} vs {batch[t]}");
        }
        // many streams at once equal each alone
        var states = Enumerable.Range(0, 3).Select(_ => model.NewState()).ToArray();
        var alone = Enumerable.Range(0, 3).Select(_ => model.NewState()).ToArray();
        var ys = new float[3];
        for (int t = 0; t < 5; t++)
        {
            var xs = new[] { x[t], x[t + 10], x[t + 20] };
            model.StepMany(states, xs, ys);
            for (int n = 0; n < 3; n++)
            {
                model.Step(alone[n], xs.AsSpan(n, 1), y);
                Assert.True(Math.Abs(ys[n] - y[0]) <= atol + rtol * Math.Abs(y[0]), $"stream {n} step {t}: {ys[n]} vs {y[0]}");
            }
        }
    }

    [Fact]
    public void A_feature_step_allocates_nothing_on_cpu()
    {
        var series = CsvSeries.Read(Series("nottem.csv"), ["value"]);
        string path = Path.Combine(_dir, "alloc.safetensors");
        new ForecastTrainer().Train(series, "nottem.csv", Recipe(path, steps: 2) with { Layers = 2 });
        using var model = RnnModel.Load(path, "cpu");
        using var state = model.NewState();
        var x = new float[1];
        var y = new float[1];
        for (int i = 0; i < 50; i++) { x[0] = i; model.Step(state, x, y); }
        long lastWindow = -1;
        for (int window = 0; window < 3 && lastWindow != 0; window++) // the first window may see the runtime's own tiering allocations
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++) { x[0] = i; model.Step(state, x, y); }
            lastWindow = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(0, lastWindow);
    }

    [Fact]
    public void The_cli_trains_a_forecaster_and_ends_with_val_rmse_and_naive_rmse()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["train", "--task", "forecast", "--data", Series("nottem.csv"), "--target", "value", "--steps", "20",
            "--out", Path.Combine(_dir, "cli.safetensors")], o, e);
        Assert.True(code == 0, e.ToString());
        var last = o.ToString().TrimEnd().Split('\n')[^1];
        Assert.Matches(@"^val_rmse=[0-9.Ee+-]+ naive_rmse=5\.1436$", last);
        Assert.True(File.Exists(Path.Combine(_dir, "cli.safetensors")));
    }

    [Theory]
    [InlineData("--horizon 0", "--horizon: must be at least 1, got 0")]
    [InlineData("--target nope", "nope")]
    [InlineData("", "--target: required with --task forecast")]
    [InlineData("--task nonsense", "--task: must be lm or forecast")]
    public void Bad_forecast_arguments_give_one_line_and_exit_code_2(string extra, string expected)
    {
        var args = new List<string> { "train", "--data", Series("nottem.csv"), "--steps", "2" };
        if (!extra.Contains("--task")) args.AddRange(["--task", "forecast"]);
        if (!extra.StartsWith("--target") && extra.Length > 0 && !extra.Contains("--task")) args.AddRange(["--target", "value"]);
        if (extra.StartsWith("--horizon")) { }
        args.AddRange(extra.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args.ToArray(), o, e);
        Assert.Equal(2, code);
        var err = e.ToString().Trim();
        Assert.Single(err.Split('\n'));
        Assert.Contains(expected, err);
    }
}
