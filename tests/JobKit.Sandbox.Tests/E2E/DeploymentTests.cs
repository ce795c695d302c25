using System.Net;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>
/// apps/v1 Deployments and ReplicaSets, end to end: the Deployment controller's ReplicaSets per pod template, the
/// ReplicaSet controller's pods (long-running <c>sleep</c> processes under the kubelet), rollouts, scaling, status.
/// </summary>
public sealed class DeploymentTests(ClusterFixture cluster)
{
    private static readonly TimeSpan RolloutTimeout = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    internal static V1PodTemplateSpec Template(string app, IDictionary<string, string>? annotations = null) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = app }, Annotations = annotations },
        Spec = new V1PodSpec
        {
            TerminationGracePeriodSeconds = 5,
            Containers = [new V1Container { Name = "main", Image = Objects.Image, Command = ["sleep", "3600"] }],
        },
    };

    internal static V1Deployment Deployment(string name, int replicas, Action<V1DeploymentSpec>? configure = null)
    {
        var d = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
                Template = Template(name),
            },
        };
        configure?.Invoke(d.Spec);
        return d;
    }

    private static V1DeploymentCondition? Condition(V1Deployment d, string type) => d.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    /// <summary>What `kubectl rollout status` waits for: the controller saw this generation and every replica is updated and available.</summary>
    internal static bool RolledOut(V1Deployment d, int replicas) =>
        d.Status?.ObservedGeneration >= d.Metadata.Generation
        && d.Status.UpdatedReplicas == replicas && d.Status.Replicas == replicas && d.Status.AvailableReplicas == replicas
        && d.Status.ReadyReplicas == replicas && (d.Status.UnavailableReplicas ?? 0) == 0
        && Condition(d, "Progressing")?.Reason == "NewReplicaSetAvailable" && Condition(d, "Available")?.Status == "True";

    private Task<V1Deployment> WaitForRolloutAsync(string ns, string name, int replicas) =>
        cluster.WaitForAsync(
            () => Client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: Ct),
            d => RolledOut(d, replicas),
            RolloutTimeout,
            $"deployment {name} rolled out with {replicas} available replicas",
            Ct);

    private async Task<List<V1ReplicaSet>> ReplicaSetsAsync(string ns, string app) =>
        (await Client.AppsV1.ListNamespacedReplicaSetAsync(ns, labelSelector: $"app={app}", cancellationToken: Ct)).Items
            .OrderBy(rs => rs.Metadata.Annotations?["deployment.kubernetes.io/revision"]).ToList();

    private async Task<List<V1Pod>> ActivePodsAsync(string ns, string selector) =>
        (await Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: Ct)).Items
            .Where(p => p.Metadata.DeletionTimestamp is null).ToList();

    [Fact]
    public async Task Deployment_creates_a_ReplicaSet_per_template_hash_whose_pods_run_and_become_available()
    {
        await using var ns = await cluster.CreateNamespaceAsync("deploy", Ct);
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 2), ns, cancellationToken: Ct);

        Assert.Equal(1, created.Metadata.Generation);
        Assert.Equal("RollingUpdate", created.Spec.Strategy.Type);
        Assert.Equal(("25%", "25%"), (created.Spec.Strategy.RollingUpdate.MaxSurge.Value, created.Spec.Strategy.RollingUpdate.MaxUnavailable.Value));
        Assert.Equal((10, 600), (created.Spec.RevisionHistoryLimit, created.Spec.ProgressDeadlineSeconds));
        Assert.Equal(("Always", "ClusterFirst", "default-scheduler"), (created.Spec.Template.Spec.RestartPolicy, created.Spec.Template.Spec.DnsPolicy, created.Spec.Template.Spec.SchedulerName));

        var d = await WaitForRolloutAsync(ns, "web", 2);

        Assert.Equal(d.Metadata.Generation, d.Status.ObservedGeneration);
        Assert.Equal("1", d.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal("MinimumReplicasAvailable", Condition(d, "Available")!.Reason);
        Assert.Equal("Deployment has minimum availability.", Condition(d, "Available")!.Message);
        var rs = Assert.Single(await ReplicaSetsAsync(ns, "web"));
        var hash = rs.Metadata.Labels["pod-template-hash"];
        Assert.Equal($"web-{hash}", rs.Metadata.Name);
        Assert.Equal($"ReplicaSet \"web-{hash}\" has successfully progressed.", Condition(d, "Progressing")!.Message);
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["pod-template-hash"] = hash }, rs.Spec.Selector.MatchLabels);
        Assert.Equal(hash, rs.Spec.Template.Metadata.Labels["pod-template-hash"]);
        var owner = Assert.Single(rs.Metadata.OwnerReferences);
        Assert.Equal(("Deployment", "web", created.Metadata.Uid, true, true), (owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion));
        Assert.Equal("1", rs.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal("2", rs.Metadata.Annotations["deployment.kubernetes.io/desired-replicas"]);
        Assert.Equal("3", rs.Metadata.Annotations["deployment.kubernetes.io/max-replicas"]);
        Assert.Equal((2, 2, 2, 2), (rs.Status.Replicas, rs.Status.FullyLabeledReplicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas));
        Assert.Equal(rs.Metadata.Generation, rs.Status.ObservedGeneration);

        var pods = await ActivePodsAsync(ns, $"pod-template-hash={hash}");
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p =>
        {
            Assert.Matches($"^web-{hash}-[a-z0-9]{{5}}$", p.Metadata.Name);
            var podOwner = Assert.Single(p.Metadata.OwnerReferences);
            Assert.Equal(("ReplicaSet", rs.Metadata.Name, rs.Metadata.Uid, true, true), (podOwner.Kind, podOwner.Name, podOwner.Uid, podOwner.Controller, podOwner.BlockOwnerDeletion));
            Assert.Equal("Running", p.Status.Phase);
        });
    }

    [Fact]
    public async Task Template_change_rolls_out_a_new_ReplicaSet_and_scales_the_old_one_to_zero()
    {
        await using var ns = await cluster.CreateNamespaceAsync("deploy-roll", Ct);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("roll", 2), ns, cancellationToken: Ct);
        await WaitForRolloutAsync(ns, "roll", 2);
        var first = Assert.Single(await ReplicaSetsAsync(ns, "roll"));

        var patch = new V1Patch("""{"spec":{"template":{"metadata":{"annotations":{"rollout":"2"}}}}}""", V1Patch.PatchType.StrategicMergePatch);
        var patched = await Client.AppsV1.PatchNamespacedDeploymentAsync(patch, "roll", ns, cancellationToken: Ct);
        Assert.Equal(2, patched.Metadata.Generation);

        var d = await WaitForRolloutAsync(ns, "roll", 2);
        Assert.Equal("2", d.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        var sets = await ReplicaSetsAsync(ns, "roll");
        Assert.Equal(2, sets.Count);
        var old = sets.Single(rs => rs.Metadata.Uid == first.Metadata.Uid);
        var current = sets.Single(rs => rs.Metadata.Uid != first.Metadata.Uid);
        Assert.NotEqual(first.Metadata.Labels["pod-template-hash"], current.Metadata.Labels["pod-template-hash"]);
        Assert.Equal($"roll-{current.Metadata.Labels["pod-template-hash"]}", current.Metadata.Name);
        Assert.Equal("2", current.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal("1", old.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal(0, old.Spec.Replicas);
        Assert.Equal(2, current.Spec.Replicas);
        Assert.Equal($"ReplicaSet \"{current.Metadata.Name}\" has successfully progressed.", Condition(d, "Progressing")!.Message);

        await cluster.WaitForAsync(
            () => ActivePodsAsync(ns, "app=roll"),
            pods => pods.Count == 2 && pods.All(p => p.Metadata.Labels["pod-template-hash"] == current.Metadata.Labels["pod-template-hash"]),
            RolloutTimeout, "only the new ReplicaSet's pods remain", Ct);
        var oldAfter = await cluster.WaitForAsync(
            () => Client.AppsV1.ReadNamespacedReplicaSetAsync(old.Metadata.Name, ns, cancellationToken: Ct),
            rs => rs.Status.Replicas == 0, RolloutTimeout, "the old ReplicaSet reports 0 replicas", Ct);
        Assert.True((oldAfter.Status.ReadyReplicas ?? 0) == 0);
    }

    [Fact]
    public async Task Recreate_replaces_all_pods_with_the_new_template()
    {
        await using var ns = await cluster.CreateNamespaceAsync("deploy-recreate", Ct);
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(
            Deployment("rec", 2, s => s.Strategy = new V1DeploymentStrategy { Type = "Recreate" }), ns, cancellationToken: Ct);
        Assert.Null(created.Spec.Strategy.RollingUpdate);
        await WaitForRolloutAsync(ns, "rec", 2);

        var patch = new V1Patch("""{"spec":{"template":{"metadata":{"labels":{"version":"2"}}}}}""", V1Patch.PatchType.StrategicMergePatch);
        await Client.AppsV1.PatchNamespacedDeploymentAsync(patch, "rec", ns, cancellationToken: Ct);

        var d = await WaitForRolloutAsync(ns, "rec", 2);
        Assert.Equal("2", d.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        var sets = await ReplicaSetsAsync(ns, "rec");
        Assert.Equal(2, sets.Count);
        Assert.Equal([0, 2], sets.Select(rs => rs.Spec.Replicas ?? 0));
        var pods = await cluster.WaitForAsync(() => ActivePodsAsync(ns, "app=rec"), p => p.Count == 2 && p.All(x => x.Metadata.Labels.ContainsKey("version")), RolloutTimeout, "two pods of the new template", Ct);
        Assert.All(pods, p => Assert.Equal("2", p.Metadata.Labels["version"]));
    }

    [Fact]
    public async Task Scale_subresource_resizes_the_ReplicaSet_and_its_pods()
    {
        await using var ns = await cluster.CreateNamespaceAsync("deploy-scale", Ct);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("sc", 1), ns, cancellationToken: Ct);
        await WaitForRolloutAsync(ns, "sc", 1);

        var scale = await Client.AppsV1.ReadNamespacedDeploymentScaleAsync("sc", ns, cancellationToken: Ct);
        Assert.Equal(("Scale", "autoscaling/v1"), (scale.Kind, scale.ApiVersion));
        Assert.Equal((1, 1, "app=sc"), (scale.Spec.Replicas, scale.Status.Replicas, scale.Status.Selector));

        var patched = await Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":3}}""", V1Patch.PatchType.MergePatch), "sc", ns, cancellationToken: Ct);
        Assert.Equal(3, patched.Spec.Replicas);
        var d = await WaitForRolloutAsync(ns, "sc", 3);
        Assert.Equal(2, d.Metadata.Generation);
        var rs = Assert.Single(await ReplicaSetsAsync(ns, "sc"));
        Assert.Equal(3, rs.Spec.Replicas);
        Assert.Equal("3", rs.Metadata.Annotations["deployment.kubernetes.io/desired-replicas"]);
        Assert.Equal("1", rs.Metadata.Annotations["deployment.kubernetes.io/revision"]);

        await Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":1}}""", V1Patch.PatchType.MergePatch), "sc", ns, cancellationToken: Ct);
        await WaitForRolloutAsync(ns, "sc", 1);
        await cluster.WaitForAsync(() => ActivePodsAsync(ns, "app=sc"), p => p.Count == 1, RolloutTimeout, "one active pod after scaling down", Ct);

        var invalid = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.UnprocessableEntity, () =>
            Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":-1}}""", V1Patch.PatchType.MergePatch), "sc", ns, cancellationToken: Ct));
        Assert.Equal("Scale.autoscaling \"sc\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0", invalid.Message);
    }

    [Fact]
    public async Task Deleting_a_Deployment_deletes_its_ReplicaSets_and_pods()
    {
        await using var ns = await cluster.CreateNamespaceAsync("deploy-delete", Ct);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("gone", 2), ns, cancellationToken: Ct);
        await WaitForRolloutAsync(ns, "gone", 2);

        await Client.AppsV1.DeleteNamespacedDeploymentAsync("gone", ns, cancellationToken: Ct);

        await cluster.WaitForAsync(() => ReplicaSetsAsync(ns, "gone"), sets => sets.Count == 0, RolloutTimeout, "the ReplicaSet garbage-collected", Ct);
        await cluster.WaitForAsync(
            async () => (await Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=gone", cancellationToken: Ct)).Items,
            pods => pods.Count == 0, RolloutTimeout, "the pods garbage-collected", Ct);
    }

    [Fact]
    public async Task Unschedulable_rollout_exceeds_its_progress_deadline()
    {
        await using var ns = await cluster.CreateNamespaceAsync("deploy-stuck", Ct);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("stuck", 1, s =>
        {
            s.ProgressDeadlineSeconds = 2;
            s.Template.Spec.NodeSelector = new Dictionary<string, string> { ["jobkit.test/no-such-node"] = "true" };
        }), ns, cancellationToken: Ct);

        var d = await cluster.WaitForAsync(
            () => Client.AppsV1.ReadNamespacedDeploymentAsync("stuck", ns, cancellationToken: Ct),
            x => Condition(x, "Progressing")?.Reason == "ProgressDeadlineExceeded", RolloutTimeout, "Progressing=False ProgressDeadlineExceeded", Ct);

        var rs = Assert.Single(await ReplicaSetsAsync(ns, "stuck"));
        var progressing = Condition(d, "Progressing")!;
        Assert.Equal(("False", $"ReplicaSet \"{rs.Metadata.Name}\" has timed out progressing."), (progressing.Status, progressing.Message));
        var available = Condition(d, "Available")!;
        Assert.Equal(("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."), (available.Status, available.Reason, available.Message));
        Assert.Equal((1, 1, 1), (d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.UnavailableReplicas));
        Assert.True((d.Status.AvailableReplicas ?? 0) == 0);

        var rollout = await cluster.KubectlAsync(["rollout", "status", "deployment/stuck", "-n", ns, "--timeout=60s"], timeout: TimeSpan.FromSeconds(90), cancellationToken: Ct);
        Assert.NotEqual(0, rollout.ExitCode);
        Assert.Contains("error: deployment \"stuck\" exceeded its progress deadline", rollout.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplicaSet_replaces_a_deleted_pod_and_reports_status()
    {
        await using var ns = await cluster.CreateNamespaceAsync("rs", Ct);
        var rs = new V1ReplicaSet
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            Metadata = new V1ObjectMeta { Name = "solo" },
            Spec = new V1ReplicaSetSpec
            {
                Replicas = 2,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "solo" } },
                Template = Template("solo"),
            },
        };
        var created = await Client.AppsV1.CreateNamespacedReplicaSetAsync(rs, ns, cancellationToken: Ct);
        Assert.Equal(1, created.Metadata.Generation);

        bool Ready(V1ReplicaSet x) => x.Status.ObservedGeneration == x.Metadata.Generation && x.Status.Replicas == 2 && x.Status.ReadyReplicas == 2 && x.Status.AvailableReplicas == 2 && x.Status.FullyLabeledReplicas == 2;
        await cluster.WaitForAsync(() => Client.AppsV1.ReadNamespacedReplicaSetAsync("solo", ns, cancellationToken: Ct), Ready, RolloutTimeout, "2 ready replicas", Ct);
        var pods = await ActivePodsAsync(ns, "app=solo");
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p => Assert.Matches("^solo-[a-z0-9]{5}$", p.Metadata.Name));

        await Client.CoreV1.DeleteNamespacedPodAsync(pods[0].Metadata.Name, ns, cancellationToken: Ct);
        await cluster.WaitForAsync(
            () => ActivePodsAsync(ns, "app=solo"),
            p => p.Count == 2 && p.All(x => x.Metadata.Uid != pods[0].Metadata.Uid),
            RolloutTimeout, "a replacement pod", Ct);
        await cluster.WaitForAsync(() => Client.AppsV1.ReadNamespacedReplicaSetAsync("solo", ns, cancellationToken: Ct), Ready, RolloutTimeout, "2 ready replicas again", Ct);
    }
}
