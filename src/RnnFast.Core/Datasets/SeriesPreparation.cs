// Prepares real-valued series for a one-step (or K-step) forecaster the way the PyTorch reference recipe
// (shared/tools/torch_forecast.py) does: optional differencing (first row 0), z-scoring with the training part's
// statistics (sample std, n-1), random time-major windows from the training part, and the inverse transforms.

namespace RnnFast.Datasets;

/// <summary>
/// The statistics a forecaster stores with its weights to turn raw values into its inputs and its outputs back into
/// values: per-input mean and standard deviation, the target's, and whether inputs and target were differenced first.
/// </summary>
/// <param name="Mean">Per input column, the mean over the training part (after differencing, when <paramref name="Differenced"/>).</param>
/// <param name="Std">Per input column, the sample standard deviation (n-1) over the training part; never 0.</param>
/// <param name="TargetMean">The target's mean over the training part.</param>
/// <param name="TargetStd">The target's sample standard deviation over the training part; never 0.</param>
/// <param name="Differenced">Whether every input and the target were replaced by their change from the previous step.</param>
public sealed record Normalization(float[] Mean, float[] Std, float TargetMean, float TargetStd, bool Differenced)
{
    /// <summary>The z-score of a raw (or, when <see cref="Differenced"/>, differenced) value of input column <paramref name="feature"/>.</summary>
    public float NormalizeInput(int feature, double value) => (float)((value - Mean[feature]) / Std[feature]);

    /// <summary>The z-score of a raw (or differenced) target value.</summary>
    public float NormalizeTarget(double value) => (float)((value - TargetMean) / TargetStd);

    /// <summary>A model output back in the target's units: a level, or a change when <see cref="Differenced"/>.</summary>
    public double DenormalizeTarget(float z) => (double)z * TargetStd + TargetMean;

    internal void Validate(int features, string parameter)
    {
        if (Mean is null || Std is null || Mean.Length != features || Std.Length != features)
            throw new ArgumentException($"{parameter}: Mean and Std must each have {features} entries, one per input column; got {Mean?.Length ?? 0} and {Std?.Length ?? 0}", parameter);
        for (int f = 0; f < features; f++)
            if (!float.IsFinite(Mean[f]) || !float.IsFinite(Std[f]) || Std[f] <= 0)
                throw new ArgumentException($"{parameter}: input {f}: Mean {Mean[f]} and Std {Std[f]} must be finite, Std > 0", parameter);
        if (!float.IsFinite(TargetMean) || !float.IsFinite(TargetStd) || TargetStd <= 0)
            throw new ArgumentException($"{parameter}: TargetMean {TargetMean} and TargetStd {TargetStd} must be finite, TargetStd > 0", parameter);
    }
}

/// <summary>
/// Inputs X (n steps, F columns) and a target y (n steps) made ready for a recurrent forecaster: optionally
/// differenced, z-scored with the statistics of the training part (the first <see cref="TrainLength"/> rows), sampled
/// as random windows from the training part, and turned back into levels.
/// </summary>
/// <remarks>
/// <para>Differencing replaces every input column and the target by x[t] - x[t-1], with 0 at t = 0, exactly as the
/// reference recipe does; the statistics then include that first 0, as the recipe's do.</para>
/// <para>A column that is constant over the training part (standard deviation 0, e.g. a straight line once
/// differenced) is an error naming it rather than a silent all-zero input: it carries no information and is most
/// likely the wrong column.</para>
/// </remarks>
public sealed class SeriesPreparation
{
    private readonly float[] _inputs;   // (n, F) row-major, normalized
    private readonly float[] _target;   // (n), normalized
    private readonly double[] _levels;  // the target as given

    /// <summary>Prepares inputs and target, computing the normalization from the training part.</summary>
    /// <param name="inputs">The F input columns, each of n finite values (fill missing values first: <see cref="CsvSeries"/> does).</param>
    /// <param name="target">The n target values, finite.</param>
    /// <param name="valFraction">The held-out fraction at the end, in [0, 1); the training part is the first floor(n (1 - valFraction)) rows.</param>
    /// <param name="difference">Whether to difference every input and the target first.</param>
    /// <param name="inputNames">Names of the input columns for messages (default <c>input 0</c>, ...).</param>
    /// <param name="targetName">The target's name for messages.</param>
    /// <exception cref="ArgumentException">Shapes disagree, a value is not finite, <paramref name="valFraction"/> is out of
    /// range, the training part has fewer than 2 rows, or a column is constant over it.</exception>
    public SeriesPreparation(IReadOnlyList<double[]> inputs, double[] target, double valFraction = 0.2, bool difference = false,
        IReadOnlyList<string>? inputNames = null, string targetName = "target")
        : this(inputs, target, valFraction, difference, null, inputNames, targetName)
    {
    }

    /// <summary>Prepares inputs and target with a stored normalization (a trained model's), for forecasting new data.</summary>
    /// <param name="inputs">The input columns, as many as <paramref name="normalization"/> has.</param>
    /// <param name="target">The target values (its recent levels are what differenced forecasts add to).</param>
    /// <param name="normalization">The statistics to use; its <see cref="Normalization.Differenced"/> says whether to difference.</param>
    /// <param name="valFraction">Where <see cref="TrainLength"/> is put, as in the other constructor.</param>
    /// <param name="inputNames">Names of the input columns for messages.</param>
    /// <param name="targetName">The target's name for messages.</param>
    public SeriesPreparation(IReadOnlyList<double[]> inputs, double[] target, Normalization normalization, double valFraction = 0.2,
        IReadOnlyList<string>? inputNames = null, string targetName = "target")
        : this(inputs, target, valFraction, (normalization ?? throw new ArgumentNullException(nameof(normalization))).Differenced,
               normalization, inputNames, targetName)
    {
    }

    private SeriesPreparation(IReadOnlyList<double[]> inputs, double[] target, double valFraction, bool difference,
        Normalization? stored, IReadOnlyList<string>? inputNames, string targetName)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(targetName);
        int n = target.Length, features = inputs.Count;
        if (features == 0) throw new ArgumentException("inputs: needs at least one input column", nameof(inputs));
        if (inputNames != null && inputNames.Count != features)
            throw new ArgumentException($"inputNames: {inputNames.Count} names for {features} input columns", nameof(inputNames));
        string Name(int f) => inputNames?[f] is { } s ? $"'{s}'" : $"{f}";
        if (double.IsNaN(valFraction) || valFraction < 0 || valFraction >= 1)
            throw new ArgumentException($"valFraction: must be in [0, 1), got {valFraction}", nameof(valFraction));
        for (int f = 0; f < features; f++)
        {
            if (inputs[f] is null) throw new ArgumentException($"inputs: column {Name(f)} is null", nameof(inputs));
            if (inputs[f].Length != n)
                throw new ArgumentException($"inputs: column {Name(f)} has {inputs[f].Length} values but target '{targetName}' has {n}", nameof(inputs));
            CheckFinite(inputs[f], $"column {Name(f)}", nameof(inputs));
        }
        CheckFinite(target, $"'{targetName}'", nameof(target));
        int train = (int)(n * (1 - valFraction));
        if (train < 2)
            throw new ArgumentException($"target: the training part has {train} rows ({n} values, valFraction {valFraction}); it needs at least 2", nameof(target));

        Length = n;
        Features = features;
        TrainLength = train;
        Differenced = difference;
        _levels = (double[])target.Clone();

        var x = new double[features][];
        for (int f = 0; f < features; f++) x[f] = difference ? Difference(inputs[f]) : inputs[f];
        double[] y = difference ? Difference(target) : target;
        string after = difference ? " after differencing" : "";

        if (stored is null)
        {
            var mean = new float[features];
            var std = new float[features];
            for (int f = 0; f < features; f++)
            {
                (double m, double s) = Stats(x[f].AsSpan(0, train));
                if (s == 0)
                    throw new ArgumentException($"inputs: column {Name(f)} is constant ({m}) over the training part (rows 1..{train}){after}, so it cannot be z-scored; leave it out", nameof(inputs));
                (mean[f], std[f]) = ((float)m, (float)s);
            }
            (double tm, double ts) = Stats(y.AsSpan(0, train));
            if (ts == 0)
                throw new ArgumentException($"target: '{targetName}' is constant ({tm}) over the training part (rows 1..{train}){after}, so it cannot be z-scored", nameof(target));
            stored = new Normalization(mean, std, (float)tm, (float)ts, difference);
        }
        else stored.Validate(features, "normalization");
        Normalization = stored;

        _inputs = new float[n * features];
        _target = new float[n];
        for (int t = 0; t < n; t++)
        {
            for (int f = 0; f < features; f++) _inputs[t * features + f] = stored.NormalizeInput(f, x[f][t]);
            _target[t] = stored.NormalizeTarget(y[t]);
        }
    }

    /// <summary>Prepares named columns of a <see cref="CsvSeries"/>: <paramref name="target"/>, with inputs
    /// <paramref name="inputs"/> (default: the target alone, as the reference recipe does).</summary>
    public static SeriesPreparation FromCsv(CsvSeries series, string target, IReadOnlyList<string>? inputs = null,
        double valFraction = 0.2, bool difference = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(target);
        IReadOnlyList<string> names = inputs ?? [target];
        return new SeriesPreparation(names.Select(series.Column).ToArray(), series.Column(target), valFraction, difference, names, target);
    }

    /// <summary>n, the number of time steps.</summary>
    public int Length { get; }

    /// <summary>F, the number of input columns.</summary>
    public int Features { get; }

    /// <summary>The training part: rows 0 .. TrainLength-1; the rest are held out.</summary>
    public int TrainLength { get; }

    /// <summary>Whether inputs and target were differenced.</summary>
    public bool Differenced { get; }

    /// <summary>The statistics used (computed from the training part, or the stored ones given).</summary>
    public Normalization Normalization { get; }

    /// <summary>The target as given (levels, not differenced or normalized): what differenced forecasts add to.</summary>
    public IReadOnlyList<double> Levels => _levels;

    /// <summary>The model inputs, (n, F) row-major: differenced if asked, then z-scored.</summary>
    public ReadOnlySpan<float> Inputs => _inputs;

    /// <summary>The model target, (n): differenced if asked, then z-scored. Entry t is what a forecast made at t-K aims at.</summary>
    public ReadOnlySpan<float> Target => _target;

    /// <summary>Inputs of rows <paramref name="start"/> .. start+count-1 as a time-major (count, 1, F) host tensor, for
    /// running the model over the series with its state carried.</summary>
    public Tensor InputSequence(int start = 0, int count = -1)
    {
        if (count < 0) count = Length - start;
        if (start < 0 || count < 1 || start + count > Length)
            throw new ArgumentOutOfRangeException(nameof(start), $"start, count: rows {start} .. {start + count - 1} are not within 0 .. {Length - 1}");
        return Tensor.FromArray(_inputs.AsSpan(start * Features, count * Features).ToArray(), count, 1, Features);
    }

    /// <summary>Random next-step windows from the training part; see <see cref="SampleWindows(Random, int, int, int)"/> with horizon 1.</summary>
    public (Tensor Inputs, Tensor Targets) SampleWindows(Random rng, int window, int batch) => SampleWindows(rng, window, batch, 1);

    /// <summary>
    /// <paramref name="batch"/> windows of <paramref name="window"/> steps from the training part: for a start a drawn
    /// uniformly with <c>rng.Next(0, TrainLength - window - horizon)</c> (the reference recipe's
    /// <c>randint(0, ntr - W - 1)</c> at horizon 1), inputs are rows a .. a+W-1 and targets the target at a+K .. a+W-1+K.
    /// </summary>
    /// <returns>Inputs as a time-major (W, B, F) host tensor, targets as (W, B).</returns>
    /// <exception cref="ArgumentException">A size is not positive, or the training part is too short for the window.</exception>
    public (Tensor Inputs, Tensor Targets) SampleWindows(Random rng, int window, int batch, int horizon)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (window < 1) throw new ArgumentException($"window: must be at least 1, got {window}", nameof(window));
        if (batch < 1) throw new ArgumentException($"batch: must be at least 1, got {batch}", nameof(batch));
        if (horizon < 1) throw new ArgumentException($"horizon: must be at least 1, got {horizon}", nameof(horizon));
        int starts = TrainLength - window - horizon;
        if (starts < 1)
            throw new ArgumentException($"window: {window} steps with horizon {horizon} do not fit in the training part ({TrainLength} rows); " +
                                        $"the largest window is {TrainLength - horizon - 1}", nameof(window));
        int features = Features;
        var x = new float[window * batch * features];
        var y = new float[window * batch];
        for (int b = 0; b < batch; b++)
        {
            int a = rng.Next(0, starts);
            for (int t = 0; t < window; t++)
            {
                _inputs.AsSpan((a + t) * features, features).CopyTo(x.AsSpan((t * batch + b) * features, features));
                y[t * batch + b] = _target[a + t + horizon];
            }
        }
        return (Tensor.FromArray(x, window, batch, features), Tensor.FromArray(y, window, batch));
    }

    /// <summary>A model output back in the target's units (a change when <see cref="Differenced"/>, else a level).</summary>
    public double InverseTarget(float prediction) => Normalization.DenormalizeTarget(prediction);

    /// <summary>
    /// The level forecast from a model output made at step <paramref name="t"/> (0 .. n-1): when differenced, the level
    /// at t plus the predicted change (the forecast of step t+1); otherwise the output itself, denormalized.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is not a step of the series.</exception>
    public double ForecastLevel(int t, float prediction)
    {
        if ((uint)t >= (uint)Length)
            throw new ArgumentOutOfRangeException(nameof(t), t, $"t: must be a step of the series, 0 .. {Length - 1}");
        double v = InverseTarget(prediction);
        return Differenced ? _levels[t] + v : v;
    }

    /// <summary>
    /// The level forecast of step t+K from the K one-step outputs for steps t+1 .. t+K: when differenced, the level at
    /// t plus the sum of the predicted changes; otherwise the last output, denormalized.
    /// </summary>
    public double ForecastLevel(int t, ReadOnlySpan<float> predictions)
    {
        if (predictions.IsEmpty) throw new ArgumentException("predictions: needs at least one model output", nameof(predictions));
        if (!Differenced) return ForecastLevel(t, predictions[^1]);
        double level = ForecastLevel(t, predictions[0]);
        for (int k = 1; k < predictions.Length; k++) level += InverseTarget(predictions[k]);
        return level;
    }

    /// <summary>The sample mean and standard deviation (n-1 in the denominator, like <c>torch.std</c>).</summary>
    internal static (double Mean, double Std) Stats(ReadOnlySpan<double> v)
    {
        double mean = 0;
        foreach (double x in v) mean += x;
        mean /= v.Length;
        double ss = 0;
        foreach (double x in v) ss += (x - mean) * (x - mean);
        return (mean, Math.Sqrt(ss / (v.Length - 1)));
    }

    /// <summary>x[t] - x[t-1], with 0 at t = 0.</summary>
    public static double[] Difference(ReadOnlySpan<double> values)
    {
        var d = new double[values.Length];
        for (int t = 1; t < values.Length; t++) d[t] = values[t] - values[t - 1];
        return d;
    }

    private static void CheckFinite(double[] values, string what, string parameter)
    {
        for (int t = 0; t < values.Length; t++)
            if (!double.IsFinite(values[t]))
                throw new ArgumentException($"{parameter}: {what} entry {t} (0-based) is {values[t]}; fill missing values first (CsvSeries does)", parameter);
    }
}
