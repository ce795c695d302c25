using System.Globalization;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>What a container's process sees (environment, volumes) and what the API reports about it (state, logs).</summary>
public sealed class PodTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    private async Task<(V1Pod Pod, string[] Log)> RunToEndAsync(string ns, V1Pod pod)
    {
        await Client.CoreV1.CreateNamespacedPodAsync(pod, ns, cancellationToken: Ct);
        var finished = await cluster.WaitForPodFinishedAsync(ns, pod.Metadata.Name);
        var log = await cluster.ReadLogAsync(ns, pod.Metadata.Name);
        return (finished, Workloads.Lines(log));
    }

    [Fact]
    public async Task Env_resolves_dependent_vars_configMapKeyRef_secretKeyRef_fieldRef_and_envFrom()
    {
        await using var ns = await cluster.CreateNamespaceAsync("pod-env", Ct);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings", new Dictionary<string, string> { ["color"] = "blue", ["size"] = "xl" }), ns, cancellationToken: Ct);
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "creds" }, StringData = new Dictionary<string, string> { ["token"] = "t0k3n" } }, ns, cancellationToken: Ct);
        var pod = Objects.Pod(
            "env",
            """
            echo "MESSAGE=$MESSAGE"
            echo "ESCAPED=$ESCAPED"
            echo "UNKNOWN=$UNKNOWN"
            echo "COLOR=$COLOR"
            echo "TOKEN=$TOKEN"
            echo "POD_NAME=$POD_NAME"
            echo "POD_NAMESPACE=$POD_NAMESPACE"
            echo "CFG_size=$CFG_size"
            echo "CFG_color=$CFG_color"
            """);
        var container = pod.Spec.Containers[0];
        container.Env =
        [
            new V1EnvVar { Name = "GREETING", Value = "hello" },
            new V1EnvVar { Name = "MESSAGE", Value = "$(GREETING) world" },
            new V1EnvVar { Name = "ESCAPED", Value = "$$(GREETING)" },
            new V1EnvVar { Name = "UNKNOWN", Value = "$(NOT_DEFINED)" },
            new V1EnvVar { Name = "COLOR", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "settings", Key = "color" } } },
            new V1EnvVar { Name = "TOKEN", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "creds", Key = "token" } } },
            new V1EnvVar { Name = "POD_NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } },
            new V1EnvVar { Name = "POD_NAMESPACE", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } } },
        ];
        container.EnvFrom = [new V1EnvFromSource { Prefix = "CFG_", ConfigMapRef = new V1ConfigMapEnvSource { Name = "settings" } }];

        var (finished, log) = await RunToEndAsync(ns, pod);

        Assert.True(finished.Status.Phase == "Succeeded", $"pod ended {finished.Status.Phase}; log: {string.Join('\n', log)}");
        Assert.Equal(
            [
                "MESSAGE=hello world",
                "ESCAPED=$(GREETING)",
                "UNKNOWN=$(NOT_DEFINED)",
                "COLOR=blue",
                "TOKEN=t0k3n",
                "POD_NAME=env",
                $"POD_NAMESPACE={ns.Name}",
                "CFG_size=xl",
                "CFG_color=blue",
            ],
            log);
    }

    [Fact]
    public async Task ConfigMap_volume_with_items_and_defaultMode_0554_runs_as_a_script()
    {
        await using var ns = await cluster.CreateNamespaceAsync("pod-volume", Ct);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(
            Objects.ConfigMap("scripts", new Dictionary<string, string> { ["run.sh"] = "#!/bin/sh\necho \"script says $1\"\n", ["unlisted"] = "not projected" }),
            ns,
            cancellationToken: Ct);
        var pod = Objects.Pod(
            "script",
            """
            /jobkit-scripts/bin/run.sh hi
            echo "mode=$(stat -L -c %a /jobkit-scripts/bin/run.sh)"
            test -e /jobkit-scripts/unlisted && echo unlisted-present || echo unlisted-absent
            """);
        pod.Spec.Volumes =
        [
            new V1Volume
            {
                Name = "scripts",
                ConfigMap = new V1ConfigMapVolumeSource
                {
                    Name = "scripts",
                    DefaultMode = Convert.ToInt32("554", 8),
                    Items = [new V1KeyToPath { Key = "run.sh", Path = "bin/run.sh" }],
                },
            },
        ];
        pod.Spec.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "scripts", MountPath = "/jobkit-scripts", ReadOnlyProperty = true }];

        var (finished, log) = await RunToEndAsync(ns, pod);

        Assert.True(finished.Status.Phase == "Succeeded", $"pod ended {finished.Status.Phase}; log: {string.Join('\n', log)}");
        Assert.Equal(["script says hi", "mode=554", "unlisted-absent"], log);
    }

    [Fact]
    public async Task Missing_configMap_with_optional_false_waits_in_CreateContainerConfigError_then_runs_once_created()
    {
        await using var ns = await cluster.CreateNamespaceAsync("pod-missing-cm", Ct);
        var pod = Objects.Pod("patient", "echo \"value=$LATE\"");
        pod.Spec.Containers[0].Env =
        [
            new V1EnvVar { Name = "LATE", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "late", Key = "value", Optional = false } } },
        ];
        await Client.CoreV1.CreateNamespacedPodAsync(pod, ns, cancellationToken: Ct);

        var waiting = await cluster.WaitForPodAsync(
            ns,
            "patient",
            p => p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Waiting?.Reason == "CreateContainerConfigError",
            "container waiting with reason CreateContainerConfigError");
        Assert.Equal("Pending", waiting.Status.Phase);
        Assert.Equal("configmap \"late\" not found", waiting.MainStatus().State.Waiting.Message);

        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("late", new Dictionary<string, string> { ["value"] = "arrived" }), ns, cancellationToken: Ct);

        var finished = await cluster.WaitForPodFinishedAsync(ns, "patient");
        Assert.Equal("Succeeded", finished.Status.Phase);
        Assert.Equal(["value=arrived"], Workloads.Lines(await cluster.ReadLogAsync(ns, "patient")));
    }

    [Fact]
    public async Task Logs_via_the_API_support_tailLines_and_timestamps()
    {
        await using var ns = await cluster.CreateNamespaceAsync("pod-logs", Ct);
        await Client.CoreV1.CreateNamespacedPodAsync(Objects.Pod("chatty", "for i in 1 2 3 4 5; do echo \"line $i\"; done"), ns, cancellationToken: Ct);
        var finished = await cluster.WaitForPodFinishedAsync(ns, "chatty");
        Assert.Equal("Succeeded", finished.Status.Phase);

        Assert.Equal(["line 1", "line 2", "line 3", "line 4", "line 5"], Workloads.Lines(await cluster.ReadLogAsync(ns, "chatty")));
        Assert.Equal(["line 4", "line 5"], Workloads.Lines(await cluster.ReadLogAsync(ns, "chatty", tailLines: 2)));
        Assert.Equal(["line 1", "line 2", "line 3", "line 4", "line 5"], Workloads.Lines(await cluster.ReadLogAsync(ns, "chatty", container: "main")));

        var stamped = Workloads.Lines(await cluster.ReadLogAsync(ns, "chatty", tailLines: 1, timestamps: true));
        var line = Assert.Single(stamped);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        Assert.True(space > 0, $"a timestamped line is '<RFC 3339 time> <text>': {line}");
        Assert.True(
            DateTimeOffset.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var when),
            $"not an RFC 3339 timestamp: {line[..space]}");
        Assert.InRange(when, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal("line 5", line[(space + 1)..]);
    }

    [Fact]
    public async Task Container_exit_codes_are_reported_as_Completed_or_Error_with_the_pod_phase()
    {
        await using var ns = await cluster.CreateNamespaceAsync("pod-exit", Ct);
        await Client.CoreV1.CreateNamespacedPodAsync(Objects.Pod("fails", "echo bad >&2; exit 7"), ns, cancellationToken: Ct);
        await Client.CoreV1.CreateNamespacedPodAsync(Objects.Pod("works", "true"), ns, cancellationToken: Ct);

        var fails = await cluster.WaitForPodFinishedAsync(ns, "fails");
        var works = await cluster.WaitForPodFinishedAsync(ns, "works");

        Assert.Equal("Failed", fails.Status.Phase);
        var failed = fails.MainStatus().State.Terminated;
        Assert.Equal((7, "Error"), (failed.ExitCode, failed.Reason));
        Assert.NotNull(failed.StartedAt);
        Assert.NotNull(failed.FinishedAt);
        Assert.Equal("Succeeded", works.Status.Phase);
        var succeeded = works.MainStatus().State.Terminated;
        Assert.Equal((0, "Completed"), (succeeded.ExitCode, succeeded.Reason));
        Assert.Equal(("False", "PodCompleted"), (works.Condition("Ready")?.Status, works.Condition("Ready")?.Reason));
        Assert.Contains("bad", await cluster.ReadLogAsync(ns, "fails"), StringComparison.Ordinal);
    }
}
