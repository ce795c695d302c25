using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>What the API server fills in on create.</summary>
public sealed class DefaultingContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    [Fact]
    public async Task Job_defaults_backoffLimit_completions_parallelism_selector_and_template_labels()
    {
        await using var ns = await cluster.CreateNamespaceAsync("default-job", Ct);

        var job = await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("defaults", "true", s => s.Suspend = true), ns, cancellationToken: Ct);

        var uid = job.Metadata.Uid;
        Assert.Equal(6, job.Spec.BackoffLimit);
        Assert.Equal(1, job.Spec.Completions);
        Assert.Equal(1, job.Spec.Parallelism);
        Assert.Equal("NonIndexed", job.Spec.CompletionMode);
        Assert.Equal("TerminatingOrFailed", job.Spec.PodReplacementPolicy);
        Assert.False(job.Spec.ManualSelector);
        Assert.Equal(new Dictionary<string, string> { ["batch.kubernetes.io/controller-uid"] = uid }, job.Spec.Selector.MatchLabels);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["batch.kubernetes.io/controller-uid"] = uid,
                ["batch.kubernetes.io/job-name"] = "defaults",
                ["controller-uid"] = uid,
                ["job-name"] = "defaults",
            },
            job.Spec.Template.Metadata.Labels);
        Assert.Equal(new Dictionary<string, string> { ["batch.kubernetes.io/controller-uid"] = uid, ["batch.kubernetes.io/job-name"] = "defaults", ["controller-uid"] = uid, ["job-name"] = "defaults" }, job.Metadata.Labels);

        var pod = job.Spec.Template.Spec;
        Assert.Equal("Never", pod.RestartPolicy);
        Assert.Equal(30, pod.TerminationGracePeriodSeconds);
        Assert.Equal("ClusterFirst", pod.DnsPolicy);
        Assert.Equal("default-scheduler", pod.SchedulerName);
        var container = Assert.Single(pod.Containers);
        Assert.Equal("/dev/termination-log", container.TerminationMessagePath);
        Assert.Equal("File", container.TerminationMessagePolicy);
        Assert.Equal("Always", container.ImagePullPolicy);
    }

    [Fact]
    public async Task Job_with_explicit_values_keeps_them()
    {
        await using var ns = await cluster.CreateNamespaceAsync("default-job-explicit", Ct);

        var job = await Client.BatchV1.CreateNamespacedJobAsync(
            Objects.Job("explicit", "true", s =>
            {
                s.Suspend = true;
                s.BackoffLimit = 0;
                s.Completions = 3;
                s.Parallelism = 2;
            }),
            ns,
            cancellationToken: Ct);

        Assert.Equal(0, job.Spec.BackoffLimit);
        Assert.Equal(3, job.Spec.Completions);
        Assert.Equal(2, job.Spec.Parallelism);
    }

    [Fact]
    public async Task Pod_defaults_restartPolicy_grace_period_dnsPolicy_and_service_account()
    {
        await using var ns = await cluster.CreateNamespaceAsync("default-pod", Ct);
        var spec = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "defaults" },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = "main", Image = "busybox:1.36", Command = ["sleep", "3600"] }],
                // never scheduled anywhere: only the API server's defaulting is under test
                NodeSelector = new Dictionary<string, string> { ["jobkit.test/no-such-node"] = "true" },
            },
        };

        var pod = await Client.CoreV1.CreateNamespacedPodAsync(spec, ns, cancellationToken: Ct);

        Assert.Equal("Always", pod.Spec.RestartPolicy);
        Assert.Equal(30, pod.Spec.TerminationGracePeriodSeconds);
        Assert.Equal("ClusterFirst", pod.Spec.DnsPolicy);
        Assert.Equal("default-scheduler", pod.Spec.SchedulerName);
        Assert.Equal("default", pod.Spec.ServiceAccountName);
        Assert.True(pod.Spec.EnableServiceLinks);
        Assert.Equal(0, pod.Spec.Priority);
        Assert.Equal("IfNotPresent", pod.Spec.Containers[0].ImagePullPolicy);
        Assert.Equal("Pending", pod.Status.Phase);
        Assert.Equal("BestEffort", pod.Status.QosClass);
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/not-ready" && t.Effect == "NoExecute" && t.TolerationSeconds == 300 && t.OperatorProperty == "Exists");
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/unreachable" && t.Effect == "NoExecute" && t.TolerationSeconds == 300 && t.OperatorProperty == "Exists");
        var tokenVolume = Assert.Single(pod.Spec.Volumes, v => v.Name.StartsWith("kube-api-access-", StringComparison.Ordinal));
        Assert.Contains(tokenVolume.Projected.Sources, s => s.ServiceAccountToken?.Path == "token");
        Assert.Contains(tokenVolume.Projected.Sources, s => s.ConfigMap?.Name == "kube-root-ca.crt");
        Assert.Contains(pod.Spec.Containers[0].VolumeMounts, m => m.Name == tokenVolume.Name && m.MountPath == "/var/run/secrets/kubernetes.io/serviceaccount" && m.ReadOnlyProperty == true);
    }
}
