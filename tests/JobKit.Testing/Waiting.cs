using System.Diagnostics;
using k8s;
using Xunit;

namespace JobKit.Testing;

/// <summary>Deadline-bound waiting by short polling: never a sleep that hopes the cluster is done.</summary>
public static class Waiting
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Calls <paramref name="read"/> until <paramref name="done"/> holds and returns that value; after
    /// <paramref name="timeout"/> fails with "Timed out after … waiting for {what}; last observed: …".
    /// </summary>
    public static async Task<T> ForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var observed = false;
        T last = default!;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            last = await read();
            observed = true;
            if (done(last))
            {
                return last;
            }
            if (stopwatch.Elapsed >= timeout)
            {
                break;
            }
            await Task.Delay(PollInterval, cancellationToken);
        }
        Assert.Fail($"Timed out after {stopwatch.Elapsed.TotalSeconds:0.0} s (deadline {timeout.TotalSeconds:0} s) waiting for {what}; last observed: {(observed ? Describe(last) : "nothing")}");
        return last;
    }

    /// <summary>A readable dump of an observed value: Kubernetes objects as JSON without managedFields.</summary>
    public static string Describe(object? value)
    {
        switch (value)
        {
            case null:
                return "null (not found)";
            case string s:
                return s;
            case k8s.Models.IMetadata<k8s.Models.V1ObjectMeta> { Metadata: { } metadata } when metadata.ManagedFields is { } managed:
                metadata.ManagedFields = null;
                try
                {
                    return KubernetesJson.Serialize(value);
                }
                finally
                {
                    metadata.ManagedFields = managed;
                }
            case IKubernetesObject or k8s.Models.IMetadata<k8s.Models.V1ListMeta>:
                return KubernetesJson.Serialize(value);
            default:
                return value.ToString() ?? value.GetType().Name;
        }
    }
}
