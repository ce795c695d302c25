using System.Text;

namespace JobKit.Core.ConfigData;

/// <summary>
/// How kubectl (spf13/pflag's StringSlice) reads one <c>--from-file</c> or <c>--from-env-file</c> value: as the first
/// record of a CSV document (Go's encoding/csv), so <c>a,b</c> is two values and <c>"a,b"</c> is one.
/// </summary>
internal static class StringSliceFlag
{
    /// <summary>The values in <paramref name="raw"/>; an error message when it is not valid CSV.</summary>
    public static (IReadOnlyList<string> Values, string? Error) Split(string raw)
    {
        if (raw.Length == 0)
        {
            return ([], null);
        }
        var text = raw.Replace("\r\n", "\n", StringComparison.Ordinal);
        var position = 0;
        while (position < text.Length && text[position] == '\n')
        {
            position++; // encoding/csv skips empty lines
        }
        if (position == text.Length)
        {
            return ([], "the value holds no path");
        }

        var values = new List<string>();
        var field = new StringBuilder();
        while (true)
        {
            field.Clear();
            if (position < text.Length && text[position] == '"')
            {
                var fieldStart = position;
                position++;
                while (true)
                {
                    if (position == text.Length)
                    {
                        return ([], $"the quote at column {fieldStart + 1} is never closed");
                    }
                    var c = text[position++];
                    if (c != '"')
                    {
                        field.Append(c);
                    }
                    else if (position < text.Length && text[position] == '"')
                    {
                        field.Append('"');
                        position++;
                    }
                    else if (position == text.Length || text[position] is ',' or '\n')
                    {
                        break;
                    }
                    else
                    {
                        return ([], $"extraneous or missing \" in quoted-field at column {position + 1}");
                    }
                }
            }
            else
            {
                while (position < text.Length && text[position] is not (',' or '\n'))
                {
                    if (text[position] == '"')
                    {
                        return ([], $"bare \" in non-quoted-field at column {position + 1}");
                    }
                    field.Append(text[position++]);
                }
            }
            values.Add(field.ToString());
            if (position < text.Length && text[position] == ',')
            {
                position++;
                continue;
            }
            return (values, null); // end of the first record: kubectl ignores any further lines
        }
    }
}
