using System.Collections.Immutable;
using System.Text;
using k8s.Models;

namespace JobKit.Core.ConfigData;

/// <summary>The keys and values that the data-source flags produced, ready to become a ConfigMap or a Secret.</summary>
public sealed class ConfigDataResult
{
    internal ConfigDataResult(IEnumerable<ConfigDataEntry> entries)
    {
        Entries = [.. entries];
        Data = Entries.Where(e => !e.IsBinary).ToImmutableSortedDictionary(e => e.Key, e => e.Text!, StringComparer.Ordinal);
        BinaryData = Entries.Where(e => e.IsBinary).ToImmutableSortedDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        TotalSize = Entries.Sum(e => (long)e.Value.Length);
    }

    /// <summary>Every key in the order kubectl adds them: --from-file sources, then --from-literal, then --from-env-file.</summary>
    public ImmutableArray<ConfigDataEntry> Entries { get; }

    /// <summary>ConfigMap <c>data</c>: literals, env-file lines and UTF-8 files, sorted by key.</summary>
    public ImmutableSortedDictionary<string, string> Data { get; }

    /// <summary>ConfigMap <c>binaryData</c>: files that are not valid UTF-8, sorted by key.</summary>
    public ImmutableSortedDictionary<string, ImmutableArray<byte>> BinaryData { get; }

    /// <summary>The byte count the API server compares with its 1 MiB limit: the sum of the values' sizes (keys do not count).</summary>
    public long TotalSize { get; }

    public bool IsEmpty => Entries.IsEmpty;

    /// <summary>A ConfigMap holding <see cref="Data"/> and <see cref="BinaryData"/> (each left null when empty, as kubectl prints it).</summary>
    public V1ConfigMap ToConfigMap(string name, string? @namespace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace },
            Data = Data.IsEmpty ? null : new Dictionary<string, string>(Data, StringComparer.Ordinal),
            BinaryData = BinaryData.IsEmpty ? null : BinaryData.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal),
        };
    }

    /// <summary>Every value as bytes, as a Secret's <c>data</c> holds them (text as UTF-8).</summary>
    public IDictionary<string, byte[]> ToSecretData() =>
        new SortedDictionary<string, byte[]>(Entries.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>A Secret whose <c>data</c> holds every value as bytes.</summary>
    public V1Secret ToSecret(string name, string? @namespace = null, string type = "Opaque")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace },
            Type = type,
            Data = IsEmpty ? null : ToSecretData(),
        };
    }

    internal static ConfigDataEntry TextEntry(string key, string text, string flag, string source) =>
        new(key, [.. Encoding.UTF8.GetBytes(text)], IsBinary: false, flag, source);
}
