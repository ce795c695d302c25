using System.CommandLine;
using JobKit.Core.Runs;
using k8s;

namespace JobKit.Cli.Commands;

/// <summary><c>jobkit gc</c>: delete what killed runs left behind.</summary>
internal static class GcCommand
{
    public static Command Create()
    {
        var kube = new KubeFlags();
        var allNamespaces = new Option<bool>("--all-namespaces", "-A") { Description = "Look in every namespace." };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the leftovers, delete nothing." };
        var command = new Command("gc", "Delete the Jobs and ConfigMaps of finished or abandoned jobkit runs (what a killed run left behind); runs still going are left alone.")
        {
            allNamespaces, dryRun,
        };
        kube.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            using var signals = new TerminationSignals();
            return await CommandErrors.GuardAsync(signals, async () =>
            {
                var (configuration, ns) = kube.Resolve(parse);
                using var client = kube.CreateClient(parse, configuration);
                var leftovers = await Leftovers.FindAsync(client, parse.GetValue(allNamespaces) ? null : ns, DateTime.UtcNow, signals.Token).ConfigureAwait(false);
                if (leftovers.Count == 0)
                {
                    await Console.Error.WriteLineAsync($"no leftovers of jobkit runs{(parse.GetValue(allNamespaces) ? "" : $" in namespace \"{ns}\"")}").ConfigureAwait(false);
                    return ExitCodes.Succeeded;
                }
                foreach (var leftover in leftovers)
                {
                    if (parse.GetValue(dryRun))
                    {
                        await Console.Out.WriteLineAsync($"{leftover} (dry run: not deleted)").ConfigureAwait(false);
                    }
                    else if (await Leftovers.DeleteAsync(client, leftover, signals.Token).ConfigureAwait(false))
                    {
                        await Console.Out.WriteLineAsync($"{leftover.Kind}/{leftover.Name} -n {leftover.Namespace} deleted ({leftover.Reason})").ConfigureAwait(false);
                    }
                }
                return ExitCodes.Succeeded;
            }).ConfigureAwait(false);
        });
        return command;
    }
}
