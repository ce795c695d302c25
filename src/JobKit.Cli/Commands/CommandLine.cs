using System.CommandLine;

namespace JobKit.Cli.Commands;

/// <summary>How both executables (jobkit, kubectl-create-transient_configmap) invoke their commands.</summary>
public static class CommandLine
{
    /// <summary>
    /// Parse errors exit 2 (System.CommandLine's default is 1, which scripts would read as "the Job failed"); signals are
    /// the commands' own business (<see cref="TerminationSignals"/>), so their cleanup is never cut short.
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }
            await Console.Error.WriteLineAsync($"See '{root.Name} --help'.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
    }

    /// <summary>The kubectl plugin's command line.</summary>
    public static Task<int> InvokeKubectlPluginAsync(string[] args) => InvokeAsync(TransientConfigMapCommand.Create(), args);
}
