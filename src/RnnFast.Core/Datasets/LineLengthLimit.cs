// A TextReader that passes text through and stops at a line longer than a limit, with the source and the line number:
// a TSV or CSV row of megabytes (a binary file, a missing line break) would otherwise be buffered whole by the field
// parser and copied into strings several times over.
namespace RnnFast.Datasets;

/// <summary>Wraps a reader; reading past <c>maxLength</c> characters without a line break throws <see cref="FormatException"/>.</summary>
internal sealed class LineLengthLimit(TextReader inner, int maxLength, string source) : TextReader
{
    private long _line = 1;
    private long _column;

    public override int Peek() => inner.Peek();

    public override int Read()
    {
        int c = inner.Read();
        if (c >= 0) Count([(char)c]);
        return c;
    }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read(Span<char> buffer)
    {
        int n = inner.Read(buffer);
        Count(buffer[..n]);
        return n;
    }

    public override int ReadBlock(Span<char> buffer)
    {
        int n = inner.ReadBlock(buffer);
        Count(buffer[..n]);
        return n;
    }

    public override int ReadBlock(char[] buffer, int index, int count) => ReadBlock(buffer.AsSpan(index, count));

    public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(char[] buffer, int index, int count) => Task.FromResult(Read(buffer, index, count));

    private void Count(ReadOnlySpan<char> text)
    {
        while (true)
        {
            int nl = text.IndexOf('\n');
            if (nl < 0)
            {
                _column += text.Length;
                Check();
                return;
            }
            _column += nl;
            Check();
            _line++;
            _column = 0;
            text = text[(nl + 1)..];
        }
    }

    private void Check()
    {
        if (_column > maxLength)
            throw new FormatException($"{source}: line {_line} is longer than {maxLength} characters (TextCorpus.MaxLineLength); is this a text file with line breaks?");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
