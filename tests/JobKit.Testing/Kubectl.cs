namespace JobKit.Testing;

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

    public static Task<ProcessResult> RunAsync(string kubeconfigPath, IEnumerable<string> arguments, string? standardInput, TimeSpan timeout, CancellationToken cancellationToken) =>
        ChildProcess.RunAsync(Executable, ["--kubeconfig", kubeconfigPath, .. arguments], new Dictionary<string, string?> { ["KUBECONFIG"] = null }, standardInput, timeout, cancellationToken);
}
