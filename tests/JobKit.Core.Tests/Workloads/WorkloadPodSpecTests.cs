using System.Text;
using JobKit.Core.Tests.Hashing;
using JobKit.Core.Workloads;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Core.Tests.Workloads;

public sealed class WorkloadPodSpecTests
{
    private static V1PodTemplateSpec Template(V1PodSpec spec) => new() { Spec = spec };

    /// <summary>One of every kind, each running <paramref name="spec"/> (a fresh copy per workload).</summary>
    private static List<IKubernetesObject<V1ObjectMeta>> AllKinds(Func<V1PodSpec> spec) =>
    [
        new V1Pod { ApiVersion = "v1", Kind = "Pod", Metadata = new() { Name = "pod" }, Spec = spec() },
        new V1Deployment { ApiVersion = "apps/v1", Kind = "Deployment", Metadata = new() { Name = "deployment" }, Spec = new() { Template = Template(spec()) } },
        new V1ReplicaSet { ApiVersion = "apps/v1", Kind = "ReplicaSet", Metadata = new() { Name = "replicaset" }, Spec = new() { Template = Template(spec()) } },
        new V1StatefulSet { ApiVersion = "apps/v1", Kind = "StatefulSet", Metadata = new() { Name = "statefulset" }, Spec = new() { Template = Template(spec()) } },
        new V1DaemonSet { ApiVersion = "apps/v1", Kind = "DaemonSet", Metadata = new() { Name = "daemonset" }, Spec = new() { Template = Template(spec()) } },
        new V1Job { ApiVersion = "batch/v1", Kind = "Job", Metadata = new() { Name = "job" }, Spec = new() { Template = Template(spec()) } },
        new V1CronJob
        {
            ApiVersion = "batch/v1", Kind = "CronJob", Metadata = new() { Name = "cronjob" },
            Spec = new() { Schedule = "@hourly", JobTemplate = new() { Spec = new() { Template = Template(spec()) } } },
        },
        new V1ReplicationController { ApiVersion = "v1", Kind = "ReplicationController", Metadata = new() { Name = "rc" }, Spec = new() { Template = Template(spec()) } },
        new V1PodTemplate { ApiVersion = "v1", Kind = "PodTemplate", Metadata = new() { Name = "podtemplate" }, Template = Template(spec()) },
    ];

    /// <summary>Reads "settings"/"creds" in every place PodSpecReferences knows, and "other"/"other-creds" (never generated) too.</summary>
    private static V1PodSpec ReadingEverywhere()
    {
        static V1Container Container(string name) => new()
        {
            Name = name,
            Image = "busybox",
            Env =
            [
                new V1EnvVar { Name = "A", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "settings", Key = "a" } } },
                new V1EnvVar { Name = "B", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "creds", Key = "b" } } },
                new V1EnvVar { Name = "C", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "other", Key = "c" } } },
                new V1EnvVar { Name = "D", Value = "settings" },
            ],
            EnvFrom =
            [
                new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = "settings" } },
                new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = "creds" } },
                new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = "other-creds" } },
            ],
        };
        var main = Container("main");
        var init = Container("init");
        var debug = Container("debug");
        return new V1PodSpec
        {
            Containers = [main],
            InitContainers = [init],
            EphemeralContainers = [new V1EphemeralContainer { Name = debug.Name, Image = debug.Image, Env = debug.Env, EnvFrom = debug.EnvFrom }],
            Volumes =
            [
                new V1Volume { Name = "cm", ConfigMap = new V1ConfigMapVolumeSource { Name = "settings" } },
                new V1Volume { Name = "secret", Secret = new V1SecretVolumeSource { SecretName = "creds" } },
                new V1Volume { Name = "other", ConfigMap = new V1ConfigMapVolumeSource { Name = "other" } },
                new V1Volume
                {
                    Name = "projected",
                    Projected = new V1ProjectedVolumeSource
                    {
                        Sources =
                        [
                            new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = "settings" } },
                            new V1VolumeProjection { Secret = new V1SecretProjection { Name = "creds" } },
                        ],
                    },
                },
            ],
            ImagePullSecrets = [new V1LocalObjectReference { Name = "creds" }, new V1LocalObjectReference { Name = "other-creds" }],
        };
    }

    [Fact]
    public void Of_finds_the_pod_spec_of_every_workload_kind()
    {
        var spec = ReadingEverywhere();
        foreach (var workload in AllKinds(() => spec))
        {
            Assert.True(WorkloadPodSpec.IsWorkload(workload), workload.Kind);
            Assert.Same(spec, WorkloadPodSpec.Of(workload));
        }
        Assert.Null(WorkloadPodSpec.Of(new V1Deployment()));
        Assert.Null(WorkloadPodSpec.Of(new V1ConfigMap()));
        Assert.False(WorkloadPodSpec.IsWorkload(new V1Service()));
        Assert.Equal(0, WorkloadPodSpec.RenameConfigMap(new V1Service(), "settings", "x"));
    }

    [Fact]
    public void Renaming_through_a_workload_reaches_its_pod_spec()
    {
        var cronJob = AllKinds(ReadingEverywhere).OfType<V1CronJob>().Single();

        Assert.Equal(8, WorkloadPodSpec.RenameConfigMap(cronJob, "settings", "settings-x"));
        Assert.Equal(9, WorkloadPodSpec.RenameSecret(cronJob, "creds", "creds-x"));

        Assert.True(WorkloadPodSpec.ReadsConfigMap(cronJob, "settings-x"));
        Assert.False(WorkloadPodSpec.ReadsSecret(cronJob, "creds"));
        Assert.True(WorkloadPodSpec.ReadsSecret(cronJob, "other-creds"));
    }

    /// <summary>
    /// The same manifests through <c>kubectl kustomize</c> with a configMapGenerator "settings" and a secretGenerator "creds": our
    /// rewrite must equal kustomize's everywhere (api/internal/konfig/builtinpluginconsts/namereference.go lists the same pod-spec paths
    /// as PodSpecReferences) except where kustomize has no fieldSpec although the pod does read the name: ephemeralContainers (no kind)
    /// and ReplicationController (not a referrer of ConfigMap or Secret at all).
    /// </summary>
    [Fact]
    public async Task Our_rewrite_equals_kustomize_nameReference_except_ephemeralContainers_and_ReplicationController()
    {
        var directory = OfflineKubectl.TempDirectory("kustomize-references");
        try
        {
            var inputs = AllKinds(ReadingEverywhere);
            var manifests = inputs.Select(w => KubernetesJson.Serialize(w)).ToList();
            File.WriteAllText(Path.Combine(directory, "workloads.yaml"), string.Join("\n---\n", manifests) + "\n", new UTF8Encoding(false));
            File.WriteAllText(Path.Combine(directory, "kustomization.yaml"), """
                resources: [workloads.yaml]
                configMapGenerator:
                - name: settings
                  literals: [a=1]
                secretGenerator:
                - name: creds
                  literals: [b=2]
                """);

            var output = await OfflineKubectl.KustomizeAsync(directory);

            var configMapName = Assert.Single(output.OfType<V1ConfigMap>()).Metadata.Name;
            var secretName = Assert.Single(output.OfType<V1Secret>()).Metadata.Name;
            Assert.StartsWith("settings-", configMapName, StringComparison.Ordinal);
            Assert.StartsWith("creds-", secretName, StringComparison.Ordinal);
            var theirs = output.OfType<IKubernetesObject<V1ObjectMeta>>().Where(WorkloadPodSpec.IsWorkload).ToDictionary(w => w.Kind);
            Assert.Equal(inputs.Count, theirs.Count);

            foreach (var manifest in manifests)
            {
                // Ours: the identical input, read back from the very JSON kustomize got.
                var ours = OfflineKubectl.ParseConcatenatedJson(manifest).Single();
                var kind = ((IKubernetesObject)ours).Kind;
                Assert.Equal(8, WorkloadPodSpec.RenameConfigMap(ours, "settings", configMapName));
                Assert.Equal(9, WorkloadPodSpec.RenameSecret(ours, "creds", secretName));
                var ourSpec = WorkloadPodSpec.Of(ours)!;
                var theirSpec = WorkloadPodSpec.Of(theirs[kind])!;

                // ephemeralContainers: 2 ConfigMap and 2 Secret references that only we rewrite.
                Assert.True(ourSpec.EphemeralContainers.Single().EnvFrom[0].ConfigMapRef.Name == configMapName, kind);
                Assert.True(theirSpec.EphemeralContainers.Single().EnvFrom[0].ConfigMapRef.Name == "settings", kind);
                Assert.Equal(2, PodSpecReferences.RenameConfigMap(EphemeralOnly(theirSpec), "settings", configMapName));
                Assert.Equal(2, PodSpecReferences.RenameSecret(EphemeralOnly(theirSpec), "creds", secretName));

                if (kind == "ReplicationController")
                {
                    // kustomize leaves every reference of a ReplicationController alone.
                    Assert.Equal(6, PodSpecReferences.RenameConfigMap(theirSpec, "settings", configMapName));
                    Assert.Equal(7, PodSpecReferences.RenameSecret(theirSpec, "creds", secretName));
                }
                else
                {
                    Assert.False(PodSpecReferences.ReadsConfigMap(theirSpec, "settings"), kind);
                    Assert.False(PodSpecReferences.ReadsSecret(theirSpec, "creds"), kind);
                }

                // With those two differences applied, the pod specs are identical, unrewritten "other" references included.
                Assert.Equal(KubernetesJson.Serialize(ourSpec), KubernetesJson.Serialize(theirSpec));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A pod spec sharing only the ephemeral containers of <paramref name="spec"/>, to rename in them alone.</summary>
    private static V1PodSpec EphemeralOnly(V1PodSpec spec) => new() { Containers = [], EphemeralContainers = spec.EphemeralContainers };
}
