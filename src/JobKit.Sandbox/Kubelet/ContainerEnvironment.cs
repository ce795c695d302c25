using System.Globalization;
using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Sandbox.Kubelet;

/// <summary>
/// A reference the container needs is missing (ConfigMap, Secret or key): the kubelet keeps the container
/// waiting with reason CreateContainerConfigError and tries again.
/// </summary>
internal sealed class ContainerConfigException(string message) : Exception(message);

/// <summary>
/// Builds a container's environment the way the kubelet does (kubelet_pods.go makeEnvironmentVariables): the
/// KUBERNETES_SERVICE_* variables, then envFrom, then env (later wins), with $(VAR) expansion in env values,
/// command and args.
/// </summary>
internal sealed class ContainerEnvironment
{
    /// <summary>What an image usually sets; the process kubelet has no image to take PATH from.</summary>
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private readonly IKubernetes client;
    private readonly Uri apiServer;
    private readonly Dictionary<string, V1ConfigMap> configMaps = [];
    private readonly Dictionary<string, V1Secret> secrets = [];

    public ContainerEnvironment(IKubernetes client, Uri apiServer)
    {
        this.client = client;
        this.apiServer = apiServer;
    }

    public async Task<List<KeyValuePair<string, string>>> BuildAsync(V1Pod pod, V1Container container, NodeFacts node, CancellationToken cancellationToken)
    {
        // Read ConfigMaps and Secrets fresh for every start: a missing one may have been created since.
        configMaps.Clear();
        secrets.Clear();
        var ns = pod.Metadata.NamespaceProperty;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Set(string name, string value)
        {
            if (!variables.ContainsKey(name))
            {
                order.Add(name);
            }
            variables[name] = value;
        }

        Set("PATH", DefaultPath);
        Set("HOSTNAME", PodHostname(pod));
        Set("HOME", "/root");
        foreach (var (name, value) in KubernetesServiceVariables())
        {
            Set(name, value);
        }

        foreach (var source in container.EnvFrom ?? [])
        {
            var prefix = source.Prefix ?? "";
            if (source.ConfigMapRef is { } configMapRef)
            {
                var configMap = await GetConfigMapAsync(ns, configMapRef.Name, configMapRef.Optional == true, cancellationToken).ConfigureAwait(false);
                foreach (var (key, value) in configMap?.Data ?? new Dictionary<string, string>())
                {
                    Set(prefix + key, value);
                }
            }
            if (source.SecretRef is { } secretRef)
            {
                var secret = await GetSecretAsync(ns, secretRef.Name, secretRef.Optional == true, cancellationToken).ConfigureAwait(false);
                foreach (var (key, value) in secret?.Data ?? new Dictionary<string, byte[]>())
                {
                    Set(prefix + key, Encoding.UTF8.GetString(value));
                }
            }
        }

        foreach (var env in container.Env ?? [])
        {
            if (env.ValueFrom is null)
            {
                // $(VAR) refers to variables defined before this one (envFrom, earlier env, service variables).
                Set(env.Name, Expand(env.Value ?? "", name => variables.TryGetValue(name, out var v) ? v : null));
                continue;
            }
            var value = await ResolveValueFromAsync(pod, container, env.ValueFrom, node, cancellationToken).ConfigureAwait(false);
            if (value is not null)
            {
                Set(env.Name, value);
            }
        }

        return order.Select(name => KeyValuePair.Create(name, variables[name])).ToList();
    }

    public static string PodHostname(V1Pod pod) => string.IsNullOrEmpty(pod.Spec.Hostname) ? pod.Metadata.Name : pod.Spec.Hostname;

    /// <summary>
    /// Kubernetes' expansion (third_party/forked/golang/expansion): <c>$(NAME)</c> becomes NAME's value when defined
    /// and stays as written otherwise; <c>$$</c> is an escaped <c>$</c>; any other <c>$</c> is kept.
    /// </summary>
    public static string Expand(string input, Func<string, string?> lookup)
    {
        if (!input.Contains('$', StringComparison.Ordinal))
        {
            return input;
        }
        var output = new StringBuilder(input.Length);
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] != '$' || i + 1 >= input.Length)
            {
                output.Append(input[i]);
                continue;
            }
            var next = input[i + 1];
            if (next == '$')
            {
                output.Append('$');
                i++;
            }
            else if (next == '(')
            {
                var close = input.IndexOf(')', i + 2);
                if (close < 0)
                {
                    // Unterminated reference: kept literally.
                    output.Append(input, i, input.Length - i);
                    break;
                }
                var name = input[(i + 2)..close];
                output.Append(name.Length > 0 && lookup(name) is { } value ? value : input[i..(close + 1)]);
                i = close;
            }
            else
            {
                output.Append('$').Append(next);
                i++;
            }
        }
        return output.ToString();
    }

    /// <summary>command + args with $(VAR) expanded from the container's final environment.</summary>
    public static List<string> CommandLine(V1Container container, IReadOnlyList<KeyValuePair<string, string>> environment)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }
        return (container.Command ?? []).Concat(container.Args ?? [])
            .Select(part => Expand(part, name => variables.TryGetValue(name, out var v) ? v : null))
            .ToList();
    }

    /// <summary>A fieldRef's value (env and downwardAPI volumes share these).</summary>
    public static string ResolveFieldRef(V1Pod pod, string fieldPath)
    {
        static string? Subscript(string path, string prefix)
        {
            if (path.StartsWith(prefix + "['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal))
            {
                return path[(prefix.Length + 2)..^2];
            }
            return null;
        }

        if (Subscript(fieldPath, "metadata.labels") is { } label)
        {
            return pod.Metadata.Labels?.TryGetValue(label, out var v) == true ? v : "";
        }
        if (Subscript(fieldPath, "metadata.annotations") is { } annotation)
        {
            return pod.Metadata.Annotations?.TryGetValue(annotation, out var v) == true ? v : "";
        }
        return fieldPath switch
        {
            "metadata.name" => pod.Metadata.Name,
            "metadata.namespace" => pod.Metadata.NamespaceProperty,
            "metadata.uid" => pod.Metadata.Uid,
            "metadata.labels" => FormatMap(pod.Metadata.Labels),
            "metadata.annotations" => FormatMap(pod.Metadata.Annotations),
            "spec.nodeName" => pod.Spec.NodeName ?? "",
            "spec.serviceAccountName" => pod.Spec.ServiceAccountName ?? "",
            "status.hostIP" or "status.podIP" or "status.hostIPs" or "status.podIPs" => IPAddress.Loopback.ToString(),
            _ => throw new ContainerConfigException($"unsupported fieldPath: {fieldPath}"),
        };
    }

    /// <summary>A resourceFieldRef's value: the container's limit (the node's capacity when unset) or request, over the divisor.</summary>
    public static string ResolveResourceFieldRef(V1Pod pod, V1ResourceFieldSelector selector, NodeFacts node)
    {
        var container = (pod.Spec.Containers ?? []).Concat(pod.Spec.InitContainers ?? [])
            .FirstOrDefault(c => c.Name == selector.ContainerName) ?? pod.Spec.Containers?.FirstOrDefault();
        var parts = selector.Resource.Split('.', 2);
        if (parts.Length != 2)
        {
            throw new ContainerConfigException($"unsupported resource: {selector.Resource}");
        }
        var source = parts[0] == "limits" ? container?.Resources?.Limits : container?.Resources?.Requests;
        decimal amount;
        if (source?.TryGetValue(parts[1], out var quantity) == true)
        {
            amount = quantity.ToDecimal();
        }
        else if (parts[0] == "limits")
        {
            amount = parts[1] switch
            {
                "cpu" => node.Cpus,
                "memory" => node.MemoryBytes,
                _ => 0,
            };
        }
        else
        {
            amount = 0;
        }
        var divisor = selector.Divisor?.ToDecimal() ?? 1m;
        if (divisor == 0)
        {
            divisor = 1;
        }
        // The kubelet rounds up (a 250m CPU limit reads as 1 with divisor 1).
        return decimal.Ceiling(amount / divisor).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The downward API's format for labels/annotations: sorted <c>key="value"</c> lines.</summary>
    public static string FormatMap(IDictionary<string, string>? map) =>
        string.Join('\n', (map ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key}={GoQuote(p.Value)}"));

    private static string GoQuote(string value)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in value)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }
        return builder.Append('"').ToString();
    }

    /// <summary>What the kubelet injects for the default/kubernetes Service, pointing at the real API server URL.</summary>
    private List<KeyValuePair<string, string>> KubernetesServiceVariables()
    {
        var host = apiServer.Host.Trim('[', ']');
        var port = apiServer.Port.ToString(CultureInfo.InvariantCulture);
        var prefix = $"KUBERNETES_PORT_{port}_TCP";
        return
        [
            KeyValuePair.Create("KUBERNETES_SERVICE_HOST", host),
            KeyValuePair.Create("KUBERNETES_SERVICE_PORT", port),
            KeyValuePair.Create("KUBERNETES_SERVICE_PORT_HTTPS", port),
            KeyValuePair.Create("KUBERNETES_PORT", $"tcp://{apiServer.Authority}"),
            KeyValuePair.Create(prefix, $"tcp://{apiServer.Authority}"),
            KeyValuePair.Create(prefix + "_PROTO", "tcp"),
            KeyValuePair.Create(prefix + "_PORT", port),
            KeyValuePair.Create(prefix + "_ADDR", host),
        ];
    }

    private async Task<string?> ResolveValueFromAsync(V1Pod pod, V1Container container, V1EnvVarSource source, NodeFacts node, CancellationToken cancellationToken)
    {
        var ns = pod.Metadata.NamespaceProperty;
        if (source.FieldRef is { } fieldRef)
        {
            return ResolveFieldRef(pod, fieldRef.FieldPath);
        }
        if (source.ResourceFieldRef is { } resourceFieldRef)
        {
            var selector = string.IsNullOrEmpty(resourceFieldRef.ContainerName)
                ? new V1ResourceFieldSelector { Resource = resourceFieldRef.Resource, ContainerName = container.Name, Divisor = resourceFieldRef.Divisor }
                : resourceFieldRef;
            return ResolveResourceFieldRef(pod, selector, node);
        }
        if (source.ConfigMapKeyRef is { } configMapKeyRef)
        {
            var optional = configMapKeyRef.Optional == true;
            var configMap = await GetConfigMapAsync(ns, configMapKeyRef.Name, optional, cancellationToken).ConfigureAwait(false);
            if (configMap is null)
            {
                return null;
            }
            if (configMap.Data?.TryGetValue(configMapKeyRef.Key, out var value) == true)
            {
                return value;
            }
            if (configMap.BinaryData?.TryGetValue(configMapKeyRef.Key, out var binary) == true)
            {
                return Encoding.UTF8.GetString(binary);
            }
            return optional ? null : throw new ContainerConfigException($"couldn't find key {configMapKeyRef.Key} in ConfigMap {ns}/{configMapKeyRef.Name}");
        }
        if (source.SecretKeyRef is { } secretKeyRef)
        {
            var optional = secretKeyRef.Optional == true;
            var secret = await GetSecretAsync(ns, secretKeyRef.Name, optional, cancellationToken).ConfigureAwait(false);
            if (secret is null)
            {
                return null;
            }
            if (secret.Data?.TryGetValue(secretKeyRef.Key, out var value) == true)
            {
                return Encoding.UTF8.GetString(value);
            }
            return optional ? null : throw new ContainerConfigException($"couldn't find key {secretKeyRef.Key} in Secret {ns}/{secretKeyRef.Name}");
        }
        return null;
    }

    private async Task<V1ConfigMap?> GetConfigMapAsync(string ns, string name, bool optional, CancellationToken cancellationToken)
    {
        if (configMaps.TryGetValue(name, out var cached))
        {
            return cached;
        }
        try
        {
            var configMap = await client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            configMaps[name] = configMap;
            return configMap;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return optional ? null : throw new ContainerConfigException($"configmap \"{name}\" not found");
        }
        catch (HttpOperationException e)
        {
            throw new ContainerConfigException($"couldn't get configMap {ns}/{name}: {e.Response.StatusCode} {e.Response.Content}");
        }
    }

    private async Task<V1Secret?> GetSecretAsync(string ns, string name, bool optional, CancellationToken cancellationToken)
    {
        if (secrets.TryGetValue(name, out var cached))
        {
            return cached;
        }
        try
        {
            var secret = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            secrets[name] = secret;
            return secret;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return optional ? null : throw new ContainerConfigException($"secret \"{name}\" not found");
        }
        catch (HttpOperationException e)
        {
            throw new ContainerConfigException($"couldn't get secret {ns}/{name}: {e.Response.StatusCode} {e.Response.Content}");
        }
    }
}

/// <summary>What the node offers, for resourceFieldRef defaults and the Node's capacity.</summary>
internal sealed record NodeFacts(int Cpus, long MemoryBytes);
