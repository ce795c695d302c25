namespace JobKit.Core.Runs;

/// <summary>A snapshot of the Job's pods while it runs.</summary>
public sealed record JobProgress(string JobName, int Active, int Ready, int Succeeded, int Failed, TimeSpan Elapsed);

/// <summary>
/// Where a run reports: the CLI renders it on a terminal (stderr for progress, stdout for logs); the operator will log
/// it. Calls may come from several threads; implementations serialize their output.
/// </summary>
public interface IRunObserver
{
    /// <summary>A step, in kubectl's words (<c>job.batch/test created</c>).</summary>
    void Progress(string message);

    /// <summary>Something the user should act on or know (a failed pod's exit code, a cleanup that did not finish).</summary>
    void Warning(string message);

    /// <summary>The Job's pod counts changed (or time passed).</summary>
    void JobChanged(JobProgress progress);

    /// <summary>One line of a container's log; <paramref name="prefix"/> is null when the run has had a single pod so far.</summary>
    void LogLine(string? prefix, string line);
}
