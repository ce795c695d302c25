using System.Text.Json.Nodes;
using JobKit.Sandbox.Api.Patching;

namespace JobKit.Sandbox.Api;

/// <summary>The <c>/scale</c> subresource of Deployments, ReplicaSets and StatefulSets: an autoscaling/v1 Scale view of spec.replicas.</summary>
public sealed partial class ApiService
{
    /// <summary>The Scale of a workload (pkg/registry/apps/*/storage ScaleREST).</summary>
    public static JsonObject Scale(ResourceType type, JsonObject obj)
    {
        _ = type;
        var metadata = obj["metadata"]!;
        var scaleMeta = new JsonObject();
        foreach (var key in new[] { "name", "namespace", "uid", "resourceVersion", "creationTimestamp" })
        {
            if (metadata[key] is { } value)
            {
                scaleMeta[key] = value.DeepClone();
            }
        }
        var spec = new JsonObject();
        if (obj["spec"]?["replicas"].AsInt() is { } replicas and not 0)
        {
            spec["replicas"] = replicas;
        }
        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = scaleMeta,
            ["spec"] = spec,
            ["status"] = new JsonObject
            {
                ["replicas"] = obj["status"]?["replicas"].AsInt() ?? 0,
                ["selector"] = Tables.FormatLabelSelector(obj["spec"]?["selector"]) is var s && s == "<none>" ? "" : s,
            },
        };
    }

    public JsonObject UpdateScale(ResourceType type, string ns, string name, JsonObject scale, bool dryRun = false)
    {
        var replicas = scale["spec"]?["replicas"].AsLong() ?? 0;
        if (replicas < 0)
        {
            throw ApiException.Invalid("autoscaling", "Scale", name, [new StatusCause("FieldValueInvalid", $"Invalid value: {replicas}: must be greater than or equal to 0", "spec.replicas")]);
        }
        var givenVersion = scale["metadata"]?["resourceVersion"]?.GetValue<string>();
        var updated = Write(type, ns, name, dryRun, current =>
        {
            if (current is null)
            {
                throw ApiException.NotFound(type.Group, type.Plural, name);
            }
            var next = (JsonObject)current.DeepClone();
            if (!string.IsNullOrEmpty(givenVersion))
            {
                next["metadata"]!["resourceVersion"] = givenVersion;
            }
            next["spec"]!["replicas"] = replicas;
            return next;
        }, null, createIfMissing: false);
        return Scale(type, updated);
    }

    public JsonObject PatchScale(ResourceType type, string ns, string name, string contentType, JsonNode patch, bool dryRun = false)
    {
        var current = Scale(type, Get(type, ns, name));
        JsonNode? patched = contentType switch
        {
            "application/merge-patch+json" or "application/strategic-merge-patch+json" => JsonMergePatch.Apply(current, patch),
            "application/json-patch+json" => JsonPatch.Apply(current, patch as JsonArray ?? throw ApiException.BadRequest("json patch must be a JSON array")),
            _ => throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
        };
        return UpdateScale(type, ns, name, patched as JsonObject ?? throw ApiException.BadRequest("the patch did not produce an object"), dryRun);
    }
}
