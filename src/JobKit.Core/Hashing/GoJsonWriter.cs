using System.Buffers;
using System.Text;

namespace JobKit.Core.Hashing;

/// <summary>
/// Writes compact JSON byte for byte as Go's <c>encoding/json.Marshal</c> does for the values the hashers use (strings, maps
/// of strings, booleans, null): map keys sorted by their UTF-8 bytes; <c>&lt;</c> <c>&gt;</c> <c>&amp;</c> escaped as
/// <c>\u003c</c> <c>\u003e</c> <c>\u0026</c>; U+2028 and U+2029 escaped; <c>\b \f \n \r \t</c> as short escapes and other
/// control characters as <c>\u00XX</c> with lower-case hex; invalid UTF-16 (a lone surrogate, which is what invalid UTF-8
/// becomes in a .NET string) as <c>\ufffd</c>; everything else, including DEL and non-ASCII, as raw UTF-8.
/// </summary>
internal sealed class GoJsonWriter
{
    private const string HexDigits = "0123456789abcdef";

    private readonly ArrayBufferWriter<byte> buffer = new(256);
    private bool needsComma;

    public ReadOnlySpan<byte> WrittenSpan => buffer.WrittenSpan;

    public void StartObject()
    {
        Separate();
        WriteByte((byte)'{');
        needsComma = false;
    }

    public void EndObject()
    {
        WriteByte((byte)'}');
        needsComma = true;
    }

    public void PropertyName(string name)
    {
        Separate();
        WriteQuoted(name);
        WriteByte((byte)':');
        needsComma = false;
    }

    public void String(string? value)
    {
        Separate();
        if (value is null)
        {
            WriteAscii("null");
        }
        else
        {
            WriteQuoted(value);
        }
        needsComma = true;
    }

    public void Boolean(bool value)
    {
        Separate();
        WriteAscii(value ? "true" : "false");
        needsComma = true;
    }

    public void Null()
    {
        Separate();
        WriteAscii("null");
        needsComma = true;
    }

    /// <summary>
    /// A JSON object of the entries, keys in Go's order; a null dictionary is written as <c>null</c>. A null value is written as
    /// <c>""</c>: neither tool can produce one, and KubernetesClient's YAML reader turns an empty value into null.
    /// </summary>
    public void StringMap(IEnumerable<KeyValuePair<string, string>>? entries)
    {
        if (entries is null)
        {
            Null();
            return;
        }
        StartObject();
        foreach (var (key, value) in SortedByUtf8(entries))
        {
            PropertyName(key);
            String(value ?? "");
        }
        EndObject();
    }

    /// <summary>A JSON object of base64 (standard, padded) values as Go encodes <c>map[string][]byte</c>; null values as for <see cref="StringMap"/>.</summary>
    public void BytesMap(IEnumerable<KeyValuePair<string, byte[]>>? entries)
    {
        if (entries is null)
        {
            Null();
            return;
        }
        StartObject();
        foreach (var (key, value) in SortedByUtf8(entries))
        {
            PropertyName(key);
            String(value is null ? "" : Convert.ToBase64String(value));
        }
        EndObject();
    }

    /// <summary>Go sorts map keys with <c>strings.Compare</c>, i.e. by UTF-8 bytes (which differs from UTF-16 order above U+FFFF).</summary>
    private static IEnumerable<KeyValuePair<string, T>> SortedByUtf8<T>(IEnumerable<KeyValuePair<string, T>> entries)
    {
        var list = entries.ToList();
        if (list.Exists(e => e.Key.Any(char.IsSurrogate)))
        {
            return list.OrderBy(e => Encoding.UTF8.GetBytes(e.Key), Utf8Order.Instance);
        }
        list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return list;
    }

    private sealed class Utf8Order : IComparer<byte[]>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    private void Separate()
    {
        if (needsComma)
        {
            WriteByte((byte)',');
        }
    }

    private void WriteByte(byte b)
    {
        buffer.GetSpan(1)[0] = b;
        buffer.Advance(1);
    }

    private void WriteAscii(string s)
    {
        var span = buffer.GetSpan(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            span[i] = (byte)s[i];
        }
        buffer.Advance(s.Length);
    }

    private void WriteQuoted(string s)
    {
        WriteByte((byte)'"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"':
                    WriteAscii("\\\"");
                    break;
                case '\\':
                    WriteAscii("\\\\");
                    break;
                case '\b':
                    WriteAscii("\\b");
                    break;
                case '\f':
                    WriteAscii("\\f");
                    break;
                case '\n':
                    WriteAscii("\\n");
                    break;
                case '\r':
                    WriteAscii("\\r");
                    break;
                case '\t':
                    WriteAscii("\\t");
                    break;
                case '<' or '>' or '&' or '\u2028' or '\u2029':
                case < ' ':
                    WriteUnicodeEscape(c);
                    break;
                case < '\u0080':
                    WriteByte((byte)c);
                    break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        WriteUtf8(s.AsSpan(i, 2));
                        i++;
                    }
                    else if (char.IsSurrogate(c))
                    {
                        WriteAscii("\\ufffd");
                    }
                    else
                    {
                        WriteUtf8(s.AsSpan(i, 1));
                    }
                    break;
            }
        }
        WriteByte((byte)'"');
    }

    private void WriteUnicodeEscape(char c)
    {
        var span = buffer.GetSpan(6);
        span[0] = (byte)'\\';
        span[1] = (byte)'u';
        span[2] = (byte)HexDigits[(c >> 12) & 0xF];
        span[3] = (byte)HexDigits[(c >> 8) & 0xF];
        span[4] = (byte)HexDigits[(c >> 4) & 0xF];
        span[5] = (byte)HexDigits[c & 0xF];
        buffer.Advance(6);
    }

    private void WriteUtf8(ReadOnlySpan<char> chars)
    {
        var written = Encoding.UTF8.GetBytes(chars, buffer.GetSpan(4));
        buffer.Advance(written);
    }
}
