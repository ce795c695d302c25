using JobKit.Core.Workloads;
using k8s.Models;
using Xunit;

namespace JobKit.Core.Tests.Workloads;

public sealed class PodSpecReferencesTests
{
    private static V1PodSpec PodReadingEverywhere(string configMap, string secret) => new()
    {
        Containers =
        [
            new V1Container
            {
                Name = "main",
                Env =
                [
                    new V1EnvVar { Name = "A", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = configMap, Key = "a" } } },
                    new V1EnvVar { Name = "B", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = "b" } } },
                    new V1EnvVar { Name = "C", Value = configMap },
                ],
                EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = configMap } }, new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = secret } }],
            },
        ],
        InitContainers = [new V1Container { Name = "init", EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = configMap } }] }],
        EphemeralContainers = [new V1EphemeralContainer { Name = "debug", EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = configMap } }] }],
        Volumes =
        [
            new V1Volume { Name = "cm", ConfigMap = new V1ConfigMapVolumeSource { Name = configMap } },
            new V1Volume { Name = "s", Secret = new V1SecretVolumeSource { SecretName = secret } },
            new V1Volume
            {
                Name = "p",
                Projected = new V1ProjectedVolumeSource
                {
                    Sources = [new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = configMap } }, new V1VolumeProjection { Secret = new V1SecretProjection { Name = secret } }],
                },
            },
        ],
        ImagePullSecrets = [new V1LocalObjectReference { Name = secret }],
    };

    [Fact]
    public void Renaming_a_ConfigMap_rewrites_env_envFrom_volumes_and_projections_in_every_kind_of_container()
    {
        var spec = PodReadingEverywhere("settings", "settings");

        Assert.Equal(6, PodSpecReferences.RenameConfigMap(spec, "settings", "settings-x1"));

        Assert.Equal("settings-x1", spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name);
        Assert.Equal("settings-x1", spec.Containers[0].EnvFrom[0].ConfigMapRef.Name);
        Assert.Equal("settings-x1", spec.InitContainers[0].EnvFrom[0].ConfigMapRef.Name);
        Assert.Equal("settings-x1", spec.EphemeralContainers[0].EnvFrom[0].ConfigMapRef.Name);
        Assert.Equal("settings-x1", spec.Volumes[0].ConfigMap.Name);
        Assert.Equal("settings-x1", spec.Volumes[2].Projected.Sources[0].ConfigMap.Name);
        // A Secret of the same name and a plain value that happens to equal the name are not ConfigMap references.
        Assert.Equal("settings", spec.Containers[0].Env[1].ValueFrom.SecretKeyRef.Name);
        Assert.Equal("settings", spec.Containers[0].Env[2].Value);
        Assert.Equal("settings", spec.Volumes[1].Secret.SecretName);
        Assert.Equal("settings", spec.ImagePullSecrets[0].Name);
        Assert.False(PodSpecReferences.ReadsConfigMap(spec, "settings"));
        Assert.True(PodSpecReferences.ReadsConfigMap(spec, "settings-x1"));
    }

    [Fact]
    public void Renaming_a_Secret_rewrites_its_references_and_imagePullSecrets_only()
    {
        var spec = PodReadingEverywhere("settings", "creds");

        Assert.Equal(5, PodSpecReferences.RenameSecret(spec, "creds", "creds-x1"));

        Assert.True(PodSpecReferences.ReadsSecret(spec, "creds-x1"));
        Assert.False(PodSpecReferences.ReadsSecret(spec, "creds"));
        Assert.Equal("creds-x1", spec.ImagePullSecrets[0].Name);
        Assert.True(PodSpecReferences.ReadsConfigMap(spec, "settings"));
    }

    [Fact]
    public void Renaming_a_name_nobody_reads_changes_nothing()
    {
        var spec = PodReadingEverywhere("settings", "creds");

        Assert.Equal(0, PodSpecReferences.RenameConfigMap(spec, "other", "other-x1"));
        Assert.Equal(0, PodSpecReferences.RenameConfigMap(new V1PodSpec(), "other", "other-x1"));
        Assert.True(PodSpecReferences.ReadsConfigMap(spec, "settings"));
    }
}
