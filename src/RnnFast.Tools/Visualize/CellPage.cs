// `rnnfast visualize`: one self-contained HTML page (no network, no external scripts or styles) showing a text
// coloured per character by a chosen cell's activation (CellActivations), a picker over the cells, and the cells
// ranked by how strongly they follow simple text features (TextFeatures: Pearson r), each a button that shows that
// cell; for a classifier also each class's probability per step. The page is XHTML-well-formed (parseable as XML):
// one <span> per character inside <div id="text">, the data as JSON in <script type="application/json" id="data">
// (with <, > and & escaped), the inline script in CDATA. Activations are embedded as integers in -100..100 (probabilities
// 0..100); when steps x cells would exceed MaxEmbeddedValues only the best-ranked cells are embedded (the page says so).
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RnnFast.Charts;
using RnnFast.Models;

namespace RnnFast.Visualize;

/// <summary>Writes the cell-activation page (see the file header).</summary>
public static class CellPage
{
    /// <summary>The most activation values (steps x embedded series) the page embeds.</summary>
    public const long MaxEmbeddedValues = 4_000_000;

    /// <summary>The page for <paramref name="activations"/> of the model named <paramref name="title"/>, ranking the top <paramref name="top"/> cells per feature.</summary>
    public static string Render(CellActivations activations, string title, int top = 5)
    {
        ArgumentNullException.ThrowIfNull(activations);
        ArgumentNullException.ThrowIfNull(title);
        var inv = CultureInfo.InvariantCulture;
        var features = TextFeatures.Compute(activations.Symbols);
        var r = TextFeatures.Correlate(activations, features);
        var ranking = TextFeatures.Rank(features, r, top);
        int T = activations.Steps, H = activations.Cells, C = activations.Labels.Count;

        // Which cells to embed: all when they fit, else the ranked ones first, then by how strongly each follows any feature.
        long room = T == 0 ? H : Math.Max(1, (MaxEmbeddedValues / T) - C);
        var order = ranking.SelectMany(x => x).Select(x => x.Cell)
            .Concat(Enumerable.Range(0, H).OrderByDescending(c => r.Max(f => Math.Abs(f[c])))).Distinct().ToList();
        var embedded = (room >= H ? Enumerable.Range(0, H) : order.Take((int)room).Order()).ToList();
        var seriesOf = new Dictionary<int, int>();
        var series = new JsonArray();
        foreach (int c in embedded)
        {
            seriesOf[c] = series.Count;
            var v = new JsonArray();
            for (int t = 0; t < T; t++) v.Add((JsonNode)JsonValue.Create((int)MathF.Round(Math.Clamp(activations.Values[t * H + c], -1f, 1f) * 100)));
            string best = features.Count == 0 ? "" : features[Enumerable.Range(0, features.Count).MaxBy(f => Math.Abs(r[f][c]))].Name;
            int bf = features.Select(f => f.Name).ToList().IndexOf(best);
            series.Add((JsonNode)new JsonObject
            {
                ["name"] = $"cell {c}", ["kind"] = "cell", ["cell"] = c,
                ["note"] = bf >= 0 ? $"follows '{best}' most (r = {r[bf][c].ToString("F2", inv)})" : "",
                ["v"] = v,
            });
        }
        for (int k = 0; k < C; k++)
        {
            var v = new JsonArray();
            for (int t = 0; t < T; t++) v.Add((JsonNode)JsonValue.Create((int)MathF.Round(activations.Probabilities![t * C + k] * 100)));
            series.Add((JsonNode)new JsonObject { ["name"] = $"p({activations.Labels[k]})", ["kind"] = "class", ["label"] = activations.Labels[k], ["note"] = "probability per step", ["v"] = v });
        }
        int initial = ranking.Count > 0 && ranking[0].Count > 0 && seriesOf.TryGetValue(ranking[0][0].Cell, out int s0) ? s0 : 0;
        var data = new JsonObject
        {
            ["source"] = activations.Source,
            ["cells"] = H,
            ["steps"] = T,
            ["stepOf"] = new JsonArray(activations.StepOf.Select(x => (JsonNode)x).ToArray()),
            ["features"] = new JsonArray(features.Select(f => (JsonNode)f.Name).ToArray()),
            ["r"] = new JsonArray(r.Select(row => (JsonNode)new JsonArray(row.Select(x => (JsonNode)Math.Round(x, 3)).ToArray())).ToArray()),
            ["labels"] = new JsonArray(activations.Labels.Select(l => (JsonNode)l).ToArray()),
            ["series"] = series,
            ["initial"] = initial,
        };

        var sb = new StringBuilder(activations.Symbols.Count * 24 + 200_000);
        sb.Append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>")
          .Append(Esc($"cells of {title}")).Append("</title>\n<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(Esc($"Cells of {title}")).Append("</h1>\n<p class=\"summary\">")
          .Append(Esc($"{activations.Symbols.Count} characters, {T} read by the model; {H} cells in the last layer, coloured by {activations.Source} " +
                      "(red positive, blue negative; grey: a character outside the vocabulary, not read)."));
        if (embedded.Count < H) sb.Append(Esc($" The text is long: {embedded.Count} of the {H} cells are embedded, the best-ranked ones."));
        sb.Append("</p>\n<p class=\"picker\"><label for=\"pick\">show: </label><select id=\"pick\">\n");
        for (int k = 0; k < series.Count; k++)
            sb.Append("<option value=\"").Append(k.ToString(inv)).Append('"').Append(k == initial ? " selected=\"selected\"" : "").Append('>')
              .Append(Esc((string)series[k]!["name"]!)).Append("</option>\n");
        sb.Append("</select> <span id=\"info\"></span></p>\n<p id=\"hover\">&#160;</p>\n");
        sb.Append("<h2>Cells ranked by the text features they follow</h2>\n<table id=\"ranking\">\n<tr><th>feature</th><th>cells, strongest first (Pearson r)</th></tr>\n");
        for (int f = 0; f < ranking.Count; f++)
        {
            sb.Append("<tr><td>").Append(Esc(features[f].Name)).Append("</td><td>");
            foreach (var x in ranking[f])
            {
                string label = $"cell {x.Cell} (r = {x.R.ToString("F2", inv)})";
                if (seriesOf.TryGetValue(x.Cell, out int k))
                    sb.Append("<button type=\"button\" class=\"cell\" data-series=\"").Append(k.ToString(inv)).Append("\">").Append(Esc(label)).Append("</button> ");
                else sb.Append(Esc(label)).Append(' ');
            }
            sb.Append("</td></tr>\n");
        }
        sb.Append("</table>\n<h2>Text</h2>\n<div id=\"text\">");
        foreach (var ch in activations.Symbols) sb.Append("<span>").Append(Esc(Visible(ch))).Append("</span>");
        sb.Append("</div>\n<script type=\"application/json\" id=\"data\">")
          .Append(data.ToJsonString()) // the default encoder writes <, > and & as \u escapes
          .Append("</script>\n<script>//<![CDATA[\n").Append(Script).Append("//]]></script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>Writes <see cref="Render"/> to <paramref name="path"/> atomically (a temporary file, then a rename).</summary>
    public static void Save(string path, CellActivations activations, string title, int top = 5) => Svg.WriteAtomic(path, Render(activations, title, top));

    /// <summary>A character XML can carry and a reader can see: C0 controls other than tab and newline as their control pictures.</summary>
    private static string Visible(string ch) =>
        ch.Length == 1 && ch[0] < 0x20 && ch[0] is not ('\t' or '\n') ? ((char)(0x2400 + ch[0])).ToString()
        : ch is "\uFFFE" or "\uFFFF" ? "\uFFFD" : ch;

    private static string Esc(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");

    private const string Style = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #111827; }
#text { font-family: ui-monospace, monospace; white-space: pre-wrap; line-height: 1.5; border: 1px solid #d1d5db; padding: 0.75em; }
#text span { padding: 0 0.5px; }
table { border-collapse: collapse; } td, th { border: 1px solid #e5e7eb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
button.cell { margin: 0.1em; cursor: pointer; }
#info, #hover { color: #374151; font-size: 0.9em; }

""";

    private const string Script = """
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var spans = document.getElementById('text').children;
  var pick = document.getElementById('pick');
  var info = document.getElementById('info');
  var hover = document.getElementById('hover');
  var current = data.initial;
  function colour(v) {
    var a = (Math.abs(v) / 100).toFixed(2);
    return v >= 0 ? 'rgba(220,38,38,' + a + ')' : 'rgba(37,99,235,' + a + ')';
  }
  function show(k) {
    var s = data.series[k];
    if (!s) return;
    current = k;
    for (var i = 0; i !== spans.length; i++) {
      var t = data.stepOf[i];
      spans[i].style.backgroundColor = t === -1 ? '#e5e7eb' : colour(s.v[t]);
    }
    pick.value = String(k);
    info.textContent = s.name + (s.note ? ': ' + s.note : '');
  }
  pick.addEventListener('change', function () { show(Number(pick.value)); });
  var buttons = document.querySelectorAll('button.cell');
  for (var b = 0; b !== buttons.length; b++) {
    buttons[b].addEventListener('click', function (e) { show(Number(e.currentTarget.getAttribute('data-series'))); });
  }
  document.getElementById('text').addEventListener('mouseover', function (e) {
    var i = Array.prototype.indexOf.call(spans, e.target);
    if (i === -1) return;
    var t = data.stepOf[i];
    if (t === -1) { hover.textContent = 'character ' + i + ': not in the vocabulary, not read'; return; }
    var text = 'character ' + i + ', step ' + t + ': ' + data.series[current].name + ' = ' + (data.series[current].v[t] / 100).toFixed(2);
    var probs = [];
    for (var k = 0; k !== data.series.length; k++) {
      if (data.series[k].kind === 'class') probs.push(data.series[k].label + ' ' + (data.series[k].v[t] / 100).toFixed(2));
    }
    if (probs.length) text += ' | ' + probs.join(', ');
    hover.textContent = text;
  });
  show(current);
})();

""";
}
