using System.Runtime.InteropServices;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Cli.Tests;

/// <summary>jobkit and the kubectl plugin as the user runs them: built next to the tests, started as processes.</summary>
public static class Executables
{
    public const string Plugin = "kubectl-create-transient_configmap";

    /// <summary>Where the build put jobkit and kubectl-create-transient_configmap (they reference each other's output).</summary>
    public static string Directory => AppContext.BaseDirectory;

    public static string Jobkit => Path.Combine(Directory, "jobkit");

    public static string PluginPath => Path.Combine(Directory, Plugin);

    /// <summary>The plugin directory first on PATH, no KUBECONFIG: kubectl finds the plugin as a user's kubectl would.</summary>
    public static IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["PATH"] = $"{Directory}:{System.Environment.GetEnvironmentVariable("PATH")}",
        ["KUBECONFIG"] = null,
    };

    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    public static Task<ProcessResult> JobkitAsync(this ClusterFixture cluster, params string[] arguments) =>
        ChildProcess.RunAsync(Jobkit, WithKubeconfig(cluster, arguments), Environment, null, CommandTimeout, TestContext.Current.CancellationToken);

    public static ChildProcess StartJobkit(this ClusterFixture cluster, params string[] arguments) =>
        ChildProcess.Start(Jobkit, WithKubeconfig(cluster, arguments), Environment);

    /// <summary>The subcommand, then --kubeconfig (before any <c>--</c> that starts a container's command).</summary>
    private static string[] WithKubeconfig(ClusterFixture cluster, string[] arguments) => [arguments[0], "--kubeconfig", cluster.KubeconfigPath, .. arguments[1..]];

    /// <summary><c>kubectl create transient_configmap ARGS --kubeconfig ...</c>: kubectl's create-subcommand plugin lookup (kubectl 1.28+).</summary>
    public static Task<ProcessResult> KubectlCreateTransientConfigMapAsync(this ClusterFixture cluster, params string[] arguments) =>
        ChildProcess.RunAsync(Kubectl.Executable, ["create", "transient_configmap", "--kubeconfig", cluster.KubeconfigPath, .. arguments], Environment, null, CommandTimeout, TestContext.Current.CancellationToken);

    /// <summary>Everything in <paramref name="ns"/> that a test cares is left behind: Jobs, Pods and ConfigMaps other than kube-root-ca.crt.</summary>
    public static async Task<IReadOnlyList<string>> ObjectsInAsync(this ClusterFixture cluster, string ns)
    {
        var ct = TestContext.Current.CancellationToken;
        var jobs = await cluster.Client.BatchV1.ListNamespacedJobAsync(ns, cancellationToken: ct);
        var pods = await cluster.Client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: ct);
        var configMaps = await cluster.Client.CoreV1.ListNamespacedConfigMapAsync(ns, cancellationToken: ct);
        return
        [
            .. jobs.Items.Select(j => $"job/{j.Metadata.Name}"),
            .. pods.Items.Select(p => $"pod/{p.Metadata.Name}"),
            .. configMaps.Items.Where(c => c.Metadata.Name != "kube-root-ca.crt").Select(c => $"configmap/{c.Metadata.Name}"),
        ];
    }

    /// <summary>The first seed article's CronJob: NUM from an optional ConfigMap key; exit 0 for an even NUM, 1 for an odd one.</summary>
    public static V1CronJob FooBatch(string configMapName = "foo-configmap") => new()
    {
        Metadata = new V1ObjectMeta { Name = "foo-batch" },
        Spec = new V1CronJobSpec
        {
            Schedule = "0 0 * * *",
            JobTemplate = new V1JobTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["team"] = "batch" } },
                Spec = new V1JobSpec
                {
                    BackoffLimit = 0,
                    Template = new V1PodTemplateSpec
                    {
                        Spec = new V1PodSpec
                        {
                            RestartPolicy = "Never",
                            Containers =
                            [
                                new V1Container
                                {
                                    Name = "foo-batch",
                                    Image = "busybox:1.36",
                                    Command = ["sh", "-c", "if [ -z \"$NUM\" ]; then echo 'no NUM: a scheduled run'; exit 0; fi; echo \"NUM=$NUM\"; exit $((NUM % 2))"],
                                    Env =
                                    [
                                        new V1EnvVar
                                        {
                                            Name = "NUM",
                                            ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = configMapName, Key = "num", Optional = true } },
                                        },
                                    ],
                                },
                            ],
                        },
                    },
                },
            },
        },
    };

    public static bool IsPosix => !OperatingSystem.IsWindows();

    public static PosixSignal Interrupt => PosixSignal.SIGINT;
}
