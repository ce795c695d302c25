using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Patching;

/// <summary>JSON Merge Patch (RFC 7386), as the apiserver applies <c>application/merge-patch+json</c>.</summary>
public static class JsonMergePatch
{
    /// <summary>
    /// Applies <paramref name="patch"/> to <paramref name="target"/> and returns the result. Neither argument is
    /// modified; the result shares no nodes with them. A non-object patch replaces the target.
    /// </summary>
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }
        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : new JsonObject();
        Merge(result, patchObject);
        return result;
    }

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
