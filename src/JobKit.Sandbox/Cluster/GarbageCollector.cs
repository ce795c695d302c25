using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Cluster;

/// <summary>
/// Deletes objects whose owners are gone and runs the orphan and foregroundDeletion finalizers, as
/// kube-controller-manager's garbage collector does (pkg/controller/garbagecollector), with the ownerReference
/// graph kept from a watch on every kind.
/// </summary>
internal sealed class GarbageCollector(ApiService api, ILogger logger)
{
    private sealed record Identity(ResourceType Type, string? Namespace, string Name);

    private readonly Dictionary<string, Identity> byUid = [];
    private readonly Dictionary<string, HashSet<string>> dependentsByOwner = [];
    private readonly Dictionary<string, string[]> ownersByDependent = [];

    public Task RunAsync(CancellationToken cancellationToken) =>
        StoreObject.ConsumeAsync(api.Store.Watch(null, null, _ => true, null), Handle, e => logger.LogWarning(e, "garbage collector"), cancellationToken);

    private void Handle(StoreEvent e)
    {
        var obj = e.Object;
        var uid = StoreObject.Uid(obj);
        if (e.Type == "DELETED")
        {
            byUid.Remove(uid);
            Index(uid, []);
            if (dependentsByOwner.TryGetValue(uid, out var dependents))
            {
                foreach (var dependent in dependents.ToList())
                {
                    AttemptToDelete(dependent);
                }
            }
            foreach (var owner in StoreObject.OwnerReferences(obj).Select(o => o["uid"]?.GetValue<string>()).OfType<string>())
            {
                FinishForegroundIfDone(owner);
            }
            return;
        }
        byUid[uid] = new Identity(e.Resource, StoreObject.Namespace(obj), StoreObject.Name(obj));
        var owners = StoreObject.OwnerReferences(obj).Select(o => o["uid"]?.GetValue<string>()).OfType<string>().ToArray();
        Index(uid, owners);
        if (StoreObject.OwnerReferences(obj).Any(r => !OwnerExists(r, StoreObject.Namespace(obj))))
        {
            AttemptToDelete(uid);
        }
        if (StoreObject.IsDeleting(obj))
        {
            var finalizers = StoreObject.Finalizers(obj);
            if (finalizers.Contains("orphan"))
            {
                Orphan(uid, e.Resource, obj);
            }
            if (finalizers.Contains("foregroundDeletion"))
            {
                DeleteDependentsInForeground(uid);
                FinishForegroundIfDone(uid);
            }
        }
    }

    private void Index(string uid, string[] owners)
    {
        if (ownersByDependent.TryGetValue(uid, out var previous))
        {
            foreach (var owner in previous)
            {
                if (dependentsByOwner.TryGetValue(owner, out var set))
                {
                    set.Remove(uid);
                    if (set.Count == 0)
                    {
                        dependentsByOwner.Remove(owner);
                    }
                }
            }
        }
        if (owners.Length == 0)
        {
            ownersByDependent.Remove(uid);
            return;
        }
        ownersByDependent[uid] = owners;
        foreach (var owner in owners)
        {
            if (!dependentsByOwner.TryGetValue(owner, out var set))
            {
                set = [];
                dependentsByOwner[owner] = set;
            }
            set.Add(uid);
        }
    }

    /// <summary>A dependent goes when none of its owners exists; dangling references beside a live owner are removed.</summary>
    private void AttemptToDelete(string dependentUid)
    {
        if (!byUid.TryGetValue(dependentUid, out var dependent))
        {
            return;
        }
        var obj = api.Store.Get(dependent.Type, dependent.Namespace, dependent.Name);
        if (obj is null || StoreObject.Uid(obj) != dependentUid)
        {
            return;
        }
        var references = StoreObject.OwnerReferences(obj).ToList();
        var live = references.Where(r => OwnerExists(r, dependent.Namespace)).ToList();
        if (live.Count == 0)
        {
            if (!StoreObject.IsDeleting(obj))
            {
                logger.LogDebug("deleting {Kind} {Namespace}/{Name}: its owners are gone", dependent.Type.Kind, dependent.Namespace, dependent.Name);
                api.Delete(dependent.Type, dependent.Namespace, dependent.Name, new DeleteOptions("Background", PreconditionUid: dependentUid));
            }
            return;
        }
        if (live.Count < references.Count)
        {
            api.Modify(dependent.Type, dependent.Namespace, dependent.Name, copy => copy["metadata"]!["ownerReferences"] = new JsonArray(live.Select(r => r.DeepClone()).ToArray()));
        }
    }

    /// <summary>
    /// Looks the owner up by kind, name and uid, as the real collector verifies an owner against the API rather than
    /// its graph; an owner of a kind the sandbox does not serve is presumed alive.
    /// </summary>
    private bool OwnerExists(JsonObject reference, string? dependentNamespace)
    {
        var type = ResourceTypes.FindByKind(reference["apiVersion"]?.GetValue<string>() ?? "", reference["kind"]?.GetValue<string>() ?? "");
        if (type is null)
        {
            return true;
        }
        var owner = api.Store.Get(type, type.Namespaced ? dependentNamespace : null, reference["name"]?.GetValue<string>() ?? "");
        return owner is not null && StoreObject.Uid(owner) == reference["uid"]?.GetValue<string>();
    }

    private void Orphan(string ownerUid, ResourceType type, JsonObject owner)
    {
        foreach (var dependentUid in dependentsByOwner.GetValueOrDefault(ownerUid)?.ToList() ?? [])
        {
            if (byUid.TryGetValue(dependentUid, out var dependent))
            {
                api.Modify(dependent.Type, dependent.Namespace, dependent.Name, copy =>
                {
                    var remaining = StoreObject.OwnerReferences(copy).Where(r => r["uid"]?.GetValue<string>() != ownerUid).Select(r => r.DeepClone()).ToArray();
                    if (remaining.Length == 0)
                    {
                        ((JsonObject)copy["metadata"]!).Remove("ownerReferences");
                    }
                    else
                    {
                        copy["metadata"]!["ownerReferences"] = new JsonArray(remaining);
                    }
                });
            }
        }
        api.Modify(type, StoreObject.Namespace(owner), StoreObject.Name(owner), copy => StoreObject.RemoveFinalizer(copy, "orphan"));
    }

    private void DeleteDependentsInForeground(string ownerUid)
    {
        foreach (var dependentUid in dependentsByOwner.GetValueOrDefault(ownerUid)?.ToList() ?? [])
        {
            if (byUid.TryGetValue(dependentUid, out var dependent) && api.Store.Get(dependent.Type, dependent.Namespace, dependent.Name) is { } obj && !StoreObject.IsDeleting(obj))
            {
                var blocking = StoreObject.OwnerReferences(obj).Any(r => r["uid"]?.GetValue<string>() == ownerUid && r["blockOwnerDeletion"]?.GetValue<bool>() == true);
                api.Delete(dependent.Type, dependent.Namespace, dependent.Name, new DeleteOptions(blocking ? "Foreground" : "Background", PreconditionUid: dependentUid));
            }
        }
    }

    /// <summary>The owner in foreground deletion goes once no dependent that blocks it remains.</summary>
    private void FinishForegroundIfDone(string ownerUid)
    {
        if (!byUid.TryGetValue(ownerUid, out var owner))
        {
            return;
        }
        var obj = api.Store.Get(owner.Type, owner.Namespace, owner.Name);
        if (obj is null || !StoreObject.IsDeleting(obj) || !StoreObject.Finalizers(obj).Contains("foregroundDeletion"))
        {
            return;
        }
        var blocked = (dependentsByOwner.GetValueOrDefault(ownerUid) ?? []).Any(d =>
            byUid.TryGetValue(d, out var dependent)
            && api.Store.Get(dependent.Type, dependent.Namespace, dependent.Name) is { } depObj
            && StoreObject.OwnerReferences(depObj).Any(r => r["uid"]?.GetValue<string>() == ownerUid && r["blockOwnerDeletion"]?.GetValue<bool>() == true));
        if (!blocked)
        {
            api.Modify(owner.Type, owner.Namespace, owner.Name, copy => StoreObject.RemoveFinalizer(copy, "foregroundDeletion"));
        }
    }
}
