using System.Diagnostics;
using System.Net;
using JobKit.Core.Kube;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Core.Runs;

/// <summary>
/// Runs a Job once with a ConfigMap only it sees, waits for it, streams its logs, and deletes everything it created,
/// whatever happens. The order makes every moment safe: the Job is created suspended, the ConfigMap is created owned by
/// it, then the Job is resumed; deleting the Job (or its ttlSecondsAfterFinished) takes the ConfigMap along.
/// </summary>
public sealed class TransientRun
{
    private readonly IKubernetes client;
    private readonly IRunObserver observer;

    public TransientRun(IKubernetes client, IRunObserver observer)
    {
        this.client = client;
        this.observer = observer;
    }

    /// <summary>
    /// Builds the plan, reading the source CronJob and refusing a ConfigMap NAME that already exists; creates nothing.
    /// </summary>
    /// <exception cref="RunInputException">Bad names, a missing CronJob, a template that never reads NAME, NAME already taken.</exception>
    public async Task<TransientRunPlan> PlanAsync(TransientRunRequest request, CancellationToken cancellationToken)
    {
        V1CronJob? cronJob = null;
        if (request.Source is RunSource.CronJob source)
        {
            cronJob = await ReadOrNullAsync(() => client.BatchV1.ReadNamespacedCronJobAsync(source.Name, request.Namespace, cancellationToken: cancellationToken)).ConfigureAwait(false)
                ?? throw new RunInputException($"--job-from: cronjob.batch \"{source.Name}\" not found in namespace \"{request.Namespace}\"");
        }
        var plan = TransientRunPlan.Create(request, cronJob);
        if (request.ConfigMapName is { } name
            && await ReadOrNullAsync(() => client.CoreV1.ReadNamespacedConfigMapAsync(name, request.Namespace, cancellationToken: cancellationToken)).ConfigureAwait(false) is not null)
        {
            // Scheduled runs would read it: it is exactly the leftover this tool exists to prevent, and it is not ours.
            throw new RunInputException($"configmap \"{name}\" already exists in namespace \"{request.Namespace}\" and every run that reads it sees it; it was not created by this run and is left untouched: delete it if it is a leftover, or choose another NAME");
        }
        return plan;
    }

    /// <summary>Sends the plan's objects with dryRun=All: the server validates and defaults them, nothing is stored.</summary>
    public async Task<IReadOnlyList<IKubernetesObject<V1ObjectMeta>>> ServerDryRunAsync(TransientRunPlan plan, CancellationToken cancellationToken)
    {
        var job = await CreateJobAsync(plan, "All", cancellationToken).ConfigureAwait(false);
        var objects = new List<IKubernetesObject<V1ObjectMeta>> { job };
        if (plan.OwnedBy(job) is { } configMap)
        {
            objects.Add(await client.CoreV1.CreateNamespacedConfigMapAsync(configMap, plan.Namespace, dryRun: "All", cancellationToken: cancellationToken).ConfigureAwait(false));
        }
        return objects;
    }

    /// <summary>
    /// Creates, waits, reports and cleans up. <paramref name="interrupt"/> (a signal) stops the wait, never a request
    /// that creates something: a create cancelled in flight could still happen on the server and leak.
    /// </summary>
    public async Task<RunResult> ExecuteAsync(TransientRunPlan plan, TransientRunOptions options, CancellationToken interrupt)
    {
        var started = Stopwatch.StartNew();
        var ns = plan.Namespace;
        var job = await CreateJobAsync(plan, null, CancellationToken.None).ConfigureAwait(false);
        var name = job.Metadata.Name;
        observer.Progress($"job.batch/{name} created{(plan.ConfigMap is null ? "" : " (suspended until its configmap exists)")}");
        // One watch on the Job for the whole run, from the resourceVersion the create returned: it reports progress,
        // the end, and at cleanup the Job's removal.
        await using var watch = new JobWatch(client, job, observer, started);

        V1ConfigMap? configMap = null;
        RunResult result;
        try
        {
            if (plan.OwnedBy(job) is { } owned)
            {
                observer.Progress($"creating configmap {owned.Metadata.Name} (seen by job {name} only)...");
                configMap = await client.CoreV1.CreateNamespacedConfigMapAsync(owned, ns, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                observer.Progress($"configmap/{configMap.Metadata.Name} created");
                job = await client.BatchV1.PatchNamespacedJobAsync(
                    new V1Patch("{\"spec\":{\"suspend\":false}}", V1Patch.PatchType.MergePatch), name, ns, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            result = await WaitAsync(job, watch, options, started, interrupt).ConfigureAwait(false);
        }
        catch
        {
            await CleanupAsync(job, watch, configMap ?? plan.ConfigMap, options.CleanupTimeout).ConfigureAwait(false);
            throw;
        }

        if (result.Outcome == RunOutcome.Vanished)
        {
            return result;
        }
        if (result.Outcome == RunOutcome.Failed && options.KeepOnFailure)
        {
            var kept = new List<string> { $"job.batch/{name}" };
            if (configMap is not null)
            {
                kept.Add($"configmap/{configMap.Metadata.Name}");
            }
            observer.Warning($"kept for inspection (--keep-on-failure): {string.Join(", ", kept)}; ttlSecondsAfterFinished removes them after {job.Spec.TtlSecondsAfterFinished} s, or now with: kubectl delete job {name} -n {ns} (its pods and configmap go with it)");
            return result with { LeftBehind = kept };
        }
        var left = await CleanupAsync(result.Job ?? job, watch, configMap, options.CleanupTimeout).ConfigureAwait(false);
        return result with { LeftBehind = left };
    }

    private async Task<V1Job> CreateJobAsync(TransientRunPlan plan, string? dryRun, CancellationToken cancellationToken)
    {
        if (dryRun is null)
        {
            observer.Progress($"creating job {plan.Job.Metadata.Name ?? plan.Job.Metadata.GenerateName}...");
        }
        try
        {
            return await client.BatchV1.CreateNamespacedJobAsync(plan.Job, plan.Namespace, dryRun: dryRun, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new RunInputException($"--job-name: job.batch \"{plan.Job.Metadata.Name}\" already exists in namespace \"{plan.Namespace}\"; it was not created by this run and is left untouched: choose another --job-name", e);
        }
    }

    private async Task<RunResult> WaitAsync(V1Job job, JobWatch watch, TransientRunOptions options, Stopwatch started, CancellationToken interrupt)
    {
        var ns = job.Metadata.NamespaceProperty;
        var name = job.Metadata.Name;
        using var timeout = options.Timeout is { } limit ? new CancellationTokenSource(TimeSpan.FromTicks(Math.Max(0, (limit - started.Elapsed).Ticks))) : new CancellationTokenSource();
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(interrupt, timeout.Token);
        using var watches = new CancellationTokenSource();

        var pods = Informer<V1Pod>.Create<V1PodList>((rv, watch, ct) => client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(
            ns, labelSelector: $"batch.kubernetes.io/controller-uid={job.Metadata.Uid}", resourceVersion: rv, watch: watch, allowWatchBookmarks: watch ? true : null, cancellationToken: ct));
        var logs = new PodLogFollower(client, observer, MayRunSeveralPods(job));
        // The Job and its pods come on two watches: the Job can be seen finished before its pods' last states are.
        var podsSeenFinished = new HashSet<string>();
        var podsToSee = int.MaxValue;
        var podsCaughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pods.Changed += (type, pod, _) =>
        {
            if (type != WatchEventType.Deleted && options.StreamLogs)
            {
                logs.Follow(pod, watches.Token);
            }
            lock (podsSeenFinished)
            {
                if (pod.Status?.Phase is "Succeeded" or "Failed")
                {
                    podsSeenFinished.Add(pod.Metadata.Name);
                }
                if (podsSeenFinished.Count >= podsToSee)
                {
                    podsCaughtUp.TrySetResult();
                }
            }
            return Task.CompletedTask;
        };
        var podLoop = Task.Run(() => pods.RunFromAsync(job.Metadata.ResourceVersion, [], watches.Token), CancellationToken.None);
        RunOutcome outcome;
        V1Job? final;
        try
        {
            (outcome, final) = await watch.Finished.WaitAsync(waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (waiting.IsCancellationRequested)
        {
            (outcome, final) = (interrupt.IsCancellationRequested ? RunOutcome.Interrupted : RunOutcome.TimedOut, watch.Last);
        }

        if (outcome is RunOutcome.Succeeded or RunOutcome.Failed)
        {
            // Wait (briefly) until the pod watch has shown every pod the Job counts as finished, so that each has had its
            // log stream and its failure reported; then for the streams' last lines.
            lock (podsSeenFinished)
            {
                // Pods the Job controller has seen finish but not yet counted are listed in uncountedTerminatedPods.
                var uncounted = final?.Status?.UncountedTerminatedPods;
                podsToSee = (final?.Status?.Succeeded ?? 0) + (final?.Status?.Failed ?? 0) + (uncounted?.Succeeded?.Count ?? 0) + (uncounted?.Failed?.Count ?? 0);
                if (podsSeenFinished.Count >= podsToSee)
                {
                    podsCaughtUp.TrySetResult();
                }
            }
            await Task.WhenAny(podsCaughtUp.Task, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None)).ConfigureAwait(false);
            await logs.DrainAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        await watches.CancelAsync().ConfigureAwait(false);
        await podLoop.ConfigureAwait(false);
        await logs.DrainAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);

        switch (outcome)
        {
            case RunOutcome.Succeeded:
                observer.Progress($"job \"{name}\" completed");
                break;
            case RunOutcome.Failed:
                var failed = final?.Status?.Conditions?.FirstOrDefault(c => c.Type is "Failed" or "FailureTarget" && c.Status == "True");
                observer.Warning($"job \"{name}\" failed: {failed?.Reason}: {failed?.Message}");
                ReportFailedPods(pods.Items);
                await ReportWarningEventsAsync(job).ConfigureAwait(false);
                break;
            case RunOutcome.Vanished:
                observer.Warning($"job \"{name}\" was deleted by someone else before it finished; its result is unknown");
                break;
            case RunOutcome.TimedOut:
                observer.Warning($"job \"{name}\" did not finish within --timeout={options.Timeout}");
                break;
            case RunOutcome.Interrupted:
                observer.Warning($"interrupted: stopping job \"{name}\"");
                break;
        }
        return new RunResult(outcome, final, []);
    }

    private static bool MayRunSeveralPods(V1Job job) =>
        (job.Spec.Parallelism ?? 1) > 1 || (job.Spec.Completions ?? 1) > 1 || (job.Spec.Template.Spec.Containers?.Count ?? 1) > 1;

    private void ReportFailedPods(IEnumerable<V1Pod> pods)
    {
        foreach (var pod in pods.OrderBy(p => p.Metadata.CreationTimestamp))
        {
            foreach (var status in (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? []))
            {
                if (status.State?.Terminated is { ExitCode: not 0 } terminated)
                {
                    observer.Warning($"pod {pod.Metadata.Name}: container {status.Name} terminated: {terminated.Reason ?? "Error"} (exit code {terminated.ExitCode}){(string.IsNullOrEmpty(terminated.Message) ? "" : ": " + terminated.Message.Trim())}");
                }
                else if (status.State?.Waiting is { Reason: { } reason } waiting && pod.Status?.Phase == "Failed")
                {
                    observer.Warning($"pod {pod.Metadata.Name}: container {status.Name} {reason}: {waiting.Message}");
                }
            }
        }
    }

    private async Task ReportWarningEventsAsync(V1Job job)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var events = await client.CoreV1.ListNamespacedEventAsync(
                job.Metadata.NamespaceProperty, fieldSelector: $"involvedObject.uid={job.Metadata.Uid},type=Warning", cancellationToken: deadline.Token).ConfigureAwait(false);
            foreach (var warning in events.Items.OrderBy(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp).TakeLast(5))
            {
                observer.Warning($"event {warning.Reason}: {warning.Message}");
            }
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            // Events are a courtesy: the failure itself has been reported.
        }
    }

    /// <summary>
    /// Deletes the ConfigMap and the Job (foreground: the Job goes last, after its pods), each only if it is still the
    /// one this run created (uid precondition), then waits until the Job is gone. Returns what is left behind.
    /// </summary>
    private async Task<IReadOnlyList<string>> CleanupAsync(V1Job job, JobWatch watch, V1ConfigMap? configMap, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        var ns = job.Metadata.NamespaceProperty;
        var name = job.Metadata.Name;
        var left = new List<string> { $"job.batch/{name}" };
        if (configMap is not null)
        {
            left.Add($"configmap/{configMap.Metadata.Name}");
        }
        try
        {
            // The ConfigMap first: deleting the Job in the foreground would have the garbage collector delete it too,
            // racing our own DELETE.
            if (configMap is not null)
            {
                observer.Progress($"deleting configmap {configMap.Metadata.Name}...");
                var deletedConfigMap = await DeleteOrNullAsync(() => client.CoreV1.DeleteNamespacedConfigMapAsync(
                    configMap.Metadata.Name, ns, new V1DeleteOptions { Preconditions = configMap.Metadata.Uid is { } uid ? new V1Preconditions { Uid = uid } : null }, cancellationToken: deadline.Token)).ConfigureAwait(false);
                left.Remove($"configmap/{configMap.Metadata.Name}");
                observer.Progress(deletedConfigMap is null ? $"configmap \"{configMap.Metadata.Name}\" was already gone" : $"configmap \"{configMap.Metadata.Name}\" deleted");
            }
            observer.Progress($"deleting job {name}...");
            var deleting = await DeleteOrNullAsync(() => client.BatchV1.DeleteNamespacedJobAsync(
                name, ns, new V1DeleteOptions { PropagationPolicy = "Foreground", Preconditions = new V1Preconditions { Uid = job.Metadata.Uid } }, cancellationToken: deadline.Token)).ConfigureAwait(false);
            if (deleting is not null)
            {
                await watch.Gone.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            left.Remove($"job.batch/{name}");
            observer.Progress($"job.batch \"{name}\" deleted");
        }
        catch (Exception e) when (e is OperationCanceledException or HttpOperationException or HttpRequestException or KubernetesException)
        {
            var reason = e is OperationCanceledException ? $"did not finish within {limit.TotalSeconds:0} s" : $"failed: {e.Message}";
            observer.Warning($"cleanup {reason}; left: {string.Join(", ", left)}. Kubernetes removes them after ttlSecondsAfterFinished, or now with: kubectl delete job {name} -n {ns}");
        }
        return left;
    }

    private static async Task<T?> ReadOrNullAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>A delete that finds nothing (404) is done; a uid precondition that fails (409) means the object is not ours: leave it.</summary>
    private static async Task<V1Status?> DeleteOrNullAsync(Func<Task<V1Status>> delete)
    {
        try
        {
            return await delete().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            return null;
        }
    }
}
