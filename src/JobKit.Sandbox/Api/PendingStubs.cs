// Temporary stand-ins until the patch/admission branch lands; deleted at merge.
using System.Text.Json.Nodes;

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
