using k8s;

namespace JobKit.Sandbox;

public sealed record SandboxOptions
{
    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Where to write the kubeconfig; null writes it into a temporary directory removed on dispose.</summary>
    public string? KubeconfigPath { get; init; }

    /// <summary>Run the process kubelet in-process as node "sandbox".</summary>
    public bool RunKubelet { get; init; } = true;
}

/// <summary>The whole sandbox: API server, controllers and (optionally) the process kubelet, in this process.</summary>
public sealed partial class SandboxCluster : IAsyncDisposable
{
    public required string KubeconfigPath { get; init; }

    public required Uri ServerUrl { get; init; }

    public KubernetesClientConfiguration ClientConfiguration => KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath);
}
