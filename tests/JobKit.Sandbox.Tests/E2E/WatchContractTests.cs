using System.Net;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>WATCH semantics: resume from a resourceVersion, order, selectors, and 410 Expired for a too-old resourceVersion.</summary>
public sealed class WatchContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    private sealed record Observed(WatchEventType Type, string Name, string Uid, string ResourceVersion, string? Value)
    {
        public override string ToString() => $"{Type} {Name} rv={ResourceVersion} key={Value}";
    }

    /// <summary>Watches configmaps in <paramref name="ns"/> from <paramref name="resourceVersion"/> until <paramref name="until"/> matches an event.</summary>
    private async Task<List<Observed>> CollectAsync(string ns, string resourceVersion, Func<Observed, bool> until, string? labelSelector = null, TimeSpan? timeout = null)
    {
        var events = new List<Observed>();
        var errors = new List<Exception>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            var watch = Client.CoreV1.WatchListNamespacedConfigMapAsync(ns, resourceVersion: resourceVersion, labelSelector: labelSelector, onError: errors.Add, cancellationToken: cts.Token);
            await foreach (var (type, cm) in watch)
            {
                cm.Data ??= new Dictionary<string, string>();
                var observed = new Observed(type, cm.Metadata.Name, cm.Metadata.Uid, cm.Metadata.ResourceVersion, cm.Data.TryGetValue("key", out var v) ? v : null);
                events.Add(observed);
                if (until(observed))
                {
                    return events;
                }
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
        }
        Assert.Fail($"the watch from resourceVersion {resourceVersion} ended or timed out before the expected event; got [{string.Join(", ", events)}], errors [{string.Join(", ", errors.Select(e => e.Message))}]");
        return events;
    }

    [Fact]
    public async Task Watch_from_resourceVersion_delivers_exactly_the_later_events_in_order()
    {
        await using var ns = await cluster.CreateNamespaceAsync("watch-order", Ct);
        // Only this test's objects: the controller-manager adds kube-root-ca.crt to a new namespace at a time of its own.
        var ours = new Dictionary<string, string> { ["jobkit.test/watch"] = "order" };
        var a = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("a", new Dictionary<string, string> { ["key"] = "1" }, ours), ns, cancellationToken: Ct);

        a.Data["key"] = "2";
        var aModified = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(a, "a", ns, cancellationToken: Ct);
        var b = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("b", new Dictionary<string, string> { ["key"] = "1" }, ours), ns, cancellationToken: Ct);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("a", ns, cancellationToken: Ct);
        var sentinel = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("sentinel", labels: ours), ns, cancellationToken: Ct);

        var events = await CollectAsync(ns, a.Metadata.ResourceVersion, e => e.Name == "sentinel", labelSelector: "jobkit.test/watch=order");

        Assert.Collection(
            events,
            e => Assert.Equal(new Observed(WatchEventType.Modified, "a", a.Metadata.Uid, aModified.Metadata.ResourceVersion, "2"), e),
            e => Assert.Equal(new Observed(WatchEventType.Added, "b", b.Metadata.Uid, b.Metadata.ResourceVersion, "1"), e),
            e =>
            {
                Assert.Equal((WatchEventType.Deleted, "a", a.Metadata.Uid, "2"), (e.Type, e.Name, e.Uid, e.Value));
                Assert.NotEqual(aModified.Metadata.ResourceVersion, e.ResourceVersion);
                Assert.NotEqual(b.Metadata.ResourceVersion, e.ResourceVersion);
            },
            e => Assert.Equal(new Observed(WatchEventType.Added, "sentinel", sentinel.Metadata.Uid, sentinel.Metadata.ResourceVersion, "value"), e));
    }

    [Fact]
    public async Task Watch_from_list_resourceVersion_sees_only_changes_after_the_list()
    {
        await using var ns = await cluster.CreateNamespaceAsync("watch-list", Ct);
        // Only this test's objects: the controller-manager adds kube-root-ca.crt to a new namespace at a time of its own.
        var ours = new Dictionary<string, string> { ["jobkit.test/watch"] = "list" };
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("before", labels: ours), ns, cancellationToken: Ct);
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: "jobkit.test/watch=list", cancellationToken: Ct);
        var after = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("after", labels: ours), ns, cancellationToken: Ct);

        var events = await CollectAsync(ns, list.Metadata.ResourceVersion, e => e.Name == "after", labelSelector: "jobkit.test/watch=list");

        var only = Assert.Single(events);
        Assert.Equal(new Observed(WatchEventType.Added, "after", after.Metadata.Uid, after.Metadata.ResourceVersion, "value"), only);
    }

    [Fact]
    public async Task Watch_with_label_selector_reports_leaving_the_selection_as_DELETED_and_entering_as_ADDED()
    {
        await using var ns = await cluster.CreateNamespaceAsync("watch-selector", Ct);
        var cm = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("moving", labels: new Dictionary<string, string> { ["watched"] = "yes" }), ns, cancellationToken: Ct);
        var start = cm.Metadata.ResourceVersion;

        cm.Metadata.Labels["watched"] = "no";
        cm = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, "moving", ns, cancellationToken: Ct);
        cm.Data["key"] = "invisible";
        cm = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, "moving", ns, cancellationToken: Ct);
        cm.Metadata.Labels["watched"] = "yes";
        cm.Data["key"] = "back";
        var back = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, "moving", ns, cancellationToken: Ct);

        var events = await CollectAsync(ns, start, e => e.Type == WatchEventType.Added, labelSelector: "watched=yes");

        Assert.Collection(
            events,
            e => Assert.Equal((WatchEventType.Deleted, "moving"), (e.Type, e.Name)),
            e => Assert.Equal(new Observed(WatchEventType.Added, "moving", back.Metadata.Uid, back.Metadata.ResourceVersion, "back"), e));
    }

    [Fact]
    public async Task Watch_from_too_old_resourceVersion_yields_410_Expired()
    {
        // A real API server serves watches from a bounded window of recent events (the watch cache); once older
        // events have left the window, resourceVersion "1" is too old. On a fresh cluster the window still reaches back
        // to the start, so keep writing configmaps (which pushes old events out) until the server says so.
        await using var ns = await cluster.CreateNamespaceAsync("watch-gone", Ct);
        var churn = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("churn"), ns, cancellationToken: Ct);
        var deadline = DateTime.UtcNow.AddSeconds(180);
        var writes = 0;
        var lastOutcome = "no watch attempted";
        while (DateTime.UtcNow < deadline)
        {
            var (gone, outcome) = await TryWatchFromAsync(ns, "1");
            lastOutcome = outcome;
            if (gone is not null)
            {
                Assert.Equal(410, gone.Code);
                Assert.Equal("Expired", gone.Reason);
                Assert.Equal("Failure", gone.Status);
                Assert.Matches(@"^too old resource version: 1 \(\d+\)$", gone.Message);
                return;
            }
            for (var i = 0; i < 50; i++)
            {
                churn.Data["key"] = $"{writes++}";
                churn = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(churn, "churn", ns, cancellationToken: Ct);
            }
        }
        Assert.Fail($"no 410 Expired for a watch from resourceVersion 1 after {writes} writes; last attempt: {lastOutcome}");
    }

    /// <summary>Opens a watch from <paramref name="resourceVersion"/> for up to 2 s; returns the Status of an ERROR event if one came.</summary>
    private async Task<(V1Status? Gone, string Outcome)> TryWatchFromAsync(string ns, string resourceVersion)
    {
        var errors = new List<Exception>();
        var events = 0;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await foreach (var _ in Client.CoreV1.WatchListNamespacedConfigMapAsync(ns, resourceVersion: resourceVersion, onError: errors.Add, cancellationToken: cts.Token))
            {
                events++;
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
        {
            Assert.Fail($"a too-old watch must be answered 200 with an ERROR event (as the real API server does), not HTTP 410: {e.Response.Content}");
        }
        var status = errors.OfType<KubernetesException>().Select(e => e.Status).FirstOrDefault(s => s is not null);
        return (status, $"{events} events, errors [{string.Join(", ", errors.Select(e => e.Message))}]");
    }
}
