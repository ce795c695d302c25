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

    public static Informer<V1Deployment> Deployments(IKubernetes client) => Informer<V1Deployment>.Create<V1DeploymentList>((rv, w, ct) =>
        client.AppsV1.ListDeploymentForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));

    public static Informer<V1ReplicaSet> ReplicaSets(IKubernetes client) => Informer<V1ReplicaSet>.Create<V1ReplicaSetList>((rv, w, ct) =>
        client.AppsV1.ListReplicaSetForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));

    public static Informer<V1StatefulSet> StatefulSets(IKubernetes client) => Informer<V1StatefulSet>.Create<V1StatefulSetList>((rv, w, ct) =>
        client.AppsV1.ListStatefulSetForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));

    public static Informer<V1DaemonSet> DaemonSets(IKubernetes client) => Informer<V1DaemonSet>.Create<V1DaemonSetList>((rv, w, ct) =>
        client.AppsV1.ListDaemonSetForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));

    public static Informer<V1Node> Nodes(IKubernetes client) => Informer<V1Node>.Create<V1NodeList>((rv, w, ct) =>
        client.CoreV1.ListNodeWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));
}
