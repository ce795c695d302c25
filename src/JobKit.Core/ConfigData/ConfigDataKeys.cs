using System.Globalization;
using System.Text;

namespace JobKit.Core.ConfigData;

/// <summary>
/// The key rules of k8s.io/apimachinery/pkg/util/validation, with its messages word for word:
/// <c>IsConfigMapKey</c> (every ConfigMap and Secret key) and <c>IsEnvVarName</c> (the name on an env-file line).
/// </summary>
public static class ConfigDataKeys
{
    /// <summary>DNS1123SubdomainMaxLength: the longest key, in bytes.</summary>
    public const int MaxKeyLength = 253;

    internal const string ConfigMapKeyMessage =
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

    internal const string EnvVarNameMessage =
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

    /// <summary>Why <paramref name="key"/> cannot be a ConfigMap (or Secret) key; empty when it can.</summary>
    public static IReadOnlyList<string> ValidateConfigMapKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var errors = new List<string>();
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyLength)
        {
            errors.Add($"must be no more than {MaxKeyLength} characters");
        }
        if (key.Length == 0 || !key.All(IsConfigMapKeyChar))
        {
            errors.Add(ConfigMapKeyMessage);
        }
        AddChDirPrefixErrors(key, errors);
        return errors;
    }

    /// <summary>Why <paramref name="name"/> cannot be the name on an env-file line; empty when it can.</summary>
    public static IReadOnlyList<string> ValidateEnvVarName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var errors = new List<string>();
        if (name.Length == 0 || char.IsAsciiDigit(name[0]) || !name.All(IsConfigMapKeyChar))
        {
            errors.Add(EnvVarNameMessage);
        }
        AddChDirPrefixErrors(name, errors);
        return errors;
    }

    public static bool IsValidConfigMapKey(string key) => ValidateConfigMapKey(key).Count == 0;

    private static bool IsConfigMapKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    private static void AddChDirPrefixErrors(string value, List<string> errors)
    {
        if (value == ".")
        {
            errors.Add("must not be '.'");
        }
        else if (value == "..")
        {
            errors.Add("must not be '..'");
        }
        else if (value.StartsWith("..", StringComparison.Ordinal))
        {
            errors.Add("must not start with '..'");
        }
    }

    /// <summary>Go's <c>%q</c> (strconv.Quote) of a valid UTF-16 string: kubectl quotes keys this way in its messages.</summary>
    internal static string GoQuote(string value)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\a': builder.Append("\\a"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\v': builder.Append("\\v"); break;
                default:
                    if (IsGoPrintable(rune))
                    {
                        builder.Append(rune.ToString());
                    }
                    else if (rune.Value < 0x80)
                    {
                        builder.Append(CultureInfo.InvariantCulture, $"\\x{rune.Value:x2}");
                    }
                    else if (rune.Value < 0x10000)
                    {
                        builder.Append(CultureInfo.InvariantCulture, $"\\u{rune.Value:x4}");
                    }
                    else
                    {
                        builder.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:x8}");
                    }
                    break;
            }
        }
        builder.Append('"');
        return builder.ToString();
    }

    /// <summary>Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    private static bool IsGoPrintable(Rune rune)
    {
        if (rune.Value == ' ')
        {
            return true;
        }
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator => false,
            _ => true,
        };
    }
}
