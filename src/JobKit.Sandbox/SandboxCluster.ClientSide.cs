using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox;

public sealed partial class SandboxCluster
{
    private partial Task StartClientSidePartsAsync(SandboxOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken) => Task.CompletedTask;
}
