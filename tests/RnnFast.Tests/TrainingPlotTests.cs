// Issue 19: `train --plot FILE.svg` and `classify --plot FILE.svg` write the training and held-out loss curves, with
// the learning rate, as an SVG (one path per series) through the demo's chart writer; a bad --plot exits 2 naming it.
using System.Xml.Linq;
using RnnFast.Cli;
using Xunit;

namespace RnnFast.Tests;

public sealed class TrainingPlotTests : IDisposable
{
    private static readonly XNamespace SvgNs = "http://www.w3.org/2000/svg";
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private string Text()
    {
        string path = Path.Combine(_dir, "text.txt");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 60)));
        return path;
    }

    /// <summary>The series groups of the chart: name and the number of points its path draws.</summary>
    private static Dictionary<string, int> Series(string svgPath)
    {
        var doc = XDocument.Load(svgPath); // well-formed XML or this throws
        Assert.Equal(SvgNs + "svg", doc.Root!.Name);
        return doc.Descendants(SvgNs + "g").Where(g => (string?)g.Attribute("class") == "series").ToDictionary(
            g => (string)g.Attribute("data-name")!,
            g => ((string?)g.Elements(SvgNs + "path").Single().Attribute("d") ?? "").Count(c => c is 'M' or 'L'));
    }

    [Fact]
    public void Train_plot_has_a_path_per_series_and_the_learning_rate()
    {
        string svg = Path.Combine(_dir, "loss.svg");
        var (code, o, err) = Cli("train", "--data", Text(), "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "12", "--hidden", "8", "--embed", "4",
            "--layers", "1", "--seq-len", "8", "--batch", "4", "--eval-every", "4", "--checkpoint-every", "0", "--lr", "0.003", "--backend", "reference", "--plot", svg);
        Assert.True(code == 0, err);
        Assert.Contains($"loss curves written to {svg}", o);
        Assert.StartsWith("val_loss=", o.TrimEnd().Split('\n')[^1]); // still the last line
        var series = Series(svg);
        Assert.Equal(12, series["training loss"]);
        Assert.True(series["held-out loss"] >= 3, $"held-out points: {series["held-out loss"]}");
        Assert.Contains("lr 0.003 (adam)", File.ReadAllText(svg));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp")); // written through a temporary file, renamed
    }

    [Fact]
    public void Classify_plot_has_a_path_per_series()
    {
        string svg = Path.Combine(_dir, "cls.svg");
        var (code, o, err) = Cli("classify", "--examples", "40", "--steps", "6", "--hidden", "8", "--embed", "4", "--min-length", "4", "--max-length", "8",
            "--backend", "reference", "--plot", svg);
        Assert.True(code == 0, err);
        Assert.Contains($"loss curves written to {svg}", o);
        var series = Series(svg);
        Assert.Equal(6, series["training loss"]);
        Assert.Equal(1, series["held-out loss"]);
        Assert.Contains("lr 0.01 (adam)", File.ReadAllText(svg));
    }

    [Theory]
    [InlineData("train", "loss.png", "error: --plot: must name an .svg file, got 'loss.png'")]
    [InlineData("classify", "loss.txt", "error: --plot: must name an .svg file, got 'loss.txt'")]
    [InlineData("train-forecast", "loss.svg", "error: --plot: only with --task lm (a language model's loss curves)")]
    public void A_bad_plot_exits_2_naming_the_flag(string command, string plot, string expected)
    {
        string[] args = command switch
        {
            "train" => ["train", "--data", Text(), "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "1", "--backend", "reference"],
            "classify" => ["classify", "--examples", "20", "--steps", "1", "--backend", "reference"],
            _ => ["train", "--task", "forecast", "--data", Text(), "--target", "x", "--backend", "reference"],
        };
        var (code, o, err) = Cli([.. args, "--plot", plot]);
        Assert.Equal(2, code);
        Assert.Equal("", o);
        Assert.Equal(expected, err.Trim());
    }

    [Fact]
    public void Plot_refuses_to_overwrite_the_training_data()
    {
        string text = Text();
        string svg = Path.Combine(_dir, "same.svg");
        File.Copy(text, svg);
        var (code, _, err) = Cli("train", "--data", svg, "--out", Path.Combine(_dir, "m.safetensors"), "--steps", "1", "--backend", "reference", "--plot", svg);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --plot: ", err);
        Assert.Contains("would overwrite the input", err);
    }
}
