// Peer benchmark: TorchSharp-cpu 0.107 (libtorch 2.10, CPU) on every line of a problem list: inference is a forward
// under no_grad; training is a forward and a backward from a random output gradient (every weight's gradient and the
// input's), as `rnnfast bench` times it. Before timing, the forward is checked against PyTorch's numbers from
// bench/peers/make_onnx.py (same weights, loaded by name) when --models has them.
//   RnnFast.Peers.TorchSharp SHAPES [--models DIR] [--seconds S] [--threads N] [--max-reps R] [--paired-with BACKEND]
// libtorch 2.10 needs GLIBCXX_3.4.32: run it with the host bench/peers/prepare.sh makes (see bench/peers/README.md).
// One JSON line per problem (see Common/PeerRun.cs). Shapes: x (T, N, I) -> y (T, N, D*H).
using RnnMode = RnnFast.RnnMode;
using RnnFormatException = RnnFast.RnnFormatException;
using Tensor = TorchSharp.torch.Tensor;
using RnnFast.Bench;
using RnnFast.Peers;
using TorchSharp;
using static TorchSharp.torch;

const string Backend = "torchsharp";
PeerArgs a;
IReadOnlyList<BenchProblem> problems;
try
{
    a = PeerArgs.Parse(args, "RnnFast.Peers.TorchSharp SHAPES [--models DIR] [--seconds S] [--threads N] [--max-reps R] [--paired-with BACKEND]");
    problems = ProblemFile.Load(ProblemFile.Resolve(a.Shapes));
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException or RnnFormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

try
{
    torch.set_num_threads(a.Threads); // the first call loads libtorch
}
catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or EntryPointNotFoundException
                              or InvalidOperationException or BadImageFormatException)
{
    return PeerRun.Unavailable(Backend, "libtorch did not load: " + LoadFailure(e));
}

Console.Error.WriteLine($"# TorchSharp {typeof(torch).Assembly.GetName().Version}, {torch.get_num_threads()} thread(s)");
foreach (var p in problems)
{
    var r = new PeerResult();
    try
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var (module, forward) = Build(p);
        bool training = p.Phase == BenchPhase.Training;

        string? checkPath = a.Models == null ? null : Path.Combine(a.Models, CheckFile.BaseName(p) + ".check");
        if (checkPath != null && File.Exists(checkPath))
        {
            var check = CheckFile.Read(checkPath, p);
            var named = module.named_parameters().ToDictionary(t => t.name, t => t.parameter);
            using (torch.no_grad())
            {
                foreach (var (name, values) in check.Parameters)
                {
                    if (!named.TryGetValue(name, out var param) || param.numel() != values.Length)
                        throw new InvalidDataException($"{checkPath}: parameter {name} ({values.Length} values) does not match TorchSharp's module");
                    param.copy_(torch.tensor(values).reshape(param.shape));
                }
                var y = forward(torch.tensor(check.X).reshape(check.Tc, p.N, p.I)).contiguous();
                var failure = PeerRun.Compare(y.data<float>().ToArray(), check.Y);
                r.Correct = failure == null;
                r.Check = $"vs PyTorch (make_onnx.py) at T={check.Tc} N={p.N}: output" + (failure == null ? "" : $" ({failure})");
            }
        }
        else
        {
            r.Check = "not checked (no make_onnx.py check file; pass --models DIR)";
        }

        // The first t steps of x (and of the output gradient), for each T timed: a cut T is timed like rnnfast's.
        Func<double> CallAt(int t)
        {
            var x = torch.rand(t, p.N, p.I) * 2 - 1;
            var dy = torch.rand(t, p.N, p.H * p.Directions) * 2 - 1;
            if (training) x.requires_grad_(true);
            Action step = training
                ? () =>
                {
                    using var s = torch.NewDisposeScope();
                    forward(x).backward([dy]);
                }
                : () =>
                {
                    using var s = torch.NewDisposeScope();
                    using var g = torch.no_grad();
                    forward(x);
                };
            return () => PeerRun.Seconds(step);
        }
        if (r.Correct != false)
            PeerRun.Time(p, CallAt, a, r);
    }
    catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or IOException or InvalidDataException or ArgumentException)
    {
        r.Correct = false;
        r.Error = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
    }
    PeerRun.Print(p, Backend, a.Threads, r);
}
return 0;

// Why libtorch did not load, in one line: the dynamic loader's own message (e.g. "version `GLIBCXX_3.4.32' not found")
// from loading TorchSharp's native library directly, else the first line of TorchSharp's exception.
static string LoadFailure(Exception e)
{
    foreach (var lib in Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories))
    {
        try { System.Runtime.InteropServices.NativeLibrary.Load(lib); }
        catch (DllNotFoundException d)
        {
            string m = d.Message.ReplaceLineEndings(" ");
            const string Marker = "LD_DEBUG environment variable:";
            int at = m.IndexOf(Marker, StringComparison.Ordinal);
            return (at >= 0 ? m[(at + Marker.Length)..] : m).Trim();
        }
    }
    return e.GetBaseException().Message.Split('\n')[0].Trim();
}

// torch.nn's RNN module for the problem (time-major, biases, zero initial state) and its output sequence.
static (nn.Module Module, Func<Tensor, Tensor> Forward) Build(BenchProblem p)
{
    switch (p.Cell)
    {
        case RnnMode.Lstm:
            var lstm = nn.LSTM(p.I, p.H, p.Layers, bidirectional: p.Bidirectional);
            return (lstm, x => lstm.forward(x, null).Item1);
        case RnnMode.Gru:
            var gru = nn.GRU(p.I, p.H, p.Layers, bidirectional: p.Bidirectional);
            return (gru, x => gru.forward(x, null).Item1);
        default:
            var rnn = nn.RNN(p.I, p.H, p.Layers, p.Cell == RnnMode.RnnRelu ? nn.NonLinearities.ReLU : nn.NonLinearities.Tanh, bidirectional: p.Bidirectional);
            return (rnn, x => rnn.forward(x, null).Item1);
    }
}
