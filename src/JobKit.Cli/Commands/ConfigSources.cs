using System.CommandLine;
using JobKit.Core.ConfigData;

namespace JobKit.Cli.Commands;

/// <summary>The run's ConfigMap content from --from-literal, --from-file and --from-env-file, parsed as kubectl create configmap parses them.</summary>
internal static class ConfigSources
{
    public static ConfigDataSources Of(ParseResult parse, RunFlags flags) =>
        new(parse.GetValue(flags.FromFile) ?? [], parse.GetValue(flags.FromLiteral) ?? [], parse.GetValue(flags.FromEnvFile) ?? []);

    public static bool Any(ParseResult parse, RunFlags flags) => !Of(parse, flags).IsEmpty;

    /// <exception cref="UsageException">A source is unreadable or malformed, a key is invalid or repeated, or the data exceeds 1 MiB.</exception>
    public static (Dictionary<string, string> Data, Dictionary<string, byte[]> BinaryData) Read(ParseResult parse, RunFlags flags, string? configMapName)
    {
        try
        {
            var result = ConfigDataBuilder.Build(Of(parse, flags), new ConfigDataOptions { ObjectName = configMapName ?? "" });
            return (new Dictionary<string, string>(result.Data), result.BinaryData.ToDictionary(e => e.Key, e => e.Value.ToArray()));
        }
        catch (ConfigDataException e)
        {
            throw new UsageException(e.Message, e);
        }
    }
}
