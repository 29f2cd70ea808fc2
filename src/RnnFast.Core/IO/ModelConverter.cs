// Converts a model file between formats, chosen by extension: .safetensors (RnnFast checkpoints, PyTorch state_dicts)
// and .onnx (graphs as torch.onnx.export writes them; RnnFast's own exports). The output is written to a temporary file
// and renamed over the target. `rnnfast convert IN OUT` is this call.
using RnnFast.Models;

namespace RnnFast.IO;

/// <summary>Model files from one format to another (<c>.onnx</c>, <c>.safetensors</c>), by extension.</summary>
public static class ModelConverter
{
    /// <summary>The extensions <see cref="Convert"/> reads and writes.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".onnx", ".safetensors"];

    /// <summary>
    /// Reads the model in <paramref name="input"/> and writes it to <paramref name="output"/> in the format its extension
    /// names. A bad or unsupported input is an <see cref="RnnFormatException"/> naming the file; an unknown extension an
    /// <see cref="ArgumentException"/> naming the parameter. Training state (optimizer, history) is not carried over.
    /// </summary>
    public static void Convert(string input, string output)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentException.ThrowIfNullOrEmpty(output);
        CheckExtension(input, nameof(input));
        CheckExtension(output, nameof(output));
        if (Path.GetFullPath(input) == Path.GetFullPath(output))
            throw new ArgumentException($"output: '{output}' is the input file; write the converted model elsewhere", nameof(output));
        var contents = Checkpoint.Read(input);
        Write(contents, output);
    }

    /// <summary>Writes a loaded model to <paramref name="path"/> as ONNX (opset 14), for ONNX Runtime and other ONNX tools.</summary>
    public static void ExportOnnx(RnnModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        Onnx.OnnxExport.Write(path, new CheckpointContents(model.Config, model.NamedTensors(), null, new Dictionary<string, string>()));
    }

    private static void Write(CheckpointContents contents, string output)
    {
        if (Onnx.OnnxImport.IsOnnxPath(output))
        {
            Onnx.OnnxExport.Write(output, contents);
            return;
        }
        using var network = Checkpoint.ToNetwork(contents, Backends.BackendRegistry.Get("reference"));
        Checkpoint.Save(output, network);
    }

    private static void CheckExtension(string path, string name)
    {
        if (!Extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException($"{name}: '{Path.GetFileName(path)}' is neither .onnx nor .safetensors (the format is chosen by extension)", name);
    }
}
