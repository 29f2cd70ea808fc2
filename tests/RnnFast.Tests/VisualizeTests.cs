// Issue 19: `rnnfast visualize`. CellActivations keeps the last layer's per-step activations (tanh(c) for an LSTM, h
// otherwise, checked against stepping the model by hand), TextFeatures computes the text features and Pearson r, and
// CellPage writes one well-formed, self-contained page: one span per character, the data as JSON, the ranking, no
// external resources. The 100,000-character bound and other bad input exit 2 naming the flag.
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using RnnFast.Backends;
using RnnFast.Cli;
using RnnFast.Models;
using RnnFast.Visualize;
using Xunit;

namespace RnnFast.Tests;

public sealed class VisualizeTests : IDisposable
{
    private static readonly XNamespace X = "http://www.w3.org/1999/xhtml";
    private const string Code = "x = f(\"a (b)\", [1, 2]) // note\ny = {z: \"q\"} /* c */ w\n";
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Save(NetworkKind kind, RnnMode mode, int layers, bool bidirectional = false)
    {
        string path = Path.Combine(_dir, $"{kind}-{mode}-{layers}-{bidirectional}.safetensors");
        var config = new NetworkConfig
        {
            Kind = kind, Mode = mode, Layers = layers, Hidden = 6, Embed = 3, Bidirectional = bidirectional,
            Vocab = CharVocab.FromText(Code), Labels = kind == NetworkKind.Classifier ? ["yes", "no"] : [],
        };
        using var net = new CharNetwork(config, BackendRegistry.Get("reference"), new Random(5));
        Checkpoint.Save(path, net);
        return path;
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData(RnnMode.Lstm)]
    [InlineData(RnnMode.Gru)]
    public void Activations_are_the_last_layers_tanh_c_for_lstm_and_h_otherwise(RnnMode mode)
    {
        using var m = RnnModel.Load(Save(NetworkKind.LanguageModel, mode, 2), "reference");
        var a = CellActivations.Collect(m, "ab\u00e9c"); // é is outside the vocabulary: not read
        Assert.Equal(4, a.Symbols.Count);
        Assert.Equal([0, 1, -1, 2], a.StepOf);
        Assert.Equal(3, a.Steps);
        Assert.Equal(6, a.Cells);
        Assert.Equal(mode == RnnMode.Lstm ? "tanh(c)" : "h", a.Source);
        Assert.Null(a.Probabilities);
        using var s = m.NewState();
        var buf = new float[s.Size];
        int t = 0;
        foreach (var ch in "abc")
        {
            m.Step(s, m.Vocab.Encode(ch.ToString())[0]);
            s.CopyTo(buf);
            // h of both layers (2 x 6), then c of both layers: the last layer's c is the last 6 floats.
            var expected = mode == RnnMode.Lstm ? buf[^6..].Select(MathF.Tanh).ToArray() : s.Hidden.ToArray();
            var got = a.Values.AsSpan(t * 6, 6).ToArray();
            for (int c = 0; c < 6; c++) Assert.Equal(expected[c], got[c], 5e-6f); // vectorised tanh: within a few ulps
            t++;
        }
        Assert.Equal(a.Values.Where((_, i) => i % 6 == 4), a.Cell(4));
    }

    [Fact]
    public void Text_features_follow_quotes_brackets_lines_and_comments()
    {
        var symbols = Code.Select(c => c.ToString()).ToArray();
        var f = TextFeatures.Compute(symbols).ToDictionary(x => x.Name, x => x.Values);
        Assert.Equal(TextFeatures.Names, f.Keys);
        int open = Code.IndexOf('"'), inner = Code.IndexOf("(b)", StringComparison.Ordinal);
        Assert.Equal(1, f["inside quotes"][open]);
        Assert.Equal(1, f["inside quotes"][inner]);
        Assert.Equal(1, f["bracket depth"][inner + 1]); // a bracket inside quotes does not count
        Assert.Equal(2, f["bracket depth"][Code.IndexOf('1')]);
        Assert.Equal(0, f["inside a comment"][Code.IndexOf('1')]);
        Assert.Equal(1, f["inside a comment"][Code.IndexOf("note", StringComparison.Ordinal)]);
        Assert.Equal(0, f["inside a comment"][Code.IndexOf('y')]);
        Assert.Equal(1, f["inside a comment"][Code.IndexOf('c', Code.IndexOf("/*", StringComparison.Ordinal))]);
        Assert.Equal(0, f["inside a comment"][Code.LastIndexOf('w')]);
        Assert.Equal(1, f["position in line"][Code.IndexOf('y')]);
        Assert.Equal(0, f["bracket depth"][Code.IndexOf('y')]);
    }

    [Fact]
    public void Inside_quotes_follows_single_double_and_tripled_strings_with_escapes_but_not_apostrophes()
    {
        // Python-like code: single-quoted strings, an escaped quote, a tripled string over two lines, an apostrophe in a
        // comment and in a word, a prefixed string, a C character literal holding a double quote, an unclosed string.
        string code = "a = 'x(y' + \"q\\\"r(\" + f'z'\n\"\"\"doc 'it'\ns (\"\"\" [1]\n# don't\nc = '\"' ( d\nit's (e)\nu = 'open\nv = (w)\n";
        var symbols = code.Select(c => c.ToString()).ToArray();
        var f = TextFeatures.Compute(symbols).ToDictionary(x => x.Name, x => x.Values);
        var quote = f["inside quotes"];
        var depth = f["bracket depth"];
        int At(string s, int from = 0) => code.IndexOf(s, from, StringComparison.Ordinal);
        Assert.Equal(1, quote[At("x(y")]);
        Assert.Equal(0, depth[At("x(y") + 1]); // a bracket inside a single-quoted string does not count
        Assert.Equal(0, quote[At("' +")]); // the closing quote ends it
        Assert.Equal(1, quote[At("r(")]); // \" does not close the double-quoted string
        Assert.Equal(0, depth[At("r(") + 1]);
        Assert.Equal(1, quote[At("z")]); // f'z' opens after its prefix
        Assert.Equal(1, quote[At("doc")]);
        Assert.Equal(1, quote[At("s (")]); // a tripled string goes on over the line break and past a single quote
        Assert.Equal(0, depth[At("s (") + 2]);
        Assert.Equal(1, quote[At("\"\"\" [") + 1]);
        Assert.Equal(0, quote[At("\"\"\" [") + 2]); // the third quote closes it
        Assert.Equal(1, depth[At("[1]")]);
        Assert.Equal(0, quote[At("c = ")]); // the apostrophe in the comment opened nothing
        Assert.Equal(1, quote[At("\"' (")]); // '"' is a string holding a double quote
        Assert.Equal(0, quote[At("( d")]);
        Assert.Equal(1, depth[At("( d")]);
        Assert.Equal(0, quote[At("s (e)")]); // it's: an apostrophe in a word
        Assert.Equal(2, depth[At("e)")]);
        Assert.Equal(1, quote[At("open")]);
        Assert.Equal(0, quote[At("v = ")]); // an unclosed single-line string ends with its line
        Assert.Equal(2, depth[At("w)")]); // the ( before d is still open
    }

    [Fact]
    public void Correlations_are_pearson_r_over_the_steps_read()
    {
        using var m = RnnModel.Load(Save(NetworkKind.LanguageModel, RnnMode.Lstm, 1), "reference");
        var a = CellActivations.Collect(m, Code);
        var features = TextFeatures.Compute(a.Symbols);
        var r = TextFeatures.Correlate(a, features);
        for (int fi = 0; fi < features.Count; fi++)
            for (int c = 0; c < a.Cells; c++)
            {
                double[] x = features[fi].Values.Select(v => (double)v).ToArray(), y = a.Cell(c).Select(v => (double)v).ToArray();
                double mx = x.Average(), my = y.Average();
                double cov = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my));
                double expected = cov / Math.Sqrt(x.Sum(v => (v - mx) * (v - mx)) * y.Sum(v => (v - my) * (v - my)));
                Assert.Equal(expected, r[fi][c], 6);
            }
        var ranked = TextFeatures.Rank(features, r, 3);
        Assert.All(ranked, list => Assert.True(Math.Abs(list[0].R) >= Math.Abs(list[1].R) && Math.Abs(list[1].R) >= Math.Abs(list[2].R)));
    }

    private static XDocument Parse(string html)
    {
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return XDocument.Load(reader); // well-formed or this throws
    }

    [Fact]
    public void The_page_is_well_formed_with_one_span_per_character_the_data_and_the_ranking()
    {
        string text = Code + "<&>\u0001 \U0001F600 end";
        using var m = RnnModel.Load(Save(NetworkKind.LanguageModel, RnnMode.Lstm, 1), "reference");
        var a = CellActivations.Collect(m, text);
        var doc = Parse(CellPage.Render(a, "m.safetensors", top: 3));
        var div = doc.Descendants(X + "div").Single(d => (string?)d.Attribute("id") == "text");
        var spans = div.Elements(X + "span").ToList();
        Assert.Equal(text.EnumerateRunes().Count(), spans.Count);
        Assert.Equal("<", spans[Code.Length].Value);
        Assert.Equal("&", spans[Code.Length + 1].Value);
        Assert.Equal("\u2401", spans[Code.Length + 3].Value); // a control character as its picture
        Assert.Equal("\U0001F600", spans[Code.Length + 5].Value);
        var json = doc.Descendants(X + "script").Single(s => (string?)s.Attribute("id") == "data").Value;
        using var data = JsonDocument.Parse(json);
        var series = data.RootElement.GetProperty("series");
        Assert.Equal(a.Cells, series.GetArrayLength());
        Assert.Equal(a.Steps, series[0].GetProperty("v").GetArrayLength());
        Assert.Equal((int)MathF.Round(a.Values[2 * a.Cells + 1] * 100), series[1].GetProperty("v")[2].GetInt32());
        Assert.Equal(text.EnumerateRunes().Count(), data.RootElement.GetProperty("stepOf").GetArrayLength());
        // The ranking: a row per feature, each with its top cells as buttons that pick an embedded series.
        var rows = doc.Descendants(X + "table").Single(t => (string?)t.Attribute("id") == "ranking").Elements(X + "tr").Skip(1).ToList();
        Assert.Equal(TextFeatures.Names, rows.Select(r => r.Elements(X + "td").First().Value));
        foreach (var row in rows)
        {
            var buttons = row.Descendants(X + "button").ToList();
            Assert.Equal(3, buttons.Count);
            Assert.All(buttons, b => Assert.InRange((int)b.Attribute("data-series")!, 0, a.Cells - 1));
        }
        Assert.Equal(a.Cells, doc.Descendants(X + "option").Count());
        // Self-contained: no resource is fetched from anywhere.
        Assert.Empty(doc.Descendants().Where(e => e.Attribute("src") != null || e.Attribute("href") != null));
        Assert.DoesNotContain(doc.Descendants(), e => e.Name.LocalName is "link" or "iframe" or "img");
    }

    [Fact]
    public void The_page_is_a_valid_self_contained_html_document_whose_spans_spell_the_text()
    {
        string text = Code + "tab\there \"<b>\" & done\n";
        using var m = RnnModel.Load(Save(NetworkKind.Classifier, RnnMode.Gru, 1), "reference");
        var a = CellActivations.Collect(m, text);
        string html = CellPage.Render(a, "m.safetensors");
        // An HTML5 document: the doctype first, then html > (head, body), a UTF-8 charset and a title in the head.
        Assert.StartsWith("<!DOCTYPE html>\n", html, StringComparison.Ordinal);
        XDocument doc;
        using (var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore }))
            doc = XDocument.Load(reader, LoadOptions.PreserveWhitespace); // well-formed or this throws; spaces and newlines kept as text
        var root = doc.Root!;
        Assert.Equal(X + "html", root.Name);
        Assert.Equal([X + "head", X + "body"], root.Elements().Select(e => e.Name));
        Assert.Equal("en", (string?)root.Attribute("lang"));
        var head = root.Element(X + "head")!;
        Assert.Equal("utf-8", (string?)head.Elements(X + "meta").Single().Attribute("charset"));
        Assert.Contains("m.safetensors", head.Element(X + "title")!.Value, StringComparison.Ordinal);
        // Ids are unique and every label points at an element that exists.
        var ids = doc.Descendants().Select(e => (string?)e.Attribute("id")).OfType<string>().ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(doc.Descendants(X + "label"), l => Assert.Contains((string)l.Attribute("for")!, ids));
        // The spans, read in order, spell the text (HTML-escaped characters come back as themselves).
        var spans = doc.Descendants(X + "div").Single(d => (string?)d.Attribute("id") == "text").Elements(X + "span").Select(s => s.Value);
        Assert.Equal(text, string.Concat(spans));
        // Two scripts, both inline: the data (JSON, not run) and the page's code; no source fetched, no request made.
        var scripts = doc.Descendants(X + "script").ToList();
        Assert.Equal(2, scripts.Count);
        Assert.All(scripts, s => Assert.Null(s.Attribute("src")));
        Assert.Equal("application/json", (string?)scripts[0].Attribute("type"));
        Assert.Null(scripts[1].Attribute("type"));
        foreach (string call in new[] { "fetch(", "XMLHttpRequest", "import(", "WebSocket", "EventSource", "sendBeacon" })
            Assert.DoesNotContain(call, scripts[1].Value, StringComparison.Ordinal);
        string style = doc.Descendants(X + "style").Single().Value;
        Assert.DoesNotContain("url(", style, StringComparison.Ordinal);
        Assert.DoesNotContain("@import", style, StringComparison.Ordinal);
        // No address anywhere but the XHTML namespace.
        Assert.DoesNotContain("://", html.Replace("xmlns=\"http://www.w3.org/1999/xhtml\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
        // The data: the per-step class probabilities and every cell, one value per step read.
        using var data = JsonDocument.Parse(scripts[0].Value);
        var series = data.RootElement.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(a.Cells, series.Count(s => s.GetProperty("kind").GetString() == "cell"));
        Assert.Equal(["yes", "no"], series.Where(s => s.GetProperty("kind").GetString() == "class").Select(s => s.GetProperty("label").GetString()));
        Assert.All(series, s => Assert.Equal(a.Steps, s.GetProperty("v").GetArrayLength()));
    }

    [Fact]
    public void The_cli_writes_the_page_with_a_classifiers_probabilities_per_step()
    {
        string model = Save(NetworkKind.Classifier, RnnMode.Gru, 1);
        string textPath = Path.Combine(_dir, "code.txt"), page = Path.Combine(_dir, "cells.html");
        File.WriteAllText(textPath, Code);
        var (code, o, err) = Cli("visualize", "--model", model, "--text", textPath, "--out", page, "--backend", "reference");
        Assert.True(code == 0, err);
        Assert.Contains(page, o);
        var doc = Parse(File.ReadAllText(page));
        using var data = JsonDocument.Parse(doc.Descendants(X + "script").Single(s => (string?)s.Attribute("id") == "data").Value);
        var classes = data.RootElement.GetProperty("series").EnumerateArray().Where(s => s.GetProperty("kind").GetString() == "class").ToList();
        Assert.Equal(["yes", "no"], classes.Select(c => c.GetProperty("label").GetString()));
        int steps = data.RootElement.GetProperty("steps").GetInt32();
        for (int t = 0; t < steps; t++) // the probabilities of every step add up to 1 (within the rounding to percent)
            Assert.InRange(classes.Sum(c => c.GetProperty("v")[t].GetInt32()), 99, 101);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void A_text_over_100000_characters_and_other_bad_input_exit_2_naming_the_flag()
    {
        string model = Save(NetworkKind.LanguageModel, RnnMode.Lstm, 1);
        string ok = Path.Combine(_dir, "ok.txt"), tooLong = Path.Combine(_dir, "long.txt"), huge = Path.Combine(_dir, "huge.txt"), page = Path.Combine(_dir, "p.html");
        File.WriteAllText(ok, Code);
        File.WriteAllText(tooLong, new string('a', CellActivations.MaxCharacters + 1));
        File.WriteAllText(huge, new string('a', 4 * CellActivations.MaxCharacters + 4));
        var rows = new (string[] Args, string Start)[]
        {
            (["--text", tooLong, "--out", page], $"error: --text: {tooLong} has more than 100000 characters"),
            (["--text", huge, "--out", page], $"error: --text: {huge} is 400004 bytes, more than 100000 characters"),
            (["--text", ok, "--out", Path.Combine(_dir, "p.txt")], "error: --out: must name an .html file"),
            (["--text", ok, "--out", page, "--top", "0"], "error: --top: must be 1 to 100, got 0"),
            (["--text", Path.Combine(_dir, "missing.txt"), "--out", page], "error: --text: "),
        };
        foreach (var (args, start) in rows)
        {
            var (code, o, err) = Cli(["visualize", "--model", model, "--backend", "reference", .. args]);
            Assert.True(code == 2, $"{string.Join(' ', args)}: exit {code}, {err}");
            Assert.Equal("", o);
            Assert.Single(err.Trim().Split('\n'));
            Assert.StartsWith(start, err);
        }
        Assert.False(File.Exists(page));
        // Exactly the bound is accepted.
        File.WriteAllText(tooLong, new string('a', CellActivations.MaxCharacters));
        var (c2, _, e2) = Cli("visualize", "--model", model, "--text", tooLong, "--out", page, "--backend", "reference");
        Assert.True(c2 == 0, e2);
        // A bidirectional model cannot be read one character at a time.
        var (c3, _, e3) = Cli("visualize", "--model", Save(NetworkKind.Classifier, RnnMode.Gru, 1, bidirectional: true), "--text", ok, "--out", page, "--backend", "reference");
        Assert.Equal(2, c3);
        Assert.StartsWith("error: --model: ", e3);
        Assert.Throws<ArgumentException>(() => CellActivations.Collect(RnnModel.Load(model, "reference"), new string('b', CellActivations.MaxCharacters + 1)));
    }
}
