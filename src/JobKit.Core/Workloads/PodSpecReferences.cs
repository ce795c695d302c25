using k8s.Models;

namespace JobKit.Core.Workloads;

/// <summary>
/// The places where a pod reads a ConfigMap or a Secret by name, and renaming them. One definition serves the transient
/// runs (only the run's Job sees its ConfigMap) and the content-hashed config rollouts (workloads follow the newest
/// version), so both rewrite the same paths.
/// </summary>
public static class PodSpecReferences
{
    /// <summary>Every container a pod runs: containers, initContainers and ephemeralContainers (which read env and envFrom too).</summary>
    private static IEnumerable<(IList<V1EnvVar>? Env, IList<V1EnvFromSource>? EnvFrom)> ContainerEnvironments(V1PodSpec spec) =>
        (spec.Containers ?? []).Select(c => ((IList<V1EnvVar>?)c.Env, (IList<V1EnvFromSource>?)c.EnvFrom))
            .Concat((spec.InitContainers ?? []).Select(c => ((IList<V1EnvVar>?)c.Env, (IList<V1EnvFromSource>?)c.EnvFrom)))
            .Concat((spec.EphemeralContainers ?? []).Select(c => ((IList<V1EnvVar>?)c.Env, (IList<V1EnvFromSource>?)c.EnvFrom)));

    /// <summary>True when the pod reads ConfigMap <paramref name="name"/> anywhere (env, envFrom, volumes, projected volumes).</summary>
    public static bool ReadsConfigMap(V1PodSpec spec, string name) => ConfigMapNameSlots(spec).Any(slot => slot.Get() == name);

    /// <summary>True when the pod reads Secret <paramref name="name"/> anywhere (env, envFrom, volumes, projected volumes, imagePullSecrets).</summary>
    public static bool ReadsSecret(V1PodSpec spec, string name) => SecretNameSlots(spec).Any(slot => slot.Get() == name);

    /// <summary>Points every reference to ConfigMap <paramref name="from"/> at <paramref name="to"/>; returns how many were rewritten.</summary>
    public static int RenameConfigMap(V1PodSpec spec, string from, string to) => Rename(ConfigMapNameSlots(spec), from, to);

    /// <summary>Points every reference to Secret <paramref name="from"/> at <paramref name="to"/>; returns how many were rewritten.</summary>
    public static int RenameSecret(V1PodSpec spec, string from, string to) => Rename(SecretNameSlots(spec), from, to);

    private static int Rename(IEnumerable<NameSlot> slots, string from, string to)
    {
        var renamed = 0;
        foreach (var slot in slots.Where(s => s.Get() == from).ToList())
        {
            slot.Set(to);
            renamed++;
        }
        return renamed;
    }

    private sealed record NameSlot(Func<string?> Get, Action<string> Set);

    private static IEnumerable<NameSlot> ConfigMapNameSlots(V1PodSpec spec)
    {
        foreach (var (env, envFrom) in ContainerEnvironments(spec))
        {
            foreach (var selector in (env ?? []).Select(e => e.ValueFrom?.ConfigMapKeyRef).OfType<V1ConfigMapKeySelector>())
            {
                yield return new NameSlot(() => selector.Name, n => selector.Name = n);
            }
            foreach (var source in (envFrom ?? []).Select(e => e.ConfigMapRef).OfType<V1ConfigMapEnvSource>())
            {
                yield return new NameSlot(() => source.Name, n => source.Name = n);
            }
        }
        foreach (var volume in spec.Volumes ?? [])
        {
            if (volume.ConfigMap is { } configMap)
            {
                yield return new NameSlot(() => configMap.Name, n => configMap.Name = n);
            }
            foreach (var projection in (volume.Projected?.Sources ?? []).Select(s => s.ConfigMap).OfType<V1ConfigMapProjection>())
            {
                yield return new NameSlot(() => projection.Name, n => projection.Name = n);
            }
        }
    }

    private static IEnumerable<NameSlot> SecretNameSlots(V1PodSpec spec)
    {
        foreach (var (env, envFrom) in ContainerEnvironments(spec))
        {
            foreach (var selector in (env ?? []).Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>())
            {
                yield return new NameSlot(() => selector.Name, n => selector.Name = n);
            }
            foreach (var source in (envFrom ?? []).Select(e => e.SecretRef).OfType<V1SecretEnvSource>())
            {
                yield return new NameSlot(() => source.Name, n => source.Name = n);
            }
        }
        foreach (var volume in spec.Volumes ?? [])
        {
            if (volume.Secret is { } secret)
            {
                yield return new NameSlot(() => secret.SecretName, n => secret.SecretName = n);
            }
            foreach (var projection in (volume.Projected?.Sources ?? []).Select(s => s.Secret).OfType<V1SecretProjection>())
            {
                yield return new NameSlot(() => projection.Name, n => projection.Name = n);
            }
        }
        foreach (var pullSecret in spec.ImagePullSecrets ?? [])
        {
            yield return new NameSlot(() => pullSecret.Name, n => pullSecret.Name = n);
        }
    }
}
