using k8s.Models;

namespace JobKit.Core.Runs;

public enum RunOutcome
{
    Succeeded,
    Failed,

    /// <summary>The Job was deleted by someone else before it finished: never a success.</summary>
    Vanished,
    TimedOut,
    Interrupted,
}

/// <param name="Job">The Job as last seen.</param>
/// <param name="LeftBehind">What the run could not (or was asked not to) delete, as <c>kind/name</c>; empty when everything is gone.</param>
public sealed record RunResult(RunOutcome Outcome, V1Job? Job, IReadOnlyList<string> LeftBehind);

public sealed record TransientRunOptions
{
    public bool StreamLogs { get; init; } = true;

    /// <summary>Leave the Job and ConfigMap of a failed run for inspection (their ttlSecondsAfterFinished still applies).</summary>
    public bool KeepOnFailure { get; init; }

    /// <summary>How long to wait for the Job; null waits as long as it runs.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Cleanup gets its own deadline, so it still runs after a timeout or a signal cancelled the wait.</summary>
    public TimeSpan CleanupTimeout { get; init; } = TimeSpan.FromSeconds(90);
}
