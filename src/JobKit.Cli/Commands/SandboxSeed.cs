using k8s;
using k8s.Models;

namespace JobKit.Cli.Commands;

/// <summary>Creates the objects of <c>--sandbox-seed</c> manifests in a fresh sandbox.</summary>
internal static class SandboxSeed
{
    public static async Task ApplyAsync(IKubernetes client, IEnumerable<FileInfo> files, string defaultNamespace, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            if (!file.Exists)
            {
                throw new UsageException($"--sandbox-seed: {file.FullName} does not exist");
            }
            List<object> objects;
            try
            {
                objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(file.FullName, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is YamlDotNet.Core.YamlException or ArgumentException or InvalidOperationException)
            {
                throw new UsageException($"--sandbox-seed: {file.Name} is not a Kubernetes manifest: {e.Message}", e);
            }
            foreach (var obj in objects)
            {
                var created = obj switch
                {
                    V1Namespace o => (await client.CoreV1.CreateNamespaceAsync(o, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata.Name,
                    V1CronJob o => (await client.BatchV1.CreateNamespacedCronJobAsync(o, o.Metadata.NamespaceProperty ?? defaultNamespace, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata.Name,
                    V1Job o => (await client.BatchV1.CreateNamespacedJobAsync(o, o.Metadata.NamespaceProperty ?? defaultNamespace, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata.Name,
                    V1ConfigMap o => (await client.CoreV1.CreateNamespacedConfigMapAsync(o, o.Metadata.NamespaceProperty ?? defaultNamespace, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata.Name,
                    V1Secret o => (await client.CoreV1.CreateNamespacedSecretAsync(o, o.Metadata.NamespaceProperty ?? defaultNamespace, cancellationToken: cancellationToken).ConfigureAwait(false)).Metadata.Name,
                    _ => throw new UsageException($"--sandbox-seed: {file.Name}: {(obj as IKubernetesObject)?.Kind ?? obj.GetType().Name} is not supported here (CronJob, Job, ConfigMap, Secret, Namespace are)"),
                };
                await Console.Error.WriteLineAsync($"sandbox: {((IKubernetesObject)obj).Kind.ToLowerInvariant()}/{created} created").ConfigureAwait(false);
            }
        }
    }
}
