using k8s;
using k8s.Models;
using JobKit.Core.Kube;

namespace JobKit.Sandbox.Controllers;

/// <summary>The informers the controllers share the shape of: every namespace, with watch bookmarks.</summary>
internal static class ClusterInformers
{
    public static Informer<V1Job> Jobs(IKubernetes client) => Informer<V1Job>.Create<V1JobList>((rv, w, ct) =>
        client.BatchV1.ListJobForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));

    public static Informer<V1CronJob> CronJobs(IKubernetes client) => Informer<V1CronJob>.Create<V1CronJobList>((rv, w, ct) =>
        client.BatchV1.ListCronJobForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));

    public static Informer<V1Pod> Pods(IKubernetes client) => Informer<V1Pod>.Create<V1PodList>((rv, w, ct) =>
        client.CoreV1.ListPodForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));
}
