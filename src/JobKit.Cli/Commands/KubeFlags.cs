using System.CommandLine;
using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;

namespace JobKit.Cli.Commands;

/// <summary>kubectl's connection flags, read as kubectl reads them: --kubeconfig, else every file in $KUBECONFIG, else ~/.kube/config.</summary>
internal sealed class KubeFlags
{
    public Option<string?> Kubeconfig { get; } = new("--kubeconfig") { Description = "Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)." };

    public Option<string?> Context { get; } = new("--context") { Description = "The kubeconfig context to use." };

    public Option<string?> Namespace { get; } = new("--namespace", "-n") { Description = "Namespace to work in (default: the context's namespace, else \"default\")." };

    public Option<string> RequestTimeout { get; } = new("--request-timeout") { Description = "How long to wait for a single API request before giving up (e.g. 30s, 1m); 0 waits as long as it takes.", DefaultValueFactory = _ => "0" };

    public Option<int> Verbosity { get; } = new("--v", "-v") { Description = "Log level as kubectl's: 6 and above print every API request (method, URL, status, time) to stderr.", DefaultValueFactory = _ => 0 };

    /// <summary>A client for <paramref name="configuration"/> that logs its requests at <c>-v=6</c> and above.</summary>
    public Kubernetes CreateClient(ParseResult parse, KubernetesClientConfiguration configuration) =>
        parse.GetValue(Verbosity) >= 6 ? new Kubernetes(configuration, new RequestLog()) : new Kubernetes(configuration);

    public void AddTo(Command command)
    {
        command.Options.Add(Verbosity);
        command.Options.Add(Kubeconfig);
        command.Options.Add(Context);
        command.Options.Add(Namespace);
        command.Options.Add(RequestTimeout);
    }

    /// <exception cref="UsageException">The kubeconfig, context or timeout is unusable.</exception>
    public (KubernetesClientConfiguration Configuration, string Namespace) Resolve(ParseResult parse)
    {
        if (!Durations.TryParse(parse.GetValue(RequestTimeout)!, out var timeout))
        {
            throw new UsageException($"--request-timeout: invalid duration \"{parse.GetValue(RequestTimeout)}\" (use e.g. 30s, 1m, or 0 for none)");
        }
        var explicitPath = parse.GetValue(Kubeconfig);
        var paths = explicitPath is not null
            ? [explicitPath]
            : (Environment.GetEnvironmentVariable("KUBECONFIG") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } fromEnv
                ? fromEnv
                : [KubernetesClientConfiguration.KubeConfigDefaultLocation];
        var flag = explicitPath is not null ? "--kubeconfig" : "KUBECONFIG";
        var existing = paths.Where(File.Exists).Select(p => new FileInfo(p)).ToArray();
        if (existing.Length == 0 || (explicitPath is not null && !File.Exists(explicitPath)))
        {
            throw new UsageException($"{flag}: no kubeconfig at {string.Join(":", paths)}; pass --kubeconfig, or --sandbox to run in a throwaway local cluster");
        }
        KubernetesClientConfiguration configuration;
        try
        {
            var merged = Merge(existing.Select(f => KubernetesClientConfiguration.LoadKubeConfig(f, useRelativePaths: true)).ToList());
            var context = parse.GetValue(Context);
            if (context is not null && merged.Contexts?.Any(c => c.Name == context) != true)
            {
                throw new UsageException($"--context: context \"{context}\" does not exist in {string.Join(":", existing.Select(f => f.FullName))}");
            }
            configuration = KubernetesClientConfiguration.BuildConfigFromConfigObject(merged, context);
        }
        catch (Exception e) when (e is KubeConfigException or IOException or YamlDotNet.Core.YamlException)
        {
            throw new UsageException($"{flag}: cannot use {string.Join(":", existing.Select(f => f.FullName))}: {e.Message}", e);
        }
        configuration.HttpClientTimeout = timeout ?? Timeout.InfiniteTimeSpan;
        return (configuration, parse.GetValue(Namespace) ?? configuration.Namespace ?? "default");
    }

    /// <summary>kubectl's merge of $KUBECONFIG files: the first file to name a cluster, user, context or current-context wins.</summary>
    private static K8SConfiguration Merge(List<K8SConfiguration> files)
    {
        var merged = files[0];
        foreach (var next in files.Skip(1))
        {
            merged.CurrentContext ??= next.CurrentContext;
            merged.Clusters = (merged.Clusters ?? []).Concat((next.Clusters ?? []).Where(c => merged.Clusters?.Any(m => m.Name == c.Name) != true)).ToList();
            merged.Users = (merged.Users ?? []).Concat((next.Users ?? []).Where(u => merged.Users?.Any(m => m.Name == u.Name) != true)).ToList();
            merged.Contexts = (merged.Contexts ?? []).Concat((next.Contexts ?? []).Where(c => merged.Contexts?.Any(m => m.Name == c.Name) != true)).ToList();
        }
        return merged;
    }
}

/// <summary>The command line cannot be carried out as written: exit 2, nothing touched.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
