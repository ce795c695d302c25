namespace JobKit.Sandbox.Api.Patching;

/// <summary>The patch metadata of one struct field: its type (for structs) and its patchStrategy/patchMergeKey tags.</summary>
internal sealed record PatchField(PatchType? Type, bool Merge, bool RetainKeys, string? MergeKey);

/// <summary>
/// A Go API struct reduced to what strategic merge patch needs: the fields that are structs (to recurse) or carry
/// <c>patchStrategy</c>/<c>patchMergeKey</c> tags (k8s.io/api v0.32 core/v1, batch/v1, meta/v1 types.go).
/// Fields not listed have no strategy: maps merge, lists are replaced.
/// </summary>
internal sealed class PatchType
{
    private readonly Dictionary<string, PatchField> _fields = new(StringComparer.Ordinal);

    public PatchField? Lookup(string name) => _fields.GetValueOrDefault(name);

    public PatchType Struct(string name, PatchType type)
    {
        _fields[name] = new PatchField(type, false, false, null);
        return this;
    }

    /// <summary>A list of structs merged by <paramref name="mergeKey"/> (<c>patchStrategy:"merge"</c>).</summary>
    public PatchType MergeList(string name, string mergeKey, PatchType? element = null, bool retainKeys = false)
    {
        _fields[name] = new PatchField(element, true, retainKeys, mergeKey);
        return this;
    }

    /// <summary>A list of primitives merged as a set (<c>patchStrategy:"merge"</c>, no merge key).</summary>
    public PatchType MergeSet(string name)
    {
        _fields[name] = new PatchField(null, true, false, null);
        return this;
    }
}

internal static class PatchSchema
{
    private static readonly Dictionary<(string Group, string Kind), PatchType> Kinds = Build();

    public static PatchType? For(string group, string kind) => Kinds.GetValueOrDefault((group, kind));

    private static Dictionary<(string, string), PatchType> Build()
    {
        var objectMeta = new PatchType()
            .MergeSet("finalizers")
            .MergeList("ownerReferences", "uid");

        var container = new PatchType()
            .MergeList("ports", "containerPort")
            .MergeList("env", "name")
            .MergeList("volumeMounts", "mountPath")
            .MergeList("volumeDevices", "devicePath");

        var podSpec = new PatchType()
            .MergeList("volumes", "name", retainKeys: true)
            .MergeList("initContainers", "name", container)
            .MergeList("containers", "name", container)
            .MergeList("ephemeralContainers", "name", container)
            .MergeList("imagePullSecrets", "name")
            .MergeList("hostAliases", "ip")
            .MergeList("topologySpreadConstraints", "topologyKey")
            .MergeList("schedulingGates", "name")
            .MergeList("resourceClaims", "name", retainKeys: true);

        var podStatus = new PatchType()
            .MergeList("conditions", "type")
            .MergeList("podIPs", "ip")
            .MergeList("hostIPs", "ip")
            .MergeList("resourceClaimStatuses", "name", retainKeys: true);

        var podTemplateSpec = new PatchType()
            .Struct("metadata", objectMeta)
            .Struct("spec", podSpec);

        var jobSpec = new PatchType().Struct("template", podTemplateSpec);
        var jobStatus = new PatchType().MergeList("conditions", "type");

        var jobTemplateSpec = new PatchType()
            .Struct("metadata", objectMeta)
            .Struct("spec", jobSpec);

        PatchType Kind() => new PatchType().Struct("metadata", objectMeta);

        // k8s.io/api/apps/v1: the workloads' templates, and conditions merged by type. DeploymentSpec.strategy is
        // patchStrategy:"retainKeys", which only matters for the $retainKeys directive the patch itself carries.
        var conditionsStatus = new PatchType().MergeList("conditions", "type");
        var workloadSpec = new PatchType().Struct("template", podTemplateSpec);

        return new()
        {
            [("", "Pod")] = Kind().Struct("spec", podSpec).Struct("status", podStatus),
            [("", "PodTemplate")] = Kind().Struct("template", podTemplateSpec),
            [("", "Namespace")] = Kind().Struct("status", new PatchType().MergeList("conditions", "type")),
            [("", "Node")] = Kind()
                .Struct("spec", new PatchType().MergeSet("podCIDRs"))
                .Struct("status", new PatchType().MergeList("conditions", "type").MergeList("addresses", "type")),
            [("", "ConfigMap")] = Kind(),
            [("", "Secret")] = Kind(),
            [("", "ServiceAccount")] = Kind().MergeList("secrets", "name"),
            [("", "Event")] = Kind(),
            [("", "Binding")] = Kind(),
            [("batch", "Job")] = Kind().Struct("spec", jobSpec).Struct("status", jobStatus),
            [("batch", "CronJob")] = Kind().Struct("spec", new PatchType().Struct("jobTemplate", jobTemplateSpec)),
            [("coordination.k8s.io", "Lease")] = Kind(),
            [("apps", "Deployment")] = Kind().Struct("spec", workloadSpec).Struct("status", conditionsStatus),
            [("apps", "ReplicaSet")] = Kind().Struct("spec", workloadSpec).Struct("status", conditionsStatus),
            [("apps", "StatefulSet")] = Kind().Struct("spec", workloadSpec).Struct("status", conditionsStatus),
            [("apps", "DaemonSet")] = Kind().Struct("spec", workloadSpec).Struct("status", conditionsStatus),
        };
    }
}
