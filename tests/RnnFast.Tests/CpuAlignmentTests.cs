// The cpu backend's buffers start on cache-line (64-byte) boundaries: AlignedFloats for any length (the slack in front
// never runs out, the floats are zeroed when asked, indexing is bounds-checked), and every packed weight panel set of
// real CpuWeights (forward and backward forms, uni/bi, projection, every cell) is aligned. A pinned array alone is
// aligned to 8 or 16 bytes only, so this fails if a buffer goes back to a plain pinned array.
using RnnFast.Backends.Cpu;
using Xunit;

namespace RnnFast.Tests;

public sealed unsafe class CpuAlignmentTests
{
    private static bool Aligned(FloatBuf b) => ((nint)b.Ptr & (AlignedFloats.AlignmentBytes - 1)) == 0;

    [Fact]
    public void Allocate_IsAligned_Zeroed_AndBoundsChecked_ForEveryLength()
    {
        for (int n = 1; n <= 200; n++)
        {
            var a = AlignedFloats.Allocate(n);
            Assert.True(Aligned(a.Buf), $"length {n}: element 0 at {(nint)a.Buf.Ptr:X}");
            Assert.Equal(n, a.Length);
            for (int i = 0; i < n; i++) Assert.Equal(0f, a[i]);
            a[n - 1] = 7f;
            Assert.Equal(7f, a.Span[n - 1]);
            Assert.Throws<IndexOutOfRangeException>(() => a[n]);
            Assert.Throws<IndexOutOfRangeException>(() => a[-1]);
        }
    }

    [Theory]
    [InlineData("lstm", false, 0)]
    [InlineData("lstm", true, 8)]
    [InlineData("gru", true, 0)]
    [InlineData("rnn_tanh", false, 0)]
    public void PackedWeights_AreAligned(string mode, bool bidirectional, int projection)
    {
        var desc = new RnnDesc(RnnDesc.ParseMode(mode), 13, 37, 2, bidirectional, projSize: projection);
        var weights = CpuWeights.Pack(RnnParameters.Create(desc, new Random(3)), stamp: 1);
        weights.EnsureBackward();
        foreach (var dw in weights.Dirs)
        {
            Assert.True(Aligned(dw.WihT.Buf) && Aligned(dw.WhhT.Buf), "forward W_ih^T / W_hh^T");
            Assert.True(Aligned(dw.WihB!.Buf) && Aligned(dw.WhhB!.Buf), "backward W_ih / W_hh");
            if (projection > 0) Assert.True(Aligned(dw.WhrT!.Buf) && Aligned(dw.WhrB!.Buf), "W_hr forms");
            if (dw.XBias != null) Assert.True(Aligned(dw.XBias.Buf), "input-projection bias");
        }
    }
}
