using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using JobKit.Sandbox.Kubelet;
using k8s;
using Microsoft.Extensions.Logging;

namespace JobKit.Cli.Commands;

/// <summary><c>jobkit kubelet</c>: JobKit's process kubelet as the node of any cluster.</summary>
internal static class KubeletCommand
{
    public static Command Create()
    {
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig of the cluster to serve (default: $KUBECONFIG or ~/.kube/config)." };
        var context = new Option<string?>("--context") { Description = "The kubeconfig context to use." };
        var nodeName = new Option<string>("--node-name") { Description = "Name of the Node to register.", DefaultValueFactory = _ => Environment.MachineName.ToLowerInvariant() };
        var clientCa = new Option<FileInfo>("--client-ca-file") { Description = "CA (PEM) that signs the API server's client certificate for kubelets; log requests must present a certificate it signed.", Required = true };
        var port = new Option<int>("--port") { Description = "HTTPS port for the kubelet endpoint (logs); 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log what the kubelet does to stderr." };
        var command = new Command("kubelet", "Run JobKit's process kubelet as a node of the cluster: containers' commands run as local processes under bubblewrap.")
        {
            kubeconfig, context, nodeName, clientCa, port, verbose,
        };
        command.SetAction(async (parse, _) =>
        {
            using var signals = new TerminationSignals();
            var cancellationToken = signals.Token;
            var caFile = parse.GetValue(clientCa)!;
            if (!caFile.Exists)
            {
                await Console.Error.WriteLineAsync($"error: --client-ca-file: {caFile.FullName} does not exist").ConfigureAwait(false);
                return 2;
            }
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(caFile.FullName);
            KubernetesClientConfiguration config;
            try
            {
                config = KubernetesClientConfiguration.BuildConfigFromConfigFile(parse.GetValue(kubeconfig), parse.GetValue(context));
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or FileNotFoundException)
            {
                await Console.Error.WriteLineAsync($"error: --kubeconfig: {e.Message}").ConfigureAwait(false);
                return 2;
            }
            using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning));
            using var client = new Kubernetes(config);
            await using var kubelet = await ProcessKubelet.StartAsync(client, new ProcessKubeletOptions
            {
                NodeName = parse.GetValue(nodeName)!,
                ClientCertificateAuthorities = authorities,
                Port = parse.GetValue(port),
            }, loggerFactory, cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"kubelet: node {parse.GetValue(nodeName)} serving logs on https://127.0.0.1:{kubelet.Port}; stop with Ctrl-C").ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            return 0;
        });
        return command;
    }
}
