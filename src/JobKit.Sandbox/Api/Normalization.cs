using System.Globalization;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api;

/// <summary>
/// What a real API server's round trip through Go structs does to a stored object, for the fields where it shows:
/// metav1.Time fields keep whole seconds (metav1.MicroTime ones, like a Lease's renewTime, keep microseconds), and
/// conditions' empty reason and message disappear (they are omitempty in every condition type). User data (ConfigMap and
/// Secret data, labels, annotations) is never touched.
/// </summary>
public static class Normalization
{
    private static readonly HashSet<string> SecondPrecisionTimes =
    [
        "creationTimestamp", "deletionTimestamp", "lastTransitionTime", "lastProbeTime", "lastHeartbeatTime", "lastUpdateTime",
        "startTime", "completionTime", "startedAt", "finishedAt", "lastScheduleTime", "lastSuccessfulTime",
        "firstTimestamp", "lastTimestamp", "expirationTimestamp",
    ];

    public static void Apply(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (SecondPrecisionTimes.Contains(key) && value is JsonValue v && v.TryGetValue<string>(out var text) && text.Contains('.', StringComparison.Ordinal)
                        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                    {
                        obj[key] = Timestamps.Format(time);
                    }
                    else if (key == "conditions" && value is JsonArray conditions)
                    {
                        foreach (var condition in conditions.OfType<JsonObject>())
                        {
                            foreach (var field in new[] { "reason", "message" })
                            {
                                if (condition[field] is JsonValue s && s.TryGetValue<string>(out var str) && str.Length == 0)
                                {
                                    condition.Remove(field);
                                }
                            }
                            Apply(condition);
                        }
                    }
                    else if (key is not ("managedFields" or "data" or "binaryData" or "stringData" or "labels" or "annotations"))
                    {
                        Apply(value);
                    }
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Apply(child);
                }
                break;
        }
    }
}
