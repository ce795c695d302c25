namespace JobKit.Core.Runs;

/// <summary>What the user asked for: a Job from <see cref="Source"/>, optionally with a ConfigMap only that Job sees.</summary>
public sealed record TransientRunRequest
{
    public required string Namespace { get; init; }

    /// <summary>The Job's name; for a manifest, null keeps the manifest's name.</summary>
    public string? JobName { get; init; }

    public required RunSource Source { get; init; }

    /// <summary>Labels everything the run creates and suffixes its ConfigMap's name.</summary>
    public string RunId { get; init; } = TransientRunPlan.NewRunId();

    /// <summary>
    /// The ConfigMap name the Job's template reads (NAME). The run creates <c>NAME-&lt;run id&gt;</c> instead and points
    /// only this run's Job at it. Null for a run without a transient ConfigMap.
    /// </summary>
    public string? ConfigMapName { get; init; }

    public IReadOnlyDictionary<string, string> Data { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, byte[]> BinaryData { get; init; } = new Dictionary<string, byte[]>();

    /// <summary>
    /// Set on the Job (unless its template asks for less), so Kubernetes removes a finished run's Job, Pods and
    /// ConfigMap even when JobKit was killed before it could.
    /// </summary>
    public int TtlSecondsAfterFinished { get; init; } = 600;
}
