using System.Collections.Immutable;
using System.Text;

namespace JobKit.Core.ConfigData;

/// <summary>One key and its value, with the flag it came from.</summary>
/// <param name="Key">A valid ConfigMap key.</param>
/// <param name="Value">The value's bytes (UTF-8 for text).</param>
/// <param name="IsBinary">True when the value is a file that is not valid UTF-8: ConfigMap binaryData rather than data.</param>
/// <param name="Flag">The flag, e.g. <c>--from-file</c>.</param>
/// <param name="Source">The flag's value (one comma-separated element of it), e.g. <c>key=path/to/file</c>.</param>
public sealed record ConfigDataEntry(string Key, ImmutableArray<byte> Value, bool IsBinary, string Flag, string Source)
{
    /// <summary>The value as text; null for a binary value.</summary>
    public string? Text => IsBinary ? null : Encoding.UTF8.GetString(Value.AsSpan());
}
