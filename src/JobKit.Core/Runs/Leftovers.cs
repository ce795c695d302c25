using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Core.Runs;

/// <summary>Something a transient run created and did not delete (its process was killed), and why it counts as left over.</summary>
public sealed record Leftover(string Kind, string Namespace, string Name, string Uid, string RunId, string Reason)
{
    public override string ToString() => $"{Kind}/{Name} -n {Namespace} (run {RunId}): {Reason}";
}

/// <summary>
/// Finds and deletes the leftovers of finished runs: Jobs that finished, Jobs that were never resumed (the run was
/// killed between creating its Job and its ConfigMap), and ConfigMaps whose Job is gone or left over. Runs still going
/// are never touched.
/// </summary>
public static class Leftovers
{
    /// <summary>A run resumes its Job within a second of creating it; one still suspended after this was abandoned.</summary>
    public static readonly TimeSpan AbandonedSuspendedAfter = TimeSpan.FromMinutes(5);

    /// <param name="ns">A namespace, or null for all.</param>
    public static async Task<IReadOnlyList<Leftover>> FindAsync(IKubernetes client, string? ns, DateTime now, CancellationToken cancellationToken)
    {
        var jobs = ns is null
            ? await client.BatchV1.ListJobForAllNamespacesAsync(labelSelector: RunLabels.ManagedSelector, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await client.BatchV1.ListNamespacedJobAsync(ns, labelSelector: RunLabels.ManagedSelector, cancellationToken: cancellationToken).ConfigureAwait(false);
        var configMaps = ns is null
            ? await client.CoreV1.ListConfigMapForAllNamespacesAsync(labelSelector: RunLabels.ManagedSelector, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: RunLabels.ManagedSelector, cancellationToken: cancellationToken).ConfigureAwait(false);

        var leftovers = new List<Leftover>();
        var runningJobs = new HashSet<string>();
        foreach (var job in jobs.Items.Where(j => j.Metadata.DeletionTimestamp is null))
        {
            var reason = JobConditions.Terminal(job) switch
            {
                true => "its job completed",
                false => "its job failed",
                null when job.Spec?.Suspend == true && now - (job.Metadata.CreationTimestamp ?? now) > AbandonedSuspendedAfter => "its job was never resumed",
                _ => null,
            };
            if (reason is null)
            {
                runningJobs.Add(job.Metadata.Uid);
            }
            else
            {
                leftovers.Add(new Leftover("job.batch", job.Metadata.NamespaceProperty, job.Metadata.Name, job.Metadata.Uid, RunIdOf(job.Metadata), reason));
            }
        }
        foreach (var configMap in configMaps.Items.Where(c => c.Metadata.DeletionTimestamp is null))
        {
            var owner = configMap.Metadata.OwnerReferences?.FirstOrDefault(o => o.Kind == "Job");
            if (owner is null || !runningJobs.Contains(owner.Uid))
            {
                leftovers.Add(new Leftover("configmap", configMap.Metadata.NamespaceProperty, configMap.Metadata.Name, configMap.Metadata.Uid, RunIdOf(configMap.Metadata),
                    owner is null ? "it has no job" : "its job is finished or gone"));
            }
        }
        return leftovers;
    }

    /// <summary>Deletes one leftover, only if it is still the object found (uid precondition). False when it was already gone.</summary>
    public static async Task<bool> DeleteAsync(IKubernetes client, Leftover leftover, CancellationToken cancellationToken)
    {
        var options = new V1DeleteOptions { PropagationPolicy = "Background", Preconditions = new V1Preconditions { Uid = leftover.Uid } };
        try
        {
            if (leftover.Kind == "job.batch")
            {
                await client.BatchV1.DeleteNamespacedJobAsync(leftover.Name, leftover.Namespace, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await client.CoreV1.DeleteNamespacedConfigMapAsync(leftover.Name, leftover.Namespace, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    private static string RunIdOf(V1ObjectMeta metadata) => metadata.Labels?.TryGetValue(RunLabels.RunId, out var id) == true ? id : "?";
}
