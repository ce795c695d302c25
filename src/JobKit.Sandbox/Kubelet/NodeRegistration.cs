using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Kubelet;

/// <summary>The Node object and its Lease heartbeat, as the kubelet's node status and lease controllers write them.</summary>
internal sealed class NodeRegistration
{
    public const string KubeletVersion = "v1.32.0-jobkit-process";
    public const string LeaseNamespace = "kube-node-lease";
    private const int LeaseDurationSeconds = 40;
    private const int MaxPods = 110;

    private readonly IKubernetes client;
    private readonly string nodeName;
    private readonly ILogger logger;
    private V1Node? node;

    public NodeRegistration(IKubernetes client, string nodeName, ILogger logger)
    {
        this.client = client;
        this.nodeName = nodeName;
        this.logger = logger;
    }

    public static TimeSpan RenewInterval => TimeSpan.FromSeconds(10);

    public static NodeFacts DetectFacts()
    {
        long memory = 0;
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            if (line is not null)
            {
                memory = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return new NodeFacts(Environment.ProcessorCount, memory > 0 ? memory : 4L << 30);
    }

    /// <summary>Creates the Node with its status, or brings an existing one up to date.</summary>
    public async Task RegisterAsync(NodeFacts facts, int kubeletPort, CancellationToken cancellationToken)
    {
        var desired = BuildNode(facts, kubeletPort);
        try
        {
            node = await client.CoreV1.CreateNodeAsync(desired, cancellationToken: cancellationToken).ConfigureAwait(false);
            logger.LogInformation("node {Node} registered", nodeName);
            return;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }
        var existing = await client.CoreV1.ReadNodeAsync(nodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
        existing.Metadata.Labels ??= new Dictionary<string, string>();
        foreach (var (key, value) in desired.Metadata.Labels)
        {
            existing.Metadata.Labels[key] = value;
        }
        existing = await client.CoreV1.ReplaceNodeAsync(existing, nodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
        existing.Status = desired.Status;
        node = await client.CoreV1.ReplaceNodeStatusAsync(existing, nodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
        logger.LogInformation("node {Node} already existed: labels and status updated", nodeName);
    }

    /// <summary>Renews the Lease every <see cref="RenewInterval"/> until cancelled; errors are logged and retried.</summary>
    public async Task RenewLeaseLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RenewLeaseAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("node {Node}: lease renewal failed: {Error}", nodeName, e is HttpOperationException h ? h.Response.Content : e.Message);
            }
            try
            {
                await Task.Delay(RenewInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task RenewLeaseAsync(CancellationToken cancellationToken)
    {
        V1Lease? lease = null;
        try
        {
            lease = await client.CoordinationV1.ReadNamespacedLeaseAsync(nodeName, LeaseNamespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
        if (lease is null)
        {
            lease = new V1Lease
            {
                ApiVersion = "coordination.k8s.io/v1",
                Kind = "Lease",
                Metadata = new V1ObjectMeta
                {
                    Name = nodeName,
                    NamespaceProperty = LeaseNamespace,
                    // The garbage collector deletes the Lease with its Node.
                    OwnerReferences = node is null ? null :
                    [
                        new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = node.Metadata.Uid },
                    ],
                },
                Spec = new V1LeaseSpec { HolderIdentity = nodeName, LeaseDurationSeconds = LeaseDurationSeconds, RenewTime = DateTime.UtcNow },
            };
            await client.CoordinationV1.CreateNamespacedLeaseAsync(lease, LeaseNamespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        lease.Spec ??= new V1LeaseSpec();
        lease.Spec.HolderIdentity = nodeName;
        lease.Spec.LeaseDurationSeconds = LeaseDurationSeconds;
        lease.Spec.RenewTime = DateTime.UtcNow;
        if (node is not null && (lease.Metadata.OwnerReferences is null || !lease.Metadata.OwnerReferences.Any(o => o.Uid == node.Metadata.Uid)))
        {
            // A Lease left from an earlier Node of the same name points to the wrong owner.
            lease.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = node.Metadata.Uid }];
        }
        await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, nodeName, LeaseNamespace, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private V1Node BuildNode(NodeFacts facts, int kubeletPort)
    {
        var now = DateTime.UtcNow;
        var resources = new Dictionary<string, ResourceQuantity>
        {
            ["cpu"] = new(facts.Cpus.ToString(CultureInfo.InvariantCulture)),
            ["memory"] = new($"{facts.MemoryBytes / 1024}Ki"),
            ["pods"] = new(MaxPods.ToString(CultureInfo.InvariantCulture)),
            ["ephemeral-storage"] = new("10Gi"),
        };
        V1NodeCondition Condition(string type, string status, string reason, string message) => new()
        {
            Type = type,
            Status = status,
            Reason = reason,
            Message = message,
            LastHeartbeatTime = now,
            LastTransitionTime = now,
        };
        return new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta
            {
                Name = nodeName,
                Labels = new Dictionary<string, string>
                {
                    ["kubernetes.io/hostname"] = nodeName,
                    ["kubernetes.io/os"] = "linux",
                    ["kubernetes.io/arch"] = GoArchitecture(),
                    ["beta.kubernetes.io/os"] = "linux",
                    ["beta.kubernetes.io/arch"] = GoArchitecture(),
                },
            },
            Status = new V1NodeStatus
            {
                Capacity = resources,
                Allocatable = new Dictionary<string, ResourceQuantity>(resources),
                Conditions =
                [
                    Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    Condition("Ready", "True", "KubeletReady", "process kubelet is posting ready status"),
                ],
                Addresses =
                [
                    new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" },
                    new V1NodeAddress { Type = "Hostname", Address = nodeName },
                ],
                DaemonEndpoints = new V1NodeDaemonEndpoints { KubeletEndpoint = new V1DaemonEndpoint { Port = kubeletPort } },
                NodeInfo = new V1NodeSystemInfo
                {
                    Architecture = GoArchitecture(),
                    OperatingSystem = "linux",
                    KubeletVersion = KubeletVersion,
                    KubeProxyVersion = "",
                    ContainerRuntimeVersion = "process://bubblewrap",
                    KernelVersion = Environment.OSVersion.Version.ToString(),
                    OsImage = RuntimeInformation.OSDescription,
                    MachineID = "",
                    SystemUUID = "",
                    BootID = "",
                },
            },
        };
    }

    private static string GoArchitecture() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm",
        Architecture.X86 => "386",
        var other => other.ToString().ToLowerInvariant(),
    };
}
