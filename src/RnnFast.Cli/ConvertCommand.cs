// `rnnfast convert IN OUT`: a model from one format to another, chosen by extension (.onnx, .safetensors), through
// ModelConverter.Convert. The output is written to a temporary file and renamed; a bad input is one line and exit 2.
using System.CommandLine;
using RnnFast.IO;

namespace RnnFast.Cli;

internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("in") { Description = "the model to read: .onnx (e.g. from torch.onnx.export) or .safetensors (an RnnFast checkpoint or PyTorch state_dict)" };
        var output = new Argument<string>("out") { Description = "the file to write: .onnx (opset 14, for ONNX Runtime) or .safetensors (an RnnFast model)" };
        var cmd = new Command("convert", "Convert a model between ONNX and safetensors (formats by extension)") { input, output };
        cmd.SetAction(r =>
        {
            var o = r.InvocationConfiguration.Output;
            var err = r.InvocationConfiguration.Error;
            string inPath = r.GetValue(input)!, outPath = r.GetValue(output)!;
            try
            {
                foreach (var (arg, path) in new[] { ("IN", inPath), ("OUT", outPath) })
                    if (!ModelConverter.Extensions.Any(x => path.EndsWith(x, StringComparison.OrdinalIgnoreCase)))
                        throw new ArgumentException($"{arg}: '{Path.GetFileName(path)}' is neither .onnx nor .safetensors (the format is chosen by extension)");
                InputFiles.RequireRegular("IN", inPath); // a FIFO or device is refused at once instead of blocking
                InputFiles.RequireDistinct("OUT", outPath, "IN", inPath);
                ModelConverter.Convert(inPath, outPath);
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                // the library names its parameters 'input' and 'output'; here they are the arguments IN and OUT
                string msg = CliErrors.OneLine(e);
                if (msg.StartsWith("input: ", StringComparison.Ordinal)) msg = "IN: " + msg["input: ".Length..];
                else if (msg.StartsWith("output: ", StringComparison.Ordinal)) msg = "OUT: " + msg["output: ".Length..];
                err.WriteLine($"error: {msg}");
                return CliErrors.BadInput;
            }
            o.WriteLine($"wrote {outPath}");
            return CliErrors.Ok;
        });
        return cmd;
    }
}
