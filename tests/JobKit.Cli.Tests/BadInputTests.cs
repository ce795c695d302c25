using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Cli.Tests;

/// <summary>Bad input: a one-line error naming the flag, exit 2, and the namespace exactly as it was.</summary>
public sealed class BadInputTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task AssertRefusedAsync(TestNamespace ns, string expectedError, params string[] pluginArguments)
    {
        var before = await cluster.ObjectsInAsync(ns);
        var run = await cluster.KubectlCreateTransientConfigMapAsync([.. pluginArguments, "-n", ns]);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(expectedError, run.StandardError, StringComparison.Ordinal);
        Assert.StartsWith("error: ", run.StandardError.Split('\n').First(l => l.StartsWith("error: ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(before, await cluster.ObjectsInAsync(ns));
    }

    [Fact]
    public async Task Each_bad_input_is_refused_before_anything_is_created()
    {
        await using var ns = await cluster.CreateNamespaceAsync("bad-input", Ct);
        await cluster.Client.BatchV1.CreateNamespacedCronJobAsync(Executables.FooBatch(), ns, cancellationToken: Ct);
        var dir = Directory.CreateTempSubdirectory("jobkit-bad-input-");
        try
        {
            var malformedEnv = Path.Combine(dir.FullName, "bad.env");
            await File.WriteAllTextAsync(malformedEnv, "GOOD=1\nexport BAD=2\n", Ct);
            var large = Path.Combine(dir.FullName, "large");
            await File.WriteAllTextAsync(large, new string('x', 1024 * 1024 + 1), Ct);
            string[] run = ["--job-name=test", "--job-from=cronjob/foo-batch"];

            await AssertRefusedAsync(ns, "NAME", ["Foo_ConfigMap", "--from-literal=num=2", .. run]);
            await AssertRefusedAsync(ns, "--job-name", ["foo-configmap", "--from-literal=num=2", "--job-name=Not_A_Name", "--job-from=cronjob/foo-batch"]);
            await AssertRefusedAsync(ns, "--from-literal", ["foo-configmap", "--from-literal=bad key=2", .. run]);
            await AssertRefusedAsync(ns, "num", ["foo-configmap", "--from-literal=num=2", "--from-literal=num=4", .. run]);
            await AssertRefusedAsync(ns, "--from-literal", ["foo-configmap", "--from-literal=novalue", .. run]);
            await AssertRefusedAsync(ns, "--from-file", ["foo-configmap", $"--from-file={Path.Combine(dir.FullName, "missing")}", .. run]);
            await AssertRefusedAsync(ns, "--from-env-file", ["foo-configmap", $"--from-env-file={malformedEnv}", .. run]);
            await AssertRefusedAsync(ns, "1048576", ["foo-configmap", $"--from-file=num={large}", .. run]);
            await AssertRefusedAsync(ns, "cronjob.batch \"absent\" not found", ["foo-configmap", "--from-literal=num=2", "--job-name=test", "--job-from=cronjob/absent"]);
            await AssertRefusedAsync(ns, "never reads configmap \"other-configmap\"", ["other-configmap", "--from-literal=num=2", .. run]);
            await AssertRefusedAsync(ns, "--job-from", ["foo-configmap", "--from-literal=num=2", "--job-name=test", "--job-from=deployment/foo-batch"]);
            await AssertRefusedAsync(ns, "--context", ["foo-configmap", "--from-literal=num=2", "--context=no-such-context", .. run]);
            await AssertRefusedAsync(ns, "--job-name", ["foo-configmap", "--from-literal=num=2", "--job-from=cronjob/foo-batch"]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_Job_name_already_taken_is_refused_and_that_Job_is_left_untouched()
    {
        await using var ns = await cluster.CreateNamespaceAsync("job-taken", Ct);
        await cluster.Client.BatchV1.CreateNamespacedCronJobAsync(Executables.FooBatch(), ns, cancellationToken: Ct);
        var existing = await cluster.Client.BatchV1.CreateNamespacedJobAsync(new V1Job
        {
            Metadata = new V1ObjectMeta { Name = "test" },
            Spec = new V1JobSpec
            {
                Suspend = true,
                Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "c", Image = "busybox:1.36", Command = ["true"] }] } },
            },
        }, ns, cancellationToken: Ct);

        await AssertRefusedAsync(ns, "job.batch \"test\" already exists", "foo-configmap", "--from-literal=num=2", "--job-name=test", "--job-from=cronjob/foo-batch");

        var after = await cluster.Client.BatchV1.ReadNamespacedJobAsync("test", ns, cancellationToken: Ct);
        Assert.Equal(existing.Metadata.Uid, after.Metadata.Uid);
        Assert.Null(after.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task A_pre_existing_ConfigMap_NAME_is_refused_and_left_untouched()
    {
        await using var ns = await cluster.CreateNamespaceAsync("cm-exists", Ct);
        await cluster.Client.BatchV1.CreateNamespacedCronJobAsync(Executables.FooBatch(), ns, cancellationToken: Ct);
        var existing = await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "foo-configmap" }, Data = new Dictionary<string, string> { ["num"] = "8" } }, ns, cancellationToken: Ct);

        await AssertRefusedAsync(ns, "configmap \"foo-configmap\" already exists", "foo-configmap", "--from-literal=num=2", "--job-name=test", "--job-from=cronjob/foo-batch");

        var after = await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync("foo-configmap", ns, cancellationToken: Ct);
        Assert.Equal(existing.Metadata.ResourceVersion, after.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Usage_errors_exit_2_without_a_cluster()
    {
        var noSource = await ChildProcess.RunAsync(Executables.Jobkit, ["run", "--kubeconfig", cluster.KubeconfigPath], Executables.Environment, null, Executables.CommandTimeout, Ct);
        Assert.True(noSource.ExitCode == 2, noSource.ToString());
        var unknownFlag = await ChildProcess.RunAsync(Executables.PluginPath, ["foo", "--no-such-flag"], Executables.Environment, null, Executables.CommandTimeout, Ct);
        Assert.True(unknownFlag.ExitCode == 2, unknownFlag.ToString());
        var noKubeconfig = await ChildProcess.RunAsync(Executables.Jobkit, ["run", "--image", "x", "--kubeconfig", "/nonexistent/kubeconfig"], Executables.Environment, null, Executables.CommandTimeout, Ct);
        Assert.True(noKubeconfig.ExitCode == 2, noKubeconfig.ToString());
        Assert.Contains("--kubeconfig", noKubeconfig.StandardError, StringComparison.Ordinal);
    }
}
