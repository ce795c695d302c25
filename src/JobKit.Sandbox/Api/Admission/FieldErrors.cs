using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Admission;

/// <summary>k8s.io/apimachinery/pkg/util/validation/field: an ErrorList rendered as metav1.StatusCauses.</summary>
internal sealed class FieldErrors : List<StatusCause>
{
    public void Required(string path, string detail = "") =>
        Add(new StatusCause("FieldValueRequired", WithDetail("Required value", detail), path));

    /// <summary>Invalid with a value already rendered as Go prints it (see <see cref="Q"/>, <see cref="GoValue"/>).</summary>
    public void InvalidRendered(string path, string renderedValue, string detail) =>
        Add(new StatusCause("FieldValueInvalid", WithDetail($"Invalid value: {renderedValue}", detail), path));

    public void Invalid(string path, string value, string detail) => InvalidRendered(path, Q(value), detail);

    public void Invalid(string path, long value, string detail) =>
        InvalidRendered(path, value.ToString(CultureInfo.InvariantCulture), detail);

    public void NotSupported(string path, string value, params string[] supported) =>
        Add(new StatusCause("FieldValueNotSupported",
            WithDetail($"Unsupported value: {Q(value)}", supported.Length == 0 ? "" : "supported values: " + string.Join(", ", supported.Select(Q))), path));

    public void Forbidden(string path, string detail) =>
        Add(new StatusCause("FieldValueForbidden", WithDetail("Forbidden", detail), path));

    public void TooLong(string path, int max) =>
        Add(new StatusCause("FieldValueTooLong", $"Too long: may not be more than {max} bytes", path));

    public void Duplicate(string path, string value) =>
        Add(new StatusCause("FieldValueDuplicate", $"Duplicate value: {Q(value)}", path));

    public void NotFound(string path, string value) =>
        Add(new StatusCause("FieldValueNotFound", $"Not found: {Q(value)}", path));

    public void ThrowIfAny(string group, string kind, string name)
    {
        if (Count > 0)
        {
            throw ApiException.Invalid(group, kind, name, this);
        }
    }

    private static string WithDetail(string s, string detail) => detail.Length == 0 ? s : $"{s}: {detail}";

    /// <summary>Go's %q for a string.</summary>
    public static string Q(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                default:
                    if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Go's %#v of a map[string]string: <c>map[string]string{"a":"b", "c":"d"}</c> or <c>map[string]string(nil)</c>.</summary>
    public static string GoStringMap(JsonNode? node)
    {
        if (node is not JsonObject obj)
        {
            return "map[string]string(nil)";
        }
        return "map[string]string{" + string.Join(", ", obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{Q(p.Key)}:{Q((string?)p.Value ?? "")}")) + "}";
    }

    /// <summary>Go's %#v of a *metav1.LabelSelector (matchLabels rendered, matchExpressions summarized).</summary>
    public static string GoLabelSelector(JsonNode? node)
    {
        if (node is not JsonObject selector)
        {
            return "(*v1.LabelSelector)(nil)";
        }
        var expressions = selector["matchExpressions"] is JsonArray { Count: > 0 } list
            ? "[]v1.LabelSelectorRequirement{" + string.Join(", ", list.Select(e =>
                $"v1.LabelSelectorRequirement{{Key:{Q((string?)e?["key"] ?? "")}, Operator:{Q((string?)e?["operator"] ?? "")}, Values:" +
                (e?["values"] is JsonArray vals ? "[]string{" + string.Join(", ", vals.Select(v => Q((string?)v ?? ""))) + "}" : "[]string(nil)") + "}")) + "}"
            : "[]v1.LabelSelectorRequirement(nil)";
        return $"v1.LabelSelector{{MatchLabels:{GoStringMap(selector["matchLabels"])}, MatchExpressions:{expressions}}}";
    }

    /// <summary>A JSON value as Go prints a field.Invalid bad value: strings quoted, numbers and bools bare, else JSON.</summary>
    public static string GoValue(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Q(v.GetValue<string>()),
        JsonValue v => v.ToJsonString(),
        _ => node.ToJsonString(),
    };
}
