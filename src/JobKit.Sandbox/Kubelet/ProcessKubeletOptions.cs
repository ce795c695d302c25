using System.Security.Cryptography.X509Certificates;

namespace JobKit.Sandbox.Kubelet;

public sealed record ProcessKubeletOptions
{
    public required string NodeName { get; init; }

    /// <summary>CA(s) that client certificates on the log endpoint must chain to (the API server's kubelet-client cert).</summary>
    public required X509Certificate2Collection ClientCertificateAuthorities { get; init; }

    /// <summary>The log endpoint's certificate; null: a self-signed one for 127.0.0.1 (the API server does not verify kubelets).</summary>
    public X509Certificate2? ServingCertificate { get; init; }

    /// <summary>HTTPS port of the log endpoint on 127.0.0.1; 0: a free port.</summary>
    public int Port { get; init; }

    /// <summary>Where volumes and logs live; null: a temporary directory removed on dispose.</summary>
    public string? StateDirectory { get; init; }

    /// <summary>
    /// Run containers under bubblewrap (bwrap): read-only system dirs, fresh /proc, /dev and /tmp, the pod's volumes
    /// at their mount paths, nothing else of the host. False runs the command directly on the host, UNCONFINED:
    /// volumes are not mounted and paths are not rewritten; only for debugging.
    /// </summary>
    public bool Confine { get; init; } = true;
}
