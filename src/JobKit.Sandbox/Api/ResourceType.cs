namespace JobKit.Sandbox.Api;

/// <summary>A kind the sandbox serves, with the REST strategy facts the real server attaches to it.</summary>
public sealed record ResourceType(
    string Group,
    string Version,
    string Kind,
    string Plural,
    bool Namespaced,
    string[] ShortNames,
    string[] Subresources,
    bool HasGeneration = false,
    bool AllowCreateOnUpdate = false,
    string[]? Categories = null)
{
    public string Singular => Kind.ToLowerInvariant();

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string ListKind => Kind + "List";

    public bool HasStatus => Subresources.Contains("status");

    public string Key => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>
    /// What a DELETE without propagationPolicy does to dependents. batch/v1 Jobs orphan their pods, for compatibility
    /// (pkg/registry/batch/job/strategy.go DefaultGarbageCollectionPolicy); everything else deletes in the background.
    /// </summary>
    public string DefaultPropagation => Group == "batch" && Kind == "Job" ? "Orphan" : "Background";
}

public static class ResourceTypes
{
    public static readonly ResourceType Namespace = new("", "v1", "Namespace", "namespaces", false, ["ns"], ["status", "finalize"]);
    public static readonly ResourceType Node = new("", "v1", "Node", "nodes", false, ["no"], ["status"]);
    public static readonly ResourceType ConfigMap = new("", "v1", "ConfigMap", "configmaps", true, ["cm"], []);
    public static readonly ResourceType Secret = new("", "v1", "Secret", "secrets", true, [], []);
    public static readonly ResourceType ServiceAccount = new("", "v1", "ServiceAccount", "serviceaccounts", true, ["sa"], ["token"]);
    public static readonly ResourceType Pod = new("", "v1", "Pod", "pods", true, ["po"], ["status", "binding", "log"], Categories: ["all"]);
    public static readonly ResourceType Event = new("", "v1", "Event", "events", true, ["ev"], [], AllowCreateOnUpdate: true);
    public static readonly ResourceType Job = new("batch", "v1", "Job", "jobs", true, [], ["status"], HasGeneration: true, Categories: ["all"]);
    public static readonly ResourceType CronJob = new("batch", "v1", "CronJob", "cronjobs", true, ["cj"], ["status"], HasGeneration: true, Categories: ["all"]);
    public static readonly ResourceType Lease = new("coordination.k8s.io", "v1", "Lease", "leases", true, [], []);
    public static readonly ResourceType Deployment = new("apps", "v1", "Deployment", "deployments", true, ["deploy"], ["status", "scale"], HasGeneration: true, Categories: ["all"]);
    public static readonly ResourceType ReplicaSet = new("apps", "v1", "ReplicaSet", "replicasets", true, ["rs"], ["status", "scale"], HasGeneration: true, Categories: ["all"]);
    public static readonly ResourceType StatefulSet = new("apps", "v1", "StatefulSet", "statefulsets", true, ["sts"], ["status", "scale"], HasGeneration: true, Categories: ["all"]);
    public static readonly ResourceType DaemonSet = new("apps", "v1", "DaemonSet", "daemonsets", true, ["ds"], ["status"], HasGeneration: true, Categories: ["all"]);

    public static readonly IReadOnlyList<ResourceType> All =
        [Namespace, Node, ConfigMap, Secret, ServiceAccount, Pod, Event, Job, CronJob, Lease, Deployment, ReplicaSet, StatefulSet, DaemonSet];

    public static ResourceType? Find(string group, string version, string plural) =>
        All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Plural == plural);

    public static ResourceType? FindByKind(string apiVersion, string kind) =>
        All.FirstOrDefault(t => t.ApiVersion == apiVersion && t.Kind == kind);
}
