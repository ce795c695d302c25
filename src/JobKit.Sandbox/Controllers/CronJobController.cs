using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using JobKit.Core.Kube;
using Microsoft.Extensions.Logging;
using static JobKit.Sandbox.Controllers.CronJobLogic;

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// The CronJob controller of kube-controller-manager 1.32 (pkg/controller/cronjob/cronjob_controllerv2.go):
/// informers on CronJobs and Jobs, a work queue keyed by namespace/name, each CronJob requeued for its next
/// schedule time (plus 100ms) instead of polling. Creates Jobs named <c>&lt;cronjob&gt;-&lt;minutes since
/// epoch&gt;</c>, honours concurrencyPolicy, suspend, startingDeadlineSeconds, timeZone, and the history limits.
/// </summary>
public sealed class CronJobController
{
    private const int Workers = 2;

    private readonly IKubernetes client;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly EventRecorder recorder;
    private readonly ControllerLoop loop;
    private readonly Informer<V1CronJob> cronJobs;
    private readonly Informer<V1Job> jobs;
    private readonly Dictionary<string, (string Schedule, string? TimeZone)> lastSchedules = [];

    public CronJobController(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.time = time;
        logger = loggerFactory.CreateLogger<CronJobController>();
        recorder = new EventRecorder(client, "cronjob-controller", time, logger);
        // DefaultTypedControllerRateLimiter's per-item part: 5ms doubling up to 1000s.
        loop = new ControllerLoop(
            time,
            Workers,
            baseDelay: TimeSpan.FromMilliseconds(5),
            maxDelay: TimeSpan.FromSeconds(1000),
            SyncAsync,
            syncFailed: (key, e) => logger.LogWarning("Error syncing CronJob {Key}, requeuing: {Error}", key, e.Message),
            cachesSynced: OnCachesSynced);
        loop.RunAlongside(recorder.RunAsync);
        cronJobs = loop.Watch(ClusterInformers.CronJobs(client), OnCronJobChangedAsync);
        jobs = loop.Watch(ClusterInformers.Jobs(client), OnJobChangedAsync);
    }

    public Task RunAsync(CancellationToken cancellationToken) => loop.RunAsync(cancellationToken);

    private void OnCachesSynced(WorkQueue q)
    {
        logger.LogInformation("CronJob controller caches synced");
        foreach (var cj in cronJobs.Items)
        {
            q.Add(KeyOf(cj));
        }
    }

    private static string KeyOf(V1CronJob o) => Informer<V1CronJob>.Key(o.Metadata.NamespaceProperty, o.Metadata.Name);

    private static (string Ns, string Name) Split(string key)
    {
        var i = key.IndexOf('/', StringComparison.Ordinal);
        return i < 0 ? ("", key) : (key[..i], key[(i + 1)..]);
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    // ------------------------------------------------------------------ event handlers

    private Task OnCronJobChangedAsync(WatchEventType type, V1CronJob cj, CancellationToken cancellationToken)
    {
        var key = KeyOf(cj);
        if (type == WatchEventType.Deleted)
        {
            lock (lastSchedules)
            {
                lastSchedules.Remove(key);
            }
            loop.Queue?.Add(key);
            return Task.CompletedTask;
        }
        (string Schedule, string? TimeZone) current = (cj.Spec?.Schedule ?? "", cj.Spec?.TimeZone);
        bool scheduleChanged;
        lock (lastSchedules)
        {
            scheduleChanged = type == WatchEventType.Modified && lastSchedules.TryGetValue(key, out var old) && old != current;
            lastSchedules[key] = current;
        }
        if (scheduleChanged)
        {
            // updateCronJob: a new schedule moves the requeue; the queue keeps the earliest time.
            CronSchedule sched;
            try
            {
                sched = CronSchedule.Parse(FormatSchedule(cj, out _));
            }
            catch (FormatException)
            {
                recorder.Event(cj, EventRecorder.Warning, "UnParseableCronJobSchedule", $"unparseable schedule for cronjob: {cj.Spec!.Schedule}");
                return Task.CompletedTask;
            }
            loop.Queue?.AddAfter(key, NextScheduleTimeDuration(cj, Now, sched));
            return Task.CompletedTask;
        }
        loop.Queue?.Add(key);
        return Task.CompletedTask;
    }

    private Task OnJobChangedAsync(WatchEventType type, V1Job job, CancellationToken cancellationToken)
    {
        if (job.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true) is { Kind: "CronJob" } controllerRef
            && cronJobs.Get(job.Metadata.NamespaceProperty, controllerRef.Name) is { } cj
            && cj.Metadata.Uid == controllerRef.Uid)
        {
            loop.Queue?.Add(KeyOf(cj));
        }
        return Task.CompletedTask;
    }

    // ------------------------------------------------------------------ sync

    private async Task<TimeSpan?> SyncAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(key);
        var shared = cronJobs.Get(ns, name);
        if (shared is null)
        {
            return null;
        }
        var jobsToBeReconciled = jobs.Items
            .Where(j => j.Metadata.NamespaceProperty == ns && j.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Uid == shared.Metadata.Uid) == true)
            .ToList();
        // One copy collects every change; the status is written once.
        var cj = JobLogic.DeepCopy(shared);
        cj.Status ??= new V1CronJobStatus();

        var updateStatusAfterCleanup = await CleanupFinishedJobsAsync(cj, jobsToBeReconciled, cancellationToken).ConfigureAwait(false);
        TimeSpan? requeueAfter = null;
        var updateStatusAfterSync = false;
        Exception? syncError = null;
        try
        {
            (cj, requeueAfter, updateStatusAfterSync) = await SyncCronJobAsync(cj, jobsToBeReconciled, cancellationToken).ConfigureAwait(false);
        }
        catch (SyncException e)
        {
            (cj, updateStatusAfterSync, syncError) = (e.CronJob, e.UpdateStatus, e.InnerException);
            logger.LogDebug("Error reconciling cronjob {Key}: {Error}", key, syncError?.Message);
        }

        if (updateStatusAfterCleanup || updateStatusAfterSync)
        {
            if (cj.Status.Active is { Count: 0 })
            {
                cj.Status.Active = null;
            }
            await client.BatchV1.ReplaceNamespacedCronJobStatusAsync(cj, cj.Metadata.Name, cj.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        if (requeueAfter is not null)
        {
            return requeueAfter;
        }
        if (syncError is not null)
        {
            throw syncError;
        }
        return null;
    }

    private sealed class SyncException(V1CronJob cronJob, bool updateStatus, Exception inner) : Exception(inner.Message, inner)
    {
        public V1CronJob CronJob { get; } = cronJob;

        public bool UpdateStatus { get; } = updateStatus;
    }

    private static bool IsFinished(V1Job job, out string? conditionType)
    {
        conditionType = JobLogic.FinishedCondition(job)?.Type;
        return conditionType is not null;
    }

    private static bool InActiveList(V1CronJob cj, string uid) => cj.Status?.Active?.Any(r => r.Uid == uid) == true;

    private static void DeleteFromActiveList(V1CronJob cj, string uid)
    {
        if (cj.Status?.Active is { } active)
        {
            cj.Status.Active = active.Where(r => r.Uid != uid).ToList();
        }
    }

    /// <summary>syncCronJob: reconciles the active list, then maybe starts the Job for the most recent unmet schedule time.</summary>
    private async Task<(V1CronJob, TimeSpan?, bool)> SyncCronJobAsync(V1CronJob cronJob, List<V1Job> js, CancellationToken cancellationToken)
    {
        var now = Now;
        var updateStatus = false;
        var childrenJobs = new HashSet<string>();
        try
        {
            foreach (var j in js)
            {
                childrenJobs.Add(j.Metadata.Uid);
                var found = InActiveList(cronJob, j.Metadata.Uid);
                var finished = IsFinished(j, out var condition);
                if (!found && !finished)
                {
                    var fresh = await client.BatchV1.ReadNamespacedCronJobAsync(cronJob.Metadata.Name, cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
                    if (InActiveList(fresh, j.Metadata.Uid))
                    {
                        fresh.Status ??= new V1CronJobStatus();
                        cronJob = fresh;
                        continue;
                    }
                    recorder.Event(cronJob, EventRecorder.Warning, "UnexpectedJob", $"Saw a job that the controller did not create or forgot: {j.Metadata.Name}");
                    // An unfinished job that has us as the parent but is not in our active list: left alone.
                }
                else if (found && finished)
                {
                    DeleteFromActiveList(cronJob, j.Metadata.Uid);
                    recorder.Event(cronJob, EventRecorder.Normal, "SawCompletedJob", $"Saw completed job: {j.Metadata.Name}, condition: {condition}");
                    updateStatus = true;
                }
                else if (condition == JobLogic.Complete)
                {
                    // A succeeded job need not be in the active list for its completion time to count.
                    if (cronJob.Status.LastSuccessfulTime is null)
                    {
                        cronJob.Status.LastSuccessfulTime = j.Status?.CompletionTime;
                        updateStatus = true;
                    }
                    if (j.Status?.CompletionTime is { } ct && ct > cronJob.Status.LastSuccessfulTime)
                    {
                        cronJob.Status.LastSuccessfulTime = ct;
                        updateStatus = true;
                    }
                }
            }

            // Remove references to jobs that no longer exist, asking the API server rather than a slow cache.
            foreach (var r in (cronJob.Status.Active ?? []).ToList())
            {
                if (childrenJobs.Contains(r.Uid))
                {
                    continue;
                }
                try
                {
                    await client.BatchV1.ReadNamespacedJobAsync(r.Name, r.NamespaceProperty ?? cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    recorder.Event(cronJob, EventRecorder.Normal, "MissingJob", $"Active job went missing: {r.Name}");
                    DeleteFromActiveList(cronJob, r.Uid);
                    updateStatus = true;
                }
            }

            if (cronJob.Metadata.DeletionTimestamp is not null)
            {
                // Being deleted: only the status is updated.
                return (cronJob, null, updateStatus);
            }

            if (cronJob.Spec.TimeZone is { } tz && CronSchedule.FindZone(tz) is null)
            {
                recorder.Event(cronJob, EventRecorder.Warning, "UnknownTimeZone", $"invalid timeZone: \"{tz}\": unknown time zone {tz}");
                return (cronJob, null, updateStatus);
            }

            if (cronJob.Spec.Suspend == true)
            {
                return (cronJob, null, updateStatus);
            }

            var formatted = FormatSchedule(cronJob, out var usesTz);
            if (usesTz)
            {
                recorder.Event(cronJob, EventRecorder.Warning, "UnsupportedSchedule", $"CRON_TZ or TZ used in schedule \"{cronJob.Spec.Schedule}\" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details");
            }
            CronSchedule sched;
            try
            {
                sched = CronSchedule.Parse(formatted);
            }
            catch (FormatException e)
            {
                // A user error in the spec: not reconciled again until the spec changes.
                recorder.Event(cronJob, EventRecorder.Warning, "UnparseableSchedule", $"unparseable schedule: \"{cronJob.Spec.Schedule}\" : {e.Message}");
                return (cronJob, null, updateStatus);
            }

            DateTime? scheduledTime;
            try
            {
                scheduledTime = NextScheduleTime(cronJob, now, sched);
            }
            catch (FormatException e)
            {
                recorder.Event(cronJob, EventRecorder.Warning, "InvalidSchedule", $"invalid schedule: {cronJob.Spec.Schedule} : {e.Message}");
                return (cronJob, null, updateStatus);
            }
            if (scheduledTime is not { } scheduled)
            {
                // No unmet start time: wait for the next one.
                return (cronJob, NextScheduleTimeDuration(cronJob, now, sched), updateStatus);
            }

            var tooLate = cronJob.Spec.StartingDeadlineSeconds is { } sds && scheduled + TimeSpan.FromSeconds(sds) < now;
            if (tooLate)
            {
                recorder.Event(cronJob, EventRecorder.Warning, "MissSchedule", $"Missed scheduled time to start a job: {FormatRfc1123Z(scheduled)}");
                return (cronJob, NextScheduleTimeDuration(cronJob, now, sched), updateStatus);
            }
            var jobName = JobName(cronJob.Metadata.Name, scheduled);
            if ((cronJob.Status.Active ?? []).Any(r => r.Name == jobName && r.NamespaceProperty == cronJob.Metadata.NamespaceProperty)
                || cronJob.Status.LastScheduleTime?.ToUniversalTime() == scheduled)
            {
                // This scheduled time was already processed.
                return (cronJob, NextScheduleTimeDuration(cronJob, now, sched), updateStatus);
            }
            if (cronJob.Spec.ConcurrencyPolicy == "Forbid" && cronJob.Status.Active is { Count: > 0 })
            {
                recorder.Event(cronJob, EventRecorder.Normal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
                return (cronJob, NextScheduleTimeDuration(cronJob, now, sched), updateStatus);
            }
            if (cronJob.Spec.ConcurrencyPolicy == "Replace")
            {
                foreach (var r in (cronJob.Status.Active ?? []).ToList())
                {
                    V1Job job;
                    try
                    {
                        job = await client.BatchV1.ReadNamespacedJobAsync(r.Name, r.NamespaceProperty ?? cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    catch (HttpOperationException e)
                    {
                        recorder.Event(cronJob, EventRecorder.Warning, "FailedGet", $"Get job: {JobController.ErrorText(e)}");
                        throw;
                    }
                    if (!await DeleteJobAsync(cronJob, job, cancellationToken).ConfigureAwait(false))
                    {
                        throw new InvalidOperationException($"could not replace job {job.Metadata.NamespaceProperty}/{job.Metadata.Name}");
                    }
                    updateStatus = true;
                }
            }

            var jobReq = GetJobFromTemplate(cronJob, scheduled);
            V1Job jobResp;
            var alreadyExists = false;
            try
            {
                jobResp = await client.BatchV1.CreateNamespacedJobAsync(jobReq, cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && e.Response.Content?.Contains("AlreadyExists", StringComparison.Ordinal) == true)
            {
                // Created before, maybe by us without the status update that should have followed.
                alreadyExists = true;
                jobResp = await client.BatchV1.ReadNamespacedJobAsync(jobReq.Metadata.Name, cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
                var owner = jobResp.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
                if (owner?.Uid != cronJob.Metadata.Uid)
                {
                    return (cronJob, null, updateStatus);
                }
                if (InActiveList(cronJob, jobResp.Metadata.Uid))
                {
                    return (cronJob, null, updateStatus);
                }
            }
            catch (HttpOperationException e) when (e.Response.Content?.Contains("NamespaceTerminating", StringComparison.Ordinal) == true)
            {
                throw new SyncException(cronJob, updateStatus, e);
            }
            catch (HttpOperationException e)
            {
                recorder.Event(cronJob, EventRecorder.Warning, "FailedCreate", $"Error creating job: {JobController.ErrorText(e)}");
                throw new SyncException(cronJob, updateStatus, e);
            }
            if (alreadyExists)
            {
                logger.LogInformation("Job {Job} already exists for CronJob {CronJob}", jobReq.Metadata.Name, cronJob.Metadata.Name);
            }
            else
            {
                recorder.Event(cronJob, EventRecorder.Normal, "SuccessfulCreate", $"Created job {jobResp.Metadata.Name}");
            }

            // The job name (from the scheduled time) is the lock that keeps a restart from creating it twice.
            cronJob.Status.Active ??= [];
            cronJob.Status.Active.Add(new V1ObjectReference
            {
                ApiVersion = "batch/v1",
                Kind = "Job",
                Name = jobResp.Metadata.Name,
                NamespaceProperty = jobResp.Metadata.NamespaceProperty,
                Uid = jobResp.Metadata.Uid,
                ResourceVersion = jobResp.Metadata.ResourceVersion,
            });
            cronJob.Status.LastScheduleTime = scheduled;
            updateStatus = true;
            return (cronJob, NextScheduleTimeDuration(cronJob, now, sched), updateStatus);
        }
        catch (SyncException)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new SyncException(cronJob, updateStatus, e);
        }
    }

    /// <summary>nextScheduleTime: the most recent unmet schedule time, warning when more than 100 were missed.</summary>
    private DateTime? NextScheduleTime(V1CronJob cj, DateTime now, CronSchedule sched)
    {
        var (_, mostRecent, missed) = MostRecentScheduleTime(cj, now, sched, true);
        if (mostRecent is null || mostRecent > now)
        {
            return null;
        }
        if (missed == Missed.Many)
        {
            recorder.Event(cj, EventRecorder.Warning, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
            logger.LogInformation("too many missed times for cronjob {Namespace}/{Name}", cj.Metadata.NamespaceProperty, cj.Metadata.Name);
        }
        return mostRecent;
    }

    /// <summary>Go's time.RFC1123Z layout: "Mon, 02 Jan 2006 15:04:05 -0700", in UTC.</summary>
    internal static string FormatRfc1123Z(DateTime utc) =>
        DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture);

    /// <summary>getJobFromTemplate2: the jobTemplate's labels, annotations (plus the scheduled timestamp) and spec, owned by the CronJob.</summary>
    internal static V1Job GetJobFromTemplate(V1CronJob cj, DateTime scheduledTime)
    {
        var template = cj.Spec.JobTemplate;
        var labels = template?.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : [];
        var annotations = template?.Metadata?.Annotations is { } a ? new Dictionary<string, string>(a) : [];
        var zone = CronSchedule.FindZone(cj.Spec.TimeZone) ?? TimeZoneInfo.Utc;
        annotations[ScheduledTimestampAnnotation] = FormatScheduledTimestamp(scheduledTime, zone);
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = JobName(cj.Metadata.Name, scheduledTime),
                NamespaceProperty = cj.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = annotations,
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = "batch/v1",
                        Kind = "CronJob",
                        Name = cj.Metadata.Name,
                        Uid = cj.Metadata.Uid,
                        Controller = true,
                        BlockOwnerDeletion = true,
                    },
                ],
            },
            Spec = JobLogic.DeepCopy(template?.Spec ?? new V1JobSpec()),
        };
    }

    /// <summary>deleteJob: background-propagation delete, drop from the active list, event SuccessfulDelete / FailedDelete.</summary>
    private async Task<bool> DeleteJobAsync(V1CronJob cj, V1Job job, CancellationToken cancellationToken)
    {
        try
        {
            await client.BatchV1.DeleteNamespacedJobAsync(
                job.Metadata.Name,
                job.Metadata.NamespaceProperty,
                new V1DeleteOptions { PropagationPolicy = "Background" },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            recorder.Event(cj, EventRecorder.Warning, "FailedDelete", $"Deleted job: {JobController.ErrorText(e)}");
            logger.LogWarning("Error deleting job {Job} from cronjob {CronJob}: {Error}", job.Metadata.Name, cj.Metadata.Name, e.Message);
            return false;
        }
        DeleteFromActiveList(cj, job.Metadata.Uid);
        recorder.Event(cj, EventRecorder.Normal, "SuccessfulDelete", $"Deleted job {job.Metadata.Name}");
        return true;
    }

    /// <summary>cleanupFinishedJobs: keeps successfulJobsHistoryLimit Complete and failedJobsHistoryLimit Failed Jobs, deleting the oldest.</summary>
    private async Task<bool> CleanupFinishedJobsAsync(V1CronJob cj, List<V1Job> js, CancellationToken cancellationToken)
    {
        if (cj.Spec.FailedJobsHistoryLimit is null && cj.Spec.SuccessfulJobsHistoryLimit is null)
        {
            return false;
        }
        var updateStatus = false;
        var successful = new List<V1Job>();
        var failed = new List<V1Job>();
        foreach (var j in js)
        {
            if (IsFinished(j, out var c))
            {
                (c == JobLogic.Complete ? successful : failed).Add(j);
            }
        }
        if (cj.Spec.SuccessfulJobsHistoryLimit is { } sl && await RemoveOldestJobsAsync(cj, successful, sl, cancellationToken).ConfigureAwait(false))
        {
            updateStatus = true;
        }
        if (cj.Spec.FailedJobsHistoryLimit is { } fl && await RemoveOldestJobsAsync(cj, failed, fl, cancellationToken).ConfigureAwait(false))
        {
            updateStatus = true;
        }
        return updateStatus;
    }

    private async Task<bool> RemoveOldestJobsAsync(V1CronJob cj, List<V1Job> js, int maxJobs, CancellationToken cancellationToken)
    {
        var numToDelete = js.Count - maxJobs;
        if (numToDelete <= 0)
        {
            return false;
        }
        js.Sort(CompareByStartTime);
        var updateStatus = false;
        for (var i = 0; i < numToDelete; i++)
        {
            if (await DeleteJobAsync(cj, js[i], cancellationToken).ConfigureAwait(false))
            {
                updateStatus = true;
            }
        }
        return updateStatus;
    }

    /// <summary>byJobStartTime: jobs without a start time last, ties by name.</summary>
    internal static int CompareByStartTime(V1Job a, V1Job b)
    {
        var sa = a.Status?.StartTime;
        var sb = b.Status?.StartTime;
        if (sa is null && sb is not null)
        {
            return 1;
        }
        if (sa is not null && sb is null)
        {
            return -1;
        }
        if (sa == sb)
        {
            return string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name);
        }
        return sa!.Value.CompareTo(sb!.Value);
    }
}
