using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Core.Tests.Hashing;

/// <summary>
/// The real kubectl (JOBKIT_TEST_KUBECTL, else /usr/bin/kubectl) for commands that never reach a server: <c>kubectl kustomize</c> and
/// <c>kubectl create ... --dry-run=client</c>. kubectl still loads a kubeconfig for those, and one whose user has no credentials makes
/// it prompt "Please enter Username", so it gets a dummy one with a token and an unreachable server.
/// </summary>
internal static class OfflineKubectl
{
    private static readonly Lazy<string> Kubeconfig = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"jobkit-offline-kubeconfig-{Environment.ProcessId}.yaml");
        File.WriteAllText(path, """
            apiVersion: v1
            kind: Config
            clusters: [{name: offline, cluster: {server: "https://127.0.0.1:1"}}]
            users: [{name: offline, user: {token: offline}}]
            contexts: [{name: offline, context: {cluster: offline, user: offline}}]
            current-context: offline
            """);
        return path;
    });

    public static Task<string> RunAsync(params string[] arguments) => RunAsync(arguments, null);

    public static async Task<string> RunAsync(IEnumerable<string> arguments, string? standardInput)
    {
        var result = await Kubectl.RunAsync(Kubeconfig.Value, arguments, standardInput, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StandardOutput;
    }

    /// <summary>
    /// <c>kubectl kustomize DIR</c>, its objects read exactly. Not through a .NET YAML parser: go-yaml writes NEL (U+0085), U+2028 and
    /// U+2029 raw inside quoted scalars and YamlDotNet folds them into spaces as YAML 1.1 line breaks. So kubectl itself turns the
    /// YAML into JSON: <c>kubectl label --local -f - -o json</c> with a removal of a label nobody has changes nothing and needs no server.
    /// </summary>
    public static async Task<List<object>> KustomizeAsync(string directory)
    {
        var yaml = await RunAsync("kustomize", directory);
        var json = await RunAsync(["label", "--local", "-f", "-", "jobkit.test/json-view-", "-o", "json"], yaml);
        return ParseConcatenatedJson(json);
    }

    /// <summary>kubectl prints several objects as JSON values one after another.</summary>
    public static List<object> ParseConcatenatedJson(string json)
    {
        var objects = new List<object>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var document = JsonDocument.ParseValue(ref reader);
            var text = document.RootElement.GetRawText();
            objects.Add(document.RootElement.GetProperty("kind").GetString() switch
            {
                "ConfigMap" => KubernetesJson.Deserialize<V1ConfigMap>(text),
                "Secret" => KubernetesJson.Deserialize<V1Secret>(text),
                "Pod" => KubernetesJson.Deserialize<V1Pod>(text),
                "Deployment" => KubernetesJson.Deserialize<V1Deployment>(text),
                "ReplicaSet" => KubernetesJson.Deserialize<V1ReplicaSet>(text),
                "StatefulSet" => KubernetesJson.Deserialize<V1StatefulSet>(text),
                "DaemonSet" => KubernetesJson.Deserialize<V1DaemonSet>(text),
                "Job" => KubernetesJson.Deserialize<V1Job>(text),
                "CronJob" => KubernetesJson.Deserialize<V1CronJob>(text),
                "PodTemplate" => KubernetesJson.Deserialize<V1PodTemplate>(text),
                "ReplicationController" => KubernetesJson.Deserialize<V1ReplicationController>(text),
                var kind => throw new InvalidOperationException($"unexpected kind {kind}"),
            });
        }
        return objects;
    }

    /// <summary>A YAML double-quoted scalar; everything outside printable ASCII is escaped so the file's own bytes cannot matter.</summary>
    public static string YamlQuoted(string value)
    {
        var builder = new StringBuilder("\"");
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is '"' or '\\')
            {
                builder.Append('\\').Append(c);
            }
            else if (c is >= ' ' and < '\u007f')
            {
                builder.Append(c);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length)
            {
                builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\U{char.ConvertToUtf32(c, value[++i]):X8}");
            }
            else
            {
                builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
        }
        return builder.Append('"').ToString();
    }

    public static string TempDirectory(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), $"jobkit-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>Deterministic awkward keys and values: multi-line, non-ASCII, HTML characters, U+2028, control characters, YAML-looking text.</summary>
internal sealed class AwkwardValues(int seed)
{
    private static readonly string[] Fragments =
    [
        "plain", "with space", "trailing ", " leading", "multi\nline\n", "no\nfinal newline", "<>&", "a<b>c&d", "\u2028", "\u2029",
        "é", "日本語", "🚀", "Ω≈ç", "\"quoted\"", "'single'", "back\\slash", "tab\there", "\b\f", "\u0001\u001f", "\u007f", "123", "true",
        "null", "~", "#not-a-comment", "key: value", "- item", "{a: 1}", "=eq=", "%s", "\r\n", "\u00a0", "\u200b", "\u0085", "$HOME",
    ];

    /// <summary>
    /// What survives kustomize: go-yaml refuses control characters other than tab, CR and LF ("yaml: control characters are not
    /// allowed"), and kustomize writes NEL (U+0085) out as a space while hashing the NEL (see the NEL test).
    /// </summary>
    private static bool KustomizeSafe(string fragment) => fragment.All(c => c is '\t' or '\n' or '\r' or (>= ' ' and < '\u007f') or >= '\u00a0');

    private static bool SingleLine(string fragment) => !fragment.Contains('\n') && !fragment.Contains('\r') && !fragment.Contains('\u0085') && fragment.Trim() == fragment;

    public Random Random { get; } = new(seed);

    /// <summary>0 to 4 fragments; <paramref name="kustomizeSafe"/> leaves out what kustomize cannot carry, <paramref name="singleLine"/> what an env file line cannot.</summary>
    public string Value(bool kustomizeSafe, bool singleLine = false)
    {
        var pool = Fragments.Where(f => (!kustomizeSafe || KustomizeSafe(f)) && (!singleLine || SingleLine(f))).ToArray();
        var builder = new StringBuilder();
        var parts = Random.Next(0, 5);
        for (var i = 0; i < parts; i++)
        {
            builder.Append(pool[Random.Next(pool.Length)]);
        }
        return builder.ToString();
    }

    /// <summary>A ConfigMap key (<c>[-._a-zA-Z0-9]+</c>) unique by its index.</summary>
    public string Key(int index)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";
        var builder = new StringBuilder();
        for (var i = Random.Next(1, 6); i > 0; i--)
        {
            builder.Append(alphabet[Random.Next(alphabet.Length)]);
        }
        return $"k{index}{builder}";
    }

    /// <summary>An environment variable name (what an env file's keys must be) unique by its index.</summary>
    public string EnvKey(int index) => $"E{index}_{(char)('A' + Random.Next(26))}";

    /// <summary>Bytes that are not UTF-8 (kustomize and kubectl put such files in binaryData).</summary>
    public byte[] Binary()
    {
        var bytes = new byte[Random.Next(1, 40)];
        Random.NextBytes(bytes);
        bytes[0] = 0xff;
        return bytes;
    }
}
