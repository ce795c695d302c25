using k8s;
using k8s.Models;

namespace JobKit.Core.Config;

/// <summary>Read and replace the workload kinds <see cref="WorkloadReference"/> names, one typed call per kind.</summary>
internal static class WorkloadApi
{
    public static async Task<IKubernetesObject<V1ObjectMeta>> ReadAsync(IKubernetes client, string ns, WorkloadReference workload, CancellationToken ct) => workload.Kind switch
    {
        WorkloadKind.Deployment => await client.AppsV1.ReadNamespacedDeploymentAsync(workload.Name, ns, cancellationToken: ct).ConfigureAwait(false),
        WorkloadKind.StatefulSet => await client.AppsV1.ReadNamespacedStatefulSetAsync(workload.Name, ns, cancellationToken: ct).ConfigureAwait(false),
        WorkloadKind.DaemonSet => await client.AppsV1.ReadNamespacedDaemonSetAsync(workload.Name, ns, cancellationToken: ct).ConfigureAwait(false),
        WorkloadKind.CronJob => await client.BatchV1.ReadNamespacedCronJobAsync(workload.Name, ns, cancellationToken: ct).ConfigureAwait(false),
        WorkloadKind.Job => await client.BatchV1.ReadNamespacedJobAsync(workload.Name, ns, cancellationToken: ct).ConfigureAwait(false),
        _ => throw new InvalidOperationException($"unknown kind {workload.Kind}"),
    };

    /// <summary>
    /// Reads <paramref name="targets"/>: one GET each, or one LIST per kind when several of a kind are named (100
    /// Deployments cost one request, not 100). Null for a workload that does not exist.
    /// </summary>
    public static async Task<IReadOnlyList<IKubernetesObject<V1ObjectMeta>?>> ReadAllAsync(IKubernetes client, string ns, IReadOnlyList<WorkloadReference> targets, CancellationToken ct)
    {
        const int ListFrom = 3;
        var listed = new Dictionary<WorkloadKind, Dictionary<string, IKubernetesObject<V1ObjectMeta>>>();
        foreach (var kind in targets.GroupBy(t => t.Kind).Where(g => g.Count() >= ListFrom).Select(g => g.Key))
        {
            listed[kind] = (await ListAsync(client, ns, kind, ct).ConfigureAwait(false)).ToDictionary(o => o.Metadata.Name);
        }
        return await Task.WhenAll(targets.Select(async target =>
        {
            if (listed.TryGetValue(target.Kind, out var byName))
            {
                return byName.GetValueOrDefault(target.Name);
            }
            try
            {
                return await ReadAsync(client, ns, target, ct).ConfigureAwait(false);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return null;
            }
        })).ConfigureAwait(false);
    }

    /// <summary>A LIST's items lack apiVersion and kind, which a PUT body must carry: they are set here.</summary>
    private static async Task<IEnumerable<IKubernetesObject<V1ObjectMeta>>> ListAsync(IKubernetes client, string ns, WorkloadKind kind, CancellationToken ct)
    {
        static IEnumerable<IKubernetesObject<V1ObjectMeta>> Typed<T>(IEnumerable<T> items, string apiVersion, string kind)
            where T : IKubernetesObject<V1ObjectMeta>
        {
            foreach (var item in items)
            {
                item.ApiVersion = apiVersion;
                item.Kind = kind;
                yield return item;
            }
        }
        return kind switch
        {
            WorkloadKind.Deployment => Typed((await client.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: ct).ConfigureAwait(false)).Items, "apps/v1", "Deployment").ToList(),
            WorkloadKind.StatefulSet => Typed((await client.AppsV1.ListNamespacedStatefulSetAsync(ns, cancellationToken: ct).ConfigureAwait(false)).Items, "apps/v1", "StatefulSet").ToList(),
            WorkloadKind.DaemonSet => Typed((await client.AppsV1.ListNamespacedDaemonSetAsync(ns, cancellationToken: ct).ConfigureAwait(false)).Items, "apps/v1", "DaemonSet").ToList(),
            WorkloadKind.CronJob => Typed((await client.BatchV1.ListNamespacedCronJobAsync(ns, cancellationToken: ct).ConfigureAwait(false)).Items, "batch/v1", "CronJob").ToList(),
            WorkloadKind.Job => Typed((await client.BatchV1.ListNamespacedJobAsync(ns, cancellationToken: ct).ConfigureAwait(false)).Items, "batch/v1", "Job").ToList(),
            _ => throw new InvalidOperationException($"unknown kind {kind}"),
        };
    }

    /// <summary>PUT with the object's resourceVersion: a 409 Conflict means someone changed it since it was read.</summary>
    public static async Task<IKubernetesObject<V1ObjectMeta>> ReplaceAsync(IKubernetes client, IKubernetesObject<V1ObjectMeta> workload, string? dryRun, CancellationToken ct)
    {
        var (name, ns) = (workload.Metadata.Name, workload.Metadata.NamespaceProperty);
        return workload switch
        {
            V1Deployment d => await client.AppsV1.ReplaceNamespacedDeploymentAsync(d, name, ns, dryRun: dryRun, cancellationToken: ct).ConfigureAwait(false),
            V1StatefulSet s => await client.AppsV1.ReplaceNamespacedStatefulSetAsync(s, name, ns, dryRun: dryRun, cancellationToken: ct).ConfigureAwait(false),
            V1DaemonSet d => await client.AppsV1.ReplaceNamespacedDaemonSetAsync(d, name, ns, dryRun: dryRun, cancellationToken: ct).ConfigureAwait(false),
            V1CronJob c => await client.BatchV1.ReplaceNamespacedCronJobAsync(c, name, ns, dryRun: dryRun, cancellationToken: ct).ConfigureAwait(false),
            V1Job j => await client.BatchV1.ReplaceNamespacedJobAsync(j, name, ns, dryRun: dryRun, cancellationToken: ct).ConfigureAwait(false),
            _ => throw new InvalidOperationException($"cannot replace a {workload.GetType().Name}"),
        };
    }

    /// <summary>
    /// Every pod spec in <paramref name="ns"/> that may still start or run pods, so a version it reads must stay: live Pods
    /// (not finished, not being deleted), ReplicaSets that still have or want pods (a Deployment's scaled-down revisions do
    /// not count), unfinished Jobs, and every Deployment, StatefulSet, DaemonSet, CronJob, ReplicationController and PodTemplate.
    /// </summary>
    public static async Task<List<(string What, object Workload)>> ListLiveAsync(IKubernetes client, string ns, CancellationToken ct)
    {
        var pods = client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: ct);
        var replicaSets = client.AppsV1.ListNamespacedReplicaSetAsync(ns, cancellationToken: ct);
        var deployments = client.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: ct);
        var statefulSets = client.AppsV1.ListNamespacedStatefulSetAsync(ns, cancellationToken: ct);
        var daemonSets = client.AppsV1.ListNamespacedDaemonSetAsync(ns, cancellationToken: ct);
        var jobs = client.BatchV1.ListNamespacedJobAsync(ns, cancellationToken: ct);
        var cronJobs = client.BatchV1.ListNamespacedCronJobAsync(ns, cancellationToken: ct);
        // Not every server serves these two (the sandbox does not): a 404 means there are none.
        var controllers = OrEmptyAsync(client.CoreV1.ListNamespacedReplicationControllerAsync(ns, cancellationToken: ct), l => l.Items);
        var templates = OrEmptyAsync(client.CoreV1.ListNamespacedPodTemplateAsync(ns, cancellationToken: ct), l => l.Items);
        await Task.WhenAll(pods, replicaSets, deployments, statefulSets, daemonSets, jobs, cronJobs, controllers, templates).ConfigureAwait(false);
        var live = new List<(string, object)>();
        live.AddRange((await pods.ConfigureAwait(false)).Items
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.Phase is not ("Succeeded" or "Failed"))
            .Select(p => ($"pod/{p.Metadata.Name}", (object)p)));
        live.AddRange((await replicaSets.ConfigureAwait(false)).Items
            .Where(r => (r.Spec?.Replicas ?? 1) > 0 || (r.Status?.Replicas ?? 0) > 0)
            .Select(r => ($"replicaset.apps/{r.Metadata.Name}", (object)r)));
        live.AddRange((await deployments.ConfigureAwait(false)).Items.Select(d => ($"deployment.apps/{d.Metadata.Name}", (object)d)));
        live.AddRange((await statefulSets.ConfigureAwait(false)).Items.Select(s => ($"statefulset.apps/{s.Metadata.Name}", (object)s)));
        live.AddRange((await daemonSets.ConfigureAwait(false)).Items.Select(d => ($"daemonset.apps/{d.Metadata.Name}", (object)d)));
        live.AddRange((await jobs.ConfigureAwait(false)).Items
            .Where(j => j.Status?.Conditions?.Any(c => c.Type is "Complete" or "Failed" && c.Status == "True") != true)
            .Select(j => ($"job.batch/{j.Metadata.Name}", (object)j)));
        live.AddRange((await cronJobs.ConfigureAwait(false)).Items.Select(c => ($"cronjob.batch/{c.Metadata.Name}", (object)c)));
        live.AddRange((await controllers.ConfigureAwait(false)).Select(c => ($"replicationcontroller/{c.Metadata.Name}", (object)c)));
        live.AddRange((await templates.ConfigureAwait(false)).Select(t => ($"podtemplate/{t.Metadata.Name}", (object)t)));
        return live;
    }

    private static async Task<IList<T>> OrEmptyAsync<TList, T>(Task<TList> list, Func<TList, IList<T>> items)
    {
        try
        {
            return items(await list.ConfigureAwait(false));
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }
    }
}
