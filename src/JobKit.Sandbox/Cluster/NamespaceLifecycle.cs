using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Cluster;

/// <summary>
/// What kube-controller-manager does for namespaces: a terminating namespace's contents are deleted, then its
/// `kubernetes` finalizer is removed so the namespace goes (pkg/controller/namespace); every active namespace has
/// the `default` ServiceAccount (serviceaccount-controller) and the `kube-root-ca.crt` ConfigMap
/// (root-ca-certificate-publisher), recreated if deleted.
/// </summary>
internal sealed class NamespaceLifecycle(ApiService api, string rootCaPem, ILogger logger)
{
    private const string RootCaName = "kube-root-ca.crt";
    private const string RootCaDescription = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Deleting a namespace's content can wait on pods' grace periods; re-check terminating namespaces regularly.
        var sweep = SweepAsync(cancellationToken);
        await StoreObject.ConsumeAsync(api.Store.Watch(null, null, _ => true, null), Handle, e => logger.LogWarning(e, "namespace lifecycle"), cancellationToken).ConfigureAwait(false);
        await sweep.ConfigureAwait(false);
    }

    /// <summary>Creates what every namespace holds; called for namespaces created at bootstrap, before watches run.</summary>
    public void EnsureDefaults(string ns)
    {
        if (api.Store.Get(ResourceTypes.ServiceAccount, ns, "default") is null)
        {
            TryCreate(ResourceTypes.ServiceAccount, ns, new JsonObject { ["metadata"] = new JsonObject { ["name"] = "default" } });
        }
        if (api.Store.Get(ResourceTypes.ConfigMap, ns, RootCaName) is null)
        {
            TryCreate(ResourceTypes.ConfigMap, ns, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = RootCaName,
                    ["annotations"] = new JsonObject { ["kubernetes.io/description"] = RootCaDescription },
                },
                ["data"] = new JsonObject { ["ca.crt"] = rootCaPem },
            });
        }
    }

    private void TryCreate(ResourceType type, string ns, JsonObject body)
    {
        try
        {
            api.Create(type, ns, body);
        }
        catch (ApiException e) when (e.Code is 409 or 403 or 404)
        {
        }
    }

    private void Handle(StoreEvent e)
    {
        if (e.Resource == ResourceTypes.Namespace)
        {
            if (e.Type == "DELETED")
            {
                return;
            }
            if (StoreObject.IsDeleting(e.Object))
            {
                Finalize(StoreObject.Name(e.Object));
            }
            else
            {
                EnsureDefaults(StoreObject.Name(e.Object));
            }
            return;
        }
        if (e.Type == "DELETED" && StoreObject.Namespace(e.Object) is { } ns)
        {
            var owningNamespace = api.Store.Get(ResourceTypes.Namespace, null, ns);
            if (owningNamespace is null)
            {
                return;
            }
            if (StoreObject.IsDeleting(owningNamespace))
            {
                Finalize(ns);
            }
            else if ((e.Resource == ResourceTypes.ServiceAccount && StoreObject.Name(e.Object) == "default")
                || (e.Resource == ResourceTypes.ConfigMap && StoreObject.Name(e.Object) == RootCaName))
            {
                EnsureDefaults(ns);
            }
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var ns in api.Store.List(ResourceTypes.Namespace, null).Items.Where(StoreObject.IsDeleting))
                {
                    try
                    {
                        Finalize(StoreObject.Name(ns));
                    }
                    catch (Exception e)
                    {
                        logger.LogWarning(e, "finalizing namespace {Namespace}", StoreObject.Name(ns));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Deletes what is left in a terminating namespace; once it is empty, lets the namespace go.</summary>
    private void Finalize(string ns)
    {
        var remaining = 0;
        foreach (var type in ResourceTypes.All.Where(t => t.Namespaced))
        {
            foreach (var obj in api.Store.List(type, ns).Items)
            {
                remaining++;
                if (!StoreObject.IsDeleting(obj))
                {
                    try
                    {
                        api.Delete(type, ns, StoreObject.Name(obj), new DeleteOptions("Background", PreconditionUid: StoreObject.Uid(obj)));
                    }
                    catch (ApiException e) when (e.Code is 404 or 409)
                    {
                    }
                }
            }
        }
        if (remaining > 0)
        {
            return;
        }
        try
        {
            api.Modify(ResourceTypes.Namespace, null, ns, copy =>
            {
                var spec = copy["spec"] as JsonObject ?? [];
                copy["spec"] = spec;
                var finalizers = (spec["finalizers"] as JsonArray ?? []).Select(f => f!.GetValue<string>()).Where(f => f != "kubernetes").ToArray();
                spec["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)JsonValue.Create(f)).ToArray());
            }, "finalize");
        }
        catch (ApiException e) when (e.Code == 404)
        {
        }
    }
}
