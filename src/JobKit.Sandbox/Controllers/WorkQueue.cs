using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("JobKit.Sandbox.Tests")]

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// client-go's rate-limited delaying work queue (k8s.io/client-go/util/workqueue): a key is queued at most once
/// (dirty set), is never handed to two workers at once (processing set; re-added keys are queued again on
/// <see cref="Done"/>), <see cref="AddAfter"/> keeps the earliest pending time per key, and
/// <see cref="AddRateLimited"/> backs off per key exponentially until <see cref="Forget"/>.
/// </summary>
internal sealed class WorkQueue : IDisposable
{
    private readonly object gate = new();
    private readonly Queue<string> queue = new();
    private readonly HashSet<string> dirty = [];
    private readonly HashSet<string> processing = [];
    private readonly Dictionary<string, (DateTimeOffset Due, ITimer Timer)> waiting = [];
    private readonly Dictionary<string, int> failures = [];
    private readonly SemaphoreSlim signal = new(0);
    private readonly TimeProvider time;
    private readonly TimeSpan baseDelay;
    private readonly TimeSpan maxDelay;
    private bool disposed;

    public WorkQueue(TimeProvider time, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        this.time = time;
        this.baseDelay = baseDelay;
        this.maxDelay = maxDelay;
    }

    public void Add(string key)
    {
        lock (gate)
        {
            if (disposed || !dirty.Add(key))
            {
                return;
            }
            if (processing.Contains(key))
            {
                return;
            }
            queue.Enqueue(key);
        }
        Signal();
    }

    private void Signal()
    {
        try
        {
            signal.Release();
        }
        catch (ObjectDisposedException)
        {
            // A timer fired while the queue was shutting down.
        }
    }

    public void AddAfter(string key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }
        lock (gate)
        {
            if (disposed)
            {
                return;
            }
            var due = time.GetUtcNow() + delay;
            if (waiting.TryGetValue(key, out var existing))
            {
                if (existing.Due <= due)
                {
                    return;
                }
                existing.Timer.Dispose();
            }
            var timer = time.CreateTimer(_ => Fire(key, due), null, delay, Timeout.InfiniteTimeSpan);
            waiting[key] = (due, timer);
        }
    }

    private void Fire(string key, DateTimeOffset due)
    {
        lock (gate)
        {
            if (waiting.TryGetValue(key, out var entry) && entry.Due == due)
            {
                entry.Timer.Dispose();
                waiting.Remove(key);
            }
        }
        Add(key);
    }

    public void AddRateLimited(string key)
    {
        TimeSpan delay;
        lock (gate)
        {
            failures.TryGetValue(key, out var n);
            failures[key] = n + 1;
            delay = Backoff(baseDelay, maxDelay, n);
        }
        AddAfter(key, delay);
    }

    /// <summary>baseDelay * 2^failures, capped at maxDelay (ItemExponentialFailureRateLimiter).</summary>
    internal static TimeSpan Backoff(TimeSpan baseDelay, TimeSpan maxDelay, int failures)
    {
        var ticks = baseDelay.Ticks * Math.Pow(2, Math.Min(failures, 62));
        return ticks >= maxDelay.Ticks ? maxDelay : TimeSpan.FromTicks((long)ticks);
    }

    public void Forget(string key)
    {
        lock (gate)
        {
            failures.Remove(key);
        }
    }

    public async Task<string?> GetAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            lock (gate)
            {
                if (queue.Count == 0)
                {
                    continue;
                }
                var key = queue.Dequeue();
                processing.Add(key);
                dirty.Remove(key);
                return key;
            }
        }
    }

    public void Done(string key)
    {
        var requeue = false;
        lock (gate)
        {
            processing.Remove(key);
            if (dirty.Contains(key) && !disposed)
            {
                queue.Enqueue(key);
                requeue = true;
            }
        }
        if (requeue)
        {
            Signal();
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            foreach (var (_, timer) in waiting.Values)
            {
                timer.Dispose();
            }
            waiting.Clear();
        }
        signal.Dispose();
    }
}
