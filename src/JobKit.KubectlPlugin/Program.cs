return await JobKit.Cli.Commands.CommandLine.InvokeKubectlPluginAsync(args).ConfigureAwait(false);
