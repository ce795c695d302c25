using k8s.Models;
using Xunit;

namespace JobKit.Testing;

/// <summary>Builders for the objects the tests write, and readers for what the cluster reports.</summary>
public static class Objects
{
    public const string Image = "busybox";

    public static V1ConfigMap ConfigMap(string name, IDictionary<string, string>? data = null, IDictionary<string, string>? labels = null) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Data = data ?? new Dictionary<string, string> { ["key"] = "value" },
    };

    public static V1Container Container(string script, string name = "main") => new()
    {
        Name = name,
        Image = Image,
        Command = ["sh", "-c", script],
    };

    /// <summary>A Job whose single container runs <c>sh -c script</c>, restartPolicy Never.</summary>
    public static V1Job Job(string name, string script, Action<V1JobSpec>? configure = null)
    {
        var job = new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1JobSpec
            {
                Template = new V1PodTemplateSpec
                {
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        Containers = [Container(script)],
                    },
                },
            },
        };
        configure?.Invoke(job.Spec);
        return job;
    }

    /// <summary>A bare pod running <c>sh -c script</c>, restartPolicy Never.</summary>
    public static V1Pod Pod(string name, string script, Action<V1PodSpec>? configure = null)
    {
        var pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Never",
                Containers = [Container(script)],
            },
        };
        configure?.Invoke(pod.Spec);
        return pod;
    }

    public static V1OwnerReference OwnerReference(V1ConfigMap owner, bool blockOwnerDeletion = false) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        BlockOwnerDeletion = blockOwnerDeletion,
    };

    public static V1JobCondition? Condition(this V1Job job, string type) =>
        job.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    public static bool HasCondition(this V1Job job, string type, string status = "True") =>
        job.Condition(type)?.Status == status;

    public static bool IsFinished(this V1Job job) => job.HasCondition("Complete") || job.HasCondition("Failed");

    public static V1PodCondition? Condition(this V1Pod pod, string type) =>
        pod.Status?.Conditions?.FirstOrDefault(c => c.Type == type);
}
