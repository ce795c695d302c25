using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;
using JobKit.Sandbox.Cluster;
using JobKit.Sandbox.Security;
using k8s;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace JobKit.Sandbox;

public sealed partial class SandboxCluster
{
    private static readonly string[] BootstrapNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];

    private readonly List<Task> services = [];
    private readonly CancellationTokenSource stopping = new();
    private readonly List<IAsyncDisposable> parts = [];
    private string? temporaryDirectory;

    public ApiServer Server { get; private set; } = null!;

    public ApiService Api { get; private set; } = null!;

    /// <summary>The sandbox's CA; a kubelet trusts client certificates it signed.</summary>
    public X509Certificate2 CertificateAuthority { get; private set; } = null!;

    public static async Task<SandboxCluster> StartAsync(SandboxOptions options, CancellationToken cancellationToken = default) =>
        await StartAsync(options, NullLoggerFactory.Instance, cancellationToken).ConfigureAwait(false);

    public static async Task<SandboxCluster> StartAsync(SandboxOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        var ca = Pki.CreateCertificateAuthority("jobkit-sandbox-ca");
        var serving = Pki.IssueServerCertificate(ca, "kube-apiserver", ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"], [IPAddress.Loopback]);
        var kubeletClient = Pki.IssueClientCertificate(ca, "kube-apiserver-kubelet-client", "system:masters");
        var adminToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var issuedTokens = new ConcurrentDictionary<string, DateTimeOffset>();
        var time = TimeProvider.System;

        var store = new ObjectStore();
        var api = new ApiService(store, time);
        var caPem = Pki.ToPem(ca);
        var namespaces = new NamespaceLifecycle(api, caPem, loggerFactory.CreateLogger("namespace-controller"));
        foreach (var ns in BootstrapNamespaces)
        {
            api.Create(ResourceTypes.Namespace, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } });
            namespaces.EnsureDefaults(ns);
        }
        store.ForgetHistory();

        var server = await ApiServer.StartAsync(api, new ApiServerOptions
        {
            Port = options.Port,
            ServingCertificate = serving,
            KubeletClientCertificate = kubeletClient,
            IsValidToken = token => token == adminToken || (issuedTokens.TryGetValue(token, out var expiry) && expiry > time.GetUtcNow()),
            IssueServiceAccountToken = (ns, sa, lifetime) =>
            {
                var token = $"sandbox-sa.{ns}.{sa}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant()}";
                issuedTokens[token] = time.GetUtcNow().Add(lifetime);
                return token;
            },
        }, loggerFactory, cancellationToken).ConfigureAwait(false);

        string? temporary = null;
        var kubeconfigPath = options.KubeconfigPath;
        if (kubeconfigPath is null)
        {
            temporary = Directory.CreateTempSubdirectory("jobkit-sandbox-").FullName;
            kubeconfigPath = Path.Combine(temporary, "kubeconfig");
        }
        WriteKubeconfig(kubeconfigPath, server.Url, caPem, adminToken);

        var cluster = new SandboxCluster
        {
            KubeconfigPath = kubeconfigPath,
            ServerUrl = server.Url,
            Server = server,
            Api = api,
            CertificateAuthority = ca,
            temporaryDirectory = temporary,
        };
        var token = cluster.stopping.Token;
        cluster.services.Add(Task.Run(() => new GarbageCollector(api, loggerFactory.CreateLogger("garbage-collector")).RunAsync(token), token));
        cluster.services.Add(Task.Run(() => namespaces.RunAsync(token), token));
        cluster.services.Add(Task.Run(() => new NodeLifecycle(api, loggerFactory.CreateLogger("node-lifecycle-controller")).RunAsync(token), token));
        cluster.services.Add(Task.Run(() => new Scheduler(api, loggerFactory.CreateLogger("scheduler")).RunAsync(token), token));
        await cluster.StartClientSidePartsAsync(options, loggerFactory, token).ConfigureAwait(false);
        return cluster;
    }

    /// <summary>The parts that, like their real counterparts, reach the API server only over HTTPS.</summary>
    private partial Task StartClientSidePartsAsync(SandboxOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken);

    /// <summary>A client for the sandbox, as the kubeconfig describes it.</summary>
    public IKubernetes CreateClient() => new Kubernetes(ClientConfiguration);

    public async ValueTask DisposeAsync()
    {
        // Controllers stop first, then the kubelet (it stops its containers) and the clients, then the server they talk to.
        await stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(services).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (TimeoutException)
        {
        }
        foreach (var part in Enumerable.Reverse(parts))
        {
            await part.DisposeAsync().ConfigureAwait(false);
        }
        await Server.DisposeAsync().ConfigureAwait(false);
        stopping.Dispose();
        if (temporaryDirectory is not null && Directory.Exists(temporaryDirectory))
        {
            Directory.Delete(temporaryDirectory, recursive: true);
        }
    }

    private static void WriteKubeconfig(string path, Uri server, string caPem, string token)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var caData = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(caPem));
        var yaml = $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: jobkit-sandbox
              cluster:
                server: {{server.ToString().TrimEnd('/')}}
                certificate-authority-data: {{caData}}
            users:
            - name: jobkit-sandbox-admin
              user:
                token: {{token}}
            contexts:
            - name: jobkit-sandbox
              context:
                cluster: jobkit-sandbox
                user: jobkit-sandbox-admin
                namespace: default
            current-context: jobkit-sandbox
            preferences: {}

            """;
        // The kubeconfig holds the admin token: create it readable by its owner only (0600), before writing.
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, fileOptions);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        using var writer = new StreamWriter(stream);
        writer.Write(yaml);
    }
}
