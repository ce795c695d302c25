using System.Diagnostics;
using Xunit;

namespace JobKit.Testing;

public sealed record KubectlResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"$ {Command}\nexit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>Runs the real kubectl binary.</summary>
public static class Kubectl
{
    public static string Executable
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(ClusterFixture.KubectlVariable);
            if (!string.IsNullOrWhiteSpace(configured))
            {
                return configured;
            }
            return File.Exists("/usr/bin/kubectl") ? "/usr/bin/kubectl" : "kubectl";
        }
    }

    public static async Task<KubectlResult> RunAsync(string kubeconfigPath, IEnumerable<string> arguments, string? standardInput, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var args = new List<string> { "--kubeconfig", kubeconfigPath };
        args.AddRange(arguments);
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("KUBECONFIG");
        var command = $"kubectl {string.Join(' ', args.Skip(2))}";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Executable}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
        }
        process.StandardInput.Close();

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
            Assert.Fail($"{command} did not exit within {timeout.TotalSeconds:0} s\n--- stdout ---\n{await stdout}\n--- stderr ---\n{await stderr}");
        }
        return new KubectlResult(command, process.ExitCode, await stdout, await stderr);
    }
}
