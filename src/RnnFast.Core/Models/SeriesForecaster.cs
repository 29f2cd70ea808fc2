// Runs a trained forecaster over a series with its state carried from the first step: each step's output is the
// forecast of the target K steps later (K = the model's horizon), in the target's units (a differenced model's
// predicted change is added to the last level). Also the error measures a forecast is judged by.
namespace RnnFast.Models;

/// <summary>Forecasts of a series by a <see cref="NetworkKind.Forecaster"/> model, and their errors.</summary>
public sealed class SeriesForecaster
{
    private readonly RnnModel _model;

    /// <summary>Wraps a forecaster model.</summary>
    public SeriesForecaster(RnnModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Kind != NetworkKind.Forecaster) throw new ArgumentException($"model: is a {model.Kind}, not a forecaster", nameof(model));
        _model = model;
    }

    /// <summary>Steps ahead each forecast looks.</summary>
    public int Horizon => _model.Config.Scaling?.Horizon ?? 1;

    /// <summary>
    /// One forecast per step: entry t (0..n-1) forecasts the target at t+K from everything up to t, in the target's
    /// units. <paramref name="inputs"/> are the model's input columns (in <see cref="NetworkConfig.FeatureNames"/>
    /// order, n values each, levels as read), <paramref name="targetLevels"/> the target's n levels.
    /// </summary>
    public double[] Forecast(IReadOnlyList<double[]> inputs, double[] targetLevels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targetLevels);
        var cfg = _model.Config;
        int F = cfg.Features, n = targetLevels.Length;
        if (inputs.Count != F) throw new ArgumentException($"inputs: expected {F} columns ({string.Join(", ", cfg.FeatureNames)}), found {inputs.Count}", nameof(inputs));
        if (n < 2) throw new ArgumentException($"targetLevels: needs at least 2 values, found {n}", nameof(targetLevels));
        bool diff = cfg.Scaling?.Differenced ?? false;
        var x = new float[n * F];                                          // (n,1,F) time-major
        for (int f = 0; f < F; f++)
        {
            var col = inputs[f] ?? throw new ArgumentException($"inputs: column {f} is null", nameof(inputs));
            if (col.Length != n) throw new ArgumentException($"inputs: column '{cfg.FeatureNames[f]}' has {col.Length} values, the target {n}", nameof(inputs));
            for (int t = 0; t < n; t++) x[t * F + f] = (float)(diff ? (t == 0 ? 0 : col[t] - col[t - 1]) : col[t]);
        }
        var y = _model.Forward(Tensor.FromArray(x, n, 1, F)).ToArray();    // (n,1,O): the first target
        int O = _model.OutputSize;
        var forecasts = new double[n];
        for (int t = 0; t < n; t++) forecasts[t] = diff ? targetLevels[t] + y[t * O] : y[t * O];
        return forecasts;
    }

    /// <summary>
    /// Errors over the held-out tail (targets at steps <paramref name="from"/>..n-1) of forecasts made K steps earlier,
    /// against the persistence forecast y[t+K] = y[t].
    /// </summary>
    public static ForecastErrors Errors(double[] forecasts, double[] targetLevels, int from, int horizon)
    {
        ArgumentNullException.ThrowIfNull(forecasts);
        ArgumentNullException.ThrowIfNull(targetLevels);
        int n = targetLevels.Length;
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon), $"horizon: must be at least 1, got {horizon}");
        if (from < horizon || from >= n) throw new ArgumentOutOfRangeException(nameof(from), $"from: must be in {horizon}..{n - 1}, got {from}");
        double se = 0, ae = 0, naive = 0, naiveAe = 0;
        int count = 0;
        for (int t = from; t < n; t++)
        {
            double actual = targetLevels[t], f = forecasts[t - horizon], p = targetLevels[t - horizon];
            se += (f - actual) * (f - actual);
            ae += Math.Abs(f - actual);
            naive += (p - actual) * (p - actual);
            naiveAe += Math.Abs(p - actual);
            count++;
        }
        return new ForecastErrors(Math.Sqrt(se / count), ae / count, Math.Sqrt(naive / count), naiveAe / count, count);
    }
}

/// <summary>Forecast errors over <see cref="Count"/> held-out steps, in the target's units, beside the persistence forecast's.</summary>
public sealed record ForecastErrors(double Rmse, double Mae, double NaiveRmse, double NaiveMae, int Count)
{
    /// <summary>RMSE relative to the persistence forecast's (below 1 beats it).</summary>
    public double Ratio => Rmse / NaiveRmse;
}
