using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Patching;

/// <summary>
/// Strategic merge patch (<c>application/strategic-merge-patch+json</c>) as the kube-apiserver applies it:
/// a port of k8s.io/apimachinery/pkg/util/strategicpatch <c>StrategicMergeMapPatch</c> (MergeParallelList and
/// IgnoreUnmatchedNulls on) over the patch metadata of the built-in kinds in <see cref="PatchSchema"/>.
/// Supports <c>$patch: delete|replace</c> (maps and list elements), <c>$retainKeys</c>,
/// <c>$deleteFromPrimitiveList/&lt;field&gt;</c> and <c>$setElementOrder/&lt;field&gt;</c>.
/// Errors carry the server's status: 400 for malformed directive lists, 422 for lists of lists, 500 (no reason)
/// for the rest (missing merge key, unknown <c>$patch</c> value, order mismatch).
/// </summary>
public static class StrategicMergePatch
{
    private const string DirectiveMarker = "$patch";
    private const string RetainKeysDirective = "$retainKeys";
    private const string DeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
    private const string SetElementOrderPrefix = "$setElementOrder";

    /// <summary>The message of the server's 415 for strategic merge patch on kinds without Go types (custom resources).</summary>
    public const string UnsupportedMediaTypeMessage =
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

    /// <summary>The server's 400 for a strategic merge patch body that is no object (real: <c>json: cannot unmarshal array into Go value of type map[string]interface {}</c>).</summary>
    public static ApiException NotAnObject(JsonNode? body) =>
        ApiException.BadRequest($"json: cannot unmarshal {JsonMergePatch.GoJsonKind(body)} into Go value of type map[string]interface {{}}");

    /// <summary>Whether the kind has Go types (patch metadata); custom resources do not: the server answers 415.</summary>
    public static bool Supports(string group, string kind) => PatchSchema.For(group, kind) is not null;

    /// <summary>
    /// Applies <paramref name="patch"/> to <paramref name="original"/> and returns the result (new nodes; neither
    /// argument is modified). Throws <see cref="ApiException"/>: 415 for kinds without <see cref="Supports"/>,
    /// and the server's errors for malformed patches.
    /// </summary>
    public static JsonObject Apply(JsonObject original, JsonObject patch, string group, string kind)
    {
        var type = PatchSchema.For(group, kind) ?? throw ApiException.UnsupportedMediaType(UnsupportedMediaTypeMessage);
        var result = MergeMap((JsonObject)original.DeepClone(), (JsonObject)patch.DeepClone(), type);
        return result;
    }

    private static JsonObject MergeMap(JsonObject original, JsonObject patch, PatchType? type)
    {
        if (patch.TryGetPropertyValue(DirectiveMarker, out var directive))
        {
            return HandleDirectiveInMergeMap(directive, patch);
        }

        ApplyRetainKeysDirective(original, patch);
        MergePatchIntoOriginal(original, patch, type);

        foreach (var (rawKey, patchValue) in patch.ToList())
        {
            var key = rawKey;
            var isDeleteList = false;
            if (key.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal))
            {
                key = ExtractKey(key, DeleteFromPrimitiveListPrefix);
                isDeleteList = true;
            }

            if (patchValue is null)
            {
                original.Remove(key);
                continue;
            }

            if (!original.TryGetPropertyValue(key, out var originalValue) || originalValue is null)
            {
                if (!isDeleteList)
                {
                    original[key] = Take(patchValue);
                }
                continue;
            }

            if (KindOf(originalValue) != KindOf(patchValue))
            {
                if (!isDeleteList)
                {
                    original[key] = Take(patchValue);
                }
                continue;
            }

            var field = type?.Lookup(key);
            switch (originalValue)
            {
                case JsonObject originalMap:
                    {
                        var patchMap = (JsonObject)patchValue;
                        if (patchMap.TryGetPropertyValue(DirectiveMarker, out var d) && d is JsonValue dv &&
                            dv.GetValueKind() == JsonValueKind.String && dv.GetValue<string>() == "delete")
                        {
                            // $patch: delete on a map yields an empty map, which the typed object drops (omitempty).
                            original.Remove(key);
                            continue;
                        }
                        var merged = MergeMap(originalMap, patchMap, field?.Type);
                        original[key] = Own(merged);
                        break;
                    }
                case JsonArray originalList:
                    {
                        // Delete lists apply whatever the field's strategy (real: $deleteFromPrimitiveList/args works).
                        var merged = field is { Merge: true } || isDeleteList
                            ? MergeSlice([.. originalList], [.. (JsonArray)patchValue], field?.MergeKey, field?.Type, isDeleteList)
                            : [.. ((JsonArray)patchValue).Select(Take)];
                        original[key] = ToArray(merged);
                        break;
                    }
                default:
                    original[key] = Take(patchValue);
                    break;
            }
        }
        return original;
    }

    private static JsonObject HandleDirectiveInMergeMap(JsonNode? directive, JsonObject patch)
    {
        var value = directive is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        switch (value)
        {
            case "replace":
                patch.Remove(DirectiveMarker);
                return (JsonObject)Take(patch)!;
            case "delete":
                return [];
            default:
                throw ApiException.Internal($"unknown patch type: {GoFormat(directive)} in map: {GoFormat(patch)}");
        }
    }

    private static void ApplyRetainKeysDirective(JsonObject original, JsonObject patch)
    {
        if (!patch.TryGetPropertyValue(RetainKeysDirective, out var retainKeys))
        {
            return;
        }
        patch.Remove(RetainKeysDirective);
        if (retainKeys is not JsonArray list)
        {
            throw ApiException.BadRequest("invalid patch format of retainKeys");
        }
        var keep = new HashSet<string>(list.Select(ScalarKey), StringComparer.Ordinal);
        foreach (var (k, v) in patch)
        {
            if (v is null || k.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal) ||
                k.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal))
            {
                continue;
            }
            if (!keep.Contains(ScalarKey(JsonValue.Create(k))))
            {
                throw ApiException.BadRequest("invalid patch format of retainKeys");
            }
        }
        foreach (var k in original.Select(p => p.Key).ToList())
        {
            if (!keep.Contains(ScalarKey(JsonValue.Create(k))))
            {
                original.Remove(k);
            }
        }
    }

    private static void MergePatchIntoOriginal(JsonObject original, JsonObject patch, PatchType? type)
    {
        foreach (var (key, orderNode) in patch.ToList())
        {
            if (!key.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal))
            {
                continue;
            }
            patch.Remove(key);
            if (orderNode is not JsonArray orderArray)
            {
                throw ApiException.Internal($"expected a []interface {{}}, but received a {GoTypeName(orderNode)}");
            }
            List<JsonNode?> order = [.. orderArray];
            var originalKey = ExtractKey(key, SetElementOrderPrefix);
            var foundOriginal = original.TryGetPropertyValue(originalKey, out var originalList) && originalList is not null;
            var foundPatch = patch.TryGetPropertyValue(originalKey, out var patchList) && patchList is not null;
            List<JsonNode?> originalItems = [], patchItems = [];
            if (foundOriginal)
            {
                originalItems = originalList is JsonArray oa ? [.. oa] : throw ApiException.Internal($"expected a []interface {{}}, but received a {GoTypeName(originalList)}");
            }
            if (foundPatch)
            {
                patchItems = patchList is JsonArray pa ? [.. pa] : throw ApiException.Internal($"expected a []interface {{}}, but received a {GoTypeName(patchList)}");
            }
            var field = type?.Lookup(originalKey);
            var mergeKey = field?.MergeKey ?? "";
            ValidatePatchWithSetOrderList(patchItems, order, mergeKey, patchList, orderNode);

            List<JsonNode?> merged;
            if (foundOriginal && !foundPatch)
            {
                merged = originalItems;
            }
            else if (!foundOriginal && foundPatch)
            {
                merged = [.. patchItems.Select(Take)];
            }
            else if (foundOriginal && foundPatch)
            {
                merged = field is { Merge: true }
                    ? MergeSlice(originalItems, patchItems, field.MergeKey, field.Type, isDeleteList: false)
                    : [.. patchItems.Select(Take)];
            }
            else
            {
                continue;
            }

            if (originalItems.Count == 0 && patchItems.Count == 0)
            {
                // sliceElementType would fail on two empty lists; the order directive is accepted and dropped.
                original[originalKey] = ToArray(merged);
                patch.Remove(originalKey);
                continue;
            }
            var (inOrder, serverOnly) = Partition(merged, order, mergeKey);
            var kind = ElementKind(originalItems, patchItems);
            var both = NormalizeElementOrder(inOrder, serverOnly, order, originalItems, mergeKey, kind);
            original[originalKey] = ToArray(both);
            patch.Remove(originalKey);
        }
    }

    private static void ValidatePatchWithSetOrderList(List<JsonNode?> patchList, List<JsonNode?> order, string mergeKey, JsonNode? rawPatch, JsonNode? rawOrder)
    {
        if (order.Count == 0 || patchList.Count == 0)
        {
            return;
        }
        var nonDelete = mergeKey.Length > 0 ? ExtractToDeleteItems(patchList).NonDelete : patchList;
        int patchIndex = 0, orderIndex = 0;
        while (patchIndex < nonDelete.Count && orderIndex < order.Count)
        {
            if (nonDelete[patchIndex] is JsonObject m && m.ContainsKey(DirectiveMarker))
            {
                patchIndex++;
                continue;
            }
            if (MergeKeyValueEqual(nonDelete[patchIndex], order[orderIndex], mergeKey))
            {
                patchIndex++;
            }
            orderIndex++;
        }
        if (patchIndex < nonDelete.Count && orderIndex >= order.Count)
        {
            throw ApiException.Internal($"The order in patch list:\n{GoFormat(rawPatch)}\n doesn't match {SetElementOrderPrefix} list:\n{GoFormat(rawOrder)}\n");
        }
    }

    private static List<JsonNode?> MergeSlice(List<JsonNode?> original, List<JsonNode?> patch, string? mergeKey, PatchType? elementType, bool isDeleteList)
    {
        if (original.Count == 0 && patch.Count == 0)
        {
            return original;
        }
        var kind = ElementKind(original, patch);
        List<JsonNode?> merged;
        mergeKey ??= "";
        if (kind != JsonValueKind.Object)
        {
            if (isDeleteList)
            {
                var toDelete = new HashSet<string>(patch.Select(ScalarKey), StringComparer.Ordinal);
                return [.. original.Where(v => !toDelete.Contains(ScalarKey(v)))];
            }
            merged = DeduplicateScalars([.. original, .. patch.Select(Take)]);
        }
        else
        {
            if (mergeKey.Length == 0)
            {
                throw ApiException.Internal("cannot merge lists without merge key for type struct");
            }
            (original, patch) = MergeSliceWithSpecialElements(original, patch, mergeKey);
            merged = MergeSliceWithoutSpecialElements([.. original], patch, mergeKey, elementType);
        }
        var (patchItems, serverOnly) = Partition(merged, patch, mergeKey);
        return NormalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
    }

    private static (List<JsonNode?> Original, List<JsonNode?> Patch) MergeSliceWithSpecialElements(List<JsonNode?> original, List<JsonNode?> patch, string mergeKey)
    {
        List<JsonNode?> withoutSpecial = [];
        var replace = false;
        foreach (var v in patch)
        {
            var typed = (JsonObject)v!;
            if (!typed.TryGetPropertyValue(DirectiveMarker, out var directive))
            {
                withoutSpecial.Add(v);
                continue;
            }
            var value = directive is JsonValue dv && dv.GetValueKind() == JsonValueKind.String ? dv.GetValue<string>() : null;
            switch (value)
            {
                case "delete":
                    if (!typed.TryGetPropertyValue(mergeKey, out var mergeValue))
                    {
                        throw NoMergeKey(typed, mergeKey);
                    }
                    var match = ScalarKey(mergeValue);
                    original = [.. original.Where(o => !(o is JsonObject om && om.TryGetPropertyValue(mergeKey, out var ov) && ScalarKey(ov) == match))];
                    break;
                case "replace":
                    replace = true;
                    break;
                case "merge":
                    throw ApiException.Internal("merging lists cannot yet be specified in the patch");
                default:
                    throw ApiException.Internal($"unknown patch type: {GoFormat(directive)} in map: {GoFormat(typed)}");
            }
        }
        return replace ? ([.. withoutSpecial.Select(Take)], []) : (original, withoutSpecial);
    }

    private static List<JsonNode?> MergeSliceWithoutSpecialElements(List<JsonNode?> original, List<JsonNode?> patch, string mergeKey, PatchType? elementType)
    {
        foreach (var v in patch)
        {
            var typed = (JsonObject)v!;
            if (!typed.TryGetPropertyValue(mergeKey, out var mergeValue))
            {
                throw NoMergeKey(typed, mergeKey);
            }
            var index = FindByMergeKey(original, mergeKey, mergeValue);
            if (index >= 0)
            {
                original[index] = MergeMap((JsonObject)original[index]!, typed, elementType);
            }
            else
            {
                original.Add(Take(typed));
            }
        }
        return original;
    }

    private static int FindByMergeKey(List<JsonNode?> list, string mergeKey, JsonNode? value)
    {
        var match = ScalarKey(value);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject m)
            {
                throw ApiException.Internal($"value for key {i} is not a map.");
            }
            if (m.TryGetPropertyValue(mergeKey, out var v) && ScalarKey(v) == match)
            {
                return i;
            }
        }
        return -1;
    }

    private static (List<JsonNode?> NonDelete, List<JsonNode?> ToDelete) ExtractToDeleteItems(List<JsonNode?> list)
    {
        List<JsonNode?> nonDelete = [], toDelete = [];
        foreach (var v in list)
        {
            if (v is not JsonObject m)
            {
                throw ApiException.Internal($"expected a map[string]interface {{}}, but received a {GoTypeName(v)}");
            }
            if (m.TryGetPropertyValue(DirectiveMarker, out var d) && d is JsonValue dv && dv.GetValueKind() == JsonValueKind.String && dv.GetValue<string>() == "delete")
            {
                toDelete.Add(v);
            }
            else
            {
                nonDelete.Add(v);
            }
        }
        return (nonDelete, toDelete);
    }

    private static (List<JsonNode?> InList, List<JsonNode?> NotInList) Partition(List<JsonNode?> items, List<JsonNode?> by, string mergeKey)
    {
        List<JsonNode?> inList = [], notInList = [];
        if (mergeKey.Length == 0)
        {
            var set = new HashSet<string>(by.Select(ScalarKey), StringComparer.Ordinal);
            foreach (var v in items)
            {
                (set.Contains(ScalarKey(v)) ? inList : notInList).Add(v);
            }
            return (inList, notInList);
        }
        foreach (var v in items)
        {
            if (v is not JsonObject m)
            {
                throw ApiException.Internal($"expected a map[string]interface {{}}, but received a {GoTypeName(v)}");
            }
            if (!m.TryGetPropertyValue(mergeKey, out var mv))
            {
                throw NoMergeKey(m, mergeKey);
            }
            var found = FindByMergeKeyLenient(by, mergeKey, mv);
            (found ? inList : notInList).Add(v);
        }
        return (inList, notInList);
    }

    private static bool FindByMergeKeyLenient(List<JsonNode?> list, string mergeKey, JsonNode? value)
    {
        var match = ScalarKey(value);
        return list.Any(i => i is JsonObject m && m.TryGetPropertyValue(mergeKey, out var v) && ScalarKey(v) == match);
    }

    private static List<JsonNode?> NormalizeElementOrder(List<JsonNode?> patch, List<JsonNode?> serverOnly, List<JsonNode?> patchOrder, List<JsonNode?> serverOrder, string mergeKey, JsonValueKind kind)
    {
        patch = NormalizeSliceOrder(patch, patchOrder, mergeKey, kind);
        serverOnly = NormalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
        return MergeSortedSlice(serverOnly, patch, serverOrder, mergeKey, kind);
    }

    private static List<JsonNode?> MergeSortedSlice(List<JsonNode?> left, List<JsonNode?> right, List<JsonNode?> serverOrder, string mergeKey, JsonValueKind kind)
    {
        var result = new List<JsonNode?>(left.Count + right.Count);
        int i = 0, j = 0;
        while (i < left.Count || j < right.Count)
        {
            if (i >= left.Count)
            {
                result.Add(right[j++]);
            }
            else if (j >= right.Count)
            {
                result.Add(left[i++]);
            }
            else
            {
                var li = IndexOf(serverOrder, left[i], mergeKey, kind);
                var ri = IndexOf(serverOrder, right[j], mergeKey, kind);
                if (li >= 0 && ri >= 0 && li < ri)
                {
                    result.Add(left[i++]);
                }
                else
                {
                    result.Add(right[j++]);
                }
            }
        }
        return result;
    }

    private static int IndexOf(List<JsonNode?> list, JsonNode? value, string mergeKey, JsonValueKind kind)
    {
        var key = kind == JsonValueKind.Object ? ScalarKey(MergeKeyValue(value, mergeKey)) : ScalarKey(value);
        for (var i = 0; i < list.Count; i++)
        {
            var candidate = kind == JsonValueKind.Object ? ScalarKey(MergeKeyValue(list[i], mergeKey)) : ScalarKey(list[i]);
            if (candidate == key)
            {
                return i;
            }
        }
        return -1;
    }

    private static JsonNode? MergeKeyValue(JsonNode? item, string mergeKey) =>
        item is JsonObject m && m.TryGetPropertyValue(mergeKey, out var v) ? v : null;

    private static List<JsonNode?> NormalizeSliceOrder(List<JsonNode?> toSort, List<JsonNode?> order, string mergeKey, JsonValueKind kind)
    {
        List<JsonNode?> toDelete = [];
        if (kind == JsonValueKind.Object)
        {
            foreach (var item in toSort.Concat(order))
            {
                if (item is not JsonObject m)
                {
                    throw ApiException.Internal($"expected a map[string]interface {{}}, but received a {GoTypeName(item)}");
                }
                if (!m.ContainsKey(mergeKey))
                {
                    throw NoMergeKey(m, mergeKey);
                }
            }
            (toSort, toDelete) = ExtractToDeleteItems(toSort);
        }
        // Stable sort by position in `order`; items missing from it keep their relative place at the end.
        var sorted = toSort
            .Select((item, position) => (item, position, rank: IndexOf(order, item, mergeKey, kind)))
            .OrderBy(t => t.rank < 0 ? int.MaxValue : t.rank)
            .ThenBy(t => t.position)
            .Select(t => t.item)
            .ToList();
        sorted.AddRange(toDelete);
        return sorted;
    }

    private static bool MergeKeyValueEqual(JsonNode? left, JsonNode? right, string mergeKey)
    {
        if (mergeKey.Length == 0)
        {
            return ScalarKey(left) == ScalarKey(right);
        }
        if (left is not JsonObject l)
        {
            throw ApiException.Internal($"expected a map[string]interface {{}}, but received a {GoTypeName(left)}");
        }
        if (right is not JsonObject r)
        {
            throw ApiException.Internal($"expected a map[string]interface {{}}, but received a {GoTypeName(right)}");
        }
        if (!l.TryGetPropertyValue(mergeKey, out var lv))
        {
            throw NoMergeKey(l, mergeKey);
        }
        if (!r.TryGetPropertyValue(mergeKey, out var rv))
        {
            throw NoMergeKey(r, mergeKey);
        }
        return ScalarKey(lv) == ScalarKey(rv);
    }

    /// <summary>deduplicateScalars: its swap-with-last removal order is kept, since the order is visible.</summary>
    private static List<JsonNode?> DeduplicateScalars(List<JsonNode?> s)
    {
        var length = s.Count - 1;
        for (var i = 0; i < length; i++)
        {
            for (var j = i + 1; j <= length; j++)
            {
                if (ScalarKey(s[i]) == ScalarKey(s[j]))
                {
                    s[j] = s[length];
                    s.RemoveAt(length);
                    length--;
                    j--;
                }
            }
        }
        return s;
    }

    private static JsonValueKind ElementKind(List<JsonNode?> a, List<JsonNode?> b)
    {
        JsonValueKind? previous = null;
        foreach (var v in a.Concat(b))
        {
            var kind = KindOf(v);
            if (previous is null)
            {
                if (kind == JsonValueKind.Array)
                {
                    throw new ApiException(422, "Invalid", "the server rejected our request due to an error in our request", kind: "");
                }
                previous = kind;
            }
            else if (previous != kind)
            {
                throw ApiException.Internal($"list element types are not identical: [{GoFormat(new JsonArray([.. a.Select(x => x?.DeepClone())]))} {GoFormat(new JsonArray([.. b.Select(x => x?.DeepClone())]))}]");
            }
        }
        return previous ?? throw ApiException.Internal("no elements in any of the given slices");
    }

    private static string ExtractKey(string s, string prefix)
    {
        var parts = s.Split('/', 2);
        if (parts.Length <= 1 || parts[0] != prefix)
        {
            throw ApiException.BadRequest(prefix == DeleteFromPrimitiveListPrefix
                ? "invalid patch format of primitive list"
                : "invalid patch format of setElementOrder list");
        }
        return parts[1];
    }

    private static ApiException NoMergeKey(JsonObject m, string mergeKey) =>
        ApiException.Internal($"map: {GoFormat(m)} does not contain declared merge key: {mergeKey}");

    /// <summary>Go's reflect kinds as far as JSON goes: map, slice, string, float64, bool (true and false alike).</summary>
    private static JsonValueKind KindOf(JsonNode? node) => node switch
    {
        null => JsonValueKind.Null,
        JsonObject => JsonValueKind.Object,
        JsonArray => JsonValueKind.Array,
        _ => node.GetValueKind() is JsonValueKind.False ? JsonValueKind.True : node.GetValueKind(),
    };

    /// <summary>A string identity for Go's <c>==</c> on decoded JSON scalars (strings, float64, bool, nil).</summary>
    private static string ScalarKey(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "s:" + v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => "n:" + v.GetValue<double>().ToString("R", CultureInfo.InvariantCulture),
        _ => "j:" + node.ToJsonString(),
    };

    /// <summary>
    /// A patch value that goes into the result as is: the typed decoding on the server drops directive keys and
    /// null members, so they are dropped here too.
    /// </summary>
    private static JsonNode? Take(JsonNode? node)
    {
        var owned = Own(node);
        Sanitize(owned);
        return owned;
    }

    private static void Sanitize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (k, v) in obj.ToList())
                {
                    if (v is null || k == DirectiveMarker || k == RetainKeysDirective ||
                        k.StartsWith(DeleteFromPrimitiveListPrefix + "/", StringComparison.Ordinal) ||
                        k.StartsWith(SetElementOrderPrefix + "/", StringComparison.Ordinal))
                    {
                        obj.Remove(k);
                    }
                    else
                    {
                        Sanitize(v);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Sanitize(item);
                }
                break;
        }
    }

    private static JsonNode? Own(JsonNode? node) => node?.Parent is null ? node : node.DeepClone();

    private static JsonArray ToArray(List<JsonNode?> items) => [.. items.Select(Own)];

    private static string GoTypeName(JsonNode? node) => node switch
    {
        null => "<nil>",
        JsonObject => "map[string]interface {}",
        JsonArray => "[]interface {}",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "float64",
            _ => "bool",
        },
    };

    /// <summary>Go's <c>%v</c> of a decoded JSON value: <c>map[k:v ...]</c> with sorted keys, <c>[a b]</c>, bare strings.</summary>
    internal static string GoFormat(JsonNode? node)
    {
        var sb = new StringBuilder();
        Format(node, sb);
        return sb.ToString();

        static void Format(JsonNode? n, StringBuilder sb)
        {
            switch (n)
            {
                case null:
                    sb.Append("<nil>");
                    break;
                case JsonObject obj:
                    sb.Append("map[");
                    var first = true;
                    foreach (var (k, v) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        if (!first)
                        {
                            sb.Append(' ');
                        }
                        first = false;
                        sb.Append(k).Append(':');
                        Format(v, sb);
                    }
                    sb.Append(']');
                    break;
                case JsonArray array:
                    sb.Append('[');
                    for (var i = 0; i < array.Count; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(' ');
                        }
                        Format(array[i], sb);
                    }
                    sb.Append(']');
                    break;
                default:
                    switch (n.GetValueKind())
                    {
                        case JsonValueKind.String:
                            sb.Append(n.GetValue<string>());
                            break;
                        case JsonValueKind.Number:
                            var d = n.GetValue<double>();
                            sb.Append(d == Math.Floor(d) && Math.Abs(d) < 1e21 ? d.ToString("0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture));
                            break;
                        default:
                            sb.Append(n.ToJsonString());
                            break;
                    }
                    break;
            }
        }
    }
}
