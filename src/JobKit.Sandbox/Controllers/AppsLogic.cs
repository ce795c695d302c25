using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace JobKit.Sandbox.Controllers;

/// <summary>What the apps/v1 controllers share (pkg/controller, pkg/api/v1/pod, k8s.io/apimachinery labels).</summary>
internal static class AppsLogic
{
    public const string PodTemplateHashLabel = "pod-template-hash";

    /// <summary>k8s.io/apimachinery/pkg/util/rand's alphabet: no vowels, no confusable characters.</summary>
    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static V1OwnerReference? ControllerOf(V1ObjectMeta meta) => meta.OwnerReferences?.FirstOrDefault(o => o.Controller == true);

    public static V1OwnerReference ControllerRef(IKubernetesObject<V1ObjectMeta> owner, string apiVersion, string kind) => new()
    {
        ApiVersion = apiVersion,
        Kind = kind,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    /// <summary>metav1.LabelSelectorAsSelector(selector).Matches(labels): a nil selector matches nothing, an empty one everything.</summary>
    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        if (selector is null)
        {
            return false;
        }
        labels ??= new Dictionary<string, string>();
        foreach (var (k, v) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(k, out var actual) || actual != v)
            {
                return false;
            }
        }
        foreach (var r in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(r.Key, out var value);
            var values = r.Values ?? [];
            var ok = r.OperatorProperty switch
            {
                "In" => has && values.Contains(value!),
                "NotIn" => !has || !values.Contains(value!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>controller.IsPodActive: not finished and not being deleted.</summary>
    public static bool IsActive(V1Pod pod) =>
        pod.Status?.Phase is not ("Succeeded" or "Failed") && pod.Metadata.DeletionTimestamp is null;

    public static bool IsReady(V1Pod pod) =>
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>podutil.IsPodAvailable: Ready for at least minReadySeconds.</summary>
    public static bool IsAvailable(V1Pod pod, int minReadySeconds, DateTimeOffset now)
    {
        var ready = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready" && c.Status == "True");
        if (ready is null)
        {
            return false;
        }
        if (minReadySeconds == 0)
        {
            return true;
        }
        return ready.LastTransitionTime is { } t && new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).AddSeconds(minReadySeconds) < now;
    }

    /// <summary>The pod a workload creates from its template (controller.GetPodFromTemplate).</summary>
    public static V1Pod PodFromTemplate(V1PodTemplateSpec template, IKubernetesObject<V1ObjectMeta> owner, V1OwnerReference controllerRef, string? generateName = null, string? name = null)
    {
        var copy = JobLogic.DeepCopy(template);
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                GenerateName = name is null ? generateName ?? owner.Metadata.Name + "-" : null,
                NamespaceProperty = owner.Metadata.NamespaceProperty,
                Labels = copy.Metadata?.Labels,
                Annotations = copy.Metadata?.Annotations,
                Finalizers = copy.Metadata?.Finalizers,
                OwnerReferences = [controllerRef],
            },
            Spec = copy.Spec,
        };
    }

    /// <summary>An object as canonical JSON: keys sorted, so maps compare as Go's DeepEqual compares them.</summary>
    public static JsonNode? Canonical(object? value) => Sort(JsonNode.Parse(KubernetesJson.Serialize(value)));

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value?.DeepClone())))),
        JsonArray a => new JsonArray(a.Select(x => Sort(x?.DeepClone())).ToArray()),
        _ => node?.DeepClone(),
    };

    /// <summary>A pod template without the pod-template-hash label, canonical (deploymentutil.EqualIgnoreHash compares these).</summary>
    public static JsonNode? TemplateIgnoringHash(V1PodTemplateSpec? template)
    {
        var node = Canonical(template);
        if (node?["metadata"]?["labels"] is JsonObject labels)
        {
            labels.Remove(PodTemplateHashLabel);
            if (labels.Count == 0)
            {
                ((JsonObject)node["metadata"]!).Remove("labels");
            }
        }
        return node;
    }

    public static bool EqualIgnoreHash(V1PodTemplateSpec? a, V1PodTemplateSpec? b) => JsonNode.DeepEquals(TemplateIgnoringHash(a), TemplateIgnoringHash(b));

    /// <summary>
    /// controller.ComputeHash's shape: FNV-1a (32 bit) of the template and the collision count, its decimal digits
    /// encoded with the safe alphabet. Go hashes a spew dump, this hashes canonical JSON: stable, template-sensitive.
    /// </summary>
    public static string ComputeHash(V1PodTemplateSpec template, int? collisionCount)
    {
        var text = TemplateIgnoringHash(template)!.ToJsonString();
        if (collisionCount is { } c)
        {
            text += c.ToString(CultureInfo.InvariantCulture);
        }
        var hash = 2166136261u;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619u;
        }
        return new string(hash.ToString(CultureInfo.InvariantCulture).Select(ch => SafeAlphabet[ch % SafeAlphabet.Length]).ToArray());
    }

    /// <summary>intstr.GetScaledValueFromIntOrPercent.</summary>
    public static int Scaled(IntOrString? value, int total, bool roundUp)
    {
        var text = value?.Value;
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }
        if (text.EndsWith('%'))
        {
            var percent = int.Parse(text[..^1], CultureInfo.InvariantCulture);
            var scaled = percent * (double)total / 100;
            return (int)(roundUp ? Math.Ceiling(scaled) : Math.Floor(scaled));
        }
        return int.Parse(text, CultureInfo.InvariantCulture);
    }

    public static (string Ns, string Name) Split(string key)
    {
        var i = key.IndexOf('/', StringComparison.Ordinal);
        return i < 0 ? ("", key) : (key[..i], key[(i + 1)..]);
    }

    public static string Key(IKubernetesObject<V1ObjectMeta> o) => string.IsNullOrEmpty(o.Metadata.NamespaceProperty) ? o.Metadata.Name : $"{o.Metadata.NamespaceProperty}/{o.Metadata.Name}";

    public static DateTime CreationTime(IKubernetesObject<V1ObjectMeta> o) => o.Metadata.CreationTimestamp ?? DateTime.MinValue;
}

/// <summary>
/// pkg/controller's UIDTrackingControllerExpectations: creations counted, deletions tracked by pod UID so that a pod
/// seen terminating and then gone is observed once.
/// </summary>
internal sealed class UidTrackingExpectations(TimeProvider time)
{
    private readonly ControllerExpectations counts = new(time);
    private readonly Dictionary<string, HashSet<string>> deleting = [];

    public bool Satisfied(string key) => counts.Satisfied(key);

    public void ExpectCreations(string key, int adds) => counts.ExpectCreations(key, adds);

    public void CreationObserved(string key) => counts.CreationObserved(key);

    public void ExpectDeletions(string key, IEnumerable<string> uids)
    {
        var set = uids.ToHashSet();
        lock (deleting)
        {
            deleting[key] = set;
        }
        counts.ExpectDeletions(key, set.Count);
    }

    public void DeletionObserved(string key, string uid)
    {
        lock (deleting)
        {
            if (!deleting.TryGetValue(key, out var set) || !set.Remove(uid))
            {
                return;
            }
        }
        counts.DeletionObserved(key);
    }

    public void Delete(string key)
    {
        lock (deleting)
        {
            deleting.Remove(key);
        }
        counts.Delete(key);
    }
}
