using System.Diagnostics;
using JobKit.Sandbox.Controllers;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace JobKit.Sandbox.Tests.Controllers;

public class ControllerLifecycleTests
{
    private static Kubernetes Unreachable() => new(new KubernetesClientConfiguration { Host = "http://127.0.0.1:1" });

    public static TheoryData<string> Controllers => ["job", "cronjob", "ttl"];

    [Theory]
    [MemberData(nameof(Controllers))]
    public async Task RunAsync_survives_an_unreachable_api_server_and_returns_promptly_when_cancelled(string which)
    {
        using var client = Unreachable();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var run = which switch
        {
            "job" => new JobController(client, NullLoggerFactory.Instance, TimeProvider.System).RunAsync(cts.Token),
            "cronjob" => new CronJobController(client, NullLoggerFactory.Instance, TimeProvider.System).RunAsync(cts.Token),
            _ => new TtlAfterFinishedController(client, NullLoggerFactory.Instance, TimeProvider.System).RunAsync(cts.Token),
        };
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        Assert.False(run.IsCompleted);
        var sw = Stopwatch.StartNew();
        await cts.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"took {sw.Elapsed}");
    }
}
