using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace JobKit.Cli.Tests;

/// <summary>Running <c>jobkit config SUB</c> (a two-word subcommand: --kubeconfig goes after both words) and kubectl offline.</summary>
public static class ConfigTestSupport
{
    /// <summary><c>jobkit config SUB --kubeconfig K ARGS</c> against the fixture's cluster.</summary>
    public static Task<ProcessResult> JobkitConfigAsync(this ClusterFixture cluster, string subcommand, params string[] arguments) =>
        ChildProcess.RunAsync(Executables.Jobkit, ["config", subcommand, "--kubeconfig", cluster.KubeconfigPath, .. arguments], Executables.Environment, null, Executables.CommandTimeout, TestContext.Current.CancellationToken);

    /// <summary><c>jobkit config generate ARGS</c> with no cluster at all (no kubeconfig anywhere).</summary>
    public static Task<ProcessResult> JobkitGenerateAsync(string workingDirectory, params string[] arguments)
    {
        var environment = new Dictionary<string, string?>(Executables.Environment) { ["KUBECONFIG"] = Path.Combine(workingDirectory, "no-such-kubeconfig") };
        return ChildProcess.RunAsync(Executables.Jobkit, ["config", "generate", .. arguments], environment, null, Executables.CommandTimeout, TestContext.Current.CancellationToken);
    }

    private static readonly Lazy<string> OfflineKubeconfig = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"jobkit-config-offline-kubeconfig-{Environment.ProcessId}.yaml");
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

    /// <summary>kubectl for commands that never reach a server (kustomize, create --dry-run=client); it still wants a kubeconfig with credentials.</summary>
    public static async Task<string> OfflineKubectlAsync(string[] arguments, string? standardInput = null)
    {
        var result = await Kubectl.RunAsync(OfflineKubeconfig.Value, arguments, standardInput, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StandardOutput;
    }

    /// <summary><c>kubectl kustomize DIR</c> as JSON objects (kubectl itself converts: <c>label --local</c> removing a label nobody has).</summary>
    public static async Task<List<JsonObject>> KustomizeAsync(string directory)
    {
        var yaml = await OfflineKubectlAsync(["kustomize", directory]);
        var json = await OfflineKubectlAsync(["label", "--local", "-f", "-", "jobkit.test/json-view-", "-o", "json"], yaml);
        return ParseJsonObjects(json);
    }

    /// <summary>Several JSON values one after another (kubectl's -o json of several objects).</summary>
    public static List<JsonObject> ParseJsonObjects(string json)
    {
        var objects = new List<JsonObject>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var document = JsonDocument.ParseValue(ref reader);
            objects.Add(JsonNode.Parse(document.RootElement.GetRawText())!.AsObject());
        }
        return objects;
    }

    /// <summary>What a generator decides: apiVersion, kind, name, type, data, binaryData, immutable (empty maps as absent).</summary>
    public static JsonObject Essentials(JsonObject obj)
    {
        var essentials = new JsonObject();
        foreach (var field in new[] { "apiVersion", "kind", "type", "data", "binaryData", "immutable" })
        {
            if (obj[field] is { } value && !(value is JsonObject map && map.Count == 0))
            {
                essentials[field] = value.DeepClone();
            }
        }
        essentials["name"] = obj["metadata"]?["name"]?.DeepClone();
        return essentials;
    }

    public static string TempDirectory(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), $"jobkit-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}
