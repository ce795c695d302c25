using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api;

/// <summary>
/// A label selector in its string form (k8s.io/apimachinery/pkg/labels): <c>a=b, c!=d, e in (f,g), h notin (i), j, !k</c>.
/// </summary>
public sealed class LabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> requirements = [];

    public static readonly LabelSelector Everything = new();

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }
        foreach (var term in SplitTerms(text))
        {
            selector.requirements.Add(ParseTerm(term.Trim()));
        }
        return selector;
    }

    public bool Matches(JsonObject obj) => Matches(Labels(obj));

    public bool Matches(IReadOnlyDictionary<string, string> labels) => requirements.TrueForAll(r => r(labels));

    public static Dictionary<string, string> Labels(JsonObject obj)
    {
        var result = new Dictionary<string, string>();
        if (obj["metadata"]?["labels"] is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                result[key] = value?.GetValue<string>() ?? "";
            }
        }
        return result;
    }

    /// <summary>Converts metav1.LabelSelector JSON (matchLabels, matchExpressions) to a selector.</summary>
    public static LabelSelector FromJson(JsonNode? node)
    {
        var selector = new LabelSelector();
        if (node is not JsonObject obj)
        {
            return selector;
        }
        if (obj["matchLabels"] is JsonObject matchLabels)
        {
            foreach (var (key, value) in matchLabels)
            {
                var expected = value?.GetValue<string>() ?? "";
                selector.requirements.Add(l => l.TryGetValue(key, out var v) && v == expected);
            }
        }
        if (obj["matchExpressions"] is JsonArray expressions)
        {
            foreach (var expression in expressions.OfType<JsonObject>())
            {
                var key = expression["key"]?.GetValue<string>() ?? "";
                var values = (expression["values"] as JsonArray)?.Select(v => v?.GetValue<string>() ?? "").ToHashSet() ?? [];
                selector.requirements.Add((expression["operator"]?.GetValue<string>()) switch
                {
                    "In" => l => l.TryGetValue(key, out var v) && values.Contains(v),
                    "NotIn" => l => !l.TryGetValue(key, out var v) || !values.Contains(v),
                    "Exists" => l => l.ContainsKey(key),
                    "DoesNotExist" => l => !l.ContainsKey(key),
                    var op => throw ApiException.BadRequest($"\"{op}\" is not a valid label selector operator"),
                });
            }
        }
        return selector;
    }

    private static IEnumerable<string> SplitTerms(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }
        yield return text[start..];
    }

    private static Func<IReadOnlyDictionary<string, string>, bool> ParseTerm(string term)
    {
        if (term.Length == 0)
        {
            throw ApiException.BadRequest("unable to parse requirement: found '', expected: identifier");
        }
        if (term.StartsWith('!'))
        {
            var absent = term[1..].Trim();
            return l => !l.ContainsKey(absent);
        }
        var setMatch = System.Text.RegularExpressions.Regex.Match(term, @"^(\S+)\s+(in|notin)\s*\((.*)\)$");
        if (setMatch.Success)
        {
            var key = setMatch.Groups[1].Value;
            var values = setMatch.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries).ToHashSet();
            return setMatch.Groups[2].Value == "in"
                ? l => l.TryGetValue(key, out var v) && values.Contains(v)
                : l => !l.TryGetValue(key, out var v) || !values.Contains(v);
        }
        foreach (var op in new[] { "!=", "==", "=" })
        {
            var at = term.IndexOf(op, StringComparison.Ordinal);
            if (at > 0)
            {
                var key = term[..at].Trim();
                var value = term[(at + op.Length)..].Trim();
                return op == "!="
                    ? l => !l.TryGetValue(key, out var v) || v != value
                    : l => l.TryGetValue(key, out var v) && v == value;
            }
        }
        if (term.Contains(' ', StringComparison.Ordinal) || term.Contains('(', StringComparison.Ordinal))
        {
            throw ApiException.BadRequest($"unable to parse requirement: {term}");
        }
        return l => l.ContainsKey(term);
    }
}

/// <summary>
/// A field selector: <c>metadata.name=x,status.phase!=Running</c>. Only the fields a kind's strategy exposes are
/// allowed, as the real server's GetAttrs functions; anything else is a 400 as from kube-apiserver.
/// </summary>
public sealed class FieldSelector
{
    private readonly List<(string Field, string Value, bool Equal)> terms = [];

    public static readonly FieldSelector Everything = new();

    public IReadOnlyList<(string Field, string Value, bool Equal)> Terms => terms;

    public static FieldSelector Parse(string? text, ResourceType type)
    {
        var selector = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (op, at) = raw.Contains("!=", StringComparison.Ordinal) ? ("!=", raw.IndexOf("!=", StringComparison.Ordinal))
                : raw.Contains("==", StringComparison.Ordinal) ? ("==", raw.IndexOf("==", StringComparison.Ordinal))
                : ("=", raw.IndexOf('='));
            if (at <= 0)
            {
                throw ApiException.BadRequest($"invalid selector: '{text}'; can't understand '{raw}'");
            }
            var field = raw[..at];
            var supported = SupportedFields(type);
            if (!supported.Contains(field))
            {
                // Kinds without their own field label conversion answer with the generic message
                // (runtime.DefaultMetaV1FieldSelectorConversion); the others with theirs.
                throw ApiException.BadRequest(supported.Count == 2
                    ? $"\"{field}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
                    : $"field label not supported: {field}");
            }
            selector.terms.Add((field, raw[(at + op.Length)..], op != "!="));
        }
        return selector;
    }

    public bool Matches(JsonObject obj) => terms.TrueForAll(t => (FieldValue(obj, t.Field) == t.Value) == t.Equal);

    private static HashSet<string> SupportedFields(ResourceType type)
    {
        var fields = new HashSet<string> { "metadata.name", "metadata.namespace" };
        if (type == ResourceTypes.Pod)
        {
            fields.UnionWith(["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"]);
        }
        else if (type == ResourceTypes.Event)
        {
            fields.UnionWith(["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]);
        }
        else if (type == ResourceTypes.Secret)
        {
            fields.Add("type");
        }
        else if (type == ResourceTypes.Namespace)
        {
            fields.Add("status.phase");
        }
        else if (type == ResourceTypes.Job)
        {
            fields.Add("status.successful");
        }
        else if (type == ResourceTypes.Node)
        {
            fields.Add("spec.unschedulable");
        }
        return fields;
    }

    private static string FieldValue(JsonObject obj, string field)
    {
        if (field == "source")
        {
            return obj["source"]?["component"]?.GetValue<string>() ?? "";
        }
        if (field == "status.successful")
        {
            return (obj["status"]?["succeeded"].AsInt() ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        JsonNode? node = obj;
        foreach (var part in field.Split('.'))
        {
            node = node?[part];
        }
        return node switch
        {
            null => "",
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
            _ => node.ToString(),
        };
    }
}
