using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>apps/v1 StatefulSets (ordered, stable pod names, rolling update) and DaemonSets (a pod per node), end to end.</summary>
public sealed class StatefulSetDaemonSetTests(ClusterFixture cluster)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    private static V1LabelSelector Selector(string app) => new() { MatchLabels = new Dictionary<string, string> { ["app"] = app } };

    private async Task<List<V1Pod>> PodsAsync(string ns, string app) =>
        (await Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"app={app}", cancellationToken: Ct)).Items
            .Where(p => p.Metadata.DeletionTimestamp is null).OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();

    private async Task KubectlOkAsync(params string[] args)
    {
        var result = await cluster.KubectlAsync(args, timeout: Timeout + TimeSpan.FromSeconds(30), cancellationToken: Ct);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private static bool Settled(V1StatefulSet s, int replicas) =>
        s.Status is not null && s.Status.ObservedGeneration == s.Metadata.Generation && s.Status.Replicas == replicas && s.Status.ReadyReplicas == replicas
        && s.Status.AvailableReplicas == replicas && s.Status.UpdatedReplicas == replicas && s.Status.CurrentReplicas == replicas
        && s.Status.CurrentRevision == s.Status.UpdateRevision;

    [Fact]
    public async Task StatefulSet_creates_ordered_pods_and_rolls_them_to_a_new_revision()
    {
        await using var ns = await cluster.CreateNamespaceAsync("sts", Ct);
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(new V1StatefulSet
        {
            Metadata = new V1ObjectMeta { Name = "db" },
            Spec = new V1StatefulSetSpec { Replicas = 2, Selector = Selector("db"), Template = DeploymentTests.Template("db") },
        }, ns, cancellationToken: Ct);

        await KubectlOkAsync("rollout", "status", "statefulset/db", "-n", ns, "--timeout=120s");
        var set = await cluster.WaitForAsync(() => Client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns, cancellationToken: Ct), s => Settled(s, 2), Timeout, "2 ready replicas", Ct);
        var revision = set.Status.UpdateRevision;
        Assert.StartsWith("db-", revision, StringComparison.Ordinal);

        var pods = await PodsAsync(ns, "db");
        Assert.Equal(["db-0", "db-1"], pods.Select(p => p.Metadata.Name));
        for (var i = 0; i < 2; i++)
        {
            var labels = pods[i].Metadata.Labels;
            Assert.Equal((revision, $"db-{i}", $"{i}"), (labels["controller-revision-hash"], labels["statefulset.kubernetes.io/pod-name"], labels["apps.kubernetes.io/pod-index"]));
            Assert.Equal($"db-{i}", pods[i].Spec.Hostname);
            var owner = Assert.Single(pods[i].Metadata.OwnerReferences);
            Assert.Equal(("StatefulSet", "db", set.Metadata.Uid, true), (owner.Kind, owner.Name, owner.Uid, owner.Controller));
        }
        // OrderedReady: db-1 comes after db-0.
        Assert.True(pods[1].Metadata.CreationTimestamp >= pods[0].Metadata.CreationTimestamp, "db-1 is created after db-0");

        var patch = new V1Patch("""{"spec":{"template":{"metadata":{"annotations":{"rollout":"2"}}}}}""", V1Patch.PatchType.StrategicMergePatch);
        await Client.AppsV1.PatchNamespacedStatefulSetAsync(patch, "db", ns, cancellationToken: Ct);
        set = await cluster.WaitForAsync(
            () => Client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns, cancellationToken: Ct),
            s => Settled(s, 2) && s.Status.UpdateRevision != revision, Timeout, "rolled to a new revision", Ct);
        pods = await PodsAsync(ns, "db");
        Assert.Equal(["db-0", "db-1"], pods.Select(p => p.Metadata.Name));
        Assert.All(pods, p => Assert.Equal(set.Status.UpdateRevision, p.Metadata.Labels["controller-revision-hash"]));

        await Client.AppsV1.PatchNamespacedStatefulSetScaleAsync(new V1Patch("""{"spec":{"replicas":1}}""", V1Patch.PatchType.MergePatch), "db", ns, cancellationToken: Ct);
        await cluster.WaitForAsync(() => Client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns, cancellationToken: Ct), s => Settled(s, 1), Timeout, "1 replica", Ct);
        var remaining = await cluster.WaitForAsync(() => PodsAsync(ns, "db"), p => p.Count == 1, Timeout, "only db-0 left", Ct);
        Assert.Equal("db-0", remaining[0].Metadata.Name);
    }

    [Fact]
    public async Task DaemonSet_runs_one_pod_per_node_and_rolls_them_to_a_new_template()
    {
        await using var ns = await cluster.CreateNamespaceAsync("ds", Ct);
        var nodes = (await Client.CoreV1.ListNodeAsync(cancellationToken: Ct)).Items;
        var created = await Client.AppsV1.CreateNamespacedDaemonSetAsync(new V1DaemonSet
        {
            Metadata = new V1ObjectMeta { Name = "agent" },
            Spec = new V1DaemonSetSpec { Selector = Selector("agent"), Template = DeploymentTests.Template("agent") },
        }, ns, cancellationToken: Ct);
        Assert.Equal("1", created.Metadata.Annotations["deprecated.daemonset.template.generation"]);

        await KubectlOkAsync("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=120s");
        bool Settled(V1DaemonSet d) => d.Status.ObservedGeneration == d.Metadata.Generation && d.Status.DesiredNumberScheduled == nodes.Count
            && d.Status.CurrentNumberScheduled == nodes.Count && d.Status.NumberReady == nodes.Count && d.Status.NumberAvailable == nodes.Count
            && d.Status.UpdatedNumberScheduled == nodes.Count && d.Status.NumberMisscheduled == 0;
        await cluster.WaitForAsync(() => Client.AppsV1.ReadNamespacedDaemonSetAsync("agent", ns, cancellationToken: Ct), Settled, Timeout, "a ready pod per node", Ct);

        var pods = await PodsAsync(ns, "agent");
        Assert.Equal(nodes.Select(n => n.Metadata.Name).Order(StringComparer.Ordinal), pods.Select(p => p.Spec.NodeName).Order(StringComparer.Ordinal));
        Assert.All(pods, p =>
        {
            Assert.Equal("1", p.Metadata.Labels["pod-template-generation"]);
            var field = p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms.Single().MatchFields.Single();
            Assert.Equal(("metadata.name", "In", p.Spec.NodeName), (field.Key, field.OperatorProperty, field.Values.Single()));
            Assert.Contains(p.Spec.Tolerations, t => t.Key == "node.kubernetes.io/unschedulable" && t.Effect == "NoSchedule" && t.OperatorProperty == "Exists");
            Assert.Equal("DaemonSet", p.Metadata.OwnerReferences.Single().Kind);
        });
        var oldHash = pods[0].Metadata.Labels["controller-revision-hash"];

        var patch = new V1Patch("""{"spec":{"template":{"metadata":{"annotations":{"rollout":"2"}}}}}""", V1Patch.PatchType.StrategicMergePatch);
        var patched = await Client.AppsV1.PatchNamespacedDaemonSetAsync(patch, "agent", ns, cancellationToken: Ct);
        Assert.Equal("2", patched.Metadata.Annotations["deprecated.daemonset.template.generation"]);
        await KubectlOkAsync("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=120s");
        await cluster.WaitForAsync(() => Client.AppsV1.ReadNamespacedDaemonSetAsync("agent", ns, cancellationToken: Ct), Settled, Timeout, "the new template on every node", Ct);
        pods = await cluster.WaitForAsync(() => PodsAsync(ns, "agent"), p => p.Count == nodes.Count && p.All(x => x.Metadata.Labels["pod-template-generation"] == "2"), Timeout, "only new pods", Ct);
        Assert.All(pods, p => Assert.NotEqual(oldHash, p.Metadata.Labels["controller-revision-hash"]));
    }
}
