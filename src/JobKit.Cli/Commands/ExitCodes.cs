namespace JobKit.Cli.Commands;

/// <summary>The exit codes scripts can rely on (README, "Exit codes").</summary>
public static class ExitCodes
{
    public const int Succeeded = 0;
    public const int JobFailed = 1;
    public const int Usage = 2;
    public const int Api = 3;
    public const int TimedOut = 124;
    public const int Interrupted = 130;
    public const int Terminated = 143;
}
