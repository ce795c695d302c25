using System.Text.Json.Nodes;
using Xunit;

namespace JobKit.Cli.Tests;

/// <summary><c>jobkit config generate</c> against the real <c>kubectl kustomize</c> and <c>kubectl create ... --append-hash</c>, offline.</summary>
public sealed class ConfigGenerateTests : IDisposable
{
    private readonly string directory = ConfigTestSupport.TempDirectory("config-generate");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private string Write(string name, string content) => Write(name, System.Text.Encoding.UTF8.GetBytes(content));

    public static TheoryData<string> Cases => ["literals", "files", "env", "secret"];

    /// <summary>The same sources as a kustomization (generator entry) and as jobkit flags.</summary>
    private (string Generator, string[] Flags) Case(string name)
    {
        switch (name)
        {
            case "literals":
                return ("configMapGenerator:\n- name: app\n  literals:\n  - greeting=hello world\n  - \"multi=a\\nb\"\n  - empty=\n",
                    ["app", "--from-literal", "greeting=hello world", "--from-literal", "multi=a\nb", "--from-literal", "empty="]);
            case "files":
                Write("app.properties", "color=blue\nsize=3\n");
                Write("logo.bin", [0xff, 0x00, 0xfe, 0x10]);
                Write("other.txt", "é 日本語 <&>\n");
                return ("configMapGenerator:\n- name: app\n  files:\n  - app.properties\n  - logo.bin\n  - renamed.txt=other.txt\n",
                    ["app", "--from-file", Path.Combine(directory, "app.properties"), "--from-file", Path.Combine(directory, "logo.bin"), "--from-file", $"renamed.txt={Path.Combine(directory, "other.txt")}"]);
            case "env":
                Write("app.env", "# a comment\nLOG_LEVEL=debug\n\nWORKERS=4\nQUOTED=\"kept as is\"\n");
                return ("configMapGenerator:\n- name: app\n  envs:\n  - app.env\n",
                    ["app", "--from-env-file", Path.Combine(directory, "app.env")]);
            case "secret":
                Write("tls.key", "-----BEGIN KEY-----\nabc\n-----END KEY-----\n");
                return ("secretGenerator:\n- name: creds\n  type: kubernetes.io/basic-auth\n  literals:\n  - username=admin\n  - password=s3cr3t\n",
                    ["creds", "--secret", "--type", "kubernetes.io/basic-auth", "--from-literal", "username=admin", "--from-literal", "password=s3cr3t"]);
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Generate_prints_what_kustomize_generates(string name)
    {
        var (generator, flags) = Case(name);
        File.WriteAllText(Path.Combine(directory, "kustomization.yaml"), generator);
        var expected = Assert.Single(await ConfigTestSupport.KustomizeAsync(directory));

        foreach (var format in new[] { "json", "yaml" })
        {
            var result = await ConfigTestSupport.JobkitGenerateAsync(directory, [.. flags, "-o", format]);
            Assert.True(result.ExitCode == 0, result.ToString());
            // YAML is read back by kubectl, as kustomize's own output was.
            var json = format == "json"
                ? result.StandardOutput
                : await ConfigTestSupport.OfflineKubectlAsync(["label", "--local", "-f", "-", "jobkit.test/json-view-", "-o", "json"], result.StandardOutput);
            var actual = Assert.Single(ConfigTestSupport.ParseJsonObjects(json));
            Assert.True(
                JsonNode.DeepEquals(ConfigTestSupport.Essentials(expected), ConfigTestSupport.Essentials(actual)),
                $"{format}: kustomize\n{ConfigTestSupport.Essentials(expected)}\njobkit\n{ConfigTestSupport.Essentials(actual)}");
        }
    }

    [Fact]
    public async Task Hash_kubectl_names_it_as_kubectl_create_append_hash()
    {
        var file = Write("app.properties", "color=blue\n");
        string[] sources = ["--from-literal", "a=1", "--from-file", file];
        var kubectl = ConfigTestSupport.ParseJsonObjects(await ConfigTestSupport.OfflineKubectlAsync(["create", "configmap", "app", .. sources, "--append-hash", "--dry-run=client", "-o", "json"]));
        var ours = await ConfigTestSupport.JobkitGenerateAsync(directory, ["app", .. sources, "--hash", "kubectl", "-o", "json"]);
        Assert.True(ours.ExitCode == 0, ours.ToString());
        Assert.Equal(kubectl[0]["metadata"]!["name"]!.GetValue<string>(), ConfigTestSupport.ParseJsonObjects(ours.StandardOutput)[0]["metadata"]!["name"]!.GetValue<string>());

        var kubectlSecret = ConfigTestSupport.ParseJsonObjects(await ConfigTestSupport.OfflineKubectlAsync(["create", "secret", "generic", "creds", .. sources, "--append-hash", "--dry-run=client", "-o", "json"]));
        var ourSecret = await ConfigTestSupport.JobkitGenerateAsync(directory, ["creds", "--secret", .. sources, "--hash", "kubectl", "-o", "json"]);
        Assert.True(ourSecret.ExitCode == 0, ourSecret.ToString());
        Assert.Equal(kubectlSecret[0]["metadata"]!["name"]!.GetValue<string>(), ConfigTestSupport.ParseJsonObjects(ourSecret.StandardOutput)[0]["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Generate_refuses_bad_input_with_exit_2()
    {
        var result = await ConfigTestSupport.JobkitGenerateAsync(directory, ["app", "--from-literal", "bad key=1"]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: --from-literal", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(result.StandardOutput);

        result = await ConfigTestSupport.JobkitGenerateAsync(directory, ["app"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--from-literal", result.StandardError, StringComparison.Ordinal);
    }
}
