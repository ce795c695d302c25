using System.Globalization;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>The CronJob controller creating Jobs on schedule.</summary>
public sealed class CronJobTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    [Fact]
    public async Task CronJob_every_minute_creates_a_job_named_after_the_scheduled_minute()
    {
        await using var ns = await cluster.CreateNamespaceAsync("cron-minute", Ct);
        var cronJob = await Client.BatchV1.CreateNamespacedCronJobAsync(
            new V1CronJob
            {
                Metadata = new V1ObjectMeta { Name = "ticker" },
                Spec = new V1CronJobSpec
                {
                    Schedule = "* * * * *",
                    ConcurrencyPolicy = "Forbid",
                    JobTemplate = new V1JobTemplateSpec
                    {
                        Spec = new V1JobSpec
                        {
                            Template = new V1PodTemplateSpec
                            {
                                Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [Objects.Container("echo tick")] },
                            },
                        },
                    },
                },
            },
            ns,
            cancellationToken: Ct);
        Assert.Equal(3, cronJob.Spec.SuccessfulJobsHistoryLimit);
        Assert.Equal(1, cronJob.Spec.FailedJobsHistoryLimit);

        // the next minute boundary is at most 60 s away; the controller may take a few seconds more
        var jobs = await cluster.WaitForAsync(
            async () => (await Client.BatchV1.ListNamespacedJobAsync(ns, cancellationToken: Ct)).Items,
            items => items.Count > 0,
            TimeSpan.FromSeconds(80),
            "the cronjob to create its first job",
            Ct);

        var job = jobs[0];
        var scheduled = DateTimeOffset.Parse(job.Metadata.Annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"], CultureInfo.InvariantCulture);
        Assert.Equal(0, scheduled.Second);
        Assert.Equal($"ticker-{scheduled.ToUnixTimeSeconds() / 60}", job.Metadata.Name);
        var owner = Assert.Single(job.Metadata.OwnerReferences);
        Assert.Equal(("CronJob", "ticker", cronJob.Metadata.Uid, true), (owner.Kind, owner.Name, owner.Uid, owner.Controller));

        var finished = await cluster.WaitForJobAsync(ns, job.Metadata.Name, j => j.IsFinished(), "Complete or Failed");
        Assert.True(finished.HasCondition("Complete"), $"expected Complete, got {Waiting.Describe(finished.Status)}");
        var status = await cluster.WaitForAsync(
            () => Client.BatchV1.ReadNamespacedCronJobAsync("ticker", ns, cancellationToken: Ct),
            c => c.Status?.LastSuccessfulTime is not null,
            TimeSpan.FromSeconds(30),
            "cronjob status.lastSuccessfulTime",
            Ct);
        Assert.True(status.Status.LastScheduleTime?.ToUniversalTime() >= scheduled.UtcDateTime, $"lastScheduleTime {status.Status.LastScheduleTime:o} is the scheduled time of the last job (>= {scheduled:o})");
    }
}
