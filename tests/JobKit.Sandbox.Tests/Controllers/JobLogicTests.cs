using JobKit.Sandbox.Controllers;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.Controllers;

public class JobLogicTests
{
    private static readonly DateTime T0 = new(2026, 11, 25, 13, 20, 0, DateTimeKind.Utc);

    [Fact]
    public void Pod_generate_name_is_job_name_and_dash_as_real_ok_pod_ok_c9457()
    {
        Assert.Equal("ok-", JobLogic.PodGenerateName("ok"));
    }

    [Fact]
    public void Indexed_pod_generate_name_is_job_index_dash_as_real_idx_0_c2hq2()
    {
        Assert.Equal("idx-0-", JobLogic.PodGenerateNameWithIndex("idx", 0));
    }

    [Fact]
    public void Indexed_pod_generate_name_cuts_the_job_name_to_58_characters()
    {
        var name = new string('a', 63);
        var prefix = JobLogic.PodGenerateNameWithIndex(name, 12);
        Assert.Equal(58, prefix.Length);
        Assert.EndsWith("-12-", prefix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 0, 1 }, "0,1")] // real status.completedIndexes after indexes 0 and 1 succeeded
    [InlineData(new[] { 0, 1, 2, 4 }, "0-2,4")]
    [InlineData(new[] { 3 }, "3")]
    [InlineData(new int[0], "")]
    [InlineData(new[] { 1, 2, 3, 5, 6, 9 }, "1-3,5,6,9")]
    public void Completed_indexes_are_written_as_ordered_intervals(int[] indexes, string expected)
    {
        Assert.Equal(expected, JobLogic.FormatIndexes(indexes));
        Assert.Equal(indexes, JobLogic.ParseIndexes(expected, 100));
    }

    [Fact]
    public void Parse_indexes_drops_indexes_past_completions()
    {
        Assert.Equal([0, 1, 2], JobLogic.ParseIndexes("0-5", 3));
    }

    [Fact]
    public void First_pending_indexes_skip_succeeded_and_active()
    {
        Assert.Equal([1, 3], JobLogic.FirstPendingIndexes(new HashSet<int> { 0, 2 }, 2, 5));
        Assert.Empty(JobLogic.FirstPendingIndexes(new HashSet<int> { 0, 1 }, 2, 2));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 10)] // real: second pod of "bad" created ~10s after the first failed
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    [InlineData(6, 320)]
    [InlineData(7, 360)] // capped at 6 minutes
    [InlineData(20, 360)]
    public void Pod_failure_backoff_is_10s_doubling_capped_at_6_minutes(int failures, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), JobLogic.RemainingBackoff(failures, T0, T0));
    }

    [Fact]
    public void Pod_failure_backoff_counts_from_the_last_failure()
    {
        Assert.Equal(TimeSpan.FromSeconds(6), JobLogic.RemainingBackoff(1, T0, T0.AddSeconds(4)));
        Assert.Equal(TimeSpan.Zero, JobLogic.RemainingBackoff(1, T0, T0.AddSeconds(11)));
    }

    [Fact]
    public void Backoff_record_counts_failures_after_the_last_success()
    {
        var record = JobLogic.NextBackoffRecord(default, [], [FinishedPod("Failed", T0)]);
        Assert.Equal(new BackoffRecord(1, T0), record);
        record = JobLogic.NextBackoffRecord(record, [], [FinishedPod("Failed", T0.AddSeconds(5))]);
        Assert.Equal(new BackoffRecord(2, T0.AddSeconds(5)), record);
        record = JobLogic.NextBackoffRecord(record, [FinishedPod("Succeeded", T0.AddSeconds(6))], [FinishedPod("Failed", T0.AddSeconds(7))]);
        Assert.Equal(new BackoffRecord(1, T0.AddSeconds(7)), record);
        record = JobLogic.NextBackoffRecord(record, [FinishedPod("Succeeded", T0.AddSeconds(8))], []);
        Assert.Equal(new BackoffRecord(0, null), record);
    }

    [Fact]
    public void Finished_time_is_the_ready_false_transition_of_a_terminal_pod()
    {
        var pod = FinishedPod("Failed", T0);
        Assert.Equal(T0, JobLogic.GetFinishedTime(pod));
    }

    [Fact]
    public void A_false_condition_is_not_added_but_an_existing_one_is_flipped()
    {
        // Real: a Job never suspended gets no Suspended condition on "resume"; a suspended one gets
        // Suspended=False reason JobResumed message "Job resumed".
        var job = new V1Job { Status = new V1JobStatus() };
        Assert.False(JobLogic.EnsureConditionStatus(job, "Suspended", "False", "JobResumed", "Job resumed", T0));
        Assert.True(JobLogic.EnsureConditionStatus(job, "Suspended", "True", "JobSuspended", "Job suspended", T0));
        Assert.False(JobLogic.EnsureConditionStatus(job, "Suspended", "True", "JobSuspended", "Job suspended", T0.AddSeconds(1)));
        Assert.True(JobLogic.EnsureConditionStatus(job, "Suspended", "False", "JobResumed", "Job resumed", T0.AddSeconds(2)));
        var c = Assert.Single(job.Status.Conditions);
        Assert.Equal(("False", "JobResumed", "Job resumed"), (c.Status, c.Reason, c.Message));
        Assert.Equal(T0.AddSeconds(2), c.LastTransitionTime);
        Assert.Equal(T0.AddSeconds(2), c.LastProbeTime);
    }

    [Fact]
    public void Terminating_pods_count_as_failed_unless_podReplacementPolicy_is_Failed()
    {
        var pod = new V1Pod { Metadata = new V1ObjectMeta { DeletionTimestamp = T0 }, Status = new V1PodStatus { Phase = "Running" } };
        Assert.True(JobLogic.IsPodFailed(pod, new V1Job { Spec = new V1JobSpec() }));
        Assert.False(JobLogic.IsPodFailed(pod, new V1Job { Spec = new V1JobSpec { PodReplacementPolicy = "Failed" } }));
        Assert.True(JobLogic.IsTerminating(pod));
        Assert.False(JobLogic.IsActive(pod));
    }

    [Fact]
    public void Defaults_match_the_api_server_when_completions_and_parallelism_are_unset()
    {
        var job = new V1Job { Spec = new V1JobSpec() };
        JobLogic.ApplyDefaults(job);
        Assert.Equal((1, 1, 6, "NonIndexed"), (job.Spec.Completions, job.Spec.Parallelism, job.Spec.BackoffLimit, job.Spec.CompletionMode));
    }

    [Fact]
    public void Unassigned_pending_not_ready_pods_are_deleted_first()
    {
        var running = new V1Pod { Metadata = new V1ObjectMeta { Name = "r", CreationTimestamp = T0 }, Spec = new V1PodSpec { NodeName = "n" }, Status = new V1PodStatus { Phase = "Running" } };
        var pending = new V1Pod { Metadata = new V1ObjectMeta { Name = "p", CreationTimestamp = T0 }, Spec = new V1PodSpec(), Status = new V1PodStatus { Phase = "Pending" } };
        var list = new List<V1Pod> { running, pending };
        list.Sort(JobLogic.CompareForDeletion);
        Assert.Equal(["p", "r"], list.Select(p => p.Metadata.Name));
    }

    private static V1Pod FinishedPod(string phase, DateTime at) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", CreationTimestamp = T0.AddMinutes(-1) },
        Status = new V1PodStatus
        {
            Phase = phase,
            Conditions = [new V1PodCondition { Type = "Ready", Status = "False", LastTransitionTime = at }],
        },
    };
}
