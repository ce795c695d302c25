using System.Collections.Concurrent;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Core.Runs;

/// <summary>
/// Follows the log of every container of a run's pods from the moment it starts (each restart again), line by line.
/// Lines carry a <c>[pod/container]</c> prefix once more than one stream exists or the Job is built to run several.
/// </summary>
internal sealed class PodLogFollower
{
    private readonly IKubernetes client;
    private readonly IRunObserver observer;
    private readonly ConcurrentDictionary<string, Task> streams = new();
    private volatile bool prefixed;

    public PodLogFollower(IKubernetes client, IRunObserver observer, bool severalExpected)
    {
        this.client = client;
        this.observer = observer;
        prefixed = severalExpected;
    }

    public void Follow(V1Pod pod, CancellationToken cancellationToken)
    {
        foreach (var status in pod.Status?.ContainerStatuses ?? [])
        {
            if (status.State?.Running is null && status.State?.Terminated is null)
            {
                continue;
            }
            var key = $"{pod.Metadata.Name}/{status.Name}/{status.RestartCount}";
            if (streams.ContainsKey(key))
            {
                continue;
            }
            if (!streams.IsEmpty)
            {
                prefixed = true;
            }
            streams.TryAdd(key, Task.Run(() => StreamAsync(pod, status.Name, cancellationToken), CancellationToken.None));
        }
    }

    /// <summary>Waits for the open streams to end (their containers exited), at most <paramref name="limit"/>.</summary>
    public async Task DrainAsync(TimeSpan limit)
    {
        try
        {
            await Task.WhenAll(streams.Values).WaitAsync(limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    private async Task StreamAsync(V1Pod pod, string container, CancellationToken cancellationToken)
    {
        var prefix = $"[pod/{pod.Metadata.Name}/{container}]";
        try
        {
            using var log = await client.CoreV1.ReadNamespacedPodLogAsync(
                pod.Metadata.Name, pod.Metadata.NamespaceProperty, container: container, follow: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(log);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                observer.LogLine(prefixed ? prefix : null, line);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or HttpOperationException or HttpRequestException or IOException)
        {
            // The pod went away or the run ended: its log ends here.
        }
    }
}
