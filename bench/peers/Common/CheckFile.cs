// Reads the .check files of make_onnx.py: PyTorch's forward of a short input (the first Tc = min(T, 4) steps) and the
// weights it used, so that a peer can be checked against PyTorch before it is timed. Little-endian: int32 Tc, N, I, DH;
// float32 x (Tc, N, I); float32 y (Tc, N, DH); int32 P; P times (int32 name length, UTF-8 name, int32 count, float32s).
using System.Runtime.InteropServices;
using System.Text;
using RnnFast.Bench;

namespace RnnFast.Peers;

/// <summary>PyTorch's numbers for one problem line (see the file header).</summary>
internal sealed class CheckFile
{
    public required int Tc { get; init; }
    public required float[] X { get; init; }
    public required float[] Y { get; init; }
    public required IReadOnlyList<(string Name, float[] Values)> Parameters { get; init; }

    /// <summary>The file make_onnx.py wrote for <paramref name="p"/> in <paramref name="dir"/>, e.g. lstm_uni_1_50_64_512_512.</summary>
    public static string BaseName(BenchProblem p) => $"{p.CellName}_{(p.Bidirectional ? "bi" : "uni")}_{p.Layers}_{p.T}_{p.N}_{p.I}_{p.H}";

    public static CheckFile Read(string path, BenchProblem p)
    {
        var bytes = File.ReadAllBytes(path);
        int at = 0;
        int Int() { if (at + 4 > bytes.Length) throw Short(); int v = BitConverter.ToInt32(bytes, at); at += 4; return v; }
        float[] Floats(long count)
        {
            if (count < 0 || at + 4 * count > bytes.Length) throw Short();
            var f = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(at, (int)(4 * count))).ToArray();
            at += (int)(4 * count);
            return f;
        }
        InvalidDataException Short() => new($"{path}: truncated at byte {at} of {bytes.Length}");
        int tc = Int(), n = Int(), i = Int(), dh = Int();
        if (n != p.N || i != p.I || dh != p.H * p.Directions || tc < 1 || tc > p.T)
            throw new InvalidDataException($"{path}: made for Tc={tc} N={n} I={i} D*H={dh}, expected N={p.N} I={p.I} D*H={p.H * p.Directions}");
        var x = Floats((long)tc * n * i);
        var y = Floats((long)tc * n * dh);
        int count = Int();
        var ps = new List<(string, float[])>();
        for (int k = 0; k < count; k++)
        {
            int len = Int();
            if (len < 0 || at + len > bytes.Length) throw Short();
            string name = Encoding.UTF8.GetString(bytes, at, len);
            at += len;
            ps.Add((name, Floats(Int())));
        }
        if (at != bytes.Length) throw new InvalidDataException($"{path}: {bytes.Length - at} bytes after the last parameter");
        return new CheckFile { Tc = tc, X = x, Y = y, Parameters = ps };
    }
}
