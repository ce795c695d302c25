using JobKit.Sandbox.Kubelet;
using Xunit;

namespace JobKit.Sandbox.Tests.Kubelet;

public class BubblewrapArgumentsTests
{
    [Fact]
    public void Confinement_binds_system_dirs_read_only_and_the_volumes_at_their_paths()
    {
        var launch = new ContainerLaunch(
            ["sh", "-c", "true"],
            [],
            "/work",
            "pod",
            [new VolumeMountPlan("/state/v/scripts", "/scripts", ReadOnly: true), new VolumeMountPlan("/state/v/data", "/data", ReadOnly: false)]);
        var arguments = ContainerProcess.BubblewrapArguments(launch);
        var joined = string.Join(' ', arguments);

        Assert.Contains("--ro-bind /usr /usr", joined, StringComparison.Ordinal);
        Assert.Contains("--ro-bind /etc /etc", joined, StringComparison.Ordinal);
        Assert.Contains("--ro-bind /state/v/scripts /scripts", joined, StringComparison.Ordinal);
        Assert.Contains("--bind /state/v/data /data", joined, StringComparison.Ordinal);
        Assert.Contains("--unshare-pid", arguments);
        Assert.Contains("--die-with-parent", arguments);
        Assert.DoesNotContain("/root /root", joined, StringComparison.Ordinal);
        Assert.EndsWith("--chdir /work -- sh -c true", joined, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mount_inside_etc_turns_etc_into_read_only_binds_of_its_entries()
    {
        var launch = new ContainerLaunch(["true"], [], "/", "pod", [new VolumeMountPlan("/state/v/info", "/etc/podinfo", ReadOnly: true)]);
        var arguments = ContainerProcess.BubblewrapArguments(launch);
        var joined = string.Join(' ', arguments);

        Assert.Contains("--tmpfs /etc", joined, StringComparison.Ordinal);
        Assert.DoesNotContain("--ro-bind /etc /etc ", joined, StringComparison.Ordinal);
        Assert.Contains("--ro-bind /state/v/info /etc/podinfo", joined, StringComparison.Ordinal);
        Assert.Contains("--remount-ro /etc", joined, StringComparison.Ordinal);
        Assert.True(joined.IndexOf("--ro-bind /state/v/info", StringComparison.Ordinal) < joined.IndexOf("--remount-ro /etc", StringComparison.Ordinal));
    }
}
