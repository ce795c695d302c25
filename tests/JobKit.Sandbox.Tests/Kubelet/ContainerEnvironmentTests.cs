using JobKit.Sandbox.Kubelet;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.Kubelet;

public class ContainerEnvironmentTests
{
    private static string Expand(string input) =>
        ContainerEnvironment.Expand(input, name => name switch
        {
            "A" => "alpha",
            "EMPTY" => "",
            _ => null,
        });

    [Theory]
    [InlineData("$(A)", "alpha")]
    [InlineData("x-$(A)-y", "x-alpha-y")]
    [InlineData("$(EMPTY)", "")]
    [InlineData("$(UNDEFINED)", "$(UNDEFINED)")]
    [InlineData("$$(A)", "$(A)")]
    [InlineData("$$", "$")]
    [InlineData("$A", "$A")]
    [InlineData("$(A", "$(A")]
    [InlineData("trailing $", "trailing $")]
    [InlineData("$()", "$()")]
    public void Expand_follows_the_kubelets_rules(string input, string expected) =>
        Assert.Equal(expected, Expand(input));

    [Fact]
    public void Downward_api_labels_are_sorted_quoted_lines()
    {
        var labels = new Dictionary<string, string> { ["b"] = "two \"q\"", ["a"] = "one" };
        Assert.Equal("a=\"one\"\nb=\"two \\\"q\\\"\"", ContainerEnvironment.FormatMap(labels));
    }

    [Fact]
    public void Field_refs_resolve_from_the_pod()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns", Uid = "u", Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1PodSpec { NodeName = "n", ServiceAccountName = "sa", Containers = [] },
        };
        Assert.Equal("web", ContainerEnvironment.ResolveFieldRef(pod, "metadata.labels['app']"));
        Assert.Equal("", ContainerEnvironment.ResolveFieldRef(pod, "metadata.annotations['none']"));
        Assert.Equal("sa", ContainerEnvironment.ResolveFieldRef(pod, "spec.serviceAccountName"));
        Assert.Equal("127.0.0.1", ContainerEnvironment.ResolveFieldRef(pod, "status.podIP"));
    }

    [Fact]
    public void Command_and_args_expand_from_the_final_environment()
    {
        var container = new V1Container { Name = "c", Command = ["echo", "$(A)"], Args = ["$$(A)", "$(B)"] };
        var command = ContainerEnvironment.CommandLine(container, [KeyValuePair.Create("A", "1"), KeyValuePair.Create("B", "2")]);
        Assert.Equal(["echo", "1", "$(A)", "2"], command);
    }
}
