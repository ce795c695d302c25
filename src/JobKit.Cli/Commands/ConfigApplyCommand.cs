using System.CommandLine;
using JobKit.Core.Config;
using k8s;

namespace JobKit.Cli.Commands;

/// <summary><c>jobkit config apply</c>: create NAME-&lt;hash&gt;, point workloads at it, follow their rollouts, prune old versions.</summary>
internal static class ConfigApplyCommand
{
    public static Command Create()
    {
        var flags = new ConfigFlags();
        var kube = new KubeFlags();
        var to = new Option<string[]>("--to") { Description = "The workloads to roll: kind/name, comma-separated or repeated (deployment, statefulset, daemonset, cronjob).", Required = true };
        var keep = new Option<int>("--keep") { Description = "Keep the newest N versions even when nothing reads them (for kubectl rollout undo); older unread ones are pruned.", DefaultValueFactory = _ => 3 };
        var wait = new Option<bool>("--wait") { Description = "Follow the rollouts to the end (as kubectl rollout status); prune only if they all succeed." };
        var timeout = new Option<string>("--timeout") { Description = "With --wait: give up after this long (e.g. 90s, 5m), exit 124; 0 waits as long as it takes.", DefaultValueFactory = _ => "5m" };
        var dryRun = new Option<string?>("--dry-run") { Description = "client: print what would change; server: have the API server check every change too. Nothing changes.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("apply", "Create the content-hashed NAME-<hash> (immutable), point the workloads' references to any earlier version of NAME at it, and prune old versions nothing reads.")
        {
            flags.Name, to, keep, wait, timeout, dryRun,
        };
        flags.AddTo(command);
        kube.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            using var signals = new TerminationSignals();
            return await CommandErrors.GuardAsync(signals, async () =>
            {
                var mode = parse.GetResult(dryRun) is null ? null : parse.GetValue(dryRun) ?? "client";
                if (mode is not (null or "client" or "server" or "none"))
                {
                    throw new UsageException($"--dry-run: must be \"none\", \"server\" or \"client\", not \"{mode}\"");
                }
                mode = mode == "none" ? null : mode;
                if (!Durations.TryParse(parse.GetValue(timeout)!, out var waitTimeout))
                {
                    throw new UsageException($"--timeout: invalid duration \"{parse.GetValue(timeout)}\" (use e.g. 90s, 5m)");
                }
                if (parse.GetValue(keep) < 1)
                {
                    throw new UsageException("--keep: must be at least 1 (the current version)");
                }
                var (name, data, secret, type, hash) = flags.Read(parse);
                var targets = parse.GetValue(to)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(WorkloadReference.Parse).ToList();
                var (configuration, ns) = kube.Resolve(parse);
                using var client = kube.CreateClient(parse, configuration);
                var observer = new ConsoleRolloutObserver();
                var rollout = new ConfigRollout(client, observer);
                var plan = await rollout.PlanAsync(new ConfigRolloutRequest(ns, name, data, targets) { Secret = secret, SecretType = type, Hash = hash, Keep = parse.GetValue(keep) }, signals.Token).ConfigureAwait(false);
                var result = await rollout.ExecuteAsync(plan, new ConfigRolloutOptions { Wait = parse.GetValue(wait), Timeout = waitTimeout, DryRun = mode }, signals.Token).ConfigureAwait(false);
                return result.Outcome switch
                {
                    ConfigRolloutOutcome.Failed => ExitCodes.JobFailed,
                    ConfigRolloutOutcome.TimedOut => ExitCodes.TimedOut,
                    _ => ExitCodes.Succeeded,
                };
            }).ConfigureAwait(false);
        });
        return command;
    }
}

/// <summary>Results on stdout (kubectl's lines), progress and warnings on stderr, one line each.</summary>
internal sealed class ConsoleRolloutObserver : IRolloutObserver
{
    private readonly Lock gate = new();

    public void Result(string line)
    {
        lock (gate)
        {
            Console.Out.WriteLine(line);
        }
    }

    public void Progress(string message)
    {
        lock (gate)
        {
            Console.Error.WriteLine(message);
        }
    }

    public void Warning(string message)
    {
        lock (gate)
        {
            Console.Error.WriteLine($"warning: {message}");
        }
    }

    public void RolloutChanged(RolloutProgress progress) => Progress($"{progress.Workload.Display}: {progress.Message}");
}
