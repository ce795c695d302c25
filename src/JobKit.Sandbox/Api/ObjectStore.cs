using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace JobKit.Sandbox.Api;

/// <summary>One change, as a watch delivers it. <see cref="Object"/> carries the change's resourceVersion.</summary>
public sealed record StoreEvent(string Type, ResourceType Resource, JsonObject Object, JsonObject? Previous, long ResourceVersion);

/// <summary>
/// The sandbox's etcd and watch cache in one: objects keyed by resource, namespace and name, a single
/// monotonically increasing resourceVersion, and a bounded log of recent changes from which watches resume.
/// A watch from a resourceVersion the log no longer holds fails with 410 Gone, as from the real watch cache.
/// Stored objects are never mutated: every write stores a fresh copy, so readers share them without locks.
/// </summary>
public sealed class ObjectStore
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, SortedDictionary<string, JsonObject>> objects = [];
    private readonly Queue<StoreEvent> log = new();
    private readonly List<Watcher> watchers = [];
    private readonly int logCapacity;
    private long resourceVersion;
    private long oldestWatchableVersion;

    public ObjectStore(int logCapacity = 20_000)
    {
        this.logCapacity = logCapacity;
    }

    public long CurrentResourceVersion
    {
        get
        {
            lock (gate)
            {
                return resourceVersion;
            }
        }
    }

    /// <summary>Changes up to now are not replayable (like a watch cache that starts after them); used after bootstrap.</summary>
    public void ForgetHistory()
    {
        lock (gate)
        {
            log.Clear();
            oldestWatchableVersion = resourceVersion;
        }
    }

    public int Count
    {
        get
        {
            lock (gate)
            {
                return objects.Values.Sum(o => o.Count);
            }
        }
    }

    public static string ObjectKey(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}";

    public JsonObject? Get(ResourceType type, string? ns, string name)
    {
        lock (gate)
        {
            return Bucket(type).GetValueOrDefault(ObjectKey(ns, name));
        }
    }

    /// <summary>Objects of a type (in a namespace, or all), in key order, with the resourceVersion of the snapshot.</summary>
    public (List<JsonObject> Items, long ResourceVersion) List(ResourceType type, string? ns)
    {
        lock (gate)
        {
            var bucket = Bucket(type);
            IEnumerable<JsonObject> items = bucket.Values;
            if (!string.IsNullOrEmpty(ns))
            {
                var prefix = ns + "/";
                items = bucket.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(kv => kv.Value);
            }
            return (items.ToList(), resourceVersion);
        }
    }

    /// <summary>
    /// Reads, decides and writes one object atomically. <paramref name="decide"/> sees the current object (or null)
    /// and returns the object to store (a new instance), null to delete, or the same instance to change nothing.
    /// It may throw <see cref="ApiException"/> to abort. Returns the stored object (with its new resourceVersion),
    /// or the deleted object.
    /// </summary>
    public JsonObject? Mutate(ResourceType type, string? ns, string name, Func<JsonObject?, JsonObject?> decide)
    {
        lock (gate)
        {
            var bucket = Bucket(type);
            var key = ObjectKey(ns, name);
            var current = bucket.GetValueOrDefault(key);
            var next = decide(current);
            if (ReferenceEquals(next, current))
            {
                return current;
            }
            var version = ++resourceVersion;
            var rv = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string eventType;
            JsonObject stored;
            if (next is null)
            {
                // A DELETED event carries the last state with the deletion's resourceVersion, as etcd reports it.
                bucket.Remove(key);
                stored = (JsonObject)current!.DeepClone();
                eventType = "DELETED";
            }
            else
            {
                bucket[key] = next;
                stored = next;
                eventType = current is null ? "ADDED" : "MODIFIED";
            }
            ((JsonObject)stored["metadata"]!)["resourceVersion"] = rv;
            Materialize(stored);
            Publish(new StoreEvent(eventType, type, stored, current, version));
            return stored;
        }
    }

    /// <summary>
    /// Starts a watch. With <paramref name="fromVersion"/> null, every current object arrives first as ADDED;
    /// otherwise every change after that version. Events arrive in resourceVersion order.
    /// </summary>
    public Watcher Watch(ResourceType? type, string? ns, Func<JsonObject, bool> filter, long? fromVersion)
    {
        lock (gate)
        {
            var watcher = new Watcher(this, type, ns, filter);
            if (fromVersion is { } from && from > 0)
            {
                if (from < oldestWatchableVersion)
                {
                    throw ApiException.Gone($"too old resource version: {from} ({oldestWatchableVersion})");
                }
                foreach (var e in log)
                {
                    if (e.ResourceVersion > from)
                    {
                        watcher.Offer(e);
                    }
                }
            }
            else
            {
                var types = type is null ? ResourceTypes.All : [type];
                foreach (var t in types)
                {
                    foreach (var (key, obj) in Bucket(t))
                    {
                        if (ns is null || key.StartsWith(ns + "/", StringComparison.Ordinal))
                        {
                            if (filter(obj))
                            {
                                watcher.Deliver(new StoreEvent("ADDED", t, obj, null, long.Parse(obj["metadata"]!["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)));
                            }
                        }
                    }
                }
            }
            watchers.Add(watcher);
            return watcher;
        }
    }

    /// <summary>
    /// Parsed JSON nodes build their children lazily on first access; forcing that now makes a stored object safe
    /// to read from many threads at once.
    /// </summary>
    private static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    Materialize(child);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Materialize(child);
                }
                break;
        }
    }

    private void Publish(StoreEvent e)
    {
        log.Enqueue(e);
        while (log.Count > logCapacity)
        {
            oldestWatchableVersion = log.Dequeue().ResourceVersion;
        }
        foreach (var watcher in watchers)
        {
            watcher.Offer(e);
        }
    }

    private void Remove(Watcher watcher)
    {
        lock (gate)
        {
            watchers.Remove(watcher);
        }
    }

    private SortedDictionary<string, JsonObject> Bucket(ResourceType type)
    {
        if (!objects.TryGetValue(type.Key, out var bucket))
        {
            bucket = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
            objects[type.Key] = bucket;
        }
        return bucket;
    }

    /// <summary>A stream of changes. An object that stops matching the filter arrives as DELETED, one that starts matching as ADDED, as from the real watch cache.</summary>
    public sealed class Watcher : IDisposable
    {
        private readonly ObjectStore store;
        private readonly ResourceType? type;
        private readonly string? ns;
        private readonly Func<JsonObject, bool> filter;
        private readonly Channel<StoreEvent> channel = Channel.CreateUnbounded<StoreEvent>(new UnboundedChannelOptions { SingleReader = true });

        internal Watcher(ObjectStore store, ResourceType? type, string? ns, Func<JsonObject, bool> filter)
        {
            this.store = store;
            this.type = type;
            this.ns = ns;
            this.filter = filter;
        }

        public ChannelReader<StoreEvent> Events => channel.Reader;

        internal void Deliver(StoreEvent e) => channel.Writer.TryWrite(e);

        internal void Offer(StoreEvent e)
        {
            if (type is not null && e.Resource != type)
            {
                return;
            }
            if (ns is not null && e.Object["metadata"]?["namespace"]?.GetValue<string>() != ns)
            {
                return;
            }
            var now = e.Type != "DELETED" && filter(e.Object);
            var before = e.Previous is not null && filter(e.Previous);
            if (e.Type == "DELETED")
            {
                if (before)
                {
                    Deliver(e);
                }
            }
            else if (now && before)
            {
                Deliver(e);
            }
            else if (now)
            {
                Deliver(e with { Type = "ADDED" });
            }
            else if (before)
            {
                Deliver(e with { Type = "DELETED" });
            }
        }

        public void Dispose()
        {
            store.Remove(this);
            channel.Writer.TryComplete();
        }
    }
}
