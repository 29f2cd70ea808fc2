// Trains a forecaster on a real-valued series the way ../shared/tools/torch_forecast.py does: missing values
// interpolated, optional differencing, z-scores from the training part, windows of SeqLen steps drawn at random from
// the training part (each from a zero state), MSE over every step of a window, Adam. Evaluation runs over the whole
// series with the state carried and scores the forecasts of the held-out tail against the persistence forecast.
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Datasets;
using RnnFast.Models;

namespace RnnFast.Training;

/// <summary>Trains and evaluates a one-step (or K-step) forecaster on columns of a <see cref="CsvSeries"/>.</summary>
public sealed class ForecastTrainer
{
    /// <summary>Trains on <paramref name="series"/> (named <paramref name="dataName"/> in the checkpoint).</summary>
    public ForecastResult Train(CsvSeries series, string dataName, ForecastOptions options, ITrainObserver? observer = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        observer ??= new NullObserver();
        var o = options;
        // The output must be writable, and this run its only writer, before any work (the lock is held to the end).
        using var outputLock = o.Out != null ? IO.OutputLock.Acquire(o.Out, ForecastOptions.NameOf(nameof(ForecastOptions.Out))) : null;
        var backend = BackendRegistry.Get(o.Backend);
        BackendThreads.Apply(backend, o.Threads, ForecastOptions.NameOf(nameof(ForecastOptions.Threads)));
        var featureNames = o.Features ?? [o.Target];
        var prep = SeriesPreparation.FromCsv(series, o.Target, featureNames, o.ValFraction, o.Difference);
        int n = prep.Length, ntr = prep.TrainLength, F = prep.Features, K = o.Horizon, W = o.SeqLen, B = o.Batch;
        var levels = series.Column(o.Target);

        // Sizes in long arithmetic: a horizon past the training part is the horizon's problem, not the target's.
        if (K >= ntr)
            throw new ArgumentException($"{ForecastOptions.NameOf(nameof(ForecastOptions.Horizon))}: {K} steps ahead reaches past the training part ({ntr} of {n} steps)");
        if ((long)ntr - W - K < 1)
            throw new ArgumentException($"{ForecastOptions.NameOf(nameof(ForecastOptions.SeqLen))}: windows of {W} steps with horizon {K} do not fit in the training part ({ntr} of {n} steps)");

        // A run that cannot fit in the memory available is refused before anything large is allocated.
        MemoryEstimate.Require(MemoryEstimate.Training(new TrainOptions { Mode = o.Mode, Layers = o.Layers, Hidden = o.Hidden, Embed = F },
            0, 1, W, B, ForecastOptions.NameOf(nameof(ForecastOptions.SeqLen)), ForecastOptions.NameOf(nameof(ForecastOptions.Batch))));

        // z[t]: what the output at step t aims at (the target K steps later: its level, or its change since t).
        var (z, targetMean, targetStd) = Targets(prep, levels, K, ntr);
        int starts = ntr - W - K;
        if (starts < 1)
            throw new ArgumentException($"{ForecastOptions.NameOf(nameof(ForecastOptions.SeqLen))}: windows of {W} steps with horizon {K} do not fit in the training part ({ntr} of {n} steps)");

        var norm = prep.Normalization;
        var config = new NetworkConfig
        {
            Kind = NetworkKind.Forecaster, Mode = o.Mode, Layers = o.Layers, Hidden = o.Hidden, Embed = 0, Features = F,
            FeatureNames = featureNames.ToArray(), TargetNames = [o.Target], Vocab = CharVocab.None,
            Scaling = new SeriesScaling
            {
                InputMean = norm.Mean, InputStd = norm.Std, TargetMean = [targetMean], TargetStd = [targetStd],
                Differenced = o.Difference, Horizon = K,
            },
        };
        using var net = new CharNetwork(config, backend, new Random(o.Seed));
        var parameters = net.Parameters();
        var names = net.NamedParameters().Select(p => p.Name).ToArray();
        var optimizer = TrainingSetup.MakeOptimizer("adam", parameters, o.LearningRate, 0);
        var guard = new NonFiniteGuard(NonFinitePolicy.Stop, 1);
        observer.OnMessage($"training forecaster {config.RnnDesc} on {backend.Name}: {F} input(s) [{string.Join(", ", featureNames)}] -> {o.Target}, " +
                           $"{ntr} train / {n - ntr} held-out steps, horizon {K}{(o.Difference ? ", differenced" : "")}" +
                           (o.LrSchedule != LrScheduleKind.Constant || o.WarmupSteps > 0 ? $", {ForecastResult.Schedule(o).Describe()}" : ""));

        var x = new float[W * B * F];                                      // (W,B,F)
        var y = new float[W * B];                                          // (W,B,1)
        var inputs = prep.Inputs;
        var losses = new List<float>(o.Steps);
        var schedule = ForecastResult.Schedule(o);
        var rates = new List<float>(o.Steps);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int step = 0;
        for (; step < o.Steps && !cancel.IsCancellationRequested; step++)
        {
            var rng = TrainingSetup.StepRandom(o.Seed, step, 0);
            for (int b = 0; b < B; b++)
            {
                int a = rng.Next(0, starts);
                for (int t = 0; t < W; t++)
                {
                    inputs.Slice((a + t) * F, F).CopyTo(x.AsSpan((t * B + b) * F, F));
                    y[t * B + b] = z[a + t];
                }
            }
            using var tape = new Tape(); // disposed at the end of the step: the RNN workspaces go back to their plans
            var loss = net.ForecastLoss(tape, x, y, W, B, training: true, TrainingSetup.StepRandom(o.Seed, step, 1));
            double rate = optimizer.LearningRate = schedule.At(step);
            var (l, norm2, _) = TrainingSetup.BackwardAndStep(tape, loss, optimizer, parameters, o.Clip, step, guard, names);
            losses.Add(l);
            rates.Add((float)rate);
            var elapsed = clock.Elapsed;
            observer.OnStep(new StepReport(step + 1, o.Steps, l, norm2, (step + 1.0) * W * B / Math.Max(elapsed.TotalSeconds, 1e-9), elapsed,
                TimeSpan.FromSeconds(elapsed.TotalSeconds / (step + 1) * (o.Steps - step - 1))) { LearningRate = rate });
        }

        // Stopped by a signal: the model is saved before the evaluation (a second signal may end the process at any moment).
        bool cancelled = cancel.IsCancellationRequested;
        if (cancelled) Save();
        using var model = RnnModel.FromNetwork(net);
        var columns = featureNames.Select(series.Column).ToArray();
        var forecasts = new SeriesForecaster(model).Forecast(columns, levels);
        var errors = SeriesForecaster.Errors(forecasts, levels, Math.Max(ntr, K), K);
        observer.OnEval(new EvalReport(step, errors.Rmse, null));
        if (!cancelled) Save();
        return new ForecastResult(step, errors, losses, series.FilledCounts, ntr, n - ntr, backend.Name) { Cancelled = cancelled, LearningRates = rates };

        void Save()
        {
            if (o.Out == null) return;
            Checkpoint.Save(o.Out, net, optimizer, new TrainingState
            {
                Step = step, Optimizer = "adam", LearningRate = o.LearningRate, Clip = o.Clip, SeqLen = W, Batch = B, Seed = o.Seed,
                ValFraction = o.ValFraction, DataName = dataName, TrainLossHistory = losses,
            });
            observer.OnCheckpoint(o.Out, step);
        }
    }

    /// <summary>
    /// The scaled target of every forecast origin t (NaN where t+K is past the end), with its mean and deviation. At
    /// horizon 1 these are exactly the reference recipe's (the one-step changes or levels, z-scored over the training
    /// part); at horizon K the K-step changes (or levels K ahead), z-scored over the origins whose target is in training.
    /// </summary>
    private static (float[] Z, float Mean, float Std) Targets(SeriesPreparation prep, double[] levels, int K, int ntr)
    {
        int n = prep.Length;
        var z = new float[n];
        if (K == 1)
        {
            var target = prep.Target;
            for (int t = 0; t < n; t++) z[t] = t + 1 < n ? target[t + 1] : float.NaN;
            return (z, prep.Normalization.TargetMean, prep.Normalization.TargetStd);
        }
        var raw = new double[n];
        for (int t = 0; t < n; t++) raw[t] = t + K < n ? (prep.Differenced ? levels[t + K] - levels[t] : levels[t + K]) : double.NaN;
        int m = Math.Max(2, ntr - K);
        double mean = 0, ss = 0;
        for (int t = 0; t < m; t++) mean += raw[t];
        mean /= m;
        for (int t = 0; t < m; t++) ss += (raw[t] - mean) * (raw[t] - mean);
        double std = Math.Sqrt(ss / (m - 1));
        if (!(std > 0)) throw new ArgumentException($"{ForecastOptions.NameOf(nameof(ForecastOptions.Target))}: its {K}-step {(prep.Differenced ? "changes are" : "values are")} constant over the training part");
        for (int t = 0; t < n; t++) z[t] = (float)((raw[t] - mean) / std);
        return (z, (float)mean, (float)std);
    }

    private sealed class NullObserver : ITrainObserver;
}
