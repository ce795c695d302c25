using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;

namespace JobKit.Sandbox.Cluster;

/// <summary>Shorthands for reading a stored object's metadata, shared by the in-process cluster services.</summary>
internal static class StoreObject
{
    public static string Name(JsonObject obj) => obj["metadata"]!["name"]!.GetValue<string>();

    public static string? Namespace(JsonObject obj) => obj["metadata"]?["namespace"]?.GetValue<string>();

    public static string Uid(JsonObject obj) => obj["metadata"]!["uid"]!.GetValue<string>();

    public static bool IsDeleting(JsonObject obj) => obj["metadata"]?["deletionTimestamp"] is not null;

    public static List<string> Finalizers(JsonObject obj) =>
        (obj["metadata"]?["finalizers"] as JsonArray)?.Select(f => f!.GetValue<string>()).ToList() ?? [];

    public static IEnumerable<JsonObject> OwnerReferences(JsonObject obj) =>
        (obj["metadata"]?["ownerReferences"] as JsonArray ?? []).OfType<JsonObject>();

    public static void RemoveFinalizer(JsonObject obj, string finalizer)
    {
        var remaining = Finalizers(obj).Where(f => f != finalizer).ToList();
        var metadata = (JsonObject)obj["metadata"]!;
        if (remaining.Count == 0)
        {
            metadata.Remove("finalizers");
        }
        else
        {
            metadata["finalizers"] = new JsonArray(remaining.Select(f => (JsonNode)JsonValue.Create(f)).ToArray());
        }
    }

    /// <summary>Runs <paramref name="handle"/> for every event of a store watch until cancelled; a failing event is logged and skipped.</summary>
    public static async Task ConsumeAsync(ObjectStore.Watcher watcher, Action<StoreEvent> handle, Action<Exception> onError, CancellationToken cancellationToken)
    {
        using (watcher)
        {
            try
            {
                await foreach (var e in watcher.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    try
                    {
                        handle(e);
                    }
                    catch (ApiException ex) when (ex.Code is 404 or 409)
                    {
                        // The object changed under us; a later event brings it back if there is still work.
                    }
                    catch (Exception ex)
                    {
                        onError(ex);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
