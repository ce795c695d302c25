using System.Diagnostics;
using JobKit.Core.Kube;
using k8s;
using k8s.Models;

namespace JobKit.Core.Runs;

/// <summary>
/// The run's single watch on its Job, from the resourceVersion its create returned (resumed from the last one seen
/// when it drops, re-listed on 410): progress to the observer, <see cref="Finished"/> once the Job succeeds, fails or is
/// deleted by someone else, and <see cref="Gone"/> once it is removed.
/// </summary>
internal sealed class JobWatch : IAsyncDisposable
{
    private readonly TaskCompletionSource<(RunOutcome Outcome, V1Job? Job)> finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource gone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public JobWatch(IKubernetes client, V1Job created, IRunObserver observer, Stopwatch started)
    {
        Last = created;
        var uid = created.Metadata.Uid;
        var informer = Informer<V1Job>.Create<V1JobList>((rv, watch, ct) => client.BatchV1.ListNamespacedJobWithHttpMessagesAsync(
            created.Metadata.NamespaceProperty, fieldSelector: $"metadata.name={created.Metadata.Name}", resourceVersion: rv, watch: watch, allowWatchBookmarks: watch ? true : null, cancellationToken: ct));
        informer.Changed += (type, job, _) =>
        {
            // A Job of the same name with another uid is somebody else's: ours is gone.
            if (type == WatchEventType.Deleted || job.Metadata.Uid != uid)
            {
                finished.TrySetResult((RunOutcome.Vanished, Last));
                gone.TrySetResult();
                return Task.CompletedTask;
            }
            if (job.Metadata.DeletionTimestamp is not null)
            {
                finished.TrySetResult((RunOutcome.Vanished, Last));
                return Task.CompletedTask;
            }
            if (finished.Task.IsCompleted)
            {
                return Task.CompletedTask;
            }
            Last = job;
            observer.JobChanged(Progress(job, started.Elapsed));
            if (JobConditions.Terminal(job) is { } succeeded)
            {
                finished.TrySetResult((succeeded ? RunOutcome.Succeeded : RunOutcome.Failed, job));
            }
            return Task.CompletedTask;
        };
        observer.JobChanged(Progress(created, started.Elapsed));
        loop = Task.Run(() => informer.RunFromAsync(created.Metadata.ResourceVersion, [created], stop.Token), CancellationToken.None);
    }

    /// <summary>The Job as last seen before it finished or went away.</summary>
    public V1Job Last { get; private set; }

    public Task<(RunOutcome Outcome, V1Job? Job)> Finished => finished.Task;

    public Task Gone => gone.Task;

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        stop.Dispose();
    }

    private static JobProgress Progress(V1Job job, TimeSpan elapsed) =>
        new(job.Metadata.Name, job.Status?.Active ?? 0, job.Status?.Ready ?? 0, job.Status?.Succeeded ?? 0, job.Status?.Failed ?? 0, elapsed);
}
