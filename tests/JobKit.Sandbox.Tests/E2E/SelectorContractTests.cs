using System.Net;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>labelSelector (equality- and set-based) and fieldSelector on LIST.</summary>
public sealed class SelectorContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    /// <summary>web (tier=web, env=prod), db (tier=db, env=prod), batch (tier=batch), plain (no labels), in a fresh namespace.</summary>
    private async Task<TestNamespace> SeedAsync(string name)
    {
        var ns = await cluster.CreateNamespaceAsync(name, Ct);
        var objects = new (string Name, Dictionary<string, string>? Labels)[]
        {
            ("web", new() { ["tier"] = "web", ["env"] = "prod" }),
            ("db", new() { ["tier"] = "db", ["env"] = "prod" }),
            ("batch", new() { ["tier"] = "batch" }),
            ("plain", null),
        };
        foreach (var (objectName, labels) in objects)
        {
            await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap(objectName, labels: labels), ns, cancellationToken: Ct);
        }
        return ns;
    }

    private async Task<string[]> NamesAsync(string ns, string? labelSelector = null, string? fieldSelector = null)
    {
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: labelSelector, fieldSelector: fieldSelector, cancellationToken: Ct);
        return list.Items.Select(c => c.Metadata.Name).Where(n => n != "kube-root-ca.crt").Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task Label_selector_equality_and_inequality()
    {
        await using var ns = await SeedAsync("sel-eq");

        Assert.Equal(["web"], await NamesAsync(ns, "tier=web"));
        Assert.Equal(["web"], await NamesAsync(ns, "tier==web"));
        Assert.Equal(["batch", "db", "plain"], await NamesAsync(ns, "tier!=web"));
        Assert.Equal(["db", "web"], await NamesAsync(ns, "env=prod"));
        Assert.Equal(["db"], await NamesAsync(ns, "env=prod,tier!=web"));
        Assert.Empty(await NamesAsync(ns, "tier=nothing"));
    }

    [Fact]
    public async Task Label_selector_set_based_in_notin_exists_and_not_exists()
    {
        await using var ns = await SeedAsync("sel-set");

        Assert.Equal(["db", "web"], await NamesAsync(ns, "tier in (web,db)"));
        Assert.Equal(["batch", "plain"], await NamesAsync(ns, "tier notin (web,db)"));
        Assert.Equal(["batch", "db", "web"], await NamesAsync(ns, "tier"));
        Assert.Equal(["plain"], await NamesAsync(ns, "!tier"));
        Assert.Equal(["batch"], await NamesAsync(ns, "tier,!env"));
        Assert.Equal(["db"], await NamesAsync(ns, "tier in (db, batch),env"));
    }

    [Fact]
    public async Task Malformed_label_selector_returns_400_BadRequest()
    {
        await using var ns = await cluster.CreateNamespaceAsync("sel-bad", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.BadRequest, () => Client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: "tier in web", cancellationToken: Ct));

        Assert.Equal("BadRequest", status.Reason);
    }

    [Fact]
    public async Task Field_selector_metadata_name_and_namespace()
    {
        await using var ns = await SeedAsync("sel-field");
        await using var other = await SeedAsync("sel-field-other");

        Assert.Equal(["db"], await NamesAsync(ns, fieldSelector: "metadata.name=db"));
        Assert.Equal(["batch", "plain", "web"], await NamesAsync(ns, fieldSelector: "metadata.name!=db"));
        Assert.Equal(["web"], await NamesAsync(ns, labelSelector: "env=prod", fieldSelector: "metadata.name!=db"));

        var everywhere = await Client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: $"metadata.namespace={ns.Name},metadata.name=web", cancellationToken: Ct);
        var web = Assert.Single(everywhere.Items);
        Assert.Equal(ns.Name, web.Metadata.NamespaceProperty);
        var bothWebs = await Client.CoreV1.ListConfigMapForAllNamespacesAsync(labelSelector: "tier=web", fieldSelector: "metadata.name=web", cancellationToken: Ct);
        Assert.Contains(bothWebs.Items, c => c.Metadata.NamespaceProperty == ns.Name);
        Assert.Contains(bothWebs.Items, c => c.Metadata.NamespaceProperty == other.Name);
    }

    [Fact]
    public async Task Unknown_field_selector_returns_400_BadRequest()
    {
        await using var ns = await cluster.CreateNamespaceAsync("sel-field-bad", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.BadRequest, () => Client.CoreV1.ListNamespacedConfigMapAsync(ns, fieldSelector: "data.key=x", cancellationToken: Ct));

        Assert.Equal("BadRequest", status.Reason);
        Assert.Equal("\"data.key\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"", status.Message);
    }

    [Fact]
    public async Task Field_selector_status_phase_and_spec_nodeName_for_pods()
    {
        await using var ns = await cluster.CreateNamespaceAsync("sel-phase", Ct);
        // A nodeSelector no node matches: the pod stays Pending and unbound wherever it runs.
        await Client.CoreV1.CreateNamespacedPodAsync(
            Objects.Pod("waiting", "sleep 3600", s => s.NodeSelector = new Dictionary<string, string> { ["jobkit.test/no-such-node"] = "true" }),
            ns,
            cancellationToken: Ct);

        var pending = await Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "status.phase=Pending", cancellationToken: Ct);
        Assert.Equal("waiting", Assert.Single(pending.Items).Metadata.Name);
        var running = await Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "status.phase=Running", cancellationToken: Ct);
        Assert.Empty(running.Items);
        var unbound = await Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "spec.nodeName=", cancellationToken: Ct);
        Assert.Single(unbound.Items);
        var notPending = await Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "status.phase!=Pending", cancellationToken: Ct);
        Assert.Empty(notPending.Items);
    }
}
