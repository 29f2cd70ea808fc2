// One writer per output file. A training run holds "<out>.lock" open with FileShare.None for its whole run (an
// exclusive flock(2) on Unix, a sharing lock on Windows), so a second run writing the same output is refused at once
// instead of the two replacing (and cleaning away) each other's temporary files. The kernel drops the lock when the
// holder exits, however it exits, so a lock file left by a killed run is simply taken over; the file holds the
// holder's process id for people (`cat out.lock`). Taking the lock is also the check that the output can be written:
// the folder must exist (it is never created) and accept a new file, before any training step runs.
namespace RnnFast.IO;

/// <summary>
/// An exclusive lock on an output path for the time a writer holds it (see <see cref="Acquire"/>). Dispose it to
/// release the lock; the lock file is then removed.
/// </summary>
public sealed class OutputLock : IDisposable
{
    private FileStream? _stream;

    private OutputLock(string path, string lockPath, FileStream stream, int? previousHolder)
    {
        Path = path;
        LockPath = lockPath;
        _stream = stream;
        PreviousHolder = previousHolder;
    }

    /// <summary>The output this lock is for.</summary>
    public string Path { get; }

    /// <summary>The lock file, "&lt;<see cref="Path"/>&gt;.lock".</summary>
    public string LockPath { get; }

    /// <summary>The process id recorded in a lock file left by a writer that has exited (taken over); null when there was none.</summary>
    public int? PreviousHolder { get; }

    /// <summary>How many temporary files of killed writers (<c>&lt;out&gt;.tmp-*</c>) were removed when the lock was taken.</summary>
    public int StaleTemporariesRemoved { get; private init; }

    /// <summary>
    /// Checks that <paramref name="path"/> can be written and takes its lock. Every refusal is an
    /// <see cref="ArgumentException"/> whose message starts with <paramref name="name"/> (the option that gave the path,
    /// e.g. <c>TrainOptions.Out</c>): an empty name, a directory, a folder that does not exist (never created), a folder
    /// where no file can be created (read-only file system, no permission), or another live writer holding the lock.
    /// Temporary files left by killed writers of <paramref name="path"/> are removed once the lock is held.
    /// </summary>
    public static OutputLock Acquire(string path, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{name}: a file name is required, got '{path}'");
        if (Directory.Exists(path) || path.EndsWith(System.IO.Path.DirectorySeparatorChar) || path.EndsWith(System.IO.Path.AltDirectorySeparatorChar))
            throw new ArgumentException($"{name}: {path} is a directory; give a file name in it");
        string full = System.IO.Path.GetFullPath(path);
        string? folder = System.IO.Path.GetDirectoryName(full);
        if (folder != null && !Directory.Exists(folder))
        {
            if (File.Exists(folder)) throw new ArgumentException($"{name}: {path}: {folder} is a file, not a folder");
            throw new ArgumentException($"{name}: {path}: the folder {folder} does not exist (it is not created; make it first)");
        }

        string lockPath = path + ".lock";
        for (int attempt = 0; ; attempt++)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new ArgumentException($"{name}: {path}: no file can be created in {folder} ({e.Message})", e);
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                throw new ArgumentException(
                    $"{name}: {path} is being written by another run (it holds {System.IO.Path.GetFileName(lockPath)}, which records its process id); " +
                    "wait for it to finish or write elsewhere", e);
            }
            catch (IOException e)
            {
                throw new ArgumentException($"{name}: {path}: no file can be created in {folder} ({e.Message})", e);
            }

            // A run that ended removed its lock file after this one opened it: the lock taken is on a file no longer
            // at the path. Start again on the path's own file.
            if (!File.Exists(lockPath) && attempt < 3)
            {
                stream.Dispose();
                continue;
            }

            int? previous = null;
            try
            {
                if (stream.Length is > 0 and < 64)
                {
                    var old = new byte[stream.Length];
                    stream.ReadExactly(old);
                    if (int.TryParse(System.Text.Encoding.ASCII.GetString(old).Trim(), System.Globalization.NumberStyles.None,
                            System.Globalization.CultureInfo.InvariantCulture, out int pid)) previous = pid;
                }
                stream.SetLength(0);
                stream.Position = 0;
                stream.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n"));
                stream.Flush();
            }
            catch (IOException e)
            {
                stream.Dispose();
                throw new ArgumentException($"{name}: {path}: the lock file {lockPath} cannot be written ({e.Message})", e);
            }
            int removed = SafeTensorsWriter.DeleteStaleTemporaries(path);
            return new OutputLock(path, lockPath, stream, previous) { StaleTemporariesRemoved = removed };
        }
    }

    /// <summary>
    /// The open failed because another handle holds the lock: flock's EWOULDBLOCK (11 on Linux, 35 on macOS and the BSDs)
    /// or Windows' sharing and lock violations.
    /// </summary>
    private static bool IsHeldElsewhere(IOException e) => e.GetType() == typeof(IOException) && (OperatingSystem.IsWindows()
        ? e.HResult is unchecked((int)0x80070020) or unchecked((int)0x80070021)
        : e.HResult == (OperatingSystem.IsLinux() ? 11 : 35));

    /// <summary>Removes the lock file and releases the lock (in that order, while still holding it).</summary>
    public void Dispose()
    {
        var s = Interlocked.Exchange(ref _stream, null);
        if (s == null) return;
        try
        {
            File.Delete(LockPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: the next writer takes it over (nobody holds it once this process lets go).
        }
        s.Dispose();
    }
}
