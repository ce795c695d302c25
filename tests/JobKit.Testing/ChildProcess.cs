using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace JobKit.Testing;

public sealed record ProcessResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"$ {Command}\nexit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>
/// A command started by a test (kubectl, jobkit, the kubectl plugin): output captured as it comes, so a test can wait
/// for a line, send a signal, and then for the exit.
/// </summary>
public sealed partial class ChildProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly ConcurrentQueue<TaskCompletionSource> waiters = new();
    private readonly Lock gate = new();

    private ChildProcess(Process process, string command)
    {
        this.process = process;
        Command = command;
    }

    public string Command { get; }

    public int Id => process.Id;

    /// <param name="environment">Variables to set; a null value removes the variable.</param>
    public static ChildProcess Start(string executable, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? standardInput = null)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        var process = new Process { StartInfo = start };
        var child = new ChildProcess(process, $"{Path.GetFileName(executable)} {string.Join(' ', start.ArgumentList)}");
        process.OutputDataReceived += (_, e) => child.Append(child.stdout, e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(child.stderr, e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {executable}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
        }
        process.StandardInput.Close();
        return child;
    }

    public static async Task<ProcessResult> RunAsync(string executable, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment, string? standardInput, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var child = Start(executable, arguments, environment, standardInput);
        return await child.WaitForExitAsync(timeout, cancellationToken);
    }

    public string StandardOutput
    {
        get
        {
            lock (gate)
            {
                return stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (gate)
            {
                return stderr.ToString();
            }
        }
    }

    /// <summary>Waits until stdout or stderr holds <paramref name="text"/>; fails with the output so far after <paramref name="timeout"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!(StandardOutput.Contains(text, StringComparison.Ordinal) || StandardError.Contains(text, StringComparison.Ordinal)))
        {
            if (process.HasExited)
            {
                Assert.Fail($"{Command} exited with {process.ExitCode} before printing \"{text}\"\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}");
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{Command} did not print \"{text}\" within {timeout.TotalSeconds:0} s\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}");
            }
            var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Enqueue(next);
            await Task.WhenAny(next.Task, Task.Delay(Waiting.PollInterval, cancellationToken));
        }
    }

    public void Signal(PosixSignal signal)
    {
        var number = signal switch
        {
            PosixSignal.SIGINT => 2,
            PosixSignal.SIGTERM => 15,
            PosixSignal.SIGQUIT => 3,
            _ => throw new ArgumentOutOfRangeException(nameof(signal)),
        };
        Assert.Equal(0, Kill(process.Id, number));
    }

    /// <summary>SIGKILL: the process gets no chance to clean up.</summary>
    public void KillOutright() => Assert.Equal(0, Kill(process.Id, 9));

    public async Task<ProcessResult> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail($"{Command} did not exit within {timeout.TotalSeconds:0} s\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}");
        }
        // The exit can overtake the last asynchronous output callbacks; WaitForExit() without a timeout drains them.
        process.WaitForExit();
        return new ProcessResult(Command, process.ExitCode, StandardOutput, StandardError);
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        process.Dispose();
    }

    private void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (gate)
        {
            buffer.Append(line).Append('\n');
        }
        while (waiters.TryDequeue(out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
