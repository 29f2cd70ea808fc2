// `rnnfast check FILE|DIR... [--backend NAME]`: runs PyTorch reference files on a backend and prints, per tensor,
// the max absolute and relative error and pass/fail. Last line: `PASS n/m` or `FAIL n/m` (tensors).
// Exit 0 all pass, 1 any tensor fails, 2 an unusable file, an unavailable backend, or a case the backend refuses by
// design (NotSupportedException, e.g. cuda and a peephole LSTM: reported per file with the backend's reason).
using System.CommandLine;
using RnnFast.Backends;
using RnnFast.Checks;

namespace RnnFast.Cli;

internal static class CheckCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "reference .safetensors files, or folders of them", Arity = ArgumentArity.OneOrMore };
        var backend = BackendOption.Create();
        var cmd = new Command("check", "Run PyTorch reference cases on a backend and compare every tensor") { files, backend };
        cmd.SetAction(r => Run(r.GetValue(files) ?? [], r.GetValue(backend), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return cmd;
    }

    public static int Run(IReadOnlyList<string> paths, string? backendName, TextWriter o, TextWriter err)
    {
        Backend backend;
        try
        {
            backend = BackendRegistry.Get(backendName);
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            err.WriteLine($"error: {CliErrors.OneLine(e)}");
            return CliErrors.BadInput;
        }

        var files = new List<string>();
        foreach (var p in paths)
        {
            if (Directory.Exists(p)) files.AddRange(Directory.GetFiles(p, "*.safetensors").Order(StringComparer.Ordinal));
            else files.Add(p);
        }
        if (files.Count == 0)
        {
            err.WriteLine($"error: no .safetensors files in {string.Join(", ", paths)}");
            return CliErrors.BadInput;
        }

        int passed = 0, total = 0, unusable = 0;
        foreach (var path in files)
        {
            try
            {
                if (File.Exists(path)) InputFiles.RequireRegular("check", path); // a FIFO would block the read forever
                var report = ReferenceCaseRunner.Run(path, backend);
                o.WriteLine($"{report.File} ({report.Kind}) on {report.Backend}:");
                foreach (var c in report.Checks) o.WriteLine("  " + c);
                passed += report.PassedCount;
                total += report.Checks.Count;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                err.WriteLine($"error: {CliErrors.OneLine(e)}");
                unusable++;
            }
            catch (NotSupportedException e)
            {
                err.WriteLine($"error: {Path.GetFileName(path)}: not run on {backend.Name}: {CliErrors.OneLine(e)}");
                unusable++;
            }
        }
        bool ok = unusable == 0 && passed == total && total > 0;
        o.WriteLine($"{(ok ? "PASS" : "FAIL")} {passed}/{total}");
        return unusable > 0 ? CliErrors.BadInput : ok ? CliErrors.Ok : CliErrors.CheckFailed;
    }
}
