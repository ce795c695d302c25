using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobKit.Core.Config;
using JobKit.Core.Hashing;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Cli.Commands;

/// <summary><c>jobkit config generate|apply</c>: content-hashed ConfigMaps and Secrets, and rolling workloads onto them.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var command = new Command("config", "Content-hashed ConfigMaps and Secrets (NAME-<hash>, as kustomize's generators name them) and the workloads that read them.");
        command.Subcommands.Add(Generate());
        command.Subcommands.Add(ConfigApplyCommand.Create());
        return command;
    }

    private static Command Generate()
    {
        var flags = new ConfigFlags();
        var output = new Option<string>("--output", "-o") { Description = "yaml or json.", DefaultValueFactory = _ => "yaml" };
        var command = new Command("generate", "Print the ConfigMap (or Secret) that kustomize's configMapGenerator (secretGenerator) would make of the same sources, named NAME-<hash>. Needs no cluster.")
        {
            flags.Name, output,
        };
        flags.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            try
            {
                var format = parse.GetValue(output);
                if (format is not ("yaml" or "json"))
                {
                    throw new UsageException($"--output: unsupported format \"{format}\" (yaml or json)");
                }
                var (name, data, secret, type, hash) = flags.Read(parse);
                var generated = ConfigVersions.Generate(name, data, secret, type, hash);
                await Console.Out.WriteAsync(Print(generated, format)).ConfigureAwait(false);
                return ExitCodes.Succeeded;
            }
            catch (UsageException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    public static string Print(IKubernetesObject<V1ObjectMeta> obj, string format) => format == "json"
        ? JsonNode.Parse(KubernetesJson.Serialize(obj))!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"
        : KubernetesYaml.Serialize(obj).TrimEnd('\n') + "\n";
}

/// <summary>NAME, the sources and the kind of object: what generate and apply share.</summary>
internal sealed class ConfigFlags
{
    public Argument<string> Name { get; } = new("NAME") { Description = "The configuration's name; versions are NAME-<hash>." };

    public ConfigSources Sources { get; } = new();

    public Option<bool> Secret { get; } = new("--secret") { Description = "Make a Secret (as secretGenerator / kubectl create secret generic) instead of a ConfigMap." };

    public Option<string?> Type { get; } = new("--type") { Description = "With --secret: the Secret's type (default Opaque)." };

    public Option<string> Hash { get; } = new("--hash") { Description = "Whose name suffix to compute: kustomize (configMapGenerator) or kubectl (create --append-hash).", DefaultValueFactory = _ => "kustomize" };

    public void AddTo(Command command)
    {
        Sources.AddTo(command);
        command.Options.Add(Secret);
        command.Options.Add(Type);
        command.Options.Add(Hash);
    }

    /// <exception cref="UsageException">A bad name, flag combination, source or key.</exception>
    public (string Name, JobKit.Core.ConfigData.ConfigDataResult Data, bool Secret, string? Type, ContentHashAlgorithm Hash) Read(ParseResult parse)
    {
        var name = parse.GetValue(Name)!;
        // NAME-<10 chars> must still be a DNS subdomain of at most 253 characters.
        if (name.Length > 253 - 1 - ContentHash.SuffixLength || !System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"))
        {
            throw new UsageException($"NAME: \"{name}\" is not a valid name (lower-case letters, digits, '-' and '.', at most {253 - 1 - ContentHash.SuffixLength} characters so that NAME-<hash> fits)");
        }
        var secret = parse.GetValue(Secret);
        var type = parse.GetValue(Type);
        if (type is not null && !secret)
        {
            throw new UsageException("--type: only with --secret");
        }
        var hash = parse.GetValue(Hash) switch
        {
            "kustomize" => ContentHashAlgorithm.Kustomize,
            "kubectl" => ContentHashAlgorithm.Kubectl,
            var other => throw new UsageException($"--hash: must be \"kustomize\" or \"kubectl\", not \"{other}\""),
        };
        if (!Sources.Any(parse))
        {
            throw new UsageException("no data: give at least one --from-literal, --from-file or --from-env-file");
        }
        var data = Sources.Read(parse, name, secret ? "Secret" : "ConfigMap");
        return (name, data, secret, type, hash);
    }
}
