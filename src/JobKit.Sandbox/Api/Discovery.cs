using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api;

/// <summary>The discovery documents kubectl and client libraries read to find the served kinds.</summary>
public static class Discovery
{
    public const string KubernetesVersion = "v1.32.0";

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = KubernetesVersion + "+jobkit-sandbox",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2026-01-01T00:00:00Z",
        ["goVersion"] = "go1.23.0",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string hostPort) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = hostPort }),
    };

    public static JsonObject Groups() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(GroupNames().Select(g => (JsonNode)GroupBody(g)).ToArray()),
    };

    public static JsonObject? Group(string group) => GroupNames().Contains(group) ? GroupBody(group) : null;

    public static JsonObject? Resources(string group, string version)
    {
        var types = ResourceTypes.All.Where(t => t.Group == group && t.Version == version).ToList();
        if (types.Count == 0)
        {
            return null;
        }
        var resources = new JsonArray();
        foreach (var type in types)
        {
            var verbs = new JsonArray("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");
            var resource = new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Singular,
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = verbs,
            };
            if (type.ShortNames.Length > 0)
            {
                resource["shortNames"] = new JsonArray(type.ShortNames.Select(s => (JsonNode)JsonValue.Create(s)).ToArray());
            }
            if (type.Categories is { Length: > 0 } categories)
            {
                resource["categories"] = new JsonArray(categories.Select(s => (JsonNode)JsonValue.Create(s)).ToArray());
            }
            resources.Add(resource);
            foreach (var sub in type.Subresources)
            {
                var subresource = new JsonObject { ["name"] = $"{type.Plural}/{sub}", ["singularName"] = "", ["namespaced"] = type.Namespaced };
                switch (sub)
                {
                    case "status":
                        subresource["kind"] = type.Kind;
                        subresource["verbs"] = new JsonArray("get", "patch", "update");
                        break;
                    case "finalize":
                        subresource["kind"] = type.Kind;
                        subresource["verbs"] = new JsonArray("update");
                        break;
                    case "binding":
                        subresource["kind"] = "Binding";
                        subresource["verbs"] = new JsonArray("create");
                        break;
                    case "scale":
                        subresource["group"] = "autoscaling";
                        subresource["version"] = "v1";
                        subresource["kind"] = "Scale";
                        subresource["verbs"] = new JsonArray("get", "patch", "update");
                        break;
                    case "log":
                        subresource["kind"] = "Pod";
                        subresource["verbs"] = new JsonArray("get");
                        break;
                    case "token":
                        subresource["group"] = "authentication.k8s.io";
                        subresource["version"] = "v1";
                        subresource["kind"] = "TokenRequest";
                        subresource["verbs"] = new JsonArray("create");
                        break;
                }
                resources.Add(subresource);
            }
        }
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    /// <summary>
    /// The OpenAPI v3 index. The sandbox publishes no schemas, only each kind's PATCH operation with its
    /// fieldValidation parameter: what kubectl reads to learn that the server validates fields itself
    /// (cli-runtime's queryParamVerifierV3), so it skips client-side schema validation.
    /// </summary>
    public static JsonObject OpenApiV3Root()
    {
        var paths = new JsonObject();
        foreach (var gv in ResourceTypes.All.Select(t => (t.Group, t.Version)).Distinct())
        {
            var path = gv.Group.Length == 0 ? $"api/{gv.Version}" : $"apis/{gv.Group}/{gv.Version}";
            paths[path] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{path}?hash={KubernetesVersion}" };
        }
        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject? OpenApiV3(string group, string version)
    {
        var types = ResourceTypes.All.Where(t => t.Group == group && t.Version == version).ToList();
        if (types.Count == 0)
        {
            return null;
        }
        var paths = new JsonObject();
        foreach (var type in types)
        {
            var prefix = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
            var path = type.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{type.Plural}/{{name}}" : $"{prefix}/{type.Plural}/{{name}}";
            paths[path] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = group, ["kind"] = type.Kind, ["version"] = version },
                    ["parameters"] = new JsonArray(
                        new JsonObject { ["name"] = "fieldValidation", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } },
                        new JsonObject { ["name"] = "dryRun", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string" } }),
                    ["responses"] = new JsonObject(),
                },
            };
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = KubernetesVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject(),
        };
    }

    private static List<string> GroupNames() => ResourceTypes.All.Select(t => t.Group).Where(g => g.Length > 0).Distinct().ToList();

    private static JsonObject GroupBody(string group)
    {
        var version = ResourceTypes.All.First(t => t.Group == group).Version;
        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = group,
            ["versions"] = new JsonArray(new JsonObject { ["groupVersion"] = $"{group}/{version}", ["version"] = version }),
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{version}", ["version"] = version },
        };
    }
}
