using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Cli.Tests;

/// <summary>
/// <c>jobkit config apply</c> end to end, as a real process against a cluster with a kubelet: Deployments roll onto the
/// new version, identical data changes nothing, old versions are pruned only when nothing reads them, bad input touches nothing.
/// </summary>
public sealed class ConfigApplyTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    /// <summary>A Deployment of one <c>sleep 3600</c> pod reading ConfigMap <paramref name="configMap"/> as env and as a volume.</summary>
    private static V1Deployment Web(string name, string configMap, int replicas = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec
                {
                    TerminationGracePeriodSeconds = 1,
                    Containers =
                    [
                        new V1Container
                        {
                            Name = "main",
                            Image = Objects.Image,
                            Command = ["sleep", "3600"],
                            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = configMap } }],
                            VolumeMounts = [new V1VolumeMount { Name = "config", MountPath = "/etc/config" }],
                        },
                    ],
                    Volumes = [new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = configMap } }],
                },
            },
        },
    };

    private static V1CronJob Report(string configMap) => new()
    {
        Metadata = new V1ObjectMeta { Name = "report" },
        Spec = new V1CronJobSpec
        {
            Schedule = "0 0 1 1 *",
            JobTemplate = new V1JobTemplateSpec
            {
                Spec = new V1JobSpec
                {
                    Template = new V1PodTemplateSpec
                    {
                        Spec = new V1PodSpec
                        {
                            RestartPolicy = "Never",
                            Containers = [new V1Container { Name = "main", Image = Objects.Image, Command = ["true"], EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = configMap } }] }],
                        },
                    },
                },
            },
        },
    };

    /// <summary>A namespace with the unhashed ConfigMap app and Deployment web reading it, rolled out.</summary>
    private async Task<TestNamespace> WebReadingAppAsync(string name)
    {
        var ns = await cluster.CreateNamespaceAsync(name, Ct);
        await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("app", new Dictionary<string, string> { ["GREETING"] = "base" }), ns, cancellationToken: Ct);
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(Web("web", "app"), ns, cancellationToken: Ct);
        return ns;
    }

    private async Task<V1Deployment> RolledOutAsync(string ns, string name) =>
        await cluster.WaitForAsync(
            () => cluster.Client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: Ct),
            d => d.Status?.ObservedGeneration >= d.Metadata.Generation && d.Status.UpdatedReplicas == 1 && d.Status.Replicas == 1 && d.Status.AvailableReplicas == 1,
            Workloads.PodTimeout,
            $"deployment {name} to roll out",
            Ct);

    private async Task<List<string>> ConfigMapNamesAsync(string ns) =>
        [.. (await cluster.Client.CoreV1.ListNamespacedConfigMapAsync(ns, cancellationToken: Ct)).Items.Select(c => c.Metadata.Name).Where(n => n != "kube-root-ca.crt").Order(StringComparer.Ordinal)];

    private static string Created(ProcessResult result)
    {
        var line = Assert.Single(result.StandardOutput.Split('\n'), l => l.StartsWith("configmap/", StringComparison.Ordinal) && l.EndsWith(" created", StringComparison.Ordinal));
        return line["configmap/".Length..^" created".Length];
    }

    [Fact]
    public async Task First_apply_rolls_the_deployment_onto_the_new_version_and_identical_data_changes_nothing()
    {
        await using var ns = await WebReadingAppAsync("cfg-first");
        await RolledOutAsync(ns, "web");

        var apply = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "GREETING=hello", "--to", "deployment/web", "-n", ns);

        Assert.True(apply.ExitCode == 0, apply.ToString());
        var version = Created(apply);
        Assert.Matches("^app-[2456789bcdfghkmt]{10}$", version);
        Assert.Contains("deployment.apps/web configured", apply.StandardOutput, StringComparison.Ordinal);
        var configMap = await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync(version, ns, cancellationToken: Ct);
        Assert.True(configMap.Immutable);
        Assert.Equal("hello", configMap.Data["GREETING"]);
        Assert.Equal("jobkit", configMap.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Equal("app", configMap.Metadata.Labels["jobkit.dev/config-name"]);

        // The Deployment rolls to a new ReplicaSet whose running pod reads the new version.
        var web = await RolledOutAsync(ns, "web");
        Assert.Equal("2", web.Metadata.Annotations[RevisionAnnotation]);
        var pods = await cluster.WaitForAsync(
            async () => (await cluster.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=web", cancellationToken: Ct)).Items.Where(p => p.Metadata.DeletionTimestamp is null).ToList(),
            ps => ps.Count == 1 && ps[0].Condition("Ready")?.Status == "True",
            Workloads.PodTimeout,
            "one ready pod of web",
            Ct);
        Assert.Equal(version, pods[0].Spec.Volumes.Single(v => v.Name == "config").ConfigMap.Name);
        Assert.Equal(version, pods[0].Spec.Containers[0].EnvFrom.Single().ConfigMapRef.Name);
        Assert.Contains(version, await ConfigMapNamesAsync(ns));
        Assert.Contains("app", await ConfigMapNamesAsync(ns)); // the unhashed original is never pruned

        // The same data again: nothing is created or configured, the Deployment's generation stays.
        var again = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "GREETING=hello", "--to", "deployment/web", "-n", ns, "--wait");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains($"configmap/{version} unchanged", again.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/web unchanged", again.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("no change", again.StandardError, StringComparison.Ordinal);
        var after = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns, cancellationToken: Ct);
        Assert.Equal(web.Metadata.Generation, after.Metadata.Generation);
        Assert.Equal("2", after.Metadata.Annotations[RevisionAnnotation]);
    }

    [Fact]
    public async Task Changed_data_rolls_out_with_wait_and_keep_1_prunes_versions_nothing_reads()
    {
        await using var ns = await WebReadingAppAsync("cfg-roll");
        // Someone else's look-alike (e.g. made by kustomize): unlabelled, so never jobkit's to prune.
        await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("app-bbbbbbbbbb"), ns, cancellationToken: Ct);

        var first = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "GREETING=one", "--to", "deployment/web", "-n", ns, "--wait");
        Assert.True(first.ExitCode == 0, first.ToString());
        var v1 = Created(first);
        Assert.Contains("deployment \"web\" successfully rolled out", first.StandardError, StringComparison.Ordinal);
        var rolled = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns, cancellationToken: Ct);
        Assert.Equal("2", rolled.Metadata.Annotations[RevisionAnnotation]);
        Assert.True(rolled.Status.ObservedGeneration >= rolled.Metadata.Generation && rolled.Status.UpdatedReplicas == 1 && rolled.Status.AvailableReplicas == 1, Waiting.Describe(rolled.Status));

        var second = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "GREETING=two", "--to", "deployment/web", "-n", ns, "--wait");
        Assert.True(second.ExitCode == 0, second.ToString());
        var v2 = Created(second);
        Assert.NotEqual(v1, v2);
        // --wait returned once kubectl rollout status would: the new ReplicaSet (revision 3) has the pod, the old ones none.
        var web = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns, cancellationToken: Ct);
        Assert.Equal("3", web.Metadata.Annotations[RevisionAnnotation]);
        Assert.True(web.Status.ObservedGeneration >= web.Metadata.Generation && web.Status.UpdatedReplicas == 1 && web.Status.Replicas == 1 && web.Status.AvailableReplicas == 1, Waiting.Describe(web.Status));
        var replicaSets = (await cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(ns, cancellationToken: Ct)).Items;
        Assert.Equal(3, replicaSets.Count);
        var current = Assert.Single(replicaSets, r => r.Spec.Replicas > 0);
        Assert.Equal("3", current.Metadata.Annotations[RevisionAnnotation]);
        Assert.Equal(v2, current.Spec.Template.Spec.Volumes.Single().ConfigMap.Name);
        // Default --keep 3: nothing pruned yet.
        Assert.Equal(new[] { "app", "app-bbbbbbbbbb", v1, v2 }.Order(StringComparer.Ordinal), await ConfigMapNamesAsync(ns));

        var third = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "GREETING=three", "--to", "deployment/web", "-n", ns, "--wait", "--keep", "1");

        Assert.True(third.ExitCode == 0, third.ToString());
        var v3 = Created(third);
        Assert.Contains($"configmap/{v1} pruned", third.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"configmap/{v2} pruned", third.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(new[] { "app", "app-bbbbbbbbbb", v3 }.Order(StringComparer.Ordinal), await ConfigMapNamesAsync(ns));
    }

    [Fact]
    public async Task A_version_a_cronjob_still_reads_is_kept_whatever_keep_says()
    {
        await using var ns = await WebReadingAppAsync("cfg-kept");
        await cluster.Client.BatchV1.CreateNamespacedCronJobAsync(Report("app"), ns, cancellationToken: Ct);

        var first = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "GREETING=one", "--to", "deployment/web,cronjob/report", "-n", ns);
        Assert.True(first.ExitCode == 0, first.ToString());
        var v1 = Created(first);
        Assert.Contains("cronjob.batch/report configured", first.StandardOutput, StringComparison.Ordinal);
        var report = await cluster.Client.BatchV1.ReadNamespacedCronJobAsync("report", ns, cancellationToken: Ct);
        Assert.Equal(v1, report.Spec.JobTemplate.Spec.Template.Spec.Containers[0].EnvFrom.Single().ConfigMapRef.Name);

        // Only the Deployment moves on: the CronJob still reads v1, so --keep 1 must not prune it.
        var second = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "GREETING=two", "--to", "deployment/web", "-n", ns, "--wait", "--keep", "1");

        Assert.True(second.ExitCode == 0, second.ToString());
        var v2 = Created(second);
        Assert.DoesNotContain("pruned", second.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"configmap/{v1} kept: still read by cronjob.batch/report", second.StandardError, StringComparison.Ordinal);
        Assert.Equal(new[] { "app", v1, v2 }.Order(StringComparer.Ordinal), await ConfigMapNamesAsync(ns));
    }

    [Fact]
    public async Task A_failed_rollout_exits_1_prints_the_undo_command_and_prunes_nothing()
    {
        await using var ns = await WebReadingAppAsync("cfg-fail");
        var first = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "MODE=ok", "--to", "deployment/web", "-n", ns, "--wait");
        Assert.True(first.ExitCode == 0, first.ToString());
        var v1 = Created(first);
        // From now on a pod stays up only with MODE=ok (else it exits after half a second, before the 2 s minReadySeconds make it
        // available), and the Deployment gives up after 3 s without progress.
        await ApiAssert.RetryOnConflictAsync(async () =>
        {
            var web = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns, cancellationToken: Ct);
            web.Spec.ProgressDeadlineSeconds = 3;
            web.Spec.MinReadySeconds = 2;
            web.Spec.Template.Spec.Containers[0].Command = ["sh", "-c", "[ \"$MODE\" = ok ] && exec sleep 3600; sleep 0.5; exit 1"];
            return await cluster.Client.AppsV1.ReplaceNamespacedDeploymentAsync(web, "web", ns, cancellationToken: Ct);
        });
        await RolledOutAsync(ns, "web");

        var broken = await cluster.JobkitConfigAsync("apply", "app", "--from-literal", "MODE=broken", "--to", "deployment/web", "-n", ns, "--wait", "--keep", "1", "--timeout", "90s");

        Assert.True(broken.ExitCode == 1, broken.ToString());
        Assert.Contains("deployment \"web\" exceeded its progress deadline", broken.StandardError, StringComparison.Ordinal);
        Assert.Contains($"kubectl rollout undo deployment/web -n {ns}", broken.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("pruned", broken.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(v1, await ConfigMapNamesAsync(ns));
    }

    [Fact]
    public async Task Bad_input_exits_2_and_changes_nothing()
    {
        await using var ns = await WebReadingAppAsync("cfg-bad");
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(Web("other", "unrelated", replicas: 0), ns, cancellationToken: Ct);
        var before = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns, cancellationToken: Ct);
        var configMaps = await ConfigMapNamesAsync(ns);

        (string[] Arguments, string Error)[] cases =
        [
            (["--from-literal", "GREETING=x", "--to", "deployment/web,deployment/missing"], "error: deployment/missing: not found in namespace"),
            (["--from-literal", "GREETING=x", "--to", "deployment/web,deployment/other"], "error: deployment/other does not read configmap app"),
            (["--from-literal", "bad key=x", "--to", "deployment/web"], "error: --from-literal"),
            (["--from-literal", "GREETING=x", "--to", "pod/web"], "error: --to: unsupported kind \"pod\""),
            (["--from-literal", "GREETING=x", "--to", "deployment/web", "--keep", "0"], "error: --keep"),
            (["--from-literal", "GREETING=x", "--to", "deployment/web", "--secret"], "error: deployment/web does not read secret app"),
        ];
        foreach (var (arguments, error) in cases)
        {
            var result = await cluster.JobkitConfigAsync("apply", ["app", .. arguments, "-n", ns]);
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.StartsWith(error, result.StandardError, StringComparison.Ordinal);
            Assert.Empty(result.StandardOutput);
        }

        Assert.Equal(configMaps, await ConfigMapNamesAsync(ns));
        Assert.Empty((await cluster.Client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: "app.kubernetes.io/managed-by=jobkit", cancellationToken: Ct)).Items);
        var after = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", ns, cancellationToken: Ct);
        Assert.Equal(before.Metadata.Generation, after.Metadata.Generation);
        Assert.Equal("app", after.Spec.Template.Spec.Volumes.Single().ConfigMap.Name);
    }
}
