using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>
/// The status subresource: writes to /status ignore spec, writes to the main resource ignore status. (Metadata such as labels is
/// writable through both on the real API server's built-in types, so the tests change labels only through the main resource.)
/// </summary>
public sealed class StatusSubresourceContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    /// <summary>A pod no node will ever run (nodeSelector matches nothing): only the scheduler may touch its status.</summary>
    private Task<V1Pod> CreateParkedPodAsync(string ns) =>
        Client.CoreV1.CreateNamespacedPodAsync(
            Objects.Pod("parked", "sleep 3600", s => s.NodeSelector = new Dictionary<string, string> { ["jobkit.test/no-such-node"] = "true" }),
            ns,
            cancellationToken: Ct);

    [Fact]
    public async Task Put_to_status_keeps_the_spec_but_takes_label_changes()
    {
        // The status strategies reset only the spec (pkg/registry/core/pod/strategy.go podStatusStrategy.PrepareForUpdate).
        await using var ns = await cluster.CreateNamespaceAsync("status-labels", Ct);
        await CreateParkedPodAsync(ns);

        var result = await ApiAssert.RetryOnConflictAsync(async () =>
        {
            var pod = await Client.CoreV1.ReadNamespacedPodAsync("parked", ns, cancellationToken: Ct);
            pod.Metadata.Labels ??= new Dictionary<string, string>();
            pod.Metadata.Labels["jobkit.test/through"] = "status";
            pod.Spec.ActiveDeadlineSeconds = 42;
            return await Client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, "parked", ns, cancellationToken: Ct);
        });

        Assert.Equal("status", result.Metadata.Labels["jobkit.test/through"]);
        Assert.Null(result.Spec.ActiveDeadlineSeconds);
    }

    [Fact]
    public async Task Put_to_status_changes_only_status()
    {
        await using var ns = await cluster.CreateNamespaceAsync("status-put", Ct);
        await CreateParkedPodAsync(ns);

        var result = await ApiAssert.RetryOnConflictAsync(async () =>
        {
            var pod = await Client.CoreV1.ReadNamespacedPodAsync("parked", ns, cancellationToken: Ct);
            pod.Status.Message = "written through /status";
            pod.Spec.ActiveDeadlineSeconds = 42;
            return await Client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, "parked", ns, cancellationToken: Ct);
        });

        Assert.Equal("written through /status", result.Status.Message);
        Assert.Null(result.Spec.ActiveDeadlineSeconds);
        var read = await Client.CoreV1.ReadNamespacedPodAsync("parked", ns, cancellationToken: Ct);
        Assert.Equal(result.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Equal("written through /status", read.Status.Message);
    }

    [Fact]
    public async Task Put_to_main_resource_ignores_status()
    {
        await using var ns = await cluster.CreateNamespaceAsync("status-main", Ct);
        await CreateParkedPodAsync(ns);

        var result = await ApiAssert.RetryOnConflictAsync(async () =>
        {
            var pod = await Client.CoreV1.ReadNamespacedPodAsync("parked", ns, cancellationToken: Ct);
            pod.Status.Message = "must be ignored";
            pod.Status.Phase = "Running";
            pod.Metadata.Labels = new Dictionary<string, string> { ["changed"] = "through-main" };
            return await Client.CoreV1.ReplaceNamespacedPodAsync(pod, "parked", ns, cancellationToken: Ct);
        });

        Assert.Equal("through-main", result.Metadata.Labels["changed"]);
        Assert.Null(result.Status.Message);
        Assert.Equal("Pending", result.Status.Phase);
    }

    [Fact]
    public async Task Patch_to_job_status_ignores_spec_and_keeps_generation()
    {
        await using var ns = await cluster.CreateNamespaceAsync("status-job", Ct);
        var created = await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("suspended", "true", s => s.Suspend = true), ns, cancellationToken: Ct);

        var viaMain = await Client.BatchV1.PatchNamespacedJobAsync(new V1Patch("""{"metadata":{"labels":{"via":"main"}},"status":{"active":5}}""", V1Patch.PatchType.MergePatch), "suspended", ns, cancellationToken: Ct);
        Assert.Equal("main", viaMain.Metadata.Labels["via"]);
        Assert.NotEqual(5, viaMain.Status?.Active);

        var viaStatus = await Client.BatchV1.PatchNamespacedJobStatusAsync(new V1Patch("""{"spec":{"parallelism":3},"status":{"ready":0}}""", V1Patch.PatchType.MergePatch), "suspended", ns, cancellationToken: Ct);
        Assert.Equal("main", viaStatus.Metadata.Labels["via"]);
        Assert.Equal(0, viaStatus.Status.Ready);
        Assert.Equal(1, viaStatus.Spec.Parallelism);
        Assert.Equal(created.Metadata.Generation, viaStatus.Metadata.Generation);
    }
}
