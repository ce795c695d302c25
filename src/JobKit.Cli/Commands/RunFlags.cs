using System.CommandLine;

namespace JobKit.Cli.Commands;

/// <summary>The flags every transient run takes, whichever front end (jobkit run, kubectl create transient_configmap).</summary>
internal sealed class RunFlags
{
    public KubeFlags Kube { get; } = new();

    public ConfigSources Sources { get; } = new();

    public Option<string> Timeout { get; } = new("--timeout") { Description = "Give up waiting after this long (e.g. 90s, 1h), clean up, exit 124. Default: wait as long as the Job runs.", DefaultValueFactory = _ => "0" };

    public Option<string?> DryRun { get; } = new("--dry-run") { Description = "client: print what would be created; server: have the API server validate it too. Nothing is created.", Arity = ArgumentArity.ZeroOrOne };

    public Option<string?> Output { get; } = new("--output", "-o") { Description = "With --dry-run: yaml or json." };

    public Option<bool> KeepOnFailure { get; } = new("--keep-on-failure") { Description = "Leave a failed run's Job and ConfigMap for debugging, and print how to delete them." };

    public Option<bool> Logs { get; } = new("--logs") { Description = "Stream the pods' logs to stdout.", DefaultValueFactory = _ => true };

    public Option<bool> Sandbox { get; } = new("--sandbox") { Description = "Run in a throwaway in-process sandbox cluster instead of the kubeconfig's cluster." };

    public Option<FileInfo[]> SandboxSeed { get; } = new("--sandbox-seed") { Description = "Manifests (CronJob, Job, ConfigMap, Secret, Namespace) to create in the sandbox before the run." };

    public Option<int> TtlSecondsAfterFinished { get; } = new("--ttl-seconds-after-finished") { Description = "Kubernetes deletes the run's Job, pods and ConfigMap this long after it finishes, should jobkit be killed before it cleans up.", DefaultValueFactory = _ => 600 };

    public void AddTo(Command command)
    {
        Kube.AddTo(command);
        Sources.AddTo(command);
        foreach (var option in new Option[] { Timeout, DryRun, Output, KeepOnFailure, Logs, Sandbox, SandboxSeed, TtlSecondsAfterFinished })
        {
            command.Options.Add(option);
        }
    }
}
