using System.Text;
using System.Text.Unicode;

namespace JobKit.Core.ConfigData;

/// <summary>One <c>KEY=VALUE</c> (or <c>KEY</c>) line of an env file.</summary>
internal readonly record struct EnvFileLine(int LineNumber, string Key, string Value);

/// <summary>
/// kubectl's env-file reader (k8s.io/kubectl/pkg/cmd/util/env_file.go, AddFromEnvFile / processEnvFileLine, v1.32):
/// lines split at '\n' with one trailing '\r' dropped (bufio.ScanLines); a UTF-8 BOM dropped from the first line
/// only; leading Unicode whitespace trimmed, trailing kept; blank lines and lines starting with '#' skipped; the
/// value is everything after the first '=', verbatim (no quote removal, no escapes, no <c>export</c>, no inline
/// comments); a line without '=' takes its value from the environment.
/// </summary>
internal static class EnvFile
{
    /// <summary>bufio.Scanner's default limit: kubectl silently stops reading at a longer line; we fail instead.</summary>
    public const int MaxLineLength = 64 * 1024 - 1;

    private const int MaxBytesInMessage = 64;

    /// <summary>
    /// Parses <paramref name="content"/>, handing each line to <paramref name="add"/> as soon as it is read (so, as in
    /// kubectl, a duplicate key on line 2 is reported before a bad line 3); <paramref name="fail"/> builds the
    /// exception for a message.
    /// </summary>
    public static void Parse(
        ReadOnlySpan<byte> content,
        string displayPath,
        Func<string, string?> getEnvironmentVariable,
        Action<EnvFileLine> add,
        Func<string, Exception> fail)
    {
        var lineIndex = 0;
        while (!content.IsEmpty)
        {
            var newline = content.IndexOf((byte)'\n');
            var raw = newline < 0 ? content : content[..newline];
            content = newline < 0 ? [] : content[(newline + 1)..];
            var lineNumber = lineIndex + 1;
            if (raw.Length > MaxLineLength)
            {
                throw fail($"line {lineNumber} is longer than {MaxLineLength} bytes, which kubectl silently ignores along with every line after it; "
                    + "put a value that long in a file and use --from-file");
            }
            var line = raw.EndsWith("\r"u8) ? raw[..^1] : raw;
            if (!Utf8.IsValid(line))
            {
                throw fail($"env file {displayPath} contains invalid utf8 bytes at line {lineNumber}: {FormatBytes(line)}; an env file must be UTF-8 text");
            }
            if (lineIndex == 0 && line.StartsWith("\uFEFF"u8))
            {
                line = line[3..];
            }
            lineIndex++;

            var text = Encoding.UTF8.GetString(line).TrimStart(); // char.IsWhiteSpace is Go's unicode.IsSpace
            if (text.Length == 0 || text[0] == '#')
            {
                continue;
            }
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? text : text[..equals];
            var errors = ConfigDataKeys.ValidateEnvVarName(key);
            if (errors.Count > 0)
            {
                var hint = key.StartsWith("export ", StringComparison.Ordinal) ? "; drop \"export\": env files are not shell scripts" : "";
                throw fail($"line {lineNumber}: {ConfigDataKeys.GoQuote(key)} is not a valid key name: {string.Join(';', errors)}{hint}");
            }
            var value = equals < 0 ? getEnvironmentVariable(key) ?? "" : text[(equals + 1)..];
            add(new EnvFileLine(lineNumber, key, value));
        }
    }

    /// <summary>Go's <c>%v</c> of a []byte, e.g. <c>[65 61 255]</c>, cut short for long lines.</summary>
    private static string FormatBytes(ReadOnlySpan<byte> bytes)
    {
        var shown = bytes.Length > MaxBytesInMessage ? bytes[..MaxBytesInMessage] : bytes;
        var builder = new StringBuilder("[");
        for (var i = 0; i < shown.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(' ');
            }
            builder.Append(shown[i]);
        }
        builder.Append(bytes.Length > MaxBytesInMessage ? " ...]" : "]");
        return builder.ToString();
    }
}
