using JobKit.Sandbox.Controllers;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.Controllers;

public class CronJobLogicTests
{
    private static DateTime Utc(int h, int m, int s = 0) => new(2026, 11, 25, h, m, s, DateTimeKind.Utc);

    [Fact]
    public void Job_name_is_the_scheduled_time_in_minutes_since_the_epoch_as_real_cj_29926882()
    {
        Assert.Equal("cj-29926882", CronJobLogic.JobName("cj", Utc(13, 22)));
    }

    [Fact]
    public void Scheduled_timestamp_annotation_is_utc_with_Z_without_a_time_zone()
    {
        Assert.Equal("2026-11-25T13:22:00Z", CronJobLogic.FormatScheduledTimestamp(Utc(13, 22), TimeZoneInfo.Utc));
    }

    [Fact]
    public void Scheduled_timestamp_annotation_uses_the_time_zone_as_real_rep_29926899()
    {
        var ny = CronSchedule.FindZone("America/New_York")!;
        Assert.Equal("2026-11-25T08:39:00-05:00", CronJobLogic.FormatScheduledTimestamp(Utc(13, 39), ny));
    }

    [Fact]
    public void Every_minute_fires_on_the_next_whole_minute_strictly_after()
    {
        var s = CronSchedule.Parse("* * * * *", TimeZoneInfo.Utc);
        Assert.Equal(Utc(13, 23), s.Next(Utc(13, 22, 10)));
        Assert.Equal(Utc(13, 23), s.Next(Utc(13, 22)));
    }

    [Theory]
    [InlineData("@hourly", 14, 0)]
    [InlineData("@daily", 24, 0)]
    [InlineData("@midnight", 24, 0)]
    [InlineData("*/15 * * * *", 13, 30)]
    [InlineData("30 6-16/4 * * *", 14, 30)]
    public void Macros_and_ranges(string spec, int hour, int minute)
    {
        var s = CronSchedule.Parse(spec, TimeZoneInfo.Utc);
        Assert.Equal(new DateTime(2026, 11, 25, 0, 0, 0, DateTimeKind.Utc).AddHours(hour).AddMinutes(minute), s.Next(Utc(13, 22, 10)));
    }

    [Fact]
    public void Every_adds_the_delay_to_the_time_rounded_down_to_the_second()
    {
        var s = CronSchedule.Parse("@every 20s", TimeZoneInfo.Utc);
        Assert.Equal(Utc(13, 22, 30), s.Next(Utc(13, 22, 10).AddMilliseconds(300)));
        Assert.Equal(TimeSpan.FromMinutes(90), CronSchedule.ParseGoDuration("1h30m"));
    }

    [Fact]
    public void Time_zone_prefix_schedules_in_that_zone()
    {
        // formatSchedule: spec.timeZone America/New_York becomes "TZ=America/New_York 0 9 * * *".
        var cj = new V1CronJob { Spec = new V1CronJobSpec { Schedule = "0 9 * * *", TimeZone = "America/New_York" } };
        var s = CronSchedule.Parse(CronJobLogic.FormatSchedule(cj, out var usesTz), TimeZoneInfo.Utc);
        Assert.False(usesTz);
        Assert.Equal(Utc(14, 0), s.Next(Utc(13, 22)));
    }

    [Theory]
    [InlineData("* * * *")]
    [InlineData("0 * * * * *")]
    [InlineData("@every_minute")]
    [InlineData("@every")]
    [InlineData("61 * * * *")]
    [InlineData("TZ=Mars/Olympus * * * * *")]
    public void Invalid_schedules_are_rejected(string spec)
    {
        Assert.Throws<FormatException>(() => CronSchedule.Parse(spec, TimeZoneInfo.Utc));
    }

    [Fact]
    public void Most_recent_schedule_time_is_the_last_one_not_after_now()
    {
        var s = CronSchedule.Parse("* * * * *", TimeZoneInfo.Utc);
        var cj = CronJob(created: Utc(13, 20, 30));
        var (_, recent, missed) = CronJobLogic.MostRecentScheduleTime(cj, Utc(13, 21).AddMilliseconds(100), s, true);
        Assert.Equal(Utc(13, 21), recent);
        Assert.Equal(CronJobLogic.Missed.None, missed);
        (_, recent, _) = CronJobLogic.MostRecentScheduleTime(cj, Utc(13, 20, 59), s, true);
        Assert.Null(recent);
    }

    [Fact]
    public void More_than_100_missed_schedules_are_many_and_the_most_recent_runs()
    {
        // Real: lastScheduleTime 3 hours back on "* * * * *" gave TooManyMissedTimes and created the job for the current minute.
        var s = CronSchedule.Parse("* * * * *", TimeZoneInfo.Utc);
        var cj = CronJob(created: Utc(9, 0), lastSchedule: Utc(10, 36));
        var (_, recent, missed) = CronJobLogic.MostRecentScheduleTime(cj, Utc(13, 36, 5), s, true);
        Assert.Equal(Utc(13, 36), recent);
        Assert.Equal(CronJobLogic.Missed.Many, missed);
        cj = CronJob(created: Utc(9, 0), lastSchedule: Utc(13, 30));
        (_, _, missed) = CronJobLogic.MostRecentScheduleTime(cj, Utc(13, 36, 5), s, true);
        Assert.Equal(CronJobLogic.Missed.Few, missed);
    }

    [Fact]
    public void Starting_deadline_moves_the_earliest_time_so_old_misses_are_skipped()
    {
        // Real: "0 0 * * *", startingDeadlineSeconds 10, lastScheduleTime two days back: nothing runs, no event.
        var s = CronSchedule.Parse("0 0 * * *", TimeZoneInfo.Utc);
        var cj = CronJob(created: Utc(9, 0).AddDays(-3), lastSchedule: Utc(0, 0).AddDays(-2), startingDeadline: 10);
        var (_, recent, _) = CronJobLogic.MostRecentScheduleTime(cj, Utc(13, 36), s, true);
        Assert.Null(recent);
    }

    [Fact]
    public void Requeue_is_the_next_schedule_time_plus_100ms()
    {
        var s = CronSchedule.Parse("* * * * *", TimeZoneInfo.Utc);
        var cj = CronJob(created: Utc(13, 20, 30), lastSchedule: Utc(13, 21));
        Assert.Equal(TimeSpan.FromSeconds(50.1), CronJobLogic.NextScheduleTimeDuration(cj, Utc(13, 21, 10), s));
    }

    [Fact]
    public void Miss_schedule_time_is_formatted_as_go_RFC1123Z()
    {
        Assert.Equal("Wed, 25 Nov 2026 13:22:00 +0000", CronJobController.FormatRfc1123Z(Utc(13, 22)));
    }

    [Fact]
    public void Job_from_template_copies_labels_annotations_and_owns_it()
    {
        var cj = CronJob(created: Utc(13, 0));
        cj.Spec.JobTemplate = new V1JobTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["tl"] = "a" }, Annotations = new Dictionary<string, string> { ["ta"] = "b" } },
            Spec = new V1JobSpec { BackoffLimit = 2 },
        };
        var job = CronJobController.GetJobFromTemplate(cj, Utc(13, 22));
        Assert.Equal("cj-29926882", job.Metadata.Name);
        Assert.Equal("a", job.Metadata.Labels["tl"]);
        Assert.Equal("b", job.Metadata.Annotations["ta"]);
        Assert.Equal("2026-11-25T13:22:00Z", job.Metadata.Annotations[CronJobLogic.ScheduledTimestampAnnotation]);
        var owner = Assert.Single(job.Metadata.OwnerReferences);
        Assert.Equal(("batch/v1", "CronJob", "cj", true, true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Controller, owner.BlockOwnerDeletion));
        Assert.Equal(2, job.Spec.BackoffLimit);
    }

    [Fact]
    public void History_is_pruned_oldest_start_time_first_jobs_without_start_last()
    {
        var a = new V1Job { Metadata = new V1ObjectMeta { Name = "a" }, Status = new V1JobStatus { StartTime = Utc(13, 2) } };
        var b = new V1Job { Metadata = new V1ObjectMeta { Name = "b" }, Status = new V1JobStatus { StartTime = Utc(13, 1) } };
        var c = new V1Job { Metadata = new V1ObjectMeta { Name = "c" }, Status = new V1JobStatus() };
        var list = new List<V1Job> { c, a, b };
        list.Sort(CronJobController.CompareByStartTime);
        Assert.Equal(["b", "a", "c"], list.Select(j => j.Metadata.Name));
    }

    private static V1CronJob CronJob(DateTime created, DateTime? lastSchedule = null, long? startingDeadline = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "cj", NamespaceProperty = "default", Uid = "u", CreationTimestamp = created },
        Spec = new V1CronJobSpec { Schedule = "* * * * *", StartingDeadlineSeconds = startingDeadline },
        Status = new V1CronJobStatus { LastScheduleTime = lastSchedule },
    };
}
