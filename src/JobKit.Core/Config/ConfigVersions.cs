using System.Text.RegularExpressions;
using JobKit.Core.ConfigData;
using JobKit.Core.Hashing;
using k8s;
using k8s.Models;

namespace JobKit.Core.Config;

/// <summary>
/// The content-hashed versions of one configuration NAME: <c>NAME-&lt;10-char suffix&gt;</c> objects built from the same
/// sources as kustomize's configMapGenerator/secretGenerator (or <c>kubectl create ... --append-hash</c>) would build them,
/// labelled so that every version jobkit created can be listed again.
/// </summary>
public static partial class ConfigVersions
{
    /// <summary>Set on every version jobkit creates; nothing without it is ever pruned.</summary>
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";

    public const string ManagedByValue = "jobkit";

    /// <summary>The unsuffixed NAME a version belongs to.</summary>
    public const string ConfigNameLabel = "jobkit.dev/config-name";

    /// <summary>The label selector of the versions jobkit created for <paramref name="name"/>.</summary>
    public static string Selector(string name) => $"{ManagedByLabel}={ManagedByValue},{ConfigNameLabel}={name}";

    /// <summary>
    /// True when <paramref name="candidate"/> is NAME itself or NAME followed by a content-hash suffix (10 characters of the
    /// hash alphabet: the hex digits with 0, 1, 3, a, e replaced by g, h, k, m, t).
    /// </summary>
    public static bool IsVersionOf(string name, string? candidate) =>
        candidate is not null
        && (candidate == name
            || (candidate.Length == name.Length + 1 + ContentHash.SuffixLength
                && candidate.StartsWith(name + "-", StringComparison.Ordinal)
                && SuffixPattern().IsMatch(candidate.AsSpan(name.Length + 1))));

    [GeneratedRegex("^[2456789bcdfghkmt]{10}$")]
    private static partial Regex SuffixPattern();

    /// <summary>
    /// The generated object as kustomize prints it (no namespace, no labels, not immutable), named <c>NAME-suffix</c>:
    /// a <see cref="V1ConfigMap"/>, or a <see cref="V1Secret"/> of <paramref name="secretType"/> (null: Opaque, which
    /// kubectl's hash encodes as "" since <c>kubectl create secret generic</c> leaves the type to the server).
    /// </summary>
    public static IKubernetesObject<V1ObjectMeta> Generate(string name, ConfigDataResult data, bool secret, string? secretType, ContentHashAlgorithm algorithm)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (secret)
        {
            var suffix = ContentHash.SecretSuffix(
                name,
                algorithm == ContentHashAlgorithm.Kustomize ? secretType ?? "Opaque" : secretType ?? "",
                data.ToSecretData(),
                algorithm);
            return data.ToSecret(ContentHash.HashedName(name, suffix), type: secretType ?? "Opaque");
        }
        var configMap = data.ToConfigMap(name);
        // kubectl create configmap always starts from an empty data map, which it hashes as {}.
        var hashed = algorithm == ContentHashAlgorithm.Kubectl
            ? ContentHash.ConfigMapSuffix(name, configMap.Data ?? new Dictionary<string, string>(), configMap.BinaryData, algorithm)
            : ContentHash.Suffix(configMap, algorithm);
        configMap.Metadata.Name = ContentHash.HashedName(name, hashed);
        return configMap;
    }

    /// <summary>What <c>jobkit config apply</c> creates: <see cref="Generate"/> in <paramref name="ns"/>, immutable, labelled as a version of NAME.</summary>
    public static IKubernetesObject<V1ObjectMeta> ForApply(string name, string ns, ConfigDataResult data, bool secret, string? secretType, ContentHashAlgorithm algorithm)
    {
        var generated = Generate(name, data, secret, secretType, algorithm);
        generated.Metadata.NamespaceProperty = ns;
        generated.Metadata.Labels = new Dictionary<string, string> { [ManagedByLabel] = ManagedByValue, [ConfigNameLabel] = name };
        switch (generated)
        {
            case V1ConfigMap configMap:
                configMap.Immutable = true;
                break;
            case V1Secret s:
                s.Immutable = true;
                break;
        }
        return generated;
    }

    /// <summary>True when two versions carry the same keys and values (and, for Secrets, type).</summary>
    public static bool SameContent(IKubernetesObject<V1ObjectMeta> a, IKubernetesObject<V1ObjectMeta> b) => (a, b) switch
    {
        (V1ConfigMap x, V1ConfigMap y) => SameMap(x.Data, y.Data, string.Equals) && SameMap(x.BinaryData, y.BinaryData, (p, q) => p.AsSpan().SequenceEqual(q)),
        (V1Secret x, V1Secret y) => (x.Type ?? "Opaque") == (y.Type ?? "Opaque") && SameMap(x.Data, y.Data, (p, q) => p.AsSpan().SequenceEqual(q)),
        _ => false,
    };

    private static bool SameMap<T>(IDictionary<string, T>? a, IDictionary<string, T>? b, Func<T, T, bool> equal)
    {
        a ??= new Dictionary<string, T>();
        b ??= new Dictionary<string, T>();
        return a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var other) && equal(p.Value, other));
    }
}
