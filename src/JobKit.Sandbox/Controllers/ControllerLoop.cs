using k8s;
using k8s.Models;
using JobKit.Core.Kube;

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// The Run/worker/processNextWorkItem skeleton that kube-controller-manager's controllers share: start the
/// background loops (event recorder, informers), wait until every informer cache has synced, then let a fixed
/// number of workers drain a rate-limited <see cref="WorkQueue"/> until cancelled. A controller keeps only what is
/// its own: its informers and event handlers (which enqueue through <see cref="Queue"/>), its sync, its numbers.
/// </summary>
/// <param name="time">The clock of the work queue's delays.</param>
/// <param name="workers">How many keys are synced at once.</param>
/// <param name="baseDelay">The rate limiter's first back-off after a failed sync; it doubles per failure.</param>
/// <param name="maxDelay">The rate limiter's cap.</param>
/// <param name="sync">Reconciles one key; a non-null result requeues the key after that long.</param>
/// <param name="syncFailed">Reports a sync that threw; the key is then requeued rate-limited.</param>
/// <param name="cachesSynced">Runs once the caches have synced, before the workers start.</param>
internal sealed class ControllerLoop(
    TimeProvider time,
    int workers,
    TimeSpan baseDelay,
    TimeSpan maxDelay,
    Func<string, CancellationToken, Task<TimeSpan?>> sync,
    Action<string, Exception> syncFailed,
    Action<WorkQueue>? cachesSynced = null)
{
    private readonly List<Func<CancellationToken, Task>> background = [];
    private readonly List<Task> caches = [];

    /// <summary>The queue while <see cref="RunAsync"/> runs; null before and after, so late events are dropped.</summary>
    public WorkQueue? Queue { get; private set; }

    /// <summary>Runs <paramref name="run"/> alongside the workers, started before them and awaited after them.</summary>
    public void RunAlongside(Func<CancellationToken, Task> run) => background.Add(run);

    /// <summary>Runs the informer alongside the workers, which wait for its cache; its changes go to <paramref name="changed"/>.</summary>
    public Informer<T> Watch<T>(Informer<T> informer, Func<WatchEventType, T, CancellationToken, Task> changed)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        informer.Changed += changed;
        RunAlongside(informer.RunAsync);
        caches.Add(informer.Synced);
        return informer;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var q = new WorkQueue(time, baseDelay, maxDelay);
        Queue = q;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = background.Select(run => run(stop.Token)).ToList();
        try
        {
            await Task.WhenAll(caches).WaitAsync(cancellationToken).ConfigureAwait(false);
            cachesSynced?.Invoke(q);
            var workerTasks = Enumerable.Range(0, workers).Select(_ => WorkerAsync(q, stop.Token)).ToList();
            await Task.WhenAll(workerTasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(running).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            Queue = null;
        }
    }

    private async Task WorkerAsync(WorkQueue q, CancellationToken cancellationToken)
    {
        while (await q.GetAsync(cancellationToken).ConfigureAwait(false) is { } key)
        {
            try
            {
                var requeueAfter = await sync(key, cancellationToken).ConfigureAwait(false);
                q.Forget(key);
                if (requeueAfter is { } d)
                {
                    q.AddAfter(key, d);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                syncFailed(key, e);
                q.AddRateLimited(key);
            }
            finally
            {
                q.Done(key);
            }
        }
    }
}
