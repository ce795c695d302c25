using System.Globalization;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api;

/// <summary>
/// meta.k8s.io/v1 Table responses for `kubectl get`, with the columns kube-apiserver's printers
/// (pkg/printers/internalversion/printers.go) give these kinds.
/// </summary>
public static class Tables
{
    private sealed record Column(string Name, string Type, Func<JsonObject, DateTimeOffset, object?> Cell, int Priority = 0, string Format = "");

    public static JsonObject Build(ResourceType type, IEnumerable<JsonObject> objects, string resourceVersion, DateTimeOffset now)
    {
        var columns = ColumnsFor(type);
        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
            ["columnDefinitions"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Name,
                ["priority"] = c.Priority,
            }).ToArray()),
            ["rows"] = new JsonArray(objects.Select(o => (JsonNode)new JsonObject
            {
                ["cells"] = new JsonArray(columns.Select(c => Cell(c.Cell(o, now))).ToArray()),
                ["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = o["metadata"]?.DeepClone(),
                },
            }).ToArray()),
        };
    }

    private static List<Column> ColumnsFor(ResourceType type)
    {
        var name = new Column("Name", "string", (o, _) => Str(o, "metadata", "name"), Format: "name");
        var age = new Column("Age", "string", (o, now) => Age(Str(o, "metadata", "creationTimestamp"), now));
        return type.Kind switch
        {
            "Pod" =>
            [
                name,
                new("Ready", "string", (o, _) => $"{Statuses(o).Count(s => s?["ready"]?.GetValue<bool>() == true)}/{(o["spec"]?["containers"] as JsonArray)?.Count ?? 0}"),
                new("Status", "string", (o, _) => PodStatus(o)),
                new("Restarts", "string", (o, _) => Statuses(o).Sum(s => s?["restartCount"].AsInt() ?? 0).ToString(CultureInfo.InvariantCulture)),
                age,
                new("IP", "string", (o, _) => Str(o, "status", "podIP") ?? "<none>", 1),
                new("Node", "string", (o, _) => Str(o, "spec", "nodeName") ?? "<none>", 1),
            ],
            "Job" =>
            [
                name,
                new("Status", "string", (o, _) => JobStatus(o)),
                new("Completions", "string", (o, _) => $"{o["status"]?["succeeded"].AsInt() ?? 0}/{o["spec"]?["completions"].AsInt() ?? 1}"),
                new("Duration", "string", (o, now) => JobDuration(o, now)),
                age,
            ],
            "CronJob" =>
            [
                name,
                new("Schedule", "string", (o, _) => Str(o, "spec", "schedule")),
                new("Timezone", "string", (o, _) => Str(o, "spec", "timeZone") ?? "<none>"),
                new("Suspend", "boolean", (o, _) => o["spec"]?["suspend"]?.GetValue<bool>() == true ? "True" : "False"),
                new("Active", "integer", (o, _) => (o["status"]?["active"] as JsonArray)?.Count ?? 0),
                new("Last Schedule", "string", (o, now) => Str(o, "status", "lastScheduleTime") is { } t ? Age(t, now) : "<none>"),
                age,
            ],
            "Deployment" =>
            [
                name,
                new("Ready", "string", (o, _) => $"{Int(o, "status", "readyReplicas")}/{Int(o, "spec", "replicas")}"),
                new("Up-to-date", "integer", (o, _) => Int(o, "status", "updatedReplicas")),
                new("Available", "integer", (o, _) => Int(o, "status", "availableReplicas")),
                age,
                .. Wide(o => o["spec"]?["template"]?["spec"]),
                new("Selector", "string", (o, _) => FormatLabelSelector(o["spec"]?["selector"]), 1),
            ],
            "ReplicaSet" =>
            [
                name,
                new("Desired", "integer", (o, _) => Int(o, "spec", "replicas")),
                new("Current", "integer", (o, _) => Int(o, "status", "replicas")),
                new("Ready", "integer", (o, _) => Int(o, "status", "readyReplicas")),
                age,
                .. Wide(o => o["spec"]?["template"]?["spec"]),
                new("Selector", "string", (o, _) => FormatLabelSelector(o["spec"]?["selector"]), 1),
            ],
            "StatefulSet" =>
            [
                name,
                new("Ready", "string", (o, _) => $"{Int(o, "status", "readyReplicas")}/{Int(o, "spec", "replicas")}"),
                age,
                .. Wide(o => o["spec"]?["template"]?["spec"]),
            ],
            "DaemonSet" =>
            [
                name,
                new("Desired", "integer", (o, _) => Int(o, "status", "desiredNumberScheduled")),
                new("Current", "integer", (o, _) => Int(o, "status", "currentNumberScheduled")),
                new("Ready", "integer", (o, _) => Int(o, "status", "numberReady")),
                new("Up-to-date", "integer", (o, _) => Int(o, "status", "updatedNumberScheduled")),
                new("Available", "integer", (o, _) => Int(o, "status", "numberAvailable")),
                new("Node Selector", "string", (o, _) => FormatLabels(o["spec"]?["template"]?["spec"]?["nodeSelector"])),
                age,
                .. Wide(o => o["spec"]?["template"]?["spec"]),
                new("Selector", "string", (o, _) => FormatLabelSelector(o["spec"]?["selector"]), 1),
            ],
            "ConfigMap" => [name, new("Data", "integer", (o, _) => ((o["data"] as JsonObject)?.Count ?? 0) + ((o["binaryData"] as JsonObject)?.Count ?? 0)), age],
            "Secret" => [name, new("Type", "string", (o, _) => Str(o, "type")), new("Data", "integer", (o, _) => (o["data"] as JsonObject)?.Count ?? 0), age],
            "Namespace" => [name, new("Status", "string", (o, _) => Str(o, "status", "phase")), age],
            "Node" =>
            [
                name,
                new("Status", "string", (o, _) => (o["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True") ? "Ready" : "NotReady"),
                new("Roles", "string", (_, _) => "<none>"),
                age,
                new("Version", "string", (o, _) => o["status"]?["nodeInfo"]?["kubeletVersion"]?.GetValue<string>() ?? ""),
            ],
            "ServiceAccount" => [name, new("Secrets", "string", (o, _) => ((o["secrets"] as JsonArray)?.Count ?? 0).ToString(CultureInfo.InvariantCulture)), age],
            "Lease" => [name, new("Holder", "string", (o, _) => Str(o, "spec", "holderIdentity") ?? ""), age],
            "Event" =>
            [
                new("Last Seen", "string", (o, now) => Age(Str(o, "lastTimestamp") ?? Str(o, "eventTime") ?? Str(o, "metadata", "creationTimestamp"), now)),
                new("Type", "string", (o, _) => Str(o, "type")),
                new("Reason", "string", (o, _) => Str(o, "reason")),
                new("Object", "string", (o, _) => $"{Str(o, "involvedObject", "kind")?.ToLowerInvariant()}/{Str(o, "involvedObject", "name")}"),
                new("Message", "string", (o, _) => Str(o, "message")),
            ],
            _ => [name, age],
        };
    }

    private static JsonValue? Cell(object? value) => value switch
    {
        null => null,
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        bool b => JsonValue.Create(b),
        _ => JsonValue.Create(value.ToString()),
    };

    private static int Int(JsonObject obj, string field, string key) => obj[field]?[key].AsInt() ?? 0;

    /// <summary>The wide columns of the workload printers: the pod template's container names and images.</summary>
    private static Column[] Wide(Func<JsonObject, JsonNode?> podSpec) =>
    [
        new("Containers", "string", (o, _) => string.Join(",", (podSpec(o)?["containers"] as JsonArray ?? []).Select(c => c?["name"]?.GetValue<string>())), 1),
        new("Images", "string", (o, _) => string.Join(",", (podSpec(o)?["containers"] as JsonArray ?? []).Select(c => c?["image"]?.GetValue<string>())), 1),
    ];

    /// <summary>labels.FormatLabels: sorted <c>k=v</c> pairs, or &lt;none&gt;.</summary>
    private static string FormatLabels(JsonNode? labels) =>
        labels is JsonObject { Count: > 0 } map
            ? string.Join(",", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value?.GetValue<string>()}"))
            : "<none>";

    /// <summary>metav1.FormatLabelSelector: the selector's requirements sorted by key, or &lt;none&gt;.</summary>
    internal static string FormatLabelSelector(JsonNode? selector)
    {
        var requirements = new List<(string Key, string Text)>();
        foreach (var (k, v) in selector?["matchLabels"] as JsonObject ?? [])
        {
            requirements.Add((k, $"{k}={v?.GetValue<string>()}"));
        }
        foreach (var e in (selector?["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = e["key"]?.GetValue<string>() ?? "";
            var values = string.Join(",", (e["values"] as JsonArray ?? []).Select(v => v?.GetValue<string>()).Order(StringComparer.Ordinal));
            requirements.Add((key, e["operator"]?.GetValue<string>() switch
            {
                "In" => $"{key} in ({values})",
                "NotIn" => $"{key} notin ({values})",
                "Exists" => key,
                "DoesNotExist" => "!" + key,
                var op => $"{key} {op} ({values})",
            }));
        }
        var text = string.Join(",", requirements.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Text));
        return text.Length == 0 ? "<none>" : text;
    }

    private static IEnumerable<JsonNode?> Statuses(JsonObject pod) => pod["status"]?["containerStatuses"] as JsonArray ?? [];

    private static string? Str(JsonObject obj, params string[] path)
    {
        JsonNode? node = obj;
        foreach (var part in path)
        {
            node = node?[part];
        }
        return node?.GetValue<string>();
    }

    /// <summary>kubectl's pod STATUS column (printPod).</summary>
    private static string PodStatus(JsonObject pod)
    {
        var reason = Str(pod, "status", "reason") ?? Str(pod, "status", "phase") ?? "Pending";
        var initStatuses = (pod["status"]?["initContainerStatuses"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var initCount = (pod["spec"]?["initContainers"] as JsonArray)?.Count ?? 0;
        var initializing = false;
        for (var i = 0; i < initStatuses.Count; i++)
        {
            var state = initStatuses[i]["state"];
            if (state?["terminated"] is { } terminated && terminated["exitCode"].AsInt() == 0)
            {
                continue;
            }
            initializing = true;
            reason = state?["terminated"] is { } failed
                ? "Init:" + (failed["reason"]?.GetValue<string>() ?? $"ExitCode:{failed["exitCode"]}")
                : state?["waiting"]?["reason"]?.GetValue<string>() is { } waiting && waiting != "PodInitializing"
                    ? "Init:" + waiting
                    : $"Init:{i}/{initCount}";
            break;
        }
        if (!initializing)
        {
            foreach (var status in Statuses(pod).OfType<JsonObject>().Reverse())
            {
                if (status["state"]?["waiting"]?["reason"]?.GetValue<string>() is { Length: > 0 } waiting)
                {
                    reason = waiting;
                }
                else if (status["state"]?["terminated"] is { } terminated)
                {
                    reason = terminated["reason"]?.GetValue<string>() ?? $"ExitCode:{terminated["exitCode"]}";
                }
            }
        }
        if (pod["metadata"]?["deletionTimestamp"] is not null)
        {
            reason = "Terminating";
        }
        return reason;
    }

    private static string JobStatus(JsonObject job)
    {
        bool Has(string type) => (job["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == type && c["status"]?.GetValue<string>() == "True");
        return Has("Complete") ? "Complete"
            : Has("Failed") ? "Failed"
            : job["metadata"]?["deletionTimestamp"] is not null ? "Terminating"
            : Has("SuccessCriteriaMet") ? "SuccessCriteriaMet"
            : Has("FailureTarget") ? "FailureTarget"
            : Has("Suspended") ? "Suspended"
            : "Running";
    }

    private static string JobDuration(JsonObject job, DateTimeOffset now)
    {
        if (Str(job, "status", "startTime") is not { } start)
        {
            return "";
        }
        var end = Str(job, "status", "completionTime") is { } completion ? DateTimeOffset.Parse(completion, CultureInfo.InvariantCulture) : now;
        return HumanDuration(end - DateTimeOffset.Parse(start, CultureInfo.InvariantCulture));
    }

    private static string Age(string? timestamp, DateTimeOffset now) =>
        timestamp is null ? "<unknown>" : HumanDuration(now - DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture));

    /// <summary>k8s.io/apimachinery/pkg/util/duration.HumanDuration.</summary>
    public static string HumanDuration(TimeSpan d)
    {
        if (d < TimeSpan.FromSeconds(-1))
        {
            return "<invalid>";
        }
        if (d < TimeSpan.Zero)
        {
            return "0s";
        }
        var s = (long)d.TotalSeconds;
        var m = s / 60;
        var h = m / 60;
        if (s < 60 * 2)
        {
            return $"{s}s";
        }
        if (m < 10)
        {
            return s % 60 == 0 ? $"{m}m" : $"{m}m{s % 60}s";
        }
        if (m < 60 * 3)
        {
            return $"{m}m";
        }
        if (h < 8)
        {
            return m % 60 == 0 ? $"{h}h" : $"{h}h{m % 60}m";
        }
        if (h < 48)
        {
            return $"{h}h";
        }
        if (h < 24 * 8)
        {
            return h % 24 == 0 ? $"{h / 24}d" : $"{h / 24}d{h % 24}h";
        }
        return h < 24 * 365 * 2 ? $"{h / 24}d" : $"{h / 24 / 365}y";
    }
}
