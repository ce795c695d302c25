using System.Diagnostics;
using System.Net;
using System.Text.Json;
using JobKit.Core.Kube;
using JobKit.Core.Workloads;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Core.Config;

/// <summary>
/// A content-hashed configuration rollout: create <c>NAME-&lt;hash&gt;</c> (immutable, labelled), point the target
/// workloads' references to any earlier version of NAME at it, optionally follow their rollouts, then prune old versions
/// nothing reads any more. Everything is validated before anything changes.
/// </summary>
public sealed class ConfigRollout(IKubernetes client, IRolloutObserver observer)
{
    /// <summary>The annotation <c>kubectl rollout history</c> shows for each revision.</summary>
    public const string ChangeCauseAnnotation = "kubernetes.io/change-cause";

    private const int ConflictRetries = 5;
    private const int Concurrency = 8;

    /// <summary>Reads and checks every target; changes nothing.</summary>
    /// <exception cref="ConfigInputException">A target is missing, of a kind that cannot be rolled, or reads no version of NAME.</exception>
    public async Task<ConfigRolloutPlan> PlanAsync(ConfigRolloutRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var kind = request.Secret ? "secret" : "configmap";
        if (request.Keep < 0)
        {
            throw new ConfigInputException("--keep: must not be negative");
        }
        if (request.Targets.Count == 0)
        {
            throw new ConfigInputException("--to: name at least one workload (e.g. deployment/web)");
        }
        if (request.Data.IsEmpty)
        {
            throw new ConfigInputException("give the configuration's data with --from-literal, --from-file or --from-env-file");
        }
        var version = ConfigVersions.ForApply(request.Name, request.Namespace, request.Data, request.Secret, request.SecretType, request.Hash);
        var targets = request.Targets.Distinct().ToList();
        var job = targets.FirstOrDefault(t => t.Kind == WorkloadKind.Job);
        if (job is not null)
        {
            throw new ConfigInputException($"{job}: a Job's pod template is immutable, so it cannot be pointed at a new version (roll its CronJob instead, or recreate the Job)");
        }

        var reads = await WorkloadApi.ReadAllAsync(client, request.Namespace, targets, cancellationToken).ConfigureAwait(false);
        if (targets.Zip(reads).FirstOrDefault(pair => pair.Second is null) is { First: { } missing })
        {
            throw new ConfigInputException($"{missing}: not found in namespace \"{request.Namespace}\"");
        }

        var updates = new List<WorkloadUpdate>();
        for (var i = 0; i < targets.Count; i++)
        {
            var workload = reads[i]!;
            var readsNow = ReferencedVersions(workload, request.Name, request.Secret);
            if (readsNow.Count == 0)
            {
                throw new ConfigInputException($"{targets[i]} does not read {kind} {request.Name} (nor any {request.Name}-<hash> version of it)");
            }
            updates.Add(new WorkloadUpdate(targets[i], workload, readsNow));
        }
        return new ConfigRolloutPlan(request, version, updates);
    }

    /// <summary>The versions of <paramref name="name"/> (NAME or NAME-hash) the workload's pods read.</summary>
    public static IReadOnlyList<string> ReferencedVersions(object workload, string name, bool secret)
    {
        if (WorkloadPodSpec.Of(workload) is not { } spec)
        {
            return [];
        }
        // Candidates are the pod spec's strings that look like a version; PodSpecReferences decides which are references.
        var candidates = new SortedSet<string>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(KubernetesJson.Serialize(spec));
        Walk(document.RootElement, name, candidates);
        return candidates.Where(c => secret ? PodSpecReferences.ReadsSecret(spec, c) : PodSpecReferences.ReadsConfigMap(spec, c)).ToList();
    }

    private static void Walk(JsonElement element, string name, SortedSet<string> candidates)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Walk(property.Value, name, candidates);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, name, candidates);
                }
                break;
            case JsonValueKind.String when ConfigVersions.IsVersionOf(name, element.GetString()):
                candidates.Add(element.GetString()!);
                break;
        }
    }

    /// <summary>Creates the version, points the workloads at it, follows their rollouts with <see cref="ConfigRolloutOptions.Wait"/>, prunes.</summary>
    /// <exception cref="ConfigInputException">NAME-hash exists with other data (someone else's object).</exception>
    public async Task<ConfigRolloutResult> ExecuteAsync(ConfigRolloutPlan plan, ConfigRolloutOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var request = plan.Request;
        var serverDryRun = options.DryRun == "server" ? "All" : null;
        var suffix = options.DryRun switch { "client" => " (dry run)", "server" => " (server dry run)", _ => "" };
        var versionText = $"{plan.VersionResource}/{plan.VersionName}";

        var created = await CreateVersionAsync(plan, options.DryRun, cancellationToken).ConfigureAwait(false);
        observer.Result($"{versionText} {(created ? "created" : "unchanged")}{suffix}");

        var changed = new List<WorkloadReference>();
        using (var gate = new SemaphoreSlim(Concurrency))
        {
            var results = await Task.WhenAll(plan.Workloads.Select(async update =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var configured = await PointAtAsync(update, plan, options.DryRun, serverDryRun, cancellationToken).ConfigureAwait(false);
                    observer.Result($"{update.Workload.Display} {(configured ? "configured" : "unchanged")}{suffix}");
                    return configured ? update.Workload : null;
                }
                finally
                {
                    gate.Release();
                }
            })).ConfigureAwait(false);
            changed.AddRange(results.OfType<WorkloadReference>());
        }
        if (!created && changed.Count == 0)
        {
            observer.Progress($"no change: every workload already reads {versionText}");
        }

        IReadOnlyList<RolloutProgress> rollouts = [];
        if (options.Wait && options.DryRun is null)
        {
            var watched = plan.Workloads.Select(u => u.Workload).Where(w => w.HasRollout).ToList();
            rollouts = await WaitAsync(request.Namespace, watched, options.Timeout, cancellationToken).ConfigureAwait(false);
            var failed = rollouts.Where(r => r.State != RolloutState.Complete).ToList();
            if (failed.Count > 0)
            {
                var timedOut = failed.All(r => r.State == RolloutState.Progressing);
                foreach (var rollout in failed)
                {
                    observer.Warning($"{rollout.Workload.Display}: {(rollout.State == RolloutState.Progressing ? $"timed out: {rollout.Message}" : rollout.Message)}");
                    if (changed.Contains(rollout.Workload))
                    {
                        observer.Warning($"to return to the previous version: kubectl rollout undo {rollout.Workload} -n {request.Namespace}");
                    }
                }
                observer.Progress("nothing pruned: the previous versions stay while a rollout has not finished");
                return new ConfigRolloutResult(timedOut ? ConfigRolloutOutcome.TimedOut : ConfigRolloutOutcome.Failed, plan.VersionName, changed, rollouts, [], []);
            }
        }

        var (pruned, kept) = await PruneAsync(plan, options.DryRun, serverDryRun, suffix, cancellationToken).ConfigureAwait(false);
        var outcome = !created && changed.Count == 0 ? ConfigRolloutOutcome.Unchanged : ConfigRolloutOutcome.Succeeded;
        return new ConfigRolloutResult(outcome, plan.VersionName, changed, rollouts, pruned, kept);
    }

    /// <summary>Creates the version; false when it exists already with the same data (a 409 on an identical object is no news).</summary>
    private async Task<bool> CreateVersionAsync(ConfigRolloutPlan plan, string? dryRun, CancellationToken ct)
    {
        var ns = plan.Request.Namespace;
        if (dryRun == "client")
        {
            var existing = await TryReadVersionAsync(plan, ct).ConfigureAwait(false);
            CheckSame(plan, existing);
            return existing is null;
        }
        try
        {
            _ = plan.Version switch
            {
                V1ConfigMap c => (object)await client.CoreV1.CreateNamespacedConfigMapAsync(c, ns, dryRun: dryRun is null ? null : "All", cancellationToken: ct).ConfigureAwait(false),
                V1Secret s => await client.CoreV1.CreateNamespacedSecretAsync(s, ns, dryRun: dryRun is null ? null : "All", cancellationToken: ct).ConfigureAwait(false),
                _ => throw new InvalidOperationException("a version is a ConfigMap or a Secret"),
            };
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            CheckSame(plan, await TryReadVersionAsync(plan, ct).ConfigureAwait(false));
            return false;
        }
    }

    private static void CheckSame(ConfigRolloutPlan plan, IKubernetesObject<V1ObjectMeta>? existing)
    {
        if (existing is not null && !ConfigVersions.SameContent(existing, plan.Version))
        {
            throw new ConfigInputException($"{plan.VersionResource}/{plan.VersionName} exists in namespace \"{plan.Request.Namespace}\" with other data; it is not a version jobkit made from these sources (delete or rename it)");
        }
    }

    private async Task<IKubernetesObject<V1ObjectMeta>?> TryReadVersionAsync(ConfigRolloutPlan plan, CancellationToken ct)
    {
        try
        {
            return plan.Request.Secret
                ? await client.CoreV1.ReadNamespacedSecretAsync(plan.VersionName, plan.Request.Namespace, cancellationToken: ct).ConfigureAwait(false)
                : await client.CoreV1.ReadNamespacedConfigMapAsync(plan.VersionName, plan.Request.Namespace, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Rewrites the workload's references to earlier versions and PUTs it with its resourceVersion, re-reading on 409 Conflict.</summary>
    private async Task<bool> PointAtAsync(WorkloadUpdate update, ConfigRolloutPlan plan, string? dryRun, string? serverDryRun, CancellationToken ct)
    {
        var request = plan.Request;
        var workload = update.Current;
        for (var attempt = 1; ; attempt++)
        {
            var from = ReferencedVersions(workload, request.Name, request.Secret).Where(n => n != plan.VersionName).ToList();
            if (from.Count == 0)
            {
                return false;
            }
            foreach (var old in from)
            {
                _ = request.Secret ? WorkloadPodSpec.RenameSecret(workload, old, plan.VersionName) : WorkloadPodSpec.RenameConfigMap(workload, old, plan.VersionName);
            }
            workload.Metadata.Annotations ??= new Dictionary<string, string>();
            workload.Metadata.Annotations[ChangeCauseAnnotation] = $"jobkit config apply {request.Name}: {plan.VersionResource}/{plan.VersionName}";
            if (dryRun == "client")
            {
                return true;
            }
            try
            {
                await WorkloadApi.ReplaceAsync(client, workload, serverDryRun, ct).ConfigureAwait(false);
                return true;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < ConflictRetries)
            {
                workload = await WorkloadApi.ReadAsync(client, request.Namespace, update.Workload, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Follows every rollout (one list-then-watch per kind) until each completes or fails, or the timeout passes.</summary>
    private async Task<IReadOnlyList<RolloutProgress>> WaitAsync(string ns, List<WorkloadReference> workloads, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (workloads.Count == 0)
        {
            return [];
        }
        var latest = new Dictionary<WorkloadReference, RolloutProgress>();
        var gate = new Lock();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stopwatch = Stopwatch.StartNew();

        Task Seen(WorkloadKind kind, IKubernetesObject<V1ObjectMeta> obj)
        {
            var reference = new WorkloadReference(kind, obj.Metadata.Name);
            if (!workloads.Contains(reference))
            {
                return Task.CompletedTask;
            }
            var progress = RolloutStatus.Of(reference, obj);
            lock (gate)
            {
                if (latest.TryGetValue(reference, out var before) && (before == progress || before.State != RolloutState.Progressing))
                {
                    return Task.CompletedTask;
                }
                latest[reference] = progress;
                observer.RolloutChanged(progress);
                if (workloads.All(w => latest.TryGetValue(w, out var p) && p.State != RolloutState.Progressing))
                {
                    done.TrySetResult();
                }
            }
            return Task.CompletedTask;
        }

        string? Selector(WorkloadKind kind) => workloads.Where(w => w.Kind == kind).ToList() is [var only] ? $"metadata.name={only.Name}" : null;
        var loops = new List<Task>();
        if (workloads.Any(w => w.Kind == WorkloadKind.Deployment))
        {
            var informer = Informer<V1Deployment>.Create<V1DeploymentList>((rv, w, ct) => client.AppsV1.ListNamespacedDeploymentWithHttpMessagesAsync(
                ns, fieldSelector: Selector(WorkloadKind.Deployment), resourceVersion: rv, watch: w, allowWatchBookmarks: w ? true : null, cancellationToken: ct));
            informer.Changed += (type, d, _) => type == WatchEventType.Deleted ? Task.CompletedTask : Seen(WorkloadKind.Deployment, d);
            loops.Add(informer.RunAsync(stop.Token));
        }
        if (workloads.Any(w => w.Kind == WorkloadKind.StatefulSet))
        {
            var informer = Informer<V1StatefulSet>.Create<V1StatefulSetList>((rv, w, ct) => client.AppsV1.ListNamespacedStatefulSetWithHttpMessagesAsync(
                ns, fieldSelector: Selector(WorkloadKind.StatefulSet), resourceVersion: rv, watch: w, allowWatchBookmarks: w ? true : null, cancellationToken: ct));
            informer.Changed += (type, s, _) => type == WatchEventType.Deleted ? Task.CompletedTask : Seen(WorkloadKind.StatefulSet, s);
            loops.Add(informer.RunAsync(stop.Token));
        }
        if (workloads.Any(w => w.Kind == WorkloadKind.DaemonSet))
        {
            var informer = Informer<V1DaemonSet>.Create<V1DaemonSetList>((rv, w, ct) => client.AppsV1.ListNamespacedDaemonSetWithHttpMessagesAsync(
                ns, fieldSelector: Selector(WorkloadKind.DaemonSet), resourceVersion: rv, watch: w, allowWatchBookmarks: w ? true : null, cancellationToken: ct));
            informer.Changed += (type, d, _) => type == WatchEventType.Deleted ? Task.CompletedTask : Seen(WorkloadKind.DaemonSet, d);
            loops.Add(informer.RunAsync(stop.Token));
        }

        try
        {
            var deadline = timeout is { } t ? Task.Delay(t, stop.Token) : Task.Delay(Timeout.Infinite, stop.Token);
            var first = await Task.WhenAny([done.Task, deadline, .. loops]).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (loops.Contains(first))
            {
                await first.ConfigureAwait(false); // an informer gave up: its error is the answer
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(loops).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        lock (gate)
        {
            return workloads.Select(w => latest.TryGetValue(w, out var p) ? p : new RolloutProgress(w, RolloutState.Progressing, "not observed yet")).ToList();
        }
    }

    /// <summary>
    /// Deletes (with a uid precondition) the versions jobkit labelled for NAME beyond the newest <see cref="ConfigRolloutRequest.Keep"/>
    /// that nothing live in the namespace reads; the new version, NAME itself and unlabelled objects are never touched.
    /// </summary>
    private async Task<(List<string> Pruned, List<string> Kept)> PruneAsync(ConfigRolloutPlan plan, string? dryRun, string? serverDryRun, string suffix, CancellationToken ct)
    {
        var request = plan.Request;
        var selector = ConfigVersions.Selector(request.Name);
        List<IKubernetesObject<V1ObjectMeta>> versions = request.Secret
            ? [.. (await client.CoreV1.ListNamespacedSecretAsync(request.Namespace, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items]
            : [.. (await client.CoreV1.ListNamespacedConfigMapAsync(request.Namespace, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false)).Items];
        var candidates = versions
            .Where(v => v.Metadata.Name != plan.VersionName && v.Metadata.Name != request.Name && ConfigVersions.IsVersionOf(request.Name, v.Metadata.Name))
            .OrderByDescending(v => v.Metadata.CreationTimestamp ?? DateTime.MinValue)
            .ThenByDescending(v => long.TryParse(v.Metadata.ResourceVersion, out var rv) ? rv : 0)
            .Skip(Math.Max(0, request.Keep - 1)) // the new version is one of the newest N
            .ToList();
        var pruned = new List<string>();
        var kept = new List<string>();
        if (candidates.Count == 0)
        {
            return (pruned, kept);
        }
        var live = await WorkloadApi.ListLiveAsync(client, request.Namespace, ct).ConfigureAwait(false);
        foreach (var version in candidates)
        {
            var name = version.Metadata.Name;
            var readers = live
                .Where(l => request.Secret ? WorkloadPodSpec.ReadsSecret(l.Workload, name) : WorkloadPodSpec.ReadsConfigMap(l.Workload, name))
                .Select(l => l.What)
                .ToList();
            if (readers.Count > 0)
            {
                kept.Add(name);
                observer.Progress($"{plan.VersionResource}/{name} kept: still read by {string.Join(", ", readers.Take(3))}{(readers.Count > 3 ? $" and {readers.Count - 3} more" : "")}");
                continue;
            }
            if (dryRun != "client" && !await DeleteAsync(request, version, serverDryRun, ct).ConfigureAwait(false))
            {
                continue;
            }
            pruned.Add(name);
            observer.Result($"{plan.VersionResource}/{name} pruned{suffix}");
        }
        return (pruned, kept);
    }

    /// <summary>DELETE with the uid read as precondition; false when it is gone already or was replaced meanwhile.</summary>
    private async Task<bool> DeleteAsync(ConfigRolloutRequest request, IKubernetesObject<V1ObjectMeta> version, string? serverDryRun, CancellationToken ct)
    {
        var body = new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = version.Metadata.Uid }, DryRun = serverDryRun is null ? null : [serverDryRun] };
        try
        {
            if (request.Secret)
            {
                await client.CoreV1.DeleteNamespacedSecretAsync(version.Metadata.Name, request.Namespace, body, dryRun: serverDryRun, cancellationToken: ct).ConfigureAwait(false);
            }
            else
            {
                await client.CoreV1.DeleteNamespacedConfigMapAsync(version.Metadata.Name, request.Namespace, body, dryRun: serverDryRun, cancellationToken: ct).ConfigureAwait(false);
            }
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            return false;
        }
    }
}
