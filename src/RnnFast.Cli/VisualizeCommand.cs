// `rnnfast visualize --model M --text FILE --out cells.html`: runs a character model over a text (at most 100,000
// characters) and writes one self-contained HTML page (RnnFast.Visualize.CellPage): the text coloured per character by
// a chosen cell of the last layer, a picker over the cells, the cells ranked by the text features they follow, and a
// classifier's class probabilities per step. Written atomically. Exit 2, one line, for bad input (a longer text, a
// model that cannot stream such as a bidirectional one, a forecaster, an --out that is not .html).
using System.CommandLine;
using RnnFast.Models;
using RnnFast.Visualize;

namespace RnnFast.Cli;

internal static class VisualizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "a character model written by `rnnfast train` or `rnnfast classify`", Required = true };
        var text = new Option<string>("--text") { Description = $"the text to run the model over (UTF-8, at most {CellActivations.MaxCharacters} characters)", Required = true };
        var output = new Option<string>("--out") { Description = "the HTML page to write (.html), self-contained", Required = true };
        var top = new Option<int>("--top") { Description = "cells listed per text feature in the ranking (1 to 100)", DefaultValueFactory = _ => 5 };
        var backend = BackendOption.Create();
        var cmd = new Command("visualize", "Show which cells of a model's last layer follow which features of a text, as an HTML page") { model, text, output, top, backend };
        cmd.SetAction(r => Run(r.GetValue(model)!, r.GetValue(text)!, r.GetValue(output)!, r.GetValue(top), r.GetValue(backend),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return cmd;
    }

    /// <summary>Writes the page for <paramref name="modelPath"/> over the text in <paramref name="textPath"/> to <paramref name="outPath"/>.</summary>
    public static int Run(string modelPath, string textPath, string outPath, int top, string? backend, TextWriter o, TextWriter err)
    {
        try
        {
            if (top < 1 || top > 100) throw new ArgumentException($"--top: must be 1 to 100, got {top}");
            if (!outPath.EndsWith(".html", StringComparison.OrdinalIgnoreCase) && !outPath.EndsWith(".htm", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--out: must name an .html file, got '{outPath}'");
            InputFiles.RequireRegular("--model", modelPath);
            InputFiles.RequireRegular("--text", textPath);
            InputFiles.RequireDistinct("--out", outPath, "--text", textPath);
            InputFiles.RequireDistinct("--out", outPath, "--model", modelPath);
            // A UTF-8 character is at most 4 bytes: a larger file has more characters than the bound, whatever it holds.
            long bytes = new FileInfo(textPath).Length;
            if (bytes > 4L * CellActivations.MaxCharacters + 3)
                throw new ArgumentException($"--text: {textPath} is {bytes} bytes, more than {CellActivations.MaxCharacters} characters; give a shorter excerpt");
            string content = File.ReadAllText(textPath);
            using var m = RnnModel.Load(modelPath, backend);
            if (m.Config.HasFeatureInput) throw new ArgumentException($"--model: {modelPath} reads numeric features, not text");
            if (m.Config.Bidirectional || m.Config.Pooling == SequencePooling.Mean)
                throw new ArgumentException($"--model: {modelPath} is {(m.Config.Bidirectional ? "bidirectional" : "a mean-pooled classifier")}; its cells are only read over a whole text, not one character at a time");
            CellActivations activations;
            try { activations = CellActivations.Collect(m, content); }
            catch (ArgumentException e) when (e.ParamName == "text") { throw new ArgumentException(e.Message.Replace("text:", $"--text: {textPath} has", StringComparison.Ordinal), e); }
            CellPage.Save(outPath, activations, Path.GetFileName(modelPath), top);
            o.WriteLine($"{activations.Symbols.Count} characters, {activations.Cells} cells ({activations.Source}): {outPath}");
            return CliErrors.Ok;
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            return CliErrors.Report(e, err);
        }
    }
}
