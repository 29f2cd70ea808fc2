// The cuda backend without a GPU: descriptor parameters for every mode/projection/direction combination, the weight-space
// mapping against fake cuDNN layouts (one in cuDNN's documented order, one shuffled with gaps, so nothing relies on
// assumed offsets), padding bookkeeping, the peak formula, the settings, status -> message mapping naming the call, the
// loader's lookup of Python wheels, and the unavailable reason with the loader's trace (also through the CLI). The
// golden tests run "cuda" as a [BackendTheory] row, skipped with this backend's reason where there is no GPU.
using System.Diagnostics;
using RnnFast.Backends;
using RnnFast.Backends.Cuda;
using RnnFast.Bindings.Cuda;
using RnnFast.Native;
using Xunit;

namespace RnnFast.Tests;

public sealed class CudaBackendTests
{
    // ------------------------------------------------------------------ descriptor parameters

    public static IEnumerable<object[]> Descs()
    {
        foreach (var mode in new[] { RnnMode.RnnTanh, RnnMode.RnnRelu, RnnMode.Lstm, RnnMode.Gru })
        foreach (int proj in mode == RnnMode.Lstm ? new[] { 0, 3 } : new[] { 0 })
        foreach (int layers in new[] { 1, 2 })
        foreach (bool bi in new[] { false, true })
        foreach (bool bias in new[] { true, false })
            yield return [mode, proj, layers, bi, bias];
    }

    [Theory]
    [MemberData(nameof(Descs))]
    public void Descriptor_settings_follow_the_desc(RnnMode mode, int proj, int layers, bool bi, bool bias)
    {
        var desc = new RnnDesc(mode, inputSize: 5, hiddenSize: 7, numLayers: layers, bidirectional: bi, projSize: proj, bias: bias);
        var s = CudnnRnnSettings.From(desc, CudnnMathType.Fma, CudnnRnnAlgo.Standard);
        var cell = mode switch { RnnMode.RnnRelu => CudnnRnnMode.Relu, RnnMode.RnnTanh => CudnnRnnMode.Tanh, RnnMode.Lstm => CudnnRnnMode.Lstm, _ => CudnnRnnMode.Gru };
        Assert.Equal(cell, s.CellMode);
        Assert.Equal(CudnnRnnAlgo.Standard, s.Algo);
        Assert.Equal(bias ? CudnnRnnBiasMode.DoubleBias : CudnnRnnBiasMode.NoBias, s.BiasMode);
        Assert.Equal(bi ? CudnnDirectionMode.Bidirectional : CudnnDirectionMode.Unidirectional, s.DirMode);
        Assert.Equal(CudnnRnnInputMode.LinearInput, s.InputMode);
        Assert.Equal(CudnnDataType.Float, s.DataType);
        Assert.Equal(CudnnDataType.Float, s.MathPrec);
        Assert.Equal(CudnnMathType.Fma, s.MathType);
        Assert.Equal(5, s.InputSize);
        Assert.Equal(7, s.HiddenSize);
        Assert.Equal(proj > 0 ? proj : 7, s.ProjSize); // cuDNN wants projSize = hiddenSize when there is no projection
        Assert.Equal(layers, s.NumLayers);
        Assert.Equal(CudnnRnnAuxFlags.PaddedIoEnabled, s.AuxFlags);

        int S = layers * (bi ? 2 : 1), Ho = proj > 0 ? proj : 7;
        var (hd, hs) = CudnnRnnSettings.HiddenState(desc, batch: 4);
        Assert.Equal([S, 4, Ho], hd);
        Assert.Equal([4 * Ho, Ho, 1], hs);
        var (cd, cs) = CudnnRnnSettings.CellState(desc, batch: 4);
        Assert.Equal([S, 4, 7], cd);
        Assert.Equal([4 * 7, 7, 1], cs);
        Assert.Equal(5, CudnnRnnSettings.InputVectorSize(desc));
        Assert.Equal((bi ? 2 : 1) * Ho, CudnnRnnSettings.OutputVectorSize(desc));
        Assert.Equal(2 * desc.GateCount + (proj > 0 ? 1 : 0), CudnnRnnSettings.LinLayerCount(desc));
        if (bi) Assert.Equal(3, CudnnRnnSettings.PseudoLayer(desc, 1, 1));
        else Assert.Equal(1, CudnnRnnSettings.PseudoLayer(desc, 1, 0));
    }

    [Fact]
    public void Tf32_is_opt_in_and_persistent_is_for_small_batches_only()
    {
        var none = CudaBackendOptions.FromEnvironment(_ => null);
        Assert.False(none.AllowTf32);
        Assert.Equal(CudnnMathType.Fma, none.MathType);
        Assert.Equal(CudnnRnnAlgo.Standard, none.AlgoFor(1));

        var env = new Dictionary<string, string> { ["RNNFAST_CUDA_TF32"] = "1", ["RNNFAST_CUDA_ALGO"] = "persist", ["RNNFAST_CUDA_DEVICE"] = "1" };
        var o = CudaBackendOptions.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.True(o.AllowTf32);
        Assert.Equal(CudnnMathType.Default, o.MathType);
        Assert.Equal(1, o.Device);
        Assert.Equal(CudnnRnnAlgo.PersistStatic, o.AlgoFor(8));
        Assert.Equal(CudnnRnnAlgo.Standard, o.AlgoFor(64));

        var e = Assert.Throws<ArgumentException>(() => CudaBackendOptions.FromEnvironment(k => k == "RNNFAST_CUDA_ALGO" ? "fastest" : null));
        Assert.Contains("RNNFAST_CUDA_ALGO='fastest'", e.Message);
        e = Assert.Throws<ArgumentException>(() => CudaBackendOptions.FromEnvironment(k => k == "RNNFAST_CUDA_TF32" ? "maybe" : null));
        Assert.Contains("RNNFAST_CUDA_TF32", e.Message);
    }

    [Fact]
    public void Enum_values_are_the_headers()
    {
        // cudnn_adv.h / cudnn_graph.h (cuDNN 9.6) and cuda.h (12.6): a changed value here is an ABI break.
        Assert.Equal(0, (int)CudnnRnnMode.Relu);
        Assert.Equal(1, (int)CudnnRnnMode.Tanh);
        Assert.Equal(2, (int)CudnnRnnMode.Lstm);
        Assert.Equal(3, (int)CudnnRnnMode.Gru);
        Assert.Equal(2, (int)CudnnRnnBiasMode.DoubleBias);
        Assert.Equal(0, (int)CudnnRnnBiasMode.NoBias);
        Assert.Equal(1, (int)CudnnDirectionMode.Bidirectional);
        Assert.Equal(0, (int)CudnnRnnInputMode.LinearInput);
        Assert.Equal(0, (int)CudnnRnnDataLayout.SeqMajorUnpacked);
        Assert.Equal(0, (int)CudnnWgradMode.Add);
        Assert.Equal(1, (int)CudnnForwardMode.Training);
        Assert.Equal(0, (int)CudnnRnnAlgo.Standard);
        Assert.Equal(1, (int)CudnnRnnAlgo.PersistStatic);
        Assert.Equal(0, (int)CudnnMathType.Default);
        Assert.Equal(3, (int)CudnnMathType.Fma);
        Assert.Equal(0, (int)CudnnDataType.Float);
        Assert.Equal(1u, (uint)CudnnRnnAuxFlags.PaddedIoEnabled);
        Assert.Equal(2000, (int)CudnnStatus.BadParam);
        Assert.Equal(3000, (int)CudnnStatus.NotSupported);
        Assert.Equal(100, (int)CuResult.ErrorNoDevice);
        Assert.Equal(16, (int)CuDeviceAttribute.MultiprocessorCount);
        Assert.Equal(13, (int)CuDeviceAttribute.ClockRate);
        Assert.Equal(75, (int)CuDeviceAttribute.ComputeCapabilityMajor);
    }

    [Fact]
    public void Gate_ids_follow_pytorchs_order()
    {
        var lstm = new RnnDesc(RnnMode.Lstm, 3, 4);
        Assert.Equal([0, 1, 2, 3], Enumerable.Range(0, 4).Select(g => CudnnRnnSettings.LinLayerId(lstm, g, recurrent: false)));
        Assert.Equal([4, 5, 6, 7], Enumerable.Range(0, 4).Select(g => CudnnRnnSettings.LinLayerId(lstm, g, recurrent: true)));
        var gru = new RnnDesc(RnnMode.Gru, 3, 4);
        Assert.Equal([0, 1, 2], Enumerable.Range(0, 3).Select(g => CudnnRnnSettings.LinLayerId(gru, g, recurrent: false)));
        Assert.Equal([3, 4, 5], Enumerable.Range(0, 3).Select(g => CudnnRnnSettings.LinLayerId(gru, g, recurrent: true)));
        var rnn = new RnnDesc(RnnMode.RnnRelu, 3, 4);
        Assert.Equal(0, CudnnRnnSettings.LinLayerId(rnn, 0, recurrent: false));
        Assert.Equal(1, CudnnRnnSettings.LinLayerId(rnn, 0, recurrent: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => CudnnRnnSettings.LinLayerId(gru, 3, recurrent: false));
        Assert.Equal(8, CudnnRnnSettings.ProjectionLinLayerId);
    }

    // ------------------------------------------------------------------ weight space mapping against fake layouts

    /// <summary>
    /// A fake cuDNN weight space for <paramref name="desc"/>: every (pseudo-layer, linLayerID) matrix (1, rows, cols) and
    /// bias (1, rows, 1), placed in cuDNN's documented order or shuffled, with a gap of <paramref name="gap"/> floats
    /// between regions. Returns the query and the weight space size in floats.
    /// </summary>
    private static (CudnnWeightQuery Query, long Size, Dictionary<(int, int, bool), long> Offsets) FakeLayout(RnnDesc desc, int? shuffleSeed, int gap)
    {
        int G = desc.GateCount, H = desc.HiddenSize, Ho = desc.OutputHiddenSize, P = desc.ProjSize;
        var regions = new List<(int Pseudo, int Lin, bool Bias, int Rows, int Cols)>();
        for (int l = 0; l < desc.NumLayers; l++)
        for (int d = 0; d < desc.Directions; d++)
        {
            int pseudo = l * desc.Directions + d;
            for (int lin = 0; lin < 2 * G; lin++) regions.Add((pseudo, lin, false, H, lin < G ? desc.LayerInputSize(l) : Ho));
            if (P > 0) regions.Add((pseudo, 8, false, P, H));
            if (desc.Bias)
                for (int lin = 0; lin < 2 * G; lin++) regions.Add((pseudo, lin, true, H, 1));
        }
        if (shuffleSeed is int seed)
        {
            var rng = new Random(seed);
            regions = regions.OrderBy(_ => rng.Next()).ToList();
        }
        var offsets = new Dictionary<(int, int, bool), long>();
        long at = gap;
        foreach (var r in regions)
        {
            offsets[(r.Pseudo, r.Lin, r.Bias)] = at;
            at += (long)r.Rows * r.Cols + gap;
        }
        var shapes = regions.ToDictionary(r => (r.Pseudo, r.Lin, r.Bias), r => (r.Rows, r.Cols));
        CudnnWeightParams Query(int pseudo, int lin)
        {
            CudnnWeightRegion? Region(bool bias)
            {
                if (!offsets.TryGetValue((pseudo, lin, bias), out long off)) return null;
                var (rows, cols) = shapes[(pseudo, lin, bias)];
                return new CudnnWeightRegion(off, [1, rows, cols], [rows * cols, cols, 1]);
            }
            return new CudnnWeightParams(Region(false), Region(true));
        }
        return (Query, at, offsets);
    }

    [Theory]
    [MemberData(nameof(Descs))]
    public void Weights_round_trip_through_a_shuffled_fake_layout(RnnMode mode, int proj, int layers, bool bi, bool bias)
    {
        var desc = new RnnDesc(mode, inputSize: 5, hiddenSize: 4, numLayers: layers, bidirectional: bi, projSize: proj, bias: bias);
        foreach (int? seed in new int?[] { null, 11 })
        {
            var (query, size, offsets) = FakeLayout(desc, seed, gap: 3);
            var layout = CudnnWeightLayout.Build(desc, size, query);
            var p = RnnParameters.Create(desc, new Random(5));
            var space = new float[size];
            Array.Fill(space, float.NaN);
            layout.Pack(p, space);

            // Spot-check the placement against the fake's own offsets: layer 0 direction 0, second gate of W_ih, row 1 column 2.
            int H = desc.HiddenSize, I = desc.InputSize, G = desc.GateCount;
            if (G > 1)
            {
                long off = offsets[(0, 1, false)];
                Assert.Equal(p.Get(0, 0, RnnParamKind.WeightIh).Span[(1 * H + 1) * I + 2], space[off + 1 * I + 2]);
            }
            long rOff = offsets[(0, G, false)]; // first gate of W_hh
            Assert.Equal(p.Get(0, 0, RnnParamKind.WeightHh).Span[0], space[rOff]);
            if (bias) Assert.Equal(p.Get(0, 0, RnnParamKind.BiasHh).Span[G > 1 ? H : 0], space[offsets[(0, G + (G > 1 ? 1 : 0), true)]]);
            if (proj > 0) Assert.Equal(p.Get(0, 0, RnnParamKind.WeightHr).Span[1 * H + 3], space[offsets[(0, 8, false)] + 1 * H + 3]);
            // The gaps stay zero: nothing was written where no parameter lives.
            Assert.Equal(0f, space[0]);
            Assert.Equal(0f, space[^1]);

            var back = RnnParameters.Zeros(desc);
            layout.AddTo(space, back);
            for (int i = 0; i < p.Tensors.Count; i++) Assert.Equal(p.Tensors[i].ToArray(), back.Tensors[i].ToArray());
            Assert.Equal(p.Tensors.Sum(t => t.Length), layout.Blocks.Sum(b => b.Count));
        }
    }

    [Fact]
    public void Layout_problems_name_the_parameter_and_gate()
    {
        var desc = new RnnDesc(RnnMode.Lstm, inputSize: 5, hiddenSize: 4);
        var (query, size, _) = FakeLayout(desc, null, gap: 0);

        CudnnWeightQuery Tweak(int pseudo, int lin, Func<CudnnWeightParams, CudnnWeightParams> f) =>
            (pl, ll) => pl == pseudo && ll == lin ? f(query(pl, ll)) : query(pl, ll);

        // Transposed: (1, I, H) where (1, H, I) is expected.
        var e = Assert.Throws<InvalidOperationException>(() => CudnnWeightLayout.Build(desc, size,
            Tweak(0, 1, w => w with { Matrix = w.Matrix! with { Dims = [1, 5, 4], Strides = [20, 4, 1] } })));
        Assert.Contains("weight_ih_l0 gate f", e.Message);
        Assert.Contains("expected (4,5)", e.Message);

        e = Assert.Throws<InvalidOperationException>(() => CudnnWeightLayout.Build(desc, size,
            Tweak(0, 2, w => w with { Matrix = w.Matrix! with { Strides = [20, 1, 4] } })));
        Assert.Contains("not dense row-major", e.Message);

        e = Assert.Throws<InvalidOperationException>(() => CudnnWeightLayout.Build(desc, size,
            Tweak(0, 5, w => w with { Bias = null })));
        Assert.Contains("bias_hh_l0 gate f", e.Message);
        Assert.Contains("reports no bias", e.Message);

        e = Assert.Throws<InvalidOperationException>(() => CudnnWeightLayout.Build(desc, size,
            Tweak(0, 3, w => w with { Matrix = w.Matrix! with { Offset = 0 } })));
        Assert.Contains("overlap", e.Message);

        e = Assert.Throws<InvalidOperationException>(() => CudnnWeightLayout.Build(desc, size,
            Tweak(0, 7, w => w with { Matrix = w.Matrix! with { Offset = size - 2 } })));
        Assert.Contains("outside the", e.Message);

        var noBias = new RnnDesc(RnnMode.Gru, 5, 4, bias: false);
        var (q2, s2, _) = FakeLayout(new RnnDesc(RnnMode.Gru, 5, 4), null, gap: 0);
        e = Assert.Throws<InvalidOperationException>(() => CudnnWeightLayout.Build(noBias, s2, q2));
        Assert.Contains("bias=false", e.Message);

        var lstmProj = new RnnDesc(RnnMode.Lstm, 5, 4, projSize: 2);
        var (q3, s3, _) = FakeLayout(lstmProj, null, gap: 0);
        e = Assert.Throws<InvalidOperationException>(() => CudnnWeightLayout.Build(lstmProj, s3, (pl, ll) => ll == 8 ? default : q3(pl, ll)));
        Assert.Contains("weight_hr_l0", e.Message);
    }

    // ------------------------------------------------------------------ padding bookkeeping

    [Fact]
    public void Padded_rows_are_the_steps_past_each_length()
    {
        var fixedBatch = SequenceBatch.Create(5, 3, null);
        Assert.False(fixedBatch.IsVariable);
        Assert.Empty(fixedBatch.PaddedRuns);
        Assert.Equal([5, 5, 5], fixedBatch.Lengths);

        int[] lengths = [6, 1, 4, 3];
        var b = SequenceBatch.Create(6, 4, lengths);
        Assert.True(b.IsVariable);
        var padded = new bool[6 * 4];
        foreach (var r in b.PaddedRuns)
            for (int i = r.Start; i < r.Start + r.Count; i++) padded[i] = true;
        for (int t = 0; t < 6; t++)
        for (int n = 0; n < 4; n++)
            Assert.Equal(t >= lengths[n], padded[t * 4 + n]);
        for (int i = 1; i < b.PaddedRuns.Count; i++) // maximal runs: never adjacent
            Assert.True(b.PaddedRuns[i - 1].Start + b.PaddedRuns[i - 1].Count < b.PaddedRuns[i].Start);

        var data = Enumerable.Repeat(1f, 6 * 4 * 2).ToArray();
        b.ZeroPadding(data, features: 2);
        for (int row = 0; row < 24; row++)
        {
            Assert.Equal(padded[row] ? 0f : 1f, data[row * 2]);
            Assert.Equal(padded[row] ? 0f : 1f, data[row * 2 + 1]);
        }

        Assert.Equal([3, 3], SequenceBatch.Create(3, 2, [3, 3]).Lengths); // all full: not variable
        Assert.False(SequenceBatch.Create(3, 2, [3, 3]).IsVariable);
        var e = Assert.Throws<ArgumentException>(() => SequenceBatch.Create(3, 2, [3, 4]));
        Assert.Contains("sequence 1 has length 4", e.Message);
        Assert.Throws<ArgumentException>(() => SequenceBatch.Create(3, 2, [3]));
    }

    [Fact]
    public void Gpu_peak_comes_from_sms_lanes_and_clock()
    {
        var (h100, src) = GpuPeak.Estimate(9, 0, 132, 1_980_000);
        Assert.Equal(132 * 128 * 2 * 1.98, h100!.Value, 6);
        Assert.Contains("132 SMs x 128 FP32 lanes", src);
        var (a100, _) = GpuPeak.Estimate(8, 0, 108, 1_410_000);
        Assert.Equal(108 * 64 * 2 * 1.41, a100!.Value, 6);
        Assert.Null(GpuPeak.Estimate(2, 0, 16, 1_000_000).Gflops);
        Assert.Equal("9.10.0", CudaBackend.FormatVersion(91000));
        Assert.Equal("8.9.7", CudaBackend.FormatVersion(8907));
    }

    // ------------------------------------------------------------------ statuses and errors

    [Fact]
    public void A_bad_status_becomes_an_exception_naming_the_call_and_status()
    {
        var e = Assert.Throws<CudaException>(() => CudaException.Check(2, "cuMemAlloc_v2", "1024 bytes"));
        Assert.Equal("cuMemAlloc_v2", e.Call);
        Assert.Equal(CuResult.ErrorOutOfMemory, e.Code);
        Assert.StartsWith("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)", e.Message);
        Assert.Contains("1024 bytes", e.Message);
        Assert.Contains("CUDA_ERROR_NO_DEVICE (100)", new CudaException("cuInit", 100).Message);
        CudaException.Check(0, "cuInit"); // success does not throw

        var d = Assert.Throws<CudnnException>(() => CudnnException.Check(2000, "cudnnRNNForward"));
        Assert.Equal("cudnnRNNForward", d.Call);
        Assert.StartsWith("cudnnRNNForward failed: CUDNN_STATUS_BAD_PARAM (2000)", d.Message);
        Assert.False(d.IsNotSupported);
        Assert.True(new CudnnException("cudnnSetRNNDescriptor_v8", 3002).IsNotSupported);
        Assert.Contains("CUDNN_STATUS_NOT_SUPPORTED_SHAPE", new CudnnException("x", 3002).Message);
        Assert.Contains("CUDNN_STATUS_NOT_SUPPORTED (9)", new CudnnException("x", 9).Message); // cuDNN 8's value
        Assert.True(new CudnnException("x", 9).IsNotSupported);
        Assert.Contains("CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED", new CudnnException("cudnnCreate", 1008).Message);
        Assert.Contains("cudnnStatus_12345", new CudnnException("x", 12345).Message);
        CudnnException.Check(0, "cudnnCreate");
    }

    [Fact]
    public void Unavailable_without_the_driver_with_the_loaders_trace()
    {
        const string missing = "/nonexistent/cuda/libcuda.so.1";
        var backend = new CudaBackend(missing, null);
        Assert.Equal("cuda", backend.Name);
        Assert.Equal(BackendKind.Gpu, backend.Kind);
        Assert.True(backend.Score > BackendRegistry.All.First(b => b.Name == "cpu").Score);
        Assert.False(backend.IsAvailable);
        var reason = backend.Availability.Reason;
        Assert.StartsWith("libcuda.so.1 not found", reason);
        Assert.Contains($"{CudaLibraries.DriverPathVariable}={missing} replaces the search", reason);
        Assert.Contains(missing + ": no such file", reason);
        var e = Assert.Throws<BackendUnavailableException>(() => backend.CreateRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Gru, 2, 3), new Random(1))));
        Assert.Contains("libcuda.so.1 not found", e.Message);
        Assert.Throws<BackendUnavailableException>(() => backend.Allocate(4));
        Assert.Contains("cuDNN RNN API", backend.Description);

        var bad = new CudaBackend(null, null) { Options = new CudaBackendOptions() };
        Assert.NotNull(bad.Options);
    }

    [Fact]
    public void The_registered_cuda_backend_is_in_the_catalog()
    {
        var cuda = BackendRegistry.All.Single(b => b.Name == "cuda");
        Assert.IsType<CudaBackend>(cuda);
        Assert.Equal(BackendKind.Gpu, cuda.Kind);
        if (!cuda.IsAvailable) Assert.False(string.IsNullOrWhiteSpace(cuda.Availability.Reason));
    }

    // ------------------------------------------------------------------ the loader's places

    [Fact]
    public void Python_wheels_are_searched_and_companions_listed()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            var site = Path.Combine(root, "opt", "torch", ".venv", "lib", "python3.12", "site-packages", "nvidia");
            var cudnnLib = Path.Combine(site, "cudnn", "lib");
            var cublasLib = Path.Combine(site, "cublas", "lib");
            Directory.CreateDirectory(cudnnLib);
            Directory.CreateDirectory(cublasLib);
            foreach (var f in new[] { "libcudnn.so.9", "libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_adv.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_cnn.so.9" })
                File.WriteAllText(Path.Combine(cudnnLib, f), "not a library");
            foreach (var f in new[] { "libcublasLt.so.12", "libcublas.so.12", "libcublas.so.12.8.4.1" })
                File.WriteAllText(Path.Combine(cublasLib, f), "not a library");

            var wheel = Path.Combine(cudnnLib, "libcudnn.so.9");
            Assert.Equal([wheel], CudaLibraries.WheelLibraryPaths("libcudnn.so.9", root));
            var spec = CudaLibraries.MakeCudnnSpec(root);
            Assert.Equal("libcudnn.so.9", spec.Candidates[0]);
            Assert.Contains(wheel, spec.Candidates);
            Assert.Contains(root + "/usr/local/cuda/lib64/libcudnn.so.9", spec.Candidates);
            Assert.Contains("libcudnn.so.8", spec.Candidates);
            Assert.True(spec.Candidates.ToList().IndexOf(wheel) < spec.Candidates.ToList().IndexOf("libcudnn.so.8")); // 9 before 8
            Assert.Equal(CudaLibraries.CudnnPathVariable, spec.EnvironmentVariable);

            Assert.Equal(
            [
                Path.Combine(cublasLib, "libcublasLt.so.12"), Path.Combine(cublasLib, "libcublas.so.12"),
                Path.Combine(cudnnLib, "libcudnn_graph.so.9"), Path.Combine(cudnnLib, "libcudnn_ops.so.9"), Path.Combine(cudnnLib, "libcudnn_adv.so.9"),
            ], CudaLibraries.CompanionPaths(wheel));

            // A file that is not a library fails to load with the system loader's words, not a crash.
            var r = NativeLibraryLoader.TryLoad(spec, wheel);
            Assert.False(r.Succeeded);
            Assert.Contains(wheel, r.Describe());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Driver_spec_names_the_usual_places()
    {
        var c = CudaLibraries.DriverSpec.Candidates;
        Assert.Equal("libcuda.so.1", c[0]);
        Assert.Contains("/usr/lib/x86_64-linux-gnu/libcuda.so.1", c);
        Assert.Contains("/usr/local/nvidia/lib64/libcuda.so.1", c);
        Assert.Contains("/usr/lib/wsl/lib/libcuda.so.1", c);
        Assert.Equal("RNNFAST_CUDA_PATH", CudaLibraries.DriverSpec.EnvironmentVariable);
    }

    // ------------------------------------------------------------------ the CLI, in a process where cuda cannot load

    [Theory]
    [InlineData("check")]
    [InlineData("verify")]
    public void Cli_reports_cuda_unavailable_with_exit_2(string command)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "rnnfast.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add(command);
        psi.ArgumentList.Add("--backend");
        psi.ArgumentList.Add("cuda");
        if (command == "check") psi.ArgumentList.Add(TestPaths.Golden("gru_basic"));
        psi.Environment["RNNFAST_CUDA_PATH"] = "/nonexistent/libcuda.so.1";
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("error: backend 'cuda' is not available: libcuda.so.1 not found", stderr);
        Assert.Contains("/nonexistent/libcuda.so.1: no such file", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
