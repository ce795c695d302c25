using System.Runtime.InteropServices;

namespace JobKit.Cli.Commands;

/// <summary>
/// SIGINT and SIGTERM as a cancellation token, without terminating the process, so a command can clean up before it
/// exits with 130 or 143. (System.CommandLine's own handling returns from InvokeAsync after a grace period, which would
/// cut cleanup short; Program turns it off.)
/// </summary>
internal sealed class TerminationSignals : IDisposable
{
    private readonly CancellationTokenSource source = new();
    private readonly PosixSignalRegistration interrupt;
    private readonly PosixSignalRegistration terminate;

    public TerminationSignals()
    {
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    public CancellationToken Token => source.Token;

    /// <summary>128 + the signal number of the first signal received (130 for SIGINT, 143 for SIGTERM), else null.</summary>
    public int? ExitCode { get; private set; }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        ExitCode ??= context.Signal == PosixSignal.SIGINT ? ExitCodes.Interrupted : ExitCodes.Terminated;
        source.Cancel();
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        source.Dispose();
    }
}
