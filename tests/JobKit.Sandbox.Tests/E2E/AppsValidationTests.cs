using System.Net;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>apps/v1 validation as kube-apiserver words it: selectors, template labels, strategy, immutable selector.</summary>
public sealed class AppsValidationTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    private static Task<V1Status> Invalid(Func<Task> call) => ApiAssert.FailsWithStatusAsync(HttpStatusCode.UnprocessableEntity, call);

    [Fact]
    public async Task Deployment_selector_must_be_given_and_match_the_template_labels()
    {
        await using var ns = await cluster.CreateNamespaceAsync("apps-invalid", Ct);

        var mismatch = await Invalid(() => Client.AppsV1.CreateNamespacedDeploymentAsync(DeploymentTests.Deployment("bad", 1, s =>
            s.Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "other" } }), ns, cancellationToken: Ct));
        Assert.Equal(("Invalid", "Deployment", "bad"), (mismatch.Reason, mismatch.Details.Kind, mismatch.Details.Name));
        Assert.Equal("Deployment.apps \"bad\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"bad\"}: `selector` does not match template `labels`", mismatch.Message);
        var cause = Assert.Single(mismatch.Details.Causes);
        Assert.Equal(("FieldValueInvalid", "spec.template.metadata.labels"), (cause.Reason, cause.Field));

        var missing = await Invalid(() => Client.AppsV1.CreateNamespacedDeploymentAsync(DeploymentTests.Deployment("bad", 1, s => s.Selector = null), ns, cancellationToken: Ct));
        Assert.Equal(
            "Deployment.apps \"bad\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"bad\"}: `selector` does not match template `labels`]",
            missing.Message);

        var empty = await Invalid(() => Client.AppsV1.CreateNamespacedDeploymentAsync(DeploymentTests.Deployment("bad", 1, s => s.Selector = new V1LabelSelector()), ns, cancellationToken: Ct));
        Assert.Equal(
            "Deployment.apps \"bad\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
            empty.Message);
    }

    [Fact]
    public async Task Deployment_spec_errors_are_reported_together()
    {
        await using var ns = await cluster.CreateNamespaceAsync("apps-invalid-spec", Ct);

        var status = await Invalid(() => Client.AppsV1.CreateNamespacedDeploymentAsync(DeploymentTests.Deployment("bad", -1, s =>
        {
            s.Template.Spec.RestartPolicy = "Never";
            s.Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = 0, MaxUnavailable = 0 } };
        }), ns, cancellationToken: Ct));
        Assert.Equal(
            "Deployment.apps \"bad\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, " +
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\", " +
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0]",
            status.Message);

        var recreate = await Invalid(() => Client.AppsV1.CreateNamespacedDeploymentAsync(DeploymentTests.Deployment("bad", 1, s =>
            s.Strategy = new V1DeploymentStrategy { Type = "Recreate", RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = 1 } }), ns, cancellationToken: Ct));
        Assert.Equal("Deployment.apps \"bad\" is invalid: spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'", recreate.Message);

        var deadline = await Invalid(() => Client.AppsV1.CreateNamespacedDeploymentAsync(DeploymentTests.Deployment("bad", 1, s =>
        {
            s.ProgressDeadlineSeconds = 5;
            s.MinReadySeconds = 10;
        }), ns, cancellationToken: Ct));
        Assert.Equal("Deployment.apps \"bad\" is invalid: spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds", deadline.Message);
    }

    [Fact]
    public async Task Deployment_selector_is_immutable()
    {
        await using var ns = await cluster.CreateNamespaceAsync("apps-immutable", Ct);
        await Client.AppsV1.CreateNamespacedDeploymentAsync(DeploymentTests.Deployment("web", 0), ns, cancellationToken: Ct);

        var patch = new V1Patch("""{"spec":{"selector":{"matchLabels":{"app":"web2"}},"template":{"metadata":{"labels":{"app":"web2"}}}}}""", V1Patch.PatchType.StrategicMergePatch);
        var status = await Invalid(() => Client.AppsV1.PatchNamespacedDeploymentAsync(patch, "web", ns, cancellationToken: Ct));
        Assert.Equal(
            "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
            status.Message);
    }

    [Fact]
    public async Task ReplicaSet_StatefulSet_and_DaemonSet_templates_must_match_their_selectors()
    {
        await using var ns = await cluster.CreateNamespaceAsync("apps-invalid-kinds", Ct);
        var selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "x" } };
        const string Mismatch = "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`";

        var rs = await Invalid(() => Client.AppsV1.CreateNamespacedReplicaSetAsync(
            new V1ReplicaSet { Metadata = new V1ObjectMeta { Name = "bad" }, Spec = new V1ReplicaSetSpec { Selector = selector, Template = DeploymentTests.Template("web") } }, ns, cancellationToken: Ct));
        Assert.Equal($"ReplicaSet.apps \"bad\" is invalid: {Mismatch}", rs.Message);

        var sts = await Invalid(() => Client.AppsV1.CreateNamespacedStatefulSetAsync(
            new V1StatefulSet { Metadata = new V1ObjectMeta { Name = "bad" }, Spec = new V1StatefulSetSpec { Selector = selector, Template = DeploymentTests.Template("web") } }, ns, cancellationToken: Ct));
        Assert.Equal($"StatefulSet.apps \"bad\" is invalid: {Mismatch}", sts.Message);

        var ds = await Invalid(() => Client.AppsV1.CreateNamespacedDaemonSetAsync(
            new V1DaemonSet { Metadata = new V1ObjectMeta { Name = "bad" }, Spec = new V1DaemonSetSpec { Selector = selector, Template = DeploymentTests.Template("web") } }, ns, cancellationToken: Ct));
        Assert.Equal($"DaemonSet.apps \"bad\" is invalid: {Mismatch}", ds.Message);

        var noContainers = DeploymentTests.Template("x");
        noContainers.Spec.Containers = [];
        var empty = await Invalid(() => Client.AppsV1.CreateNamespacedReplicaSetAsync(
            new V1ReplicaSet { Metadata = new V1ObjectMeta { Name = "bad" }, Spec = new V1ReplicaSetSpec { Selector = selector, Template = noContainers } }, ns, cancellationToken: Ct));
        Assert.Equal("ReplicaSet.apps \"bad\" is invalid: spec.template.spec.containers: Required value", empty.Message);
    }

    [Fact]
    public async Task Apps_kinds_get_the_servers_defaults()
    {
        await using var ns = await cluster.CreateNamespaceAsync("apps-defaults", Ct);
        var selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } };

        var rs = await Client.AppsV1.CreateNamespacedReplicaSetAsync(
            new V1ReplicaSet { Metadata = new V1ObjectMeta { Name = "rs" }, Spec = new V1ReplicaSetSpec { Selector = selector, Template = DeploymentTests.Template("web") } }, ns, dryRun: "All", cancellationToken: Ct);
        Assert.Equal((1, 1L), (rs.Spec.Replicas, rs.Metadata.Generation));

        var sts = await Client.AppsV1.CreateNamespacedStatefulSetAsync(
            new V1StatefulSet { Metadata = new V1ObjectMeta { Name = "sts" }, Spec = new V1StatefulSetSpec { Selector = selector, Template = DeploymentTests.Template("web") } }, ns, dryRun: "All", cancellationToken: Ct);
        Assert.Equal(("OrderedReady", "RollingUpdate", 0, 1, 10, ""), (sts.Spec.PodManagementPolicy, sts.Spec.UpdateStrategy.Type, sts.Spec.UpdateStrategy.RollingUpdate.Partition, sts.Spec.Replicas, sts.Spec.RevisionHistoryLimit, sts.Spec.ServiceName));
        Assert.Equal(("Retain", "Retain"), (sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted, sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled));

        var ds = await Client.AppsV1.CreateNamespacedDaemonSetAsync(
            new V1DaemonSet { Metadata = new V1ObjectMeta { Name = "ds" }, Spec = new V1DaemonSetSpec { Selector = selector, Template = DeploymentTests.Template("web") } }, ns, dryRun: "All", cancellationToken: Ct);
        Assert.Equal(("RollingUpdate", "1", "0", 10), (ds.Spec.UpdateStrategy.Type, ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.Value, ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge.Value, ds.Spec.RevisionHistoryLimit));
        Assert.Equal("1", ds.Metadata.Annotations["deprecated.daemonset.template.generation"]);
    }
}
