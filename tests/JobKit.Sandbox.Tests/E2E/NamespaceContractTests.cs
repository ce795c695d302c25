using k8s;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>What a new namespace carries and gets from the controllers.</summary>
public sealed class NamespaceContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    [Fact]
    public async Task New_namespace_is_Active_with_kubernetes_finalizer_and_name_label()
    {
        await using var ns = await cluster.CreateNamespaceAsync("ns-defaults", Ct);

        var read = await Client.CoreV1.ReadNamespaceAsync(ns, cancellationToken: Ct);

        Assert.Equal("Active", read.Status.Phase);
        Assert.Equal(["kubernetes"], read.Spec.Finalizers);
        Assert.Equal(ns.Name, read.Metadata.Labels["kubernetes.io/metadata.name"]);
        Assert.Equal("true", read.Metadata.Labels["jobkit.test/e2e"]);
    }

    [Fact]
    public async Task New_namespace_gets_default_ServiceAccount_and_kube_root_ca_ConfigMap()
    {
        await using var ns = await cluster.CreateNamespaceAsync("ns-content", Ct);

        var sa = await cluster.WaitForAsync(
            () => ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespacedServiceAccountAsync("default", ns, cancellationToken: Ct)),
            s => s is not null,
            TimeSpan.FromSeconds(30),
            $"ServiceAccount {ns}/default",
            Ct);
        Assert.Equal("default", sa!.Metadata.Name);

        var ca = await cluster.WaitForAsync(
            () => ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("kube-root-ca.crt", ns, cancellationToken: Ct)),
            c => c is not null,
            TimeSpan.FromSeconds(30),
            $"ConfigMap {ns}/kube-root-ca.crt",
            Ct);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", ca!.Data["ca.crt"], StringComparison.Ordinal);
    }
}
