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
    private readonly ControllerLoop loop;
    private readonly Informer<V1Job> jobs;

    public TtlAfterFinishedController(IKubernetes client, ILoggerFactory loggerFactory, TimeProvider time)
    {
        this.client = client;
        this.time = time;
        logger = loggerFactory.CreateLogger<TtlAfterFinishedController>();
        loop = new ControllerLoop(
            time,
            Workers,
            baseDelay: TimeSpan.FromMilliseconds(5),
            maxDelay: TimeSpan.FromSeconds(1000),
            SyncAsync,
            syncFailed: (key, e) => logger.LogWarning("Error cleaning up Job {Key}: {Error}", key, e.Message));
        jobs = loop.Watch(ClusterInformers.Jobs(client), OnJobChangedAsync);
    }

    public Task RunAsync(CancellationToken cancellationToken) => loop.RunAsync(cancellationToken);

    private Task OnJobChangedAsync(WatchEventType type, V1Job job, CancellationToken cancellationToken)
    {
        if (type != WatchEventType.Deleted && job.Metadata.DeletionTimestamp is null && NeedsCleanup(job))
        {
            loop.Queue?.Add(Informer<V1Job>.Key(job.Metadata.NamespaceProperty, job.Metadata.Name));
        }
        return Task.CompletedTask;
    }

    /// <summary>Never asks for a requeue: <see cref="ProcessTtl"/> schedules the Job's expiry itself.</summary>
    private async Task<TimeSpan?> SyncAsync(string key, CancellationToken cancellationToken)
    {
        await ProcessJobAsync(key, cancellationToken).ConfigureAwait(false);
        return null;
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
        loop.Queue?.AddAfter(key, left.Left);
        return false;
    }
}
