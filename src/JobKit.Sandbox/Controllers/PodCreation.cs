using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Sandbox.Controllers;

/// <summary>How the Job and ReplicaSet controllers create a pod they own (controller.RealPodControl.CreatePods).</summary>
internal static class PodCreation
{
    /// <summary>
    /// Creates <paramref name="pod"/> and records SuccessfulCreate or FailedCreate on <paramref name="owner"/>. Returns the
    /// failure, or null on success and when the namespace is being torn down (all further creations fail too).
    /// </summary>
    public static async Task<Exception?> CreateAsync(IKubernetes client, EventRecorder recorder, IKubernetesObject<V1ObjectMeta> owner, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            var created = await client.CoreV1.CreateNamespacedPodAsync(pod, owner.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            recorder.Event(owner, EventRecorder.Normal, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}");
            return null;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            if (e is HttpOperationException he && he.Response.Content?.Contains("NamespaceTerminating", StringComparison.Ordinal) == true)
            {
                return null;
            }
            recorder.Event(owner, EventRecorder.Warning, "FailedCreate", $"Error creating: {JobController.ErrorText(e)}");
            return e;
        }
    }
}
