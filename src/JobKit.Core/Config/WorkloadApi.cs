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
