using System.CommandLine;
using JobKit.Cli.Commands;

var root = new RootCommand("JobKit: run Kubernetes Jobs safely, around the ConfigMaps they read.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(GcCommand.Create());
root.Subcommands.Add(ConfigCommand.Create());
root.Subcommands.Add(SandboxCommand.Create());
root.Subcommands.Add(KubeletCommand.Create());
return await CommandLine.InvokeAsync(root, args).ConfigureAwait(false);
