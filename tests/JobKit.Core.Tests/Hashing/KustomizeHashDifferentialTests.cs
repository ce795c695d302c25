using System.Text;
using JobKit.Core.Hashing;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Core.Tests.Hashing;

/// <summary>
/// Generated configMapGenerator/secretGenerator entries run through the real <c>kubectl kustomize</c> (kustomize v5.5.0 in kubectl v1.32),
/// a few hundred generators per run; every emitted object's suffix must be the one we compute from the emitted content.
/// </summary>
public sealed class KustomizeHashDifferentialTests
{
    private const int CasesPerBatch = 100;

    private static readonly string[] SecretTypes =
        ["", "Opaque", "kubernetes.io/tls", "kubernetes.io/basic-auth", "kubernetes.io/ssh-auth", "kubernetes.io/dockerconfigjson", "example.com/custom"];

    [Fact]
    public async Task Our_suffix_of_every_generated_object_equals_kustomizes()
    {
        // Three batches: plain, with namePrefix/nameSuffix (the name never reaches kustomize's hash), with global generatorOptions.
        (string Header, int Seed)[] batches =
        [
            ("", 1),
            ("namePrefix: pre-\nnameSuffix: -suf\n", 2),
            ("generatorOptions:\n  immutable: true\n  labels:\n    global: \"yes\"\n  annotations:\n    note: \"<&>\"\n", 3),
        ];
        var checkedObjects = new List<object>();
        var failures = new List<string>();
        foreach (var (header, seed) in batches)
        {
            var directory = OfflineKubectl.TempDirectory("kustomize-hash");
            try
            {
                var expected = WriteKustomization(directory, header, seed, seed * 1000);
                var objects = await OfflineKubectl.KustomizeAsync(directory);
                Assert.Equal(expected, objects.Count);
                foreach (var obj in objects)
                {
                    var (name, ours, json) = obj switch
                    {
                        V1ConfigMap cm => (cm.Metadata.Name, ContentHash.Suffix(cm, ContentHashAlgorithm.Kustomize), ContentHash.CanonicalJson(cm, ContentHashAlgorithm.Kustomize)),
                        V1Secret s => (s.Metadata.Name, ContentHash.Suffix(s, ContentHashAlgorithm.Kustomize), ContentHash.CanonicalJson(s, ContentHashAlgorithm.Kustomize)),
                        _ => throw new InvalidOperationException($"unexpected {obj.GetType()}"),
                    };
                    if (!name.EndsWith("-" + ours, StringComparison.Ordinal))
                    {
                        failures.Add($"{directory} {name}: ours {ours} from {json}");
                    }
                    checkedObjects.Add(obj);
                }
            }
            finally
            {
                if (failures.Count == 0)
                {
                    Directory.Delete(directory, recursive: true); // kept for inspection when a case differs
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {checkedObjects.Count} differ:\n{string.Join('\n', failures.Take(20))}");
        Assert.True(checkedObjects.Count >= 300, $"only {checkedObjects.Count} cases");

        // The cases really exercised what they claim to.
        var configMaps = checkedObjects.OfType<V1ConfigMap>().ToList();
        var secrets = checkedObjects.OfType<V1Secret>().ToList();
        var values = configMaps.SelectMany(c => c.Data?.Values ?? []).ToList();
        Assert.Contains(values, v => v.Contains('<', StringComparison.Ordinal) && v.Contains('&', StringComparison.Ordinal));
        Assert.Contains(values, v => v.Contains('\u2028', StringComparison.Ordinal));
        Assert.Contains(values, v => v.Contains('\n', StringComparison.Ordinal));
        Assert.Contains(values, v => v.Contains("🚀", StringComparison.Ordinal));
        Assert.Contains(configMaps, c => c.Data is null);
        Assert.Contains(configMaps, c => c.BinaryData is { Count: > 0 });
        Assert.Contains(configMaps, c => c.Immutable == true);
        Assert.Contains(secrets, s => s.Data is { Count: 0 });
        Assert.Equal(SecretTypes.Where(t => t != "").Order(), secrets.Select(s => s.Type).Distinct().Order());
    }

    [Fact]
    public async Task Kustomize_hashes_a_NEL_but_writes_it_out_as_a_space()
    {
        // go-yaml's emitter turns U+0085 into a line break that reads back as a space; the suffix was computed before, from the NEL.
        var directory = OfflineKubectl.TempDirectory("kustomize-nel");
        try
        {
            File.WriteAllText(Path.Combine(directory, "f"), "\u0085x", new UTF8Encoding(false));
            File.WriteAllText(Path.Combine(directory, "kustomization.yaml"), "configMapGenerator:\n- name: nel\n  files: [f]\n");

            var emitted = Assert.IsType<V1ConfigMap>(Assert.Single(await OfflineKubectl.KustomizeAsync(directory)));

            Assert.Equal(" x", emitted.Data["f"]);
            var original = new Dictionary<string, string> { ["f"] = "\u0085x" };
            Assert.Equal(ContentHash.HashedName("nel", ContentHash.ConfigMapSuffix("nel", original, null, ContentHashAlgorithm.Kustomize)), emitted.Metadata.Name);
            Assert.NotEqual(emitted.Metadata.Name, ContentHash.HashedName("nel", ContentHash.Suffix(emitted, ContentHashAlgorithm.Kustomize)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Writes kustomization.yaml and its files; returns how many objects kustomize should emit.</summary>
    private static int WriteKustomization(string directory, string header, int seed, int firstCase)
    {
        var values = new AwkwardValues(seed);
        var random = values.Random;
        var configMaps = new StringBuilder("configMapGenerator:\n");
        var secrets = new StringBuilder("secretGenerator:\n");
        for (var n = firstCase; n < firstCase + CasesPerBatch; n++)
        {
            var isSecret = random.Next(3) == 0;
            var yaml = isSecret ? secrets : configMaps;
            yaml.Append(CultureInvariant($"- name: c{n:D4}\n"));
            if (isSecret)
            {
                var type = SecretTypes[random.Next(SecretTypes.Length)];
                if (type != "")
                {
                    yaml.Append(CultureInvariant($"  type: {type}\n"));
                }
            }
            var sources = random.Next(8) == 0 ? 0 : random.Next(1, 7);
            var literals = new List<string>();
            var files = new List<string>();
            var envLines = new List<string>();
            for (var k = 0; k < sources; k++)
            {
                switch (random.Next(5))
                {
                    case 0 or 1:
                        literals.Add($"{values.Key(k)}={values.Value(kustomizeSafe: true)}");
                        break;
                    case 2:
                        var textFile = $"c{n}-{k}.txt";
                        File.WriteAllText(Path.Combine(directory, textFile), values.Value(kustomizeSafe: true), new UTF8Encoding(false));
                        files.Add(random.Next(2) == 0 ? textFile : $"{values.Key(k)}={textFile}");
                        break;
                    case 3:
                        var binaryFile = $"c{n}-{k}.bin";
                        File.WriteAllBytes(Path.Combine(directory, binaryFile), values.Binary());
                        files.Add($"{values.Key(k)}={binaryFile}");
                        break;
                    default:
                        envLines.Add($"{values.EnvKey(k)}={values.Value(kustomizeSafe: true, singleLine: true)}");
                        break;
                }
            }
            AppendList(yaml, "literals", literals);
            AppendList(yaml, "files", files);
            if (envLines.Count > 0)
            {
                var envFile = $"c{n}.env";
                File.WriteAllText(Path.Combine(directory, envFile), "# a comment\n\n" + string.Join('\n', envLines) + "\n", new UTF8Encoding(false));
                AppendList(yaml, "envs", [envFile]);
            }
            var options = new StringBuilder();
            if (random.Next(4) == 0)
            {
                options.Append(CultureInvariant($"    immutable: {(random.Next(2) == 0 ? "true" : "false")}\n"));
            }
            if (random.Next(4) == 0)
            {
                options.Append(CultureInvariant($"    labels:\n      case: {OfflineKubectl.YamlQuoted(n.ToString(System.Globalization.CultureInfo.InvariantCulture))}\n"));
            }
            if (random.Next(4) == 0)
            {
                options.Append(CultureInvariant($"    annotations:\n      value: {OfflineKubectl.YamlQuoted(values.Value(kustomizeSafe: true))}\n"));
            }
            if (options.Length > 0)
            {
                yaml.Append("  options:\n").Append(options);
            }
        }
        File.WriteAllText(Path.Combine(directory, "kustomization.yaml"), header + configMaps + secrets, new UTF8Encoding(false));
        return CasesPerBatch;
    }

    private static void AppendList(StringBuilder yaml, string field, List<string> items)
    {
        if (items.Count == 0)
        {
            return;
        }
        yaml.Append(CultureInvariant($"  {field}:\n"));
        foreach (var item in items)
        {
            yaml.Append("  - ").Append(OfflineKubectl.YamlQuoted(item)).Append('\n');
        }
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);
}
