using System.Text.Json.Nodes;
using k8s;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>The real kubectl driving Deployments: apply, rollout status/history/undo, set env, scale, get.</summary>
public sealed class DeploymentKubectlTests(ClusterFixture cluster)
{
    private static readonly TimeSpan KubectlTimeout = TimeSpan.FromSeconds(150);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: app
        spec:
          replicas: 2
          selector:
            matchLabels: {app: app}
          template:
            metadata:
              labels: {app: app}
            spec:
              terminationGracePeriodSeconds: 5
              containers:
              - name: main
                image: busybox
                command: ["sleep", "3600"]

        """;

    private async Task<ProcessResult> Ok(string ns, params string[] args)
    {
        var result = await cluster.KubectlAsync([.. args, "-n", ns], timeout: KubectlTimeout, cancellationToken: Ct);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private async Task<JsonNode> Json(string ns, params string[] args) =>
        JsonNode.Parse((await Ok(ns, [.. args, "-o", "json"])).StandardOutput)!;

    [Fact]
    public async Task Kubectl_applies_rolls_out_rolls_back_and_scales_a_Deployment()
    {
        await using var ns = await cluster.CreateNamespaceAsync("kubectl-deploy", Ct);
        var apply = await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], Manifest, cancellationToken: Ct);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Equal("deployment.apps/app created", apply.StandardOutput.Trim());

        var status = await Ok(ns, "rollout", "status", "deployment/app", "--timeout=120s");
        Assert.EndsWith("deployment \"app\" successfully rolled out", status.StandardOutput.Trim(), StringComparison.Ordinal);

        Assert.Equal("deployment.apps/app env updated", (await Ok(ns, "set", "env", "deployment/app", "FOO=bar")).StandardOutput.Trim());
        await Ok(ns, "rollout", "status", "deployment/app", "--timeout=120s");
        var history = await Ok(ns, "rollout", "history", "deployment/app");
        Assert.Equal(["deployment.apps/app", "REVISION  CHANGE-CAUSE", "1         <none>", "2         <none>"],
            history.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()));

        Assert.Equal("deployment.apps/app rolled back", (await Ok(ns, "rollout", "undo", "deployment/app")).StandardOutput.Trim());
        await Ok(ns, "rollout", "status", "deployment/app", "--timeout=120s");
        var deployment = await Json(ns, "get", "deployment", "app");
        Assert.Equal("3", deployment["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>());
        Assert.Null(deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]);
        var sets = (await Json(ns, "get", "replicasets", "-l", "app=app"))["items"]!.AsArray();
        Assert.Equal(2, sets.Count);
        var revived = sets.Single(rs => rs!["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>() == "3")!;
        Assert.Equal("1", revived["metadata"]!["annotations"]!["deployment.kubernetes.io/revision-history"]!.GetValue<string>());
        Assert.Equal(2, revived["spec"]!["replicas"]!.GetValue<int>());

        Assert.Equal("deployment.apps/app scaled", (await Ok(ns, "scale", "deployment/app", "--replicas=3")).StandardOutput.Trim());
        await Ok(ns, "rollout", "status", "deployment/app", "--timeout=120s");
        var get = await Ok(ns, "get", "deployment", "app", "-o", "wide");
        var lines = get.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var cells = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["app", "3/3", "3", "3"], cells[..4]);
        Assert.Equal(["main", "busybox", "app=app"], cells[5..]);

        // Switching to Recreate drops rollingUpdate: kubectl sends $retainKeys for the strategy.
        var recreate = Manifest.Replace("spec:\n  replicas: 2", "spec:\n  replicas: 1\n  strategy: {type: Recreate}", StringComparison.Ordinal);
        var reapply = await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], recreate, cancellationToken: Ct);
        Assert.True(reapply.ExitCode == 0, reapply.ToString());
        deployment = await Json(ns, "get", "deployment", "app");
        Assert.Equal("""{"type":"Recreate"}""", deployment["spec"]!["strategy"]!.ToJsonString());
        await Ok(ns, "rollout", "status", "deployment/app", "--timeout=120s");
    }

    [Fact]
    public async Task Kubectl_get_replicasets_shows_desired_current_ready()
    {
        await using var ns = await cluster.CreateNamespaceAsync("kubectl-rs", Ct);
        var apply = await cluster.KubectlAsync(["apply", "-n", ns, "-f", "-"], Manifest, cancellationToken: Ct);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        await Ok(ns, "rollout", "status", "deployment/app", "--timeout=120s");

        var get = await Ok(ns, "get", "rs", "-o", "wide");
        var lines = get.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var cells = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^app-[bcdfghjklmnpqrstvwxz2456789]+$", cells[0]);
        Assert.Equal(["2", "2", "2"], cells[1..4]);
        Assert.Equal($"app=app,pod-template-hash={cells[0]["app-".Length..]}", cells[7]);
    }
}
