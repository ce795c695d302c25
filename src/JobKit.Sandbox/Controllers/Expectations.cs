namespace JobKit.Sandbox.Controllers;

/// <summary>
/// pkg/controller's ControllerExpectations: how many pod creations/deletions a controller issued for a key and
/// has not yet seen in its informer. A key is satisfied when both counts reached zero, when nothing is
/// recorded, or when the record is older than 5 minutes (ExpectationsTimeout).
/// </summary>
internal sealed class ControllerExpectations
{
    internal static readonly TimeSpan ExpectationsTimeout = TimeSpan.FromMinutes(5);

    private readonly object gate = new();
    private readonly Dictionary<string, (int Add, int Del, DateTimeOffset Timestamp)> records = [];
    private readonly TimeProvider time;

    public ControllerExpectations(TimeProvider time) => this.time = time;

    public bool Satisfied(string key)
    {
        lock (gate)
        {
            if (!records.TryGetValue(key, out var r))
            {
                return true;
            }
            return (r.Add <= 0 && r.Del <= 0) || time.GetUtcNow() - r.Timestamp > ExpectationsTimeout;
        }
    }

    public void ExpectCreations(string key, int adds) => Set(key, adds, 0);

    public void ExpectDeletions(string key, int dels) => Set(key, 0, dels);

    private void Set(string key, int adds, int dels)
    {
        lock (gate)
        {
            records[key] = (adds, dels, time.GetUtcNow());
        }
    }

    public void CreationObserved(string key) => Lower(key, 1, 0);

    public void DeletionObserved(string key) => Lower(key, 0, 1);

    private void Lower(string key, int adds, int dels)
    {
        lock (gate)
        {
            if (records.TryGetValue(key, out var r))
            {
                records[key] = (r.Add - adds, r.Del - dels, r.Timestamp);
            }
        }
    }

    public void Delete(string key)
    {
        lock (gate)
        {
            records.Remove(key);
        }
    }
}

/// <summary>
/// The Job controller's uidTrackingExpectations: the UIDs of pods whose tracking finalizer the controller is
/// removing and whose update it has not yet observed. Such pods are not counted again.
/// </summary>
internal sealed class FinalizerExpectations
{
    private readonly object gate = new();
    private readonly Dictionary<string, HashSet<string>> records = [];

    public IReadOnlySet<string> ExpectedUids(string key)
    {
        lock (gate)
        {
            return records.TryGetValue(key, out var set) ? new HashSet<string>(set) : new HashSet<string>();
        }
    }

    public void ExpectRemoved(string key, IEnumerable<string> uids)
    {
        lock (gate)
        {
            if (!records.TryGetValue(key, out var set))
            {
                records[key] = set = [];
            }
            set.UnionWith(uids);
        }
    }

    public void Observed(string key, string uid)
    {
        lock (gate)
        {
            if (records.TryGetValue(key, out var set) && set.Remove(uid) && set.Count == 0)
            {
                records.Remove(key);
            }
        }
    }

    public void Delete(string key)
    {
        lock (gate)
        {
            records.Remove(key);
        }
    }
}
