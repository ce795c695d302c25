namespace JobKit.Sandbox;

public sealed partial class SandboxCluster
{
    public static Task<SandboxCluster> StartAsync(SandboxOptions options, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("the sandbox API server lands on main soon");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
