using System.Security.Cryptography;
using System.Text;
using k8s.Models;

namespace JobKit.Core.Hashing;

/// <summary>
/// The content-hash name suffix of a ConfigMap or Secret, exactly as kustomize's generators or
/// <c>kubectl create ... --append-hash</c> compute it: a canonical JSON encoding (Go's <c>encoding/json</c>), SHA-256,
/// the first 10 hex digits with 0→g, 1→h, 3→k, a→m, e→t so that no word can be spelled.
/// </summary>
public static class ContentHash
{
    /// <summary>Length of every suffix.</summary>
    public const int SuffixLength = 10;

    /// <summary>The suffix of <paramref name="configMap"/> (its data, binaryData and, for kubectl, name and immutable).</summary>
    public static string Suffix(V1ConfigMap configMap, ContentHashAlgorithm algorithm) =>
        SuffixOf(Encode(configMap, algorithm).WrittenSpan);

    /// <summary>The suffix of <paramref name="secret"/> (its type and data, for kustomize stringData, for kubectl name and immutable).</summary>
    public static string Suffix(V1Secret secret, ContentHashAlgorithm algorithm) =>
        SuffixOf(Encode(secret, algorithm).WrittenSpan);

    /// <summary>The suffix of a ConfigMap given as plain data; <paramref name="name"/> is the name before the suffix (kustomize ignores it).</summary>
    public static string ConfigMapSuffix(
        string name,
        IEnumerable<KeyValuePair<string, string>>? data,
        IEnumerable<KeyValuePair<string, byte[]>>? binaryData,
        ContentHashAlgorithm algorithm,
        bool? immutable = null) =>
        SuffixOf(EncodeConfigMap(name, data, binaryData, immutable, algorithm).WrittenSpan);

    /// <summary>The suffix of a Secret given as plain data; <paramref name="type"/> null means "" (kustomize's generators default it to Opaque).</summary>
    public static string SecretSuffix(
        string name,
        string? type,
        IEnumerable<KeyValuePair<string, byte[]>>? data,
        ContentHashAlgorithm algorithm,
        bool? immutable = null) =>
        SuffixOf(EncodeSecret(name, type, data, null, immutable, algorithm).WrittenSpan);

    /// <summary><c>name-suffix</c>, the generated object's name.</summary>
    public static string HashedName(string name, string suffix) => $"{name}-{suffix}";

    /// <summary>The exact text that is hashed for <paramref name="configMap"/> (for diagnostics and tests).</summary>
    public static string CanonicalJson(V1ConfigMap configMap, ContentHashAlgorithm algorithm) =>
        Encoding.UTF8.GetString(Encode(configMap, algorithm).WrittenSpan);

    /// <summary>The exact text that is hashed for <paramref name="secret"/> (for diagnostics and tests).</summary>
    public static string CanonicalJson(V1Secret secret, ContentHashAlgorithm algorithm) =>
        Encoding.UTF8.GetString(Encode(secret, algorithm).WrittenSpan);

    /// <summary>SHA-256 of <paramref name="encoded"/>, first 10 hex digits, vowels and vowel-like digits mapped to consonants.</summary>
    public static string SuffixOf(ReadOnlySpan<byte> encoded)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(encoded, digest);
        return string.Create(SuffixLength, digest[..(SuffixLength / 2)].ToArray(), static (chars, bytes) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                var nibble = (i % 2 == 0 ? bytes[i / 2] >> 4 : bytes[i / 2]) & 0xF;
                chars[i] = nibble switch
                {
                    0x0 => 'g',
                    0x1 => 'h',
                    0x3 => 'k',
                    0xa => 'm',
                    0xe => 't',
                    _ => "0123456789abcdef"[nibble],
                };
            }
        });
    }

    private static GoJsonWriter Encode(V1ConfigMap configMap, ContentHashAlgorithm algorithm) =>
        EncodeConfigMap(configMap.Metadata?.Name ?? "", configMap.Data, configMap.BinaryData, configMap.Immutable, algorithm);

    private static GoJsonWriter Encode(V1Secret secret, ContentHashAlgorithm algorithm) =>
        EncodeSecret(secret.Metadata?.Name ?? "", secret.Type, secret.Data, secret.StringData, secret.Immutable, algorithm);

    private static GoJsonWriter EncodeConfigMap(
        string name,
        IEnumerable<KeyValuePair<string, string>>? data,
        IEnumerable<KeyValuePair<string, byte[]>>? binaryData,
        bool? immutable,
        ContentHashAlgorithm algorithm)
    {
        var json = new GoJsonWriter();
        json.StartObject();
        switch (algorithm)
        {
            case ContentHashAlgorithm.Kustomize:
                // kustomize api/hasher encodeConfigMap: binaryData whenever the field is a map; a missing data is "".
                if (binaryData is not null)
                {
                    json.PropertyName("binaryData");
                    json.BytesMap(binaryData);
                }
                json.PropertyName("data");
                KustomizeMap(json, data);
                json.PropertyName("kind");
                json.String("ConfigMap");
                json.PropertyName("name");
                json.String("");
                break;
            case ContentHashAlgorithm.Kubectl:
                // kubectl pkg/util/hash encodeConfigMap: binaryData only when len > 0; immutable when set; nil data is null.
                if (binaryData is not null && binaryData.Any())
                {
                    json.PropertyName("binaryData");
                    json.BytesMap(binaryData);
                }
                json.PropertyName("data");
                json.StringMap(data);
                if (immutable is { } isImmutable)
                {
                    json.PropertyName("immutable");
                    json.Boolean(isImmutable);
                }
                json.PropertyName("kind");
                json.String("ConfigMap");
                json.PropertyName("name");
                json.String(name);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown content hash algorithm");
        }
        json.EndObject();
        return json;
    }

    private static GoJsonWriter EncodeSecret(
        string name,
        string? type,
        IEnumerable<KeyValuePair<string, byte[]>>? data,
        IEnumerable<KeyValuePair<string, string>>? stringData,
        bool? immutable,
        ContentHashAlgorithm algorithm)
    {
        var json = new GoJsonWriter();
        json.StartObject();
        switch (algorithm)
        {
            case ContentHashAlgorithm.Kustomize:
                // kustomize api/hasher encodeSecret: data (base64 text as in the manifest), stringData whenever it is a map, type.
                json.PropertyName("data");
                if (data is null)
                {
                    json.String("");
                }
                else
                {
                    json.BytesMap(data);
                }
                json.PropertyName("kind");
                json.String("Secret");
                json.PropertyName("name");
                json.String("");
                if (stringData is not null)
                {
                    json.PropertyName("stringData");
                    json.StringMap(stringData);
                }
                json.PropertyName("type");
                json.String(type ?? "");
                break;
            case ContentHashAlgorithm.Kubectl:
                // kubectl pkg/util/hash encodeSecret: stringData is not hashed.
                json.PropertyName("data");
                json.BytesMap(data);
                if (immutable is { } isImmutable)
                {
                    json.PropertyName("immutable");
                    json.Boolean(isImmutable);
                }
                json.PropertyName("kind");
                json.String("Secret");
                json.PropertyName("name");
                json.String(name);
                json.PropertyName("type");
                json.String(type ?? "");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown content hash algorithm");
        }
        json.EndObject();
        return json;
    }

    /// <summary>kustomize reads a field it cannot find as the empty string rather than null.</summary>
    private static void KustomizeMap(GoJsonWriter json, IEnumerable<KeyValuePair<string, string>>? map)
    {
        if (map is null)
        {
            json.String("");
        }
        else
        {
            json.StringMap(map);
        }
    }
}
