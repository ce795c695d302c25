using k8s;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>The real kubectl against the target cluster.</summary>
public sealed class KubectlTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Kubectl_creates_a_job_from_a_cronjob_waits_for_it_reads_its_logs_and_deletes_it()
    {
        await using var ns = await cluster.CreateNamespaceAsync("kubectl-cron", Ct);
        const string Manifest = """
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: nightly
            spec:
              schedule: "0 3 * * *"
              suspend: true
              jobTemplate:
                spec:
                  backoffLimit: 0
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                      - name: main
                        image: busybox
                        command: ["sh", "-c", "echo nightly-run; echo second-line"]

            """;

        var apply = await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], Manifest, cancellationToken: Ct);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Equal("cronjob.batch/nightly created", apply.StandardOutput.Trim());

        var create = await cluster.KubectlAsync("create", "job", "manual-run", "--from=cronjob/nightly", "-n", ns);
        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal("job.batch/manual-run created", create.StandardOutput.Trim());

        var job = await cluster.Client.BatchV1.ReadNamespacedJobAsync("manual-run", ns, cancellationToken: Ct);
        Assert.Equal("manual", job.Metadata.Annotations["cronjob.kubernetes.io/instantiate"]);
        Assert.Equal(("CronJob", "nightly"), (job.Metadata.OwnerReferences.Single().Kind, job.Metadata.OwnerReferences.Single().Name));

        var wait = await cluster.KubectlAsync(["wait", "--for=condition=complete", "job/manual-run", "-n", ns, "--timeout=60s"], timeout: TimeSpan.FromSeconds(90), cancellationToken: Ct);
        Assert.True(wait.ExitCode == 0, wait.ToString());
        Assert.Equal("job.batch/manual-run condition met", wait.StandardOutput.Trim());

        var logs = await cluster.KubectlAsync("logs", "job/manual-run", "-n", ns);
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Equal("nightly-run\nsecond-line\n", logs.StandardOutput);

        var delete = await cluster.KubectlAsync("delete", "job", "manual-run", "-n", ns);
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Equal("job.batch \"manual-run\" deleted", delete.StandardOutput.Trim());

        var gone = await cluster.KubectlAsync("get", "job", "manual-run", "-n", ns);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("Error from server (NotFound): jobs.batch \"manual-run\" not found", gone.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubectl_get_reports_NotFound_and_exit_code_1()
    {
        await using var ns = await cluster.CreateNamespaceAsync("kubectl-get", Ct);

        var result = await cluster.KubectlAsync("get", "configmap", "nowhere", "-n", ns);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Error from server (NotFound): configmaps \"nowhere\" not found", result.StandardError.Trim());
    }
}
