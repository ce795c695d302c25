using JobKit.Sandbox.Controllers;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.Controllers;

public class TtlAndQueueTests
{
    private static readonly DateTime T0 = new(2026, 11, 25, 13, 20, 30, DateTimeKind.Utc);

    [Fact]
    public void Ttl_counts_from_the_finished_conditions_last_transition_time()
    {
        var job = new V1Job
        {
            Spec = new V1JobSpec { TtlSecondsAfterFinished = 30 },
            Status = new V1JobStatus
            {
                Conditions =
                [
                    new V1JobCondition { Type = "SuccessCriteriaMet", Status = "True", LastTransitionTime = T0.AddSeconds(-5) },
                    new V1JobCondition { Type = "Complete", Status = "True", LastTransitionTime = T0 },
                ],
            },
        };
        var left = TtlAfterFinishedController.TimeLeft(job, T0.AddSeconds(10));
        Assert.Equal((TimeSpan.FromSeconds(20), T0.AddSeconds(30)), left);
    }

    [Fact]
    public void Ttl_ignores_unfinished_jobs_and_jobs_without_ttl()
    {
        var running = new V1Job { Spec = new V1JobSpec { TtlSecondsAfterFinished = 0 }, Status = new V1JobStatus() };
        Assert.Null(TtlAfterFinishedController.TimeLeft(running, T0));
        var failed = new V1Job
        {
            Spec = new V1JobSpec(),
            Status = new V1JobStatus { Conditions = [new V1JobCondition { Type = "Failed", Status = "True", LastTransitionTime = T0 }] },
        };
        Assert.Null(TtlAfterFinishedController.TimeLeft(failed, T0));
    }

    [Fact]
    public void Rate_limited_requeue_doubles_per_failure_up_to_the_maximum()
    {
        // The Job controller's limiter: 1s doubling to 1 minute (DefaultJobApiBackOff, MaxJobApiBackOff).
        Assert.Equal(TimeSpan.FromSeconds(1), WorkQueue.Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0));
        Assert.Equal(TimeSpan.FromSeconds(8), WorkQueue.Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 3));
        Assert.Equal(TimeSpan.FromMinutes(1), WorkQueue.Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 10));
        Assert.Equal(TimeSpan.FromMinutes(1), WorkQueue.Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 1000));
    }

    [Fact]
    public async Task Queue_hands_a_key_out_once_and_requeues_it_if_added_while_processing()
    {
        using var q = new WorkQueue(TimeProvider.System, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1));
        q.Add("a");
        q.Add("a");
        var key = await q.GetAsync(TestContext.Current.CancellationToken);
        Assert.Equal("a", key);
        q.Add("a"); // while processing: not handed out again until Done
        using var none = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        none.CancelAfter(100);
        Assert.Null(await q.GetAsync(none.Token));
        q.Done("a");
        Assert.Equal("a", await q.GetAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Add_after_keeps_the_earliest_time()
    {
        using var q = new WorkQueue(TimeProvider.System, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1));
        q.AddAfter("a", TimeSpan.FromSeconds(30));
        q.AddAfter("a", TimeSpan.FromMilliseconds(50));
        q.AddAfter("a", TimeSpan.FromSeconds(20));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(5));
        Assert.Equal("a", await q.GetAsync(cts.Token));
    }

    [Fact]
    public void Expectations_are_satisfied_once_creations_are_observed()
    {
        var e = new ControllerExpectations(TimeProvider.System);
        Assert.True(e.Satisfied("ns/j"));
        e.ExpectCreations("ns/j", 2);
        Assert.False(e.Satisfied("ns/j"));
        e.CreationObserved("ns/j");
        Assert.False(e.Satisfied("ns/j"));
        e.CreationObserved("ns/j");
        Assert.True(e.Satisfied("ns/j"));
    }
}
