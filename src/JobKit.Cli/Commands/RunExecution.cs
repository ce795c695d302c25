using System.CommandLine;
using System.Text.Json.Nodes;
using JobKit.Core.Runs;
using JobKit.Sandbox;
using k8s;
using k8s.Models;

namespace JobKit.Cli.Commands;

/// <summary>
/// What both front ends do once their own flags are read: connect (or start a sandbox), plan, dry-run or run, and turn
/// the outcome into an exit code that scripts can trust.
/// </summary>
internal static class RunExecution
{
    public static async Task<int> RunAsync(ParseResult parse, RunFlags flags, Func<string, TransientRunRequest> request, string? successLine = null)
    {
        using var signals = new TerminationSignals();
        // System.Text.Json builds its metadata for the big Job and CronJob models on first use (~0.4 s): let it do so
        // on the other core while the kubeconfig is read and the connection is set up.
        _ = Task.Run(() => KubernetesJson.Deserialize<V1CronJob>(KubernetesJson.Serialize(new V1CronJob { Spec = new V1CronJobSpec { JobTemplate = new V1JobTemplateSpec() } })));
        return await CommandErrors.GuardAsync(signals, async () =>
        {
            var dryRun = parse.GetResult(flags.DryRun) is null ? null : parse.GetValue(flags.DryRun) ?? "client";
            if (dryRun is not (null or "client" or "server" or "none"))
            {
                throw new UsageException($"--dry-run: must be \"none\", \"server\" or \"client\", not \"{dryRun}\"");
            }
            dryRun = dryRun == "none" ? null : dryRun;
            var output = parse.GetValue(flags.Output);
            if (output is not (null or "yaml" or "json"))
            {
                throw new UsageException($"--output: unsupported format \"{output}\" (yaml or json)");
            }
            if (!Durations.TryParse(parse.GetValue(flags.Timeout)!, out var timeout))
            {
                throw new UsageException($"--timeout: invalid duration \"{parse.GetValue(flags.Timeout)}\" (use e.g. 90s, 10m, 1h)");
            }
            if (parse.GetValue(flags.TtlSecondsAfterFinished) < 0)
            {
                throw new UsageException("--ttl-seconds-after-finished: must not be negative");
            }

            await using var sandbox = parse.GetValue(flags.Sandbox) ? await StartSandboxAsync(parse, flags, signals.Token).ConfigureAwait(false) : null;
            var (configuration, ns) = sandbox is not null
                ? (sandbox.ClientConfiguration, parse.GetValue(flags.Kube.Namespace) ?? "default")
                : flags.Kube.Resolve(parse);
            using var client = flags.Kube.CreateClient(parse, configuration);
            using var observer = new ConsoleRunObserver();
            var run = new TransientRun(client, observer);
            var plan = await run.PlanAsync(request(ns), signals.Token).ConfigureAwait(false);

            if (dryRun is not null)
            {
                IReadOnlyList<IKubernetesObject<V1ObjectMeta>> objects = dryRun == "server"
                    ? await run.ServerDryRunAsync(plan, signals.Token).ConfigureAwait(false)
                    : [plan.Job, .. plan.ConfigMap is null ? Array.Empty<IKubernetesObject<V1ObjectMeta>>() : [plan.ConfigMap]];
                PrintDryRun(objects, output, dryRun);
                return ExitCodes.Succeeded;
            }

            var result = await run.ExecuteAsync(plan, new TransientRunOptions
            {
                StreamLogs = parse.GetValue(flags.Logs),
                KeepOnFailure = parse.GetValue(flags.KeepOnFailure),
                Timeout = timeout,
            }, signals.Token).ConfigureAwait(false);
            observer.Dispose();
            var code = result.Outcome switch
            {
                // A success whose cleanup could not finish is not the clean result 0 promises (the warning lists what is left).
                RunOutcome.Succeeded when result.LeftBehind.Count > 0 => ExitCodes.Api,
                RunOutcome.Succeeded => ExitCodes.Succeeded,
                RunOutcome.Failed or RunOutcome.Vanished => ExitCodes.JobFailed,
                RunOutcome.TimedOut => ExitCodes.TimedOut,
                _ => signals.ExitCode ?? ExitCodes.Interrupted,
            };
            if (code == ExitCodes.Succeeded && successLine is not null)
            {
                await Console.Error.WriteLineAsync(successLine).ConfigureAwait(false);
            }
            return code;
        }).ConfigureAwait(false);
    }

    private static async Task<SandboxCluster> StartSandboxAsync(ParseResult parse, RunFlags flags, CancellationToken cancellationToken)
    {
        var sandbox = await SandboxCluster.StartAsync(new SandboxOptions(), cancellationToken).ConfigureAwait(false);
        await Console.Error.WriteLineAsync($"sandbox: serving {sandbox.ServerUrl} for this run").ConfigureAwait(false);
        try
        {
            using var client = sandbox.CreateClient();
            var ns = parse.GetValue(flags.Kube.Namespace);
            if (ns is not null && ns != "default")
            {
                await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            await SandboxSeed.ApplyAsync(client, parse.GetValue(flags.SandboxSeed) ?? [], ns ?? "default", cancellationToken).ConfigureAwait(false);
            return sandbox;
        }
        catch
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void PrintDryRun(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> objects, string? output, string dryRun)
    {
        switch (output)
        {
            case "yaml":
                Console.Out.Write(string.Join("---\n", objects.Select(o => KubernetesYaml.Serialize(o).TrimEnd('\n') + "\n")));
                break;
            case "json":
                var items = new JsonArray(objects.Select(o => JsonNode.Parse(KubernetesJson.Serialize(o))).ToArray());
                var list = new JsonObject { ["apiVersion"] = "v1", ["items"] = items, ["kind"] = "List", ["metadata"] = new JsonObject { ["resourceVersion"] = "" } };
                Console.Out.WriteLine(list.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                break;
            default:
                foreach (var o in objects)
                {
                    var kind = o.Kind == "Job" ? "job.batch" : o.Kind.ToLowerInvariant();
                    Console.Out.WriteLine($"{kind}/{o.Metadata.Name ?? o.Metadata.GenerateName} created ({(dryRun == "server" ? "server dry run" : "dry run")})");
                }
                break;
        }
    }
}
