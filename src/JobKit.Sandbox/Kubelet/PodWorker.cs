using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Kubelet;

/// <summary>What every pod worker shares with the kubelet.</summary>
internal sealed record PodWorkerContext(
    IKubernetes Client,
    ILogger Logger,
    NodeFacts Node,
    bool Confine,
    Uri ApiServer,
    string PodsDirectory,
    CancellationToken Shutdown);

/// <summary>
/// Runs one pod bound to this node: volumes, init containers in order, then all containers with restarts per
/// restartPolicy; reports every change as a pods/status patch; stops the pod gracefully when it is deleted.
/// </summary>
internal sealed class PodWorker : IDisposable
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private readonly PodWorkerContext context;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private readonly CancellationTokenSource stopRunning;
    private readonly SemaphoreSlim statusWrites = new(1, 1);
    private readonly List<ContainerRuntime> initContainers;
    private readonly List<ContainerRuntime> containers;
    private readonly Dictionary<string, V1PodCondition> conditions = [];
    private readonly PodVolumes volumes;
    private V1Pod pod;
    private string phase = "Pending";
    private DateTime? startTime;
    private string? lastPublishedStatus;
    private Task runTask = Task.CompletedTask;
    private Task? termination;
    private bool terminating;
    private bool deletionConfirmed;

    /// <summary>status.reason and status.message of the pod, e.g. DeadlineExceeded.</summary>
    private string? podReason;
    private string? podMessage;

    public PodWorker(PodWorkerContext context, V1Pod pod)
    {
        this.context = context;
        this.pod = pod;
        logger = context.Logger;
        stopRunning = CancellationTokenSource.CreateLinkedTokenSource(context.Shutdown);
        Directory = Path.Combine(context.PodsDirectory, pod.Metadata.Uid);
        volumes = new PodVolumes(context.Client, logger, Path.Combine(Directory, "volumes"));
        var hasInit = pod.Spec.InitContainers is { Count: > 0 };
        initContainers = (pod.Spec.InitContainers ?? []).Select(c => new ContainerRuntime(c, true, "PodInitializing")).ToList();
        containers = pod.Spec.Containers.Select(c => new ContainerRuntime(c, false, hasInit ? "PodInitializing" : "ContainerCreating")).ToList();
    }

    public string Uid => pod.Metadata.Uid;

    public string Namespace => pod.Metadata.NamespaceProperty;

    public string Name => pod.Metadata.Name;

    /// <summary>The pod's own directory in the kubelet's state directory (volumes, logs).</summary>
    public string Directory { get; }

    public bool IsFinished
    {
        get
        {
            lock (gate)
            {
                return phase is "Succeeded" or "Failed";
            }
        }
    }

    public bool IsTerminating
    {
        get
        {
            lock (gate)
            {
                return terminating;
            }
        }
    }

    private string RestartPolicy => pod.Spec.RestartPolicy ?? "Always";

    /// <summary>Only after <see cref="TerminateAsync"/> has completed: nothing runs or writes any more.</summary>
    public void Dispose()
    {
        stopRunning.Dispose();
        statusWrites.Dispose();
    }

    public void Start() => runTask = Task.Run(() => RunAsync(stopRunning.Token));

    /// <summary>The newest version of the pod from the watch (labels and annotations feed the downward API).</summary>
    public void Update(V1Pod latest)
    {
        lock (gate)
        {
            pod = latest;
        }
    }

    /// <summary>The log files of a container, oldest run first, or null when the pod has no such container.</summary>
    public (IReadOnlyList<ContainerLogFile> Logs, V1ContainerState State)? FindLogs(string container)
    {
        lock (gate)
        {
            var runtime = initContainers.Concat(containers).FirstOrDefault(c => c.Name == container);
            return runtime is null ? null : (runtime.Logs.ToList(), runtime.State);
        }
    }

    /// <summary>
    /// Stops the pod: SIGTERM, up to <paramref name="gracePeriod"/>, SIGKILL. With <paramref name="confirmDeletion"/>
    /// the final status is written and the deletion confirmed (DELETE with grace 0 and the pod's UID).
    /// </summary>
    public Task TerminateAsync(TimeSpan gracePeriod, bool confirmDeletion)
    {
        lock (gate)
        {
            if (termination is not null)
            {
                return termination;
            }
            terminating = true;
            termination = TerminateCoreAsync(gracePeriod, confirmDeletion);
            return termination;
        }
    }

    /// <summary>For a pod that already finished: confirm its deletion once, so that it does not wait for a kubelet.</summary>
    public async Task ConfirmDeletionAsync()
    {
        lock (gate)
        {
            if (deletionConfirmed)
            {
                return;
            }
            deletionConfirmed = true;
        }
        // The final status may still be on its way (the phase is set before it is written): write it first, so that
        // e.g. the Job controller sees how the pod ended.
        await PublishStatusAsync().ConfigureAwait(false);
        await DeletePodAsync().ConfigureAwait(false);
    }

    private async Task TerminateCoreAsync(TimeSpan gracePeriod, bool confirmDeletion)
    {
        await stopRunning.CancelAsync().ConfigureAwait(false);
        List<ContainerProcess> running;
        lock (gate)
        {
            running = initContainers.Concat(containers).Select(c => c.Process).OfType<ContainerProcess>().ToList();
        }
        if (running.Count > 0)
        {
            logger.LogInformation("pod {Namespace}/{Pod}: stopping {Count} container(s), grace period {Grace}s", Namespace, Name, running.Count, gracePeriod.TotalSeconds);
        }
        foreach (var process in running)
        {
            process.Terminate();
        }
        if (await Task.WhenAny(runTask, Task.Delay(gracePeriod)).ConfigureAwait(false) != runTask)
        {
            foreach (var process in running)
            {
                process.ForceKill();
            }
        }
        await runTask.ConfigureAwait(false);
        if (!confirmDeletion)
        {
            return;
        }
        lock (gate)
        {
            // A deleted pod is over: it ends Succeeded only if every container completed successfully.
            var allSucceeded = initContainers.All(c => c.Succeeded) && containers.All(c => c.Succeeded);
            phase = allSucceeded ? "Succeeded" : "Failed";
            UpdateConditions();
            // Set with the phase: a watch event seeing the pod finished must not confirm before the last status is written.
            deletionConfirmed = true;
        }
        await PublishStatusAsync().ConfigureAwait(false);
        await DeletePodAsync().ConfigureAwait(false);
    }

    private async Task DeletePodAsync()
    {
        try
        {
            await context.Client.CoreV1.DeleteNamespacedPodAsync(
                Name,
                Namespace,
                new V1DeleteOptions { GracePeriodSeconds = 0, Preconditions = new V1Preconditions { Uid = Uid } },
                cancellationToken: context.Shutdown).ConfigureAwait(false);
            logger.LogInformation("pod {Namespace}/{Pod}: deletion confirmed", Namespace, Name);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Already gone, or a new pod with the same name: nothing of ours to confirm.
        }
        catch (Exception e) when (!context.Shutdown.IsCancellationRequested)
        {
            logger.LogWarning("pod {Namespace}/{Pod}: confirming deletion failed: {Error}", Namespace, Name, e.Message);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            lock (gate)
            {
                startTime = DateTime.UtcNow;
                SetCondition("PodReadyToStartContainers", false, null, null);
                UpdateConditions();
            }
            if (pod.Spec.ActiveDeadlineSeconds is { } deadline)
            {
                _ = EnforceActiveDeadlineAsync(TimeSpan.FromSeconds(deadline), cancellationToken);
            }
            await PublishStatusAsync().ConfigureAwait(false);
            await SetUpVolumesAsync(cancellationToken).ConfigureAwait(false);
            lock (gate)
            {
                SetCondition("PodReadyToStartContainers", true, null, null);
            }

            foreach (var init in initContainers)
            {
                while (true)
                {
                    var exitCode = await RunOnceAsync(init, cancellationToken).ConfigureAwait(false);
                    if (exitCode is null || cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                    if (exitCode == 0)
                    {
                        break;
                    }
                    if (RestartPolicy == "Never")
                    {
                        lock (gate)
                        {
                            phase = "Failed";
                            UpdateConditions();
                        }
                        await PublishStatusAsync().ConfigureAwait(false);
                        return;
                    }
                    await BackOffAsync(init, cancellationToken).ConfigureAwait(false);
                }
            }
            lock (gate)
            {
                foreach (var container in containers)
                {
                    container.State = ContainerRuntime.Waiting("ContainerCreating", null);
                }
                UpdateConditions();
            }

            await Task.WhenAll(containers.Select(c => RunContainerAsync(c, cancellationToken))).ConfigureAwait(false);
            if (!cancellationToken.IsCancellationRequested)
            {
                lock (gate)
                {
                    phase = ComputePhase();
                    UpdateConditions();
                }
                await PublishStatusAsync().ConfigureAwait(false);
                logger.LogInformation("pod {Namespace}/{Pod}: {Phase}", Namespace, Name, phase);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError(e, "pod {Namespace}/{Pod}: worker failed", Namespace, Name);
        }
    }

    /// <summary>spec.activeDeadlineSeconds: the kubelet stops the pod and fails it with reason DeadlineExceeded.</summary>
    private async Task EnforceActiveDeadlineAsync(TimeSpan deadline, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (gate)
        {
            if (phase is "Succeeded" or "Failed" || terminating)
            {
                return;
            }
        }
        logger.LogInformation("pod {Namespace}/{Pod}: active deadline of {Deadline}s exceeded", Namespace, Name, deadline.TotalSeconds);
        await TerminateAsync(TimeSpan.FromSeconds(pod.Spec.TerminationGracePeriodSeconds ?? 30), confirmDeletion: false).ConfigureAwait(false);
        lock (gate)
        {
            phase = "Failed";
            podReason = "DeadlineExceeded";
            podMessage = "Pod was active on the node longer than the specified deadline";
            UpdateConditions();
        }
        await PublishStatusAsync().ConfigureAwait(false);
    }

    private async Task SetUpVolumesAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                V1Pod current;
                lock (gate)
                {
                    current = pod;
                }
                await volumes.SetUpAsync(current, context.Node, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The kubelet reports this as a FailedMount event and keeps the containers in ContainerCreating.
                logger.LogWarning("pod {Namespace}/{Pod}: {Error}", Namespace, Name, e.Message);
                lock (gate)
                {
                    foreach (var container in initContainers.Take(1).Concat(initContainers.Count == 0 ? containers : []))
                    {
                        container.State = ContainerRuntime.Waiting("ContainerCreating", e.Message);
                    }
                }
                await PublishStatusAsync().ConfigureAwait(false);
                await Task.Delay(RetryInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One container's life with restarts as restartPolicy says.</summary>
    private async Task RunContainerAsync(ContainerRuntime container, CancellationToken cancellationToken)
    {
        while (true)
        {
            var exitCode = await RunOnceAsync(container, cancellationToken).ConfigureAwait(false);
            if (exitCode is null || cancellationToken.IsCancellationRequested)
            {
                return;
            }
            var restart = RestartPolicy == "Always" || (RestartPolicy == "OnFailure" && exitCode != 0);
            if (!restart)
            {
                return;
            }
            await BackOffAsync(container, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task BackOffAsync(ContainerRuntime container, CancellationToken cancellationToken)
    {
        TimeSpan delay;
        lock (gate)
        {
            var terminated = container.State.Terminated;
            var ran = terminated?.FinishedAt - terminated?.StartedAt ?? TimeSpan.Zero;
            delay = container.NextBackoff(ran);
            container.LastState = container.State;
            if (delay > TimeSpan.Zero)
            {
                container.State = ContainerRuntime.Waiting(
                    "CrashLoopBackOff",
                    $"back-off {FormatDuration(delay)} restarting failed container={container.Name} pod={Name}_{Namespace}({Uid})");
            }
            UpdateConditions();
        }
        if (delay > TimeSpan.Zero)
        {
            await PublishStatusAsync().ConfigureAwait(false);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
        lock (gate)
        {
            container.RestartCount++;
        }
    }

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalMinutes >= 1 ? $"{(int)duration.TotalMinutes}m{duration.Seconds}s" : $"{(int)duration.TotalSeconds}s";

    /// <summary>Starts the container once and waits for it; null when the pod is being stopped.</summary>
    private async Task<int?> RunOnceAsync(ContainerRuntime container, CancellationToken cancellationToken)
    {
        ContainerLaunch launch;
        while (true)
        {
            try
            {
                launch = await PrepareLaunchAsync(container, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Missing ConfigMaps/Secrets/keys, and API errors while reading them, all wait and retry.
                bool changed;
                lock (gate)
                {
                    changed = container.State.Waiting?.Reason != "CreateContainerConfigError" || container.State.Waiting.Message != e.Message;
                    container.State = ContainerRuntime.Waiting("CreateContainerConfigError", e.Message);
                    UpdateConditions();
                }
                if (changed)
                {
                    logger.LogWarning("pod {Namespace}/{Pod} container {Container}: {Error}", Namespace, Name, container.Name, e.Message);
                    await PublishStatusAsync().ConfigureAwait(false);
                }
                // Try again until the ConfigMap or Secret appears.
                await Task.Delay(RetryInterval, cancellationToken).ConfigureAwait(false);
            }
        }

        ContainerProcess? process = null;
        var log = new ContainerLogFile(Path.Combine(Directory, "logs", container.Name, $"{container.RestartCount}.log"));
        lock (gate)
        {
            if (terminating)
            {
                return null;
            }
            container.Logs.Add(log);
            container.EverStarted = true;
            try
            {
                process = ContainerProcess.Start(launch, context.Confine, log, logger);
            }
            catch (ContainerStartException e)
            {
                var now = DateTime.UtcNow;
                container.ContainerId = null;
                container.State = new V1ContainerState
                {
                    Terminated = new V1ContainerStateTerminated { ExitCode = 128, Reason = "StartError", Message = e.Message, StartedAt = now, FinishedAt = now },
                };
                UpdateConditions();
                logger.LogWarning("pod {Namespace}/{Pod} container {Container}: {Error}", Namespace, Name, container.Name, e.Message);
            }
            if (process is not null)
            {
                container.Process = process;
                container.ContainerId = $"process://{process.Id}";
                container.State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = process.StartedAt } };
                if (!container.IsInit)
                {
                    phase = ComputePhase();
                }
                UpdateConditions();
            }
        }
        await PublishStatusAsync().ConfigureAwait(false);
        if (process is null)
        {
            return 128;
        }
        logger.LogInformation("pod {Namespace}/{Pod} container {Container}: started ({ContainerId})", Namespace, Name, container.Name, container.ContainerId);

        var exitCode = await process.WaitForExitAsync().ConfigureAwait(false);
        lock (gate)
        {
            container.Process = null;
            container.State = new V1ContainerState
            {
                Terminated = new V1ContainerStateTerminated
                {
                    ExitCode = exitCode,
                    Reason = exitCode == 0 ? "Completed" : "Error",
                    Message = TerminationMessage(container, launch, log, exitCode),
                    StartedAt = process.StartedAt,
                    FinishedAt = DateTime.UtcNow,
                    ContainerID = container.ContainerId,
                },
            };
            if (!container.IsInit && !terminating)
            {
                phase = ComputePhase();
            }
            UpdateConditions();
        }
        process.Dispose();
        logger.LogInformation("pod {Namespace}/{Pod} container {Container}: exited with {ExitCode}", Namespace, Name, container.Name, exitCode);
        await PublishStatusAsync().ConfigureAwait(false);
        return exitCode;
    }

    private async Task<ContainerLaunch> PrepareLaunchAsync(ContainerRuntime container, CancellationToken cancellationToken)
    {
        V1Pod current;
        lock (gate)
        {
            current = pod;
        }
        var environment = await new ContainerEnvironment(context.Client, context.ApiServer)
            .BuildAsync(current, container.Spec, context.Node, cancellationToken).ConfigureAwait(false);
        var command = ContainerEnvironment.CommandLine(container.Spec, environment);
        var workingDirectory = string.IsNullOrEmpty(container.Spec.WorkingDir) ? "/" : container.Spec.WorkingDir;
        var mounts = volumes.MountsFor(container.Spec);
        string? terminationMessageFile = null;
        if (context.Confine)
        {
            // The container writes its termination message to a file at terminationMessagePath (default /dev/termination-log).
            terminationMessageFile = Path.Combine(Directory, "termination", $"{container.Name}-{container.RestartCount}");
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(terminationMessageFile)!);
            File.WriteAllBytes(terminationMessageFile, []);
            var messagePath = string.IsNullOrEmpty(container.Spec.TerminationMessagePath) ? "/dev/termination-log" : container.Spec.TerminationMessagePath;
            mounts.Add(new VolumeMountPlan(terminationMessageFile, messagePath, ReadOnly: false));
        }
        return new ContainerLaunch(command, environment, workingDirectory, ContainerEnvironment.PodHostname(current), mounts, terminationMessageFile);
    }

    /// <summary>
    /// The kubelet's termination message: the file's content (at most 4096 bytes), or with FallbackToLogsOnError
    /// and a failure, the log's last 80 lines (at most 2048 bytes).
    /// </summary>
    private static string? TerminationMessage(ContainerRuntime container, ContainerLaunch launch, ContainerLogFile log, int exitCode)
    {
        try
        {
            if (launch.TerminationMessageFile is { } file && File.Exists(file))
            {
                using var stream = File.OpenRead(file);
                var buffer = new byte[4096];
                var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                if (read > 0)
                {
                    return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
                }
            }
            if (exitCode != 0 && container.Spec.TerminationMessagePolicy == "FallbackToLogsOnError")
            {
                var lines = new LogFileReader(log.Path).ReadNew().TakeLast(80)
                    .Select(r => System.Text.Encoding.UTF8.GetString(r.Content.Span) + (r.Partial ? "" : "\n"));
                var text = string.Concat(lines);
                return text.Length > 2048 ? text[^2048..] : text;
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>The kubelet's getPhase, for regular containers once init containers are done.</summary>
    private string ComputePhase()
    {
        if (phase is "Succeeded" or "Failed")
        {
            return phase;
        }
        if (initContainers.Any(c => !c.Succeeded))
        {
            return "Pending";
        }
        var neverStarted = containers.Count(c => !c.EverStarted);
        var running = containers.Count(c => c.IsRunning || (c.State.Waiting is not null && c.EverStarted));
        var failed = containers.Count(c => c.State.Terminated is { ExitCode: not 0 });
        if (neverStarted > 0)
        {
            return "Pending";
        }
        if (running > 0)
        {
            return "Running";
        }
        // All terminated: final unless restartPolicy restarts them.
        return RestartPolicy switch
        {
            "Always" => "Running",
            "OnFailure" => failed > 0 ? "Running" : "Succeeded",
            _ => failed > 0 ? "Failed" : "Succeeded",
        };
    }

    private void UpdateConditions()
    {
        var finished = phase is "Succeeded" or "Failed";
        var incompleteInit = initContainers.Where(c => !c.Succeeded).Select(c => c.Name).ToList();
        if (incompleteInit.Count == 0 || finished && initContainers.All(c => c.Succeeded))
        {
            SetCondition("Initialized", true, null, null);
        }
        else
        {
            SetCondition("Initialized", false, "ContainersNotInitialized", $"containers with incomplete status: [{string.Join(' ', incompleteInit)}]");
        }
        var unready = containers.Where(c => !c.IsRunning).Select(c => c.Name).ToList();
        if (finished)
        {
            SetCondition("ContainersReady", false, "PodCompleted", null);
            SetCondition("Ready", false, "PodCompleted", null);
        }
        else if (unready.Count > 0)
        {
            var message = $"containers with unready status: [{string.Join(' ', unready)}]";
            SetCondition("ContainersReady", false, "ContainersNotReady", message);
            SetCondition("Ready", false, "ContainersNotReady", message);
        }
        else
        {
            SetCondition("ContainersReady", true, null, null);
            SetCondition("Ready", true, null, null);
        }
    }

    private void SetCondition(string type, bool status, string? reason, string? message)
    {
        var value = status ? "True" : "False";
        var transition = conditions.TryGetValue(type, out var existing) && existing.Status == value
            ? existing.LastTransitionTime
            : DateTime.UtcNow;
        conditions[type] = new V1PodCondition
        {
            Type = type,
            Status = value,
            // "" rather than null: a strategic merge patch keeps fields it does not mention, so an old message would stay.
            Reason = reason ?? "",
            Message = message ?? "",
            LastTransitionTime = transition,
            LastProbeTime = null,
        };
    }

    /// <summary>
    /// Writes the current status with a strategic merge patch on pods/status, as the kubelet's status manager does;
    /// retried a few times, since the last write of a pod (its final phase) must not get lost.
    /// </summary>
    private async Task PublishStatusAsync()
    {
        await statusWrites.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var patch = BuildStatusPatch();
                if (patch == lastPublishedStatus)
                {
                    return;
                }
                try
                {
                    await context.Client.CoreV1.PatchNamespacedPodStatusAsync(
                        new V1Patch(patch, V1Patch.PatchType.StrategicMergePatch), Name, Namespace, cancellationToken: context.Shutdown).ConfigureAwait(false);
                    lastPublishedStatus = patch;
                    return;
                }
                catch (OperationCanceledException) when (context.Shutdown.IsCancellationRequested)
                {
                    return;
                }
                catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity)
                {
                    // The pod is gone (or replaced by one with another UID); the watch will tell us.
                    return;
                }
                catch (Exception e)
                {
                    logger.LogWarning("pod {Namespace}/{Pod}: status update failed (attempt {Attempt}): {Error}", Namespace, Name, attempt, e is HttpOperationException h ? h.Response.Content : e.Message);
                    if (attempt >= 5)
                    {
                        return;
                    }
                }
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(attempt), context.Shutdown).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            statusWrites.Release();
        }
    }

    private string BuildStatusPatch()
    {
        lock (gate)
        {
            var conditionOrder = new[] { "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady" };
            var status = new V1PodStatus
            {
                Phase = phase,
                HostIP = "127.0.0.1",
                HostIPs = [new V1HostIP { Ip = "127.0.0.1" }],
                PodIP = "127.0.0.1",
                PodIPs = [new V1PodIP { Ip = "127.0.0.1" }],
                StartTime = startTime,
                Reason = podReason,
                Message = podMessage,
                Conditions = conditionOrder.Where(conditions.ContainsKey).Select(t => conditions[t]).ToList(),
                ContainerStatuses = containers.Select(c => c.ToStatus()).ToList(),
                InitContainerStatuses = initContainers.Count == 0 ? null : initContainers.Select(c => c.ToStatus()).ToList(),
            };
            // metadata.uid makes the patch fail rather than touch a newer pod of the same name.
            return KubernetesJson.Serialize(new V1Pod { Metadata = new V1ObjectMeta { Uid = Uid }, Status = status });
        }
    }
}
