// Issue 15 item 12: training data read with memory proportional to the text (TextCorpus: two chunked passes into one
// string; ids encoded into one exact array; the training part used in place; the fingerprint hashed in chunks), binary
// data refused unless allowed (--allow-binary), and TSV/CSV lines capped at TextCorpus.MaxLineLength with the file and
// line named. Peak memory is measured in child processes (VmHWM).
using RnnFast.Cli;
using RnnFast.Datasets;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class CorpusReadingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Text(int bytes, int seed)
    {
        var rng = new Random(seed);
        const string Alphabet = "abcdefghij klmnopqrst uvwxyz.,\n";
        var b = new byte[bytes];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)Alphabet[rng.Next(Alphabet.Length)];
        return b;
    }

    [Fact]
    public void TextCorpus_reads_utf8_like_ReadAllText_across_chunk_boundaries()
    {
        // Multi-byte characters (2, 3 and 4 bytes) straddling the 1 MiB chunk boundary, a BOM, and an invalid byte late on.
        var sb = new System.Text.StringBuilder();
        var rng = new Random(4);
        string[] pieces = ["a", "é", "€", "😀", "\n", "z"];
        while (sb.Length < 1_200_000) sb.Append(pieces[rng.Next(pieces.Length)]);
        byte[] body = [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(sb.ToString()), 0xFF, (byte)'q'];
        string path = Write("utf8.txt", body);
        Assert.Equal(File.ReadAllText(path), TextCorpus.Read(path));
    }

    [Fact]
    public void Binary_data_is_refused_with_the_file_and_offset_unless_allowed()
    {
        byte[] bytes = [.. "hello world\n"u8, 0, 1, 2, .. "more"u8];
        string path = Write("data.bin", bytes);
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Read(path));
        Assert.Contains("data.bin: byte 12 is a NUL byte", e.Message);
        Assert.Equal(File.ReadAllText(path), TextCorpus.Read(path, allowBinary: true));

        var invalid = new byte[4000];
        new Random(1).NextBytes(invalid);
        for (int i = 0; i < invalid.Length; i++) if (invalid[i] == 0) invalid[i] = 0xFF;
        var e2 = Assert.Throws<InvalidDataException>(() => TextCorpus.Read(Write("random.bin", invalid)));
        Assert.Contains("are not valid UTF-8 (the first at byte", e2.Message);

        // Through the CLI: exit 2, one line naming the file; --allow-binary trains on it.
        string corpus = Write("corpus.bin", [.. Text(4000, 2), 0, .. Text(4000, 3)]);
        var err = new StringWriter();
        int code = CliApp.Run(["train", "--data", corpus, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "1", "--layers", "1", "--hidden", "8",
            "--embed", "4", "--seq-len", "8", "--batch", "2", "--backend", "reference"], new StringWriter(), err);
        output.WriteLine(err.ToString().Trim());
        Assert.Equal(2, code);
        Assert.Contains("corpus.bin: byte 4000 is a NUL byte", err.ToString());
        code = CliApp.Run(["train", "--data", corpus, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "1", "--layers", "1", "--hidden", "8",
            "--embed", "4", "--seq-len", "8", "--batch", "2", "--backend", "reference", "--allow-binary"], new StringWriter(), new StringWriter());
        Assert.Equal(0, code);
    }

    [Fact]
    public void A_tsv_line_longer_than_the_limit_is_refused_with_file_and_line()
    {
        var sb = new System.Text.StringBuilder("a\tshort text\n");
        sb.Append("b\t").Append('x', 3 << 20).Append('\n');
        string path = Write("long.tsv", System.Text.Encoding.UTF8.GetBytes(sb.ToString()));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<FormatException>(() => LabeledText.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{e.Message} (allocated {allocated:N0} bytes for a {sb.Length:N0}-byte file)");
        Assert.Contains("long.tsv: line 2 is longer than 1048576 characters", e.Message);
        Assert.True(allocated < 64L << 20, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void Training_on_a_20_MB_text_peaks_below_10_times_the_text_in_a_child_process()
    {
        const int Size = 20 << 20;
        string path = Write("big.txt", Text(Size, 7));
        string[] Args(string data, string valFraction) => ["cli", "train", "--data", data, "--out", Path.Combine(_dir, "big.safetensors"), "--steps", "1",
            "--layers", "1", "--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--val-fraction", valFraction, "--backend", "cpu"];
        var baseline = ChildScenarios.Run(Args(Write("small.txt", Text(20_000, 8)), "0.05"), timeout: TimeSpan.FromSeconds(60));
        var r = ChildScenarios.Run(Args(path, "0.0005"), timeout: TimeSpan.FromSeconds(60));
        double ratio = (r.PeakRss - baseline.PeakRss) / (double)Size;
        output.WriteLine($"20 MiB text: exit {r.Code}, peak RSS {r.PeakRss:N0} bytes; same run on a 20 kB text {baseline.PeakRss:N0}; " +
                         $"(peak - baseline) / text = {ratio:F1}x; {r.Err.Trim()}");
        Assert.True(baseline.Code == 0, baseline.Err);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(ratio < 10, $"training took {ratio:F1}x the text's size");
    }
}
