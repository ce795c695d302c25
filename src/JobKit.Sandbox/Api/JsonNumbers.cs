using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api;

/// <summary>
/// Reads a JSON number whatever it was built from: a parsed value answers any numeric type, but a value built
/// from an int or a long answers only its own, and stored objects hold both.
/// </summary>
public static class JsonNumbers
{
    public static long? AsLong(this JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var fromElement) => fromElement,
        _ => null,
    };

    public static int? AsInt(this JsonNode? node) => node.AsLong() is { } l ? (int)l : null;
}
