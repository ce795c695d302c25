using JobKit.Core.Runs;
using Spectre.Console;

namespace JobKit.Cli.Commands;

/// <summary>
/// Progress on stderr, logs on stdout. On a terminal, one live status line (pods active, ready, succeeded, failed,
/// elapsed) stays at the bottom of stderr and is lifted out of the way of each log line; when stderr is not a terminal,
/// a plain line is written each time the pod counts change.
/// </summary>
/// <remarks>
/// Spectre.Console's live displays own a single console stream; keeping stdout free of progress for pipes while the
/// status shares the terminal with it needs the erase-and-redraw below, with Spectre rendering the line.
/// </remarks>
internal sealed class ConsoleRunObserver : IRunObserver, IDisposable
{
    private readonly Lock gate = new();
    private readonly IAnsiConsole error;
    private readonly TextWriter output;
    private readonly bool live;
    private readonly Timer? ticker;
    private readonly DateTime start = DateTime.UtcNow;
    private JobProgress? progress;
    private string? lastPlain;
    private bool statusShown;

    public ConsoleRunObserver(bool? live = null)
    {
        this.live = live ?? (!Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb"));
        error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        output = Console.Out;
        if (this.live)
        {
            ticker = new Timer(_ => Tick(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
    }

    public void Progress(string message) => WriteAbove(() => Console.Error.WriteLine(message));

    public void Warning(string message) => WriteAbove(() => error.MarkupLine($"[yellow]{Markup.Escape(message)}[/]"));

    public void LogLine(string? prefix, string line) => WriteAbove(() =>
    {
        output.WriteLine(prefix is null ? line : $"{prefix} {line}");
        output.Flush();
    });

    public void JobChanged(JobProgress progress)
    {
        lock (gate)
        {
            this.progress = progress;
            if (live)
            {
                DrawStatus();
                return;
            }
            var plain = Describe(progress, withElapsed: false);
            if (plain != lastPlain)
            {
                lastPlain = plain;
                Console.Error.WriteLine($"{plain} ({progress.Elapsed.TotalSeconds:0}s)");
            }
        }
    }

    /// <summary>Removes the status line for good (before the command's last words).</summary>
    public void Dispose()
    {
        ticker?.Dispose();
        lock (gate)
        {
            EraseStatus();
            progress = null;
        }
    }

    private static string Describe(JobProgress p, bool withElapsed) =>
        $"job \"{p.JobName}\": {p.Active} active, {p.Ready} ready, {p.Succeeded} succeeded, {p.Failed} failed" + (withElapsed ? $" ({p.Elapsed.TotalSeconds:0}s)" : "");

    private void Tick()
    {
        lock (gate)
        {
            if (progress is not null)
            {
                progress = progress with { Elapsed = DateTime.UtcNow - start };
                DrawStatus();
            }
        }
    }

    private void WriteAbove(Action write)
    {
        lock (gate)
        {
            EraseStatus();
            write();
            if (live && progress is not null)
            {
                DrawStatus();
            }
        }
    }

    private void DrawStatus()
    {
        EraseStatus();
        error.Markup($"[grey]{Markup.Escape(Describe(progress!, withElapsed: true))}[/]");
        statusShown = true;
    }

    private void EraseStatus()
    {
        if (statusShown)
        {
            Console.Error.Write("\r\u001b[2K");
            statusShown = false;
        }
    }
}
