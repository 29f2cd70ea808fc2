// `rnnfast sample --model M`: streams characters from a trained language model as they are produced.
// Exit 0 on success, 2 for an unusable model file, bad option values or an unavailable backend (one line on stderr).
// --length is 0 to 1e9. --num-samples K (1 to 10000) writes K samples, each after a header line
// `--- sample k of K (seed S) ---` when K > 1, sample k seeded with --seed + k - 1. The output always ends with a newline
// (one is added unless the text already ends with one); so does every sample. The text is streamed, never kept whole, and flushed at every newline and every 64 characters.
// When stdout is a pipe whose reader has gone (`rnnfast sample ... | head -c 10`: EPIPE on a write), sampling stops
// and the command ends quietly with exit 0, nothing more printed, as `yes | head` does from the shell's view.
using System.CommandLine;
using Microsoft.Win32.SafeHandles;
using RnnFast.Models;

namespace RnnFast.Cli;

internal static class SampleCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "a checkpoint written by `rnnfast train`", Required = true };
        var length = new Option<int>("--length") { Description = "characters to generate (at most 1e9)", DefaultValueFactory = _ => 500 };
        var temperature = new Option<float>("--temperature") { Description = "sampling temperature (> 0; lower is more conservative)", DefaultValueFactory = _ => 1f };
        var prime = new Option<string?>("--prime") { Description = "text to start from (default: one random character)" };
        var topK = new Option<int>("--top-k") { Description = "sample among the K most likely characters (0 = all)", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "random seed for sampling", DefaultValueFactory = _ => 1 };
        var argmax = new Option<bool>("--argmax") { Description = "always take the most likely character" };
        var topP = new Option<float>("--top-p") { Description = "nucleus sampling: sample among the most likely characters whose probabilities add up to P (0 < P <= 1; 1 = all)", DefaultValueFactory = _ => 1f };
        var numSamples = new Option<int>("--num-samples") { Description = $"how many samples to write (1 to {MaxSamples}), each under a header line when more than one; sample k uses --seed + k - 1", DefaultValueFactory = _ => 1 };
        var stopAt = new Option<string?>("--stop") { Description = "stop a sample as soon as its generated text ends with this string (which is written)" };
        var backend = BackendOption.Create();
        var threads = BackendOption.CreateThreads();
        var cmd = new Command("sample", "Generate text from a trained character model") { model, length, temperature, prime, topK, topP, seed, argmax, numSamples, stopAt, backend, threads };
        cmd.SetAction(r =>
        {
            var options = new SamplingOptions
            {
                Temperature = r.GetValue(temperature), TopK = r.GetValue(topK), TopP = r.GetValue(topP), Argmax = r.GetValue(argmax), Seed = r.GetValue(seed),
                Stop = r.GetValue(stopAt),
            };
            var output = r.InvocationConfiguration.Output;
            // .NET's console stream drops writes that fail with EPIPE, so a closed pipe would never be noticed: the real
            // stdout is written through a FileStream on fd 1, whose writes throw IOException on a broken pipe.
            using var stdout = ReferenceEquals(output, Console.Out) ? OpenStdout() : null;
            return Run(r.GetValue(model)!, r.GetValue(length), options, r.GetValue(prime), r.GetValue(backend),
                stdout ?? output, r.InvocationConfiguration.Error, r.GetValue(threads), r.GetValue(numSamples));
        });
        return cmd;
    }

    /// <summary>The largest --length accepted.</summary>
    public const int MaxLength = 1_000_000_000;

    /// <summary>The largest --num-samples accepted.</summary>
    public const int MaxSamples = 10_000;

    private sealed class QuietWriter(Stream stream) : StreamWriter(stream, new System.Text.UTF8Encoding(false), 4096)
    {
        // A broken pipe at disposal (the final flush) has already been reported by Run as a quiet stop.
        protected override void Dispose(bool disposing)
        {
            try { base.Dispose(disposing); } catch (IOException) { }
        }
    }

    private static TextWriter? OpenStdout()
    {
        if (OperatingSystem.IsWindows()) return null;
        try
        {
            var fs = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            return new QuietWriter(fs);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or NotSupportedException)
        {
            return null; // fd 1 closed or unusable: keep the console writer
        }
    }

    /// <summary>
    /// Loads <paramref name="modelPath"/> and streams <paramref name="samples"/> samples of up to <paramref name="length"/>
    /// characters to <paramref name="o"/>. The
    /// sampling options, the length and the prime are validated by RnnModel.Generate before it produces anything; its
    /// messages name SamplingOptions properties and its parameters, which come out as this command's flags.
    /// </summary>
    public static int Run(string modelPath, int length, SamplingOptions options, string? prime, string? backend, TextWriter o, TextWriter err,
        int? threads = null, int samples = 1)
    {
        bool pipeClosed = false;
        try
        {
            if (length < 0) throw new ArgumentException($"--length: must be >= 0, got {length}");
            if (length > MaxLength) throw new ArgumentException($"--length: must be <= {MaxLength}, got {length}");
            if (samples < 1 || samples > MaxSamples) throw new ArgumentException($"--num-samples: must be 1 to {MaxSamples}, got {samples}");
            if ((long)samples * length > MaxLength)
                throw new ArgumentException($"--num-samples: {samples} samples of --length {length} is more than {MaxLength} characters in all");
            InputFiles.RequireRegular("--model", modelPath);
            using var m = RnnModel.Load(modelPath, backend);
            RnnFast.Backends.BackendThreads.Apply(m.Backend, threads, "--threads");
            if (m.Kind != NetworkKind.LanguageModel) throw new ArgumentException($"--model: {modelPath} is a {m.Kind.ToString().ToLowerInvariant()}, not a language model (use rnnfast predict)");
            var primeText = prime ?? "";
            bool primeWritten = false, atLineStart = true;
            int unflushed = 0;
            using var stop = new CancellationTokenSource();
            // Writes to stdout; an IOException there (EPIPE: the reader has gone) stops the sampling quietly.
            void Emit(string s, bool flush)
            {
                if (pipeClosed) return;
                try
                {
                    o.Write(s);
                    if (s.Length > 0) atLineStart = s[^1] == '\n';
                    unflushed += s.Length;
                    if (flush || unflushed >= 64 || s.Contains('\n'))
                    {
                        o.Flush();
                        unflushed = 0;
                    }
                }
                catch (IOException)
                {
                    pipeClosed = true;
                    stop.Cancel();
                }
            }
            void WritePrime()
            {
                primeWritten = true;
                Emit(primeText, flush: false);
            }
            for (int k = 0; k < samples && !pipeClosed; k++)
            {
                var sampleOptions = options with { Seed = unchecked(options.Seed + k) };
                primeWritten = false;
                // The header and the prime are written only once Generate has accepted its arguments (its first
                // character, or its end): a refused run prints nothing on stdout.
                void Start()
                {
                    if (primeWritten) return;
                    if (samples > 1) Emit($"--- sample {k + 1} of {samples} (seed {sampleOptions.Seed}) ---\n", flush: false);
                    WritePrime();
                }
                m.Generate(primeText, length, sampleOptions, s =>
                {
                    Start();
                    Emit(s, flush: false);
                }, stop.Token, keepText: false);
                Start();
                Emit(atLineStart ? "" : "\n", flush: true);
            }
            return CliErrors.Ok;
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            return CliErrors.Report(e, err, OptionNames.Sample);
        }
    }
}
