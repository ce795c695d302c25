using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Protobuf;

/// <summary>
/// Decodes Kubernetes protobuf request bodies (<c>application/vnd.kubernetes.protobuf</c>, what kubectl's typed
/// clients send) into the JSON the same object has in Kubernetes' JSON encoding.
/// </summary>
/// <remarks>
/// The schema comes from the kubectl binary on this machine: gogo-protobuf registers each Kubernetes
/// <c>generated.proto</c> as a gzipped FileDescriptorProto, with the gogo options (nullable, customname), and Go keeps
/// the API types' struct tags (omitempty, inline). So what kubectl sends is decoded with kubectl's own schema. Without a
/// kubectl there is no schema, and the server answers protobuf bodies with 415.
/// </remarks>
public sealed class KubernetesProtobuf
{
    /// <summary>The 4 bytes before every Kubernetes protobuf object: "k8s\0".</summary>
    internal static ReadOnlySpan<byte> Magic => "k8s\0"u8;

    private static readonly Lazy<KubernetesProtobuf?> SharedInstance = new(() => Load(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly ProtoJsonConverter _converter;
    private readonly ConcurrentDictionary<(string ApiVersion, string Kind), MessageSchema?> _types = new();

    private KubernetesProtobuf(ProtoSchema schema, string kubectlPath, TimeSpan loadTime)
    {
        _converter = new ProtoJsonConverter(schema, Decode);
        KubectlPath = kubectlPath;
        LoadTime = loadTime;
    }

    /// <summary>The instance of the kubectl found on PATH, loaded at first use; null when there is none.</summary>
    public static KubernetesProtobuf? Shared => SharedInstance.Value;

    internal string KubectlPath { get; }

    internal TimeSpan LoadTime { get; }

    internal ProtoSchema Schema => _converter.Schema;

    /// <summary>
    /// Reads the Kubernetes protobuf schema from kubectl (<paramref name="kubectlPath"/>, else the first kubectl on
    /// PATH); null when there is no kubectl or it carries no Kubernetes descriptors. Each call reads the binary again
    /// (a few hundred ms): call once and keep the result, or use <see cref="Shared"/>.
    /// </summary>
    public static KubernetesProtobuf? Load(string? kubectlPath = null)
    {
        var path = kubectlPath ?? FindOnPath("kubectl");
        if (path is null || !File.Exists(path))
        {
            return null;
        }
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var extracted = KubectlSchemaExtractor.Extract(path);
            if (!extracted.Files.Any(f => f.Package == "k8s.io.apimachinery.pkg.runtime"))
            {
                return null;
            }
            return new KubernetesProtobuf(ProtoSchema.Build(extracted), Path.GetFullPath(path), stopwatch.Elapsed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>An instance over an already extracted schema (tests: e.g. without the Go structs, to exercise the fallback).</summary>
    internal static KubernetesProtobuf Create(KubectlSchema extracted, string kubectlPath) =>
        new(ProtoSchema.Build(extracted), kubectlPath, TimeSpan.Zero);

    /// <summary>
    /// Decodes a full request body (<c>k8s\0</c> + runtime.Unknown) into the object's Kubernetes JSON, with
    /// apiVersion and kind first. Malformed bodies and unknown kinds are a 400 (<see cref="ApiException"/>).
    /// </summary>
    public JsonObject Decode(ReadOnlySpan<byte> body) => Decode(body, 0);

    private JsonObject Decode(ReadOnlySpan<byte> body, int depth)
    {
        if (!body.StartsWith(Magic))
        {
            throw ApiException.BadRequest("unable to decode protobuf body: missing the \"k8s\\0\" prefix");
        }
        string apiVersion = "", kind = "", contentEncoding = "";
        ReadOnlySpan<byte> raw = default;
        var reader = new WireReader(body[Magic.Length..]);
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            if (wireType != WireType.LengthDelimited)
            {
                reader.Skip(wireType);
                continue;
            }
            var value = reader.ReadLengthDelimited();
            switch (number)
            {
                case 1:
                    (apiVersion, kind) = ReadTypeMeta(value);
                    break;
                case 2:
                    raw = value;
                    break;
                case 3:
                    contentEncoding = System.Text.Encoding.UTF8.GetString(value);
                    break;
                default:
                    break;
            }
        }
        if (contentEncoding.Length > 0)
        {
            throw ApiException.BadRequest($"unable to decode protobuf body: unsupported content encoding \"{contentEncoding}\"");
        }
        if (kind.Length == 0)
        {
            throw ApiException.BadRequest("Object 'Kind' is missing in protobuf body");
        }
        var type = _types.GetOrAdd((apiVersion, kind), key => Resolve(key.ApiVersion, key.Kind))
            ?? throw ApiException.BadRequest($"no kind \"{kind}\" is registered for version \"{apiVersion}\"");

        var content = _converter.ConvertObject(type, raw, depth + 1);
        var result = new JsonObject
        {
            ["apiVersion"] = apiVersion,
            ["kind"] = kind,
        };
        var properties = content.ToList();
        content.Clear();
        foreach (var (name, node) in properties)
        {
            if (name is not ("apiVersion" or "kind"))
            {
                result[name] = node;
            }
        }
        return result;
    }

    private static (string ApiVersion, string Kind) ReadTypeMeta(ReadOnlySpan<byte> data)
    {
        string apiVersion = "", kind = "";
        var reader = new WireReader(data);
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            if (wireType != WireType.LengthDelimited || number is not (1 or 2))
            {
                reader.Skip(wireType);
                continue;
            }
            var text = System.Text.Encoding.UTF8.GetString(reader.ReadLengthDelimited());
            if (number == 1)
            {
                apiVersion = text;
            }
            else
            {
                kind = text;
            }
        }
        return (apiVersion, kind);
    }

    /// <summary>
    /// The message of a kind: Go package k8s.io/api/&lt;group's first label&gt;/&lt;version&gt; is proto package
    /// k8s.io.api.&lt;group&gt;.&lt;version&gt; (core for the legacy group); meta types (DeleteOptions, Status...) are
    /// registered in every group version.
    /// </summary>
    private MessageSchema? Resolve(string apiVersion, string kind)
    {
        var slash = apiVersion.LastIndexOf('/');
        var group = slash < 0 ? "" : apiVersion[..slash];
        var version = apiVersion[(slash + 1)..];
        if (version.Length == 0 || kind.Length == 0)
        {
            return null;
        }
        var candidates = new List<string>();
        if (group.Length == 0)
        {
            candidates.Add($"k8s.io.api.core.{version}");
        }
        else
        {
            var first = group.Split('.')[0];
            candidates.Add($"k8s.io.api.{first}.{version}");
            if (group == "internal.apiserver.k8s.io")
            {
                candidates.Add($"k8s.io.api.apiserverinternal.{version}");
            }
            candidates.Add($"k8s.io.{first}.pkg.apis.{first}.{version}");
        }
        candidates.Add($"k8s.io.apimachinery.pkg.apis.meta.{version}");
        candidates.Add("k8s.io.apimachinery.pkg.apis.meta.v1");
        foreach (var package in candidates)
        {
            if (Schema.Messages.TryGetValue($"{package}.{kind}", out var message))
            {
                return message;
            }
        }
        // Any other package of that version with exactly one such kind.
        var matches = Schema.Packages
            .Where(p => p.EndsWith("." + version, StringComparison.Ordinal))
            .Select(p => Schema.Messages.GetValueOrDefault($"{p}.{kind}"))
            .OfType<MessageSchema>()
            .ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }
        var names = OperatingSystem.IsWindows() ? new[] { name + ".exe", name } : [name];
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var candidate in names)
            {
                var full = Path.Combine(directory, candidate);
                if (File.Exists(full))
                {
                    return full;
                }
            }
        }
        return null;
    }
}
