using System.Runtime.InteropServices;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Cli.Tests;

/// <summary>
/// Transient runs end to end, through kubectl's plugin mechanism and jobkit itself, as real processes: outcomes are exit
/// codes, logs, and what is left in the test's namespace (nothing, whatever happened).
/// </summary>
public sealed class TransientRunTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<TestNamespace> NamespaceWithFooBatchAsync(string name)
    {
        var ns = await cluster.CreateNamespaceAsync(name, Ct);
        await cluster.Client.BatchV1.CreateNamespacedCronJobAsync(Executables.FooBatch(), ns, cancellationToken: Ct);
        return ns;
    }

    [Fact]
    public async Task Seed_scenario_even_NUM_through_kubectl_create_plugin_lookup_exits_0_and_leaves_nothing()
    {
        await using var ns = await NamespaceWithFooBatchAsync("seed-even");

        var run = await cluster.KubectlCreateTransientConfigMapAsync("foo-configmap", "--from-literal=num=2", "--job-name=test", "--job-from=cronjob/foo-batch", "-n", ns);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("NUM=2", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("job.batch/test created", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("job \"test\" completed", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("create transient_configmap completed", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(await cluster.ObjectsInAsync(ns));
    }

    [Fact]
    public async Task Seed_scenario_odd_NUM_through_the_plugin_on_PATH_exits_1_reports_the_exit_code_and_leaves_nothing()
    {
        await using var ns = await NamespaceWithFooBatchAsync("seed-odd");

        var run = await ChildProcess.RunAsync(Executables.PluginPath,
            ["foo-configmap", "--from-literal=num=3", "--job-name=test", "--job-from=cronjob/foo-batch", "-n", ns, "--kubeconfig", cluster.KubeconfigPath],
            Executables.Environment, null, Executables.CommandTimeout, Ct);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("NUM=3", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("job \"test\" failed", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("(exit code 1)", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(await cluster.ObjectsInAsync(ns));
    }

    [Fact]
    public async Task The_incident_a_scheduled_style_run_after_a_transient_one_does_not_see_its_configuration()
    {
        await using var ns = await NamespaceWithFooBatchAsync("incident");

        var manual = await cluster.KubectlCreateTransientConfigMapAsync("foo-configmap", "--from-literal=num=3", "--job-name=manual", "--job-from=cronjob/foo-batch", "-n", ns);
        Assert.True(manual.ExitCode == 1, manual.ToString());

        // What the CronJob controller would create next: the same template, untouched.
        var scheduled = await cluster.KubectlAsync("create", "job", "scheduled", "--from=cronjob/foo-batch", "-n", ns);
        Assert.True(scheduled.ExitCode == 0, scheduled.ToString());
        var job = await cluster.WaitForJobAsync(ns, "scheduled", j => j.Status?.Conditions?.Any(c => c.Type is "Complete" or "Failed" && c.Status == "True") == true, "the scheduled-style Job to finish");
        Assert.Contains(job.Status.Conditions, c => c.Type == "Complete" && c.Status == "True");
        var pod = Assert.Single(await cluster.JobPodsAsync(ns, "scheduled"));
        Assert.Contains("no NUM: a scheduled run", await cluster.ReadLogAsync(ns, pod.Metadata.Name), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_runs_own_Job_reads_the_transient_ConfigMap_and_the_CronJob_is_unchanged()
    {
        await using var ns = await NamespaceWithFooBatchAsync("isolation");
        var before = await cluster.Client.BatchV1.ReadNamespacedCronJobAsync("foo-batch", ns, cancellationToken: Ct);

        var dryRun = await cluster.JobkitAsync("run", "--from", "cronjob/foo-batch", "--job-name", "manual", "--configmap", "foo-configmap", "--from-literal=num=2", "-n", ns, "--dry-run=server", "-o", "yaml");

        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        var objects = KubernetesYaml.LoadAllFromString(dryRun.StandardOutput);
        var job = Assert.IsType<V1Job>(objects[0]);
        var configMap = Assert.IsType<V1ConfigMap>(objects[1]);
        Assert.StartsWith("foo-configmap-", configMap.Metadata.Name, StringComparison.Ordinal);
        Assert.Equal(configMap.Metadata.Name, job.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name);
        Assert.True(job.Spec.Suspend);
        Assert.Equal("manual", job.Metadata.Annotations["cronjob.kubernetes.io/instantiate"]);
        Assert.Equal("batch", job.Metadata.Labels["team"]);
        Assert.Equal("jobkit", job.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Equal(job.Metadata.Labels["jobkit.dev/run-id"], configMap.Metadata.Labels["jobkit.dev/run-id"]);
        Assert.Equal("Job", Assert.Single(configMap.Metadata.OwnerReferences).Kind);
        Assert.Equal("2", configMap.Data["num"]);
        var after = await cluster.Client.BatchV1.ReadNamespacedCronJobAsync("foo-batch", ns, cancellationToken: Ct);
        Assert.Equal(before.Metadata.ResourceVersion, after.Metadata.ResourceVersion);
        Assert.Equal("foo-configmap", after.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name);
        Assert.Empty(await cluster.ObjectsInAsync(ns));
    }

    [Fact]
    public async Task A_Job_running_longer_than_30_seconds_is_waited_for_and_succeeds()
    {
        await using var ns = await cluster.CreateNamespaceAsync("long", Ct);

        var run = await cluster.JobkitAsync("run", "--image", "busybox:1.36", "--job-name", "long", "--from-literal=GREETING=hello", "-n", ns,
            "--", "sh", "-c", "sleep 35; echo \"$GREETING after 35 s\"");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("hello after 35 s", run.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(await cluster.ObjectsInAsync(ns));
    }

    [Theory]
    [InlineData(PosixSignal.SIGINT, 130)]
    [InlineData(PosixSignal.SIGTERM, 143)]
    public async Task A_signal_mid_run_stops_the_Job_and_deletes_everything_before_exiting(PosixSignal signal, int exitCode)
    {
        await using var ns = await cluster.CreateNamespaceAsync("signal", Ct);
        using var run = cluster.StartJobkit("run", "--image", "busybox:1.36", "--job-name", "interrupted", "--from-literal=A=1", "-n", ns, "--", "sh", "-c", "echo started; sleep 300");
        await run.WaitForOutputAsync("started", TimeSpan.FromSeconds(90), Ct);

        run.Signal(signal);
        var result = await run.WaitForExitAsync(TimeSpan.FromSeconds(120), Ct);

        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains("job.batch \"interrupted\" deleted", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(await cluster.ObjectsInAsync(ns));
    }

    [Fact]
    public async Task A_run_killed_outright_is_cleaned_up_by_Kubernetes_itself_after_the_Job_finishes()
    {
        await using var ns = await cluster.CreateNamespaceAsync("sigkill", Ct);
        using var run = cluster.StartJobkit("run", "--image", "busybox:1.36", "--job-name", "killed", "--from-literal=A=1", "--ttl-seconds-after-finished=1", "-n", ns,
            "--", "sh", "-c", "echo started; sleep 3");
        await run.WaitForOutputAsync("started", TimeSpan.FromSeconds(90), Ct);
        Assert.NotEmpty(await cluster.ObjectsInAsync(ns));

        run.KillOutright();
        await run.WaitForExitAsync(TimeSpan.FromSeconds(30), Ct);

        // ttlSecondsAfterFinished removes the Job; the garbage collector its pods and the ConfigMap it owns.
        await cluster.WaitForAsync(() => cluster.ObjectsInAsync(ns), left => left.Count == 0, TimeSpan.FromSeconds(120), "the killed run's Job, pods and ConfigMap to be garbage collected", Ct);
    }

    [Fact]
    public async Task Gc_lists_then_deletes_the_leftovers_of_a_killed_run_and_leaves_other_objects_alone()
    {
        await using var ns = await cluster.CreateNamespaceAsync("gc", Ct);
        await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "unrelated" } }, ns, cancellationToken: Ct);
        using var run = cluster.StartJobkit("run", "--image", "busybox:1.36", "--job-name", "leftover", "--from-literal=A=1", "-n", ns, "--", "sh", "-c", "echo started; sleep 2");
        await run.WaitForOutputAsync("started", TimeSpan.FromSeconds(90), Ct);
        run.KillOutright();
        await run.WaitForExitAsync(TimeSpan.FromSeconds(30), Ct);
        await cluster.WaitForJobAsync(ns, "leftover", j => j.Status?.Conditions?.Any(c => c.Type == "Complete" && c.Status == "True") == true, "the abandoned run's Job to complete");

        var listed = await cluster.JobkitAsync("gc", "--dry-run", "-n", ns);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("job.batch/leftover", listed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("configmap/leftover-", listed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("job/leftover", await cluster.ObjectsInAsync(ns));

        var collected = await cluster.JobkitAsync("gc", "-n", ns);
        Assert.True(collected.ExitCode == 0, collected.ToString());
        await cluster.WaitForAsync(() => cluster.ObjectsInAsync(ns), left => left.SequenceEqual(["configmap/unrelated"]), TimeSpan.FromSeconds(60), "only the unrelated ConfigMap to remain", Ct);
    }

    [Fact]
    public async Task Keep_on_failure_leaves_the_Job_and_ConfigMap_and_says_how_to_delete_them()
    {
        await using var ns = await NamespaceWithFooBatchAsync("keep");

        var run = await cluster.JobkitAsync("run", "--from", "cronjob/foo-batch", "--job-name", "kept", "--configmap", "foo-configmap", "--from-literal=num=1", "--keep-on-failure", "-n", ns);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"kubectl delete job kept -n {ns.Name}", run.StandardError, StringComparison.Ordinal);
        var left = await cluster.ObjectsInAsync(ns);
        Assert.Contains("job/kept", left);
        Assert.Contains(left, o => o.StartsWith("configmap/foo-configmap-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Timeout_stops_the_wait_cleans_up_and_exits_124()
    {
        await using var ns = await cluster.CreateNamespaceAsync("timeout", Ct);

        var run = await cluster.JobkitAsync("run", "--image", "busybox:1.36", "--job-name", "slow", "--timeout=3s", "-n", ns, "--", "sleep", "300");

        Assert.True(run.ExitCode == 124, run.ToString());
        Assert.Empty(await cluster.ObjectsInAsync(ns));
    }

    [Fact]
    public async Task A_run_from_a_Job_manifest_streams_its_log_and_exits_0()
    {
        await using var ns = await cluster.CreateNamespaceAsync("manifest", Ct);
        var manifest = Path.Combine(Path.GetTempPath(), $"jobkit-{ns.Name}.yaml");
        await File.WriteAllTextAsync(manifest, """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: from-manifest
            spec:
              backoffLimit: 0
              template:
                spec:
                  restartPolicy: Never
                  containers:
                    - name: main
                      image: busybox:1.36
                      command: ["sh", "-c", "echo from a manifest"]
            """, Ct);
        try
        {
            var run = await cluster.JobkitAsync("run", "-f", manifest, "-n", ns);

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("from a manifest", run.StandardOutput, StringComparison.Ordinal);
            Assert.Empty(await cluster.ObjectsInAsync(ns));
        }
        finally
        {
            File.Delete(manifest);
        }
    }

    [Fact]
    public async Task Logs_of_a_Job_with_several_pods_are_prefixed_with_pod_and_container()
    {
        await using var ns = await cluster.CreateNamespaceAsync("parallel", Ct);
        var manifest = Path.Combine(Path.GetTempPath(), $"jobkit-{ns.Name}.yaml");
        await File.WriteAllTextAsync(manifest, """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: pair
            spec:
              completions: 2
              parallelism: 2
              template:
                spec:
                  restartPolicy: Never
                  containers:
                    - name: worker
                      image: busybox:1.36
                      command: ["sh", "-c", "echo working"]
            """, Ct);
        try
        {
            var run = await cluster.JobkitAsync("run", "-f", manifest, "-n", ns);

            Assert.True(run.ExitCode == 0, run.ToString());
            var lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.All(lines, line => Assert.Matches(@"^\[pod/pair-[a-z0-9]+/worker\] working$", line));
            Assert.Empty(await cluster.ObjectsInAsync(ns));
        }
        finally
        {
            File.Delete(manifest);
        }
    }

    [Fact]
    public async Task Client_dry_run_prints_a_List_and_creates_nothing_and_logs_false_prints_no_log()
    {
        await using var ns = await NamespaceWithFooBatchAsync("dry-run");

        var dryRun = await cluster.KubectlCreateTransientConfigMapAsync("foo-configmap", "--from-literal=num=2", "--job-name=test", "--job-from=cronjob/foo-batch", "-n", ns, "--dry-run=client", "-o", "json");

        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        var list = System.Text.Json.Nodes.JsonNode.Parse(dryRun.StandardOutput)!;
        Assert.Equal("List", (string?)list["kind"]);
        Assert.Equal(["Job", "ConfigMap"], list["items"]!.AsArray().Select(i => (string?)i!["kind"]));
        Assert.Empty(await cluster.ObjectsInAsync(ns));

        var quiet = await cluster.KubectlCreateTransientConfigMapAsync("foo-configmap", "--from-literal=num=2", "--job-name=test", "--job-from=cronjob/foo-batch", "-n", ns, "--logs=false");

        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.Equal("", quiet.StandardOutput);
        Assert.Empty(await cluster.ObjectsInAsync(ns));
    }
}
