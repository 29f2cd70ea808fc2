// The blocked gate layout of the cpu backend: how the G*H gate columns of one row (of XW, HH, the gates, dG) are laid
// out physically. Hidden units are grouped in Q chunks of U = 32; chunk q holds G panels of U columns, gate g of unit j
// at column (j / U) * G*U + g*U + j % U, GP = Q*G*U columns in all (padding columns are zero in the packed weights).
//   row n (GP floats):  [chunk 0: gate 0 (U) | gate 1 (U) | .. | gate G-1 (U)] [chunk 1: ...] .. [chunk Q-1: ...]
// One 32-column GEMM panel is one gate of one chunk (panel q*G + g), so a thread that owns chunks [q0, q1) computes
// every gate of its units and runs the fused gate math right after its own panels. CpuWeights packs the weights in
// this order; the cell level finds a chunk's gates through it instead of by hand (the methods assert their indices).
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RnnFast.Backends.Cpu;

internal readonly struct GateLayout
{
    /// <summary>Hidden units per chunk: the width of one gate panel (Sgemm.NR).</summary>
    public const int U = Sgemm.NR;

    /// <summary>Gates per unit (LSTM 4, GRU 3, RNN 1).</summary>
    public readonly int G;

    /// <summary>Hidden units.</summary>
    public readonly int H;

    /// <summary>Chunks of U units: ceil(H / U).</summary>
    public readonly int Q;

    /// <summary>Physical gate columns per row: Q * G * U.</summary>
    public readonly int GP;

    public GateLayout(int gates, int hidden)
    {
        Debug.Assert(gates >= 1 && hidden >= 1);
        G = gates;
        H = hidden;
        Q = (hidden + U - 1) / U;
        GP = Q * gates * U;
    }

    public static GateLayout For(RnnDesc desc) => new(desc.GateCount, desc.HiddenSize);

    /// <summary>Columns per chunk: G * U (chunk q's gates are [ChunkOffset(q), ChunkOffset(q) + ChunkColumns)).</summary>
    public int ChunkColumns => G * U;

    /// <summary>Physical gate panels (of U columns) per row: Q * G.</summary>
    public int Panels => Q * G;

    /// <summary>First column of chunk <paramref name="q"/>: q * G * U.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ChunkOffset(int q)
    {
        Debug.Assert((uint)q < (uint)Q, "GateLayout: chunk out of range");
        return q * G * U;
    }

    /// <summary>Panel index of gate <paramref name="g"/> of chunk <paramref name="q"/>: q * G + g.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Panel(int q, int g)
    {
        Debug.Assert((uint)q < (uint)Q && (uint)g < (uint)G, "GateLayout: chunk or gate out of range");
        return q * G + g;
    }

    /// <summary>First column of gate <paramref name="g"/> of chunk <paramref name="q"/>: (q * G + g) * U.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GateOffset(int q, int g) => Panel(q, g) * U;

    /// <summary>Offset of gate <paramref name="g"/> within any chunk: g * U (what the cell operators add to a chunk's pointer).</summary>
    public static int InChunk(int g) => g * U;

    /// <summary>First hidden unit of chunk <paramref name="q"/>: q * U.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FirstUnit(int q)
    {
        Debug.Assert((uint)q < (uint)Q, "GateLayout: chunk out of range");
        return q * U;
    }

    /// <summary>Hidden units in chunk <paramref name="q"/>: U, or fewer in the last chunk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Units(int q) => Math.Min(U, H - FirstUnit(q));

    /// <summary>
    /// The first padded half panel: when the last chunk holds at most 16 units (H = 650: 10), its G panels have only
    /// their first 16 columns nonzero in the packed weights, and the products into them compute those 16 (see
    /// Sgemm.TileRowsHalf); else <see cref="Panels"/> (none).
    /// </summary>
    public int HalfPanelsFrom => Units(Q - 1) <= Sgemm.HalfNR ? (Q - 1) * G : Panels;

    /// <summary>Offset of row <paramref name="n"/> in a (rows, GP) buffer: n * GP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Row(int n)
    {
        Debug.Assert(n >= 0, "GateLayout: negative row");
        return (long)n * GP;
    }

    /// <summary>Offset of chunk <paramref name="q"/> of row <paramref name="n"/> in a (rows, GP) buffer: n * GP + q * G * U.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long At(int n, int q) => Row(n) + ChunkOffset(q);

    /// <summary>Physical column of gate <paramref name="g"/>, unit <paramref name="j"/>.</summary>
    public int Phys(int g, int j)
    {
        Debug.Assert((uint)g < (uint)G && (uint)j < (uint)H, "GateLayout: gate or unit out of range");
        return (j / U) * G * U + g * U + j % U;
    }

    /// <summary>PyTorch's row (g * H + j) of physical column <paramref name="c"/>, or -1 for a padding column.</summary>
    public int RowOf(int c)
    {
        Debug.Assert((uint)c < (uint)GP, "GateLayout: column out of range");
        int q = c / (G * U), rem = c % (G * U), g = rem / U, j = q * U + rem % U;
        return j < H ? g * H + j : -1;
    }
}
