// The hostile-ONNX corpus (issue 20): damaged and malicious .onnx files given to the real `rnnfast convert` in a child
// process, as the hostile-process corpus runs its cases: each must end with exit 2 and one `error:` line naming the
// file, within 10 s and under 500 MB of peak memory (RNNFAST_MEMORY_LIMIT=400M), without writing the output.
// Cases: truncated, empty, garbage, huge or overflowing or negative dims, raw_data shorter than the dims say, float_data
// of the wrong count, a wrong data_type, external data, deep nesting, a length prefix past the end, a cycle, a missing
// input, an unsupported op, an opset out of range, a sparse file over the size cap, a FIFO.
using Google.Protobuf;
using RnnFast.IO.Onnx;
using RnnFast.IO.Onnx.Proto;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

[Collection(ReliabilityCollection.Name)]
public sealed class OnnxHostileTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rnnfast-onnx-hostile-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static ModelProto Basic() => OnnxRefusalTests.Fixture("lstm_basic");

    private static TensorProto W(ModelProto m) => m.Graph.Initializer.First(t => t.Dims.Count == 3 && t.Dims[2] == 5);

    private static ModelProto With(Action<ModelProto> damage)
    {
        var m = Basic();
        damage(m);
        return m;
    }

    /// <summary>Every case: a file name and its bytes (null: made otherwise), and what stderr must say besides the file's name.</summary>
    private List<(string File, string Says)> MakeCorpus()
    {
        var good = Basic().ToByteArray();
        var cases = new List<(string, string)>();
        void Add(string name, byte[] bytes, string says)
        {
            File.WriteAllBytes(Path.Combine(_dir, name), bytes);
            cases.Add((name, says));
        }
        Add("truncated.onnx", good[..(good.Length / 2)], "not an ONNX model");
        Add("empty.onnx", [], "empty");
        var garbage = new byte[4096];
        new Random(20).NextBytes(garbage);
        Add("garbage.onnx", garbage, "");
        Add("huge_dims.onnx", With(m => { W(m).Dims[1] = 1L << 40; }).ToByteArray(), "elements");
        Add("overflow_dims.onnx", With(m => { var w = W(m); w.Dims.Clear(); w.Dims.AddRange([1L << 31, 1L << 31, 4]); }).ToByteArray(), "elements");
        Add("negative_dim.onnx", With(m => { W(m).Dims[1] = -16; }).ToByteArray(), "negative dimension");
        Add("short_raw.onnx", With(m => { W(m).RawData = ByteString.CopyFrom(W(m).RawData.Span[..^4]); }).ToByteArray(), "raw_data holds");
        Add("float_data_count.onnx", With(m => { var w = W(m); w.RawData = ByteString.Empty; w.FloatData.AddRange([1f, 2f, 3f]); }).ToByteArray(), "float_data holds 3");
        Add("wrong_type.onnx", With(m => { W(m).DataType = (int)TensorProto.Types.DataType.Int64; }).ToByteArray(), "expected FLOAT");
        Add("external.onnx", With(m => { W(m).DataLocation = 1; }).ToByteArray(), "external");
        var deep = new GraphProto();
        for (int i = 0; i < 3000; i++)
        {
            var node = new NodeProto { OpType = "Constant" };
            node.Attribute.Add(new AttributeProto { Name = "g", G = deep });
            deep = new GraphProto();
            deep.Node.Add(node);
        }
        Add("deep.onnx", new ModelProto { Graph = deep }.ToByteArray(), "not an ONNX model");
        // a graph field whose length prefix claims 2 GB past the end of a tiny file
        Add("length_past_end.onnx", [0x3a, 0xf0, 0xff, 0xff, 0xff, 0x07, 0x0a, 0x00], "not an ONNX model");
        Add("cycle.onnx", With(m => { OnnxRefusalTests.Op(m, "LSTM").Input[0] = "output"; }).ToByteArray(), "cycle");
        Add("missing_input.onnx", With(m => { OnnxRefusalTests.Op(m, "LSTM").Input[1] = "nowhere"; }).ToByteArray(), "'nowhere' is produced by no node");
        Add("unsupported_op.onnx", With(m => { OnnxRefusalTests.Op(m, "Squeeze").OpType = "Loop"; }).ToByteArray(), "op Loop is not supported");
        Add("opset.onnx", With(m => { m.OpsetImport[0].Version = 99; }).ToByteArray(), "opset 99");
        using (var big = new FileStream(Path.Combine(_dir, "sparse_big.onnx"), FileMode.Create)) big.SetLength(OnnxFile.MaxFileBytes + 1);
        cases.Add(("sparse_big.onnx", "more than"));
        if (!OperatingSystem.IsWindows() && System.Diagnostics.Process.Start("mkfifo", Path.Combine(_dir, "fifo.onnx")) is { } p)
        {
            p.WaitForExit();
            if (p.ExitCode == 0) cases.Add(("fifo.onnx", "not a regular file"));
            else output.WriteLine("skipped the FIFO case: mkfifo failed");
        }
        return cases;
    }

    [Fact]
    public void Every_hostile_onnx_file_is_refused_in_one_line_in_bounded_time_and_memory()
    {
        var cases = MakeCorpus();
        var env = new Dictionary<string, string?> { ["RNNFAST_MEMORY_LIMIT"] = "400M" };
        var failures = new List<string>();
        long peak = 0;
        foreach (var (file, says) in cases)
        {
            string outPath = Path.Combine(_dir, Path.GetFileNameWithoutExtension(file) + ".safetensors");
            var c = new ProcessCase("convert", file, ["convert", Path.Combine(_dir, file), outPath], env, _dir, [2], file,
                After: () => File.Exists(outPath) ? $"{outPath} was written" : null);
            var r = MeasuredProcess.Run(c.Args, c.Env, c.WorkDir, TimeSpan.FromSeconds(10));
            var problems = HostileProcessCorpusTests.Problems(c, r);
            if (problems.Count == 0 && says.Length > 0 && !r.Err.Contains(says, StringComparison.Ordinal))
                problems.Add($"stderr does not say '{says}': {r.Err.Trim()}");
            if (problems.Count > 0) failures.Add($"{file}: {string.Join("; ", problems)}");
            peak = Math.Max(peak, r.PeakBytes);
            output.WriteLine($"{file}: exit {r.Code}, {r.Elapsed.TotalSeconds:0.00} s, peak {r.PeakBytes / 1e6:0} MB: {r.Err.Trim()}");
        }
        output.WriteLine($"{cases.Count} cases, largest peak {peak / 1e6:0} MB");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
