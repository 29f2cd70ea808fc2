// The OpenCL backend beyond the golden suite: status names, the loader's trace in the unavailable reason, tile choice,
// the "name:qualifier" registry mechanism (no device needed); and on a device (PoCL in CI): the SGEMM kernel against a
// host loop, build failures naming the build log, event profiling, the program binary cache, random problems against
// the reference (variable lengths, projection, stacks, bidirectional, h0/c0, no bias), device-resident tensors,
// weight updates, concurrent inference, device selection and `rnnfast info`. Device tests are [BackendTheory] rows
// for "opencl", skipped with the backend's reason where no OpenCL device exists.
using RnnFast.Backends;
using RnnFast.Backends.OpenCL;
using RnnFast.Bindings.OpenCL;
using RnnFast.Native;
using Xunit;
using static RnnFast.Tests.RnnTestProblems;

namespace RnnFast.Tests;

public sealed class OpenCLTests
{
    // ------------------------------------------------------------------ no device needed

    [Fact]
    public void A_bad_status_becomes_an_exception_naming_the_call_and_the_status()
    {
        var e = Assert.Throws<CLException>(() => CLException.Check(-11, "clBuildProgram", "build log: x"));
        Assert.Equal("clBuildProgram", e.Call);
        Assert.Equal(ErrorCodes.BuildProgramFailure, e.Code);
        Assert.Equal("clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE (-11); build log: x", e.Message);
        Assert.Equal("CL_PLATFORM_NOT_FOUND_KHR", CLException.StatusName(-1001));
        Assert.Equal("CL_INVALID_KERNEL_ARGS", CLException.StatusName(-52));
        Assert.Equal("unknown OpenCL status", CLException.StatusName(-9999));
        CLException.Check(0, "fine"); // success does not throw
    }

    [Fact]
    public void Every_error_code_has_its_cl_h_name()
    {
        foreach (var code in Enum.GetValues<ErrorCodes>())
        {
            var name = CLException.StatusName((int)code);
            Assert.StartsWith("CL_", name);
            // the enum's words, upper-cased, are the cl.h name (e.g. InvalidGLObject -> CL_INVALID_GL_OBJECT)
            var squashed = name[3..].Replace("_", "");
            Assert.Equal(code.ToString().ToUpperInvariant(), squashed);
        }
    }

    [Fact]
    public void A_missing_library_makes_the_backend_unavailable_with_the_loader_trace()
    {
        const string missing = "/nonexistent/opencl/libOpenCL.so.1";
        var load = NativeLibraryLoader.TryLoad(CLLibrary.Spec, missing);
        Assert.False(load.Succeeded);
        Assert.Single(load.Trace);
        Assert.Contains(CLLibrary.PathVariable, load.Describe());

        var backend = new OpenCLBackend(missing);
        Assert.False(backend.IsAvailable);
        Assert.Contains(missing + ": no such file", backend.Availability.Reason);
        Assert.Contains("OpenCL library not found", backend.Availability.Reason);
        Assert.Equal(BackendKind.Gpu, backend.Kind);
        var e = Assert.Throws<BackendUnavailableException>(() => backend.CreateRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Lstm, 2, 3), new Random(1))));
        Assert.Contains(missing, e.Message);
        Assert.Contains(missing, string.Join("\n", backend.DescribeDevices()));

        // the inventory built from a failed load says why there is no device
        var inventory = OpenCLInventory.Enumerate(load);
        Assert.Empty(inventory.Devices);
        Assert.Null(inventory.Best);
        Assert.Contains(missing, inventory.Problem);
        Assert.Contains(missing, Assert.Single(inventory.Describe()));
    }

    [Fact]
    public void Library_spec_tries_the_icd_loader_names()
    {
        Assert.Equal("OpenCL", CLLibrary.Spec.Family);
        Assert.Equal("RNNFAST_OPENCL_PATH", CLLibrary.Spec.EnvironmentVariable);
        Assert.Equal("libOpenCL.so.1", CLLibrary.Spec.Candidates[0]);
        Assert.Contains("libOpenCL.so", CLLibrary.Spec.Candidates);
    }

    [Fact]
    public void A_backend_without_qualifiers_rejects_one_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => BackendRegistry.Get("reference:1"));
        Assert.Contains("'reference' takes no qualifier", e.Message);
        Assert.Contains("reference:1", e.Message);
        e = Assert.Throws<ArgumentException>(() => BackendRegistry.Get("reference:"));
        Assert.Contains("empty qualifier", e.Message);
        e = Assert.Throws<ArgumentException>(() => BackendRegistry.Get("nosuch:0"));
        Assert.Contains("unknown backend 'nosuch'", e.Message);
        Assert.Equal("cpu", BackendRegistry.Get(" cpu ").Name); // plain names are unchanged
    }

    [Fact]
    public void OpenCL_qualifier_must_be_a_device_number()
    {
        var opencl = BackendRegistry.All.Single(b => b.Name == "opencl");
        var e = Assert.Throws<ArgumentException>(() => opencl.WithQualifier("gpu"));
        Assert.Contains("opencl:gpu", e.Message);
        Assert.Contains("device number", e.Message);
        Assert.Throws<ArgumentException>(() => BackendRegistry.Get("opencl:-1"));
    }

    [Fact]
    public void Tiles_fit_the_device_they_are_chosen_for()
    {
        static CLDeviceProperties Props(DeviceType type, int maxWg, long local) =>
            new("dev", "vendor", "OpenCL 3.0", "1", "OpenCL C 1.2", type, 8, 1000, 1L << 30, local, 1L << 28, maxWg, true, true, 16);

        var gpu = GemmTiles.ChooseFor(Props(DeviceType.Gpu, 1024, 48 * 1024));
        Assert.Equal((64, 64), (gpu.TM, gpu.TN));
        Assert.Equal(256, gpu.LX * gpu.LY);
        Assert.Equal(64, gpu.Local1D);
        Assert.Equal(GemmVariant.Tiled, gpu.Variant);
        var cpu = GemmTiles.ChooseFor(Props(DeviceType.Cpu, 4096, 2 << 20));
        Assert.Equal((32, 32), (cpu.TM, cpu.TN));
        Assert.Equal(GemmVariant.Vector, cpu.Variant);
        Assert.Equal(16, cpu.VW); // the device's preferred float vector width
        Assert.Contains("-DVW=16 ", cpu.BuildOptions);
        var smallGpu = GemmTiles.ChooseFor(Props(DeviceType.Gpu, 128, 16 * 1024));
        Assert.Equal((32, 32), (smallGpu.TM, smallGpu.TN));
        var tiny = GemmTiles.ChooseFor(Props(DeviceType.Gpu, 16, 1024));
        foreach (var (t, maxWg, local) in new[] { (gpu, 1024, 48L * 1024), (cpu, 4096, 2L << 20), (smallGpu, 128, 16L * 1024), (tiny, 16, 1024L) })
        {
            Assert.True(t.LX * t.LY <= maxWg, $"{t} work-group exceeds {maxWg}");
            Assert.True(t.LocalBytes <= local, $"{t} local memory exceeds {local}");
            Assert.True(t.Local1D <= maxWg);
            Assert.Equal(0, t.TM % t.WM);
            Assert.Equal(0, t.TN % t.WN);
            Assert.Contains($"-DTM={t.TM} ", t.BuildOptions);
            Assert.DoesNotContain("fast", t.BuildOptions); // precise math only
        }
    }

    [Fact]
    public void Every_kernel_the_backend_creates_is_in_the_embedded_source()
    {
        var source = KernelProgram.Source;
        foreach (var name in new[] { "sgemm", "sgemm_vec", "rnn_step_fwd", "lstm_step_fwd", "lstm_proj_finish", "gru_step_fwd", "rnn_step_bwd",
                     "lstm_proj_bwd_total", "lstm_step_bwd", "gru_step_bwd", "column_sums" })
            Assert.Contains($"void {name}(", source);
        Assert.DoesNotContain("native_", source); // precise exp/tanh, never the native_* approximations
        foreach (var file in KernelProgram.Files) Assert.Contains("// ---- " + file, source);
    }

    [Fact]
    public void Every_public_type_of_the_opencl_assemblies_has_an_xml_summary()
    {
        foreach (var asm in new[] { typeof(OpenCLBackend).Assembly, typeof(CL).Assembly })
        {
            var xmlPath = Path.ChangeExtension(asm.Location, ".xml");
            Assert.True(File.Exists(xmlPath), $"{xmlPath} missing");
            var documented = System.Xml.Linq.XDocument.Load(xmlPath).Descendants("member")
                .Where(m => m.Element("summary") is { } s && s.Value.Trim().Length > 0)
                .Select(m => (string)m.Attribute("name")!)
                .ToHashSet();
            var missing = asm.GetExportedTypes().Select(t => "T:" + t.FullName!.Replace('+', '.')).Where(n => !documented.Contains(n)).ToList();
            Assert.True(missing.Count == 0, $"{asm.GetName().Name}: public types without an XML summary: " + string.Join(", ", missing));
        }
    }

    // ------------------------------------------------------------------ on a device

    private static OpenCLDevice DeviceOf(string backend) => ((OpenCLBackend)BackendRegistry.Get(backend)).Device;

    [BackendTheory]
    [InlineData("opencl", "tiled", false, false)]
    [InlineData("opencl", "tiled", true, false)]
    [InlineData("opencl", "tiled", false, true)]
    [InlineData("opencl", "tiled", true, true)]
    [InlineData("opencl", "vector", false, false)]
    [InlineData("opencl", "vector", true, false)]
    public void Sgemm_matches_a_host_loop_with_transposes_offsets_beta_and_bias(string backend, string form, bool transA, bool transB)
    {
        var variant = form == "tiled" ? GemmVariant.Tiled : GemmVariant.Vector;
        var dev = DeviceOf(backend);
        const int M = 37, N = 70, K = 19, offA = 5, offB = 3, offC = 7, offBias1 = 2, offBias2 = 80;
        var r = new Random(3);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
        int lda = transA ? M + 2 : K + 1, ldb = transB ? K + 3 : N + 1, ldc = N + 4;
        var a = Rand(offA + (transA ? K * lda : M * lda));
        var b = Rand(offB + (transB ? N * ldb : K * ldb));
        var c = Rand(offC + M * ldc);
        var bias = Rand(offBias2 + N);
        var want = (float[])c.Clone();
        for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++)
        {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(transA ? a[offA + k * lda + m] : a[offA + m * lda + k]) * (transB ? b[offB + n * ldb + k] : b[offB + k * ldb + n]);
            want[offC + m * ldc + n] = (float)(s + 0.5 * c[offC + m * ldc + n] + bias[offBias1 + n] + bias[offBias2 + n]);
        }
        var da = dev.Upload(a);
        var db = dev.Upload(b);
        var dc = dev.Upload(c);
        var dbias = dev.Upload(bias);
        lock (dev.Gate) dev.Gemm(M, N, K, da, offA, lda, transA, db, offB, ldb, transB, dc, offC, ldc, 0.5f, dbias, offBias1, offBias2, variant);
        var got = new float[c.Length];
        dev.Download(dc, 0, got);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= 1e-5 + 1e-5 * Math.Abs(want[i]), $"C[{i}]: expected {want[i]}, got {got[i]}");
        // elements outside the M x N block (ldc padding, the leading offset) are untouched
        Assert.Equal(c[..offC], got[..offC]);
        Assert.Equal(c[offC + N], got[offC + N]);
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void The_vector_sgemm_refuses_a_transposed_b(string backend)
    {
        var dev = DeviceOf(backend);
        using var x = dev.NewBuffer(16);
        lock (dev.Gate)
        {
            var e = Assert.Throws<ArgumentException>(() => dev.Gemm(2, 2, 2, x, 0, 2, false, x, 0, 2, true, x, 0, 2, 0f, variant: GemmVariant.Vector));
            Assert.Contains("transB", e.Message);
        }
    }

    [BackendTheory]
    [InlineData("opencl", "lstm:I40:H37:L2:D2:P19:varlen:h0")]
    [InlineData("opencl", "gru:I33:H41:L1:D2:P0:varlen")]
    [InlineData("opencl", "rnn_relu:I9:H70:L2:D1:P0:h0")]
    public void Plans_on_the_other_sgemm_form_match_the_reference(string backend, string problem)
    {
        // The device runs one SGEMM form (vector on CPU devices, tiled on GPUs); a runtime of the test's own with the
        // other form checks that one end to end here too (on PoCL: the GPU's local-memory kernel).
        var dev = DeviceOf(backend);
        var other = dev.Tiles with { Variant = dev.Tiles.Variant == GemmVariant.Tiled ? GemmVariant.Vector : GemmVariant.Tiled };
        var b = new OpenCLBackend(OpenCLDevice.CreateUncached(dev.Entry, other));
        Assert.Equal(other.Variant, b.Device.Tiles.Variant);
        var (desc, inputs) = MakeProblem(problem, seed: 8);
        var parameters = RnnParameters.Create(desc, new Random(9));
        using var ours = b.CreateRnnPlan(parameters);
        using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
        var fa = ours.Forward(inputs, training: true);
        var fb = oracle.Forward(inputs, training: true);
        AssertClose(fb.Output, fa.Output, "output");
        AssertClose(fb.HN, fa.HN, "h_n");
        var dY = RandomTensor(new Random(10), fa.Output.Shape);
        var ga = ours.Backward(inputs, fa, dY, null, null);
        var gb = oracle.Backward(inputs, fb, dY, null, null);
        AssertClose(gb.DInput, ga.DInput, "grad_input");
        AssertClose(gb.DH0, ga.DH0, "grad_h0");
        for (int i = 0; i < parameters.Ids.Count; i++)
            AssertClose(gb.DParams.Tensors[i], ga.DParams.Tensors[i], "grad." + parameters.Ids[i].TorchName);
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void A_failing_build_names_the_call_and_carries_the_build_log(string backend)
    {
        var dev = DeviceOf(backend);
        using var program = dev.Cl.CreateProgramWithSource(dev.Context, "__kernel void broken(__global float* x) { x[0] = undefined_name; }");
        var e = Assert.Throws<CLException>(() => dev.Cl.BuildProgram(program, dev.Entry.Device, ""));
        Assert.Equal("clBuildProgram", e.Call);
        Assert.Equal(ErrorCodes.BuildProgramFailure, e.Code);
        Assert.StartsWith("clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE (-11); build log: ", e.Message);
        Assert.Contains("undefined_name", e.Message);

        var bad = Assert.Throws<CLException>(() => dev.Cl.CreateKernel(dev.Kernels.Program, "no_such_kernel"));
        Assert.Equal("clCreateKernel", bad.Call);
        Assert.Equal(ErrorCodes.InvalidKernelName, bad.Code);
        Assert.Contains("no_such_kernel", bad.Message);
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void Events_carry_profiling_timestamps(string backend)
    {
        var dev = DeviceOf(backend);
        var cl = dev.Cl;
        using var queue = cl.CreateCommandQueue(dev.Context, dev.Entry.Device, CommandQueueProperties.ProfilingEnable);
        Assert.True(queue.Profiling);
        using var buffer = dev.NewBuffer(256 * 256);
        using var sums = dev.NewBuffer(256);
        // a kernel object of the test's own, on a queue of its own: no shared argument state is touched
        using var kernel = cl.CreateKernel(dev.Kernels.Program, "column_sums");
        var a = new ArgWriter(cl, kernel);
        a.Int(256); a.Int(256); a.Buf(buffer); a.Int(0); a.Buf(sums); a.Int(0);
        using var fill = cl.EnqueueFillBuffer(queue, buffer, 0.5f, 0, buffer.SizeInBytes, returnEvent: true)!;
        using var run = cl.EnqueueNDRangeKernel(queue, kernel, [(nuint)256], [(nuint)dev.Tiles.Local1D], returnEvent: true)!;
        cl.WaitForEvents(fill, run);
        ulong queued = cl.GetEventProfilingInfo(run, ProfilingInfo.Queued);
        ulong start = cl.GetEventProfilingInfo(run, ProfilingInfo.Start);
        ulong end = cl.GetEventProfilingInfo(run, ProfilingInfo.End);
        Assert.True(queued > 0 && queued <= start && start <= end, $"queued {queued}, start {start}, end {end}");
        var host = new float[256];
        cl.EnqueueReadBuffer(queue, sums, 0, host.AsSpan());
        Assert.All(host, v => Assert.Equal(128f, v)); // 256 rows of 0.5

        // a queue without profiling answers with the status, named
        using var plain = cl.EnqueueFillBuffer(dev.Queue, buffer, 0f, 0, 4, returnEvent: true)!;
        cl.WaitForEvents(plain);
        var e = Assert.Throws<CLException>(() => cl.GetEventProfilingInfo(plain, ProfilingInfo.Start));
        Assert.Equal(ErrorCodes.ProfilingInfoNotAvailable, e.Code);
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void Program_binaries_are_cached_on_disk_and_a_bad_one_is_rebuilt(string backend)
    {
        var dev = DeviceOf(backend);
        var dir = Path.Combine(Path.GetTempPath(), "rnnfast-clcache-" + Guid.NewGuid().ToString("N"));
        try
        {
            string options = dev.Tiles.BuildOptions;
            var first = KernelProgram.Build(dev.Cl, dev.Context, dev.Entry, options, dir);
            using (first.Program)
                Assert.StartsWith("compiled from source, binary cached at ", first.Origin);
            var path = KernelProgram.CachePath(dir, dev.Entry, options);
            Assert.True(File.Exists(path));

            var second = KernelProgram.Build(dev.Cl, dev.Context, dev.Entry, options, dir);
            using (second.Program)
            {
                Assert.Equal($"binary cache {path}", second.Origin);
                using var kernel = dev.Cl.CreateKernel(second.Program, "sgemm"); // the cached program is usable
            }

            File.WriteAllBytes(path, [1, 2, 3, 4]); // a corrupt binary: compiled again from source, and replaced
            var third = KernelProgram.Build(dev.Cl, dev.Context, dev.Entry, options, dir);
            using (third.Program)
                Assert.StartsWith("compiled from source", third.Origin);
            Assert.NotEqual(4, new FileInfo(path).Length);

            // another option set is another cache entry
            Assert.NotEqual(path, KernelProgram.CachePath(dir, dev.Entry, options + " -DX=1"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    public static IEnumerable<object[]> Problems() =>
        from p in new[]
        {
            "lstm:I5:H7:L1:D1:P0:varlen",
            "lstm:I5:H7:L2:D2:P0:varlen:h0",
            "lstm:I4:H6:L1:D1:P3",
            "lstm:I4:H6:L2:D2:P3:varlen:h0",
            "lstm:I5:H7:L1:D1:P0:nobias:varlen",
            "gru:I5:H6:L2:D2:P0:varlen:h0",
            "gru:I3:H4:L1:D1:P0:nobias",
            "rnn_relu:I5:H6:L2:D1:P0:varlen",
            "rnn_tanh:I5:H6:L1:D2:P0:varlen:h0",
            "lstm:I40:H37:L2:D2:P19:varlen:h0", // several SGEMM tiles in every direction
            "gru:I33:H41:L1:D2:P0:varlen",
        }
        select new object[] { "opencl", p };

    [BackendTheory]
    [MemberData(nameof(Problems))]
    public void Random_problem_matches_the_reference(string backend, string problem)
    {
        RnnTestProblems.AssertMatchesReference(backend, problem, run =>
        {
            // only some upstream gradients given (the others are zero)
            var gOnlyH = run.Plan.Backward(run.Inputs, run.Forward, null, run.DHN, null);
            var rOnlyH = run.Oracle.Backward(run.Inputs, run.OracleForward, null, run.DHN, null);
            AssertClose(rOnlyH.DInput, gOnlyH.DInput, "grad_input from h_n only");
        });
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void Device_tensors_stay_on_the_device_and_give_the_host_answers(string backend)
    {
        var b = (OpenCLBackend)BackendRegistry.Get(backend);
        var (desc, host) = MakeProblem("lstm:I6:H8:L2:D2:P0:h0", seed: 21);
        var parameters = RnnParameters.Create(desc, new Random(22));
        using var plan = b.CreateRnnPlan(parameters);
        var onDevice = new RnnInputs(host.Input.To(b), host.H0!.To(b), host.C0!.To(b));
        Assert.IsType<OpenCLStorage>(onDevice.Input.Storage);
        Assert.Equal(host.Input.ToArray(), onDevice.Input.ToArray()); // To / ToHost round trip

        var want = plan.Forward(host, training: true);
        var got = plan.Forward(onDevice, training: true);
        Assert.IsType<OpenCLStorage>(got.Output.Storage);
        Assert.IsType<OpenCLStorage>(got.HN.Storage);
        Assert.False(got.Output.IsHost);
        Assert.Throws<InvalidOperationException>(() => got.Output.Span.Length);
        Assert.Equal(want.Output.ToArray(), got.Output.ToArray());
        Assert.Equal(want.HN.ToArray(), got.HN.ToArray());
        Assert.Equal(want.CN!.ToArray(), got.CN!.ToArray());

        var dY = RandomTensor(new Random(5), want.Output.Shape);
        var gHost = plan.Backward(host, want, dY, null, null);
        var gDev = plan.Backward(onDevice, got, dY.To(b), null, null);
        Assert.IsType<OpenCLStorage>(gDev.DInput.Storage);
        Assert.Equal(gHost.DInput.ToArray(), gDev.DInput.ToArray());
        Assert.Equal(gHost.DH0.ToArray(), gDev.DH0.ToArray());
        for (int i = 0; i < parameters.Ids.Count; i++)
            Assert.Equal(gHost.DParams.Tensors[i].ToArray(), gDev.DParams.Tensors[i].ToArray());

        // a workspace of another plan is refused, by name
        using var other = b.CreateRnnPlan(parameters);
        var e = Assert.Throws<ArgumentException>(() => other.Backward(host, want, dY, null, null));
        Assert.Contains("workspace", e.Message);
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void Changed_weights_are_uploaded_again(string backend)
    {
        RnnTestProblems.AssertWeightUpdatesAreSeen(backend, "gru:I4:H5:L2:D2:P0");
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void Concurrent_inference_gives_the_same_answers(string backend)
    {
        RnnTestProblems.AssertConcurrentInferenceAgrees(backend, calls: 12, threads: 4);
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void Devices_are_chosen_by_number_and_listed_by_info(string backend)
    {
        var best = (OpenCLBackend)BackendRegistry.Get(backend);
        var inventory = OpenCLInventory.Current;
        Assert.NotEmpty(inventory.Devices);
        var bestEntry = inventory.Best!;
        Assert.Same(bestEntry.Device, best.Device.Entry.Device);
        Assert.DoesNotContain(inventory.Devices, d => d.Properties.Available && d.Properties.CompilerAvailable &&
            (d.Properties.IsGpu && !bestEntry.Properties.IsGpu));

        var numbered = (OpenCLBackend)BackendRegistry.Get($"opencl:{bestEntry.Index}");
        Assert.Equal($"opencl:{bestEntry.Index}", numbered.Name);
        Assert.Same(numbered, BackendRegistry.Get($"opencl:{bestEntry.Index}")); // one instance per device number
        Assert.Same(best.Device, numbered.Device);                              // one context per device
        var (desc, inputs) = MakeProblem("rnn_tanh:I3:H4:L1:D1:P0", seed: 1);
        var parameters = RnnParameters.Create(desc, new Random(2));
        using var plan = numbered.CreateRnnPlan(parameters);
        using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
        AssertClose(oracle.Forward(inputs, false).Output, plan.Forward(inputs, false).Output, "output on opencl:N");

        var e = Assert.Throws<ArgumentException>(() => BackendRegistry.Get($"opencl:{inventory.Devices.Count}"));
        Assert.Contains("no such OpenCL device", e.Message);
        Assert.Contains(inventory.Devices[0].Properties.Name, e.Message);

        // Kind and score follow the device: a CPU device (PoCL) ranks below cpu and onednn, so `auto` does not pick it
        if (best.Device.Entry.Properties.IsGpu)
        {
            Assert.Equal(BackendKind.Gpu, best.Kind);
            Assert.True(best.Score > BackendRegistry.Get("cpu").Score);
        }
        else
        {
            Assert.Equal(BackendKind.Cpu, best.Kind);
            Assert.True(best.Score < 5 && best.Score > 1, $"score {best.Score}");
            Assert.NotEqual("opencl", BackendRegistry.Auto().Name);
        }

        // bench and check take the numbered name too
        var (benched, missing) = RnnFast.Cli.BenchCommand.SelectBackends($"opencl:{bestEntry.Index},cpu");
        Assert.Empty(missing);
        Assert.Equal([$"opencl:{bestEntry.Index}", "cpu"], benched.Select(x => x.Name));
        var checkOut = new StringWriter();
        Assert.Equal(0, RnnFast.Cli.CheckCommand.Run([TestPaths.Golden("gru_basic")], $"opencl:{bestEntry.Index}", checkOut, new StringWriter()));
        Assert.Contains($"on opencl:{bestEntry.Index}:", checkOut.ToString());

        var info = new StringWriter();
        RnnFast.Cli.InfoCommand.Run(info);
        var text = info.ToString();
        Assert.Contains("platform 0: ", text);
        Assert.Contains($"opencl:{bestEntry.Index}  {bestEntry.Properties.Name}", text);
        Assert.Contains("compute units", text);
        Assert.Contains("max work-group", text);
        Assert.Contains("<- opencl", text);
    }

    [BackendTheory]
    [InlineData("opencl")]
    public void In_a_fresh_process_a_missing_library_or_platform_is_the_reason_given(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        var emptyVendors = Directory.CreateTempSubdirectory("rnnfast-no-icd-");
        try
        {
            // RNNFAST_OPENCL_PATH naming a missing file: the loader tries only it
            var (code, text) = RunRnnfast(["check", TestPaths.Golden("gru_basic"), "--backend", "opencl"],
                ("RNNFAST_OPENCL_PATH", "/nonexistent/libOpenCL.so.1"));
            Assert.Equal(2, code);
            Assert.Contains("backend 'opencl' is not available: OpenCL library not found (RNNFAST_OPENCL_PATH=/nonexistent/libOpenCL.so.1", text);
            Assert.Contains("/nonexistent/libOpenCL.so.1: no such file", text);

            // the ICD loader with no vendor driver registered: no platform, said so
            (code, text) = RunRnnfast(["info"], ("OCL_ICD_VENDORS", emptyVendors.FullName));
            Assert.Equal(0, code);
            Assert.Contains("opencl     -    score    -  unavailable: no OpenCL platform: clGetPlatformIDs failed: CL_PLATFORM_NOT_FOUND_KHR (-1001)", text);
        }
        finally
        {
            emptyVendors.Delete(recursive: true);
        }
    }

    /// <summary>Runs the rnnfast beside the tests in a new process with extra environment variables; exit code and all output.</summary>
    private static (int Code, string Output) RunRnnfast(string[] args, params (string Name, string Value)[] environment)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "rnnfast.dll");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
        var psi = new System.Diagnostics.ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        psi.Environment.Remove("RNNFAST_BACKEND");
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "rnnfast did not finish within 60 s");
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
