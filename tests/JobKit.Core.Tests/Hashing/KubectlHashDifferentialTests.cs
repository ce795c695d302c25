using System.Globalization;
using System.Text;
using JobKit.Core.Hashing;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Core.Tests.Hashing;

/// <summary>
/// Generated <c>kubectl create configmap|secret generic NAME ... --append-hash --dry-run=client -o json</c> runs (no server needed): the
/// name kubectl gives must be NAME-suffix with our suffix of the ConfigMap/Secret the case describes, built as kubectl builds it
/// (data always a map, possibly empty; non-UTF-8 files in binaryData).
/// </summary>
public sealed class KubectlHashDifferentialTests
{
    private const int Cases = 80;

    private static readonly string?[] SecretTypes = [null, "Opaque", "kubernetes.io/basic-auth", "example.com/custom"];

    private sealed record Case(string[] Arguments, object Expected);

    [Fact]
    public async Task Our_suffix_equals_kubectl_create_append_hash()
    {
        var directory = OfflineKubectl.TempDirectory("kubectl-hash");
        try
        {
            var values = new AwkwardValues(42);
            var cases = Enumerable.Range(0, Cases).Select(n => MakeCase(values, directory, n)).ToList();
            using var gate = new SemaphoreSlim(3);
            var outputs = await Task.WhenAll(cases.Select(async c =>
            {
                await gate.WaitAsync(TestContext.Current.CancellationToken);
                try
                {
                    return await OfflineKubectl.RunAsync(c.Arguments);
                }
                finally
                {
                    gate.Release();
                }
            }));

            var failures = new List<string>();
            foreach (var (c, output) in cases.Zip(outputs))
            {
                switch (c.Expected)
                {
                    case V1ConfigMap expected:
                        var configMap = KubernetesJson.Deserialize<V1ConfigMap>(output);
                        Assert.Equal(expected.Data, configMap.Data ?? new Dictionary<string, string>());
                        Assert.Equal(expected.BinaryData?.Count ?? 0, configMap.BinaryData?.Count ?? 0);
                        var ours = ContentHash.HashedName(expected.Metadata.Name, ContentHash.Suffix(expected, ContentHashAlgorithm.Kubectl));
                        if (ours != configMap.Metadata.Name)
                        {
                            failures.Add($"{configMap.Metadata.Name}: ours {ours} from {ContentHash.CanonicalJson(expected, ContentHashAlgorithm.Kubectl)}");
                        }
                        break;
                    case V1Secret expected:
                        var secret = KubernetesJson.Deserialize<V1Secret>(output);
                        Assert.Equal(expected.Data.Keys.Order(), (secret.Data?.Keys ?? []).Order());
                        Assert.All(expected.Data, e => Assert.Equal(e.Value, secret.Data![e.Key]));
                        var oursSecret = ContentHash.HashedName(expected.Metadata.Name, ContentHash.Suffix(expected, ContentHashAlgorithm.Kubectl));
                        if (oursSecret != secret.Metadata.Name)
                        {
                            failures.Add($"{secret.Metadata.Name}: ours {oursSecret} from {ContentHash.CanonicalJson(expected, ContentHashAlgorithm.Kubectl)}");
                        }
                        break;
                }
            }
            Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} differ:\n{string.Join('\n', failures)}");
            var allValues = cases.Select(c => c.Expected).OfType<V1ConfigMap>().SelectMany(c => c.Data.Values)
                .Concat(cases.Select(c => c.Expected).OfType<V1Secret>().SelectMany(s => s.Data.Values.Select(Encoding.UTF8.GetString))).ToList();
            Assert.Contains(allValues, v => v.Contains('\b', StringComparison.Ordinal));
            Assert.Contains(allValues, v => v.Contains('\u2028', StringComparison.Ordinal));
            Assert.Contains(allValues, v => v.Contains('\u0001', StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Case MakeCase(AwkwardValues values, string directory, int n)
    {
        var random = values.Random;
        var isSecret = n % 2 == 1;
        var name = $"c{n:D2}";
        var arguments = new List<string> { "create" };
        arguments.AddRange(isSecret ? ["secret", "generic", name] : ["configmap", name]);
        var text = new Dictionary<string, string>();
        var binary = new Dictionary<string, byte[]>();

        // kubectl does not combine --from-env-file with --from-literal/--from-file.
        if (random.Next(4) == 0)
        {
            var lines = new StringBuilder("# comment\n\n");
            for (var k = random.Next(0, 5); k > 0; k--)
            {
                var key = values.EnvKey(k);
                var value = values.Value(kustomizeSafe: false, singleLine: true);
                text[key] = value;
                lines.Append(CultureInfo.InvariantCulture, $"{key}={value}\n");
            }
            var envFile = Path.Combine(directory, $"{name}.env");
            File.WriteAllText(envFile, lines.ToString(), new UTF8Encoding(false));
            arguments.Add($"--from-env-file={envFile}");
        }
        else
        {
            for (var k = random.Next(0, 6); k > 0; k--)
            {
                var key = values.Key(k);
                switch (random.Next(3))
                {
                    case 0:
                        var literal = values.Value(kustomizeSafe: false);
                        text[key] = literal;
                        arguments.Add($"--from-literal={key}={literal}");
                        break;
                    case 1:
                        var content = values.Value(kustomizeSafe: false);
                        text[key] = content;
                        var textFile = Path.Combine(directory, $"{name}-{k}.txt");
                        File.WriteAllText(textFile, content, new UTF8Encoding(false));
                        arguments.Add($"--from-file={key}={textFile}");
                        break;
                    default:
                        var bytes = values.Binary();
                        binary[key] = bytes;
                        var binaryFile = Path.Combine(directory, $"{name}-{k}.bin");
                        File.WriteAllBytes(binaryFile, bytes);
                        arguments.Add($"--from-file={key}={binaryFile}");
                        break;
                }
            }
        }
        arguments.AddRange(["--append-hash", "--dry-run=client", "-o", "json"]);

        if (!isSecret)
        {
            return new Case([.. arguments], new V1ConfigMap
            {
                Metadata = new V1ObjectMeta { Name = name },
                Data = text,
                BinaryData = binary.Count > 0 ? binary : null,
            });
        }
        var type = SecretTypes[random.Next(SecretTypes.Length)];
        if (type is not null)
        {
            arguments.Insert(4, $"--type={type}");
        }
        var data = text.ToDictionary(e => e.Key, e => Encoding.UTF8.GetBytes(e.Value));
        foreach (var (key, bytes) in binary)
        {
            data[key] = bytes;
        }
        return new Case([.. arguments], new V1Secret { Metadata = new V1ObjectMeta { Name = name }, Type = type, Data = data });
    }
}
