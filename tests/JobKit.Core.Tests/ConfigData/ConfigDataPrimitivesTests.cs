using JobKit.Core.ConfigData;
using Xunit;

namespace JobKit.Core.Tests.ConfigData;

public sealed class ConfigDataPrimitivesTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("A-b_c.d", true)]
    [InlineData(".a", true)]
    [InlineData("a..", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    [InlineData("clé", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("..a", false)]
    public void ConfigMap_keys(string key, bool valid) => Assert.Equal(valid, ConfigDataKeys.IsValidConfigMapKey(key));

    [Fact]
    public void ConfigMap_key_length_is_253_bytes_and_errors_come_in_kubectls_order()
    {
        Assert.True(ConfigDataKeys.IsValidConfigMapKey(new string('a', 253)));
        Assert.Equal(["must be no more than 253 characters"], ConfigDataKeys.ValidateConfigMapKey(new string('a', 254)));
        Assert.Equal(["must be no more than 253 characters", ConfigDataKeys.ConfigMapKeyMessage, "must not start with '..'"],
            ConfigDataKeys.ValidateConfigMapKey(".." + new string(' ', 252)));
    }

    [Theory]
    [InlineData("A", true)]
    [InlineData("_a.b-c9", true)]
    [InlineData(".a", true)]
    [InlineData("9a", false)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("..", false)]
    public void Env_var_names(string name, bool valid) => Assert.Equal(valid, ConfigDataKeys.ValidateEnvVarName(name).Count == 0);

    [Theory]
    [InlineData("a", "\"a\"")]
    [InlineData("a\"b\\", "\"a\\\"b\\\\\"")]
    [InlineData("\t\n\r\u0007", "\"\\t\\n\\r\\a\"")]
    [InlineData("\u0001\u007f", "\"\\x01\\x7f\"")]
    [InlineData("\ufeffC", "\"\\ufeffC\"")]
    [InlineData("é 日 🎉", "\"é 日 🎉\"")]
    [InlineData("\u00a0", "\"\\u00a0\"")]
    [InlineData("\U000E0001", "\"\\U000e0001\"")]
    public void GoQuote_matches_strconv_Quote(string value, string quoted) => Assert.Equal(quoted, ConfigDataKeys.GoQuote(value));

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("a", new[] { "a" })]
    [InlineData("a,b", new[] { "a", "b" })]
    [InlineData("a,", new[] { "a", "" })]
    [InlineData(",a", new[] { "", "a" })]
    [InlineData("\"a,b\",c", new[] { "a,b", "c" })]
    [InlineData("\"a\"\"b\"", new[] { "a\"b" })]
    [InlineData("a\nb", new[] { "a" })]
    [InlineData("\n\na", new[] { "a" })]
    [InlineData("\"a\nb\"", new[] { "a\nb" })]
    [InlineData(" a , b", new[] { " a ", " b" })]
    public void String_slice_flag_splits_like_pflag(string raw, string[] expected)
    {
        var (values, error) = StringSliceFlag.Split(raw);
        Assert.Null(error);
        Assert.Equal(expected, values);
    }

    [Theory]
    [InlineData("\"a")]
    [InlineData("a\"b")]
    [InlineData("\"a\"b")]
    [InlineData("\n")]
    public void String_slice_flag_rejects_bad_csv(string raw) => Assert.NotNull(StringSliceFlag.Split(raw).Error);

    [Fact]
    public void File_type_tells_regular_files_from_the_rest()
    {
        using var directory = new TempDirectory();
        directory.Text("f", "x").Dir("d").Symlink("l", "f").Fifo("p");
        Assert.Equal(FileKind.Regular, FileType.Of(new FileInfo(directory.Combine("f"))));
        Assert.Equal(FileKind.Directory, FileType.Of(new DirectoryInfo(directory.Combine("d"))));
        Assert.Equal(FileKind.Symlink, FileType.Of(new FileInfo(directory.Combine("l"))));
        Assert.Equal(FileKind.Other, FileType.Of(new FileInfo(directory.Combine("p"))));
    }
}
