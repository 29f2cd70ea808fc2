// Tensors (shapes, host copies, reshape) and the backend registry (auto, names, RNNFAST_BACKEND, unavailable reasons).
using RnnFast.Backends;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class TensorAndBackendTests(ITestOutputHelper output)
{
    [Fact]
    public void Tensor_shape_and_copies()
    {
        var t = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal(6, t.Length);
        Assert.Equal("(2,3)", Tensor.FormatShape(t.Shape));
        var copy = t.ToHost();
        copy.Span[0] = 9;
        Assert.Equal(1, t.Span[0]);
        Assert.Equal(t.ToArray(), t.Reshape(3, 2).ToArray());
        Assert.Throws<ArgumentException>(() => t.Reshape(4, 2));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray([1, 2, 3], 2, 2));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, -1));
    }

    [Fact]
    public void Version_counts_in_place_changes()
    {
        var t = Tensor.Zeros(3);
        int v = t.Version;
        t.MarkChanged();
        Assert.Equal(v + 1, t.Version);
    }

    [Fact]
    public void Registry_lists_every_backend_with_its_availability()
    {
        Assert.Contains(BackendRegistry.All, b => b.Name == "reference" && b.IsAvailable);
        foreach (var b in BackendRegistry.All)
        {
            output.WriteLine($"{b.Name}: {(b.IsAvailable ? "available" : "unavailable: " + b.Availability.Reason)}");
            if (!b.IsAvailable) Assert.False(string.IsNullOrWhiteSpace(b.Availability.Reason));
        }
    }

    [Fact]
    public void Auto_picks_the_best_available_score()
    {
        var auto = BackendRegistry.Get("auto");
        Assert.True(auto.IsAvailable);
        Assert.Equal(BackendRegistry.All.Where(b => b.IsAvailable).Max(b => b.Score), auto.Score);
    }

    [Fact]
    public void Unknown_backend_names_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => BackendRegistry.Get("tpu"));
        Assert.Contains("unknown backend 'tpu'", e.Message);
        Assert.Contains("reference", e.Message);
    }

    [Fact]
    public void Unavailable_backend_is_an_error_with_the_reason()
    {
        BackendRegistry.Register(new MissingBackend());
        var e = Assert.Throws<BackendUnavailableException>(() => BackendRegistry.Get("test-missing"));
        Assert.Equal("backend 'test-missing' is not available: libmissing.so.1 not found", e.Message);
        Assert.NotEqual("test-missing", BackendRegistry.Get("auto").Name);
    }

    [Fact]
    public void A_probe_that_throws_makes_the_backend_unavailable()
    {
        var b = new ThrowingBackend();
        Assert.False(b.IsAvailable);
        Assert.Contains("boom", b.Availability.Reason);
    }

    private sealed class MissingBackend : Backend
    {
        public override string Name => "test-missing";
        public override BackendKind Kind => BackendKind.Gpu;
        public override string Description => "a backend whose library is absent (test)";
        public override int Score => 1000;
        protected override BackendAvailability Probe() => BackendAvailability.No("libmissing.so.1 not found");
        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => throw new NotSupportedException();
    }

    private sealed class ThrowingBackend : Backend
    {
        public override string Name => "test-throwing";
        public override BackendKind Kind => BackendKind.Cpu;
        public override string Description => "a backend whose probe throws (test)";
        public override int Score => 0;
        protected override BackendAvailability Probe() => throw new DllNotFoundException("boom");
        public override IRnnPlan CreateRnnPlan(RnnParameters parameters) => throw new NotSupportedException();
    }
}
