using JobKit.Sandbox.Kubelet;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.Kubelet;

public class ContainerRuntimeTests
{
    [Fact]
    public void Restart_back_off_is_immediate_then_doubles_from_10s_to_5min()
    {
        var runtime = new ContainerRuntime(new V1Container { Name = "c" }, false, "ContainerCreating");
        var delays = Enumerable.Range(0, 8).Select(_ => runtime.NextBackoff(TimeSpan.FromSeconds(1)).TotalSeconds).ToList();
        Assert.Equal([0, 10, 20, 40, 80, 160, 300, 300], delays);
        Assert.Equal(TimeSpan.Zero, runtime.NextBackoff(TimeSpan.FromMinutes(11)));
    }
}
