using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Kubelet;

/// <summary>How to start one container: the command line and environment after $(VAR) expansion, and its mounts.</summary>
internal sealed record ContainerLaunch(
    IReadOnlyList<string> Command,
    IReadOnlyList<KeyValuePair<string, string>> Environment,
    string WorkingDirectory,
    string Hostname,
    IReadOnlyList<VolumeMountPlan> Mounts,
    string? TerminationMessageFile = null);

/// <summary>A host file or directory that appears inside the confined process at <see cref="ContainerPath"/>.</summary>
internal sealed record VolumeMountPlan(string HostPath, string ContainerPath, bool ReadOnly);

/// <summary>
/// One running container process, with its stdout and stderr copied line by line into a <see cref="ContainerLogFile"/>.
/// Confined, it runs under bubblewrap in its own PID namespace so that killing the sandbox ends every process in it.
/// </summary>
internal sealed class ContainerProcess : IDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int MaxLineBytes = 16 * 1024;

    /// <summary>Host directories a confined process sees read-only (symlinks such as /bin -> usr/bin are recreated as symlinks).</summary>
    private static readonly string[] SystemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"];

    private readonly Process process;
    private readonly ContainerLogFile log;
    private readonly Lock logLock = new();
    private readonly FileStream logStream;
    private readonly Task copyOutput;

    private ContainerProcess(Process process, ContainerLogFile log, FileStream logStream)
    {
        this.process = process;
        this.log = log;
        this.logStream = logStream;
        StartedAt = DateTime.UtcNow;
        copyOutput = Task.WhenAll(
            CopyStreamAsync(process.StandardOutput.BaseStream, "stdout"),
            CopyStreamAsync(process.StandardError.BaseStream, "stderr"));
    }

    public int Id => process.Id;

    public DateTime StartedAt { get; }

    /// <summary>
    /// Starts the process; throws <see cref="ContainerStartException"/> when it cannot be started at all
    /// (the kubelet's StartError, exit code 128).
    /// </summary>
    public static ContainerProcess Start(ContainerLaunch launch, bool confine, ContainerLogFile log, ILogger logger)
    {
        if (launch.Command.Count == 0)
        {
            throw new ContainerStartException("container has no command: the process kubelet ignores images, so their entrypoint cannot run; set command (and args)");
        }
        var startInfo = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (confine)
        {
            startInfo.FileName = FindBubblewrap();
            foreach (var argument in BubblewrapArguments(launch))
            {
                startInfo.ArgumentList.Add(argument);
            }
            // Only bwrap runs here; the process itself starts at --chdir inside the sandbox.
            startInfo.WorkingDirectory = "/";
        }
        else
        {
            startInfo.FileName = launch.Command[0];
            foreach (var argument in launch.Command.Skip(1))
            {
                startInfo.ArgumentList.Add(argument);
            }
            startInfo.WorkingDirectory = Directory.Exists(launch.WorkingDirectory) ? launch.WorkingDirectory : "/";
        }
        startInfo.Environment.Clear();
        foreach (var (name, value) in launch.Environment)
        {
            startInfo.Environment[name] = value;
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(log.Path)!);
        var logStream = new FileStream(log.Path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            logStream.Dispose();
            log.MarkFinished();
            process.Dispose();
            throw new ContainerStartException($"failed to start \"{launch.Command[0]}\": {e.Message}");
        }
        // Containers get no stdin unless they ask for it (stdin: true is not supported here).
        process.StandardInput.Close();
        logger.LogDebug("started pid {Pid}: {Command}", process.Id, string.Join(' ', launch.Command));
        return new ContainerProcess(process, log, logStream);
    }

    /// <summary>Waits for the exit and for all output to be logged; returns the exit code (128+signal when killed).</summary>
    public async Task<int> WaitForExitAsync()
    {
        await process.WaitForExitAsync().ConfigureAwait(false);
        await copyOutput.ConfigureAwait(false);
        await logStream.FlushAsync().ConfigureAwait(false);
        await logStream.DisposeAsync().ConfigureAwait(false);
        log.MarkFinished();
        return process.ExitCode;
    }

    /// <summary>SIGTERM to the container's processes (not to bubblewrap, whose PID-namespace init would ignore it).</summary>
    public void Terminate()
    {
        foreach (var pid in ContainerProcessIds())
        {
            _ = Kill(pid, SigTerm);
        }
    }

    /// <summary>SIGKILL to bubblewrap and everything under it; the kernel ends the whole PID namespace with it.</summary>
    public void ForceKill()
    {
        var descendants = Descendants(process.Id);
        _ = Kill(process.Id, SigKill);
        foreach (var pid in descendants)
        {
            _ = Kill(pid, SigKill);
        }
    }

    public void Dispose()
    {
        process.Dispose();
    }

    private IEnumerable<int> ContainerProcessIds()
    {
        var root = new[] { process.Id };
        return root.Concat(Descendants(process.Id)).Where(pid => !IsBubblewrap(pid));
    }

    private static bool IsBubblewrap(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim() == "bwrap";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>All processes below <paramref name="root"/>, from /proc/*/stat's parent pids.</summary>
    private static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(System.IO.Path.Combine(directory, "stat"));
                // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so parse after the last ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = [];
                }
                list.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process exited while we looked.
            }
        }
        var result = new List<int>();
        var pending = new Queue<int>([root]);
        while (pending.TryDequeue(out var pid))
        {
            if (children.TryGetValue(pid, out var list))
            {
                foreach (var child in list)
                {
                    result.Add(child);
                    pending.Enqueue(child);
                }
            }
        }
        return result;
    }

    private static string FindBubblewrap()
    {
        foreach (var candidate in new[] { "/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new ContainerStartException("bubblewrap (bwrap) is not installed: apt-get install bubblewrap, or run the kubelet with Confine=false");
    }

    internal static List<string> BubblewrapArguments(ContainerLaunch launch)
    {
        var arguments = new List<string>
        {
            "--die-with-parent",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--hostname", launch.Hostname,
            "--new-session",
        };
        var workingDirectory = launch.WorkingDirectory;
        // Paths that must be created inside the system directories: mount points, and a missing workingDir.
        var targets = launch.Mounts.Select(m => m.ContainerPath.TrimEnd('/')).ToList();
        var inSystemDirectory = SystemDirectories.Any(d => workingDirectory.StartsWith(d + "/", StringComparison.Ordinal));
        var createWorkingDirectory = workingDirectory != "/" && !(inSystemDirectory && Directory.Exists(workingDirectory)) && !SystemDirectories.Contains(workingDirectory);
        if (createWorkingDirectory)
        {
            targets.Add(workingDirectory.TrimEnd('/'));
        }
        var remountReadOnly = new List<string>();
        foreach (var directory in SystemDirectories)
        {
            var info = new FileInfo(directory);
            if (info.LinkTarget is { } target)
            {
                arguments.AddRange(["--symlink", target, directory]);
            }
            else if (Directory.Exists(directory))
            {
                AddReadOnlyTree(arguments, directory, targets, remountReadOnly);
            }
        }
        arguments.AddRange(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/root"]);
        // Parents before children, so that a volume mounted inside another one lands on top of it.
        foreach (var mount in launch.Mounts.OrderBy(m => m.ContainerPath.TrimEnd('/').Count(c => c == '/')))
        {
            arguments.AddRange([mount.ReadOnly ? "--ro-bind" : "--bind", mount.HostPath, mount.ContainerPath]);
        }
        if (createWorkingDirectory)
        {
            // The runtime creates a missing workingDir, as container runtimes do.
            arguments.AddRange(["--dir", workingDirectory]);
        }
        foreach (var directory in remountReadOnly)
        {
            arguments.AddRange(["--remount-ro", directory]);
        }
        arguments.AddRange(["--chdir", workingDirectory, "--"]);
        arguments.AddRange(launch.Command);
        return arguments;
    }

    /// <summary>
    /// Makes the host directory visible read-only. When a mount point has to be created inside it (a volume at
    /// /etc/podinfo), a read-only bind would make that impossible, so the directory becomes a tmpfs holding
    /// read-only binds of each of its entries, remounted read-only once the volumes are in place.
    /// </summary>
    private static void AddReadOnlyTree(List<string> arguments, string directory, List<string> targets, List<string> remountReadOnly)
    {
        if (!targets.Any(t => t.StartsWith(directory + "/", StringComparison.Ordinal)))
        {
            arguments.AddRange(["--ro-bind", directory, directory]);
            return;
        }
        arguments.AddRange(["--tmpfs", directory]);
        remountReadOnly.Add(directory);
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal))
        {
            if (targets.Contains(entry))
            {
                // Whatever is mounted there hides the host's entry anyway.
                continue;
            }
            var info = new FileInfo(entry);
            if (info.LinkTarget is { } target)
            {
                arguments.AddRange(["--symlink", target, entry]);
            }
            else if (Directory.Exists(entry))
            {
                AddReadOnlyTree(arguments, entry, targets, remountReadOnly);
            }
            else
            {
                arguments.AddRange(["--ro-bind", entry, entry]);
            }
        }
    }

    private async Task CopyStreamAsync(Stream stream, string name)
    {
        var buffer = new byte[8192];
        var line = new MemoryStream();
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer).ConfigureAwait(false);
            }
            catch (IOException)
            {
                break;
            }
            if (read == 0)
            {
                break;
            }
            var now = DateTime.UtcNow;
            var chunk = buffer.AsSpan(0, read);
            while (chunk.Length > 0)
            {
                var newline = chunk.IndexOf((byte)'\n');
                if (newline < 0)
                {
                    line.Write(chunk);
                    if (line.Length >= MaxLineBytes)
                    {
                        // Very long lines are split into partial records, as the CRI does.
                        WriteRecord(now, name, partial: true, line);
                    }
                    break;
                }
                line.Write(chunk[..newline]);
                WriteRecord(now, name, partial: false, line);
                chunk = chunk[(newline + 1)..];
            }
        }
        if (line.Length > 0)
        {
            WriteRecord(DateTime.UtcNow, name, partial: true, line);
        }
    }

    private void WriteRecord(DateTime time, string stream, bool partial, MemoryStream line)
    {
        var record = ContainerLogFile.EncodeRecord(time, stream, partial, line.GetBuffer().AsSpan(0, (int)line.Length));
        line.SetLength(0);
        lock (logLock)
        {
            logStream.Write(record);
            logStream.Flush();
        }
    }

    // DllImport rather than LibraryImport: the generated marshalling needs AllowUnsafeBlocks, and kill(2) takes only ints.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>The container could not be started (the kubelet reports StartError, exit code 128).</summary>
internal sealed class ContainerStartException(string message) : Exception(message);
