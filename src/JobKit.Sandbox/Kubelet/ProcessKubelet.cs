using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using JobKit.Core.Kube;
using JobKit.Sandbox.Security;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobKit.Sandbox.Kubelet;

/// <summary>
/// A kubelet that runs pods' containers as local processes (confined with bubblewrap) and talks to its API server
/// only through the Kubernetes API: it registers a Node, renews its Lease, runs the pods bound to it, reports their
/// status, confirms their deletion and serves their logs over HTTPS to the API server.
/// </summary>
/// <remarks>
/// Not a full kubelet: images are ignored (a container needs <c>command</c>); every container runs as the kubelet's
/// user in the host's network namespace (no securityContext, hostPort/ports, resource limits, probes, exec/attach/
/// port-forward); volume contents are written once at pod start (ConfigMap/Secret changes and token expiry are not
/// followed); the state directory does not survive a restart: a restarted kubelet starts unfinished pods afresh.
/// If the kubelet's process is killed outright (no DisposeAsync), running bubblewrap sandboxes are not stopped.
/// </remarks>
public sealed class ProcessKubelet : IAsyncDisposable
{
    /// <summary>On shutdown, containers get this long after SIGTERM before SIGKILL.</summary>
    private static readonly TimeSpan ShutdownGracePeriod = TimeSpan.FromSeconds(2);

    private readonly IKubernetes client;
    private readonly ProcessKubeletOptions options;
    private readonly ILogger logger;
    private readonly string stateDirectory;
    private readonly bool ownsStateDirectory;
    private readonly CancellationTokenSource shutdown = new();
    private readonly ConcurrentDictionary<string, PodWorker> workers = new();
    private readonly NodeFacts nodeFacts = NodeRegistration.DetectFacts();
    private readonly Informer<V1Pod> pods;
    private LogEndpoint? logEndpoint;
    private Task leaseLoop = Task.CompletedTask;
    private Task informerLoop = Task.CompletedTask;
    private int disposed;

    private ProcessKubelet(IKubernetes client, ProcessKubeletOptions options, ILogger logger, string stateDirectory, bool ownsStateDirectory)
    {
        this.client = client;
        this.options = options;
        this.logger = logger;
        this.stateDirectory = stateDirectory;
        this.ownsStateDirectory = ownsStateDirectory;
        var fieldSelector = $"spec.nodeName={options.NodeName}";
        pods = Informer<V1Pod>.Create<V1PodList>((resourceVersion, watch, ct) =>
            client.CoreV1.ListPodForAllNamespacesWithHttpMessagesAsync(
                fieldSelector: fieldSelector,
                resourceVersion: resourceVersion,
                watch: watch,
                allowWatchBookmarks: watch ? true : null,
                cancellationToken: ct));
        pods.Changed += OnPodChangedAsync;
    }

    /// <summary>The HTTPS port of the log endpoint on 127.0.0.1 (the Node's kubeletEndpoint).</summary>
    public int Port => logEndpoint?.Port ?? 0;

    private string PodsDirectory => Path.Combine(stateDirectory, "pods");

    public static async Task<ProcessKubelet> StartAsync(IKubernetes client, ProcessKubeletOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        var ownsStateDirectory = options.StateDirectory is null;
        var stateDirectory = options.StateDirectory ?? Directory.CreateTempSubdirectory("jobkit-kubelet-").FullName;
        Directory.CreateDirectory(stateDirectory);
        var kubelet = new ProcessKubelet(client, options, loggerFactory.CreateLogger<ProcessKubelet>(), stateDirectory, ownsStateDirectory);
        try
        {
            var servingCertificate = options.ServingCertificate ?? CreateSelfSignedServingCertificate(options.NodeName);
            kubelet.logEndpoint = await LogEndpoint.StartAsync(
                servingCertificate, options.ClientCertificateAuthorities, options.Port, kubelet.FindLogs, loggerFactory, cancellationToken).ConfigureAwait(false);
            var registration = new NodeRegistration(client, options.NodeName, kubelet.logger);
            await registration.RegisterAsync(kubelet.nodeFacts, kubelet.Port, cancellationToken).ConfigureAwait(false);
            await registration.RenewLeaseAsync(cancellationToken).ConfigureAwait(false);
            kubelet.leaseLoop = Task.Run(() => registration.RenewLeaseLoopAsync(kubelet.shutdown.Token), CancellationToken.None);
            kubelet.informerLoop = Task.Run(() => kubelet.pods.RunAsync(kubelet.shutdown.Token), CancellationToken.None);
            kubelet.logger.LogInformation("process kubelet {Node} serving logs on https://127.0.0.1:{Port}, state in {StateDirectory}, {Mode}",
                options.NodeName, kubelet.Port, stateDirectory, options.Confine ? "confined (bubblewrap)" : "UNCONFINED");
            return kubelet;
        }
        catch
        {
            await kubelet.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }
        // Stop talking to the API server first: it may already be gone, and a kubelet that stops does not report
        // its pods as failed.
        await shutdown.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(leaseLoop, informerLoop).ConfigureAwait(false);
        var stopping = workers.Values.ToList();
        await Task.WhenAll(stopping.Select(w => w.TerminateAsync(ShutdownGracePeriod, confirmDeletion: false))).ConfigureAwait(false);
        foreach (var worker in stopping)
        {
            worker.Dispose();
        }
        workers.Clear();
        if (logEndpoint is not null)
        {
            await logEndpoint.DisposeAsync().ConfigureAwait(false);
        }
        if (ownsStateDirectory)
        {
            TryDeleteDirectory(stateDirectory);
        }
        shutdown.Dispose();
    }

    private async Task OnPodChangedAsync(WatchEventType type, V1Pod pod, CancellationToken cancellationToken)
    {
        var uid = pod.Metadata.Uid;
        if (type == WatchEventType.Deleted)
        {
            if (workers.TryRemove(uid, out var removed))
            {
                // Gone from the API (force-deleted, or after we confirmed): stop what is left and clean up.
                _ = CleanUpAsync(removed, pod);
            }
            return;
        }
        if (workers.TryGetValue(uid, out var worker))
        {
            worker.Update(pod);
        }
        else
        {
            var finished = pod.Status?.Phase is "Succeeded" or "Failed";
            if (finished || pod.Metadata.DeletionTimestamp is not null)
            {
                // Nothing to run: finished before we saw it (e.g. an earlier kubelet), or deleted before it started.
                if (pod.Metadata.DeletionTimestamp is not null)
                {
                    worker = workers.GetOrAdd(uid, _ => new PodWorker(Context(), pod));
                    _ = worker.ConfirmDeletionAsync();
                }
                return;
            }
            worker = new PodWorker(Context(), pod);
            workers[uid] = worker;
            logger.LogInformation("pod {Namespace}/{Pod}: starting", worker.Namespace, worker.Name);
            worker.Start();
        }
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            if (worker.IsFinished)
            {
                // Nothing runs any more (completed, or failed by its deadline): just confirm.
                _ = worker.ConfirmDeletionAsync();
            }
            else
            {
                _ = worker.TerminateAsync(GracePeriod(pod), confirmDeletion: true);
            }
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>The grace period of a deleted pod: metadata.deletionGracePeriodSeconds, as the API server set it.</summary>
    private static TimeSpan GracePeriod(V1Pod pod) =>
        TimeSpan.FromSeconds(Math.Max(0, pod.Metadata.DeletionGracePeriodSeconds ?? pod.Spec.TerminationGracePeriodSeconds ?? 30));

    private async Task CleanUpAsync(PodWorker worker, V1Pod pod)
    {
        try
        {
            await worker.TerminateAsync(TimeSpan.Zero, confirmDeletion: false).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogWarning("pod {Namespace}/{Pod}: stopping failed: {Error}", pod.Metadata.NamespaceProperty, pod.Metadata.Name, e.Message);
        }
        worker.Dispose();
        TryDeleteDirectory(worker.Directory);
        logger.LogInformation("pod {Namespace}/{Pod}: removed", pod.Metadata.NamespaceProperty, pod.Metadata.Name);
    }

    private PodWorkerContext Context() =>
        new(client, logger, nodeFacts, options.Confine, client.BaseUri, PodsDirectory, shutdown.Token);

    private (IReadOnlyList<ContainerLogFile>, V1ContainerState)? FindLogs(string ns, string podName, string container)
    {
        // Prefer a pod that is not being deleted: a new pod may reuse the name of one still stopping.
        var candidates = workers.Values.Where(w => w.Namespace == ns && w.Name == podName).OrderBy(w => w.IsTerminating);
        foreach (var worker in candidates)
        {
            if (worker.FindLogs(container) is { } found)
            {
                return found;
            }
        }
        return null;
    }

    private void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("could not remove {Path}: {Error}", path, e.Message);
        }
    }

    private static X509Certificate2 CreateSelfSignedServingCertificate(string nodeName)
    {
        using var authority = Pki.CreateCertificateAuthority($"{nodeName}-kubelet-ca");
        return Pki.IssueServerCertificate(authority, nodeName, [nodeName, "localhost"], [IPAddress.Loopback]);
    }
}
