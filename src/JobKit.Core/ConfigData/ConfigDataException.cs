namespace JobKit.Core.ConfigData;

/// <summary>
/// A data-source flag that cannot become ConfigMap (or Secret) data. <see cref="Exception.Message"/> is one line that
/// names the flag and its value; a CLI prints it as <c>error: &lt;message&gt;</c>.
/// </summary>
public sealed class ConfigDataException : Exception
{
    public ConfigDataException()
    {
    }

    public ConfigDataException(string message)
        : base(OneLine(message))
    {
    }

    public ConfigDataException(string message, Exception innerException)
        : base(OneLine(message), innerException)
    {
    }

    internal ConfigDataException(string flag, string? flagValue, string message, Exception? innerException = null)
        : base(OneLine(flagValue is null ? $"{flag}: {message}" : $"{flag}={flagValue}: {message}"), innerException)
    {
        Flag = flag;
        FlagValue = flagValue;
    }

    /// <summary>The offending flag, e.g. <c>--from-file</c>.</summary>
    public string? Flag { get; }

    /// <summary>The offending flag's value (one comma-separated element of it for --from-file and --from-env-file).</summary>
    public string? FlagValue { get; }

    private static string OneLine(string message) =>
        message.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
