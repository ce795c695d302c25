using JobKit.Core.Config;
using k8s.Models;
using Xunit;

namespace JobKit.Core.Tests.Config;

public sealed class ConfigRolloutLogicTests
{
    private static readonly WorkloadReference Web = new(WorkloadKind.Deployment, "web");

    private static V1Deployment Deployment(long generation, long observed, int replicas, int updated, int total, int available, string? progressingReason = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", Generation = generation },
        Spec = new V1DeploymentSpec { Replicas = replicas },
        Status = new V1DeploymentStatus
        {
            ObservedGeneration = observed,
            UpdatedReplicas = updated,
            Replicas = total,
            AvailableReplicas = available,
            Conditions = progressingReason is null ? null : [new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = progressingReason }],
        },
    };

    // kubectl pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer.Status, case by case.
    [Theory]
    [InlineData(3, 2, 2, 2, 2, 2, null, RolloutState.Progressing, "Waiting for deployment spec update to be observed...")]
    [InlineData(3, 3, 2, 2, 2, 2, "ProgressDeadlineExceeded", RolloutState.Failed, "deployment \"web\" exceeded its progress deadline")]
    [InlineData(3, 3, 2, 1, 2, 2, null, RolloutState.Progressing, "Waiting for deployment \"web\" rollout to finish: 1 out of 2 new replicas have been updated...")]
    [InlineData(3, 3, 2, 2, 3, 2, null, RolloutState.Progressing, "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...")]
    [InlineData(3, 3, 2, 2, 2, 1, null, RolloutState.Progressing, "Waiting for deployment \"web\" rollout to finish: 1 of 2 updated replicas are available...")]
    [InlineData(3, 3, 2, 2, 2, 2, null, RolloutState.Complete, "deployment \"web\" successfully rolled out")]
    public void A_Deployment_rollout_is_judged_as_kubectl_rollout_status_judges_it(long generation, long observed, int replicas, int updated, int total, int available, string? reason, RolloutState state, string message)
    {
        var progress = RolloutStatus.Of(Web, Deployment(generation, observed, replicas, updated, total, available, reason));

        Assert.Equal((state, message), (progress.State, progress.Message));
    }

    [Theory]
    [InlineData("app", true)]
    [InlineData("app-h29d89cmmt", true)]
    [InlineData("app-h29d89cmm", false)]
    [InlineData("app-H29D89CMMT", false)]
    [InlineData("app-0123456789", false)]
    [InlineData("application", false)]
    [InlineData("app-other-h29d89cmmt", false)]
    [InlineData(null, false)]
    public void A_version_of_NAME_is_NAME_or_NAME_with_a_content_hash_suffix(string? candidate, bool expected)
    {
        Assert.Equal(expected, ConfigVersions.IsVersionOf("app", candidate));
    }

    [Theory]
    [InlineData("deployment/web", WorkloadKind.Deployment, "web")]
    [InlineData("deploy/web", WorkloadKind.Deployment, "web")]
    [InlineData("deployments.apps/web", WorkloadKind.Deployment, "web")]
    [InlineData("sts/db", WorkloadKind.StatefulSet, "db")]
    [InlineData("ds/agent", WorkloadKind.DaemonSet, "agent")]
    [InlineData("cj/report", WorkloadKind.CronJob, "report")]
    public void Workloads_are_named_as_kubectl_names_them(string text, WorkloadKind kind, string name)
    {
        Assert.Equal(new WorkloadReference(kind, name), WorkloadReference.Parse(text));
    }

    [Theory]
    [InlineData("web")]
    [InlineData("pod/web")]
    [InlineData("deployment/")]
    public void Other_workload_names_are_refused_naming_the_flag(string text)
    {
        var error = Assert.Throws<ConfigInputException>(() => WorkloadReference.Parse(text));

        Assert.StartsWith("--to: ", error.Message, StringComparison.Ordinal);
    }
}
