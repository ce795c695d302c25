using System.CommandLine;
using JobKit.Core.ConfigData;

namespace JobKit.Cli.Commands;

/// <summary>
/// --from-literal, --from-file and --from-env-file, parsed as kubectl create configmap parses them; shared by the
/// transient runs and jobkit config.
/// </summary>
internal sealed class ConfigSources
{
    public Option<string[]> FromLiteral { get; } = new("--from-literal") { Description = "A key and literal value (key=value), as kubectl create configmap." };

    public Option<string[]> FromFile { get; } = new("--from-file") { Description = "A file or directory ([key=]path), as kubectl create configmap." };

    public Option<string[]> FromEnvFile { get; } = new("--from-env-file") { Description = "An env file (KEY=value lines), as kubectl create configmap." };

    public void AddTo(Command command)
    {
        command.Options.Add(FromLiteral);
        command.Options.Add(FromFile);
        command.Options.Add(FromEnvFile);
    }

    public ConfigDataSources Of(ParseResult parse) =>
        new(parse.GetValue(FromFile) ?? [], parse.GetValue(FromLiteral) ?? [], parse.GetValue(FromEnvFile) ?? []);

    public bool Any(ParseResult parse) => !Of(parse).IsEmpty;

    /// <exception cref="UsageException">A source is unreadable or malformed, a key is invalid or repeated, or the data exceeds 1 MiB.</exception>
    public ConfigDataResult Read(ParseResult parse, string? objectName, string objectKind = "ConfigMap")
    {
        try
        {
            return ConfigDataBuilder.Build(Of(parse), new ConfigDataOptions { ObjectName = objectName ?? "", ObjectKind = objectKind });
        }
        catch (ConfigDataException e)
        {
            throw new UsageException(e.Message, e);
        }
    }
}
