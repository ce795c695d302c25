using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Cluster;

/// <summary>
/// Keeps the <c>node.kubernetes.io/not-ready:NoSchedule</c> taint in step with a Node's Ready condition, as
/// kube-controller-manager's node lifecycle controller does: TaintNodesByCondition admission puts it on every new
/// Node, and it comes off once the kubelet reports Ready=True, so that pods are scheduled there.
/// </summary>
internal sealed class NodeLifecycle(ApiService api, ILogger logger)
{
    private const string NotReadyTaint = "node.kubernetes.io/not-ready";

    public Task RunAsync(CancellationToken cancellationToken) =>
        StoreObject.ConsumeAsync(api.Store.Watch(ResourceTypes.Node, null, _ => true, null), Handle, e => logger.LogWarning(e, "node lifecycle"), cancellationToken);

    private void Handle(StoreEvent e)
    {
        if (e.Type == "DELETED")
        {
            return;
        }
        var ready = (e.Object["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True");
        var tainted = Taints(e.Object).Any(IsNotReadyTaint);
        if (ready == tainted)
        {
            api.Modify(ResourceTypes.Node, null, StoreObject.Name(e.Object), copy =>
            {
                var taints = Taints(copy).Where(t => !IsNotReadyTaint(t)).Select(t => t.DeepClone()).ToList();
                if (!ready)
                {
                    taints.Add(new JsonObject { ["key"] = NotReadyTaint, ["effect"] = "NoSchedule", ["timeAdded"] = api.Now() });
                }
                var spec = copy["spec"] as JsonObject ?? [];
                copy["spec"] = spec;
                if (taints.Count == 0)
                {
                    spec.Remove("taints");
                }
                else
                {
                    spec["taints"] = new JsonArray(taints.ToArray());
                }
            });
        }
    }

    private static IEnumerable<JsonObject> Taints(JsonObject node) => (node["spec"]?["taints"] as JsonArray ?? []).OfType<JsonObject>();

    private static bool IsNotReadyTaint(JsonObject taint) =>
        taint["key"]?.GetValue<string>() == NotReadyTaint && taint["effect"]?.GetValue<string>() == "NoSchedule";
}
