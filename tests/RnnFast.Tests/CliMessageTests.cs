// Issue 15 items 14, 16, 20: every CLI error is one line naming the flag or the file, never an internal parameter
// name, a .NET type name or a stack trace. Parse errors: unknown options with the closest one of that command, typed
// values ("'abc' is not a number"), the subcommand's help at the end; `rnnfast help [command]` is --help; every option
// has a help text. Checkpoint metadata problems name the file and the key; resuming another task's model is refused.
using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using RnnFast.Cli;
using RnnFast.IO;
using RnnFast.Models;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class CliMessageTests(ITestOutputHelper output) : IDisposable
{
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
        if (!File.Exists(path)) File.WriteAllText(path, string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 40)));
        return path;
    }

    [Theory]
    [InlineData("train --data {text} --out {dir}/m.st --hiden 5", "error: unknown option '--hiden' (did you mean '--hidden'?) (see 'rnnfast train --help')")]
    [InlineData("classify --hiddne 5", "error: unknown option '--hiddne' (did you mean '--hidden'?) (see 'rnnfast classify --help')")]
    [InlineData("sample --model x --bidirectional", "error: unknown option '--bidirectional' (see 'rnnfast sample --help')")]
    [InlineData("trian", "error: unknown command 'trian' (did you mean 'train'?) (see 'rnnfast --help')")]
    [InlineData("help frob", "error: unknown command 'frob' (see 'rnnfast --help')")]
    [InlineData("train --data {text} --out {dir}/m.st --max-seconds abc", "error: --max-seconds: 'abc' is not a number (see 'rnnfast train --help')")]
    [InlineData("train --data {text} --out {dir}/m.st --hidden 99999999999", "error: --hidden: '99999999999' is out of range (an integer from -2147483648 to 2147483647) (see 'rnnfast train --help')")]
    [InlineData("train --data {text} --out {dir}/m.st --hidden 1.5", "error: --hidden: '1.5' is not an integer (see 'rnnfast train --help')")]
    [InlineData("sample --model x --temperature warm", "error: --temperature: 'warm' is not a number (see 'rnnfast sample --help')")]
    [InlineData("train --data {text} --out {dir}/m.st --hidden", "error: --hidden: needs a value (an integer) (see 'rnnfast train --help')")]
    [InlineData("train --out {dir}/m.st", "error: --data: required (see 'rnnfast train --help')")]
    [InlineData("train --data {text} --out {dir}/m.st --model lstmm", "error: --model: unknown cell 'lstmm' (expected lstm, gru, rnn or rnn_relu); did you mean 'lstm'?")]
    [InlineData("classify --min-length 0", "error: --min-length: must be at least 1, got 0")]
    [InlineData("classify --classes 30", "error: --classes: must be from 1 to 26 (one letter each), got 30")]
    [InlineData("classify --max-length 5 --min-length 10", "error: --max-length: must be at least --min-length (10), got 5")]
    [InlineData("train --data {text} --out {dir}/m.st --layers 1000000000",
        "error: --layers x --hidden x --hidden x 4 gates = 65536000000000 weights is more than one model holds (2147483647)")]
    public void Errors_are_one_line_in_the_clis_words(string line, string expected)
    {
        var args = line.Replace("{text}", Text()).Replace("{dir}", _dir).Split(' ');
        var (code, o, e) = Cli(args);
        Assert.Equal(2, code);
        Assert.Equal(expected, e.TrimEnd('\n'));
        Assert.Equal("", o); // nothing on stdout before the error
    }

    [Fact]
    public void A_generated_task_too_big_for_memory_is_refused_naming_its_flags()
    {
        // The memory estimate (machine-dependent figures) refuses it before MemoryTask.Generate's own size check.
        var (code, o, e) = Cli("classify", "--examples", "2000000000");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --examples x --max-length: the generated task needs ~", e);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
        Assert.Equal("", o);
    }

    [Fact]
    public void Help_command_prints_the_same_as_dash_dash_help()
    {
        var (c1, root, _) = Cli("help");
        var (c2, rootHelp, _) = Cli("--help");
        Assert.Equal((0, 0), (c1, c2));
        Assert.Equal(rootHelp, root);
        Assert.Contains("train", root);
        foreach (var command in CliApp.Build().Subcommands)
        {
            var (a, viaHelp, _) = Cli("help", command.Name);
            var (b, viaFlag, _) = Cli(command.Name, "--help");
            Assert.Equal((0, 0), (a, b));
            Assert.Equal(viaFlag, viaHelp);
            Assert.Contains("Usage:", viaHelp);
            Assert.Contains($" {command.Name} ", viaHelp); // the usage line (in process the root is named after the test host)
        }
    }

    [Fact]
    public void Every_option_of_every_command_has_a_help_text()
    {
        var missing = new List<string>();
        void Walk(Command c, string path)
        {
            if (string.IsNullOrWhiteSpace(c.Description)) missing.Add($"{path}: the command");
            foreach (var o in c.Options)
                if (string.IsNullOrWhiteSpace(o.Description)) missing.Add($"{path} {o.Name}");
            foreach (var a in c.Arguments)
                if (string.IsNullOrWhiteSpace(a.Description)) missing.Add($"{path} <{a.Name}>");
            foreach (var s in c.Subcommands) Walk(s, $"{path} {s.Name}");
        }
        Walk(CliApp.Build(), "rnnfast");
        Assert.True(missing.Count == 0, "no help text: " + string.Join(", ", missing));
    }

    /// <summary>Numeric options with fast base command lines: every bad value is refused naming the flag.</summary>
    public static TheoryData<string> ScannedCommands => new() { "train", "classify", "sample" };

    [Theory]
    [MemberData(nameof(ScannedCommands))]
    public void Every_numeric_option_refuses_absurd_zero_negative_and_NaN_values_naming_its_flag(string command)
    {
        string lm = Path.Combine(_dir, "lm.safetensors");
        if (command == "sample")
            Assert.Equal(0, Cli("train", "--data", Text(), "--out", lm, "--steps", "1", "--hidden", "4", "--embed", "2", "--layers", "1", "--seq-len", "4",
                "--batch", "2", "--eval-every", "0", "--backend", "reference").Code);
        var baseArgs = command switch
        {
            "train" => new Dictionary<string, string>
            {
                ["--data"] = Text(), ["--out"] = Path.Combine(_dir, "t.st"), ["--steps"] = "1", ["--hidden"] = "4", ["--embed"] = "2", ["--layers"] = "1",
                ["--seq-len"] = "4", ["--batch"] = "2", ["--eval-every"] = "0", ["--checkpoint-every"] = "0", ["--max-seconds"] = "3", ["--backend"] = "reference",
            },
            "classify" => new Dictionary<string, string>
            {
                ["--examples"] = "24", ["--steps"] = "1", ["--hidden"] = "4", ["--embed"] = "2", ["--min-length"] = "3", ["--max-length"] = "6", ["--backend"] = "reference",
            },
            _ => new Dictionary<string, string> { ["--model"] = lm, ["--length"] = "5", ["--backend"] = "reference" },
        };
        var cmd = CliApp.Build().Subcommands.Single(c => c.Name == command);
        var numeric = cmd.Options.Where(o => (Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType) is var t && (t == typeof(int) || t == typeof(double) || t == typeof(float))).ToList();
        Assert.NotEmpty(numeric);
        var failures = new List<string>();
        int refused = 0, accepted = 0;
        foreach (var option in numeric)
        {
            var t = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
            var values = t == typeof(int) ? new[] { "2000000000", "0", "-1", "-2000000000" } : ["1e300", "0", "-1", "NaN", "-Infinity"];
            foreach (var value in values)
            {
                // A long run is valid input, not an error: classify has no time limit, so its --steps is not run absurd.
                if (command == "classify" && option.Name == "--steps" && value == "2000000000") continue;
                var args = new Dictionary<string, string>(baseArgs) { [option.Name] = value };
                if (option.Name == "--epochs") args.Remove("--steps");
                var list = new List<string> { command };
                foreach (var (k, v) in args) list.AddRange([k, v]);
                var task = Task.Run(() => Cli([.. list]));
                if (!task.Wait(TimeSpan.FromSeconds(60)))
                {
                    failures.Add($"rnnfast {string.Join(' ', list)}: did not finish in 60 s");
                    continue;
                }
                var (code, o, e) = task.Result;
                if (code == 0) { accepted++; continue; }
                refused++;
                var lines = e.TrimEnd('\n').Split('\n');
                string err = e.Trim();
                // Refused before any work: nothing on stdout. A run that started and diverged (--lr 1e300) has printed its progress.
                bool diverged = err.Contains("training stopped", StringComparison.Ordinal);
                if (code != 2 || lines.Length != 1 || !err.StartsWith("error: ", StringComparison.Ordinal) || !err.Contains(option.Name, StringComparison.Ordinal)
                    || err.Contains("(Parameter '", StringComparison.Ordinal) || err.Contains("System.", StringComparison.Ordinal) || err.Contains("   at ", StringComparison.Ordinal)
                    || err.Contains("Options.", StringComparison.Ordinal) || (!diverged && o.Length > 0))
                    failures.Add($"rnnfast {command} {option.Name} {value}: exit {code}, stdout {o.Length} chars, stderr: {err}");
            }
        }
        output.WriteLine($"{command}: {numeric.Count} numeric options, {refused} values refused, {accepted} accepted");
        Assert.True(refused > 0);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private string TrainedCheckpoint()
    {
        string ck = Path.Combine(_dir, "ck.safetensors");
        var (code, _, err) = Cli("train", "--data", Text(), "--out", ck, "--steps", "1", "--hidden", "4", "--embed", "2", "--layers", "1", "--seq-len", "4",
            "--batch", "2", "--eval-every", "0", "--backend", "reference", "--optimizer", "sgd", "--momentum", "0.5");
        Assert.True(code == 0, err);
        return ck;
    }

    private static void RewriteMetadata(string from, string to, Action<JsonObject> edit)
    {
        byte[] bytes = File.ReadAllBytes(from);
        long n = BitConverter.ToInt64(bytes, 0);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n))!.AsObject();
        edit(header["__metadata__"]!.AsObject());
        byte[] h = Encoding.UTF8.GetBytes(header.ToJsonString());
        using var fs = File.Create(to);
        fs.Write(BitConverter.GetBytes((long)h.Length));
        fs.Write(h);
        fs.Write(bytes, 8 + (int)n, bytes.Length - 8 - (int)n);
    }

    [Theory]
    [InlineData("train.lr", "NaN", "error: bad.safetensors: metadata 'train.lr' is NaN")]
    [InlineData("train.seq_len", "-64", "error: bad.safetensors: metadata 'train.seq_len' = -64 is negative")]
    [InlineData("train.seq_len", "0", "error: bad.safetensors: metadata 'train.seq_len': must be positive, got 0")]
    [InlineData("optimizer_step", "-5", "error: bad.safetensors: metadata 'optimizer_step' = -5 is negative")]
    [InlineData("train.x.momentum", "NaN", "error: bad.safetensors: metadata 'train.x.momentum' is NaN")]
    [InlineData("train.x.momentum", "-1", "error: bad.safetensors: metadata 'train.x.momentum': must be a number >= 0, got -1")]
    [InlineData("train.optimizer", "lbfgs", "error: bad.safetensors: metadata 'train.optimizer': must be adam, sgd or adagrad, got 'lbfgs'")]
    public void Checkpoint_metadata_problems_name_the_file_and_the_key_not_a_flag(string key, string value, string expected)
    {
        string ck = TrainedCheckpoint();
        string bad = Path.Combine(_dir, "bad.safetensors");
        RewriteMetadata(ck, bad, m => m[key] = value);
        var (code, _, err) = Cli("train", "--data", Text(), "--resume", bad, "--out", Path.Combine(_dir, "next.safetensors"), "--steps", "3", "--backend", "reference");
        Assert.Equal(2, code);
        Assert.Equal(expected, err.TrimEnd('\n'));
    }

    [Fact]
    public void The_users_own_flags_are_still_named_as_flags_on_resume()
    {
        string ck = TrainedCheckpoint();
        var (code, _, err) = Cli("train", "--data", Text(), "--resume", ck, "--out", Path.Combine(_dir, "next.safetensors"), "--max-skips", "0", "--backend", "reference");
        Assert.Equal(2, code);
        Assert.Equal("error: --max-skips: must be positive, got 0", err.TrimEnd('\n'));
    }

    [Fact]
    public void Resuming_a_model_of_another_task_is_refused_naming_the_file_and_both_tasks()
    {
        string cls = Path.Combine(_dir, "cls.safetensors");
        var made = Cli("classify", "--examples", "24", "--steps", "1", "--hidden", "4", "--embed", "2", "--min-length", "3", "--max-length", "6",
            "--backend", "reference", "--out", cls);
        Assert.True(made.Code == 0, made.Err);
        var (code, _, err) = Cli("train", "--data", Text(), "--resume", cls, "--out", Path.Combine(_dir, "next.safetensors"), "--backend", "reference");
        Assert.Equal(2, code);
        Assert.Equal("error: cls.safetensors: holds a classifier, not a language model; it cannot be resumed as one", err.TrimEnd('\n'));

        // A classifier's tensors under language-model metadata: refused when read, naming the file and the mismatch.
        string lying = Path.Combine(_dir, "lying.safetensors");
        RewriteMetadata(cls, lying, m => { m["kind"] = "char_lm"; m.Remove("labels"); });
        var e = Assert.Throws<RnnFormatException>(() => Checkpoint.Read(lying));
        Assert.StartsWith("lying.safetensors: metadata 'kind' = 'char_lm' (a language model) but tensor 'head.weight' has 4 rows", e.Message);
    }

    [Fact]
    public void A_state_dict_too_large_to_number_without_a_vocabulary_names_the_file()
    {
        int V = Checkpoint.MaxPlaceholderSymbols + 1;
        string path = Path.Combine(_dir, "big.safetensors");
        SafeTensorsWriter.Write(path,
        [
            SafeTensorEntry.F32("embedding.weight", [V, 1], new float[V]),
            SafeTensorEntry.F32("rnn.weight_ih_l0", [1, 1], new float[1]), SafeTensorEntry.F32("rnn.weight_hh_l0", [1, 1], new float[1]),
            SafeTensorEntry.F32("rnn.bias_ih_l0", [1], new float[1]), SafeTensorEntry.F32("rnn.bias_hh_l0", [1], new float[1]),
            SafeTensorEntry.F32("head.weight", [V, 1], new float[V]), SafeTensorEntry.F32("head.bias", [V], new float[V]),
        ]);
        var e = Assert.Throws<RnnFormatException>(() => Checkpoint.Read(path));
        Assert.Equal($"big.safetensors: tensor 'embedding.weight' has {V} rows and the file has no 'vocab' metadata; without one at most {V - 1} symbols can be numbered (save the vocabulary with the model)", e.Message);
        // The CLI: one line, exit 2.
        var (code, _, err) = Cli("sample", "--model", path, "--length", "3");
        Assert.Equal(2, code);
        Assert.StartsWith("error: big.safetensors: tensor 'embedding.weight' has", err);
    }

    [Fact]
    public void An_unreadable_file_is_permission_denied_naming_it()
    {
        // The message .NET gives for EACCES (tests may run as root, where chmod 000 does not stop a read).
        var e = new UnauthorizedAccessException("Access to the path '/data/corpus.txt' is denied.");
        Assert.Equal("/data/corpus.txt: permission denied", CliErrors.OneLine(e));
        Assert.Equal("--data: /data/corpus.txt: permission denied", OptionNames.Train.Message(new ArgumentException("--data: " + CliErrors.OneLine(e))));
    }

    [Fact]
    public void A_closed_stdout_is_one_line_naming_stdout()
    {
        if (OperatingSystem.IsWindows())
        {
            output.WriteLine("skipped: closing fd 1 needs a POSIX shell");
            return;
        }
        // sh closes fd 1, then becomes `dotnet rnnfast.dll --help` (what `rnnfast --help >&-` does in a shell).
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", "exec 1>&-; exec \"$0\" \"$@\"", CliProcess.DotnetHost, CliProcess.CliDll, "--help" }) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "rnnfast --help >&- did not finish");
        Assert.Equal(2, p.ExitCode);
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("error: stdout is closed", err);
    }
}
