using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using JobKit.Core.Hashing;

// generate DIR COUNT: DIR/kustomization.yaml with COUNT configMapGenerators of 10 literals, and the same inputs as DIR/inputs.json.
// hash DIR: reads DIR/inputs.json, prints name-suffix per ConfigMap (kustomize's algorithm), and the in-process time on stderr.
if (args is ["generate", var directory, var countText])
{
    var count = int.Parse(countText, CultureInfo.InvariantCulture);
    var random = new Random(7);
    var inputs = new List<Input>(count);
    var yaml = new StringBuilder("configMapGenerator:\n");
    for (var n = 0; n < count; n++)
    {
        var data = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var k = 0; k < 10; k++)
        {
            data[$"key{k}"] = $"value {n}.{k} {random.Next():x} <&> é";
        }
        var name = $"cm{n:D5}";
        inputs.Add(new Input(name, data));
        yaml.Append(CultureInfo.InvariantCulture, $"- name: {name}\n  literals:\n");
        foreach (var (key, value) in data)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - \"{key}={value}\"\n");
        }
    }
    File.WriteAllText(Path.Combine(directory, "kustomization.yaml"), yaml.ToString());
    File.WriteAllText(Path.Combine(directory, "inputs.json"), JsonSerializer.Serialize(inputs));
    return 0;
}
if (args is ["hash", var inputDirectory])
{
    var inputs = JsonSerializer.Deserialize<List<Input>>(File.ReadAllText(Path.Combine(inputDirectory, "inputs.json")))!;
    var stopwatch = Stopwatch.StartNew();
    var names = inputs.Select(i => ContentHash.HashedName(i.Name, ContentHash.ConfigMapSuffix(i.Name, i.Data, null, ContentHashAlgorithm.Kustomize))).ToList();
    stopwatch.Stop();
    Console.Out.Write(string.Join('\n', names) + "\n");
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"in-process: {inputs.Count} ConfigMaps hashed in {stopwatch.Elapsed.TotalMilliseconds:0.0} ms"));
    return 0;
}
Console.Error.WriteLine("usage: JobKit.Bench.Hash generate DIR COUNT | hash DIR");
return 2;

internal sealed record Input(string Name, SortedDictionary<string, string> Data);
