using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Kubelet;

/// <summary>A volume cannot be set up yet (e.g. its ConfigMap is missing): the kubelet's FailedMount, retried.</summary>
internal sealed class VolumeSetupException(string message) : Exception(message);

/// <summary>
/// Writes a pod's volumes into its state directory (one host directory per volume) and maps container
/// volumeMounts onto them. The files are plain copies of the API objects at pod start; later ConfigMap/Secret
/// changes are not propagated.
/// </summary>
internal sealed class PodVolumes
{
    /// <summary>0644, the API's default for configMap, secret, downwardAPI and projected volumes.</summary>
    private const int DefaultFileMode = 420;

    private readonly IKubernetes client;
    private readonly ILogger logger;
    private readonly string root;
    private readonly Dictionary<string, string> hostPaths = [];

    /// <summary>emptyDirs are the only writable volumes; the kubelet mounts API data (configMap, secret...) read-only.</summary>
    private readonly HashSet<string> emptyDirs = [];

    public PodVolumes(IKubernetes client, ILogger logger, string root)
    {
        this.client = client;
        this.logger = logger;
        this.root = root;
    }

    /// <summary>Creates every volume's content; throws <see cref="VolumeSetupException"/> when a source is missing.</summary>
    public async Task SetUpAsync(V1Pod pod, NodeFacts node, CancellationToken cancellationToken)
    {
        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            var directory = Path.Combine(root, volume.Name);
            if (volume.EmptyDir is not null)
            {
                // emptyDir keeps its content across container restarts; create it once.
                Directory.CreateDirectory(directory);
                hostPaths[volume.Name] = directory;
                emptyDirs.Add(volume.Name);
                continue;
            }
            // Build into a fresh directory and swap it in, so a retry never sees half of a previous attempt.
            var staging = directory + ".staging";
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
            Directory.CreateDirectory(staging);
            var ns = pod.Metadata.NamespaceProperty;
            if (volume.ConfigMap is { } configMap)
            {
                await WriteConfigMapAsync(staging, ns, configMap.Name, configMap.Items, configMap.Optional == true, configMap.DefaultMode, cancellationToken).ConfigureAwait(false);
            }
            else if (volume.Secret is { } secret)
            {
                await WriteSecretAsync(staging, ns, secret.SecretName, secret.Items, secret.Optional == true, secret.DefaultMode, cancellationToken).ConfigureAwait(false);
            }
            else if (volume.DownwardAPI is { } downwardApi)
            {
                WriteDownwardApi(staging, pod, node, downwardApi.Items, downwardApi.DefaultMode);
            }
            else if (volume.Projected is { } projected)
            {
                foreach (var source in projected.Sources ?? [])
                {
                    if (source.ConfigMap is { } projectedConfigMap)
                    {
                        await WriteConfigMapAsync(staging, ns, projectedConfigMap.Name, projectedConfigMap.Items, projectedConfigMap.Optional == true, projected.DefaultMode, cancellationToken).ConfigureAwait(false);
                    }
                    else if (source.Secret is { } projectedSecret)
                    {
                        await WriteSecretAsync(staging, ns, projectedSecret.Name, projectedSecret.Items, projectedSecret.Optional == true, projected.DefaultMode, cancellationToken).ConfigureAwait(false);
                    }
                    else if (source.DownwardAPI is { } projectedDownwardApi)
                    {
                        WriteDownwardApi(staging, pod, node, projectedDownwardApi.Items, projected.DefaultMode);
                    }
                    else if (source.ServiceAccountToken is { } token)
                    {
                        await WriteServiceAccountTokenAsync(staging, pod, token, projected.DefaultMode, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        logger.LogWarning("pod {Namespace}/{Pod}: volume {Volume}: unsupported projected source skipped", ns, pod.Metadata.Name, volume.Name);
                    }
                }
            }
            else
            {
                Directory.Delete(staging, recursive: true);
                // hostPath, PVCs, CSI...: nothing the process kubelet can provide without exposing host paths.
                throw new VolumeSetupException($"volume \"{volume.Name}\": only configMap, secret, downwardAPI, emptyDir and projected volumes are supported by the process kubelet");
            }
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
            Directory.Move(staging, directory);
            hostPaths[volume.Name] = directory;
        }
    }

    /// <summary>The container's volumeMounts as host path to container path, subPath resolved.</summary>
    public List<VolumeMountPlan> MountsFor(V1Container container)
    {
        var mounts = new List<VolumeMountPlan>();
        foreach (var mount in container.VolumeMounts ?? [])
        {
            if (!hostPaths.TryGetValue(mount.Name, out var hostPath))
            {
                throw new ContainerConfigException($"volume \"{mount.Name}\" not found in pod spec");
            }
            var subPath = mount.SubPath ?? "";
            if (subPath.Length > 0)
            {
                if (Path.IsPathRooted(subPath) || subPath.Split('/').Contains(".."))
                {
                    throw new ContainerConfigException($"invalid subPath \"{subPath}\": must be relative and must not contain '..'");
                }
                hostPath = Path.Combine(hostPath, subPath);
                if (!File.Exists(hostPath) && !Directory.Exists(hostPath))
                {
                    // As the kubelet does, a missing subPath becomes an empty directory.
                    Directory.CreateDirectory(hostPath);
                }
            }
            mounts.Add(new VolumeMountPlan(hostPath, mount.MountPath, mount.ReadOnlyProperty == true || !emptyDirs.Contains(mount.Name)));
        }
        return mounts;
    }

    private async Task WriteConfigMapAsync(string directory, string ns, string name, IList<V1KeyToPath>? items, bool optional, int? defaultMode, CancellationToken cancellationToken)
    {
        V1ConfigMap configMap;
        try
        {
            configMap = await client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            if (optional)
            {
                return;
            }
            throw new VolumeSetupException($"MountVolume.SetUp failed: configmap \"{name}\" not found");
        }
        var data = new Dictionary<string, byte[]>();
        foreach (var (key, value) in configMap.Data ?? new Dictionary<string, string>())
        {
            data[key] = Encoding.UTF8.GetBytes(value);
        }
        foreach (var (key, value) in configMap.BinaryData ?? new Dictionary<string, byte[]>())
        {
            data[key] = value;
        }
        WriteKeys(directory, data, items, optional, defaultMode, $"configmap \"{name}\"");
    }

    private async Task WriteSecretAsync(string directory, string ns, string name, IList<V1KeyToPath>? items, bool optional, int? defaultMode, CancellationToken cancellationToken)
    {
        V1Secret secret;
        try
        {
            secret = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            if (optional)
            {
                return;
            }
            throw new VolumeSetupException($"MountVolume.SetUp failed: secret \"{name}\" not found");
        }
        WriteKeys(directory, new Dictionary<string, byte[]>(secret.Data ?? new Dictionary<string, byte[]>()), items, optional, defaultMode, $"secret \"{name}\"");
    }

    /// <summary>All keys, or only <paramref name="items"/> (key to path, per-item mode).</summary>
    private static void WriteKeys(string directory, Dictionary<string, byte[]> data, IList<V1KeyToPath>? items, bool optional, int? defaultMode, string what)
    {
        if (items is null || items.Count == 0)
        {
            foreach (var (key, value) in data)
            {
                WriteFile(directory, key, value, defaultMode ?? DefaultFileMode);
            }
            return;
        }
        foreach (var item in items)
        {
            if (!data.TryGetValue(item.Key, out var value))
            {
                if (optional)
                {
                    continue;
                }
                throw new VolumeSetupException($"MountVolume.SetUp failed: {what}: configured to use key \"{item.Key}\" but it is missing");
            }
            WriteFile(directory, item.Path, value, item.Mode ?? defaultMode ?? DefaultFileMode);
        }
    }

    private static void WriteDownwardApi(string directory, V1Pod pod, NodeFacts node, IList<V1DownwardAPIVolumeFile>? items, int? defaultMode)
    {
        foreach (var item in items ?? [])
        {
            string value;
            try
            {
                value = item.FieldRef is { } fieldRef
                    ? ContainerEnvironment.ResolveFieldRef(pod, fieldRef.FieldPath)
                    : item.ResourceFieldRef is { } resourceFieldRef
                        ? ContainerEnvironment.ResolveResourceFieldRef(pod, resourceFieldRef, node)
                        : "";
            }
            catch (ContainerConfigException e)
            {
                throw new VolumeSetupException($"MountVolume.SetUp failed: downwardAPI {item.Path}: {e.Message}");
            }
            WriteFile(directory, item.Path, Encoding.UTF8.GetBytes(value), item.Mode ?? defaultMode ?? DefaultFileMode);
        }
    }

    /// <summary>TokenRequest bound to the pod, as the kubelet's token manager asks for it; skipped with a warning when refused.</summary>
    private async Task WriteServiceAccountTokenAsync(string directory, V1Pod pod, V1ServiceAccountTokenProjection projection, int? defaultMode, CancellationToken cancellationToken)
    {
        var serviceAccount = string.IsNullOrEmpty(pod.Spec.ServiceAccountName) ? "default" : pod.Spec.ServiceAccountName;
        var request = new Authenticationv1TokenRequest
        {
            ApiVersion = "authentication.k8s.io/v1",
            Kind = "TokenRequest",
            Spec = new V1TokenRequestSpec
            {
                Audiences = string.IsNullOrEmpty(projection.Audience) ? [] : [projection.Audience],
                ExpirationSeconds = projection.ExpirationSeconds ?? 3607,
                BoundObjectRef = new V1BoundObjectReference
                {
                    ApiVersion = "v1",
                    Kind = "Pod",
                    Name = pod.Metadata.Name,
                    Uid = pod.Metadata.Uid,
                },
            },
        };
        try
        {
            var response = await client.CoreV1.CreateNamespacedServiceAccountTokenAsync(request, serviceAccount, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            WriteFile(directory, projection.Path, Encoding.UTF8.GetBytes(response.Status.Token), defaultMode ?? DefaultFileMode);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or InvalidOperationException)
        {
            logger.LogWarning("pod {Namespace}/{Pod}: no service account token for {ServiceAccount}, skipping {Path}: {Error}",
                pod.Metadata.NamespaceProperty, pod.Metadata.Name, serviceAccount, projection.Path, e.Message);
        }
    }

    private static void WriteFile(string directory, string relativePath, byte[] content, int mode)
    {
        if (Path.IsPathRooted(relativePath) || relativePath.Split('/').Contains(".."))
        {
            throw new VolumeSetupException($"invalid path \"{relativePath}\": must be relative and must not contain '..'");
        }
        var path = Path.Combine(directory, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)(mode & 0x1FF));
        }
    }
}
