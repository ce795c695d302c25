using System.Collections.Immutable;
using System.Globalization;
using System.Text.Unicode;
using static JobKit.Core.ConfigData.ConfigDataSources;

namespace JobKit.Core.ConfigData;

/// <summary>
/// Turns <c>--from-file</c>, <c>--from-literal</c> and <c>--from-env-file</c> flags into ConfigMap data exactly as
/// <c>kubectl create configmap</c> v1.32 does (k8s.io/kubectl/pkg/cmd/create/create_configmap.go).
/// </summary>
public static class ConfigDataBuilder
{
    /// <summary>Builds the data, resolving relative paths against <paramref name="workingDirectory"/>.</summary>
    /// <exception cref="ConfigDataException">A flag that kubectl rejects, or values over the API server's size limit.</exception>
    public static ConfigDataResult Build(ConfigDataSources sources, string workingDirectory) =>
        Build(sources, new ConfigDataOptions { WorkingDirectory = workingDirectory });

    /// <summary>Builds the data.</summary>
    /// <exception cref="ConfigDataException">A flag that kubectl rejects, or values over the API server's size limit.</exception>
    public static ConfigDataResult Build(ConfigDataSources sources, ConfigDataOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var builder = new State(options ?? new ConfigDataOptions());

        // pflag splits the string-slice flags while parsing the command line, before anything else happens.
        var fileSources = SplitAll(FromFileFlag, sources.FromFile);
        var envFileSources = SplitAll(FromEnvFileFlag, sources.FromEnvFile);

        // ConfigMapOptions.Validate, on the values after splitting (so an empty --from-env-file= combines with anything).
        if (envFileSources.Count > 0 && (fileSources.Count > 0 || sources.FromLiteral.Count > 0))
        {
            throw new ConfigDataException(FromEnvFileFlag, null,
                "from-env-file cannot be combined with from-file or from-literal (kubectl rejects it too); "
                + "use --from-env-file on its own, or write the env file's lines as --from-literal=KEY=VALUE");
        }

        // createConfigMap: every --from-file first, then every --from-literal, then every --from-env-file.
        foreach (var source in fileSources)
        {
            builder.AddFileSource(source);
        }
        foreach (var source in sources.FromLiteral)
        {
            builder.AddLiteralSource(source);
        }
        foreach (var source in envFileSources)
        {
            builder.AddEnvFileSource(source);
        }
        builder.CheckTotalSize();
        return new ConfigDataResult(builder.Entries);
    }

    private static List<string> SplitAll(string flag, IReadOnlyList<string> rawValues)
    {
        var values = new List<string>();
        foreach (var raw in rawValues)
        {
            var (split, error) = StringSliceFlag.Split(raw);
            if (error is not null)
            {
                throw new ConfigDataException(flag, raw,
                    $"kubectl reads the value as comma-separated paths in CSV syntax and this is not valid CSV: {error}; "
                    + $"quote a path that holds a comma or a quote, e.g. {flag}='\"a,b.txt\"'");
            }
            values.AddRange(split);
        }
        return values;
    }

    private sealed class State(ConfigDataOptions options)
    {
        private readonly Dictionary<string, ConfigDataEntry> byKey = new(StringComparer.Ordinal);
        private readonly string workingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory;

        public List<ConfigDataEntry> Entries { get; } = [];

        /// <summary>handleConfigMapFromLiteralSources and util.ParseLiteralSource: split at the first '=', which may not lead.</summary>
        public void AddLiteralSource(string source)
        {
            var equals = source.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ConfigDataException(FromLiteralFlag, source, $"invalid literal source {source}, expected key=value");
            }
            Add(ConfigDataResult.TextEntry(source[..equals], source[(equals + 1)..], FromLiteralFlag, source), hint: null);
        }

        /// <summary>handleConfigMapFromFileSources: <c>PATH</c>, <c>KEY=PATH</c>, or a directory's regular files.</summary>
        public void AddFileSource(string source)
        {
            var (key, path, explicitKey) = ParseFileSource(source);
            var fullPath = FullPath(path);
            if (Directory.Exists(fullPath))
            {
                if (explicitKey)
                {
                    throw Fail(FromFileFlag, source,
                        "cannot give a key name for a directory path; give the directory alone (its files' names become the keys) or KEY=FILE for each file");
                }
                AddDirectory(source, path, fullPath);
            }
            else if (File.Exists(fullPath))
            {
                AddFile(source, key, path, fullPath,
                    explicitKey ? null : "; name the key explicitly with --from-file=KEY=PATH");
            }
            else
            {
                throw Fail(FromFileFlag, source, $"error reading {path}: no such file or directory");
            }
        }

        /// <summary>handleConfigMapFromEnvFileSources and cmdutil.AddFromEnvFile.</summary>
        public void AddEnvFileSource(string source)
        {
            var fullPath = FullPath(source);
            if (Directory.Exists(fullPath))
            {
                throw Fail(FromEnvFileFlag, source, "env config file cannot be a directory");
            }
            if (!File.Exists(fullPath))
            {
                throw Fail(FromEnvFileFlag, source, $"error reading {source}: no such file or directory");
            }
            var content = ReadFile(FromEnvFileFlag, source, source, fullPath);
            var getEnvironmentVariable = options.GetEnvironmentVariable ?? Environment.GetEnvironmentVariable;
            EnvFile.Parse(
                content,
                source,
                getEnvironmentVariable,
                line => Add(ConfigDataResult.TextEntry(line.Key, line.Value, FromEnvFileFlag, source), hint: $" (line {line.LineNumber})"),
                message => Fail(FromEnvFileFlag, source, message));
        }

        /// <summary>The API server's check (ValidateConfigMap, ValidateSecret): the values' sizes summed, keys not counted.</summary>
        public void CheckTotalSize()
        {
            var total = Entries.Sum(e => (long)e.Value.Length);
            if (options.MaxTotalSize is not { } max || total <= max)
            {
                return;
            }
            var largest = Entries.OrderByDescending(e => e.Value.Length).Take(3).ToList();
            var list = string.Join(", ", largest.Select(e => string.Create(CultureInfo.InvariantCulture, $"{ConfigDataKeys.GoQuote(e.Key)} {e.Value.Length} bytes")));
            throw Fail(largest[0].Flag, largest[0].Source, string.Create(CultureInfo.InvariantCulture,
                $"the {options.ObjectKind}'s values add up to {total} bytes, more than the {max} bytes the API server accepts (largest: {list}); "
                + $"mount large files from a volume, or split the data across several {options.ObjectKind}s"));
        }

        private void AddDirectory(string source, string path, string fullPath)
        {
            FileSystemInfo[] items;
            try
            {
                items = [.. new DirectoryInfo(fullPath).EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Fail(FromFileFlag, source, $"error listing files in {path}: {Reason(e)}", e);
            }
            // Only regular files: subdirectories, symlinks (even to files), FIFOs, sockets and devices are skipped.
            // A regular file whose name is not a valid key is an error, not skipped (the help text says otherwise).
            foreach (var item in items.Where(i => FileType.Of(i) == FileKind.Regular))
            {
                var itemPath = path.EndsWith('/') ? path + item.Name : $"{path}/{item.Name}";
                AddFile(source, item.Name, itemPath, item.FullName,
                    "; rename the file, or move it out of the directory (every regular file in it becomes a key)");
            }
        }

        /// <summary>addKeyFromFileToConfigMap: valid UTF-8 goes to data, anything else to binaryData.</summary>
        private void AddFile(string source, string key, string path, string fullPath, string? keyHint)
        {
            var content = ReadFile(FromFileFlag, source, path, fullPath);
            var isBinary = !Utf8.IsValid(content);
            Add(new ConfigDataEntry(key, ImmutableArray.Create(content), isBinary, FromFileFlag, source), keyHint);
        }

        /// <summary>validateNewConfigMap, then the add.</summary>
        private void Add(ConfigDataEntry entry, string? hint)
        {
            var errors = ConfigDataKeys.ValidateConfigMapKey(entry.Key);
            var quotedKey = ConfigDataKeys.GoQuote(entry.Key);
            if (errors.Count > 0)
            {
                throw Fail(entry.Flag, entry.Source,
                    $"{quotedKey} is not a valid key name for a {options.ObjectKind}: {string.Join(',', errors)}{hint}");
            }
            if (byKey.TryGetValue(entry.Key, out var existing))
            {
                var bag = existing.IsBinary ? "BinaryData" : "Data";
                var owner = options.ObjectName is null ? $"the {options.ObjectKind}" : $"{options.ObjectKind} {ConfigDataKeys.GoQuote(options.ObjectName)}";
                throw Fail(entry.Flag, entry.Source,
                    $"cannot add key {quotedKey}, another key by that name already exists in {bag} for {owner}{hint}; "
                    + $"it came from {existing.Flag}={existing.Source}, and each key may be given once");
            }
            byKey.Add(entry.Key, entry);
            Entries.Add(entry);
        }

        private string FullPath(string path) => path.Length == 0 ? "" : Path.GetFullPath(path, workingDirectory);

        private static byte[] ReadFile(string flag, string source, string path, string fullPath)
        {
            try
            {
                return File.ReadAllBytes(fullPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Fail(flag, source, $"open {path}: {Reason(e)}", e);
            }
        }

        /// <summary>util.ParseFileSource: the key is the path's base name unless given before a single '='.</summary>
        private static (string Key, string Path, bool ExplicitKey) ParseFileSource(string source)
        {
            var separators = source.Count(c => c == '=');
            if (separators == 0)
            {
                return (GoPathBase(source), source, false);
            }
            if (separators > 1)
            {
                throw Fail(FromFileFlag, source, "key names or file paths cannot contain '='");
            }
            var equals = source.IndexOf('=', StringComparison.Ordinal);
            if (equals == 0)
            {
                throw Fail(FromFileFlag, source, $"key name for file path {source[1..]} missing");
            }
            if (equals == source.Length - 1)
            {
                throw Fail(FromFileFlag, source, $"file path for key name {source[..^1]} missing");
            }
            return (source[..equals], source[(equals + 1)..], true);
        }

        /// <summary>Go's path.Base: the last element, trailing slashes ignored; "." for "", "/" for "/".</summary>
        private static string GoPathBase(string path)
        {
            if (path.Length == 0)
            {
                return ".";
            }
            var trimmed = path.TrimEnd('/');
            if (trimmed.Length == 0)
            {
                return "/";
            }
            var slash = trimmed.LastIndexOf('/');
            return slash < 0 ? trimmed : trimmed[(slash + 1)..];
        }

        private static string Reason(Exception e) => e switch
        {
            UnauthorizedAccessException => "permission denied",
            FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
            _ => e.Message,
        };

        private static ConfigDataException Fail(string flag, string source, string message, Exception? inner = null) =>
            new(flag, source, message, inner);
    }
}
