using JobKit.Sandbox;
using k8s;
using k8s.Models;

#pragma warning disable CS0618 // WatchAsync over a list response: the generic watch; per-kind replacements live in ClientSets only.

namespace JobKit.Cli.Commands;

/// <summary>Runs one Job manifest in a fresh sandbox: create it, stream its pod's log, wait for Complete or Failed.</summary>
internal static class SandboxJobRunner
{
    public static async Task<int> RunAsync(SandboxCluster cluster, FileInfo manifest, CancellationToken cancellationToken)
    {
        if (!manifest.Exists)
        {
            await Console.Error.WriteLineAsync($"error: --run-job: file {manifest.FullName} does not exist").ConfigureAwait(false);
            return 2;
        }
        V1Job job;
        try
        {
            job = KubernetesYaml.Deserialize<V1Job>(await File.ReadAllTextAsync(manifest.FullName, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or ArgumentException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"error: --run-job: {manifest.Name} is not a Job manifest: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        using var client = cluster.CreateClient();
        var ns = job.Metadata.NamespaceProperty ?? "default";
        var created = await client.BatchV1.CreateNamespacedJobAsync(job, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        var name = created.Metadata.Name;
        await Console.Error.WriteLineAsync($"job.batch/{name} created").ConfigureAwait(false);

        var logs = StreamLogsAsync(client, ns, name, cancellationToken);
        var finished = await WaitForFinishAsync(client, ns, name, cancellationToken).ConfigureAwait(false);
        await logs.ConfigureAwait(false);
        var failed = finished.Status.Conditions?.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True");
        if (failed is not null)
        {
            await Console.Error.WriteLineAsync($"job \"{name}\" failed: {failed.Reason}: {failed.Message}").ConfigureAwait(false);
            return 1;
        }
        await Console.Error.WriteLineAsync($"job \"{name}\" completed").ConfigureAwait(false);
        return 0;
    }

    private static async Task<V1Job> WaitForFinishAsync(IKubernetes client, string ns, string name, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var response = client.BatchV1.ListNamespacedJobWithHttpMessagesAsync(ns, fieldSelector: $"metadata.name={name}", watch: true, cancellationToken: cancellationToken);
            await foreach (var (_, job) in response.WatchAsync<V1Job, V1JobList>(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (job.Status?.Conditions?.Any(c => c.Type is "Complete" or "Failed" && c.Status == "True") == true)
                {
                    return job;
                }
            }
        }
    }

    /// <summary>Follows the log of the Job's first pod from the moment its container starts.</summary>
    private static async Task StreamLogsAsync(IKubernetes client, string ns, string jobName, CancellationToken cancellationToken)
    {
        var selector = $"batch.kubernetes.io/job-name={jobName}";
        using var response = client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(ns, labelSelector: selector, watch: true, cancellationToken: cancellationToken);
        await foreach (var (_, pod) in response.WatchAsync<V1Pod, V1PodList>(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var started = pod.Status?.ContainerStatuses?.Any(s => s.State?.Running is not null || s.State?.Terminated is not null) == true;
            if (!started)
            {
                continue;
            }
            await using var log = await client.CoreV1.ReadNamespacedPodLogAsync(pod.Metadata.Name, ns, follow: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            await log.CopyToAsync(Console.OpenStandardOutput(), cancellationToken).ConfigureAwait(false);
            return;
        }
    }
}
