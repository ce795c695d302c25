using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Admission;

/// <summary>k8s.io/kubernetes/pkg/apis/apps/validation for apps/v1 Deployments, ReplicaSets, StatefulSets and DaemonSets.</summary>
public static partial class Validation
{
    private static void Workload(string kind, JsonObject spec, JsonObject? oldSpec, FieldErrors e)
    {
        switch (kind)
        {
            case "Deployment":
                NonNegative(spec, "replicas", e);
                SelectorRequired(spec, "deployment", e);
                PodTemplateForReplicas(spec, "ReplicaSet", e);
                DeploymentStrategy(spec["strategy"] as JsonObject ?? [], e);
                NonNegative(spec, "minReadySeconds", e);
                NonNegative(spec, "revisionHistoryLimit", e);
                if (Num(spec["progressDeadlineSeconds"]) is { } deadline)
                {
                    NonNegative(spec, "progressDeadlineSeconds", e);
                    if (deadline <= (Num(spec["minReadySeconds"]) ?? 0))
                    {
                        e.Invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds");
                    }
                }
                break;
            case "ReplicaSet":
                NonNegative(spec, "replicas", e);
                NonNegative(spec, "minReadySeconds", e);
                SelectorRequired(spec, "deployment", e);
                PodTemplateForReplicas(spec, "ReplicaSet", e);
                break;
            case "StatefulSet":
                StatefulSetSpec(spec, e);
                break;
            case "DaemonSet":
                DaemonSetSpec(spec, e);
                break;
        }
        if (oldSpec is null)
        {
            return;
        }
        // The apps/v1 strategies' ValidateUpdate: the selector is immutable.
        if (!JsonNode.DeepEquals(spec["selector"], oldSpec["selector"]))
        {
            e.InvalidRendered("spec.selector", FieldErrors.GoLabelSelector(spec["selector"]), Immutable);
        }
        if (kind == "StatefulSet")
        {
            var mutable = new[] { "replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds", "selector" };
            var a = (JsonObject)spec.DeepClone();
            var b = (JsonObject)oldSpec.DeepClone();
            foreach (var field in mutable)
            {
                a.Remove(field);
                b.Remove(field);
            }
            if (!JsonNode.DeepEquals(a, b))
            {
                e.Forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
            }
        }
    }

    private static void NonNegative(JsonObject spec, string field, FieldErrors e)
    {
        if (Num(spec[field]) is { } v && v < 0)
        {
            e.Invalid($"spec.{field}", v, "must be greater than or equal to 0");
        }
    }

    /// <summary>A nil selector is required; an empty one is invalid (it would select every pod in the namespace).</summary>
    private static void SelectorRequired(JsonObject spec, string what, FieldErrors e)
    {
        if (spec["selector"] is not JsonObject selector)
        {
            e.Required("spec.selector");
        }
        else if (SelectorIsEmpty(selector))
        {
            e.InvalidRendered("spec.selector", FieldErrors.GoLabelSelector(selector), $"empty selector is invalid for {what}");
        }
    }

    /// <summary>ValidatePodTemplateSpecForReplicaSet (also the Deployment's template).</summary>
    private static void PodTemplateForReplicas(JsonObject spec, string owner, FieldErrors e)
    {
        var template = spec["template"] as JsonObject ?? [];
        // A nil selector selects nothing and so matches no labels; an empty one is not checked here.
        if (spec["selector"] is not JsonObject selector || !SelectorIsEmpty(selector))
        {
            SelectorMustMatchTemplate(spec, e);
        }
        PodTemplate(template, owner, e);
    }

    private static void SelectorMustMatchTemplate(JsonObject spec, FieldErrors e)
    {
        var labels = spec["template"]?["metadata"]?["labels"];
        if (!SelectorMatches(spec["selector"], labels))
        {
            e.InvalidRendered("spec.template.metadata.labels", FieldErrors.GoStringMap(labels), "`selector` does not match template `labels`");
        }
    }

    /// <summary>ValidatePodTemplateSpec, then what every workload demands: restartPolicy Always, no activeDeadlineSeconds.</summary>
    private static void PodTemplate(JsonObject template, string owner, FieldErrors e)
    {
        Labels(template["metadata"]?["labels"], "spec.template.labels", e);
        Annotations(template["metadata"]?["annotations"], "spec.template.annotations", e);
        var podSpec = template["spec"] as JsonObject ?? [];
        PodSpec(podSpec, "spec.template.spec", e);
        var restartPolicy = (string?)podSpec["restartPolicy"] ?? "";
        if (restartPolicy != "Always")
        {
            e.NotSupported("spec.template.spec.restartPolicy", restartPolicy, "Always");
        }
        if (podSpec["activeDeadlineSeconds"] is JsonValue ads)
        {
            if (owner == "StatefulSet")
            {
                e.Forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in StatefulSet is not Supported");
            }
            else
            {
                e.InvalidRendered("spec.template.spec.activeDeadlineSeconds", ads.ToJsonString(), $"activeDeadlineSeconds in {owner} is not Supported");
            }
        }
    }

    private static void DeploymentStrategy(JsonObject strategy, FieldErrors e)
    {
        switch ((string?)strategy["type"])
        {
            case "Recreate":
                if (strategy["rollingUpdate"] is JsonObject)
                {
                    e.Forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
                }
                break;
            case "RollingUpdate":
                if (strategy["rollingUpdate"] is not JsonObject rolling)
                {
                    e.Required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil");
                    break;
                }
                PositiveIntOrPercent(rolling["maxUnavailable"], "spec.strategy.rollingUpdate.maxUnavailable", e);
                PositiveIntOrPercent(rolling["maxSurge"], "spec.strategy.rollingUpdate.maxSurge", e);
                if (IntOrPercentValue(rolling["maxUnavailable"]) == 0 && IntOrPercentValue(rolling["maxSurge"]) == 0)
                {
                    e.InvalidRendered("spec.strategy.rollingUpdate.maxUnavailable", GoIntOrString(rolling["maxUnavailable"]), "may not be 0 when `maxSurge` is 0");
                }
                if (rolling["maxUnavailable"] is JsonValue v && v.GetValueKind() == JsonValueKind.String && IntOrPercentValue(v) > 100)
                {
                    e.InvalidRendered("spec.strategy.rollingUpdate.maxUnavailable", GoIntOrString(v), "must not be greater than 100%");
                }
                break;
            default:
                e.NotSupported("spec.strategy", (string?)strategy["type"] ?? "", "Recreate", "RollingUpdate");
                break;
        }
    }

    private static void PositiveIntOrPercent(JsonNode? value, string path, FieldErrors e)
    {
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            if (!IsPercent(v.GetValue<string>()))
            {
                e.Invalid(path, v.GetValue<string>(), "must be an integer or percentage (e.g '5%')");
            }
        }
        else if (Num(value) is { } n && n < 0)
        {
            e.Invalid(path, n, "must be greater than or equal to 0");
        }
    }

    private static bool IsPercent(string s) => s.EndsWith('%') && s.Length > 1 && s[..^1].All(char.IsAsciiDigit);

    /// <summary>getIntOrPercentValue: the number of an int, or of a percentage; -1 for anything else.</summary>
    private static long IntOrPercentValue(JsonNode? value)
    {
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var s = v.GetValue<string>();
            return IsPercent(s) && long.TryParse(s[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : -1;
        }
        return Num(value) ?? 0;
    }

    /// <summary>Go's %#v of an intstr.IntOrString.</summary>
    private static string GoIntOrString(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? $"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{FieldErrors.Q(v.GetValue<string>())}}}"
            : $"intstr.IntOrString{{Type:0, IntVal:{Num(value) ?? 0}, StrVal:\"\"}}";

    private static void StatefulSetSpec(JsonObject spec, FieldErrors e)
    {
        switch ((string?)spec["podManagementPolicy"] ?? "")
        {
            case "":
                e.Required("spec.podManagementPolicy");
                break;
            case "OrderedReady" or "Parallel":
                break;
            case var policy:
                e.Invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'");
                break;
        }
        var strategy = spec["updateStrategy"] as JsonObject ?? [];
        switch ((string?)strategy["type"] ?? "")
        {
            case "":
                e.Required("spec.updateStrategy");
                break;
            case "OnDelete":
                if (strategy["rollingUpdate"] is JsonObject)
                {
                    e.InvalidRendered("spec.updateStrategy.rollingUpdate", "apps.RollingUpdateStatefulSetStrategy{...}", "only allowed for updateStrategy 'RollingUpdate'");
                }
                break;
            case "RollingUpdate":
                if (Num(strategy["rollingUpdate"]?["partition"]) is { } partition && partition < 0)
                {
                    e.Invalid("spec.updateStrategy.rollingUpdate.partition", partition, "must be greater than or equal to 0");
                }
                break;
            case var type:
                e.Invalid("spec.updateStrategy", type, "must be 'RollingUpdate' or 'OnDelete'");
                break;
        }
        NonNegative(spec, "replicas", e);
        NonNegative(spec, "minReadySeconds", e);
        SelectorRequired(spec, "statefulset", e);
        if (spec["selector"] is not JsonObject selector || !SelectorIsEmpty(selector))
        {
            SelectorMustMatchTemplate(spec, e);
        }
        PodTemplate(spec["template"] as JsonObject ?? [], "StatefulSet", e);
    }

    private static void DaemonSetSpec(JsonObject spec, FieldErrors e)
    {
        if (spec["selector"] is not JsonObject selector || !SelectorIsEmpty(selector))
        {
            SelectorMustMatchTemplate(spec, e);
        }
        else
        {
            e.InvalidRendered("spec.selector", FieldErrors.GoLabelSelector(selector), "empty selector is invalid for daemonset");
        }
        PodTemplate(spec["template"] as JsonObject ?? [], "DaemonSet", e);
        NonNegative(spec, "minReadySeconds", e);
        NonNegative(spec, "revisionHistoryLimit", e);
        var strategy = spec["updateStrategy"] as JsonObject ?? [];
        switch ((string?)strategy["type"] ?? "")
        {
            case "OnDelete":
                break;
            case "RollingUpdate":
                if (strategy["rollingUpdate"] is JsonObject rolling)
                {
                    PositiveIntOrPercent(rolling["maxUnavailable"], "spec.updateStrategy.rollingUpdate.maxUnavailable", e);
                    PositiveIntOrPercent(rolling["maxSurge"], "spec.updateStrategy.rollingUpdate.maxSurge", e);
                    if (IntOrPercentValue(rolling["maxUnavailable"]) == 0 && IntOrPercentValue(rolling["maxSurge"]) == 0)
                    {
                        e.InvalidRendered("spec.updateStrategy.rollingUpdate.maxUnavailable", GoIntOrString(rolling["maxUnavailable"]), "may not be 0 when `maxSurge` is 0");
                    }
                }
                break;
            case var type:
                e.NotSupported("spec.updateStrategy", type, "OnDelete", "RollingUpdate");
                break;
        }
    }
}
