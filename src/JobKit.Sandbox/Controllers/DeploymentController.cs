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
/// The Deployment controller of kube-controller-manager 1.32 (pkg/controller/deployment): one ReplicaSet per pod
/// template (named <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;</c>, the hash also a label and a selector term),
/// RollingUpdate within maxSurge/maxUnavailable or Recreate, proportional scaling, pause, the revision annotations,
/// status counters and the Progressing/Available conditions with the progress deadline, and old ReplicaSets pruned
/// beyond revisionHistoryLimit. ReplicaSets are the Deployment's by controllerRef; orphans are not adopted.
/// </summary>
public sealed class DeploymentController
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
    private const int MaxRevisionHistoryLengthInChars = 2000;
    private const int Workers = 3;

    private static readonly HashSet<string> AnnotationsToSkip =
    [
        "kubectl.kubernetes.io/last-applied-configuration", RevisionAnnotation, RevisionHistoryAnnotation,
        DesiredReplicasAnnotation, MaxReplicasAnnotation, "deprecated.deployment.rollback.to",
    ];

    private readonly IKubernetes client;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly EventRecorder recorder;
    private readonly ControllerLoop loop;
    private readonly Informer<V1Deployment> deployments;
    private readonly Informer<V1ReplicaSet> replicaSets;
    private readonly Informer<V1Pod> pods;

    public DeploymentController(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.time = time;
        logger = loggerFactory.CreateLogger<DeploymentController>();
        recorder = new EventRecorder(client, "deployment-controller", time, logger);
        loop = new ControllerLoop(
            time,
            Workers,
            baseDelay: TimeSpan.FromMilliseconds(5),
            maxDelay: TimeSpan.FromSeconds(30),
            SyncAsync,
            syncFailed: (key, e) => logger.LogWarning("syncing deployment {Key}: {Error}", key, e.Message),
            cachesSynced: _ => logger.LogInformation("Deployment controller caches synced"));
        loop.RunAlongside(recorder.RunAsync);
        deployments = loop.Watch(ClusterInformers.Deployments(client), (_, d, _) => Enqueue(d));
        replicaSets = loop.Watch(ClusterInformers.ReplicaSets(client), (_, rs, _) => EnqueueOwner(rs.Metadata));
        pods = loop.Watch(ClusterInformers.Pods(client), OnPodChangedAsync);
    }

    public Task RunAsync(CancellationToken cancellationToken) => loop.RunAsync(cancellationToken);

    private Task Enqueue(V1Deployment d)
    {
        loop.Queue?.Add(Key(d));
        return Task.CompletedTask;
    }

    private Task EnqueueOwner(V1ObjectMeta meta)
    {
        if (ControllerOf(meta) is { Kind: "Deployment" } owner && deployments.Get(meta.NamespaceProperty, owner.Name) is { } d && d.Metadata.Uid == owner.Uid)
        {
            loop.Queue?.Add(Key(d));
        }
        return Task.CompletedTask;
    }

    /// <summary>deletePod: a Recreate rollout waits for the old pods to be gone.</summary>
    private Task OnPodChangedAsync(WatchEventType type, V1Pod pod, CancellationToken cancellationToken)
    {
        if (type != WatchEventType.Deleted || ControllerOf(pod.Metadata) is not { Kind: "ReplicaSet" } owner ||
            replicaSets.Get(pod.Metadata.NamespaceProperty, owner.Name) is not { } rs || rs.Metadata.Uid != owner.Uid)
        {
            return Task.CompletedTask;
        }
        if (ControllerOf(rs.Metadata) is { Kind: "Deployment" } dRef && deployments.Get(rs.Metadata.NamespaceProperty, dRef.Name) is { } d
            && d.Spec.Strategy?.Type == "Recreate")
        {
            loop.Queue?.Add(Key(d));
        }
        return Task.CompletedTask;
    }

    // ------------------------------------------------------------------ sync

    private async Task<TimeSpan?> SyncAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(key);
        if (deployments.Get(ns, name) is not { } cached)
        {
            return null;
        }
        var d = JobLogic.DeepCopy(cached);
        try
        {
            return await SyncDeploymentAsync(d, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // The cache was behind our own writes: look again shortly.
            return TimeSpan.FromMilliseconds(100);
        }
    }

    private async Task<TimeSpan?> SyncDeploymentAsync(V1Deployment d, CancellationToken cancellationToken)
    {
        var selector = d.Spec.Selector;
        if (selector is not null && (selector.MatchLabels?.Count ?? 0) == 0 && (selector.MatchExpressions?.Count ?? 0) == 0)
        {
            recorder.Event(d, EventRecorder.Warning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
            if ((d.Status?.ObservedGeneration ?? 0) < d.Metadata.Generation)
            {
                d.Status ??= new V1DeploymentStatus();
                d.Status.ObservedGeneration = d.Metadata.Generation;
                await UpdateStatusAsync(d, cancellationToken).ConfigureAwait(false);
            }
            return null;
        }
        var rsList = replicaSets.Items
            .Where(rs => rs.Metadata.NamespaceProperty == d.Metadata.NamespaceProperty && ControllerOf(rs.Metadata)?.Uid == d.Metadata.Uid)
            .Select(JobLogic.DeepCopy)
            .OrderBy(CreationTime).ThenBy(rs => rs.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        if (d.Metadata.DeletionTimestamp is not null)
        {
            return await SyncOnlyAsync(d, rsList, scale: false, cancellationToken).ConfigureAwait(false);
        }
        await CheckPausedConditionsAsync(d, cancellationToken).ConfigureAwait(false);
        if (d.Spec.Paused == true)
        {
            return await SyncOnlyAsync(d, rsList, scale: true, cancellationToken).ConfigureAwait(false);
        }
        if (await IsScalingEventAsync(d, rsList, cancellationToken).ConfigureAwait(false))
        {
            return await SyncOnlyAsync(d, rsList, scale: true, cancellationToken).ConfigureAwait(false);
        }
        return d.Spec.Strategy?.Type == "Recreate"
            ? await RolloutRecreateAsync(d, rsList, cancellationToken).ConfigureAwait(false)
            : await RolloutRollingAsync(d, rsList, cancellationToken).ConfigureAwait(false);
    }

    private static int Replicas(V1Deployment d) => d.Spec.Replicas ?? 1;

    private static int Replicas(V1ReplicaSet rs) => rs.Spec.Replicas ?? 1;

    private static bool IsRollingUpdate(V1Deployment d) => d.Spec.Strategy?.Type != "Recreate";

    /// <summary>deploymentutil.ResolveFenceposts: surge rounded up, unavailable down, never both 0.</summary>
    private static (int Surge, int Unavailable) Fenceposts(V1Deployment d)
    {
        var rolling = d.Spec.Strategy?.RollingUpdate;
        var replicas = Replicas(d);
        var surge = Scaled(rolling?.MaxSurge, replicas, roundUp: true);
        var unavailable = Scaled(rolling?.MaxUnavailable, replicas, roundUp: false);
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }
        return (surge, unavailable);
    }

    private static int MaxSurge(V1Deployment d) => IsRollingUpdate(d) ? Fenceposts(d).Surge : 0;

    private static int MaxUnavailable(V1Deployment d)
    {
        if (!IsRollingUpdate(d) || Replicas(d) == 0)
        {
            return 0;
        }
        return Math.Min(Fenceposts(d).Unavailable, Replicas(d));
    }

    private static long Revision(V1ReplicaSet rs) =>
        rs.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var v) == true && long.TryParse(v, CultureInfo.InvariantCulture, out var r) ? r : 0;

    private static int SumSpec(IEnumerable<V1ReplicaSet?> list) => list.Where(rs => rs is not null).Sum(rs => Replicas(rs!));

    private static int SumStatus(IEnumerable<V1ReplicaSet?> list, Func<V1ReplicaSetStatus, int?> field) =>
        list.Where(rs => rs?.Status is not null).Sum(rs => field(rs!.Status) ?? 0);

    // ------------------------------------------------------------------ replica sets

    /// <summary>getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked and missing) and the old ones.</summary>
    private async Task<(V1ReplicaSet? New, List<V1ReplicaSet> Old)> GetAllReplicaSetsAsync(V1Deployment d, List<V1ReplicaSet> rsList, bool create, CancellationToken cancellationToken)
    {
        var existing = rsList.FirstOrDefault(rs => EqualIgnoreHash(rs.Spec.Template, d.Spec.Template));
        var old = rsList.Where(rs => rs != existing).ToList();
        var newRevision = ((old.Count == 0 ? 0 : old.Max(Revision)) + 1).ToString(CultureInfo.InvariantCulture);
        if (existing is not null)
        {
            var annotationsUpdated = SetNewReplicaSetAnnotations(d, existing, newRevision, exists: true);
            var minReadyChanged = (existing.Spec.MinReadySeconds ?? 0) != (d.Spec.MinReadySeconds ?? 0);
            if (annotationsUpdated || minReadyChanged)
            {
                existing.Spec.MinReadySeconds = d.Spec.MinReadySeconds;
                var updated = await client.AppsV1.ReplaceNamespacedReplicaSetAsync(existing, existing.Metadata.Name, existing.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
                return (updated, old);
            }
            var needsUpdate = SetDeploymentRevision(d, existing.Metadata.Annotations![RevisionAnnotation]);
            if (HasProgressDeadline(d) && Condition(d.Status, "Progressing") is null)
            {
                SetCondition(d.Status ??= new V1DeploymentStatus(), NewCondition("Progressing", "True", "FoundNewReplicaSet", $"Found new replica set \"{existing.Metadata.Name}\""));
                needsUpdate = true;
            }
            if (needsUpdate)
            {
                await UpdateStatusAsync(d, cancellationToken).ConfigureAwait(false);
            }
            return (existing, old);
        }
        if (!create)
        {
            return (null, old);
        }
        var hash = ComputeHash(d.Spec.Template, d.Status?.CollisionCount);
        var template = JobLogic.DeepCopy(d.Spec.Template);
        template.Metadata ??= new V1ObjectMeta();
        template.Metadata.Labels = new Dictionary<string, string>(template.Metadata.Labels ?? new Dictionary<string, string>()) { [PodTemplateHashLabel] = hash };
        var rsSelector = JobLogic.DeepCopy(d.Spec.Selector);
        rsSelector.MatchLabels = new Dictionary<string, string>(rsSelector.MatchLabels ?? new Dictionary<string, string>()) { [PodTemplateHashLabel] = hash };
        var newRs = new V1ReplicaSet
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            Metadata = new V1ObjectMeta
            {
                Name = $"{d.Metadata.Name}-{hash}",
                NamespaceProperty = d.Metadata.NamespaceProperty,
                OwnerReferences = [ControllerRef(d, "apps/v1", "Deployment")],
                Labels = new Dictionary<string, string>(template.Metadata.Labels),
            },
            Spec = new V1ReplicaSetSpec
            {
                Replicas = 0,
                MinReadySeconds = d.Spec.MinReadySeconds,
                Selector = rsSelector,
                Template = template,
            },
        };
        var replicas = NewReplicaSetReplicas(d, [.. old, newRs], newRs);
        newRs.Spec.Replicas = replicas;
        SetNewReplicaSetAnnotations(d, newRs, newRevision, exists: false);
        V1ReplicaSet created;
        var alreadyExists = false;
        try
        {
            created = await client.AppsV1.CreateNamespacedReplicaSetAsync(newRs, d.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            alreadyExists = true;
            var found = await client.AppsV1.ReadNamespacedReplicaSetAsync(newRs.Metadata.Name, newRs.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (ControllerOf(found.Metadata)?.Uid == d.Metadata.Uid && EqualIgnoreHash(found.Spec.Template, d.Spec.Template))
            {
                created = found;
            }
            else
            {
                // A hash collision: try the next hash.
                d.Status ??= new V1DeploymentStatus();
                d.Status.CollisionCount = (d.Status.CollisionCount ?? 0) + 1;
                await UpdateStatusAsync(d, cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException($"hash collision for replica set {newRs.Metadata.Name}");
            }
        }
        catch (HttpOperationException e) when (e.Response.Content?.Contains("NamespaceTerminating", StringComparison.Ordinal) == true)
        {
            throw;
        }
        catch (HttpOperationException e)
        {
            var msg = $"Failed to create new replica set \"{newRs.Metadata.Name}\": {JobController.ErrorText(e)}";
            if (HasProgressDeadline(d))
            {
                SetCondition(d.Status ??= new V1DeploymentStatus(), NewCondition("Progressing", "False", "ReplicaSetCreateError", msg));
                await UpdateStatusAsync(d, cancellationToken).ConfigureAwait(false);
            }
            recorder.Event(d, EventRecorder.Warning, "ReplicaSetCreateError", msg);
            throw;
        }
        if (!alreadyExists && replicas > 0)
        {
            recorder.Event(d, EventRecorder.Normal, "ScalingReplicaSet", $"Scaled up replica set {created.Metadata.Name} from 0 to {replicas}");
        }
        var changed = SetDeploymentRevision(d, newRevision);
        if (!alreadyExists && HasProgressDeadline(d))
        {
            SetCondition(d.Status ??= new V1DeploymentStatus(), NewCondition("Progressing", "True", "NewReplicaSetCreated", $"Created new replica set \"{created.Metadata.Name}\""));
            changed = true;
        }
        if (changed)
        {
            await UpdateStatusAsync(d, cancellationToken).ConfigureAwait(false);
        }
        return (created, old);
    }

    /// <summary>deploymentutil.NewRSNewReplicas.</summary>
    private static int NewReplicaSetReplicas(V1Deployment d, List<V1ReplicaSet> all, V1ReplicaSet newRs)
    {
        if (!IsRollingUpdate(d))
        {
            return Replicas(d);
        }
        var current = SumSpec(all);
        var maxTotal = Replicas(d) + MaxSurge(d);
        if (current >= maxTotal)
        {
            return Replicas(newRs);
        }
        var scaleUp = Math.Min(maxTotal - current, Replicas(d) - Replicas(newRs));
        return Replicas(newRs) + scaleUp;
    }

    /// <summary>deploymentutil.SetNewReplicaSetAnnotations: the Deployment's annotations, the revision (history), the replica counts.</summary>
    private static bool SetNewReplicaSetAnnotations(V1Deployment d, V1ReplicaSet rs, string newRevision, bool exists)
    {
        var changed = false;
        var annotations = rs.Metadata.Annotations ??= new Dictionary<string, string>();
        foreach (var (k, v) in d.Metadata.Annotations ?? new Dictionary<string, string>())
        {
            if (AnnotationsToSkip.Contains(k) || (annotations.TryGetValue(k, out var existing) && existing == v))
            {
                continue;
            }
            annotations[k] = v;
            changed = true;
        }
        var hadRevision = annotations.TryGetValue(RevisionAnnotation, out var oldRevision);
        long oldRevisionNumber = 0;
        if (hadRevision && !long.TryParse(oldRevision, CultureInfo.InvariantCulture, out oldRevisionNumber))
        {
            return false;
        }
        var newRevisionNumber = long.Parse(newRevision, CultureInfo.InvariantCulture);
        if (oldRevisionNumber < newRevisionNumber)
        {
            annotations[RevisionAnnotation] = newRevision;
            changed = true;
            if (hadRevision)
            {
                // Rolling back to this ReplicaSet: keep the revisions it had.
                var history = annotations.TryGetValue(RevisionHistoryAnnotation, out var h) && h.Length > 0 ? h.Split(',').ToList() : [];
                history.Add(oldRevision!);
                while (string.Join(',', history).Length > MaxRevisionHistoryLengthInChars && history.Count > 1)
                {
                    history.RemoveAt(0);
                }
                annotations[RevisionHistoryAnnotation] = string.Join(',', history);
            }
        }
        if (!exists && SetReplicasAnnotations(rs, Replicas(d), Replicas(d) + MaxSurge(d)))
        {
            changed = true;
        }
        return changed;
    }

    private static bool SetReplicasAnnotations(V1ReplicaSet rs, int desired, int max)
    {
        var annotations = rs.Metadata.Annotations ??= new Dictionary<string, string>();
        var d = desired.ToString(CultureInfo.InvariantCulture);
        var m = max.ToString(CultureInfo.InvariantCulture);
        var changed = false;
        if (!annotations.TryGetValue(DesiredReplicasAnnotation, out var od) || od != d)
        {
            annotations[DesiredReplicasAnnotation] = d;
            changed = true;
        }
        if (!annotations.TryGetValue(MaxReplicasAnnotation, out var om) || om != m)
        {
            annotations[MaxReplicasAnnotation] = m;
            changed = true;
        }
        return changed;
    }

    private static bool SetDeploymentRevision(V1Deployment d, string revision)
    {
        var annotations = d.Metadata.Annotations ??= new Dictionary<string, string>();
        if (annotations.TryGetValue(RevisionAnnotation, out var current) && current == revision)
        {
            return false;
        }
        annotations[RevisionAnnotation] = revision;
        return true;
    }

    /// <summary>scaleReplicaSetAndRecordEvent / scaleReplicaSet: spec.replicas and the replica annotations, one update.</summary>
    private async Task<(bool Scaled, V1ReplicaSet Rs)> ScaleReplicaSetAsync(V1ReplicaSet rs, int newScale, V1Deployment d, string? operation, CancellationToken cancellationToken)
    {
        var oldScale = Replicas(rs);
        var sizeNeedsUpdate = oldScale != newScale;
        operation ??= oldScale < newScale ? "up" : "down";
        var copy = JobLogic.DeepCopy(rs);
        var annotationsNeedUpdate = SetReplicasAnnotations(copy, Replicas(d), Replicas(d) + MaxSurge(d));
        if (!sizeNeedsUpdate && !annotationsNeedUpdate)
        {
            return (false, rs);
        }
        copy.Spec.Replicas = newScale;
        var updated = await client.AppsV1.ReplaceNamespacedReplicaSetAsync(copy, copy.Metadata.Name, copy.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (sizeNeedsUpdate)
        {
            recorder.Event(d, EventRecorder.Normal, "ScalingReplicaSet", $"Scaled {operation} replica set {rs.Metadata.Name} from {oldScale} to {newScale}");
        }
        return (sizeNeedsUpdate, updated);
    }

    private async Task<(bool Scaled, V1ReplicaSet Rs)> ScaleAndRecordAsync(V1ReplicaSet rs, int newScale, V1Deployment d, CancellationToken cancellationToken) =>
        Replicas(rs) == newScale ? (false, rs) : await ScaleReplicaSetAsync(rs, newScale, d, null, cancellationToken).ConfigureAwait(false);

    // ------------------------------------------------------------------ rollouts

    private async Task<TimeSpan?> RolloutRollingAsync(V1Deployment d, List<V1ReplicaSet> rsList, CancellationToken cancellationToken)
    {
        var (newRs, old) = await GetAllReplicaSetsAsync(d, rsList, create: true, cancellationToken).ConfigureAwait(false);
        var all = new List<V1ReplicaSet>(old) { newRs! };
        // reconcileNewReplicaSet
        var scaled = false;
        if (Replicas(newRs!) != Replicas(d))
        {
            var target = Replicas(newRs!) > Replicas(d) ? Replicas(d) : NewReplicaSetReplicas(d, all, newRs!);
            (scaled, var updated) = await ScaleAndRecordAsync(newRs!, target, d, cancellationToken).ConfigureAwait(false);
            all[^1] = newRs = updated;
        }
        if (scaled)
        {
            return await SyncRolloutStatusAsync(all, newRs, d, cancellationToken).ConfigureAwait(false);
        }
        if (await ReconcileOldReplicaSetsAsync(all, old, newRs!, d, cancellationToken).ConfigureAwait(false))
        {
            return await SyncRolloutStatusAsync(all, newRs, d, cancellationToken).ConfigureAwait(false);
        }
        if (DeploymentComplete(d, d.Status))
        {
            await CleanupAsync(old, d, cancellationToken).ConfigureAwait(false);
        }
        return await SyncRolloutStatusAsync(all, newRs, d, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>reconcileOldReplicaSets: scale old ReplicaSets down as far as maxUnavailable allows, unhealthy replicas first.</summary>
    private async Task<bool> ReconcileOldReplicaSetsAsync(List<V1ReplicaSet> all, List<V1ReplicaSet> old, V1ReplicaSet newRs, V1Deployment d, CancellationToken cancellationToken)
    {
        if (SumSpec(old) == 0)
        {
            return false;
        }
        var minAvailable = Replicas(d) - MaxUnavailable(d);
        var newUnavailable = Replicas(newRs) - (newRs.Status?.AvailableReplicas ?? 0);
        var maxScaledDown = SumSpec(all) - minAvailable - newUnavailable;
        if (maxScaledDown <= 0)
        {
            return false;
        }
        var total = 0;
        // cleanupUnhealthyReplicas
        for (var i = 0; i < old.Count; i++)
        {
            var rs = old[i];
            if (total >= maxScaledDown)
            {
                break;
            }
            var unhealthy = Replicas(rs) - (rs.Status?.AvailableReplicas ?? 0);
            if (Replicas(rs) == 0 || unhealthy <= 0)
            {
                continue;
            }
            var count = Math.Min(maxScaledDown - total, unhealthy);
            var (_, updated) = await ScaleAndRecordAsync(rs, Replicas(rs) - count, d, cancellationToken).ConfigureAwait(false);
            Replace(all, old, i, updated);
            total += count;
        }
        // scaleDownOldReplicaSetsForRollingUpdate
        var available = SumStatus(all, s => s.AvailableReplicas);
        if (available > minAvailable)
        {
            var toScaleDown = available - minAvailable;
            var scaledDown = 0;
            for (var i = 0; i < old.Count && scaledDown < toScaleDown; i++)
            {
                var rs = old[i];
                if (Replicas(rs) == 0)
                {
                    continue;
                }
                var count = Math.Min(Replicas(rs), toScaleDown - scaledDown);
                var (_, updated) = await ScaleAndRecordAsync(rs, Replicas(rs) - count, d, cancellationToken).ConfigureAwait(false);
                Replace(all, old, i, updated);
                scaledDown += count;
            }
            total += scaledDown;
        }
        return total > 0;
    }

    private static void Replace(List<V1ReplicaSet> all, List<V1ReplicaSet> old, int i, V1ReplicaSet updated)
    {
        all[all.IndexOf(old[i])] = updated;
        old[i] = updated;
    }

    private async Task<TimeSpan?> RolloutRecreateAsync(V1Deployment d, List<V1ReplicaSet> rsList, CancellationToken cancellationToken)
    {
        var (newRs, old) = await GetAllReplicaSetsAsync(d, rsList, create: false, cancellationToken).ConfigureAwait(false);
        var all = new List<V1ReplicaSet>(old);
        if (newRs is not null)
        {
            all.Add(newRs);
        }
        var scaledDown = false;
        for (var i = 0; i < old.Count; i++)
        {
            if (Replicas(old[i]) > 0)
            {
                var (scaled, updated) = await ScaleAndRecordAsync(old[i], 0, d, cancellationToken).ConfigureAwait(false);
                Replace(all, old, i, updated);
                scaledDown |= scaled;
            }
        }
        if (scaledDown || OldPodsRunning(newRs, old))
        {
            return await SyncRolloutStatusAsync(all, newRs, d, cancellationToken).ConfigureAwait(false);
        }
        if (newRs is null)
        {
            (newRs, old) = await GetAllReplicaSetsAsync(d, rsList, create: true, cancellationToken).ConfigureAwait(false);
            all = [.. old, newRs!];
        }
        if (Replicas(newRs!) != Replicas(d))
        {
            var (_, updated) = await ScaleReplicaSetAsync(newRs!, Replicas(d), d, "up", cancellationToken).ConfigureAwait(false);
            all[all.IndexOf(newRs!)] = newRs = updated;
        }
        if (DeploymentComplete(d, d.Status))
        {
            await CleanupAsync(old, d, cancellationToken).ConfigureAwait(false);
        }
        return await SyncRolloutStatusAsync(all, newRs, d, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>oldPodsRunning: an old ReplicaSet still reports replicas, or one of its pods has not finished.</summary>
    private bool OldPodsRunning(V1ReplicaSet? newRs, List<V1ReplicaSet> old)
    {
        if (SumStatus(old, s => s.Replicas) > 0)
        {
            return true;
        }
        var oldUids = old.Select(rs => rs.Metadata.Uid).ToHashSet();
        return pods.Items.Any(p => ControllerOf(p.Metadata) is { } owner && oldUids.Contains(owner.Uid) && owner.Uid != newRs?.Metadata.Uid
            && p.Status?.Phase is not ("Failed" or "Succeeded"));
    }

    /// <summary>sync: scaling (or a paused Deployment, or one being deleted) without rolling anything out.</summary>
    private async Task<TimeSpan?> SyncOnlyAsync(V1Deployment d, List<V1ReplicaSet> rsList, bool scale, CancellationToken cancellationToken)
    {
        var (newRs, old) = await GetAllReplicaSetsAsync(d, rsList, create: false, cancellationToken).ConfigureAwait(false);
        if (scale)
        {
            (newRs, old) = await ScaleAsync(d, newRs, old, cancellationToken).ConfigureAwait(false);
            if (d.Spec.Paused == true)
            {
                await CleanupAsync(old, d, cancellationToken).ConfigureAwait(false);
            }
        }
        var all = new List<V1ReplicaSet>(old);
        if (newRs is not null)
        {
            all.Add(newRs);
        }
        var status = CalculateStatus(all, newRs, d);
        if (!StatusEqual(d.Status, status))
        {
            d.Status = status;
            await UpdateStatusAsync(d, cancellationToken).ConfigureAwait(false);
        }
        return null;
    }

    private async Task<bool> IsScalingEventAsync(V1Deployment d, List<V1ReplicaSet> rsList, CancellationToken cancellationToken)
    {
        var (newRs, old) = await GetAllReplicaSetsAsync(d, rsList, create: false, cancellationToken).ConfigureAwait(false);
        var all = new List<V1ReplicaSet>(old);
        if (newRs is not null)
        {
            all.Add(newRs);
        }
        return all.Where(rs => Replicas(rs) > 0).Any(rs =>
            rs.Metadata.Annotations?.TryGetValue(DesiredReplicasAnnotation, out var v) == true
            && int.TryParse(v, CultureInfo.InvariantCulture, out var desired) && desired != Replicas(d));
    }

    /// <summary>scale: one active ReplicaSet takes it all; otherwise proportionally to each one's share.</summary>
    private async Task<(V1ReplicaSet? New, List<V1ReplicaSet> Old)> ScaleAsync(V1Deployment d, V1ReplicaSet? newRs, List<V1ReplicaSet> old, CancellationToken cancellationToken)
    {
        var all = new List<V1ReplicaSet>(old);
        if (newRs is not null)
        {
            all.Add(newRs);
        }
        var active = all.Where(rs => Replicas(rs) > 0).ToList();
        var target = active.Count == 1 ? active[0] : active.Count == 0 ? all.OrderByDescending(CreationTime).FirstOrDefault() : null;
        if (target is not null)
        {
            if (Replicas(target) != Replicas(d))
            {
                var (_, updated) = await ScaleAndRecordAsync(target, Replicas(d), d, cancellationToken).ConfigureAwait(false);
                return Swap(target, updated);
            }
            return (newRs, old);
        }
        if (newRs is not null && Replicas(newRs) == Replicas(d) && (newRs.Status?.AvailableReplicas ?? 0) == Replicas(d))
        {
            foreach (var rs in old.Where(rs => Replicas(rs) > 0).ToList())
            {
                var (_, updated) = await ScaleAndRecordAsync(rs, 0, d, cancellationToken).ConfigureAwait(false);
                (newRs, old) = Swap(rs, updated);
            }
            return (newRs, old);
        }
        if (!IsRollingUpdate(d))
        {
            return (newRs, old);
        }
        var allowed = Replicas(d) > 0 ? Replicas(d) + MaxSurge(d) : 0;
        var toAdd = allowed - SumSpec(active);
        var ordered = toAdd > 0
            ? active.OrderByDescending(Replicas).ThenByDescending(CreationTime).ToList()
            : active.OrderByDescending(Replicas).ThenBy(CreationTime).ToList();
        var added = 0;
        var sizes = new Dictionary<string, int>();
        foreach (var rs in ordered)
        {
            var proportion = 0;
            if (toAdd != 0 && toAdd != added)
            {
                var fraction = Replicas(d) == 0 ? -Replicas(rs) : ReplicaSetFraction(rs, d);
                var allowedLeft = toAdd - added;
                proportion = toAdd > 0 ? Math.Min(fraction, allowedLeft) : Math.Max(fraction, allowedLeft);
            }
            sizes[rs.Metadata.Name] = Replicas(rs) + proportion;
            added += proportion;
        }
        for (var i = 0; i < ordered.Count; i++)
        {
            var rs = ordered[i];
            if (i == 0 && toAdd != 0)
            {
                sizes[rs.Metadata.Name] = Math.Max(0, sizes[rs.Metadata.Name] + toAdd - added);
            }
            var (_, updated) = await ScaleReplicaSetAsync(rs, sizes[rs.Metadata.Name], d, toAdd > 0 ? "up" : "down", cancellationToken).ConfigureAwait(false);
            (newRs, old) = Swap(rs, updated);
        }
        return (newRs, old);

        (V1ReplicaSet? New, List<V1ReplicaSet> Old) Swap(V1ReplicaSet before, V1ReplicaSet after)
        {
            if (before == newRs)
            {
                return (after, old);
            }
            return (newRs, old.Select(rs => rs == before ? after : rs).ToList());
        }
    }

    /// <summary>getReplicaSetFraction: the ReplicaSet's share of the new size, from its max-replicas annotation.</summary>
    private static int ReplicaSetFraction(V1ReplicaSet rs, V1Deployment d)
    {
        var deploymentReplicas = Replicas(d) + MaxSurge(d);
        var annotated = rs.Metadata.Annotations?.TryGetValue(MaxReplicasAnnotation, out var v) == true && int.TryParse(v, CultureInfo.InvariantCulture, out var m)
            ? m
            : d.Status?.Replicas ?? 0;
        if (annotated == 0)
        {
            return 0;
        }
        var size = (double)Replicas(rs) * deploymentReplicas / annotated;
        return (int)Math.Round(size, MidpointRounding.AwayFromZero) - Replicas(rs);
    }

    /// <summary>cleanupDeployment: delete the oldest idle ReplicaSets beyond revisionHistoryLimit.</summary>
    private async Task CleanupAsync(List<V1ReplicaSet> old, V1Deployment d, CancellationToken cancellationToken)
    {
        if (d.Spec.RevisionHistoryLimit is not { } limit)
        {
            return;
        }
        var cleanable = old.Where(rs => rs.Metadata.DeletionTimestamp is null).ToList();
        var diff = cleanable.Count - limit;
        if (diff <= 0)
        {
            return;
        }
        foreach (var rs in cleanable.OrderBy(Revision).ThenBy(CreationTime).Take(diff))
        {
            if ((rs.Status?.Replicas ?? 0) != 0 || Replicas(rs) != 0 || rs.Metadata.Generation > (rs.Status?.ObservedGeneration ?? 0))
            {
                continue;
            }
            try
            {
                await client.AppsV1.DeleteNamespacedReplicaSetAsync(rs.Metadata.Name, rs.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
            }
        }
    }

    // ------------------------------------------------------------------ status and conditions

    private static bool HasProgressDeadline(V1Deployment d) => d.Spec.ProgressDeadlineSeconds is { } s && s != int.MaxValue;

    private static V1DeploymentCondition? Condition(V1DeploymentStatus? status, string type) => status?.Conditions?.FirstOrDefault(c => c.Type == type);

    private V1DeploymentCondition NewCondition(string type, string status, string reason, string message)
    {
        var now = EventRecorder.Truncate(time.GetUtcNow().UtcDateTime);
        return new V1DeploymentCondition { Type = type, Status = status, Reason = reason, Message = message, LastUpdateTime = now, LastTransitionTime = now };
    }

    /// <summary>deploymentutil.SetDeploymentCondition: no-op for the same status and reason; moves the condition last otherwise.</summary>
    private static void SetCondition(V1DeploymentStatus status, V1DeploymentCondition condition)
    {
        var current = Condition(status, condition.Type);
        if (current is not null && current.Status == condition.Status && current.Reason == condition.Reason)
        {
            return;
        }
        if (current is not null && current.Status == condition.Status)
        {
            condition.LastTransitionTime = current.LastTransitionTime;
        }
        RemoveCondition(status, condition.Type);
        status.Conditions ??= [];
        status.Conditions.Add(condition);
    }

    private static void RemoveCondition(V1DeploymentStatus status, string type)
    {
        if (status.Conditions is { } conditions)
        {
            status.Conditions = conditions.Where(c => c.Type != type).ToList();
        }
    }

    private V1DeploymentStatus CalculateStatus(List<V1ReplicaSet> all, V1ReplicaSet? newRs, V1Deployment d)
    {
        var available = SumStatus(all, s => s.AvailableReplicas);
        var status = new V1DeploymentStatus
        {
            ObservedGeneration = d.Metadata.Generation,
            Replicas = SumStatus(all, s => s.Replicas),
            UpdatedReplicas = newRs is null ? 0 : SumStatus([newRs], s => s.Replicas),
            ReadyReplicas = SumStatus(all, s => s.ReadyReplicas),
            AvailableReplicas = available,
            UnavailableReplicas = Math.Max(0, SumSpec(all) - available),
            CollisionCount = d.Status?.CollisionCount,
            Conditions = d.Status?.Conditions?.Select(JobLogic.DeepCopy).ToList(),
        };
        if (available >= Replicas(d) - MaxUnavailable(d))
        {
            SetCondition(status, NewCondition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."));
        }
        else
        {
            SetCondition(status, NewCondition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."));
        }
        return status;
    }

    private static bool DeploymentComplete(V1Deployment d, V1DeploymentStatus? s) =>
        s is not null && (s.UpdatedReplicas ?? 0) == Replicas(d) && (s.Replicas ?? 0) == Replicas(d) && (s.AvailableReplicas ?? 0) == Replicas(d)
        && (s.ObservedGeneration ?? 0) >= (d.Metadata.Generation ?? 0);

    private static bool DeploymentProgressing(V1Deployment d, V1DeploymentStatus s)
    {
        var old = d.Status ?? new V1DeploymentStatus();
        var oldOld = (old.Replicas ?? 0) - (old.UpdatedReplicas ?? 0);
        var newOld = (s.Replicas ?? 0) - (s.UpdatedReplicas ?? 0);
        return (s.UpdatedReplicas ?? 0) > (old.UpdatedReplicas ?? 0) || newOld < oldOld
            || (s.ReadyReplicas ?? 0) > (old.ReadyReplicas ?? 0) || (s.AvailableReplicas ?? 0) > (old.AvailableReplicas ?? 0);
    }

    private bool DeploymentTimedOut(V1Deployment d, V1DeploymentStatus s)
    {
        if (!HasProgressDeadline(d) || Condition(s, "Progressing") is not { } c)
        {
            return false;
        }
        if (c.Reason == "ProgressDeadlineExceeded")
        {
            return true;
        }
        if (c.Reason == "NewReplicaSetAvailable" || c.LastUpdateTime is not { } from)
        {
            return false;
        }
        return DateTime.SpecifyKind(from, DateTimeKind.Utc).AddSeconds(d.Spec.ProgressDeadlineSeconds!.Value) < time.GetUtcNow().UtcDateTime;
    }

    /// <summary>syncRolloutStatus: counters, Available, and Progressing as the progress deadline sees it.</summary>
    private async Task<TimeSpan?> SyncRolloutStatusAsync(List<V1ReplicaSet> all, V1ReplicaSet? newRs, V1Deployment d, CancellationToken cancellationToken)
    {
        var status = CalculateStatus(all, newRs, d);
        if (!HasProgressDeadline(d))
        {
            RemoveCondition(status, "Progressing");
        }
        var current = Condition(d.Status, "Progressing");
        var complete = status.Replicas == status.UpdatedReplicas && current?.Reason == "NewReplicaSetAvailable";
        if (HasProgressDeadline(d) && !complete)
        {
            var rsText = newRs is null ? $"Deployment \"{d.Metadata.Name}\"" : $"ReplicaSet \"{newRs.Metadata.Name}\"";
            if (DeploymentComplete(d, status))
            {
                SetCondition(status, NewCondition("Progressing", "True", "NewReplicaSetAvailable", $"{rsText} has successfully progressed."));
            }
            else if (DeploymentProgressing(d, status))
            {
                var condition = NewCondition("Progressing", "True", "ReplicaSetUpdated", $"{rsText} is progressing.");
                if (current is not null)
                {
                    if (current.Status == "True")
                    {
                        condition.LastTransitionTime = current.LastTransitionTime;
                    }
                    RemoveCondition(status, "Progressing");
                }
                SetCondition(status, condition);
            }
            else if (DeploymentTimedOut(d, status))
            {
                SetCondition(status, NewCondition("Progressing", "False", "ProgressDeadlineExceeded", $"{rsText} has timed out progressing."));
            }
        }
        var failure = all.Select(rs => rs.Status?.Conditions?.FirstOrDefault(c => c.Type == "ReplicaFailure" && c.Status == "True")).FirstOrDefault(c => c is not null);
        if (failure is not null)
        {
            SetCondition(status, new V1DeploymentCondition
            {
                Type = "ReplicaFailure",
                Status = failure.Status,
                Reason = failure.Reason,
                Message = failure.Message,
                LastTransitionTime = failure.LastTransitionTime,
                LastUpdateTime = failure.LastTransitionTime,
            });
        }
        else
        {
            RemoveCondition(status, "ReplicaFailure");
        }
        if (StatusEqual(d.Status, status))
        {
            return RequeueStuck(d, status);
        }
        d.Status = status;
        await UpdateStatusAsync(d, cancellationToken).ConfigureAwait(false);
        return RequeueStuck(d, status);
    }

    /// <summary>requeueStuckDeployment: look again when the progress deadline of an unfinished rollout passes.</summary>
    private TimeSpan? RequeueStuck(V1Deployment d, V1DeploymentStatus status)
    {
        var c = Condition(status, "Progressing");
        if (!HasProgressDeadline(d) || c is null || c.Reason is "NewReplicaSetAvailable" or "ProgressDeadlineExceeded" || DeploymentComplete(d, status) || c.LastUpdateTime is not { } from)
        {
            return null;
        }
        var after = DateTime.SpecifyKind(from, DateTimeKind.Utc).AddSeconds(d.Spec.ProgressDeadlineSeconds!.Value) - time.GetUtcNow().UtcDateTime;
        return after < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : after + TimeSpan.FromSeconds(1);
    }

    /// <summary>checkPausedConditions: Progressing Unknown while paused (DeploymentPaused) and once resumed (DeploymentResumed).</summary>
    private async Task CheckPausedConditionsAsync(V1Deployment d, CancellationToken cancellationToken)
    {
        if (!HasProgressDeadline(d))
        {
            return;
        }
        var c = Condition(d.Status, "Progressing");
        if (c?.Reason == "ProgressDeadlineExceeded")
        {
            return;
        }
        var pausedReason = c?.Reason == "DeploymentPaused";
        V1DeploymentCondition? update = null;
        if (d.Spec.Paused == true && !pausedReason)
        {
            update = NewCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused");
        }
        else if (d.Spec.Paused != true && pausedReason)
        {
            update = NewCondition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed");
        }
        if (update is null)
        {
            return;
        }
        SetCondition(d.Status ??= new V1DeploymentStatus(), update);
        await UpdateStatusAsync(d, cancellationToken).ConfigureAwait(false);
    }

    private static bool StatusEqual(V1DeploymentStatus? a, V1DeploymentStatus b) =>
        System.Text.Json.Nodes.JsonNode.DeepEquals(Canonical(Normalized(a ?? new V1DeploymentStatus())), Canonical(Normalized(b)));

    /// <summary>Zero counters are absent on the wire: compare them as absent.</summary>
    private static V1DeploymentStatus Normalized(V1DeploymentStatus s)
    {
        var c = JobLogic.DeepCopy(s);
        c.Replicas = c.Replicas is 0 ? null : c.Replicas;
        c.UpdatedReplicas = c.UpdatedReplicas is 0 ? null : c.UpdatedReplicas;
        c.ReadyReplicas = c.ReadyReplicas is 0 ? null : c.ReadyReplicas;
        c.AvailableReplicas = c.AvailableReplicas is 0 ? null : c.AvailableReplicas;
        c.UnavailableReplicas = c.UnavailableReplicas is 0 ? null : c.UnavailableReplicas;
        c.ObservedGeneration = c.ObservedGeneration is 0 ? null : c.ObservedGeneration;
        c.Conditions = c.Conditions is { Count: 0 } ? null : c.Conditions;
        return c;
    }

    /// <summary>UpdateStatus; the Deployment object takes the server's answer, so later writes in the same sync carry the new resourceVersion.</summary>
    private async Task UpdateStatusAsync(V1Deployment d, CancellationToken cancellationToken)
    {
        var updated = await client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(d, d.Metadata.Name, d.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
        d.Metadata = updated.Metadata;
        d.Status = updated.Status;
    }
}
