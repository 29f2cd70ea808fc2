// Peer benchmark: ONNX Runtime 1.31 (C# API, CPU execution provider, whose LSTM/GRU/RNN operators are the DeepCPU
// kernels) on the inference lines of a problem list; training lines are skipped (ONNX Runtime has no training).
// Models come from bench/peers/make_onnx.py (one per problem, PyTorch's weights, with PyTorch's output for a short
// input: the correctness check, at rnnfast bench's tolerance, before anything is timed).
//   RnnFast.Peers.OnnxRuntime SHAPES --models DIR [--seconds S] [--threads N] [--max-reps R] [--paired-with BACKEND]
// One JSON line per problem (see Common/PeerRun.cs). Shapes: x (T, N, I) -> y (T, N, D*H).
using Microsoft.ML.OnnxRuntime;
using RnnFast;
using RnnFast.Bench;
using RnnFast.Peers;

const string Backend = "onnxruntime";
PeerArgs a;
IReadOnlyList<BenchProblem> problems;
try
{
    a = PeerArgs.Parse(args, "RnnFast.Peers.OnnxRuntime SHAPES --models DIR [--seconds S] [--threads N] [--max-reps R] [--paired-with BACKEND]");
    if (a.Models == null) throw new ArgumentException("--models DIR is required (made by bench/peers/make_onnx.py)");
    problems = ProblemFile.Load(ProblemFile.Resolve(a.Shapes));
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException or RnnFormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

try
{
    using var probe = new SessionOptions(); // loads libonnxruntime: fails here when the native library cannot load
}
catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or OnnxRuntimeException)
{
    return PeerRun.Unavailable(Backend, $"ONNX Runtime's native library did not load: {e.GetBaseException().Message}");
}

Console.Error.WriteLine($"# ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {a.Threads} intra-op thread(s)");
foreach (var p in problems)
{
    if (p.Phase != BenchPhase.Inference) continue;
    var r = new PeerResult();
    string name = CheckFile.BaseName(p);
    try
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = a.Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        using var session = new InferenceSession(Path.Combine(a.Models, name + ".onnx"), options);

        // Correctness: PyTorch's output for the short input that make_onnx.py stored.
        var check = CheckFile.Read(Path.Combine(a.Models, name + ".check"), p);
        int tc = check.Tc;
        using (var xv = OrtValue.CreateTensorValueFromMemory(check.X, [tc, p.N, p.I]))
        using (var outs = session.Run(new RunOptions(), ["x"], [xv], ["y"]))
        {
            var failure = PeerRun.Compare(outs[0].GetTensorDataAsSpan<float>(), check.Y);
            r.Correct = failure == null;
            r.Check = $"vs PyTorch (make_onnx.py) at T={tc} N={p.N}: output" + (failure == null ? "" : $" ({failure})");
        }

        var rng = new Random(3);
        var x = new float[p.T * p.N * p.I];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        using var run = new RunOptions();
        var names = new[] { "x" };
        var outNames = new[] { "y" };
        var values = new List<OrtValue>(); // the first t steps of x, for each T timed (T is a dynamic axis of the model)
        try
        {
            Func<double> CallAt(int t)
            {
                var xt = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, x.AsMemory(0, t * p.N * p.I), [t, p.N, p.I]);
                values.Add(xt);
                var inputs = new[] { xt };
                return () => PeerRun.Seconds(() => { using var o = session.Run(run, names, inputs, outNames); });
            }
            if (r.Correct == true) PeerRun.Time(p, CallAt, a, r);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }
    catch (Exception e) when (e is OnnxRuntimeException or IOException or InvalidDataException)
    {
        r.Correct = false;
        r.Error = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
    }
    PeerRun.Print(p, Backend, a.Threads, r);
}
return 0;
