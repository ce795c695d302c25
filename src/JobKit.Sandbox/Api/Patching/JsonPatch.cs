using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Patching;

/// <summary>
/// JSON Patch (RFC 6902) with the semantics of gopkg.in/evanphx/json-patch.v4, the library the kube-apiserver
/// applies <c>application/json-patch+json</c> with. Its quirks are kept on purpose: <c>replace</c> of a missing
/// object member adds it, <c>copy</c> from a missing member copies <c>null</c>, a missing <c>value</c> is
/// <c>null</c>, negative array indices count from the end, a path without a leading '/' drops its first token.
/// Every failure is the server's opaque 422 ("the server rejected our request due to an error in our request").
/// </summary>
public static class JsonPatch
{
    /// <summary>Applies the operations to a copy of <paramref name="target"/>; throws <see cref="ApiException"/> 422.</summary>
    public static JsonNode? Apply(JsonNode? target, JsonArray operations)
    {
        // The root is held in a one-element holder so that operations can replace it in place.
        var doc = target?.DeepClone();
        foreach (var opNode in operations)
        {
            if (opNode is not JsonObject op)
            {
                throw Rejected();
            }
            var kind = GetString(op, "op");
            switch (kind)
            {
                case "add":
                    Add(doc, RequiredPath(op, "path"), ValueOf(op));
                    break;
                case "remove":
                    Remove(doc, RequiredPath(op, "path"));
                    break;
                case "replace":
                    Replace(doc, RequiredPath(op, "path"), ValueOf(op));
                    break;
                case "move":
                    {
                        var from = RequiredPath(op, "from");
                        var (con, key) = FindObject(doc, from);
                        var value = Get(con, key);
                        RemoveFrom(con, key);
                        var path = RequiredPath(op, "path");
                        var (dest, destKey) = FindObject(doc, path);
                        AddTo(dest, destKey, value);
                        break;
                    }
                case "copy":
                    {
                        var from = RequiredPath(op, "from");
                        var (con, key) = FindObject(doc, from);
                        var value = Get(con, key);
                        var path = RequiredPath(op, "path");
                        var (dest, destKey) = FindObject(doc, path);
                        AddTo(dest, destKey, value?.DeepClone());
                        break;
                    }
                case "test":
                    Test(doc, RequiredPath(op, "path"), op);
                    break;
                default:
                    throw Rejected();
            }
        }
        return doc;
    }

    /// <summary>The server's 400 for a JSON patch body that is no array (real: <c>error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp</c>).</summary>
    public static ApiException NotAnArray(JsonNode? body) =>
        ApiException.BadRequest($"error decoding patch: json: cannot unmarshal {JsonMergePatch.GoJsonKind(body)} into Go value of type []handlers.jsonPatchOp");

    /// <summary>The Status the apiserver answers for any JSON patch that does not apply (NewGenericServerResponse 422).</summary>
    public static ApiException Rejected() =>
        new(422, "Invalid", "the server rejected our request due to an error in our request", kind: "");

    private static string? GetString(JsonObject op, string name) =>
        op[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static string RequiredPath(JsonObject op, string name) => GetString(op, name) ?? throw Rejected();

    private static JsonNode? ValueOf(JsonObject op) => op["value"]?.DeepClone();

    private static void Add(JsonNode? doc, string path, JsonNode? value)
    {
        var (con, key) = FindObject(doc, path);
        AddTo(con, key, value);
    }

    private static void Remove(JsonNode? doc, string path)
    {
        var (con, key) = FindObject(doc, path);
        RemoveFrom(con, key);
    }

    private static void Replace(JsonNode? doc, string path, JsonNode? value)
    {
        var (con, key) = FindObject(doc, path);
        _ = Get(con, key);
        switch (con)
        {
            case JsonObject obj:
                obj[key] = value;
                break;
            case JsonArray array:
                array[ArrayIndex(array, key)] = value;
                break;
        }
    }

    private static void Test(JsonNode? doc, string path, JsonObject op)
    {
        var (con, key) = FindObject(doc, path);
        var actual = Get(con, key);
        var expected = op["value"];
        if (actual is null)
        {
            if (expected is null)
            {
                return;
            }
            throw Rejected();
        }
        if (expected is null || !JsonNode.DeepEquals(actual, expected))
        {
            throw Rejected();
        }
    }

    /// <summary>findObject: walks all tokens but the last; the container must exist and be an object or array.</summary>
    private static (JsonNode Container, string Key) FindObject(JsonNode? doc, string path)
    {
        var split = path.Split('/');
        if (split.Length < 2 || doc is null)
        {
            throw Rejected();
        }
        var current = doc;
        for (var i = 1; i < split.Length - 1; i++)
        {
            var next = Get(current, Decode(split[i]));
            if (next is not (JsonObject or JsonArray))
            {
                throw Rejected();
            }
            current = next;
        }
        if (current is not (JsonObject or JsonArray))
        {
            throw Rejected();
        }
        return (current, Decode(split[^1]));
    }

    private static string Decode(string token) => token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    private static JsonNode? Get(JsonNode container, string key)
    {
        switch (container)
        {
            case JsonObject obj:
                return obj.TryGetPropertyValue(key, out var value) ? value : null;
            case JsonArray array:
                return array[ArrayIndex(array, key)];
            default:
                throw Rejected();
        }
    }

    private static int ArrayIndex(JsonArray array, string key)
    {
        if (!int.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var idx))
        {
            throw Rejected();
        }
        if (idx < 0)
        {
            if (idx < -array.Count)
            {
                throw Rejected();
            }
            idx += array.Count;
        }
        if (idx >= array.Count)
        {
            throw Rejected();
        }
        return idx;
    }

    private static void AddTo(JsonNode container, string key, JsonNode? value)
    {
        switch (container)
        {
            case JsonObject obj:
                obj[key] = value;
                break;
            case JsonArray array:
                if (key == "-")
                {
                    array.Add(value);
                    return;
                }
                if (!int.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var idx))
                {
                    throw Rejected();
                }
                var size = array.Count + 1;
                if (idx >= size || idx < -size)
                {
                    throw Rejected();
                }
                if (idx < 0)
                {
                    idx += size;
                }
                array.Insert(idx, value);
                break;
            default:
                throw Rejected();
        }
    }

    private static void RemoveFrom(JsonNode container, string key)
    {
        switch (container)
        {
            case JsonObject obj:
                if (!obj.Remove(key))
                {
                    throw Rejected();
                }
                break;
            case JsonArray array:
                array.RemoveAt(ArrayIndex(array, key));
                break;
            default:
                throw Rejected();
        }
    }
}
