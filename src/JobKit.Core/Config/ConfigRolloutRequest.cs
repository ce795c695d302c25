using JobKit.Core.ConfigData;
using JobKit.Core.Hashing;
using k8s;
using k8s.Models;

namespace JobKit.Core.Config;

/// <summary>Roll configuration NAME, built from <see cref="Data"/>, to <see cref="Targets"/> in <see cref="Namespace"/>.</summary>
public sealed record ConfigRolloutRequest(string Namespace, string Name, ConfigDataResult Data, IReadOnlyList<WorkloadReference> Targets)
{
    /// <summary>A Secret rather than a ConfigMap.</summary>
    public bool Secret { get; init; }

    /// <summary>The Secret's type (null: Opaque).</summary>
    public string? SecretType { get; init; }

    public ContentHashAlgorithm Hash { get; init; } = ContentHashAlgorithm.Kustomize;

    /// <summary>How many of the newest versions to keep whether or not anything reads them (the current one is always kept).</summary>
    public int Keep { get; init; } = 3;
}

/// <summary>What <see cref="ConfigRollout.ExecuteAsync"/> does, and how.</summary>
public sealed record ConfigRolloutOptions
{
    /// <summary>Follow the Deployments', StatefulSets' and DaemonSets' rollouts to the end before pruning.</summary>
    public bool Wait { get; init; }

    /// <summary>How long <see cref="Wait"/> waits (null: as long as it takes).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>null: do it; "client": report what would be done, change nothing; "server": send every change with dryRun=All.</summary>
    public string? DryRun { get; init; }
}

/// <summary>One target and what its pods read now.</summary>
public sealed record WorkloadUpdate(WorkloadReference Workload, IKubernetesObject<V1ObjectMeta> Current, IReadOnlyList<string> ReadsNow)
{
    /// <summary>The earlier versions to point at the new one (empty: it reads the new one already).</summary>
    public IReadOnlyList<string> From(string newName) => ReadsNow.Where(n => n != newName).ToList();
}

/// <summary>The validated request: the new version and the workloads as they were read.</summary>
public sealed record ConfigRolloutPlan(ConfigRolloutRequest Request, IKubernetesObject<V1ObjectMeta> Version, IReadOnlyList<WorkloadUpdate> Workloads)
{
    /// <summary>kubectl's resource name for the version (<c>configmap</c> or <c>secret</c>).</summary>
    public string VersionResource => Request.Secret ? "secret" : "configmap";

    public string VersionName => Version.Metadata.Name;
}

public enum ConfigRolloutOutcome
{
    /// <summary>Everything reads the new version (and, with wait, rolled out).</summary>
    Succeeded,

    /// <summary>The version existed and every workload read it already: nothing changed.</summary>
    Unchanged,

    /// <summary>A rollout failed (e.g. ProgressDeadlineExceeded); nothing was pruned.</summary>
    Failed,

    /// <summary>The wait ran out before every rollout finished; nothing was pruned.</summary>
    TimedOut,
}

public sealed record ConfigRolloutResult(
    ConfigRolloutOutcome Outcome,
    string VersionName,
    IReadOnlyList<WorkloadReference> Changed,
    IReadOnlyList<RolloutProgress> Rollouts,
    IReadOnlyList<string> Pruned,
    IReadOnlyList<string> Kept);
