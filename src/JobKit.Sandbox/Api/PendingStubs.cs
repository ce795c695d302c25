// Temporary stand-ins until the patch/admission branch lands; deleted at merge.
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Patching
{
    public static class JsonMergePatch
    {
        public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
        {
            if (patch is not JsonObject patchObject)
            {
                return patch?.DeepClone();
            }
            var result = target as JsonObject ?? [];
            foreach (var (key, value) in patchObject)
            {
                if (value is null)
                {
                    result.Remove(key);
                }
                else
                {
                    result[key] = Apply(result[key]?.DeepClone(), value);
                }
            }
            return result;
        }
    }

    public static class JsonPatch
    {
        public static JsonNode? Apply(JsonNode? target, JsonArray operations) => throw new ApiException(415, "UnsupportedMediaType", "json patch not yet supported");
    }

    public static class StrategicMergePatch
    {
        public static bool Supports(string group, string kind) => true;

        public static JsonObject Apply(JsonObject original, JsonObject patch, string group, string kind) => (JsonObject)JsonMergePatch.Apply(original, patch)!;
    }
}

namespace JobKit.Sandbox.Api.Admission
{
    public static class Defaulting
    {
        public static void Apply(string group, string version, string kind, JsonObject obj)
        {
        }

        public static void AdmitOnCreate(string group, string version, string kind, JsonObject obj)
        {
        }
    }

    public static class Validation
    {
        public static void ValidateCreate(string group, string kind, JsonObject obj)
        {
        }

        public static void ValidateUpdate(string group, string kind, JsonObject obj, JsonObject old)
        {
        }
    }
}
