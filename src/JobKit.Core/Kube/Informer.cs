using System.Collections.Concurrent;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Core.Kube;

/// <summary>
/// List-then-watch with a local cache, as client-go's reflector does: one LIST, then one WATCH resumed from
/// the last resourceVersion seen (bookmarks included) whenever it drops, and a fresh LIST only when the server
/// answers 410 Gone. Handlers run one at a time, in the order the server sent the events.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "Informer<V1Pod>.Create<V1PodList>(...) names both types where they are chosen.")]
public sealed class Informer<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>LIST (watch=false) or WATCH (watch=true) from a resourceVersion; e.g. <c>(rv, w, ct) => client.CoreV1.ListPodForAllNamespacesWithHttpMessagesAsync(resourceVersion: rv, watch: w, allowWatchBookmarks: w, cancellationToken: ct)</c>.</summary>
    public delegate Task<HttpOperationResponse<TList>> ListOrWatch<TList>(string? resourceVersion, bool watch, CancellationToken cancellationToken);

    private readonly Func<CancellationToken, Task<(IList<T> Items, string ResourceVersion)>> list;
    private readonly Func<string, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> watch;
    private readonly ConcurrentDictionary<string, T> cache = new();
    private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan retryDelay;

    private Informer(
        Func<CancellationToken, Task<(IList<T> Items, string ResourceVersion)>> list,
        Func<string, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> watch,
        TimeSpan retryDelay)
    {
        this.list = list;
        this.watch = watch;
        this.retryDelay = retryDelay;
    }

    public static Informer<T> Create<TList>(ListOrWatch<TList> listOrWatch, TimeSpan? retryDelay = null)
        where TList : IKubernetesObject<V1ListMeta>, IItems<T>
    {
        return new Informer<T>(
            async ct =>
            {
                using var response = await listOrWatch(null, false, ct).ConfigureAwait(false);
                var body = response.Body;
                return ((IList<T>)body.Items.ToList(), body.Metadata.ResourceVersion);
            },
#pragma warning disable CS0618 // The generic list-response watch; its per-kind replacements live in ClientSets only.
            (rv, ct) => listOrWatch(rv, true, ct).WatchAsync<T, TList>(cancellationToken: ct),
#pragma warning restore CS0618
            retryDelay ?? TimeSpan.FromMilliseconds(500));
    }

    /// <summary>Called for every change, after the cache is updated. The initial LIST reports each object as Added.</summary>
    public event Func<WatchEventType, T, CancellationToken, Task>? Changed;

    /// <summary>Completes once the first LIST has been delivered.</summary>
    public Task Synced => synced.Task;

    public IReadOnlyCollection<T> Items => cache.Values.ToList();

    public T? Get(string? ns, string name) => cache.TryGetValue(Key(ns, name), out var value) ? value : null;

    public static string Key(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}";

    /// <summary>Lists, then watches until cancelled.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => RunFromAsync(null, [], cancellationToken);

    /// <summary>
    /// Given <paramref name="startFrom"/> (e.g. the resourceVersion a create returned) and the objects known at that
    /// version, skips the first LIST and watches from there, so a caller that knows the state sees every later change
    /// with a single request; a 410 still falls back to a LIST, which reports known objects gone as Deleted.
    /// </summary>
    public async Task RunFromAsync(string? startFrom, IEnumerable<T> known, CancellationToken cancellationToken)
    {
        foreach (var item in known)
        {
            cache[Key(item.Metadata.NamespaceProperty, item.Metadata.Name)] = item;
        }
        var resourceVersion = startFrom;
        if (startFrom is not null)
        {
            synced.TrySetResult();
        }
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await RelistAsync(cancellationToken).ConfigureAwait(false);
                }
                await foreach (var (type, obj) in watch(resourceVersion, cancellationToken).ConfigureAwait(false))
                {
                    resourceVersion = obj.Metadata?.ResourceVersion ?? resourceVersion;
                    if (type == WatchEventType.Bookmark)
                    {
                        continue;
                    }
                    if (type == WatchEventType.Error)
                    {
                        // The server reports "410 Gone" inside the stream as an ERROR event.
                        resourceVersion = null;
                        break;
                    }
                    var key = Key(obj.Metadata!.NamespaceProperty, obj.Metadata.Name);
                    if (type == WatchEventType.Deleted)
                    {
                        cache.TryRemove(key, out _);
                    }
                    else
                    {
                        cache[key] = obj;
                    }
                    await NotifyAsync(type, obj, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
            {
                resourceVersion = null;
            }
            catch (KubernetesException e) when (e.Status?.Code == (int)HttpStatusCode.Gone)
            {
                // A watch from a resourceVersion the server no longer holds ends with an ERROR event carrying 410.
                resourceVersion = null;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Connection dropped or server restarting: resume from the last resourceVersion after a pause.
                try
                {
                    await Task.Delay(retryDelay, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<string> RelistAsync(CancellationToken cancellationToken)
    {
        var (items, resourceVersion) = await list(cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<string>();
        foreach (var item in items)
        {
            var key = Key(item.Metadata.NamespaceProperty, item.Metadata.Name);
            seen.Add(key);
            cache[key] = item;
            await NotifyAsync(WatchEventType.Added, item, cancellationToken).ConfigureAwait(false);
        }
        foreach (var gone in cache.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            if (cache.TryRemove(gone, out var removed))
            {
                await NotifyAsync(WatchEventType.Deleted, removed, cancellationToken).ConfigureAwait(false);
            }
        }
        synced.TrySetResult();
        return resourceVersion;
    }

    private async Task NotifyAsync(WatchEventType type, T obj, CancellationToken cancellationToken)
    {
        if (Changed is { } handler)
        {
            await handler(type, obj, cancellationToken).ConfigureAwait(false);
        }
    }
}
