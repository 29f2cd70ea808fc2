// The oneDNN backend beyond the golden suite: weight-layout conversion (no library needed), the loader's trace in the
// unavailable reason, status -> exception mapping, and random problems against the reference (variable lengths,
// projection, stacks, bidirectional, h0/c0, weight updates, concurrent inference). Library-dependent tests are
// [BackendTheory] rows for "onednn", skipped with the backend's reason where libdnnl is missing.
using RnnFast.Backends;
using RnnFast.Backends.OneDnn;
using RnnFast.Bindings.OneDnn;
using RnnFast.Native;
using Xunit;
using static RnnFast.Tests.RnnTestProblems;

namespace RnnFast.Tests;

public sealed class OneDnnTests
{
    // ------------------------------------------------------------------ layout conversion (pure)

    [Fact]
    public void Lstm_weights_become_ldigo_with_the_same_gate_order()
    {
        const int G = 4, H = 2, I = 3;
        var w = new float[G * H * I];
        for (int g = 0; g < G; g++)
        for (int o = 0; o < H; o++)
        for (int i = 0; i < I; i++) w[(g * H + o) * I + i] = 100 * g + 10 * o + i;
        var dst = new float[w.Length];
        OneDnnLayout.ToLdigo(w, dst, G, H, I, OneDnnLayout.GatePermutation(RnnMode.Lstm));
        for (int i = 0; i < I; i++)
        for (int k = 0; k < G; k++)
        for (int o = 0; o < H; o++)
            Assert.Equal(100 * k + 10 * o + i, dst[(i * G + k) * H + o]);
    }

    [Fact]
    public void Gru_gates_are_reordered_to_u_r_n()
    {
        const int G = 3, H = 2, I = 2;
        var w = new float[G * H * I];
        for (int g = 0; g < G; g++)
        for (int o = 0; o < H; o++)
        for (int i = 0; i < I; i++) w[(g * H + o) * I + i] = 100 * g + 10 * o + i;
        var dst = new float[w.Length];
        OneDnnLayout.ToLdigo(w, dst, G, H, I, OneDnnLayout.GatePermutation(RnnMode.Gru));
        int[] torchGateOf = [1, 0, 2]; // oneDNN u = PyTorch z (1), r = r (0), c~ = n (2)
        for (int i = 0; i < I; i++)
        for (int k = 0; k < G; k++)
        for (int o = 0; o < H; o++)
            Assert.Equal(100 * torchGateOf[k] + 10 * o + i, dst[(i * G + k) * H + o]);
    }

    [Theory]
    [InlineData(RnnMode.Lstm)]
    [InlineData(RnnMode.Gru)]
    [InlineData(RnnMode.RnnTanh)]
    public void Ldigo_round_trips(RnnMode mode)
    {
        int G = RnnDesc.GateCountOf(mode), H = 5, I = 7;
        var r = new Random(3);
        var w = Enumerable.Range(0, G * H * I).Select(_ => (float)r.NextDouble()).ToArray();
        var ldigo = new float[w.Length];
        var perm = OneDnnLayout.GatePermutation(mode);
        OneDnnLayout.ToLdigo(w, ldigo, G, H, I, perm);
        var back = new float[w.Length];
        OneDnnLayout.AddFromLdigo(ldigo, back, G, H, I, perm);
        Assert.Equal(w, back);
    }

    [Fact]
    public void Lstm_and_rnn_biases_are_summed()
    {
        const int H = 3;
        var bih = Enumerable.Range(0, 4 * H).Select(i => (float)i).ToArray();
        var bhh = Enumerable.Range(0, 4 * H).Select(i => 1000f * i).ToArray();
        var b = new float[4 * H];
        OneDnnLayout.ToBias(RnnMode.Lstm, bih, bhh, b, H);
        for (int j = 0; j < 4 * H; j++) Assert.Equal(1001f * j, b[j]);

        var rb = new float[H];
        OneDnnLayout.ToBias(RnnMode.RnnRelu, bih.AsSpan(0, H), bhh.AsSpan(0, H), rb, H);
        Assert.Equal([0f, 1001f, 2002f], rb);

        var none = Enumerable.Repeat(9f, 4 * H).ToArray();
        OneDnnLayout.ToBias(RnnMode.Lstm, default, default, none, H);
        Assert.All(none, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Gru_has_four_bias_gates_u_r_cx_ch()
    {
        const int H = 2;
        Assert.Equal(4, OneDnnLayout.BiasGates(RnnMode.Gru));
        // PyTorch gates r, z, n: b_ih = 1.., b_hh = 100..
        float[] bih = [1, 2, 3, 4, 5, 6];         // r: 1,2  z: 3,4  n: 5,6
        float[] bhh = [100, 200, 300, 400, 500, 600];
        var b = new float[4 * H];
        OneDnnLayout.ToBias(RnnMode.Gru, bih, bhh, b, H);
        Assert.Equal([303f, 404f, 101f, 202f, 5f, 6f, 500f, 600f], b); // u = z sums, r sums, c from x = b_ih_n, c from h = b_hh_n

        var dbih = new float[3 * H];
        var dbhh = new float[3 * H];
        OneDnnLayout.AddFromBias(RnnMode.Gru, [1, 2, 3, 4, 5, 6, 7, 8], dbih, dbhh, H);
        Assert.Equal([3f, 4f, 1f, 2f, 5f, 6f], dbih);
        Assert.Equal([3f, 4f, 1f, 2f, 7f, 8f], dbhh);
    }

    [Fact]
    public void Projection_is_transposed_to_ldio()
    {
        const int P = 2, H = 3;
        float[] whr = [1, 2, 3, 4, 5, 6]; // (P, H)
        var ldio = new float[P * H];
        OneDnnLayout.ToLdio(whr, ldio, P, H);
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], ldio);
        var back = new float[P * H];
        OneDnnLayout.AddFromLdio(ldio, back, P, H);
        Assert.Equal(whr, back);
    }

    [Fact]
    public void Lengths_are_grouped_longest_first()
    {
        var groups = OneDnnLayout.GroupByLength([3, 5, 3, 1, 5]);
        Assert.Equal([5, 3, 1], groups.Select(g => g.Length));
        Assert.Equal([1, 4], groups[0].Indices);
        Assert.Equal([0, 2], groups[1].Indices);
        Assert.Equal([3], groups[2].Indices);
    }

    [Fact]
    public void Every_public_type_of_the_onednn_assemblies_has_an_xml_summary()
    {
        foreach (var asm in new[] { typeof(OneDnnBackend).Assembly, typeof(DnnlMemoryDesc).Assembly })
        {
            var xmlPath = Path.ChangeExtension(asm.Location, ".xml");
            Assert.True(File.Exists(xmlPath), $"{xmlPath} missing");
            var documented = System.Xml.Linq.XDocument.Load(xmlPath).Descendants("member")
                .Where(m => m.Element("summary") is { } s && s.Value.Trim().Length > 0)
                .Select(m => (string)m.Attribute("name")!)
                .ToHashSet();
            var missing = asm.GetExportedTypes().Where(t => !t.Name.Contains('<')) // compiler-generated (fixed buffers)
                .Select(t => "T:" + t.FullName!.Replace('+', '.')).Where(n => !documented.Contains(n)).ToList();
            Assert.True(missing.Count == 0, $"{asm.GetName().Name}: public types without an XML summary: " + string.Join(", ", missing));
        }
    }

    // ------------------------------------------------------------------ loader and errors

    [Fact]
    public void Loader_trace_names_every_attempt()
    {
        var spec = new NativeLibrarySpec("Test", "rnnfast_test_lib", "RNNFAST_TEST_LIB_PATH",
            ["librnnfast-does-not-exist.so.7", "/nonexistent/dir/librnnfast.so"]);
        var result = NativeLibraryLoader.TryLoad(spec, overridePath: null);
        Assert.False(result.Succeeded);
        Assert.Equal(2, result.Trace.Count);
        var text = result.Describe();
        Assert.Contains("librnnfast-does-not-exist.so.7", text);
        Assert.Contains("/nonexistent/dir/librnnfast.so: no such file", text);
        Assert.Contains("RNNFAST_TEST_LIB_PATH", text);
        Assert.Throws<DllNotFoundException>(() => result.GetHandleOrThrow());
    }

    [Fact]
    public void Env_override_replaces_the_search_and_shows_in_the_unavailable_reason()
    {
        const string missing = "/nonexistent/onednn/libdnnl.so.2";
        var result = NativeLibraryLoader.TryLoad(DnnlLibrary.Spec, missing);
        Assert.False(result.Succeeded);
        Assert.Single(result.Trace);
        Assert.Contains(DnnlLibrary.PathVariable, result.Describe());

        var backend = new OneDnnBackend(missing);
        Assert.False(backend.IsAvailable);
        Assert.Contains(missing + ": no such file", backend.Availability.Reason);
        Assert.Contains("oneDNN library not found", backend.Availability.Reason);
        var e = Assert.Throws<BackendUnavailableException>(() => backend.CreateRnnPlan(RnnParameters.Create(new RnnDesc(RnnMode.Lstm, 2, 3), new Random(1))));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void A_bad_status_becomes_an_exception_naming_the_call()
    {
        var e = Assert.Throws<DnnlException>(() => DnnlException.Check(3, "dnnl_lstm_forward_desc_init"));
        Assert.Equal("dnnl_lstm_forward_desc_init", e.Call);
        Assert.Equal(DnnlStatus.Unimplemented, e.Status);
        Assert.Contains("dnnl_lstm_forward_desc_init", e.Message);
        Assert.Contains("dnnl_unimplemented", e.Message);
        DnnlException.Check(0, "fine"); // success does not throw
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void A_real_failing_call_names_itself(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        // ldigo is a 5-d tag: oneDNN rejects it for 3 dimensions.
        var e = Assert.Throws<DnnlException>(() => DnnlMemoryDesc.ByTag([2, 3, 4], DnnlFormatTag.Ldigo));
        Assert.Equal("dnnl_memory_desc_init_by_tag", e.Call);
        Assert.Equal(DnnlStatus.InvalidArguments, e.Status);
    }

    // ------------------------------------------------------------------ against the reference on random problems

    public static IEnumerable<object[]> Problems() =>
        from p in new[]
        {
            "lstm:I5:H7:L1:D1:P0:varlen",
            "lstm:I5:H7:L2:D2:P0:varlen:h0",
            "lstm:I4:H6:L1:D1:P3",
            "lstm:I4:H6:L2:D2:P3:h0",
            "lstm:I4:H6:L2:D2:P3:varlen:h0",
            "gru:I5:H6:L2:D2:P0:varlen:h0",
            "gru:I3:H4:L1:D1:P0",
            "rnn_relu:I5:H6:L2:D1:P0:varlen",
            "rnn_tanh:I5:H6:L1:D2:P0:varlen:h0",
            "lstm:I5:H7:L1:D1:P0:nobias:varlen",
        }
        select new object[] { "onednn", p };

    [BackendTheory]
    [MemberData(nameof(Problems))]
    public void Random_problem_matches_the_reference(string backend, string problem)
    {
        // A configuration oneDNN refused would throw here (NotSupportedException): every row runs on oneDNN itself.
        RnnTestProblems.AssertMatchesReference(backend, problem, run => Assert.IsType<OneDnnRnnPlan>(run.Plan));
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void Changed_weights_are_converted_again(string backend)
    {
        RnnTestProblems.AssertWeightUpdatesAreSeen(backend, "lstm:I4:H5:L2:D2:P0");
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void Concurrent_inference_gives_the_same_answers(string backend)
    {
        RnnTestProblems.AssertConcurrentInferenceAgrees(backend, calls: 16, threads: 8);
    }

    [BackendTheory]
    [InlineData("onednn", "lstm:I8:H16:L2:D2:P0")]
    [InlineData("onednn", "lstm:I8:H16:L2:D2:P0:h0")]
    [InlineData("onednn", "lstm:I8:H16:L3:D1:P6:h0")]
    [InlineData("onednn", "gru:I8:H16:L2:D2:P0")]
    [InlineData("onednn", "gru:I8:H16:L3:D1:P0:h0")]
    public void Pooled_fixed_length_inference_is_right_and_repeatable_on_many_threads(string backend, string spec)
    {
        // Fixed-length inference reuses pooled contexts (stream, memory objects re-pointed per call, zero states):
        // every call, on any thread, must match the reference, h_n and c_n included.
        var (desc, inputs) = MakeProblem(spec, seed: 11);
        var parameters = RnnParameters.Create(desc, new Random(12));
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(parameters);
        using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
        var want = oracle.Forward(inputs, training: false);
        var results = new RnnForwardResult[24];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => results[i] = plan.Forward(inputs, training: false));
        foreach (var got in results.Append(plan.Forward(inputs, training: false)))
        {
            AssertClose(want.Output, got.Output, "output");
            AssertClose(want.HN, got.HN, "h_n");
            if (want.CN != null) AssertClose(want.CN, got.CN!, "c_n");
        }
    }

    [BackendTheory]
    [InlineData("onednn")]
    public void Thread_count_can_be_set(string backend)
    {
        Assert.True(BackendRegistry.Get(backend).IsAvailable);
        var b = new OneDnnBackend(); // not the registered one: other tests run beside this one
        try
        {
            b.Threads = 1;
            Assert.Equal(1, b.Threads);
            var (desc, inputs) = MakeProblem("gru:I3:H4:L1:D1:P0", seed: 2);
            var parameters = RnnParameters.Create(desc, new Random(1));
            using var plan = b.CreateRnnPlan(parameters);
            using var oracle = BackendRegistry.Get("reference").CreateRnnPlan(parameters);
            AssertClose(oracle.Forward(inputs, false).Output, plan.Forward(inputs, false).Output, "output with 1 thread");
        }
        finally
        {
            b.Threads = 0;
            Assert.True(b.Threads >= 1);
        }
    }
}
