using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using JobKit.Core.Kube;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// The TTL-after-finished controller of kube-controller-manager 1.32 (pkg/controller/ttlafterfinished):
/// deletes a finished Job (Complete or Failed condition) <c>ttlSecondsAfterFinished</c> after that condition's
/// lastTransitionTime, with propagationPolicy Foreground and a UID precondition, after re-reading the Job from
/// the API server. A timer per Job (the work queue's AddAfter), no polling. It records no events.
/// </summary>
public sealed class TtlAfterFinishedController
{
    private const int Workers = 2;

    private readonly IKubernetes client;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly Informer<V1Job> jobs;
    private WorkQueue? queue;

    public TtlAfterFinishedController(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.time = time;
        logger = loggerFactory.CreateLogger<TtlAfterFinishedController>();
        jobs = Informer<V1Job>.Create<V1JobList>((rv, w, ct) =>
            client.BatchV1.ListJobForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct));
        jobs.Changed += OnJobChangedAsync;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var q = new WorkQueue(time, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000));
        queue = q;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var informer = jobs.RunAsync(stop.Token);
        try
        {
            await jobs.Synced.WaitAsync(cancellationToken).ConfigureAwait(false);
            var workers = Enumerable.Range(0, Workers).Select(_ => WorkerAsync(q, stop.Token)).ToList();
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await informer.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            queue = null;
        }
    }

    private Task OnJobChangedAsync(WatchEventType type, V1Job job, CancellationToken cancellationToken)
    {
        if (type != WatchEventType.Deleted && job.Metadata.DeletionTimestamp is null && NeedsCleanup(job))
        {
            queue?.Add(Informer<V1Job>.Key(job.Metadata.NamespaceProperty, job.Metadata.Name));
        }
        return Task.CompletedTask;
    }

    private async Task WorkerAsync(WorkQueue q, CancellationToken cancellationToken)
    {
        while (await q.GetAsync(cancellationToken).ConfigureAwait(false) is { } key)
        {
            try
            {
                await ProcessJobAsync(key, cancellationToken).ConfigureAwait(false);
                q.Forget(key);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("Error cleaning up Job {Key}: {Error}", key, e.Message);
                q.AddRateLimited(key);
            }
            finally
            {
                q.Done(key);
            }
        }
    }

    /// <summary>needsCleanup: a TTL is set and the Job has finished.</summary>
    internal static bool NeedsCleanup(V1Job job) => job.Spec?.TtlSecondsAfterFinished is not null && JobLogic.IsFinished(job);

    /// <summary>timeLeft: the finish time (the Complete/Failed condition's lastTransitionTime) plus the TTL, minus now; null if it cannot be cleaned up.</summary>
    internal static (TimeSpan Left, DateTime ExpireAt)? TimeLeft(V1Job job, DateTime now)
    {
        if (!NeedsCleanup(job) || JobLogic.FinishedCondition(job)?.LastTransitionTime is not { } finishedAt)
        {
            return null;
        }
        var expireAt = finishedAt.ToUniversalTime() + TimeSpan.FromSeconds(job.Spec.TtlSecondsAfterFinished!.Value);
        return (expireAt - now, expireAt);
    }

    private async Task ProcessJobAsync(string key, CancellationToken cancellationToken)
    {
        var i = key.IndexOf('/', StringComparison.Ordinal);
        var (ns, name) = i < 0 ? ("", key) : (key[..i], key[(i + 1)..]);
        var job = jobs.Get(ns, name);
        if (job is null || !ProcessTtl(key, job))
        {
            return;
        }
        // The TTL looks expired, but the cached Job may be stale: check the latest one before deleting.
        V1Job fresh;
        try
        {
            fresh = await client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return;
        }
        if (!ProcessTtl(key, fresh))
        {
            return;
        }
        logger.LogDebug("Cleaning up Job {Key}", key);
        try
        {
            await client.BatchV1.DeleteNamespacedJobAsync(
                name,
                ns,
                new V1DeleteOptions { PropagationPolicy = "Foreground", Preconditions = new V1Preconditions { Uid = fresh.Metadata.Uid } },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>processTTL: true when expired; otherwise requeues the key for when it expires.</summary>
    private bool ProcessTtl(string key, V1Job job)
    {
        if (job.Metadata.DeletionTimestamp is not null)
        {
            return false;
        }
        var now = time.GetUtcNow().UtcDateTime;
        if (TimeLeft(job, now) is not { } left)
        {
            return false;
        }
        if (left.Left <= TimeSpan.Zero)
        {
            return true;
        }
        queue?.AddAfter(key, left.Left);
        return false;
    }
}
