using k8s.Models;

namespace JobKit.Sandbox.Kubelet;

/// <summary>The kubelet's view of one container of a pod: its current and last state, restarts, process and logs.</summary>
internal sealed class ContainerRuntime
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaximumBackoff = TimeSpan.FromMinutes(5);

    /// <summary>A container that ran this long without crashing starts over at the initial back-off (kubelet: 2 × max).</summary>
    private static readonly TimeSpan BackoffReset = TimeSpan.FromMinutes(10);

    private TimeSpan? nextBackoff;

    public ContainerRuntime(V1Container spec, bool isInit, string initialWaitingReason)
    {
        Spec = spec;
        IsInit = isInit;
        State = Waiting(initialWaitingReason, null);
    }

    public V1Container Spec { get; }

    public string Name => Spec.Name;

    public bool IsInit { get; }

    public V1ContainerState State { get; set; }

    public V1ContainerState? LastState { get; set; }

    public int RestartCount { get; set; }

    public string? ContainerId { get; set; }

    public ContainerProcess? Process { get; set; }

    /// <summary>Whether a process was ever started for this container (for the pod's phase: never started means Pending).</summary>
    public bool EverStarted { get; set; }

    /// <summary>One log file per run, oldest first; the last is the current (or last) run.</summary>
    public List<ContainerLogFile> Logs { get; } = [];

    public bool IsRunning => State.Running is not null;

    public bool Succeeded => State.Terminated is { ExitCode: 0 };

    public static V1ContainerState Waiting(string reason, string? message) =>
        new() { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } };

    /// <summary>
    /// How long to wait before the next restart, as the kubelet's CrashLoopBackOff: the first restart is immediate,
    /// then 10 s doubling up to 5 min.
    /// </summary>
    public TimeSpan NextBackoff(TimeSpan lastRunDuration)
    {
        if (lastRunDuration >= BackoffReset)
        {
            nextBackoff = null;
        }
        var delay = nextBackoff ?? TimeSpan.Zero;
        nextBackoff = nextBackoff is null ? InitialBackoff : TimeSpan.FromTicks(Math.Min(nextBackoff.Value.Ticks * 2, MaximumBackoff.Ticks));
        return delay;
    }

    public V1ContainerStatus ToStatus()
    {
        var image = string.IsNullOrEmpty(Spec.Image) ? "process" : Spec.Image;
        return new V1ContainerStatus
        {
            Name = Name,
            Image = image,
            // There is no image: the ID says so, in the shape of a runtime's image reference.
            ImageID = "process://" + image,
            ContainerID = ContainerId,
            State = State,
            LastState = LastState ?? new V1ContainerState(),
            // An init container counts as ready once it completed successfully.
            Ready = IsInit ? Succeeded : IsRunning,
            Started = IsRunning,
            RestartCount = RestartCount,
        };
    }
}
