using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Cluster;

/// <summary>
/// Binds pending pods to a Ready, schedulable node, and reports PodScheduled=False/Unschedulable when none
/// is, as kube-scheduler's default profile does for pods without constraints.
/// </summary>
internal sealed class Scheduler(ApiService api, ILogger logger)
{
    private int nextNode;

    public Task RunAsync(CancellationToken cancellationToken) =>
        StoreObject.ConsumeAsync(api.Store.Watch(null, null, o => o["kind"]?.GetValue<string>() is "Pod" or "Node", null), Handle, e => logger.LogWarning(e, "scheduler"), cancellationToken);

    private void Handle(StoreEvent e)
    {
        if (e.Type == "DELETED")
        {
            return;
        }
        if (e.Resource == ResourceTypes.Node)
        {
            foreach (var pod in api.Store.List(ResourceTypes.Pod, null).Items.Where(NeedsScheduling))
            {
                Schedule(pod);
            }
        }
        else if (e.Resource == ResourceTypes.Pod && e.Type == "ADDED" && NeedsScheduling(e.Object))
        {
            // Like kube-scheduler, a pod is tried when it arrives and again when nodes change, not on its own updates.
            Schedule(e.Object);
        }
    }

    private static bool NeedsScheduling(JsonObject pod) =>
        string.IsNullOrEmpty(pod["spec"]?["nodeName"]?.GetValue<string>())
        && (pod["spec"]?["schedulerName"]?.GetValue<string>() ?? "default-scheduler") == "default-scheduler"
        && !StoreObject.IsDeleting(pod)
        && pod["status"]?["phase"]?.GetValue<string>() is null or "Pending";

    private void Schedule(JsonObject pod)
    {
        var nodes = api.Store.List(ResourceTypes.Node, null).Items;
        var ready = nodes.Where(IsSchedulable).Where(n => Fits(pod, n)).ToList();
        var ns = StoreObject.Namespace(pod)!;
        var name = StoreObject.Name(pod);
        if (ready.Count == 0)
        {
            var message = $"0/{nodes.Count} nodes are available: " + (nodes.Count == 0 ? "no nodes available to schedule pods." : $"{nodes.Count} node(s) were unschedulable or not ready.");
            api.Modify(ResourceTypes.Pod, ns, name, copy => ApiService.SetCondition(copy, new JsonObject
            {
                ["type"] = "PodScheduled",
                ["status"] = "False",
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = api.Now(),
                ["reason"] = "Unschedulable",
                ["message"] = message,
            }), "status");
            return;
        }
        var node = ready[nextNode++ % ready.Count];
        api.Bind(ns, name, StoreObject.Name(node), StoreObject.Uid(pod));
    }

    private static bool IsSchedulable(JsonObject node) =>
        node["spec"]?["unschedulable"]?.GetValue<bool>() != true
        && (node["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True");

    /// <summary>nodeName-free constraints the sandbox honours: nodeSelector, and NoSchedule/NoExecute taints the pod must tolerate.</summary>
    private static bool Fits(JsonObject pod, JsonObject node)
    {
        if (pod["spec"]?["nodeSelector"] is JsonObject selector)
        {
            var labels = LabelSelector.Labels(node);
            if (selector.Any(kv => !labels.TryGetValue(kv.Key, out var v) || v != kv.Value?.GetValue<string>()))
            {
                return false;
            }
        }
        // The one node affinity the sandbox honours: a DaemonSet pod's matchFields metadata.name In [node].
        var terms = pod["spec"]?["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"] as JsonArray ?? [];
        var nameTerms = terms.OfType<JsonObject>().SelectMany(t => t["matchFields"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(f => f["key"]?.GetValue<string>() == "metadata.name" && f["operator"]?.GetValue<string>() == "In").ToList();
        if (nameTerms.Count > 0 && !nameTerms.Any(f => (f["values"] as JsonArray ?? []).Any(v => v?.GetValue<string>() == StoreObject.Name(node))))
        {
            return false;
        }
        var tolerations = (pod["spec"]?["tolerations"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        foreach (var taint in (node["spec"]?["taints"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var effect = taint["effect"]?.GetValue<string>();
            if (effect is not ("NoSchedule" or "NoExecute"))
            {
                continue;
            }
            var key = taint["key"]?.GetValue<string>();
            var value = taint["value"]?.GetValue<string>();
            var tolerated = tolerations.Any(t =>
                (t["effect"]?.GetValue<string>() is null or "" || t["effect"]!.GetValue<string>() == effect)
                && (t["operator"]?.GetValue<string>() == "Exists"
                    ? t["key"]?.GetValue<string>() is null or "" || t["key"]!.GetValue<string>() == key
                    : t["key"]?.GetValue<string>() == key && (t["value"]?.GetValue<string>() ?? "") == (value ?? "")));
            if (!tolerated)
            {
                return false;
            }
        }
        return true;
    }
}
