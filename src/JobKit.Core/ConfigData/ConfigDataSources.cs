namespace JobKit.Core.ConfigData;

/// <summary>
/// The raw values of <c>--from-file</c>, <c>--from-literal</c> and <c>--from-env-file</c>, one list element per flag
/// occurrence, in the order given on the command line. Values are not split: <see cref="ConfigDataBuilder"/> splits
/// <c>--from-file</c> and <c>--from-env-file</c> values at commas, as kubectl's string-slice flags do.
/// </summary>
public sealed record ConfigDataSources(
    IReadOnlyList<string> FromFile,
    IReadOnlyList<string> FromLiteral,
    IReadOnlyList<string> FromEnvFile)
{
    public const string FromFileFlag = "--from-file";
    public const string FromLiteralFlag = "--from-literal";
    public const string FromEnvFileFlag = "--from-env-file";

    public static ConfigDataSources Empty { get; } = new([], [], []);

    public bool IsEmpty => FromFile.Count == 0 && FromLiteral.Count == 0 && FromEnvFile.Count == 0;

    public static ConfigDataSources Files(params string[] values) => Empty with { FromFile = values };

    public static ConfigDataSources Literals(params string[] values) => Empty with { FromLiteral = values };

    public static ConfigDataSources EnvFiles(params string[] values) => Empty with { FromEnvFile = values };
}
