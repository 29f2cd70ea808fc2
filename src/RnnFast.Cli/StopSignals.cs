// How the training commands stop: SIGINT (Ctrl-C), SIGTERM (docker stop, systemd, Kubernetes) and SIGHUP (a closed
// terminal) all ask the run to stop through its cancellation token; the trainer finishes the step, writes the
// checkpoint first, then validates as usual, and the command exits with 128 + the signal's number (130, 143, 129).
// A second signal exits at once with that code: the last complete checkpoint stays (checkpoints are written to a
// temporary file and renamed, and the next run removes a temporary file a killed writer left).
using System.Runtime.InteropServices;

namespace RnnFast.Cli;

internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly TextWriter _notice;
    private int _first; // the first signal's number, 0 until one arrives

    /// <summary>Listens for SIGINT, SIGTERM and SIGHUP (those the platform supports); notices go to <paramref name="notice"/>.</summary>
    public StopSignals(TextWriter notice)
    {
        _notice = notice;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            try
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, Handle));
            }
            catch (PlatformNotSupportedException)
            {
                // Not deliverable here (e.g. SIGHUP on some platforms): nothing to listen for.
            }
        }
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>The exit code for a run stopped by a signal: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129); 130 if none arrived.</summary>
    public int ExitCode => 128 + (_first != 0 ? _first : 2);

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // never the runtime's default (an immediate exit): this class decides
        int number = Number(context.Signal);
        if (Interlocked.CompareExchange(ref _first, number, 0) == 0)
        {
            try
            {
                _notice.WriteLine($"{Name(context.Signal)}: finishing the step and saving a checkpoint (send it again to exit at once)");
                _notice.Flush();
            }
            catch (IOException)
            {
                // The notice is a courtesy; stopping is what matters.
            }
            _cts.Cancel();
            return;
        }
        Environment.Exit(128 + number); // the second signal: at once; the last complete checkpoint stays
    }

    private static int Number(PosixSignal s) => s switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        _ => 2,
    };

    private static string Name(PosixSignal s) => s switch
    {
        PosixSignal.SIGHUP => "SIGHUP",
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGTERM => "SIGTERM",
        _ => s.ToString(),
    };

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
