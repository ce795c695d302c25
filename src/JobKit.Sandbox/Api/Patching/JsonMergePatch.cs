using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Patching;

/// <summary>JSON Merge Patch (RFC 7386), as the apiserver applies <c>application/merge-patch+json</c>.</summary>
public static class JsonMergePatch
{
    /// <summary>
    /// Applies <paramref name="patch"/> to <paramref name="target"/> and returns the result. Neither argument is
    /// modified; the result shares no nodes with them. The server decodes the patch into a map first, so a
    /// non-object patch is its 400 (real: <c>error decoding patch: json: cannot unmarshal array into Go value of
    /// type map[string]interface {}</c>); a JSON <c>null</c> patch changes nothing (not checked on the real server).
    /// </summary>
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is null)
        {
            return target?.DeepClone();
        }
        if (patch is not JsonObject patchObject)
        {
            throw ApiException.BadRequest($"error decoding patch: json: cannot unmarshal {GoJsonKind(patch)} into Go value of type map[string]interface {{}}");
        }
        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : new JsonObject();
        Merge(result, patchObject);
        return result;
    }

    /// <summary>The JSON kind as encoding/json names it in "cannot unmarshal X into ...": object, array, string, number, bool.</summary>
    internal static string GoJsonKind(JsonNode? node) => node switch
    {
        JsonObject => "object",
        JsonArray => "array",
        null => "null",
        _ => node.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => "string",
            System.Text.Json.JsonValueKind.Number => "number",
            _ => "bool",
        },
    };

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject valueObject)
            {
                if (target[key] is not JsonObject existing)
                {
                    existing = new JsonObject();
                    target[key] = existing;
                }
                Merge(existing, valueObject);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }
}
