using System.Net.Sockets;
using System.Text;
using JobKit.Core.ConfigData;
using Xunit;

namespace JobKit.Core.Tests.ConfigData;

public sealed class ConfigDataBuilderTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    private ConfigDataResult Build(ConfigDataSources sources, ConfigDataOptions? options = null) =>
        ConfigDataBuilder.Build(sources, (options ?? new ConfigDataOptions()) with { WorkingDirectory = directory.Path });

    private ConfigDataException Fails(ConfigDataSources sources, ConfigDataOptions? options = null)
    {
        var error = Assert.Throws<ConfigDataException>(() => Build(sources, options));
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\r', error.Message);
        return error;
    }

    [Fact]
    public void Files_come_first_then_literals_then_data_is_sorted()
    {
        directory.Text("b.txt", "file").Bytes("bin", [0xff]);
        var result = Build(new ConfigDataSources(["b.txt", "bin"], ["z=1", "a=2"], []));

        Assert.Equal(["b.txt", "bin", "z", "a"], result.Entries.Select(e => e.Key));
        Assert.Equal(["a", "b.txt", "z"], result.Data.Keys);
        Assert.Equal(["bin"], result.BinaryData.Keys);
        Assert.Equal("file", result.Data["b.txt"]);
        Assert.Equal("--from-file", result.Entries[0].Flag);
        Assert.Equal("b.txt", result.Entries[0].Source);
        Assert.Null(result.Entries[1].Text);
    }

    [Fact]
    public void Literal_splits_at_the_first_equals_sign()
    {
        var result = Build(ConfigDataSources.Literals("k=a=b", "e="));
        Assert.Equal("a=b", result.Data["k"]);
        Assert.Equal("", result.Data["e"]);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("=a")]
    public void Literal_without_a_key_names_the_flag(string literal)
    {
        var error = Fails(ConfigDataSources.Literals(literal));
        Assert.Equal($"--from-literal={literal}: invalid literal source {literal}, expected key=value", error.Message);
        Assert.Equal("--from-literal", error.Flag);
        Assert.Equal(literal, error.FlagValue);
    }

    [Fact]
    public void Invalid_key_quotes_it_and_gives_kubectls_reasons()
    {
        var error = Fails(ConfigDataSources.Literals("a b=1"));
        Assert.Equal($"--from-literal=a b=1: \"a b\" is not a valid key name for a ConfigMap: {ConfigDataKeys.ConfigMapKeyMessage}", error.Message);
    }

    [Fact]
    public void Duplicate_key_names_both_sources_and_the_object()
    {
        directory.Text("a", "1");
        var error = Fails(new ConfigDataSources(["a"], ["a=2"], []), new ConfigDataOptions { ObjectName = "cfg" });
        Assert.StartsWith("--from-literal=a=2: cannot add key \"a\", another key by that name already exists in Data for ConfigMap \"cfg\"", error.Message);
        Assert.Contains("it came from --from-file=a", error.Message);
    }

    [Fact]
    public void Duplicate_of_a_binary_key_says_BinaryData_and_works_without_a_name()
    {
        directory.Bytes("a", [0xff]);
        var error = Fails(new ConfigDataSources(["a"], ["a=2"], []));
        Assert.Contains("already exists in BinaryData for the ConfigMap", error.Message);
    }

    [Fact]
    public void Object_kind_changes_the_wording()
    {
        var error = Fails(ConfigDataSources.Literals(".=1"), new ConfigDataOptions { ObjectKind = "Secret" });
        Assert.EndsWith("\".\" is not a valid key name for a Secret: must not be '.'", error.Message);
    }

    [Fact]
    public void File_key_defaults_to_the_basename_of_the_path_as_given()
    {
        directory.Text("sub/dir/app.conf", "x");
        var result = Build(ConfigDataSources.Files("sub/dir/app.conf", "other=sub/dir/app.conf"));
        Assert.Equal(["app.conf", "other"], result.Data.Keys);
    }

    [Fact]
    public void Absolute_paths_ignore_the_working_directory()
    {
        directory.Text("a.txt", "x");
        var result = ConfigDataBuilder.Build(ConfigDataSources.Files(directory.Combine("a.txt")), "/nonexistent");
        Assert.Equal("x", result.Data["a.txt"]);
    }

    [Fact]
    public void Missing_file_is_reported_with_the_path_as_given()
    {
        var error = Fails(ConfigDataSources.Files("k=missing.txt"));
        Assert.Equal("--from-file=k=missing.txt: error reading missing.txt: no such file or directory", error.Message);
    }

    [Fact]
    public void Invalid_basename_suggests_an_explicit_key()
    {
        directory.Text("my file", "x");
        var error = Fails(ConfigDataSources.Files("my file"));
        Assert.EndsWith("; name the key explicitly with --from-file=KEY=PATH", error.Message);
    }

    [Theory]
    [InlineData("=a", "key name for file path a missing")]
    [InlineData("k=", "file path for key name k missing")]
    [InlineData("a=b=c", "key names or file paths cannot contain '='")]
    public void Malformed_file_source(string source, string message) =>
        Assert.Equal($"--from-file={source}: {message}", Fails(ConfigDataSources.Files(source)).Message);

    [Fact]
    public void Directory_with_a_key_is_an_error()
    {
        directory.Text("d/a", "x");
        Assert.StartsWith("--from-file=k=d: cannot give a key name for a directory path", Fails(ConfigDataSources.Files("k=d")).Message);
    }

    [Fact]
    public void Directory_packages_regular_files_only_and_does_not_block_on_a_fifo()
    {
        directory.Text("d/a", "a").Bytes("d/b", [0x80]).Text("d/sub/c", "c").Symlink("d/l", "a").Fifo("d/fifo");
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(directory.Combine("d/sock")));
            var result = Build(ConfigDataSources.Files("d"));
            Assert.Equal(["a", "b"], result.Entries.Select(e => e.Key));
            Assert.Equal([0x80], result.BinaryData["b"].ToArray());
        }
    }

    [Fact]
    public void Directory_with_an_invalid_file_name_is_an_error_not_a_skip()
    {
        directory.Text("d/bad name", "x");
        var error = Fails(ConfigDataSources.Files("d"));
        Assert.StartsWith("--from-file=d: \"bad name\" is not a valid key name for a ConfigMap", error.Message);
        Assert.EndsWith("; rename the file, or move it out of the directory (every regular file in it becomes a key)", error.Message);
    }

    [Fact]
    public void File_and_env_file_values_are_split_at_commas_like_a_csv_record()
    {
        directory.Text("a", "1").Text("b,c", "2").Text("x.env", "X=1\n").Text("y.env", "Y=2\n");
        Assert.Equal(["a", "k"], Build(ConfigDataSources.Files("a,\"k=b,c\"")).Data.Keys);
        Assert.Equal(["X", "Y"], Build(ConfigDataSources.EnvFiles("x.env,y.env")).Data.Keys);
    }

    [Fact]
    public void Bad_csv_in_a_file_flag_is_an_error_that_explains_the_quoting()
    {
        var error = Fails(ConfigDataSources.Files("\"a"));
        Assert.StartsWith("--from-file=\"a: kubectl reads the value as comma-separated paths", error.Message);
        Assert.Contains("never closed", error.Message);
    }

    [Fact]
    public void Env_file_cannot_be_combined_with_other_sources()
    {
        directory.Text("e.env", "A=1\n");
        var error = Fails(new ConfigDataSources([], ["a=1"], ["e.env"]));
        Assert.Equal("--from-env-file", error.Flag);
        Assert.StartsWith("--from-env-file: from-env-file cannot be combined with from-file or from-literal", error.Message);
    }

    [Fact]
    public void Empty_env_file_flag_value_counts_as_absent()
    {
        var result = Build(new ConfigDataSources([], ["a=1"], [""]));
        Assert.Equal(["a"], result.Data.Keys);
    }

    [Fact]
    public void Env_file_key_only_line_reads_the_given_environment()
    {
        directory.Text("e.env", "SET\nUNSET\n");
        var result = Build(ConfigDataSources.EnvFiles("e.env"),
            new ConfigDataOptions { GetEnvironmentVariable = n => n == "SET" ? "value" : null });
        Assert.Equal("value", result.Data["SET"]);
        Assert.Equal("", result.Data["UNSET"]);
    }

    [Fact]
    public void Env_file_value_is_verbatim()
    {
        directory.Text("e.env", "\ufeffA= \"quoted\" # not a comment \r\n  B='x'\n#C=3\n");
        var result = Build(ConfigDataSources.EnvFiles("e.env"));
        Assert.Equal(" \"quoted\" # not a comment ", result.Data["A"]);
        Assert.Equal("'x'", result.Data["B"]);
        Assert.Equal(2, result.Data.Count);
    }

    [Fact]
    public void Env_file_errors_give_the_line_number()
    {
        directory.Text("e.env", "A=1\n\nexport B=2\n");
        var error = Fails(ConfigDataSources.EnvFiles("e.env"));
        Assert.StartsWith("--from-env-file=e.env: line 3: \"export B\" is not a valid key name: a valid environment variable name", error.Message);
        Assert.EndsWith("; drop \"export\": env files are not shell scripts", error.Message);
    }

    [Fact]
    public void Env_file_duplicate_gives_the_line_number()
    {
        directory.Text("e.env", "A=1\nA=2\n");
        Assert.Contains("already exists in Data for the ConfigMap (line 2)", Fails(ConfigDataSources.EnvFiles("e.env")).Message);
    }

    [Fact]
    public void Env_file_with_invalid_utf8_shows_the_bytes_and_cuts_long_lines()
    {
        directory.Bytes("short.env", [.. "B="u8, 0xff]).Bytes("long.env", [.. Encoding.ASCII.GetBytes("B=" + new string('x', 100)), 0xff]);
        Assert.Contains("env file short.env contains invalid utf8 bytes at line 1: [66 61 255]", Fails(ConfigDataSources.EnvFiles("short.env")).Message);
        Assert.Contains(" 120 ...]", Fails(ConfigDataSources.EnvFiles("long.env")).Message);
    }

    [Fact]
    public void Env_file_line_longer_than_kubectl_reads_is_an_error()
    {
        directory.Text("e.env", "A=1\nB=" + new string('x', 65534) + "\n");
        var error = Fails(ConfigDataSources.EnvFiles("e.env"));
        Assert.StartsWith("--from-env-file=e.env: line 2 is longer than 65535 bytes", error.Message);
    }

    [Fact]
    public void Env_file_that_is_a_directory_or_missing()
    {
        directory.Dir("d");
        Assert.Equal("--from-env-file=d: env config file cannot be a directory", Fails(ConfigDataSources.EnvFiles("d")).Message);
        Assert.Equal("--from-env-file=n: error reading n: no such file or directory", Fails(ConfigDataSources.EnvFiles("n")).Message);
    }

    [Fact]
    public void Total_size_counts_values_only_and_allows_exactly_one_mebibyte()
    {
        directory.Bytes("big", new byte[1024 * 1024 - 1]);
        var result = Build(new ConfigDataSources(["a-very-long-key-name-that-does-not-count=big"], ["k=x"], []));
        Assert.Equal(1024 * 1024, result.TotalSize);
    }

    [Fact]
    public void Total_size_over_one_mebibyte_names_the_largest_source()
    {
        directory.Bytes("big", new byte[1024 * 1024]);
        var error = Fails(new ConfigDataSources(["big"], ["k=x"], []));
        Assert.StartsWith("--from-file=big: the ConfigMap's values add up to 1048577 bytes, more than the 1048576 bytes the API server accepts (largest: \"big\" 1048576 bytes, \"k\" 1 bytes)", error.Message);
    }

    [Fact]
    public void Size_limit_can_be_changed_or_disabled()
    {
        Fails(ConfigDataSources.Literals("a=12345"), new ConfigDataOptions { MaxTotalSize = 4 });
        Assert.Equal(5, Build(ConfigDataSources.Literals("a=12345"), new ConfigDataOptions { MaxTotalSize = null }).TotalSize);
    }

    [Fact]
    public void Utf8_size_is_counted_in_bytes()
    {
        Assert.Equal(4, Build(ConfigDataSources.Literals("a=🎉")).TotalSize);
    }

    [Fact]
    public void Message_stays_on_one_line()
    {
        var error = Fails(ConfigDataSources.Literals("no\nequals"));
        Assert.Equal("--from-literal=no\\nequals: invalid literal source no\\nequals, expected key=value", error.Message);
    }

    [Fact]
    public void ToConfigMap_carries_data_and_binary_data()
    {
        directory.Bytes("bin", [0xff, 0x00]);
        var map = Build(new ConfigDataSources(["bin"], ["a=1"], [])).ToConfigMap("cfg", "ns");
        Assert.Equal(("v1", "ConfigMap", "cfg", "ns"), (map.ApiVersion, map.Kind, map.Metadata.Name, map.Metadata.NamespaceProperty));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1" }, map.Data);
        Assert.Equal([0xff, 0x00], map.BinaryData["bin"]);
    }

    [Fact]
    public void ToConfigMap_leaves_empty_maps_null()
    {
        var map = Build(ConfigDataSources.Empty).ToConfigMap("cfg");
        Assert.Null(map.Data);
        Assert.Null(map.BinaryData);
        Assert.Null(map.Metadata.NamespaceProperty);
    }

    [Fact]
    public void ToSecret_holds_every_value_as_bytes()
    {
        directory.Bytes("bin", [0xff]);
        var secret = Build(new ConfigDataSources(["bin"], ["a=é"], [])).ToSecret("s", "ns");
        Assert.Equal("Opaque", secret.Type);
        Assert.Equal(["a", "bin"], secret.Data.Keys);
        Assert.Equal("é"u8.ToArray(), secret.Data["a"]);
        Assert.Equal([0xff], secret.Data["bin"]);
    }

    [Fact]
    public void Sources_helpers()
    {
        Assert.True(ConfigDataSources.Empty.IsEmpty);
        Assert.False(ConfigDataSources.Literals("a=1").IsEmpty);
        Assert.Equal(["x"], ConfigDataSources.Files("x").FromFile);
        Assert.Equal(["e"], ConfigDataSources.EnvFiles("e").FromEnvFile);
    }
}
