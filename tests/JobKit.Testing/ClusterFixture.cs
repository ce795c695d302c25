using System.Security.Cryptography;
using System.Text;
using System.Security.Cryptography.X509Certificates;
using JobKit.Sandbox;
using JobKit.Sandbox.Kubelet;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;


namespace JobKit.Testing;

/// <summary>
/// The cluster every end-to-end test runs against: the one named by <c>JOBKIT_TEST_KUBECONFIG</c> (e.g. a real
/// control plane from <c>/work/shared/kube-control-plane/start</c>), otherwise the sandbox started in this process.
/// Tests never ask which one they got: the same expectations hold for both.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string KubeconfigVariable = "JOBKIT_TEST_KUBECONFIG";
    public const string KubectlVariable = "JOBKIT_TEST_KUBECTL";

    private SandboxCluster? sandbox;
    private ProcessKubelet? kubelet;
    private Kubernetes? client;
    private string? kubeconfigPath;

    /// <summary>A client with the fixture's (cluster-admin) credentials.</summary>
    public IKubernetes Client => client ?? throw new InvalidOperationException("the cluster fixture is not initialized");

    /// <summary>The kubeconfig of the target cluster, e.g. for <c>kubectl --kubeconfig</c>.</summary>
    public string KubeconfigPath => kubeconfigPath ?? throw new InvalidOperationException("the cluster fixture is not initialized");

    public KubernetesClientConfiguration ClientConfiguration { get; private set; } = null!;

    /// <summary>
    /// <c>&lt;dir of kubeconfig&gt;/pki/ca.crt</c> when it exists (the layout of kube-control-plane's DIR): the CA that
    /// signs the client certificate the API server presents to kubelets, so a kubelet started by this fixture must trust
    /// it as its ClientCertificateAuthorities. Null when there is no such file (e.g. the in-process sandbox).
    /// </summary>
    public string? ClusterCaCertificatePath
    {
        get
        {
            var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(KubeconfigPath)) ?? ".", "pki", "ca.crt");
            return File.Exists(path) ? path : null;
        }
    }

    /// <summary>True when the target came from <c>JOBKIT_TEST_KUBECONFIG</c>. For the fixture's own set-up only: tests must not branch on it.</summary>
    internal bool IsExternalCluster { get; private set; }

    public async ValueTask InitializeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var external = Environment.GetEnvironmentVariable(KubeconfigVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            IsExternalCluster = true;
            kubeconfigPath = Path.GetFullPath(external);
            ClientConfiguration = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfigPath);
        }
        else
        {
            sandbox = await SandboxCluster.StartAsync(new SandboxOptions(), cts.Token);
            kubeconfigPath = sandbox.KubeconfigPath;
            ClientConfiguration = sandbox.ClientConfiguration;
        }
        client = new Kubernetes(ClientConfiguration);
        await WaitForDefaultServiceAccountAsync(cts.Token);
        await StartKubeletIfNoReadyNodeAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (kubelet is not null)
        {
            await kubelet.DisposeAsync();
            kubelet = null;
        }
        client?.Dispose();
        client = null;
        if (sandbox is not null)
        {
            await sandbox.DisposeAsync();
            sandbox = null;
        }
    }

    /// <summary>
    /// Starts JobKit's process kubelet against the target unless it already has a Ready Node (e.g. the sandbox's own
    /// kubelet, or a real cluster with nodes), then waits until a Node is Ready and schedulable. The kubelet is
    /// stopped when the fixture is disposed.
    /// </summary>
    internal async Task StartKubeletIfNoReadyNodeAsync(CancellationToken cancellationToken)
    {
        // A Node that exists but is not Ready yet (a kubelet still registering) gets a short grace period; a stale
        // NotReady Node (a kubelet that went away) must not stop us from starting ours.
        var nodes = await Client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken);
        if (nodes.Items.Any(IsReady) || (nodes.Items.Count > 0 && await AnyNodeReadyWithinAsync(TimeSpan.FromSeconds(15), cancellationToken)))
        {
            return;
        }

        // A real API server presents CN=kube-apiserver-kubelet-client, signed by the cluster CA, on /containerLogs.
        var caPath = ClusterCaCertificatePath
            ?? throw new InvalidOperationException($"the cluster has no Ready node, and no cluster CA at <kubeconfig dir>/pki/ca.crt to start JobKit's process kubelet with");
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caPath);
        kubelet = await ProcessKubelet.StartAsync(Client, new ProcessKubeletOptions
        {
            NodeName = "jobkit-e2e",
            ClientCertificateAuthorities = authorities,
        }, cancellationToken: cancellationToken);
        // The node lifecycle controller lifts node.kubernetes.io/not-ready a moment after Ready=True.
        await Waiting.ForAsync(
            () => Client.CoreV1.ReadNodeAsync("jobkit-e2e", cancellationToken: cancellationToken),
            IsReady,
            TimeSpan.FromSeconds(60),
            "node jobkit-e2e to be Ready and schedulable",
            cancellationToken);
    }

    private async Task<bool> AnyNodeReadyWithinAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(Waiting.PollInterval * 5, cancellationToken);
            var nodes = await Client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken);
            if (nodes.Items.Any(IsReady))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsReady(V1Node node) =>
        node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true
        && node.Spec?.Unschedulable != true
        && node.Spec?.Taints?.Any(t => t.Effect == "NoSchedule" && t.Key is "node.kubernetes.io/not-ready" or "node.kubernetes.io/unreachable") != true;

    private Task<V1ServiceAccount?> WaitForDefaultServiceAccountAsync(CancellationToken cancellationToken) =>
        Waiting.ForAsync(
            async () => await TryReadAsync(() => Client.CoreV1.ReadNamespacedServiceAccountAsync("default", "default", cancellationToken: cancellationToken)),
            sa => sa is not null,
            TimeSpan.FromSeconds(60),
            "ServiceAccount default/default to exist",
            cancellationToken);

    /// <summary>
    /// Creates a namespace <c>jk-&lt;shortName&gt;-&lt;5 random chars&gt;</c>, deleted when the returned handle is disposed
    /// (<c>await using var ns = await fixture.CreateNamespaceAsync("crud");</c>).
    /// </summary>
    public async Task<TestNamespace> CreateNamespaceAsync(string shortName, CancellationToken cancellationToken = default)
    {
        var name = NamespaceName(shortName);
        var created = await Client.CoreV1.CreateNamespaceAsync(
            new V1Namespace { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["jobkit.test/e2e"] = "true" } } },
            cancellationToken: cancellationToken);
        // Pods are refused until the namespace's default ServiceAccount exists, which the controller-manager creates
        // when it gets to it (ServiceAccount admission): wait for it, as a careful user would.
        await Waiting.ForAsync(
            async () => await TryReadAsync(() => Client.CoreV1.ReadNamespacedServiceAccountAsync("default", name, cancellationToken: cancellationToken)),
            sa => sa is not null,
            TimeSpan.FromSeconds(30),
            $"ServiceAccount {name}/default to exist",
            cancellationToken);
        return new TestNamespace(Client, created.Metadata.Name);
    }

    public static string NamespaceName(string shortName)
    {
        var sanitized = new StringBuilder();
        foreach (var c in shortName.ToLowerInvariant())
        {
            sanitized.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '-');
        }
        var middle = sanitized.ToString().Trim('-');
        if (middle.Length > 50)
        {
            middle = middle[..50].TrimEnd('-');
        }
        return $"jk-{(middle.Length == 0 ? "test" : middle)}-{RandomSuffix(5)}";
    }

    public static string RandomSuffix(int length)
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        }
        return new string(chars);
    }

    /// <summary>Runs the real kubectl (<c>JOBKIT_TEST_KUBECTL</c>, else /usr/bin/kubectl, else PATH) with <c>--kubeconfig</c> of this cluster.</summary>
    public Task<ProcessResult> KubectlAsync(IEnumerable<string> arguments, string? standardInput = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Kubectl.RunAsync(KubeconfigPath, arguments, standardInput, timeout ?? TimeSpan.FromSeconds(120), cancellationToken);

    public Task<ProcessResult> KubectlAsync(params string[] arguments) =>
        KubectlAsync(arguments, null, null, TestContext.Current.CancellationToken);

    /// <summary>Waits, polling every 100 ms, until <paramref name="done"/> holds for what <paramref name="read"/> returns; fails naming <paramref name="what"/> and the last state seen.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "part of the fixture's API: tests call fixture.WaitForAsync")]
    public Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string what, CancellationToken cancellationToken = default) =>
        Waiting.ForAsync(read, done, timeout, what, cancellationToken);

    /// <summary>Runs <paramref name="read"/> and returns null on 404 NotFound.</summary>
    public static async Task<T?> TryReadAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
