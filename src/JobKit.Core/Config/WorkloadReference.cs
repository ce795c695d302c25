namespace JobKit.Core.Config;

/// <summary>The workload kinds a configuration rolls to.</summary>
public enum WorkloadKind
{
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Job,
}

/// <summary>A <c>kind/name</c> as kubectl spells it (<c>deployment/web</c>, <c>deploy/web</c>, <c>deployments.apps/web</c>, <c>cj/report</c>...).</summary>
public sealed record WorkloadReference(WorkloadKind Kind, string Name)
{
    /// <summary>kubectl's resource.group name, as in its output lines (<c>deployment.apps/web</c>).</summary>
    public string Resource => Kind switch
    {
        WorkloadKind.Deployment => "deployment.apps",
        WorkloadKind.StatefulSet => "statefulset.apps",
        WorkloadKind.DaemonSet => "daemonset.apps",
        WorkloadKind.CronJob => "cronjob.batch",
        WorkloadKind.Job => "job.batch",
        _ => throw new InvalidOperationException($"unknown kind {Kind}"),
    };

    /// <summary>As the user would type it: <c>deployment/web</c>.</summary>
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}/{Name}";

    /// <summary>As kubectl prints it: <c>deployment.apps/web</c>.</summary>
    public string Display => $"{Resource}/{Name}";

    /// <summary>True for kinds with a rollout to follow (<c>kubectl rollout status</c> knows them).</summary>
    public bool HasRollout => Kind is WorkloadKind.Deployment or WorkloadKind.StatefulSet or WorkloadKind.DaemonSet;

    /// <exception cref="ConfigInputException">Not <c>kind/name</c>, or a kind jobkit cannot roll.</exception>
    public static WorkloadReference Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == text.Length - 1 || text.IndexOf('/', slash + 1) >= 0)
        {
            throw new ConfigInputException($"--to: \"{text}\" is not kind/name (e.g. deployment/web)");
        }
        var kindText = text[..slash].ToLowerInvariant();
        var name = text[(slash + 1)..];
        WorkloadKind? kind = kindText switch
        {
            "deployment" or "deployments" or "deploy" or "deployment.apps" or "deployments.apps" => WorkloadKind.Deployment,
            "statefulset" or "statefulsets" or "sts" or "statefulset.apps" or "statefulsets.apps" => WorkloadKind.StatefulSet,
            "daemonset" or "daemonsets" or "ds" or "daemonset.apps" or "daemonsets.apps" => WorkloadKind.DaemonSet,
            "cronjob" or "cronjobs" or "cj" or "cronjob.batch" or "cronjobs.batch" => WorkloadKind.CronJob,
            "job" or "jobs" or "job.batch" or "jobs.batch" => WorkloadKind.Job,
            _ => null,
        };
        return kind is { } k
            ? new WorkloadReference(k, name)
            : throw new ConfigInputException($"--to: unsupported kind \"{text[..slash]}\" in \"{text}\" (deployment, statefulset, daemonset, cronjob or job)");
    }
}

/// <summary>The request cannot be carried out as given (bad flags, missing workloads, invalid keys); nothing was changed.</summary>
public sealed class ConfigInputException : Exception
{
    public ConfigInputException(string message)
        : base(message)
    {
    }

    public ConfigInputException()
    {
    }

    public ConfigInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
