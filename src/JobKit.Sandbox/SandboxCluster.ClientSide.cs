using System.Security.Cryptography.X509Certificates;
using JobKit.Sandbox.Controllers;
using JobKit.Sandbox.Kubelet;
using k8s;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox;

public sealed partial class SandboxCluster
{
    /// <summary>Name of the node the in-process kubelet registers.</summary>
    public const string NodeName = "sandbox";

    private partial async Task StartClientSidePartsAsync(SandboxOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        var controllersClient = CreateClient();
        parts.Add(new ClientDisposer(controllersClient));
        var jobs = new JobController(controllersClient, loggerFactory, time);
        var cronJobs = new CronJobController(controllersClient, loggerFactory, time);
        var ttl = new TtlAfterFinishedController(controllersClient, loggerFactory, time);
        services.Add(Task.Run(() => jobs.RunAsync(cancellationToken), cancellationToken));
        services.Add(Task.Run(() => cronJobs.RunAsync(cancellationToken), cancellationToken));
        services.Add(Task.Run(() => ttl.RunAsync(cancellationToken), cancellationToken));
        var deployments = new DeploymentController(controllersClient, loggerFactory, time);
        var replicaSets = new ReplicaSetController(controllersClient, loggerFactory, time);
        services.Add(Task.Run(() => deployments.RunAsync(cancellationToken), cancellationToken));
        services.Add(Task.Run(() => replicaSets.RunAsync(cancellationToken), cancellationToken));
        var statefulSets = new StatefulSetController(controllersClient, loggerFactory, time);
        var daemonSets = new DaemonSetController(controllersClient, loggerFactory, time);
        services.Add(Task.Run(() => statefulSets.RunAsync(cancellationToken), cancellationToken));
        services.Add(Task.Run(() => daemonSets.RunAsync(cancellationToken), cancellationToken));
        if (options.RunKubelet)
        {
            var kubeletClient = CreateClient();
            parts.Add(new ClientDisposer(kubeletClient));
            var kubelet = await ProcessKubelet.StartAsync(kubeletClient, new ProcessKubeletOptions
            {
                NodeName = NodeName,
                ClientCertificateAuthorities = [CertificateAuthority],
            }, loggerFactory, cancellationToken).ConfigureAwait(false);
            parts.Add(kubelet);
        }
    }

    private sealed class ClientDisposer(IKubernetes client) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
