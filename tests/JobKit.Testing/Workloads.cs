using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Testing;

/// <summary>Waiting on Jobs and pods that a kubelet runs, and reading what they printed.</summary>
public static class Workloads
{
    /// <summary>How long a pod may take to be scheduled, started and finished by the kubelet.</summary>
    public static readonly TimeSpan PodTimeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<V1Job> WaitForJobAsync(this ClusterFixture cluster, string ns, string name, Func<V1Job, bool> done, string what, TimeSpan? timeout = null) =>
        cluster.WaitForAsync(
            () => cluster.Client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: Ct),
            done,
            timeout ?? PodTimeout,
            $"job {ns}/{name}: {what}",
            Ct);

    public static Task<V1Pod> WaitForPodAsync(this ClusterFixture cluster, string ns, string name, Func<V1Pod, bool> done, string what, TimeSpan? timeout = null) =>
        cluster.WaitForAsync(
            () => cluster.Client.CoreV1.ReadNamespacedPodAsync(name, ns, cancellationToken: Ct),
            done,
            timeout ?? PodTimeout,
            $"pod {ns}/{name}: {what}",
            Ct);

    public static Task<V1Pod> WaitForPodFinishedAsync(this ClusterFixture cluster, string ns, string name, TimeSpan? timeout = null) =>
        cluster.WaitForPodAsync(ns, name, p => p.Status?.Phase is "Succeeded" or "Failed", "phase Succeeded or Failed", timeout);

    /// <summary>The pods of a Job (label <c>batch.kubernetes.io/job-name</c>).</summary>
    public static async Task<IList<V1Pod>> JobPodsAsync(this ClusterFixture cluster, string ns, string job) =>
        (await cluster.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"batch.kubernetes.io/job-name={job}", cancellationToken: Ct)).Items;

    /// <summary>The container log through the API server (which asks the kubelet).</summary>
    public static async Task<string> ReadLogAsync(this ClusterFixture cluster, string ns, string pod, string? container = null, int? tailLines = null, bool? timestamps = null)
    {
        using var stream = await cluster.Client.CoreV1.ReadNamespacedPodLogAsync(pod, ns, container: container, tailLines: tailLines, timestamps: timestamps, cancellationToken: Ct);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync(Ct);
    }

    public static string[] Lines(string log) => log.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static V1ContainerStatus MainStatus(this V1Pod pod)
    {
        Assert.NotNull(pod.Status?.ContainerStatuses);
        return Assert.Single(pod.Status.ContainerStatuses, s => s.Name == "main");
    }
}
