using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>Jobs run by the Job controller and a kubelet, end to end. Pods run <c>sh -c</c> commands.</summary>
public sealed class JobLifecycleTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    [Fact]
    public async Task Job_runs_to_Complete_with_SuccessCriteriaMet_and_completionTime()
    {
        await using var ns = await cluster.CreateNamespaceAsync("job-complete", Ct);
        var created = await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("ok", "echo job-ran"), ns, cancellationToken: Ct);

        var job = await cluster.WaitForJobAsync(ns, "ok", j => j.IsFinished(), "Complete or Failed");

        Assert.True(job.HasCondition("Complete"), $"expected Complete, got {Waiting.Describe(job.Status)}");
        Assert.True(job.HasCondition("SuccessCriteriaMet"), "SuccessCriteriaMet precedes Complete");
        var types = job.Status.Conditions.Select(c => c.Type).ToList();
        Assert.True(types.IndexOf("SuccessCriteriaMet") < types.IndexOf("Complete"), $"conditions in order SuccessCriteriaMet, Complete: [{string.Join(", ", types)}]");
        Assert.False(job.HasCondition("Failed"));
        Assert.Equal(1, job.Status.Succeeded);
        Assert.True(job.Status.Failed is null or 0);
        Assert.True(job.Status.Active is null or 0);
        Assert.NotNull(job.Status.StartTime);
        Assert.NotNull(job.Status.CompletionTime);
        Assert.True(job.Status.CompletionTime >= job.Status.StartTime);

        var pod = Assert.Single(await cluster.JobPodsAsync(ns, "ok"));
        Assert.Equal("Succeeded", pod.Status.Phase);
        Assert.Matches("^ok-[a-z0-9]{5}$", pod.Metadata.Name);
        Assert.Equal("ok", pod.Metadata.Labels["job-name"]);
        Assert.Equal(created.Metadata.Uid, pod.Metadata.Labels["controller-uid"]);
        var owner = Assert.Single(pod.Metadata.OwnerReferences);
        Assert.Equal(("Job", "ok", created.Metadata.Uid, true, true), (owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion));
        var terminated = pod.MainStatus().State.Terminated;
        Assert.NotNull(terminated);
        Assert.Equal((0, "Completed"), (terminated.ExitCode, terminated.Reason));
        await cluster.WaitForPodAsync(ns, pod.Metadata.Name, p => p.Metadata.Finalizers is null || !p.Metadata.Finalizers.Contains("batch.kubernetes.io/job-tracking"), "job-tracking finalizer removed");
        Assert.Contains("job-ran", await cluster.ReadLogAsync(ns, pod.Metadata.Name), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Job_with_backoffLimit_1_fails_with_BackoffLimitExceeded_after_2_failed_pods()
    {
        await using var ns = await cluster.CreateNamespaceAsync("job-backoff", Ct);
        await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("doomed", "echo failing; exit 3", s => s.BackoffLimit = 1), ns, cancellationToken: Ct);

        // the controller waits ~10 s (exponential back-off) before it replaces the first failed pod
        var job = await cluster.WaitForJobAsync(ns, "doomed", j => j.IsFinished(), "Complete or Failed", TimeSpan.FromSeconds(150));

        var failed = job.Condition("Failed");
        Assert.True(failed?.Status == "True", $"expected Failed, got {Waiting.Describe(job.Status)}");
        Assert.Equal("BackoffLimitExceeded", failed.Reason);
        Assert.Equal("Job has reached the specified backoff limit", failed.Message);
        var target = job.Condition("FailureTarget");
        Assert.True(target?.Status == "True", "FailureTarget precedes Failed");
        Assert.Equal("BackoffLimitExceeded", target.Reason);
        Assert.False(job.HasCondition("Complete"));
        Assert.Equal(2, job.Status.Failed);
        Assert.True(job.Status.Succeeded is null or 0);
        Assert.Null(job.Status.CompletionTime);

        var pods = await cluster.JobPodsAsync(ns, "doomed");
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p =>
        {
            Assert.Equal("Failed", p.Status.Phase);
            Assert.Equal((3, "Error"), (p.MainStatus().State.Terminated.ExitCode, p.MainStatus().State.Terminated.Reason));
        });
    }

    [Fact]
    public async Task Job_past_activeDeadlineSeconds_fails_with_DeadlineExceeded()
    {
        await using var ns = await cluster.CreateNamespaceAsync("job-deadline", Ct);
        await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("slow", "sleep 300", s => s.ActiveDeadlineSeconds = 3), ns, cancellationToken: Ct);

        var job = await cluster.WaitForJobAsync(ns, "slow", j => j.HasCondition("Failed"), "Failed");

        var failed = job.Condition("Failed");
        Assert.Equal("DeadlineExceeded", failed!.Reason);
        Assert.Equal("Job was active longer than specified deadline", failed.Message);
        Assert.Equal("DeadlineExceeded", job.Condition("FailureTarget")?.Reason);
        Assert.True(job.Status.Active is null or 0, "the running pod is terminated");
        await cluster.WaitForAsync(
            () => cluster.JobPodsAsync(ns, "slow"),
            pods => pods.All(p => p.Metadata.DeletionTimestamp is not null || p.Status.Phase is "Failed" or "Succeeded"),
            Workloads.PodTimeout,
            "the job's pod to be terminated",
            Ct);
    }

    [Fact]
    public async Task Suspended_job_creates_no_pods_and_runs_when_resumed()
    {
        await using var ns = await cluster.CreateNamespaceAsync("job-suspend", Ct);
        await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("later", "echo resumed", s => s.Suspend = true), ns, cancellationToken: Ct);

        // once the controller has reported Suspended it has handled the job: no pod may exist
        var suspended = await cluster.WaitForJobAsync(ns, "later", j => j.HasCondition("Suspended"), "condition Suspended=True");
        Assert.Equal(("JobSuspended", "Job suspended"), (suspended.Condition("Suspended")!.Reason, suspended.Condition("Suspended")!.Message));
        Assert.Empty(await cluster.JobPodsAsync(ns, "later"));
        Assert.Null(suspended.Status.StartTime);

        await Client.BatchV1.PatchNamespacedJobAsync(new V1Patch("""{"spec":{"suspend":false}}""", V1Patch.PatchType.MergePatch), "later", ns, cancellationToken: Ct);

        var job = await cluster.WaitForJobAsync(ns, "later", j => j.IsFinished(), "Complete or Failed after resume");
        Assert.True(job.HasCondition("Complete"), $"expected Complete, got {Waiting.Describe(job.Status)}");
        var resumed = job.Condition("Suspended");
        Assert.Equal(("False", "JobResumed"), (resumed?.Status, resumed?.Reason));
        Assert.Equal(1, job.Status.Succeeded);
    }

    [Fact]
    public async Task Job_with_ttlSecondsAfterFinished_is_deleted_with_its_pods_after_finishing()
    {
        await using var ns = await cluster.CreateNamespaceAsync("job-ttl", Ct);
        var created = await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("ephemeral", "echo bye", s => s.TtlSecondsAfterFinished = 0), ns, cancellationToken: Ct);

        await cluster.WaitForAsync(
            () => ClusterFixture.TryReadAsync(() => Client.BatchV1.ReadNamespacedJobAsync("ephemeral", ns, cancellationToken: Ct)),
            j => j is null || j.Metadata.Uid != created.Metadata.Uid,
            Workloads.PodTimeout,
            "the finished job to be deleted by the TTL-after-finished controller",
            Ct);
        await cluster.WaitForAsync(
            () => cluster.JobPodsAsync(ns, "ephemeral"),
            pods => pods.Count == 0,
            TimeSpan.FromSeconds(60),
            "the job's pods to be garbage-collected",
            Ct);
    }

    [Fact]
    public async Task Job_with_completions_3_and_parallelism_2_succeeds_3_pods()
    {
        await using var ns = await cluster.CreateNamespaceAsync("job-completions", Ct);
        await Client.BatchV1.CreateNamespacedJobAsync(
            Objects.Job("three", "echo one-of-three", s =>
            {
                s.Completions = 3;
                s.Parallelism = 2;
            }),
            ns,
            cancellationToken: Ct);

        var job = await cluster.WaitForJobAsync(ns, "three", j => j.IsFinished(), "Complete or Failed");

        Assert.True(job.HasCondition("Complete"), $"expected Complete, got {Waiting.Describe(job.Status)}");
        Assert.Equal(3, job.Status.Succeeded);
        Assert.Equal(3, (await cluster.JobPodsAsync(ns, "three")).Count(p => p.Status.Phase == "Succeeded"));
    }
}
