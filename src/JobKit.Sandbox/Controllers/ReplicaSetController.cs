using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using JobKit.Core.Kube;
using Microsoft.Extensions.Logging;
using static JobKit.Sandbox.Controllers.AppsLogic;

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// The ReplicaSet controller of kube-controller-manager 1.32 (pkg/controller/replicaset): keeps as many active pods
/// controlled by each ReplicaSet as spec.replicas asks (creating from the template with a controller
/// ownerReference, deleting the least valuable first), and reports status replicas, fullyLabeledReplicas,
/// readyReplicas, availableReplicas and observedGeneration. Pods are the ReplicaSet's by controllerRef; orphans
/// matching a selector are not adopted.
/// </summary>
public sealed class ReplicaSetController
{
    /// <summary>BurstReplicas: at most this many creations or deletions per sync.</summary>
    private const int BurstReplicas = 500;
    private const int Workers = 3;

    private readonly IKubernetes client;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly EventRecorder recorder;
    private readonly UidTrackingExpectations expectations;
    private readonly ControllerLoop loop;
    private readonly Informer<V1ReplicaSet> replicaSets;
    private readonly Informer<V1Pod> pods;

    public ReplicaSetController(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.time = time;
        logger = loggerFactory.CreateLogger<ReplicaSetController>();
        recorder = new EventRecorder(client, "replicaset-controller", time, logger);
        expectations = new UidTrackingExpectations(time);
        loop = new ControllerLoop(
            time,
            Workers,
            baseDelay: TimeSpan.FromMilliseconds(5),
            maxDelay: TimeSpan.FromSeconds(30),
            SyncAsync,
            syncFailed: (key, e) => logger.LogWarning("syncing replicaset {Key}: {Error}", key, e.Message),
            cachesSynced: _ => logger.LogInformation("ReplicaSet controller caches synced"));
        loop.RunAlongside(recorder.RunAsync);
        replicaSets = loop.Watch(ClusterInformers.ReplicaSets(client), OnReplicaSetChangedAsync);
        pods = loop.Watch(ClusterInformers.Pods(client), OnPodChangedAsync);
    }

    public Task RunAsync(CancellationToken cancellationToken) => loop.RunAsync(cancellationToken);

    private Task OnReplicaSetChangedAsync(WatchEventType type, V1ReplicaSet rs, CancellationToken cancellationToken)
    {
        if (type == WatchEventType.Deleted)
        {
            expectations.Delete(Key(rs));
        }
        loop.Queue?.Add(Key(rs));
        return Task.CompletedTask;
    }

    private readonly HashSet<string> seenPods = [];

    private Task OnPodChangedAsync(WatchEventType type, V1Pod pod, CancellationToken cancellationToken)
    {
        bool firstSeen;
        lock (seenPods)
        {
            firstSeen = type != WatchEventType.Deleted && seenPods.Add(pod.Metadata.Uid);
            if (type == WatchEventType.Deleted)
            {
                seenPods.Remove(pod.Metadata.Uid);
            }
        }
        if (ControllerOf(pod.Metadata) is not { Kind: "ReplicaSet" } controllerRef ||
            replicaSets.Get(pod.Metadata.NamespaceProperty, controllerRef.Name) is not { } rs || rs.Metadata.Uid != controllerRef.Uid)
        {
            return Task.CompletedTask;
        }
        var key = Key(rs);
        if (type == WatchEventType.Deleted || pod.Metadata.DeletionTimestamp is not null)
        {
            expectations.DeletionObserved(key, pod.Metadata.Uid);
        }
        else if (firstSeen)
        {
            expectations.CreationObserved(key);
        }
        loop.Queue?.Add(key);
        if (type == WatchEventType.Modified && (rs.Spec.MinReadySeconds ?? 0) > 0 && IsReady(pod))
        {
            // A pod that became ready turns available minReadySeconds later: look again then.
            loop.Queue?.AddAfter(key, TimeSpan.FromSeconds(rs.Spec.MinReadySeconds!.Value + 1));
        }
        return Task.CompletedTask;
    }

    private async Task<TimeSpan?> SyncAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(key);
        var rs = replicaSets.Get(ns, name);
        if (rs is null)
        {
            expectations.Delete(key);
            return null;
        }
        var needsSync = expectations.Satisfied(key);
        var active = pods.Items
            .Where(p => p.Metadata.NamespaceProperty == ns && ControllerOf(p.Metadata)?.Uid == rs.Metadata.Uid && IsActive(p))
            .ToList();
        Exception? manageError = null;
        if (needsSync && rs.Metadata.DeletionTimestamp is null)
        {
            manageError = await ManageReplicasAsync(key, rs, active, cancellationToken).ConfigureAwait(false);
        }
        var updated = await UpdateStatusAsync(rs, active, manageError, cancellationToken).ConfigureAwait(false);
        if (manageError is not null)
        {
            throw manageError;
        }
        var minReady = updated.Spec.MinReadySeconds ?? 0;
        if (minReady > 0 && updated.Status.ReadyReplicas == updated.Spec.Replicas && updated.Status.AvailableReplicas != updated.Spec.Replicas)
        {
            return TimeSpan.FromSeconds(minReady);
        }
        return null;
    }

    private async Task<Exception?> ManageReplicasAsync(string key, V1ReplicaSet rs, List<V1Pod> active, CancellationToken cancellationToken)
    {
        var diff = active.Count - (rs.Spec.Replicas ?? 1);
        if (diff < 0)
        {
            var count = Math.Min(-diff, BurstReplicas);
            expectations.ExpectCreations(key, count);
            var controllerRef = ControllerRef(rs, "apps/v1", "ReplicaSet");
            // slowStartBatch: 1, 2, 4, ... creations at once, stopping at the first batch with an error.
            var remaining = count;
            var batch = 1;
            while (remaining > 0)
            {
                var size = Math.Min(batch, remaining);
                var results = await Task.WhenAll(Enumerable.Range(0, size).Select(_ => CreatePodAsync(rs, controllerRef, cancellationToken))).ConfigureAwait(false);
                remaining -= size;
                var failures = results.Count(r => r is not null);
                if (failures > 0)
                {
                    for (var i = 0; i < failures + remaining; i++)
                    {
                        expectations.CreationObserved(key);
                    }
                    return results.First(r => r is not null);
                }
                batch *= 2;
            }
            return null;
        }
        if (diff > 0)
        {
            var toDelete = active.OrderBy(p => p, Comparer<V1Pod>.Create(DeletionOrder)).Take(Math.Min(diff, BurstReplicas)).ToList();
            expectations.ExpectDeletions(key, toDelete.Select(p => p.Metadata.Uid));
            var results = await Task.WhenAll(toDelete.Select(p => DeletePodAsync(key, rs, p, cancellationToken))).ConfigureAwait(false);
            return results.FirstOrDefault(r => r is not null);
        }
        return null;
    }

    /// <summary>controller.ActivePods' order: the pods to delete first come first.</summary>
    private static int DeletionOrder(V1Pod a, V1Pod b)
    {
        static int Assigned(V1Pod p) => string.IsNullOrEmpty(p.Spec?.NodeName) ? 0 : 1;
        static int Phase(V1Pod p) => p.Status?.Phase switch { "Pending" => 0, "Unknown" => 1, "Running" => 2, _ => 0 };
        static int Ready(V1Pod p) => IsReady(p) ? 1 : 0;
        var c = Assigned(a).CompareTo(Assigned(b));
        if (c == 0)
        {
            c = Phase(a).CompareTo(Phase(b));
        }
        if (c == 0)
        {
            c = Ready(a).CompareTo(Ready(b));
        }
        if (c == 0)
        {
            // Newer pods go first.
            c = CreationTime(b).CompareTo(CreationTime(a));
        }
        return c;
    }

    private async Task<Exception?> CreatePodAsync(V1ReplicaSet rs, V1OwnerReference controllerRef, CancellationToken cancellationToken)
    {
        var pod = PodFromTemplate(rs.Spec.Template, rs, controllerRef);
        return await PodCreation.CreateAsync(client, recorder, rs, pod, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Exception?> DeletePodAsync(string key, V1ReplicaSet rs, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            recorder.Event(rs, EventRecorder.Normal, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
            return null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            expectations.DeletionObserved(key, pod.Metadata.Uid);
            return null;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            expectations.DeletionObserved(key, pod.Metadata.Uid);
            recorder.Event(rs, EventRecorder.Warning, "FailedDelete", $"Error deleting: {JobController.ErrorText(e)}");
            return e;
        }
    }

    /// <summary>calculateStatus and updateReplicaSetStatus: written only when something changed.</summary>
    private async Task<V1ReplicaSet> UpdateStatusAsync(V1ReplicaSet rs, List<V1Pod> active, Exception? manageError, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minReady = rs.Spec.MinReadySeconds ?? 0;
        var templateLabels = rs.Spec.Template?.Metadata?.Labels ?? new Dictionary<string, string>();
        var conditions = rs.Status?.Conditions?.ToList() ?? [];
        var failure = conditions.FirstOrDefault(c => c.Type == "ReplicaFailure");
        if (manageError is not null && failure is null)
        {
            var diff = active.Count - (rs.Spec.Replicas ?? 1);
            conditions.Add(new V1ReplicaSetCondition
            {
                Type = "ReplicaFailure",
                Status = "True",
                Reason = diff < 0 ? "FailedCreate" : "FailedDelete",
                Message = JobController.ErrorText(manageError),
                LastTransitionTime = now.UtcDateTime,
            });
        }
        else if (manageError is null && failure is not null)
        {
            conditions.Remove(failure);
        }
        var status = new V1ReplicaSetStatus
        {
            Replicas = active.Count,
            FullyLabeledReplicas = active.Count(p => templateLabels.All(l => p.Metadata.Labels?.TryGetValue(l.Key, out var v) == true && v == l.Value)),
            ReadyReplicas = active.Count(IsReady),
            AvailableReplicas = active.Count(p => IsAvailable(p, minReady, now)),
            ObservedGeneration = rs.Metadata.Generation,
            Conditions = conditions.Count > 0 ? conditions : null,
        };
        var old = rs.Status ?? new V1ReplicaSetStatus();
        if (old.Replicas == status.Replicas && (old.FullyLabeledReplicas ?? 0) == status.FullyLabeledReplicas && (old.ReadyReplicas ?? 0) == status.ReadyReplicas
            && (old.AvailableReplicas ?? 0) == status.AvailableReplicas && old.ObservedGeneration == status.ObservedGeneration
            && (old.Conditions?.Count ?? 0) == conditions.Count)
        {
            return rs;
        }
        for (var attempt = 0; ; attempt++)
        {
            var copy = JobLogic.DeepCopy(rs);
            copy.Status = status;
            status.ObservedGeneration = copy.Metadata.Generation;
            try
            {
                return await client.AppsV1.ReplaceNamespacedReplicaSetStatusAsync(copy, copy.Metadata.Name, copy.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < 1)
            {
                rs = await client.AppsV1.ReadNamespacedReplicaSetAsync(rs.Metadata.Name, rs.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
