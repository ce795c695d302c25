namespace JobKit.Core.Config;

/// <summary>
/// Where a configuration rollout reports: the CLI prints results on stdout and progress on stderr; the operator will log
/// them. Calls may come from several threads; implementations serialize their output.
/// </summary>
public interface IRolloutObserver
{
    /// <summary>What happened to one object, in kubectl's words (<c>configmap/app-5f7k9mbt2d created</c>, <c>deployment.apps/web configured</c>).</summary>
    void Result(string line);

    /// <summary>A step or a decision worth knowing (a version kept because something still reads it).</summary>
    void Progress(string message);

    /// <summary>Something the user should act on (a failed rollout and how to undo it).</summary>
    void Warning(string message);

    /// <summary>A workload's rollout moved on (called when kubectl's message for it changes).</summary>
    void RolloutChanged(RolloutProgress progress);
}
