// Reading a training text from a file with memory proportional to the text: the file is read twice in 1 MiB chunks
// (once to check and count, once to decode straight into the one string the trainer needs), so no second copy of
// the text, no StringBuilder and no array of lines is ever held. Binary data is refused (NUL bytes or invalid UTF-8
// in the first chunk, named with the file and the byte offset) unless the caller allows it, and a file too large
// for the memory available is refused before it is read.
using System.Text;

namespace RnnFast.Datasets;

/// <summary>Reads training texts (UTF-8) from files.</summary>
public static class TextCorpus
{
    /// <summary>
    /// Bytes of memory a training run takes per byte of its text, about: the text as UTF-16 (2), its token ids (4) and
    /// the held-out copy, the vocabulary scan and the file buffers (2). A text larger than the memory available divided
    /// by this is refused before it is read.
    /// </summary>
    public const int BytesPerTextByte = 8;

    /// <summary>Longest line (in characters) the TSV and CSV readers accept; a longer one is a FormatException naming the file and line.</summary>
    public const int MaxLineLength = 1 << 20;

    /// <summary>
    /// Refuses a file whose first <see cref="SniffLength"/> bytes look like binary data (see <see cref="Read"/>), with a
    /// <see cref="InvalidDataException"/> naming the file and the byte offset.
    /// </summary>
    public static void RequireText(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        long available = Training.MemoryEstimate.AvailableBytes();
        if (file.CanSeek && file.Length > available / BytesPerTextByte) throw TooLarge(path, file.Length, available);
        var head = new byte[SniffLength];
        int n = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        int start = n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF ? 3 : 0;
        CheckText(path, head.AsSpan(start, n - start), start);
    }

    /// <summary>How many bytes at the start of the file are examined for binary data.</summary>
    public const int SniffLength = 64 << 10;

    private const int Chunk = 1 << 20;

    /// <summary>
    /// The text of <paramref name="path"/> (UTF-8; a UTF-8 byte order mark is skipped; invalid sequences past the first
    /// <see cref="SniffLength"/> bytes become U+FFFD). Throws <see cref="InvalidDataException"/> naming the file and the byte
    /// offset when the start of the file holds a NUL byte or more than 1% invalid UTF-8 (binary data) and
    /// <paramref name="allowBinary"/> is false; <see cref="ArgumentException"/> when the file is too large for the memory
    /// available (see <see cref="Training.MemoryEstimate.AvailableBytes"/>); <see cref="IOException"/> when the file
    /// changes while it is read.
    /// </summary>
    public static string Read(string path, bool allowBinary = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"path: {path} not found", path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        long available = Training.MemoryEstimate.AvailableBytes();
        long ceiling = available / BytesPerTextByte;
        long length = file.CanSeek ? file.Length : 0;
        if (length > ceiling) throw TooLarge(path, length, available);

        var buffer = new byte[Chunk];
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
        // Pass 1: check the start, count the characters (and the bytes, for a file whose length is not known up front).
        long bytes = 0, chars = 0;
        int skip = 0;
        int n;
        while ((n = file.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0;
            if (bytes == 0)
            {
                if (n >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = skip = 3;
                if (!allowBinary) CheckText(path, buffer.AsSpan(start, Math.Min(n - start, SniffLength)), start);
            }
            bytes += n;
            if (bytes > ceiling) throw TooLarge(path, bytes, available);
            chars += decoder.GetCharCount(buffer, start, n - start, flush: false);
        }
        chars += decoder.GetCharCount([], 0, 0, flush: true);
        if (chars > Array.MaxLength)
            throw new ArgumentException($"path: {path} holds {chars} characters, more than one string holds ({Array.MaxLength})");
        if (!file.CanSeek) throw new ArgumentException($"path: {path} is not a regular file");

        // Pass 2: decode into the string itself.
        file.Position = 0;
        decoder.Reset();
        return string.Create((int)chars, (file, buffer, decoder, skip, path), static (dest, s) =>
        {
            int written = 0, n2;
            bool first = true;
            while ((n2 = s.file.Read(s.buffer, 0, s.buffer.Length)) > 0)
            {
                int start = first ? s.skip : 0;
                first = false;
                written += Decode(s.decoder, s.buffer.AsSpan(start, n2 - start), dest, written, s.path, flush: false);
            }
            written += Decode(s.decoder, [], dest, written, s.path, flush: true);
            if (written != dest.Length) throw Changed(s.path);
        });
    }

    private static int Decode(Decoder decoder, ReadOnlySpan<byte> bytes, Span<char> dest, int at, string path, bool flush)
    {
        int need = decoder.GetCharCount(bytes, flush);
        if (need > dest.Length - at) throw Changed(path);
        return decoder.GetChars(bytes, dest[at..], flush);
    }

    /// <summary>
    /// Refuses binary data at the start of a file: a NUL byte, or invalid UTF-8 in more than 1% of the bytes examined;
    /// the message names the file and the byte offset of the first bad byte.
    /// </summary>
    private static void CheckText(string path, ReadOnlySpan<byte> head, int offset)
    {
        int nul = head.IndexOf((byte)0);
        if (nul >= 0)
            throw new InvalidDataException($"{path}: byte {offset + nul} is a NUL byte: this looks like binary data, not UTF-8 text (pass allowBinary / --allow-binary to train on it anyway)");
        int invalid = 0, first = -1, i = 0;
        // The examined span may end inside a character: an incomplete sequence at its very end is not counted.
        while (i < head.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(head[i..], out _, out int used);
            if (status == System.Buffers.OperationStatus.InvalidData)
            {
                invalid++;
                if (first < 0) first = i;
            }
            else if (status == System.Buffers.OperationStatus.NeedMoreData) break;
            i += Math.Max(used, 1);
        }
        if (invalid > 0 && invalid * 100L > head.Length)
            throw new InvalidDataException($"{path}: {invalid} of the first {head.Length} bytes are not valid UTF-8 (the first at byte {offset + first}): this looks like binary data, not UTF-8 text (pass allowBinary / --allow-binary to train on it anyway)");
    }

    private static ArgumentException TooLarge(string path, long bytes, long available) =>
        new($"path: {path} is {(bytes >= (long)available / BytesPerTextByte ? "at least " : "")}{bytes} bytes; training on it needs ~{Training.MemoryEstimate.Format((double)bytes * BytesPerTextByte)} ({BytesPerTextByte} bytes a byte of text), this machine has {Training.MemoryEstimate.Format(available)} available");

    private static IOException Changed(string path) => new($"{path}: the file changed while it was being read");
}
