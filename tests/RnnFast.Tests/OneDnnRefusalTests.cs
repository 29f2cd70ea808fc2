// The oneDNN backend refuses what oneDNN cannot run, and never hands it to another backend: a forced "unimplemented"
// (the backend instance's test seam) becomes a NotSupportedException naming the problem, phase, layer and call; the
// bench records such a row as not run; oneDNN 2.6 really answers "unimplemented" for some requests (f16 RNNs on the
// CPU, int8 training); and every cell / direction / projection / bias / length combination RnnFast asks of it runs.
// Also OpenMP's environment: GOMP_SPINCOUNT set natively (a user's OMP_WAIT_POLICY or GOMP_SPINCOUNT kept) and the default thread count.
using System.Reflection;
using System.Text.Json;
using RnnFast.Backends;
using RnnFast.Backends.OneDnn;
using RnnFast.Bench;
using RnnFast.Bindings.OneDnn;
using Xunit;
using static RnnFast.Tests.RnnTestProblems;

namespace RnnFast.Tests;

public sealed class OneDnnRefusalTests
{
    /// <summary>A fresh backend (not the registered one, which other tests use at the same time) refusing <paramref name="phase"/>.</summary>
    private static OneDnnBackend Refusing(string phase)
    {
        var b = new OneDnnBackend { ForceUnimplementedForTests = p => p == phase };
        b.EnsureAvailable();
        return b;
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void A_refused_training_forward_throws_with_the_reason_every_time(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        var b = Refusing("forward-training");
        var (desc, inputs) = MakeProblem("lstm:I4:H6:L2:D2:P3", seed: 1);
        var parameters = RnnParameters.Create(desc, new Random(2));
        using var plan = b.CreateRnnPlan(parameters);
        using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);

        // Inference is not refused and still runs on oneDNN.
        AssertClose(oracle.Forward(inputs, training: false).Output, plan.Forward(inputs, training: false).Output, "inference output");

        for (int call = 0; call < 2; call++) // no fallback is cached: the second call is refused the same way
        {
            var e = Assert.Throws<NotSupportedException>(() => plan.Forward(inputs, training: true));
            Assert.StartsWith("onednn: oneDNN 2.", e.Message);
            Assert.Contains($"cannot run {desc} (forward-training, layer 0 of 2)", e.Message);
            Assert.EndsWith("dnnl_primitive_desc_create returned dnnl_unimplemented", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            var inner = Assert.IsType<DnnlException>(e.InnerException);
            Assert.Equal(DnnlStatus.Unimplemented, inner.Status);
        }
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void A_refused_backward_throws_after_a_forward_that_ran(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        var b = Refusing("backward");
        var (desc, inputs) = MakeProblem("gru:I3:H4:L1:D1:P0:varlen", seed: 3);
        var parameters = RnnParameters.Create(desc, new Random(4));
        using var plan = b.CreateRnnPlan(parameters);
        using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
        var f = plan.Forward(inputs, training: true);
        AssertClose(oracle.Forward(inputs, training: true).Output, f.Output, "training output");
        var e = Assert.Throws<NotSupportedException>(() => plan.Backward(inputs, f, f.Output, null, null));
        Assert.Equal($"onednn: oneDNN {b.Version} cannot run {desc} (backward): dnnl_primitive_desc_create returned dnnl_unimplemented", e.Message);
    }

    [Fact]
    public void The_plan_holds_no_other_backend_or_plan_to_fall_back_on()
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        var suspicious = typeof(OneDnnRnnPlan).GetFields(all)
            .Where(f => typeof(IRnnPlan).IsAssignableFrom(f.FieldType) || (typeof(Backend).IsAssignableFrom(f.FieldType) && f.FieldType != typeof(OneDnnBackend)))
            .Select(f => f.Name).ToList();
        Assert.True(suspicious.Count == 0, "fields that could run another backend: " + string.Join(", ", suspicious));
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void The_bench_marks_a_refused_problem_as_not_run_by_the_refusing_backend(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        var reference = BackendRegistry.All.First(x => x.Name == "reference");
        var problems = ProblemFile.Parse("lstm uni 1 3 2 5 4 training\nlstm uni 1 3 2 5 4 inference\n", "inline");
        var runner = new BenchRunner([reference, Refusing("backward")], new BenchOptions { MaxSeconds = 0.01, MaxRepetitions = 2 });
        var report = runner.Run(problems, machine: new BenchMachine("Test CPU", 2, "AVX2", "AVX2", 100, "fixed", 2, ".NET", "test", []));

        var refused = Assert.Single(report.Refused);
        Assert.Equal("onednn", refused.Backend);
        Assert.Equal(BenchPhase.Training, refused.Problem.Phase);
        Assert.False(refused.Correct);
        Assert.False(refused.Timed);
        Assert.Contains("(backward): dnnl_primitive_desc_create returned dnnl_unimplemented", refused.Refused);
        Assert.Contains("backend 'onednn' refused it", refused.Error);
        // The inference row of the same backend ran (and is right); the reference ran both.
        var inference = report.Results.Single(r => r.Backend == "onednn" && r.Problem.Phase == BenchPhase.Inference);
        Assert.True(inference.Correct && inference.Timed && !inference.NotRun, inference.Error);

        using var doc = JsonDocument.Parse(BenchWriters.ToJson(report));
        var row = doc.RootElement.GetProperty("results").EnumerateArray()
            .Single(r => r.GetProperty("backend").GetString() == "onednn" && r.GetProperty("phase").GetString() == "training");
        Assert.False(row.GetProperty("correct").GetBoolean());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("gflops").ValueKind);
        Assert.Contains("dnnl_unimplemented", row.GetProperty("refused").GetString());
    }

    // ------------------------------------------------------------------ what oneDNN 2.6 itself refuses, and what it runs

    [BackendTheory]
    [InlineData("onednn")]
    public void The_library_itself_answers_unimplemented_for_f16_and_int8_training(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        // Not requests RnnFast makes (it asks for f32), but proof that "unimplemented" is a real answer of oneDNN 2.6,
        // and that the bindings turn it into a DnnlException with that status and the call's name.
        DnnlRnnDesc Lstm(DnnlDataType dt, DnnlPropKind prop)
        {
            var wdt = dt == DnnlDataType.U8 ? DnnlDataType.S8 : dt;
            var src = DnnlMemoryDesc.ByTag([3, 2, 4], DnnlFormatTag.Tnc, dt);
            var iter = DnnlMemoryDesc.ByTag([1, 1, 2, 5], DnnlFormatTag.Ldnc, dt);
            var iterC = DnnlMemoryDesc.ByTag([1, 1, 2, 5], DnnlFormatTag.Ldnc);
            return DnnlRnnDesc.LstmForward(prop, DnnlRnnDirection.UnidirectionalLeft2Right, src, iter, iterC,
                DnnlMemoryDesc.ByTag([1, 1, 4, 4, 5], DnnlFormatTag.Any, wdt), DnnlMemoryDesc.ByTag([1, 1, 5, 4, 5], DnnlFormatTag.Any, wdt),
                DnnlMemoryDesc.ByTag([1, 1, 4, 5], DnnlFormatTag.Ldgo), DnnlMemoryDesc.ByTag([3, 2, 5], DnnlFormatTag.Tnc, dt), iter, iterC);
        }
        var f16 = Assert.Throws<DnnlException>(() => Lstm(DnnlDataType.F16, DnnlPropKind.ForwardInference));
        Assert.Equal(DnnlStatus.Unimplemented, f16.Status);
        Assert.Equal("dnnl_lstm_forward_desc_init", f16.Call);
        var u8 = Assert.Throws<DnnlException>(() => Lstm(DnnlDataType.U8, DnnlPropKind.ForwardTraining));
        Assert.Equal(DnnlStatus.Unimplemented, u8.Status);
        using var engine = DnnlEngine.Create();
        using var f32 = DnnlPrimitiveDesc.Create(Lstm(DnnlDataType.F32, DnnlPropKind.ForwardTraining), engine); // f32 training: implemented
    }

    public static IEnumerable<object[]> Combinations() =>
        from mode in new[] { "lstm", "gru", "rnn_relu", "rnn_tanh" }
        from d in new[] { 1, 2 }
        from p in mode == "lstm" ? new[] { 0, 3 } : new[] { 0 }
        from bias in new[] { "", ":nobias" }
        from varlen in new[] { "", ":varlen" }
        select new object[] { "onednn", $"{mode}:I5:H6:L2:D{d}:P{p}{bias}{varlen}:h0" };

    [BackendTheory]
    [MemberData(nameof(Combinations))]
    public void Every_combination_runs_inference_training_and_backward_on_onednn(string backend, string spec)
    {
        // oneDNN 2.6 refuses none of these (checked against a wider sweep of sizes, too): each phase builds its
        // primitives and runs; correctness is the Random_problem_matches_the_reference suite's job.
        var (desc, inputs) = MakeProblem(spec, seed: 5);
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(6)));
        var inf = plan.Forward(inputs, training: false);
        var f = plan.Forward(inputs, training: true);
        var g = plan.Backward(inputs, f, f.Output, f.HN, f.CN);
        AssertClose(f.Output, inf.Output, "inference vs training output");
        Assert.Contains(g.DParams.Tensors, t => t.ToArray().Any(v => v != 0));
    }

    // ------------------------------------------------------------------ OpenMP's environment and thread count

    [Fact]
    public void SetDefault_writes_the_native_environment_and_keeps_a_value_already_there()
    {
        string name = "RNNFAST_TEST_SETENV_" + Guid.NewGuid().ToString("N");
        if (!OpenMpEnvironment.IsSupported)
        {
            Assert.Throws<PlatformNotSupportedException>(() => OpenMpEnvironment.SetDefault(name, "PASSIVE"));
            return;
        }
        Assert.Null(OpenMpEnvironment.Get(name));
        var first = OpenMpEnvironment.SetDefault(name, "PASSIVE");
        Assert.Equal(new OpenMpSetting(name, "PASSIVE", SetHere: true), first);
        Assert.Equal("PASSIVE", OpenMpEnvironment.Get(name));
        var second = OpenMpEnvironment.SetDefault(name, "ACTIVE"); // overwrite = 0: the value already there stays
        Assert.Equal("PASSIVE", second.Value);
        Assert.Equal("PASSIVE", OpenMpEnvironment.Get(name));
        Assert.Throws<ArgumentException>(() => OpenMpEnvironment.SetDefault("A=B", "1"));
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void The_probe_left_openmp_spinning_briefly_unless_the_user_chose(string backend)
    {
        var b = BackendRegistry.Get(backend);
        Assert.True(b.IsAvailable);
        // the environment the process started with
        string? policy = Environment.GetEnvironmentVariable(OpenMpEnvironment.WaitPolicy);
        string? spin = Environment.GetEnvironmentVariable(OpenMpEnvironment.SpinCount);
        string? native = OpenMpEnvironment.Get(OpenMpEnvironment.SpinCount);
        if (policy != null)
        {
            Assert.Equal(spin, native);                                  // the user's policy decides: nothing set
            Assert.Contains($"OMP_WAIT_POLICY={policy} (the user's)", b.Description);
        }
        else if (spin == null)
        {
            Assert.Equal(OpenMpEnvironment.ShortSpinCount, native);
            Assert.Contains($"GOMP_SPINCOUNT={OpenMpEnvironment.ShortSpinCount} (set by rnnfast)", b.Description);
        }
        else
        {
            Assert.Equal(spin, native);
            Assert.Contains($"GOMP_SPINCOUNT={spin} (the user's)", b.Description);
        }
        Assert.DoesNotContain("cpu backend instead", b.Description);
        Assert.Contains("refused with a NotSupportedException", b.Description);
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void Threads_default_to_the_usable_cores_and_are_applied_on_the_executing_thread(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        var b = new OneDnnBackend();
        b.EnsureAvailable();
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(OpenMpEnvironment.NumThreads)))
            Assert.Equal(Environment.ProcessorCount, b.Threads);
        var (desc, inputs) = MakeProblem("rnn_tanh:I3:H4:L1:D1:P0", seed: 7);
        using var plan = b.CreateRnnPlan(RnnParameters.Create(desc, new Random(8)));
        // A dedicated thread: its OpenMP count is its own, so nothing else running in the test process changes it.
        int seenOne = 0, seenTwo = 0, seenDefault = 0;
        var t = new Thread(() =>
        {
            b.Threads = 1;
            plan.Forward(inputs, training: false);
            seenOne = DnnlThreads.Current;
            b.Threads = 2;
            plan.Forward(inputs, training: false);
            seenTwo = DnnlThreads.Current;
            b.Threads = 0;
            plan.Forward(inputs, training: false);
            seenDefault = DnnlThreads.Current;
        });
        t.Start();
        t.Join();
        if (DnnlThreads.CanSet) // Debian's oneDNN threads with libgomp, whose per-thread count can be read back
            Assert.Equal((1, 2, b.Threads), (seenOne, seenTwo, seenDefault));
        else
            Assert.Equal(Environment.ProcessorCount, seenOne); // no OpenMP runtime to ask: the count is not settable
    }
}
