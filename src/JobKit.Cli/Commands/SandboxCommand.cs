using System.CommandLine;
using System.Diagnostics;
using JobKit.Sandbox;

namespace JobKit.Cli.Commands;

/// <summary><c>jobkit sandbox</c>: a local Kubernetes API server with its controllers and a process kubelet.</summary>
internal static class SandboxCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port to serve the API on (127.0.0.1); 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var kubeconfigOut = new Option<string?>("--kubeconfig-out") { Description = "Where to write the kubeconfig (mode 0600). Default: ./jobkit-sandbox.kubeconfig" };
        var noKubelet = new Option<bool>("--no-kubelet") { Description = "Do not run the process kubelet (pods stay Pending)." };
        var command = new Command("sandbox", "Start a local Kubernetes-compatible cluster: API server, controllers and a process kubelet that runs containers' commands as local processes.")
        {
            port, kubeconfigOut, noKubelet,
        };
        command.SetAction(async (parse, _) =>
        {
            using var signals = new TerminationSignals();
            var cancellationToken = signals.Token;
            var path = Path.GetFullPath(parse.GetValue(kubeconfigOut) ?? "jobkit-sandbox.kubeconfig");
            var started = Stopwatch.StartNew();
            await using var cluster = await SandboxCluster.StartAsync(new SandboxOptions
            {
                Port = parse.GetValue(port),
                KubeconfigPath = path,
                RunKubelet = !parse.GetValue(noKubelet),
            }, cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"sandbox: serving {cluster.ServerUrl} (started in {started.ElapsedMilliseconds} ms)").ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"sandbox: kubeconfig {path}").ConfigureAwait(false);
            try
            {
                await Console.Error.WriteLineAsync($"sandbox: export KUBECONFIG={path}; stop with Ctrl-C").ConfigureAwait(false);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
                await Console.Error.WriteLineAsync("sandbox: stopping").ConfigureAwait(false);
            }
            finally
            {
                // The kubeconfig's token dies with the sandbox: leave no stale credentials behind.
                File.Delete(path);
            }
            return 0;
        });
        return command;
    }
}
