using k8s.Models;

namespace JobKit.Core.Config;

/// <summary>Where a workload's rollout stands: still going, done, or failed (with kubectl's message).</summary>
public enum RolloutState
{
    Progressing,
    Complete,
    Failed,
}

/// <summary>One workload's rollout as <c>kubectl rollout status</c> would report it at this moment.</summary>
public sealed record RolloutProgress(WorkloadReference Workload, RolloutState State, string Message);

/// <summary>
/// kubectl's rollout status viewers (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), word for word: a rollout
/// counts only once the controller has observed the new generation.
/// </summary>
public static class RolloutStatus
{
    public static RolloutProgress Of(WorkloadReference workload, object obj) => obj switch
    {
        V1Deployment d => Deployment(workload, d),
        V1StatefulSet s => StatefulSet(workload, s),
        V1DaemonSet d => DaemonSet(workload, d),
        _ => new RolloutProgress(workload, RolloutState.Complete, $"{workload.Display} has no rollout"),
    };

    private static RolloutProgress Deployment(WorkloadReference w, V1Deployment d)
    {
        var name = d.Metadata.Name;
        var status = d.Status ?? new V1DeploymentStatus();
        if ((d.Metadata.Generation ?? 0) > (status.ObservedGeneration ?? 0))
        {
            return new(w, RolloutState.Progressing, "Waiting for deployment spec update to be observed...");
        }
        if (status.Conditions?.FirstOrDefault(c => c.Type == "Progressing") is { Reason: "ProgressDeadlineExceeded" })
        {
            return new(w, RolloutState.Failed, $"deployment \"{name}\" exceeded its progress deadline");
        }
        var updated = status.UpdatedReplicas ?? 0;
        if (d.Spec?.Replicas is { } replicas && updated < replicas)
        {
            return new(w, RolloutState.Progressing, $"Waiting for deployment \"{name}\" rollout to finish: {updated} out of {replicas} new replicas have been updated...");
        }
        if ((status.Replicas ?? 0) > updated)
        {
            return new(w, RolloutState.Progressing, $"Waiting for deployment \"{name}\" rollout to finish: {(status.Replicas ?? 0) - updated} old replicas are pending termination...");
        }
        if ((status.AvailableReplicas ?? 0) < updated)
        {
            return new(w, RolloutState.Progressing, $"Waiting for deployment \"{name}\" rollout to finish: {status.AvailableReplicas ?? 0} of {updated} updated replicas are available...");
        }
        return new(w, RolloutState.Complete, $"deployment \"{name}\" successfully rolled out");
    }

    private static RolloutProgress StatefulSet(WorkloadReference w, V1StatefulSet s)
    {
        var status = s.Status ?? new V1StatefulSetStatus();
        if (s.Spec?.UpdateStrategy?.Type is { } type && type != "RollingUpdate")
        {
            return new(w, RolloutState.Failed, "rollout status is only available for RollingUpdate strategy type");
        }
        if ((status.ObservedGeneration ?? 0) == 0 || (s.Metadata.Generation ?? 0) > (status.ObservedGeneration ?? 0))
        {
            return new(w, RolloutState.Progressing, "Waiting for statefulset spec update to be observed...");
        }
        if (s.Spec?.Replicas is { } replicas && (status.ReadyReplicas ?? 0) < replicas)
        {
            return new(w, RolloutState.Progressing, $"Waiting for {replicas - (status.ReadyReplicas ?? 0)} pods to be ready...");
        }
        if (s.Spec?.UpdateStrategy?.RollingUpdate is { } rolling)
        {
            if (s.Spec.Replicas is { } r && rolling.Partition is { } partition && (status.UpdatedReplicas ?? 0) < r - partition)
            {
                return new(w, RolloutState.Progressing, $"Waiting for partitioned roll out to finish: {status.UpdatedReplicas ?? 0} out of {r - partition} new pods have been updated...");
            }
            return new(w, RolloutState.Complete, $"partitioned roll out complete: {status.UpdatedReplicas ?? 0} new pods have been updated...");
        }
        if (status.UpdateRevision != status.CurrentRevision)
        {
            return new(w, RolloutState.Progressing, $"waiting for statefulset rolling update to complete {status.UpdatedReplicas ?? 0} pods at revision {status.UpdateRevision}...");
        }
        return new(w, RolloutState.Complete, $"statefulset rolling update complete {status.CurrentReplicas ?? 0} pods at revision {status.CurrentRevision}...");
    }

    private static RolloutProgress DaemonSet(WorkloadReference w, V1DaemonSet d)
    {
        var name = d.Metadata.Name;
        var status = d.Status ?? new V1DaemonSetStatus();
        if (d.Spec?.UpdateStrategy?.Type is { } type && type != "RollingUpdate")
        {
            return new(w, RolloutState.Failed, "rollout status is only available for RollingUpdate strategy type");
        }
        if ((d.Metadata.Generation ?? 0) > (status.ObservedGeneration ?? 0))
        {
            return new(w, RolloutState.Progressing, "Waiting for daemon set spec update to be observed...");
        }
        if ((status.UpdatedNumberScheduled ?? 0) < status.DesiredNumberScheduled)
        {
            return new(w, RolloutState.Progressing, $"Waiting for daemon set \"{name}\" rollout to finish: {status.UpdatedNumberScheduled ?? 0} out of {status.DesiredNumberScheduled} new pods have been updated...");
        }
        if ((status.NumberAvailable ?? 0) < status.DesiredNumberScheduled)
        {
            return new(w, RolloutState.Progressing, $"Waiting for daemon set \"{name}\" rollout to finish: {status.NumberAvailable ?? 0} of {status.DesiredNumberScheduled} updated pods are available...");
        }
        return new(w, RolloutState.Complete, $"daemon set \"{name}\" successfully rolled out");
    }
}
