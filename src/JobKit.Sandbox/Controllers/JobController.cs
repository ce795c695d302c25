using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using JobKit.Core.Kube;
using Microsoft.Extensions.Logging;
using static JobKit.Sandbox.Controllers.JobLogic;

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// The Job controller of kube-controller-manager 1.32 (pkg/controller/job/job_controller.go), talking to any API
/// server through the official client: informers on Jobs and Pods, a work queue keyed by namespace/name,
/// creation/deletion expectations, pod tracking with the <c>batch.kubernetes.io/job-tracking</c> finalizer and
/// <c>status.uncountedTerminatedPods</c>, pod-failure back-off, activeDeadlineSeconds, suspend, Indexed mode,
/// and the 1.31+ interim conditions (SuccessCriteriaMet before Complete, FailureTarget before Failed).
/// </summary>
public sealed class JobController
{
    /// <summary>syncJobBatchPeriod: pod events are batched into one sync per second.</summary>
    private static readonly TimeSpan SyncJobBatchPeriod = TimeSpan.FromSeconds(1);

    private const int Workers = 3;
    private const string OrphanPrefix = "orphan-pod:";

    private readonly IKubernetes client;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly EventRecorder recorder;
    private readonly ControllerExpectations expectations;
    private readonly FinalizerExpectations finalizerExpectations = new();
    private readonly Dictionary<string, BackoffRecord> backoffStore = [];
    private readonly Dictionary<string, long> generations = [];
    private readonly HashSet<string> seenPods = [];
    private readonly ControllerLoop loop;
    private readonly Informer<V1Job> jobs;
    private readonly Informer<V1Pod> pods;

    public JobController(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.time = time;
        logger = loggerFactory.CreateLogger<JobController>();
        recorder = new EventRecorder(client, "job-controller", time, logger);
        expectations = new ControllerExpectations(time);
        loop = new ControllerLoop(
            time,
            Workers,
            baseDelay: TimeSpan.FromSeconds(1),
            maxDelay: TimeSpan.FromMinutes(1),
            SyncAsync,
            syncFailed: (key, e) => logger.LogWarning("syncing job {Key}: {Error}", key, e.Message),
            cachesSynced: _ => logger.LogInformation("Job controller caches synced"));
        loop.RunAlongside(recorder.RunAsync);
        jobs = loop.Watch(ClusterInformers.Jobs(client), OnJobChangedAsync);
        pods = loop.Watch(ClusterInformers.Pods(client), OnPodChangedAsync);
    }

    public Task RunAsync(CancellationToken cancellationToken) => loop.RunAsync(cancellationToken);

    /// <summary>
    /// A key is a Job, or an orphan pod whose tracking finalizer must go. Never asks for a requeue: the sync
    /// schedules its own (batch period, deadlines) on the queue.
    /// </summary>
    private async Task<TimeSpan?> SyncAsync(string key, CancellationToken cancellationToken)
    {
        if (key.StartsWith(OrphanPrefix, StringComparison.Ordinal))
        {
            await SyncOrphanPodAsync(key[OrphanPrefix.Length..], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await SyncJobWithConflictRetryAsync(key, cancellationToken).ConfigureAwait(false);
        }
        return null;
    }

    /// <summary>A 409 on the status write means the cache was stale: sync once more from a fresh GET.</summary>
    private async Task SyncJobWithConflictRetryAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await SyncJobAsync(key, null, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            var (ns, name) = Split(key);
            V1Job fresh;
            try
            {
                fresh = await client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException nf) when (nf.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }
            await SyncJobAsync(key, fresh, cancellationToken).ConfigureAwait(false);
        }
    }

    private static (string Ns, string Name) Split(string key)
    {
        var i = key.IndexOf('/', StringComparison.Ordinal);
        return i < 0 ? ("", key) : (key[..i], key[(i + 1)..]);
    }

    private static string KeyOf(IKubernetesObject<V1ObjectMeta> o) => Informer<V1Job>.Key(o.Metadata.NamespaceProperty, o.Metadata.Name);

    // ------------------------------------------------------------------ event handlers

    private Task OnJobChangedAsync(WatchEventType type, V1Job job, CancellationToken cancellationToken)
    {
        var key = KeyOf(job);
        long? oldGeneration;
        lock (generations)
        {
            oldGeneration = generations.TryGetValue(key, out var g) ? g : null;
            if (type == WatchEventType.Deleted)
            {
                generations.Remove(key);
            }
            else
            {
                generations[key] = job.Metadata.Generation ?? 0;
            }
        }
        if (type == WatchEventType.Modified && oldGeneration == (job.Metadata.Generation ?? 0))
        {
            // updateJob: status-only changes (mostly our own writes) are batched; spec changes sync at once.
            loop.Queue?.AddAfter(key, SyncJobBatchPeriod);
            return Task.CompletedTask;
        }
        if (type == WatchEventType.Deleted)
        {
            // deleteJob: sync (to drop expectations) and release the tracking finalizers of its pods.
            lock (backoffStore)
            {
                backoffStore.Remove(key);
            }
            foreach (var pod in PodsControlledBy(job.Metadata.NamespaceProperty, job.Metadata.Uid))
            {
                if (HasTrackingFinalizer(pod))
                {
                    EnqueueOrphan(pod);
                }
            }
        }
        loop.Queue?.Add(key);
        return Task.CompletedTask;
    }

    private Task OnPodChangedAsync(WatchEventType type, V1Pod pod, CancellationToken cancellationToken)
    {
        // A relist reports every pod as Added again: only the first sighting of a UID is a creation.
        bool firstSeen;
        lock (seenPods)
        {
            if (type == WatchEventType.Deleted)
            {
                seenPods.Remove(pod.Metadata.Uid);
                firstSeen = false;
            }
            else
            {
                firstSeen = seenPods.Add(pod.Metadata.Uid);
            }
        }
        if (type == WatchEventType.Deleted)
        {
            DeletePodObserved(pod, final: true);
            return Task.CompletedTask;
        }
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            // A graceful deletion: count it as observed now so the Job can replace the pod without waiting.
            DeletePodObserved(pod, final: false);
            return Task.CompletedTask;
        }
        var controllerRef = ControllerOf(pod);
        if (controllerRef is null)
        {
            if (HasTrackingFinalizer(pod))
            {
                EnqueueOrphan(pod);
            }
            return Task.CompletedTask;
        }
        var job = ResolveControllerRef(pod.Metadata.NamespaceProperty, controllerRef);
        if (job is null)
        {
            if (HasTrackingFinalizer(pod) && controllerRef.Kind == "Job")
            {
                EnqueueOrphan(pod);
            }
            return Task.CompletedTask;
        }
        var key = KeyOf(job);
        if (firstSeen)
        {
            expectations.CreationObserved(key);
        }
        if (!HasTrackingFinalizer(pod))
        {
            finalizerExpectations.Observed(key, pod.Metadata.Uid);
        }
        loop.Queue?.AddAfter(key, SyncJobBatchPeriod);
        return Task.CompletedTask;
    }

    private void DeletePodObserved(V1Pod pod, bool final)
    {
        var controllerRef = ControllerOf(pod);
        var hasFinalizer = HasTrackingFinalizer(pod);
        if (controllerRef is null)
        {
            if (hasFinalizer)
            {
                EnqueueOrphan(pod);
            }
            return;
        }
        var job = ResolveControllerRef(pod.Metadata.NamespaceProperty, controllerRef);
        if (job is null || IsFinished(job))
        {
            if (hasFinalizer)
            {
                EnqueueOrphan(pod);
            }
            return;
        }
        var key = KeyOf(job);
        expectations.DeletionObserved(key);
        if (final || !hasFinalizer)
        {
            finalizerExpectations.Observed(key, pod.Metadata.Uid);
        }
        loop.Queue?.AddAfter(key, SyncJobBatchPeriod);
    }

    private void EnqueueOrphan(V1Pod pod) => loop.Queue?.Add(OrphanPrefix + KeyOf(pod));

    private V1Job? ResolveControllerRef(string ns, V1OwnerReference controllerRef)
    {
        if (controllerRef.Kind != "Job")
        {
            return null;
        }
        var job = jobs.Get(ns, controllerRef.Name);
        return job is not null && job.Metadata.Uid == controllerRef.Uid ? job : null;
    }

    private List<V1Pod> PodsControlledBy(string ns, string uid) =>
        pods.Items.Where(p => p.Metadata.NamespaceProperty == ns && ControllerOf(p)?.Uid == uid).ToList();

    // ------------------------------------------------------------------ orphan pods

    /// <summary>syncOrphanPod: removes the tracking finalizer of a pod whose Job is gone or finished.</summary>
    private async Task SyncOrphanPodAsync(string podKey, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(podKey);
        var pod = pods.Get(ns, name);
        if (pod is null || !HasTrackingFinalizer(pod))
        {
            return;
        }
        if (ControllerOf(pod) is { } controllerRef && ResolveControllerRef(ns, controllerRef) is { } job && !IsFinished(job))
        {
            return;
        }
        await PatchRemoveFinalizerAsync(pod, cancellationToken).ConfigureAwait(false);
    }

    private static readonly Dictionary<string, object> RemoveFinalizerPatchBody = new()
    {
        ["metadata"] = new Dictionary<string, object> { ["$deleteFromPrimitiveList/finalizers"] = new[] { TrackingFinalizer } },
    };

    /// <summary>
    /// removeTrackingFinalizerPatch, as a strategic merge patch like the real controller sends. A pod already
    /// gone counts as done. Should an API server not support strategic merge patch (415) or its
    /// <c>$deleteFromPrimitiveList</c> directive (400/422), the same removal is sent as a JSON patch guarded by a
    /// <c>test</c> of the finalizer at that position.
    /// </summary>
    private async Task PatchRemoveFinalizerAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.PatchNamespacedPodAsync(
                new V1Patch(RemoveFinalizerPatchBody, V1Patch.PatchType.StrategicMergePatch),
                pod.Metadata.Name,
                pod.Metadata.NamespaceProperty,
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.UnsupportedMediaType or HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity)
        {
            logger.LogDebug("Strategic merge patch refused ({Status}); removing the finalizer of {Pod} with a JSON patch", e.Response.StatusCode, pod.Metadata.Name);
            await JsonPatchRemoveFinalizerAsync(pod.Metadata.NamespaceProperty, pod.Metadata.Name, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task JsonPatchRemoveFinalizerAsync(string ns, string name, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            V1Pod current;
            try
            {
                current = await client.CoreV1.ReadNamespacedPodAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }
            var i = current.Metadata.Finalizers?.IndexOf(TrackingFinalizer) ?? -1;
            if (i < 0)
            {
                return;
            }
            var ops = new object[]
            {
                new Dictionary<string, object> { ["op"] = "test", ["path"] = $"/metadata/finalizers/{i}", ["value"] = TrackingFinalizer },
                new Dictionary<string, object> { ["op"] = "remove", ["path"] = $"/metadata/finalizers/{i}" },
            };
            try
            {
                await client.CoreV1.PatchNamespacedPodAsync(new V1Patch(ops, V1Patch.PatchType.JsonPatch), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.Conflict && attempt < 2)
            {
                // The finalizers moved under us (failed test): read again.
            }
        }
    }

    // ------------------------------------------------------------------ sync

    private sealed class SyncContext
    {
        public required V1Job Job { get; set; }
        public required List<V1Pod> Pods { get; init; }
        public required List<V1Pod> ActivePods { get; init; }
        public required HashSet<string> UncountedSucceeded { get; init; }
        public required HashSet<string> UncountedFailed { get; init; }
        public required IReadOnlySet<string> ExpectedRmFinalizers { get; init; }
        public int Ready { get; set; }
        public int Terminating { get; set; }
        public int Succeeded { get; set; }
        public int Failed { get; set; }
        public V1JobCondition? FinishedCondition { get; set; }
        public BackoffRecord NewBackoffRecord { get; set; }
        public SortedSet<int> PrevSucceededIndexes { get; set; } = [];
        public SortedSet<int> SucceededIndexes { get; set; } = [];
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private async Task SyncJobAsync(string key, V1Job? fresh, CancellationToken cancellationToken)
    {
        var (ns, name) = Split(key);
        var shared = fresh ?? jobs.Get(ns, name);
        if (shared is null)
        {
            expectations.Delete(key);
            finalizerExpectations.Delete(key);
            lock (backoffStore)
            {
                backoffStore.Remove(key);
            }
            return;
        }
        if (shared.Spec?.ManagedBy is { } managedBy && managedBy != ManagedByController)
        {
            return;
        }
        var job = DeepCopy(shared);
        ApplyDefaults(job);

        if (IsFinished(job))
        {
            lock (backoffStore)
            {
                backoffStore.Remove(key);
            }
            // Backup for the orphan path: finished Jobs release whatever finalizers remain.
            foreach (var p in PodsControlledBy(ns, job.Metadata.Uid).Where(HasTrackingFinalizer))
            {
                EnqueueOrphan(p);
            }
            return;
        }

        // Check expectations before listing pods, so a pod that arrives in between only defers the sync.
        var satisfiedExpectations = expectations.Satisfied(key);
        var jobPods = PodsControlledBy(ns, job.Metadata.Uid);
        var activePods = jobPods.Where(IsActive).ToList();
        job.Status.UncountedTerminatedPods ??= new V1UncountedTerminatedPods();
        var uncounted = job.Status.UncountedTerminatedPods;
        var ctx = new SyncContext
        {
            Job = job,
            Pods = jobPods,
            ActivePods = activePods,
            Ready = activePods.Count(IsReady),
            Terminating = jobPods.Count(IsTerminating),
            UncountedSucceeded = [.. uncounted.Succeeded ?? []],
            UncountedFailed = [.. uncounted.Failed ?? []],
            ExpectedRmFinalizers = finalizerExpectations.ExpectedUids(key),
        };
        var active = activePods.Count;
        var (newSucceeded, newFailed) = GetNewFinishedPods(ctx);
        ctx.Succeeded = (job.Status.Succeeded ?? 0) + newSucceeded.Count + ctx.UncountedSucceeded.Count;
        // nonIgnoredFailedPodsCount: failures matching an Ignore rule of the podFailurePolicy don't count.
        var newFailedCounted = newFailed.Count(p => MatchPodFailurePolicy(job.Spec.PodFailurePolicy, p).CountFailed);
        ctx.Failed = (job.Status.Failed ?? 0) + newFailedCounted + ctx.UncountedFailed.Count;

        // Job first start. Set StartTime only if the job is not in the suspended state.
        if (job.Status.StartTime is null && !IsSuspended(job))
        {
            job.Status.StartTime = Truncate(Now);
        }

        BackoffRecord oldRecord;
        lock (backoffStore)
        {
            backoffStore.TryGetValue(key, out oldRecord);
        }
        ctx.NewBackoffRecord = NextBackoffRecord(oldRecord, newSucceeded, newFailed);

        var exceedsBackoffLimit = ctx.Failed > BackoffLimit(job);

        if (FindCondition(job, FailureTarget) is { Status: "True" } failureTarget)
        {
            ctx.FinishedCondition = NewCondition(Failed, "True", failureTarget.Reason, failureTarget.Message, Now);
        }
        else if (GetFailJobMessage(job, jobPods) is { } failJobMessage)
        {
            // The interim FailureTarget records the failure message before the finalizers are removed.
            ctx.FinishedCondition = NewCondition(FailureTarget, "True", ReasonPodFailurePolicy, failJobMessage, Now);
        }
        if (ctx.FinishedCondition is null)
        {
            if (exceedsBackoffLimit || PastBackoffLimitOnFailure(job, jobPods))
            {
                // OnFailure restarts count too (pastBackoffLimitOnFailure).
                ctx.FinishedCondition = NewCondition(FailureTarget, "True", ReasonBackoffLimitExceeded, MessageBackoffLimitExceeded, Now);
            }
            else if (PastActiveDeadline(job))
            {
                ctx.FinishedCondition = NewCondition(FailureTarget, "True", ReasonDeadlineExceeded, MessageDeadlineExceeded, Now);
            }
            else if (job.Spec.ActiveDeadlineSeconds is { } deadline && !IsSuspended(job) && job.Status.StartTime is { } start)
            {
                var syncDuration = TimeSpan.FromSeconds(deadline) - (Now - start.ToUniversalTime());
                loop.Queue?.AddAfter(key, syncDuration);
            }
        }

        if (IsIndexed(job))
        {
            var completions = job.Spec.Completions ?? 0;
            ctx.PrevSucceededIndexes = ParseIndexes(job.Status.CompletedIndexes, completions);
            ctx.SucceededIndexes = new SortedSet<int>(ctx.PrevSucceededIndexes);
            foreach (var p in jobPods)
            {
                var ix = GetCompletionIndex(p);
                if (p.Status?.Phase == "Succeeded" && ix >= 0 && ix < completions && HasTrackingFinalizer(p))
                {
                    ctx.SucceededIndexes.Add(ix);
                }
            }
            ctx.Succeeded = ctx.SucceededIndexes.Count;
            if (ctx.FinishedCondition is null && MatchSuccessPolicy(job.Spec.SuccessPolicy, completions, ctx.SucceededIndexes) is { } successMessage)
            {
                ctx.FinishedCondition = NewCondition(SuccessCriteriaMet, "True", ReasonSuccessPolicy, successMessage, Now);
            }
        }

        if (ctx.FinishedCondition is null && FindCondition(job, SuccessCriteriaMet) is { Status: "True" } scm)
        {
            ctx.FinishedCondition = NewCondition(SuccessCriteriaMet, "True", scm.Reason, scm.Message, Now);
        }

        Exception? manageJobError = null;
        var suspendCondChanged = false;
        if (ctx.FinishedCondition is not null)
        {
            // Remove active pods if the Job failed (their finalizers stay: they are counted as failed later).
            var (deletedReady, deleted, err) = await DeleteActivePodsAsync(job, ctx.ActivePods, cancellationToken).ConfigureAwait(false);
            if (deleted != active || !satisfiedExpectations)
            {
                // Can't declare the Job as finished yet, as there might be remaining
                // pod finalizers or pods that are not in the informer's cache yet.
                ctx.FinishedCondition = null;
            }
            active -= deleted;
            ctx.Terminating += deleted;
            ctx.Ready -= deletedReady;
            manageJobError = err;
        }
        else
        {
            var manageJobCalled = false;
            if (satisfiedExpectations && job.Metadata.DeletionTimestamp is null)
            {
                (active, manageJobError) = await ManageJobAsync(key, ctx, cancellationToken).ConfigureAwait(false);
                manageJobCalled = true;
            }
            var complete = job.Spec.Completions is null
                ? ctx.Succeeded > 0 && active == 0
                : ctx.Succeeded >= job.Spec.Completions && active == 0;
            if (complete)
            {
                ctx.FinishedCondition = NewCondition(SuccessCriteriaMet, "True", ReasonCompletionsReached, MessageCompletionsReached, Now);
            }
            else if (manageJobCalled)
            {
                if (IsSuspended(job))
                {
                    if (EnsureConditionStatus(job, Suspended, "True", "JobSuspended", "Job suspended", Now))
                    {
                        suspendCondChanged = true;
                        recorder.Event(job, EventRecorder.Normal, "Suspended", "Job suspended");
                    }
                }
                else if (EnsureConditionStatus(job, Suspended, "False", "JobResumed", "Job resumed", Now))
                {
                    suspendCondChanged = true;
                    recorder.Event(job, EventRecorder.Normal, "Resumed", "Job resumed");
                    // Resumed jobs always reset StartTime: activeDeadlineSeconds counts continuous activity.
                    job.Status.StartTime = Truncate(Now);
                }
            }
        }

        var needsStatusUpdate = suspendCondChanged
            || active != (job.Status.Active ?? 0)
            || ctx.Ready != job.Status.Ready
            || ctx.Terminating != job.Status.Terminating;
        job.Status.Active = active;
        job.Status.Ready = ctx.Ready;
        job.Status.Terminating = ctx.Terminating;
        await TrackJobStatusAndRemoveFinalizersAsync(key, ctx, needsStatusUpdate, cancellationToken).ConfigureAwait(false);
        if (manageJobError is not null)
        {
            throw manageJobError;
        }
    }

    /// <summary>getFailJobMessage: the message of the first failed pod matching a FailJob rule.</summary>
    private static string? GetFailJobMessage(V1Job job, List<V1Pod> jobPods)
    {
        if (job.Spec.PodFailurePolicy is null)
        {
            return null;
        }
        foreach (var p in jobPods)
        {
            if (IsPodFailed(p, job) && MatchPodFailurePolicy(job.Spec.PodFailurePolicy, p).FailJobMessage is { } message)
            {
                return message;
            }
        }
        return null;
    }

    private bool PastActiveDeadline(V1Job job)
    {
        if (job.Spec.ActiveDeadlineSeconds is not { } seconds || job.Status.StartTime is not { } start || IsSuspended(job))
        {
            return false;
        }
        return Now - start.ToUniversalTime() >= TimeSpan.FromSeconds(seconds);
    }

    /// <summary>getNewFinishedPods: finished pods that still carry the finalizer and are not yet in uncountedTerminatedPods.</summary>
    private static (List<V1Pod> Succeeded, List<V1Pod> Failed) GetNewFinishedPods(SyncContext ctx)
    {
        var succeeded = ValidPods(ctx, ctx.UncountedSucceeded, p => p.Status?.Phase == "Succeeded");
        var failed = ValidPods(ctx, ctx.UncountedFailed, p => IsPodFailed(p, ctx.Job));
        return (succeeded, failed);
    }

    private static List<V1Pod> ValidPods(SyncContext ctx, HashSet<string> uncounted, Func<V1Pod, bool> filter)
    {
        var result = new List<V1Pod>();
        foreach (var p in ctx.Pods)
        {
            var uid = p.Metadata.Uid;
            if (!HasTrackingFinalizer(p) || uncounted.Contains(uid) || ctx.ExpectedRmFinalizers.Contains(uid))
            {
                continue;
            }
            if (IsIndexed(ctx.Job))
            {
                var idx = GetCompletionIndex(p);
                if (idx < 0 || idx >= (ctx.Job.Spec.Completions ?? 0))
                {
                    continue;
                }
            }
            if (filter(p))
            {
                result.Add(p);
            }
        }
        return result;
    }

    // ------------------------------------------------------------------ manageJob

    private async Task<(int Active, Exception? Error)> ManageJobAsync(string key, SyncContext ctx, CancellationToken cancellationToken)
    {
        var job = ctx.Job;
        var active = ctx.ActivePods.Count;
        var parallelism = Parallelism(job);

        if (IsSuspended(job))
        {
            var toDelete = ActivePodsForRemoval(job, ctx.ActivePods, active);
            expectations.ExpectDeletions(key, toDelete.Count);
            var (removedReady, removed, err) = await DeleteJobPodsAsync(job, key, toDelete, cancellationToken).ConfigureAwait(false);
            ctx.Terminating += removed;
            ctx.Ready -= removedReady;
            return (active - removed, err);
        }

        int wantActive;
        if (job.Spec.Completions is null)
        {
            // Without completions, once any pod succeeded leave whatever runs, running.
            wantActive = ctx.Succeeded > 0 ? active : parallelism;
        }
        else
        {
            wantActive = Math.Clamp(job.Spec.Completions.Value - ctx.Succeeded, 0, parallelism);
        }

        var rmAtLeast = Math.Max(active - wantActive, 0);
        var podsToDelete = ActivePodsForRemoval(job, ctx.ActivePods, rmAtLeast);
        if (podsToDelete.Count > MaxPodCreateDeletePerSync)
        {
            podsToDelete = podsToDelete[..MaxPodCreateDeletePerSync];
        }
        if (podsToDelete.Count > 0)
        {
            expectations.ExpectDeletions(key, podsToDelete.Count);
            var (removedReady, removed, err) = await DeleteJobPodsAsync(job, key, podsToDelete, cancellationToken).ConfigureAwait(false);
            ctx.Terminating += removed;
            ctx.Ready -= removedReady;
            // Pod deletion takes precedence over creation within one sync.
            return (active - removed, err);
        }

        var terminating = OnlyReplaceFailedPods(job) ? ctx.Terminating : 0;
        var diff = wantActive - terminating - active;
        if (diff <= 0)
        {
            return (active, null);
        }
        var remaining = RemainingBackoff(ctx.NewBackoffRecord.FailuresAfterLastSuccess, ctx.NewBackoffRecord.LastFailureTime, Now);
        if (remaining > TimeSpan.Zero)
        {
            logger.LogDebug("Job {Key} in pod failure back-off for {Remaining}", key, remaining);
            loop.Queue?.AddAfter(key, remaining);
            return (active, null);
        }
        diff = Math.Min(diff, MaxPodCreateDeletePerSync);

        var indexesToAdd = new List<int>();
        if (IsIndexed(job))
        {
            var nonPending = new HashSet<int>(ctx.SucceededIndexes);
            nonPending.UnionWith(ctx.ActivePods.Select(GetCompletionIndex).Where(i => i >= 0));
            if (OnlyReplaceFailedPods(job))
            {
                nonPending.UnionWith(ctx.Pods.Where(IsTerminating).Select(GetCompletionIndex).Where(i => i >= 0));
            }
            indexesToAdd = FirstPendingIndexes(nonPending, diff, job.Spec.Completions ?? 0);
            diff = indexesToAdd.Count;
            if (diff == 0)
            {
                return (active, null);
            }
        }

        expectations.ExpectCreations(key, diff);
        active += diff;
        Exception? firstError = null;
        var controllerRef = new V1OwnerReference
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Name = job.Metadata.Name,
            Uid = job.Metadata.Uid,
            Controller = true,
            BlockOwnerDeletion = true,
        };
        // Slow start: batches of 1, 2, 4, ... stop after a batch with a failure.
        for (var batchSize = Math.Min(diff, 1); diff > 0; batchSize = Math.Min(2 * batchSize, diff))
        {
            var batch = new List<Task<Exception?>>();
            for (var i = 0; i < batchSize; i++)
            {
                int? index = indexesToAdd.Count > 0 ? indexesToAdd[0] : null;
                if (indexesToAdd.Count > 0)
                {
                    indexesToAdd.RemoveAt(0);
                }
                batch.Add(CreatePodAsync(job, controllerRef, index, cancellationToken));
            }
            var results = await Task.WhenAll(batch).ConfigureAwait(false);
            var failed = results.Count(r => r is not null);
            foreach (var r in results.Where(r => r is not null))
            {
                // The informer won't observe this pod.
                expectations.CreationObserved(key);
                firstError ??= r;
            }
            active -= failed;
            diff -= batchSize;
            if (failed > 0 && diff > 0)
            {
                // Skipped pods: never attempted, so not expected.
                active -= diff;
                for (var i = 0; i < diff; i++)
                {
                    expectations.CreationObserved(key);
                }
                break;
            }
        }
        return (active, firstError);
    }

    /// <summary>activePodsForRemoval: for Indexed Jobs duplicates and out-of-range indexes first, then controller.ActivePods order.</summary>
    private static List<V1Pod> ActivePodsForRemoval(V1Job job, List<V1Pod> pods, int rmAtLeast)
    {
        var rm = new List<V1Pod>();
        var left = pods;
        if (IsIndexed(job))
        {
            left = [];
            var completions = job.Spec.Completions ?? 0;
            foreach (var group in pods.GroupBy(GetCompletionIndex))
            {
                var sorted = group.ToList();
                sorted.Sort(CompareForDeletion);
                if (group.Key < 0 || group.Key >= completions)
                {
                    rm.AddRange(sorted);
                }
                else
                {
                    rm.AddRange(sorted.Take(sorted.Count - 1));
                    left.Add(sorted[^1]);
                }
            }
        }
        if (rm.Count < rmAtLeast)
        {
            var sorted = left.ToList();
            sorted.Sort(CompareForDeletion);
            rm.AddRange(sorted.Take(rmAtLeast - rm.Count));
        }
        return rm;
    }

    private async Task<Exception?> CreatePodAsync(V1Job job, V1OwnerReference controllerRef, int? index, CancellationToken cancellationToken)
    {
        var template = job.Spec.Template ?? new V1PodTemplateSpec();
        var spec = DeepCopy(template.Spec ?? new V1PodSpec());
        var labels = template.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : null;
        var annotations = template.Metadata?.Annotations is { } a ? new Dictionary<string, string>(a) : null;
        var finalizers = template.Metadata?.Finalizers?.ToList() ?? [];
        if (!finalizers.Contains(TrackingFinalizer))
        {
            finalizers.Add(TrackingFinalizer);
        }
        var generateName = PodGenerateName(job.Metadata.Name);
        if (index is { } ix)
        {
            var value = ix.ToString(System.Globalization.CultureInfo.InvariantCulture);
            annotations ??= [];
            annotations[CompletionIndexAnnotation] = value;
            labels ??= [];
            labels[CompletionIndexAnnotation] = value;
            AddCompletionIndexEnv(spec.Containers);
            AddCompletionIndexEnv(spec.InitContainers);
            spec.Hostname = $"{job.Metadata.Name}-{value}";
            generateName = PodGenerateNameWithIndex(job.Metadata.Name, ix);
        }
        var pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                GenerateName = generateName,
                NamespaceProperty = job.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = annotations,
                Finalizers = finalizers,
                OwnerReferences = [controllerRef],
            },
            Spec = spec,
        };
        return await PodCreation.CreateAsync(client, recorder, job, pod, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>addCompletionIndexEnvVariables: JOB_COMPLETION_INDEX from the index label (PodIndexLabel, 1.32).</summary>
    private static void AddCompletionIndexEnv(IList<V1Container>? containers)
    {
        if (containers is null)
        {
            return;
        }
        foreach (var c in containers)
        {
            c.Env ??= [];
            if (c.Env.Any(e => e.Name == CompletionIndexEnv))
            {
                continue;
            }
            c.Env.Add(new V1EnvVar
            {
                Name = CompletionIndexEnv,
                ValueFrom = new V1EnvVarSource
                {
                    FieldRef = new V1ObjectFieldSelector { ApiVersion = "v1", FieldPath = $"metadata.labels['{CompletionIndexAnnotation}']" },
                },
            });
        }
    }

    internal static string ErrorText(Exception e)
    {
        if (e is HttpOperationException he && he.Response.Content is { Length: > 0 } body)
        {
            try
            {
                var status = KubernetesJson.Deserialize<V1Status>(body);
                if (!string.IsNullOrEmpty(status.Message))
                {
                    return status.Message;
                }
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }
        return e.Message;
    }

    /// <summary>
    /// deleteJobPods (suspend, too many pods): removes the tracking finalizer first, so these pods are not
    /// counted as failed, then deletes them. Returns (ready removed, removed, error).
    /// </summary>
    private async Task<(int, int, Exception?)> DeleteJobPodsAsync(V1Job job, string key, List<V1Pod> toDelete, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(toDelete.Select(async pod =>
        {
            try
            {
                if (HasTrackingFinalizer(pod))
                {
                    await PatchRemoveFinalizerAsync(pod, cancellationToken).ConfigureAwait(false);
                }
                await DeletePodAsync(job, pod, cancellationToken).ConfigureAwait(false);
                return (Ready: IsReady(pod), Error: (Exception?)null);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (Exception e)
            {
                // The informer won't observe this deletion.
                expectations.DeletionObserved(key);
                if (e is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound })
                {
                    return (Ready: false, Error: (Exception?)null);
                }
                return (Ready: false, Error: e);
            }
        })).ConfigureAwait(false);
        var removed = results.Count(r => r.Error is null);
        return (results.Count(r => r.Error is null && r.Ready), removed, results.Select(r => r.Error).FirstOrDefault(e => e is not null));
    }

    /// <summary>deleteActivePods (Job failed): DELETE calls that keep finalizers; the pods are then counted as failed.</summary>
    private async Task<(int, int, Exception?)> DeleteActivePodsAsync(V1Job job, List<V1Pod> toDelete, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(toDelete.Select(async pod =>
        {
            try
            {
                await DeletePodAsync(job, pod, cancellationToken).ConfigureAwait(false);
                return (Ready: IsReady(pod), Error: (Exception?)null);
            }
            catch (OperationCanceledException)
            {
                throw;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return (Ready: IsReady(pod), Error: (Exception?)null);
            }
            catch (Exception e)
            {
                return (Ready: IsReady(pod), Error: (Exception?)e);
            }
        })).ConfigureAwait(false);
        var removed = results.Count(r => r.Error is null);
        return (results.Count(r => r.Error is null && r.Ready), removed, results.Select(r => r.Error).FirstOrDefault(e => e is not null));
    }

    /// <summary>RealPodControl.DeletePod: plain DELETE, event SuccessfulDelete / FailedDelete (none for NotFound).</summary>
    private async Task DeletePodAsync(V1Job job, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            recorder.Event(job, EventRecorder.Warning, "FailedDelete", $"Error deleting: {ErrorText(e)}");
            throw;
        }
        recorder.Event(job, EventRecorder.Normal, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
    }

    // ------------------------------------------------------------------ tracking

    /// <summary>
    /// trackJobStatusAndRemoveFinalizers: adds newly finished pods to uncountedTerminatedPods (first status
    /// write, with any interim FailureTarget/SuccessCriteriaMet condition), removes their finalizers, moves them
    /// into succeeded/failed, and adds the final Complete/Failed condition once nothing is uncounted or
    /// terminating (second status write).
    /// </summary>
    private async Task TrackJobStatusAndRemoveFinalizersAsync(string key, SyncContext ctx, bool needsFlush, CancellationToken cancellationToken)
    {
        var job = ctx.Job;
        var isIndexed = IsIndexed(job);
        var podsToRemoveFinalizer = new List<V1Pod>();
        var uncounted = job.Status.UncountedTerminatedPods;
        uncounted.Succeeded ??= [];
        uncounted.Failed ??= [];
        var newSucceededIndexes = new List<int>();
        var podsInOrder = isIndexed ? ctx.Pods.OrderBy(GetCompletionIndex).ToList() : ctx.Pods;
        var uidsWithFinalizer = ctx.Pods.Where(HasTrackingFinalizer).Select(p => p.Metadata.Uid).ToHashSet();

        if (CleanUncountedPodsWithoutFinalizers(job.Status, uidsWithFinalizer))
        {
            needsFlush = true;
        }
        var reachedMaxUncountedPods = false;
        var completions = job.Spec.Completions ?? 0;
        foreach (var pod in podsInOrder)
        {
            var uid = pod.Metadata.Uid;
            if (!HasTrackingFinalizer(pod) || ctx.ExpectedRmFinalizers.Contains(uid))
            {
                // This pod was processed in a previous sync.
                continue;
            }
            var considerFailed = IsPodFailed(pod, job);
            var canRemove = considerFailed || pod.Status?.Phase == "Succeeded" || ctx.FinishedCondition is not null || job.Metadata.DeletionTimestamp is not null;
            if (!canRemove)
            {
                continue;
            }
            podsToRemoveFinalizer.Add(pod);
            if (pod.Status?.Phase == "Succeeded" && !ctx.UncountedFailed.Contains(uid))
            {
                if (isIndexed)
                {
                    // The completion index is enough to avoid recounting succeeded pods.
                    var ix = GetCompletionIndex(pod);
                    if (ix >= 0 && ix < completions && !ctx.PrevSucceededIndexes.Contains(ix))
                    {
                        newSucceededIndexes.Add(ix);
                    }
                }
                else if (!ctx.UncountedSucceeded.Contains(uid))
                {
                    needsFlush = true;
                    uncounted.Succeeded.Add(uid);
                }
            }
            else if (considerFailed || (ctx.FinishedCondition is not null && ctx.FinishedCondition.Type != SuccessCriteriaMet))
            {
                // When the job is considered finished, every non-terminated pod is considered failed.
                var ix = GetCompletionIndex(pod);
                if (!ctx.UncountedFailed.Contains(uid) && (!isIndexed || (ix >= 0 && ix < completions))
                    && MatchPodFailurePolicy(job.Spec.PodFailurePolicy, pod).CountFailed)
                {
                    needsFlush = true;
                    uncounted.Failed.Add(uid);
                }
            }
            if (newSucceededIndexes.Count + uncounted.Succeeded.Count + uncounted.Failed.Count >= MaxUncountedPods)
            {
                // Enough for one status write; the status update requeues the Job.
                reachedMaxUncountedPods = true;
                break;
            }
        }
        if (isIndexed)
        {
            ctx.SucceededIndexes = new SortedSet<int>(ctx.PrevSucceededIndexes.Concat(newSucceededIndexes));
            var s = FormatIndexes(ctx.SucceededIndexes);
            if (s != (job.Status.CompletedIndexes ?? ""))
            {
                needsFlush = true;
            }
            job.Status.Succeeded = ctx.SucceededIndexes.Count;
            job.Status.CompletedIndexes = s.Length == 0 ? null : s;
        }
        if (ctx.FinishedCondition is { Type: FailureTarget } ft)
        {
            // The interim FailureTarget is written before finalizers are removed; Failed comes after.
            job.Status.Conditions ??= [];
            job.Status.Conditions.Add(ft);
            needsFlush = true;
            ctx.FinishedCondition = NewCondition(Failed, "True", ft.Reason, ft.Message, Now);
        }
        if (ctx.FinishedCondition is { Type: SuccessCriteriaMet } sc)
        {
            if (FindCondition(job, SuccessCriteriaMet) is null)
            {
                job.Status.Conditions ??= [];
                job.Status.Conditions.Add(sc);
                needsFlush = true;
            }
            ctx.FinishedCondition = NewCondition(Complete, "True", sc.Reason, sc.Message, Now);
        }

        needsFlush = await FlushUncountedAndRemoveFinalizersAsync(key, ctx, podsToRemoveFinalizer, uidsWithFinalizer, needsFlush, cancellationToken).ConfigureAwait(false);
        var jobFinished = !reachedMaxUncountedPods && EnactJobFinished(ctx);
        if (jobFinished)
        {
            needsFlush = true;
        }
        if (needsFlush)
        {
            ctx.Job = await UpdateStatusAsync(ctx.Job, cancellationToken).ConfigureAwait(false);
            if (jobFinished)
            {
                RecordJobFinished(ctx.Job, ctx.FinishedCondition!);
            }
        }
    }

    private async Task<bool> FlushUncountedAndRemoveFinalizersAsync(string key, SyncContext ctx, List<V1Pod> podsToRemoveFinalizer, HashSet<string> uidsWithFinalizer, bool needsFlush, CancellationToken cancellationToken)
    {
        if (needsFlush)
        {
            var finished = ctx.FinishedCondition;
            ctx.Job = await UpdateStatusAsync(ctx.Job, cancellationToken).ConfigureAwait(false);
            ctx.Job.Status ??= new V1JobStatus();
            ctx.Job.Status.UncountedTerminatedPods ??= new V1UncountedTerminatedPods();
            ctx.FinishedCondition = finished;
            lock (backoffStore)
            {
                backoffStore[key] = ctx.NewBackoffRecord;
            }
            needsFlush = false;
        }
        Exception? rmError = null;
        if (podsToRemoveFinalizer.Count > 0)
        {
            finalizerExpectations.ExpectRemoved(key, podsToRemoveFinalizer.Select(p => p.Metadata.Uid));
            var results = await Task.WhenAll(podsToRemoveFinalizer.Select(async pod =>
            {
                try
                {
                    await PatchRemoveFinalizerAsync(pod, cancellationToken).ConfigureAwait(false);
                    return (Exception?)null;
                }
                catch (OperationCanceledException)
                {
                    throw;
                }
                catch (Exception e)
                {
                    // No pod update will come for this one: clear its expectation now.
                    finalizerExpectations.Observed(key, pod.Metadata.Uid);
                    return e;
                }
            })).ConfigureAwait(false);
            for (var i = 0; i < results.Length; i++)
            {
                if (results[i] is null)
                {
                    uidsWithFinalizer.Remove(podsToRemoveFinalizer[i].Metadata.Uid);
                }
                else
                {
                    rmError ??= results[i];
                }
            }
        }
        // Failed to remove some finalizers? Write the partial progress.
        if (CleanUncountedPodsWithoutFinalizers(ctx.Job.Status, uidsWithFinalizer))
        {
            needsFlush = true;
        }
        if (rmError is not null)
        {
            if (needsFlush)
            {
                ctx.Job = await UpdateStatusAsync(ctx.Job, cancellationToken).ConfigureAwait(false);
            }
            throw rmError;
        }
        return needsFlush;
    }

    /// <summary>cleanUncountedPodsWithoutFinalizers: uncounted pods whose finalizer is gone move into the counters.</summary>
    private static bool CleanUncountedPodsWithoutFinalizers(V1JobStatus status, HashSet<string> uidsWithFinalizer)
    {
        var updated = false;
        status.UncountedTerminatedPods ??= new V1UncountedTerminatedPods();
        var u = status.UncountedTerminatedPods;
        var succeeded = (u.Succeeded ?? []).Where(uidsWithFinalizer.Contains).ToList();
        if (succeeded.Count != (u.Succeeded?.Count ?? 0))
        {
            updated = true;
            status.Succeeded = (status.Succeeded ?? 0) + (u.Succeeded!.Count - succeeded.Count);
        }
        u.Succeeded = succeeded;
        var failed = (u.Failed ?? []).Where(uidsWithFinalizer.Contains).ToList();
        if (failed.Count != (u.Failed?.Count ?? 0))
        {
            updated = true;
            status.Failed = (status.Failed ?? 0) + (u.Failed!.Count - failed.Count);
        }
        u.Failed = failed;
        return updated;
    }

    /// <summary>enactJobFinished: the final condition, only once no pod is uncounted or terminating.</summary>
    private bool EnactJobFinished(SyncContext ctx)
    {
        if (ctx.FinishedCondition is not { } cond)
        {
            return false;
        }
        var u = ctx.Job.Status.UncountedTerminatedPods;
        if ((u?.Succeeded?.Count ?? 0) + (u?.Failed?.Count ?? 0) > 0)
        {
            return false;
        }
        if (ctx.Terminating > 0)
        {
            return false;
        }
        EnsureConditionStatus(ctx.Job, cond.Type, cond.Status, cond.Reason, cond.Message, Now);
        if (cond.Type == Complete)
        {
            ctx.Job.Status.CompletionTime = FindCondition(ctx.Job, Complete)?.LastTransitionTime ?? Truncate(Now);
        }
        return true;
    }

    private void RecordJobFinished(V1Job job, V1JobCondition cond)
    {
        if (cond.Type == Complete)
        {
            if (job.Spec?.Completions is { } c && (job.Status?.Succeeded ?? 0) > c)
            {
                recorder.Event(job, EventRecorder.Warning, "TooManySucceededPods", "Too many succeeded pods running after completion count reached");
            }
            recorder.Event(job, EventRecorder.Normal, "Completed", "Job completed");
        }
        else
        {
            recorder.Event(job, EventRecorder.Warning, cond.Reason, cond.Message);
        }
    }

    /// <summary>PUT jobs/status. Zero counters are omitted (omitempty), ready and terminating kept, as the real server serializes them.</summary>
    private async Task<V1Job> UpdateStatusAsync(V1Job job, CancellationToken cancellationToken)
    {
        var s = job.Status;
        if (s.Active == 0)
        {
            s.Active = null;
        }
        if (s.Succeeded == 0)
        {
            s.Succeeded = null;
        }
        if (s.Failed == 0)
        {
            s.Failed = null;
        }
        if (s.Conditions is { Count: 0 })
        {
            s.Conditions = null;
        }
        if (s.UncountedTerminatedPods is { } u)
        {
            if (u.Succeeded is { Count: 0 })
            {
                u.Succeeded = null;
            }
            if (u.Failed is { Count: 0 })
            {
                u.Failed = null;
            }
        }
        var updated = await client.BatchV1.ReplaceNamespacedJobStatusAsync(job, job.Metadata.Name, job.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
        updated.Status ??= new V1JobStatus();
        updated.Spec ??= job.Spec;
        ApplyDefaults(updated);
        return updated;
    }
}
