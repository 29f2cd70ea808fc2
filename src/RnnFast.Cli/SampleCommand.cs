// `rnnfast sample --model M`: streams characters from a trained language model as they are produced.
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
            try
            {
                var options = new SamplingOptions
                {
                    Temperature = r.GetValue(temperature), TopK = r.GetValue(topK), Argmax = r.GetValue(argmax), Seed = r.GetValue(seed),
                };
                options.Validate();
                int n = r.GetValue(length);
                if (n < 0) throw new ArgumentException($"--length: must be >= 0, got {n}");
                using var m = RnnModel.Load(r.GetValue(model)!, r.GetValue(backend) ?? "");
                if (m.Kind != NetworkKind.LanguageModel) throw new ArgumentException($"--model: {r.GetValue(model)} is a classifier, not a language model");
                var primeText = r.GetValue(prime) ?? "";
                if (!m.Vocab.Covers(primeText)) m.Vocab.Encode(primeText); // throws naming the character
                Console.Write(primeText);
                m.Generate(primeText, n, options, s => { Console.Write(s); Console.Out.Flush(); });
                Console.WriteLine();
                return CliErrors.Ok;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(e);
            }
        });
        return cmd;
    }
}
