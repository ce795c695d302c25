using k8s.Models;

namespace JobKit.Core.Workloads;

/// <summary>
/// The pod spec a workload runs, so <see cref="PodSpecReferences"/> applies to whole workloads: Pod (<c>spec</c>); Deployment,
/// ReplicaSet, StatefulSet, DaemonSet, Job, ReplicationController (<c>spec.template.spec</c>); CronJob
/// (<c>spec.jobTemplate.spec.template.spec</c>); PodTemplate (<c>template.spec</c>).
/// </summary>
public static class WorkloadPodSpec
{
    /// <summary>The pod spec of <paramref name="workload"/>, or null when it is not one of the kinds above or has no spec yet.</summary>
    public static V1PodSpec? Of(object workload) => workload switch
    {
        V1Pod pod => pod.Spec,
        V1Deployment deployment => deployment.Spec?.Template?.Spec,
        V1ReplicaSet replicaSet => replicaSet.Spec?.Template?.Spec,
        V1StatefulSet statefulSet => statefulSet.Spec?.Template?.Spec,
        V1DaemonSet daemonSet => daemonSet.Spec?.Template?.Spec,
        V1Job job => job.Spec?.Template?.Spec,
        V1CronJob cronJob => cronJob.Spec?.JobTemplate?.Spec?.Template?.Spec,
        V1ReplicationController controller => controller.Spec?.Template?.Spec,
        V1PodTemplate template => template.Template?.Spec,
        _ => null,
    };

    /// <summary>True for the kinds <see cref="Of"/> knows, whether or not this object has a spec.</summary>
    public static bool IsWorkload(object workload) =>
        workload is V1Pod or V1Deployment or V1ReplicaSet or V1StatefulSet or V1DaemonSet or V1Job or V1CronJob or V1ReplicationController or V1PodTemplate;

    /// <summary>True when the workload's pods read ConfigMap <paramref name="name"/>.</summary>
    public static bool ReadsConfigMap(object workload, string name) => Of(workload) is { } spec && PodSpecReferences.ReadsConfigMap(spec, name);

    /// <summary>True when the workload's pods read Secret <paramref name="name"/>.</summary>
    public static bool ReadsSecret(object workload, string name) => Of(workload) is { } spec && PodSpecReferences.ReadsSecret(spec, name);

    /// <summary>Points the workload's references to ConfigMap <paramref name="from"/> at <paramref name="to"/>; returns how many.</summary>
    public static int RenameConfigMap(object workload, string from, string to) => Of(workload) is { } spec ? PodSpecReferences.RenameConfigMap(spec, from, to) : 0;

    /// <summary>Points the workload's references to Secret <paramref name="from"/> at <paramref name="to"/>; returns how many.</summary>
    public static int RenameSecret(object workload, string from, string to) => Of(workload) is { } spec ? PodSpecReferences.RenameSecret(spec, from, to) : 0;
}
