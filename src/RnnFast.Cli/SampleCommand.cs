// `rnnfast sample --model M`: streams characters from a trained language model as they are produced.
// Exit 0 on success, 2 for an unusable model file, bad option values or an unavailable backend (one line on stderr).
using System.CommandLine;
using RnnFast.Models;

namespace RnnFast.Cli;

internal static class SampleCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "a checkpoint written by `rnnfast train`", Required = true };
        var length = new Option<int>("--length") { DefaultValueFactory = _ => 500 };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 1f };
        var prime = new Option<string?>("--prime") { Description = "text to start from (default: one random character)" };
        var topK = new Option<int>("--top-k") { Description = "sample among the K most likely characters (0 = all)", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var argmax = new Option<bool>("--argmax") { Description = "always take the most likely character" };
        var backend = BackendOption.Create();
        var cmd = new Command("sample", "Generate text from a trained character model") { model, length, temperature, prime, topK, seed, argmax, backend };
        cmd.SetAction(r =>
        {
            var options = new SamplingOptions
            {
                Temperature = r.GetValue(temperature), TopK = r.GetValue(topK), Argmax = r.GetValue(argmax), Seed = r.GetValue(seed),
            };
            return Run(r.GetValue(model)!, r.GetValue(length), options, r.GetValue(prime), r.GetValue(backend),
                r.InvocationConfiguration.Output, r.InvocationConfiguration.Error);
        });
        return cmd;
    }

    /// <summary>
    /// Loads <paramref name="modelPath"/> and streams <paramref name="length"/> characters to <paramref name="o"/>. The
    /// sampling options, the length and the prime are validated by RnnModel.Generate before it produces anything; its
    /// messages name SamplingOptions properties and its parameters, which come out as this command's flags.
    /// </summary>
    public static int Run(string modelPath, int length, SamplingOptions options, string? prime, string? backend, TextWriter o, TextWriter err)
    {
        try
        {
            InputFiles.RequireRegular("--model", modelPath);
            using var m = RnnModel.Load(modelPath, backend);
            if (m.Kind != NetworkKind.LanguageModel) throw new ArgumentException($"--model: {modelPath} is a {m.Kind.ToString().ToLowerInvariant()}, not a language model (use rnnfast predict)");
            var primeText = prime ?? "";
            bool primeWritten = false;
            void WritePrime()
            {
                if (primeWritten) return;
                o.Write(primeText);
                primeWritten = true;
            }
            m.Generate(primeText, length, options, s =>
            {
                WritePrime(); // only once Generate has accepted its arguments: a refused run prints nothing on stdout
                o.Write(s);
                o.Flush();
            });
            WritePrime();
            o.WriteLine();
            return CliErrors.Ok;
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            return CliErrors.Report(e, err, OptionNames.Sample);
        }
    }
}
