using JobKit.Sandbox;

namespace JobKit.Cli.Commands;

internal static class SandboxJobRunner
{
    public static Task<int> RunAsync(SandboxCluster cluster, FileInfo manifest, CancellationToken cancellationToken) => Task.FromResult(2);
}
