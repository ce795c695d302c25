using System.Globalization;
using System.Text;

namespace JobKit.Sandbox.Kubelet;

/// <summary>
/// One run (attempt) of a container's output, stored like the CRI log format: every line is
/// <c>&lt;RFC3339Nano time&gt; &lt;stdout|stderr&gt; &lt;F|P&gt; &lt;content&gt;\n</c>, P marking a partial line (output that
/// ended without a newline). The time per line is what <c>timestamps</c>, <c>sinceTime</c> and <c>sinceSeconds</c> need.
/// </summary>
internal sealed class ContainerLogFile
{
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ContainerLogFile(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>Completes when the process has exited and all its output is in the file.</summary>
    public Task Finished => finished.Task;

    public void MarkFinished() => finished.TrySetResult();

    /// <summary>Kubernetes' RFC3339Nano: nanosecond fraction without trailing zeros, as Go prints it.</summary>
    public static string FormatTimestamp(DateTime utc)
    {
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');
        return text + "Z";
    }

    public static bool TryParseTimestamp(string text, out DateTime utc) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out utc);

    public static byte[] EncodeRecord(DateTime utc, string stream, bool partial, ReadOnlySpan<byte> content)
    {
        var prefix = Encoding.ASCII.GetBytes($"{FormatTimestamp(utc)} {stream} {(partial ? 'P' : 'F')} ");
        var record = new byte[prefix.Length + content.Length + 1];
        prefix.CopyTo(record, 0);
        content.CopyTo(record.AsSpan(prefix.Length));
        record[^1] = (byte)'\n';
        return record;
    }
}

/// <summary>One parsed line of a <see cref="ContainerLogFile"/>.</summary>
internal readonly record struct LogRecord(DateTime Time, string Timestamp, bool Partial, ReadOnlyMemory<byte> Content)
{
    public static LogRecord? Parse(ReadOnlyMemory<byte> line)
    {
        var span = line.Span;
        var first = span.IndexOf((byte)' ');
        if (first < 0)
        {
            return null;
        }
        var second = span[(first + 1)..].IndexOf((byte)' ');
        if (second < 0)
        {
            return null;
        }
        var tagAt = first + 1 + second + 1;
        if (tagAt + 1 >= span.Length + 1)
        {
            return null;
        }
        var timestamp = Encoding.ASCII.GetString(span[..first]);
        if (!ContainerLogFile.TryParseTimestamp(timestamp, out var time))
        {
            return null;
        }
        var partial = span[tagAt] == (byte)'P';
        var contentStart = Math.Min(tagAt + 2, line.Length);
        return new LogRecord(time, timestamp, partial, line[contentStart..]);
    }
}
