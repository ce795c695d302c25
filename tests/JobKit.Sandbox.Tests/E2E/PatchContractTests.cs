using System.Net;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>PATCH: JSON merge patch, JSON patch, strategic merge patch; client-side <c>kubectl apply</c>.</summary>
public sealed class PatchContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    private static V1Patch Merge(string json) => new(json, V1Patch.PatchType.MergePatch);

    private static V1Patch Json(string json) => new(json, V1Patch.PatchType.JsonPatch);

    private static V1Patch Strategic(string json) => new(json, V1Patch.PatchType.StrategicMergePatch);

    /// <summary>A suspended CronJob (it creates nothing) whose pod template has one container "main": a mutable object with a containers list.</summary>
    private async Task<V1CronJob> CreateSuspendedCronJobAsync(string ns, string name)
    {
        var cronJob = new V1CronJob
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1CronJobSpec
            {
                Schedule = "* * * * *",
                Suspend = true,
                JobTemplate = new V1JobTemplateSpec
                {
                    Spec = new V1JobSpec
                    {
                        Template = new V1PodTemplateSpec
                        {
                            Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [Objects.Container("echo main")] },
                        },
                    },
                },
            },
        };
        return await Client.BatchV1.CreateNamespacedCronJobAsync(cronJob, ns, cancellationToken: Ct);
    }

    private static IList<V1Container> Containers(V1CronJob cronJob) => cronJob.Spec.JobTemplate.Spec.Template.Spec.Containers;

    [Fact]
    public async Task Json_merge_patch_sets_replaces_and_removes_keys()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-merge", Ct);
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(
            Objects.ConfigMap("cfg", new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, new Dictionary<string, string> { ["keep"] = "yes" }),
            ns,
            cancellationToken: Ct);

        var patched = await Client.CoreV1.PatchNamespacedConfigMapAsync(
            Merge("""{"metadata":{"labels":{"added":"yes"}},"data":{"a":"changed","b":null,"c":"3"}}"""),
            "cfg",
            ns,
            cancellationToken: Ct);

        Assert.Equal(new Dictionary<string, string> { ["a"] = "changed", ["c"] = "3" }, patched.Data);
        Assert.Equal(new Dictionary<string, string> { ["keep"] = "yes", ["added"] = "yes" }, patched.Metadata.Labels);
        Assert.NotEqual(created.Metadata.ResourceVersion, patched.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Json_merge_patch_replaces_lists_wholesale()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-merge-list", Ct);
        await CreateSuspendedCronJobAsync(ns, "cron");

        var patched = await Client.BatchV1.PatchNamespacedCronJobAsync(
            Merge("""{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"other","image":"busybox","command":["sh","-c","echo other"]}]}}}}}}"""),
            "cron",
            ns,
            cancellationToken: Ct);

        var only = Assert.Single(Containers(patched));
        Assert.Equal("other", only.Name);
    }

    [Fact]
    public async Task Json_patch_applies_operations_in_order()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-json", Ct);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("cfg", new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }), ns, cancellationToken: Ct);

        var patched = await Client.CoreV1.PatchNamespacedConfigMapAsync(
            Json("""[{"op":"test","path":"/data/a","value":"1"},{"op":"replace","path":"/data/a","value":"10"},{"op":"remove","path":"/data/b"},{"op":"add","path":"/data/c","value":"3"},{"op":"copy","from":"/data/c","path":"/data/d"},{"op":"add","path":"/metadata/labels","value":{"x":"y"}}]"""),
            "cfg",
            ns,
            cancellationToken: Ct);

        Assert.Equal(new Dictionary<string, string> { ["a"] = "10", ["c"] = "3", ["d"] = "3" }, patched.Data);
        Assert.Equal("y", patched.Metadata.Labels["x"]);
    }

    [Fact]
    public async Task Json_patch_with_failing_test_op_returns_422_and_changes_nothing()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-json-test", Ct);
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("cfg", new Dictionary<string, string> { ["a"] = "1" }), ns, cancellationToken: Ct);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.UnprocessableEntity,
            () => Client.CoreV1.PatchNamespacedConfigMapAsync(Json("""[{"op":"test","path":"/data/a","value":"2"},{"op":"replace","path":"/data/a","value":"3"}]"""), "cfg", ns, cancellationToken: Ct));

        Assert.Equal("Invalid", status.Reason);
        Assert.Equal("the server rejected our request due to an error in our request", status.Message);
        var read = await Client.CoreV1.ReadNamespacedConfigMapAsync("cfg", ns, cancellationToken: Ct);
        Assert.Equal("1", read.Data["a"]);
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Patch_with_stale_resourceVersion_in_body_returns_409_Conflict()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-conflict", Ct);
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("cfg"), ns, cancellationToken: Ct);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(Merge("""{"data":{"key":"moved on"}}"""), "cfg", ns, cancellationToken: Ct);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.Conflict,
            () => Client.CoreV1.PatchNamespacedConfigMapAsync(Merge($$$"""{"metadata":{"resourceVersion":"{{{created.Metadata.ResourceVersion}}}"},"data":{"key":"stale"}}"""), "cfg", ns, cancellationToken: Ct));

        Assert.Equal("Conflict", status.Reason);
        Assert.Equal("Operation cannot be fulfilled on configmaps \"cfg\": the object has been modified; please apply your changes to the latest version and try again", status.Message);
    }

    [Fact]
    public async Task Patch_of_missing_object_returns_404_NotFound()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-missing", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.NotFound, () => Client.CoreV1.PatchNamespacedConfigMapAsync(Merge("""{"data":{"a":"1"}}"""), "nowhere", ns, cancellationToken: Ct));

        Assert.Equal("NotFound", status.Reason);
        Assert.Equal("configmaps \"nowhere\" not found", status.Message);
    }

    [Fact]
    public async Task Strategic_merge_patch_merges_containers_by_name()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-smp", Ct);
        await CreateSuspendedCronJobAsync(ns, "cron");

        var patched = await Client.BatchV1.PatchNamespacedCronJobAsync(
            Strategic("""{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox","command":["sh","-c","echo side"]},{"name":"main","image":"busybox:1.36"}]}}}}}}"""),
            "cron",
            ns,
            cancellationToken: Ct);

        var containers = Containers(patched);
        Assert.Equal(["sidecar", "main"], containers.Select(c => c.Name));
        var main = containers.Single(c => c.Name == "main");
        Assert.Equal("busybox:1.36", main.Image);
        Assert.Equal(["sh", "-c", "echo main"], main.Command);
        var sidecar = containers.Single(c => c.Name == "sidecar");
        Assert.Equal(["sh", "-c", "echo side"], sidecar.Command);
        Assert.Equal("File", sidecar.TerminationMessagePolicy);
    }

    [Fact]
    public async Task Strategic_merge_patch_directive_patch_delete_removes_a_container()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-smp-delete", Ct);
        await CreateSuspendedCronJobAsync(ns, "cron");
        await Client.BatchV1.PatchNamespacedCronJobAsync(
            Strategic("""{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox","command":["sh","-c","echo side"]}]}}}}}}"""),
            "cron",
            ns,
            cancellationToken: Ct);

        var patched = await Client.BatchV1.PatchNamespacedCronJobAsync(
            Strategic("""{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"main","$patch":"delete"}]}}}}}}"""),
            "cron",
            ns,
            cancellationToken: Ct);

        Assert.Equal("sidecar", Assert.Single(Containers(patched)).Name);
    }

    [Fact]
    public async Task Strategic_merge_patch_null_removes_a_map_key()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-smp-map", Ct);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("cfg", new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }), ns, cancellationToken: Ct);

        var patched = await Client.CoreV1.PatchNamespacedConfigMapAsync(Strategic("""{"data":{"a":null,"c":"3"}}"""), "cfg", ns, cancellationToken: Ct);

        Assert.Equal(new Dictionary<string, string> { ["b"] = "2", ["c"] = "3" }, patched.Data);
    }

    [Fact]
    public async Task Kubectl_apply_creates_then_is_unchanged_then_configures_with_a_three_way_merge()
    {
        await using var ns = await cluster.CreateNamespaceAsync("patch-apply", Ct);
        var dir = Directory.CreateTempSubdirectory("jobkit-apply-");
        try
        {
            var file = Path.Combine(dir.FullName, "cm.yaml");
            await File.WriteAllTextAsync(file, Manifest("a: \"1\"\n  b: \"2\""), Ct);

            var first = await cluster.KubectlAsync("apply", "-n", ns, "-f", file);
            Assert.True(first.ExitCode == 0, first.ToString());
            Assert.Equal("configmap/applied created", first.StandardOutput.Trim());

            var second = await cluster.KubectlAsync("apply", "-n", ns, "-f", file);
            Assert.True(second.ExitCode == 0, second.ToString());
            Assert.Equal("configmap/applied unchanged", second.StandardOutput.Trim());

            var applied = await Client.CoreV1.ReadNamespacedConfigMapAsync("applied", ns, cancellationToken: Ct);
            Assert.Contains("kubectl.kubernetes.io/last-applied-configuration", applied.Metadata.Annotations.Keys);

            // someone else adds a key; the manifest then drops b and changes a
            await Client.CoreV1.PatchNamespacedConfigMapAsync(Merge("""{"data":{"foreign":"kept"}}"""), "applied", ns, cancellationToken: Ct);
            await File.WriteAllTextAsync(file, Manifest("a: \"10\""), Ct);

            var third = await cluster.KubectlAsync("apply", "-n", ns, "-f", file);
            Assert.True(third.ExitCode == 0, third.ToString());
            Assert.Equal("configmap/applied configured", third.StandardOutput.Trim());

            var result = await Client.CoreV1.ReadNamespacedConfigMapAsync("applied", ns, cancellationToken: Ct);
            Assert.Equal(new Dictionary<string, string> { ["a"] = "10", ["foreign"] = "kept" }, result.Data);
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        static string Manifest(string data) => $"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: applied
              labels:
                app: jobkit
            data:
              {data}

            """;
    }
}
