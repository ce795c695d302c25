using System.CommandLine;
using JobKit.Cli.Commands;

var root = new RootCommand("JobKit: run Kubernetes Jobs safely, around the ConfigMaps they read.");
root.Subcommands.Add(SandboxCommand.Create());
root.Subcommands.Add(KubeletCommand.Create());
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
