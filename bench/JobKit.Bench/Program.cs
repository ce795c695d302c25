// Sandbox figures for the foundation issue: start-up time, memory and request latency with 10,000 objects stored.
// Run: dotnet run -c Release --project bench/JobKit.Bench [objects]
using System.Diagnostics;
using System.Globalization;
using JobKit.Sandbox;
using k8s;
using k8s.Models;

var objects = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;

var startups = new List<double>();
for (var i = 0; i < 5; i++)
{
    var watch = Stopwatch.StartNew();
    await using var probe = await SandboxCluster.StartAsync(new SandboxOptions { RunKubelet = false });
    startups.Add(watch.Elapsed.TotalMilliseconds);
}
Console.WriteLine($"start-up (in-process, no kubelet): median {Median(startups):F0} ms over 5 (first {startups[0]:F0} ms)");

await using var cluster = await SandboxCluster.StartAsync(new SandboxOptions { RunKubelet = false });
using var client = cluster.CreateClient();
var rssBefore = Rss();
var createLatency = new List<double>();
var data = new Dictionary<string, string> { ["config.yaml"] = new string('x', 512), ["mode"] = "batch" };
await Parallel.ForAsync(0, objects, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
{
    var watch = Stopwatch.StartNew();
    await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
    {
        Metadata = new V1ObjectMeta { Name = $"cm-{i:D5}", Labels = new Dictionary<string, string> { ["shard"] = (i % 100).ToString(CultureInfo.InvariantCulture) } },
        Data = data,
    }, "default", cancellationToken: ct);
    lock (createLatency)
    {
        createLatency.Add(watch.Elapsed.TotalMilliseconds);
    }
});
GC.Collect();
var rssAfter = Rss();
Console.WriteLine($"memory: RSS {rssBefore / 1048576.0:F0} MiB before, {rssAfter / 1048576.0:F0} MiB with {objects} ConfigMaps of ~600 bytes stored; managed heap {GC.GetTotalMemory(true) / 1048576.0:F0} MiB");
Console.WriteLine($"create (8 concurrent clients): p50 {Percentile(createLatency, 50):F2} ms, p99 {Percentile(createLatency, 99):F2} ms");

var getLatency = await Time(500, i => client.CoreV1.ReadNamespacedConfigMapAsync($"cm-{i * 7 % objects:D5}", "default"));
Console.WriteLine($"get: p50 {Percentile(getLatency, 50):F2} ms, p99 {Percentile(getLatency, 99):F2} ms");
var selectorLatency = await Time(50, i => client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: $"shard={i % 100}"));
Console.WriteLine($"list by label (100 of {objects}): p50 {Percentile(selectorLatency, 50):F2} ms, p99 {Percentile(selectorLatency, 99):F2} ms");
var listLatency = await Time(10, _ => client.CoreV1.ListNamespacedConfigMapAsync("default"));
Console.WriteLine($"list all ({objects}): p50 {Percentile(listLatency, 50):F1} ms, max {listLatency.Max():F1} ms");
Console.WriteLine($"API requests served: {cluster.Server.RequestCount}");

static async Task<List<double>> Time<T>(int count, Func<int, Task<T>> call)
{
    var result = new List<double>();
    for (var i = 0; i < count; i++)
    {
        var watch = Stopwatch.StartNew();
        await call(i);
        result.Add(watch.Elapsed.TotalMilliseconds);
    }
    return result;
}

static double Median(List<double> values) => Percentile(values, 50);

static double Percentile(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, sorted.Count * percentile / 100)];
}

static long Rss()
{
    using var process = Process.GetCurrentProcess();
    process.Refresh();
    return process.WorkingSet64;
}
