namespace JobKit.Core.ConfigData;

/// <summary>How <see cref="ConfigDataBuilder.Build(ConfigDataSources, ConfigDataOptions?)"/> resolves and reports.</summary>
public sealed record ConfigDataOptions
{
    /// <summary>The API server's limit on the summed value sizes of a ConfigMap or Secret (core.MaxSecretSize).</summary>
    public const long ApiServerMaxTotalSize = 1024 * 1024;

    /// <summary>Relative paths are resolved against this directory; null means the process's current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>
    /// Where an env-file line without <c>=</c> takes its value from (null or unset means the empty string, as Go's
    /// os.Getenv); null means the process environment.
    /// </summary>
    public Func<string, string?>? GetEnvironmentVariable { get; init; }

    /// <summary>The object's name, quoted in duplicate-key messages as kubectl does; null leaves it out.</summary>
    public string? ObjectName { get; init; }

    /// <summary>"ConfigMap" or "Secret": the word used in messages.</summary>
    public string ObjectKind { get; init; } = "ConfigMap";

    /// <summary>
    /// Fail when the values add up to more than this many bytes; null checks nothing (kubectl's client side checks
    /// nothing either: the API server rejects the object).
    /// </summary>
    public long? MaxTotalSize { get; init; } = ApiServerMaxTotalSize;
}
