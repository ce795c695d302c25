using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using JobKit.Core.Kube;
using Microsoft.Extensions.Logging;
using static JobKit.Sandbox.Controllers.AppsLogic;

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// A StatefulSet controller after kube-controller-manager's (pkg/controller/statefulset), simpler but faithful in
/// what it does: pods <c>&lt;name&gt;-0..n-1</c> with stable names, hostname and subdomain, the
/// <c>controller-revision-hash</c>, <c>statefulset.kubernetes.io/pod-name</c> and <c>apps.kubernetes.io/pod-index</c>
/// labels; OrderedReady (one pod at a time, each Ready before the next; scale down from the highest ordinal) or
/// Parallel; RollingUpdate from the highest ordinal down to the partition, or OnDelete; status counters and
/// currentRevision/updateRevision. Revisions are named <c>&lt;name&gt;-&lt;hash&gt;</c>, but no ControllerRevision
/// objects are written, and volumeClaimTemplates are not provisioned.
/// </summary>
public sealed class StatefulSetController
{
    private const int Workers = 2;

    private readonly IKubernetes client;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly EventRecorder recorder;
    private readonly ControllerLoop loop;
    private readonly Informer<V1StatefulSet> sets;
    private readonly Informer<V1Pod> pods;

    public StatefulSetController(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.time = time;
        logger = loggerFactory.CreateLogger<StatefulSetController>();
        recorder = new EventRecorder(client, "statefulset-controller", time, logger);
        loop = new ControllerLoop(
            time,
            Workers,
            baseDelay: TimeSpan.FromMilliseconds(5),
            maxDelay: TimeSpan.FromSeconds(30),
            SyncAsync,
            syncFailed: (key, e) => logger.LogWarning("syncing statefulset {Key}: {Error}", key, e.Message),
            cachesSynced: _ => logger.LogInformation("StatefulSet controller caches synced"));
        loop.RunAlongside(recorder.RunAsync);
        sets = loop.Watch(ClusterInformers.StatefulSets(client), (_, s, _) => Enqueue(Key(s)));
        pods = loop.Watch(ClusterInformers.Pods(client), (_, p, _) =>
            ControllerOf(p.Metadata) is { Kind: "StatefulSet" } owner ? Enqueue($"{p.Metadata.NamespaceProperty}/{owner.Name}") : Task.CompletedTask);
    }

    public Task RunAsync(CancellationToken cancellationToken) => loop.RunAsync(cancellationToken);

    private Task Enqueue(string key)
    {
        loop.Queue?.Add(key);
        return Task.CompletedTask;
    }

    private const string RevisionLabel = "controller-revision-hash";

    private static int Ordinal(V1Pod pod, string setName) =>
        pod.Metadata.Name.StartsWith(setName + "-", StringComparison.Ordinal) && int.TryParse(pod.Metadata.Name[(setName.Length + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1;

    private static string? Revision(V1Pod pod) => pod.Metadata.Labels?.TryGetValue(RevisionLabel, out var r) == true ? r : null;

    private async Task<TimeSpan?> SyncAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(key);
        if (sets.Get(ns, name) is not { } cached)
        {
            return null;
        }
        var set = JobLogic.DeepCopy(cached);
        var replicas = set.Spec.Replicas ?? 1;
        // Status starts without collisionCount and then always carries 0: both must name the same revision (the real
        // controller matches revisions by content through ControllerRevisions, which the sandbox does not keep).
        var updateRevision = $"{name}-{ComputeHash(set.Spec.Template, set.Status?.CollisionCount ?? 0)}";
        var currentRevision = string.IsNullOrEmpty(set.Status?.CurrentRevision) ? updateRevision : set.Status.CurrentRevision;
        var owned = pods.Items.Where(p => p.Metadata.NamespaceProperty == ns && ControllerOf(p.Metadata)?.Uid == set.Metadata.Uid).ToList();
        if (set.Metadata.DeletionTimestamp is null)
        {
            await ManageAsync(set, owned, replicas, currentRevision, updateRevision, cancellationToken).ConfigureAwait(false);
        }
        owned = pods.Items.Where(p => p.Metadata.NamespaceProperty == ns && ControllerOf(p.Metadata)?.Uid == set.Metadata.Uid).ToList();
        await UpdateStatusAsync(set, owned, currentRevision, updateRevision, cancellationToken).ConfigureAwait(false);
        var minReady = set.Spec.MinReadySeconds ?? 0;
        return minReady > 0 && owned.Any(p => IsReady(p) && !IsAvailable(p, minReady, time.GetUtcNow())) ? TimeSpan.FromSeconds(1) : null;
    }

    /// <summary>One step of the ordered plan (updateStatefulSet): replace failed pods, create missing ones, delete extra ones, roll one pod.</summary>
    private async Task ManageAsync(V1StatefulSet set, List<V1Pod> owned, int replicas, string currentRevision, string updateRevision, CancellationToken cancellationToken)
    {
        var name = set.Metadata.Name;
        var ordered = (set.Spec.PodManagementPolicy ?? "OrderedReady") == "OrderedReady";
        var byOrdinal = owned.Where(p => Ordinal(p, name) >= 0).ToDictionary(p => Ordinal(p, name));
        var partition = set.Spec.UpdateStrategy?.Type == "RollingUpdate" ? set.Spec.UpdateStrategy.RollingUpdate?.Partition ?? 0 : int.MaxValue;
        for (var i = 0; i < replicas; i++)
        {
            if (byOrdinal.TryGetValue(i, out var pod))
            {
                if (pod.Status?.Phase is "Failed" or "Succeeded" && pod.Metadata.DeletionTimestamp is null)
                {
                    await DeletePodAsync(set, pod, cancellationToken).ConfigureAwait(false);
                    return;
                }
                if (ordered && (pod.Metadata.DeletionTimestamp is not null || !IsReady(pod)))
                {
                    return;
                }
                continue;
            }
            // Pods below the partition keep the current revision; the others get the update revision.
            var revision = i < partition ? currentRevision : updateRevision;
            await CreatePodAsync(set, i, revision, cancellationToken).ConfigureAwait(false);
            if (ordered)
            {
                return;
            }
        }
        // Scale down from the highest ordinal, one at a time when ordered.
        foreach (var extra in byOrdinal.Where(kv => kv.Key >= replicas).OrderByDescending(kv => kv.Key).Select(kv => kv.Value))
        {
            if (extra.Metadata.DeletionTimestamp is not null)
            {
                if (ordered)
                {
                    return;
                }
                continue;
            }
            await DeletePodAsync(set, extra, cancellationToken).ConfigureAwait(false);
            if (ordered)
            {
                return;
            }
        }
        if (set.Spec.UpdateStrategy?.Type == "OnDelete")
        {
            return;
        }
        // RollingUpdate: all pods Ready, then the highest-ordinal pod of an old revision goes.
        var live = byOrdinal.Where(kv => kv.Key < replicas).Select(kv => kv.Value).ToList();
        if (live.Count < replicas || live.Any(p => !IsReady(p) || p.Metadata.DeletionTimestamp is not null))
        {
            return;
        }
        var stale = byOrdinal.Where(kv => kv.Key < replicas && kv.Key >= partition && Revision(kv.Value) != updateRevision)
            .OrderByDescending(kv => kv.Key).Select(kv => kv.Value).FirstOrDefault();
        if (stale is not null)
        {
            await DeletePodAsync(set, stale, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CreatePodAsync(V1StatefulSet set, int ordinal, string revision, CancellationToken cancellationToken)
    {
        var podName = $"{set.Metadata.Name}-{ordinal.ToString(CultureInfo.InvariantCulture)}";
        var pod = PodFromTemplate(set.Spec.Template, set, ControllerRef(set, "apps/v1", "StatefulSet"), name: podName);
        pod.Metadata.Labels = new Dictionary<string, string>(pod.Metadata.Labels ?? new Dictionary<string, string>())
        {
            [RevisionLabel] = revision,
            ["statefulset.kubernetes.io/pod-name"] = podName,
            ["apps.kubernetes.io/pod-index"] = ordinal.ToString(CultureInfo.InvariantCulture),
        };
        pod.Spec.Hostname = podName;
        if (!string.IsNullOrEmpty(set.Spec.ServiceName))
        {
            pod.Spec.Subdomain = set.Spec.ServiceName;
        }
        try
        {
            await client.CoreV1.CreateNamespacedPodAsync(pod, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            recorder.Event(set, EventRecorder.Normal, "SuccessfulCreate", $"create Pod {podName} in StatefulSet {set.Metadata.Name} successful");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Still terminating under the same name: the next sync tries again.
        }
        catch (HttpOperationException e) when (e.Response.Content?.Contains("NamespaceTerminating", StringComparison.Ordinal) == true)
        {
        }
        catch (HttpOperationException e)
        {
            recorder.Event(set, EventRecorder.Warning, "FailedCreate", $"create Pod {podName} in StatefulSet {set.Metadata.Name} failed error: {JobController.ErrorText(e)}");
            throw;
        }
    }

    private async Task DeletePodAsync(V1StatefulSet set, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            recorder.Event(set, EventRecorder.Normal, "SuccessfulDelete", $"delete Pod {pod.Metadata.Name} in StatefulSet {set.Metadata.Name} successful");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private async Task UpdateStatusAsync(V1StatefulSet set, List<V1Pod> owned, string currentRevision, string updateRevision, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minReady = set.Spec.MinReadySeconds ?? 0;
        var created = owned.Where(p => !string.IsNullOrEmpty(p.Status?.Phase)).ToList();
        var live = created.Where(p => p.Metadata.DeletionTimestamp is null).ToList();
        var status = new V1StatefulSetStatus
        {
            ObservedGeneration = set.Metadata.Generation,
            Replicas = created.Count,
            ReadyReplicas = live.Count(IsReady),
            AvailableReplicas = live.Count(p => IsAvailable(p, minReady, now)),
            CurrentReplicas = live.Count(p => Revision(p) == currentRevision),
            UpdatedReplicas = live.Count(p => Revision(p) == updateRevision),
            CurrentRevision = currentRevision,
            UpdateRevision = updateRevision,
            CollisionCount = set.Status?.CollisionCount ?? 0,
            Conditions = set.Status?.Conditions,
        };
        // completeRollingUpdate: once every replica runs the update revision and is ready, it becomes current.
        var replicas = set.Spec.Replicas ?? 1;
        if (set.Spec.UpdateStrategy?.Type == "RollingUpdate" && status.UpdatedReplicas == status.Replicas && status.ReadyReplicas == status.Replicas && status.Replicas == replicas)
        {
            status.CurrentReplicas = status.UpdatedReplicas;
            status.CurrentRevision = updateRevision;
        }
        if (System.Text.Json.Nodes.JsonNode.DeepEquals(Canonical(set.Status), Canonical(status)))
        {
            return;
        }
        set.Status = status;
        await client.AppsV1.ReplaceNamespacedStatefulSetStatusAsync(set, set.Metadata.Name, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
