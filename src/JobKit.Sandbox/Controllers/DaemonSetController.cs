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
/// A DaemonSet controller after kube-controller-manager's (pkg/controller/daemon), simpler but faithful in what it
/// does: one pod per node that the template's nodeSelector selects and whose NoSchedule/NoExecute taints it
/// tolerates, pinned with the node affinity <c>matchFields metadata.name In [node]</c> and the daemon tolerations;
/// labels <c>controller-revision-hash</c> and <c>pod-template-generation</c>; RollingUpdate (maxUnavailable, no
/// surge) or OnDelete; status counters. No ControllerRevision objects are written.
/// </summary>
public sealed class DaemonSetController
{
    private const int Workers = 2;

    private readonly IKubernetes client;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly EventRecorder recorder;
    private readonly ControllerLoop loop;
    private readonly Informer<V1DaemonSet> sets;
    private readonly Informer<V1Pod> pods;
    private readonly Informer<V1Node> nodes;

    public DaemonSetController(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.time = time;
        logger = loggerFactory.CreateLogger<DaemonSetController>();
        recorder = new EventRecorder(client, "daemonset-controller", time, logger);
        loop = new ControllerLoop(
            time,
            Workers,
            baseDelay: TimeSpan.FromMilliseconds(5),
            maxDelay: TimeSpan.FromSeconds(30),
            SyncAsync,
            syncFailed: (key, e) => logger.LogWarning("syncing daemonset {Key}: {Error}", key, e.Message),
            cachesSynced: _ => logger.LogInformation("DaemonSet controller caches synced"));
        loop.RunAlongside(recorder.RunAsync);
        sets = loop.Watch(ClusterInformers.DaemonSets(client), (_, s, _) => Enqueue(Key(s)));
        pods = loop.Watch(ClusterInformers.Pods(client), (_, p, _) =>
            ControllerOf(p.Metadata) is { Kind: "DaemonSet" } owner ? Enqueue($"{p.Metadata.NamespaceProperty}/{owner.Name}") : Task.CompletedTask);
        nodes = loop.Watch(ClusterInformers.Nodes(client), (_, _, _) =>
        {
            foreach (var s in sets.Items)
            {
                loop.Queue?.Add(Key(s));
            }
            return Task.CompletedTask;
        });
    }

    public Task RunAsync(CancellationToken cancellationToken) => loop.RunAsync(cancellationToken);

    private Task Enqueue(string key)
    {
        loop.Queue?.Add(key);
        return Task.CompletedTask;
    }

    private static readonly V1Toleration[] DaemonTolerations =
    [
        new() { Key = "node.kubernetes.io/not-ready", OperatorProperty = "Exists", Effect = "NoExecute" },
        new() { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute" },
        new() { Key = "node.kubernetes.io/disk-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/memory-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/pid-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/unschedulable", OperatorProperty = "Exists", Effect = "NoSchedule" },
    ];

    private static string? HashOf(V1Pod pod) => pod.Metadata.Labels?.TryGetValue("controller-revision-hash", out var h) == true ? h : null;

    private static string? NodeOf(V1Pod pod) =>
        pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms?
            .SelectMany(t => t.MatchFields ?? []).FirstOrDefault(f => f.Key == "metadata.name")?.Values?.FirstOrDefault()
        ?? pod.Spec?.NodeName;

    /// <summary>nodeShouldRunDaemonPod: the template's nodeSelector matches and every NoSchedule/NoExecute taint is tolerated.</summary>
    private static bool ShouldRun(V1DaemonSet set, V1Node node)
    {
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        if ((set.Spec.Template.Spec.NodeSelector ?? new Dictionary<string, string>()).Any(kv => !labels.TryGetValue(kv.Key, out var v) || v != kv.Value))
        {
            return false;
        }
        var tolerations = (set.Spec.Template.Spec.Tolerations ?? []).Concat(DaemonTolerations).ToList();
        return (node.Spec?.Taints ?? []).Where(t => t.Effect is "NoSchedule" or "NoExecute").All(t => tolerations.Any(tol =>
            (string.IsNullOrEmpty(tol.Effect) || tol.Effect == t.Effect)
            && (tol.OperatorProperty == "Exists" ? string.IsNullOrEmpty(tol.Key) || tol.Key == t.Key : tol.Key == t.Key && (tol.Value ?? "") == (t.Value ?? ""))));
    }

    private async Task<TimeSpan?> SyncAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(key);
        if (sets.Get(ns, name) is not { } cached)
        {
            return null;
        }
        var set = JobLogic.DeepCopy(cached);
        var hash = ComputeHash(set.Spec.Template, set.Status?.CollisionCount ?? 0);
        var templateGeneration = set.Metadata.Annotations?.TryGetValue("deprecated.daemonset.template.generation", out var g) == true ? g : "1";
        var wanted = nodes.Items.Where(n => ShouldRun(set, n)).Select(n => n.Metadata.Name).ToHashSet();
        var owned = pods.Items.Where(p => p.Metadata.NamespaceProperty == ns && ControllerOf(p.Metadata)?.Uid == set.Metadata.Uid).ToList();
        if (set.Metadata.DeletionTimestamp is null)
        {
            var byNode = owned.Where(p => p.Metadata.DeletionTimestamp is null).GroupBy(p => NodeOf(p) ?? "").ToDictionary(x => x.Key, x => x.ToList());
            foreach (var node in wanted.Where(n => !byNode.ContainsKey(n)))
            {
                await CreatePodAsync(set, node, hash, templateGeneration, cancellationToken).ConfigureAwait(false);
            }
            foreach (var (node, list) in byNode)
            {
                // Failed daemon pods are replaced; duplicates and pods on nodes that should not run one go.
                var excess = wanted.Contains(node) ? list.Where(p => p.Status?.Phase == "Failed").Concat(list.Where(p => p.Status?.Phase != "Failed").Skip(1)) : list;
                foreach (var pod in excess)
                {
                    await DeletePodAsync(set, pod, cancellationToken).ConfigureAwait(false);
                }
            }
            if (set.Spec.UpdateStrategy?.Type != "OnDelete")
            {
                await RollingUpdateAsync(set, owned, wanted, hash, cancellationToken).ConfigureAwait(false);
            }
        }
        owned = pods.Items.Where(p => p.Metadata.NamespaceProperty == ns && ControllerOf(p.Metadata)?.Uid == set.Metadata.Uid && p.Metadata.DeletionTimestamp is null).ToList();
        await UpdateStatusAsync(set, owned, wanted, hash, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>rollingUpdate without surge: old pods are deleted while no more than maxUnavailable daemon pods are unavailable.</summary>
    private async Task RollingUpdateAsync(V1DaemonSet set, List<V1Pod> owned, HashSet<string> wanted, string hash, CancellationToken cancellationToken)
    {
        var maxUnavailable = Math.Max(1, Scaled(set.Spec.UpdateStrategy?.RollingUpdate?.MaxUnavailable ?? (IntOrString)1, wanted.Count, roundUp: true));
        var now = time.GetUtcNow();
        var minReady = set.Spec.MinReadySeconds ?? 0;
        var live = owned.Where(p => wanted.Contains(NodeOf(p) ?? "")).ToList();
        var unavailable = wanted.Count(n => !live.Any(p => NodeOf(p) == n && p.Metadata.DeletionTimestamp is null && IsAvailable(p, minReady, now)));
        foreach (var old in live.Where(p => p.Metadata.DeletionTimestamp is null && HashOf(p) != hash)
                     .OrderBy(p => IsAvailable(p, minReady, now)))
        {
            var wasAvailable = IsAvailable(old, minReady, now);
            if (wasAvailable && unavailable >= maxUnavailable)
            {
                break;
            }
            await DeletePodAsync(set, old, cancellationToken).ConfigureAwait(false);
            if (wasAvailable)
            {
                unavailable++;
            }
        }
    }

    private async Task CreatePodAsync(V1DaemonSet set, string node, string hash, string templateGeneration, CancellationToken cancellationToken)
    {
        var pod = PodFromTemplate(set.Spec.Template, set, ControllerRef(set, "apps/v1", "DaemonSet"));
        pod.Metadata.Labels = new Dictionary<string, string>(pod.Metadata.Labels ?? new Dictionary<string, string>())
        {
            ["controller-revision-hash"] = hash,
            ["pod-template-generation"] = templateGeneration,
        };
        pod.Spec.Affinity ??= new V1Affinity();
        pod.Spec.Affinity.NodeAffinity = new V1NodeAffinity
        {
            RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
            {
                NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = [node] }] }],
            },
        };
        var tolerations = pod.Spec.Tolerations?.ToList() ?? [];
        tolerations.AddRange(DaemonTolerations.Where(d => !tolerations.Any(t => t.Key == d.Key && t.Effect == d.Effect)));
        pod.Spec.Tolerations = tolerations;
        try
        {
            var created = await client.CoreV1.CreateNamespacedPodAsync(pod, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            recorder.Event(set, EventRecorder.Normal, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}");
        }
        catch (HttpOperationException e) when (e.Response.Content?.Contains("NamespaceTerminating", StringComparison.Ordinal) == true)
        {
        }
        catch (HttpOperationException e)
        {
            recorder.Event(set, EventRecorder.Warning, "FailedCreate", $"Error creating: {JobController.ErrorText(e)}");
            throw;
        }
    }

    private async Task DeletePodAsync(V1DaemonSet set, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            recorder.Event(set, EventRecorder.Normal, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    private async Task UpdateStatusAsync(V1DaemonSet set, List<V1Pod> live, HashSet<string> wanted, string hash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minReady = set.Spec.MinReadySeconds ?? 0;
        var scheduled = live.Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName)).ToList();
        var onWanted = scheduled.Where(p => wanted.Contains(p.Spec.NodeName)).ToList();
        var available = onWanted.Count(p => IsAvailable(p, minReady, now));
        var status = new V1DaemonSetStatus
        {
            ObservedGeneration = set.Metadata.Generation,
            DesiredNumberScheduled = wanted.Count,
            CurrentNumberScheduled = onWanted.Select(p => p.Spec.NodeName).Distinct().Count(),
            NumberMisscheduled = scheduled.Count(p => !wanted.Contains(p.Spec.NodeName)),
            NumberReady = onWanted.Count(IsReady),
            NumberAvailable = available,
            NumberUnavailable = Math.Max(0, wanted.Count - available),
            UpdatedNumberScheduled = onWanted.Count(p => HashOf(p) == hash),
            CollisionCount = set.Status?.CollisionCount,
            Conditions = set.Status?.Conditions,
        };
        if (System.Text.Json.Nodes.JsonNode.DeepEquals(Canonical(set.Status), Canonical(status)))
        {
            return;
        }
        set.Status = status;
        await client.AppsV1.ReplaceNamespacedDaemonSetStatusAsync(set, set.Metadata.Name, set.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
