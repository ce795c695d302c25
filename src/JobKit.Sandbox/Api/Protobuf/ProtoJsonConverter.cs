using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;

namespace JobKit.Sandbox.Api.Protobuf;

/// <summary>Turns a protobuf message into the JSON Go's encoding/json writes for the same Kubernetes object.</summary>
internal sealed class ProtoJsonConverter(ProtoSchema schema, Func<ReadOnlySpan<byte>, int, JsonObject> decodeEmbedded)
{
    private const int MaxDepth = 100;

    public ProtoSchema Schema { get; } = schema;

    public JsonNode? ConvertMessage(MessageSchema message, ReadOnlySpan<byte> data, int depth)
    {
        if (depth > MaxDepth)
        {
            throw WireReader.Malformed("message nested too deeply");
        }
        return message.Special switch
        {
            SpecialType.Time => ConvertTime(data, micro: false),
            SpecialType.MicroTime => ConvertTime(data, micro: true),
            SpecialType.Duration => GoDuration.Format(ReadSingle(data, 1) is { } d ? (long)d.Varint : 0),
            SpecialType.Quantity => ReadSingle(data, 1) is { } q && q.Bytes.Length > 0 ? Encoding.UTF8.GetString(q.Bytes) : "0",
            SpecialType.IntOrString => ConvertIntOrString(data),
            SpecialType.RawExtension => ConvertRaw(data, depth, allowProtobuf: true),
            SpecialType.FieldsV1 => ConvertRaw(data, depth, allowProtobuf: false),
            SpecialType.ItemsArray => ConvertObject(message, data, depth)["items"]?.DeepClone() ?? new JsonArray(),
            _ => ConvertObject(message, data, depth),
        };
    }

    public JsonObject ConvertObject(MessageSchema message, ReadOnlySpan<byte> data, int depth)
    {
        var values = new Dictionary<int, JsonNode?>();
        var reader = new WireReader(data);
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            if (!message.ByNumber.TryGetValue(number, out var field))
            {
                reader.Skip(wireType);
                continue;
            }
            if (field.IsMap)
            {
                if (wireType != WireType.LengthDelimited)
                {
                    throw Mismatch(message, field);
                }
                var map = (JsonObject)(values.TryGetValue(number, out var existing) ? existing! : values[number] = new JsonObject());
                var (key, value) = ConvertMapEntry(field.Message!, reader.ReadLengthDelimited(), depth + 1);
                map[key] = value;
            }
            else if (field.Repeated)
            {
                var array = (JsonArray)(values.TryGetValue(number, out var existing) ? existing! : values[number] = new JsonArray());
                if (wireType == WireType.LengthDelimited && IsPackable(field.Type))
                {
                    var packed = new WireReader(reader.ReadLengthDelimited());
                    while (!packed.End)
                    {
                        array.Add(ReadScalar(ref packed, message, field, WireTypeOf(field.Type)).Value);
                    }
                }
                else
                {
                    array.Add(ReadValue(ref reader, message, field, wireType, depth).Value);
                }
            }
            else
            {
                var (value, zero) = ReadValue(ref reader, message, field, wireType, depth);
                // A pointer is written when set, whatever its value; a Go value is always written, and Go's JSON
                // leaves it out when zero and tagged omitempty.
                if (field.Type == FieldDescriptorProto.Types.Type.Message || !field.NonNullable || !zero || !field.OmitEmpty)
                {
                    values[number] = value;
                }
                else
                {
                    values.Remove(number);
                }
            }
        }

        var result = new JsonObject();
        foreach (var field in message.Fields)
        {
            if (field.JsonName is null || !values.TryGetValue(field.Number, out var value))
            {
                continue;
            }
            if ((value is JsonArray { Count: 0 } && field.Repeated) || (value is JsonObject { Count: 0 } && field.IsMap))
            {
                continue;
            }
            if (field.Inline && value is JsonObject inner)
            {
                var properties = inner.ToList();
                inner.Clear();
                foreach (var (name, node) in properties)
                {
                    result[name] = node;
                }
                continue;
            }
            result[field.JsonName] = value;
        }
        return result;
    }

    private (string Key, JsonNode? Value) ConvertMapEntry(MessageSchema entry, ReadOnlySpan<byte> data, int depth)
    {
        JsonNode? key = null, value = null;
        bool hasValue = false;
        var reader = new WireReader(data);
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            if (!entry.ByNumber.TryGetValue(number, out var field))
            {
                reader.Skip(wireType);
                continue;
            }
            var (node, _) = ReadValue(ref reader, entry, field, wireType, depth);
            if (number == 1)
            {
                key = node;
            }
            else if (number == 2)
            {
                value = node;
                hasValue = true;
            }
        }
        if (!hasValue && entry.ByNumber.TryGetValue(2, out var valueField))
        {
            // An absent value is the type's zero value.
            value = valueField.Message is { } type ? ConvertMessage(type, [], depth + 1) : ZeroOf(valueField.Type);
        }
        var keyText = key switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => key.ToJsonString(),
        };
        return (keyText, value);
    }

    private (JsonNode? Value, bool Zero) ReadValue(ref WireReader reader, MessageSchema message, FieldSchema field, WireType wireType, int depth)
    {
        if (field.Type == FieldDescriptorProto.Types.Type.Message)
        {
            if (wireType != WireType.LengthDelimited)
            {
                throw Mismatch(message, field);
            }
            var data = reader.ReadLengthDelimited();
            if (field.Message is null)
            {
                throw WireReader.Malformed($"unknown message type {field.TypeName} of {message.FullName}.{field.Name}");
            }
            return (ConvertMessage(field.Message, data, depth + 1), false);
        }
        if (field.Type == FieldDescriptorProto.Types.Type.Group)
        {
            reader.Skip(wireType);
            return (null, true);
        }
        return ReadScalar(ref reader, message, field, wireType);
    }

    private static (JsonNode? Value, bool Zero) ReadScalar(ref WireReader reader, MessageSchema message, FieldSchema field, WireType wireType)
    {
        if (wireType != WireTypeOf(field.Type))
        {
            throw Mismatch(message, field);
        }
        switch (field.Type)
        {
            case FieldDescriptorProto.Types.Type.String:
                {
                    var text = DecodeUtf8(reader.ReadLengthDelimited(), message, field);
                    return (JsonValue.Create(text), text.Length == 0);
                }
            case FieldDescriptorProto.Types.Type.Bytes:
                {
                    var bytes = reader.ReadLengthDelimited();
                    return (JsonValue.Create(Convert.ToBase64String(bytes)), bytes.Length == 0);
                }
            case FieldDescriptorProto.Types.Type.Bool:
                {
                    var value = reader.ReadVarint() != 0;
                    return (JsonValue.Create(value), !value);
                }
            case FieldDescriptorProto.Types.Type.Int32:
            case FieldDescriptorProto.Types.Type.Enum:
                {
                    var value = unchecked((int)reader.ReadVarint());
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Int64:
                {
                    var value = unchecked((long)reader.ReadVarint());
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Uint32:
                {
                    var value = unchecked((uint)reader.ReadVarint());
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Uint64:
                {
                    var value = reader.ReadVarint();
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Sint32:
                {
                    var raw = unchecked((uint)reader.ReadVarint());
                    var value = (int)(raw >> 1) ^ -(int)(raw & 1);
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Sint64:
                {
                    var raw = reader.ReadVarint();
                    var value = (long)(raw >> 1) ^ -(long)(raw & 1);
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Fixed32:
                {
                    var value = reader.ReadFixed32();
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Sfixed32:
                {
                    var value = unchecked((int)reader.ReadFixed32());
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Fixed64:
                {
                    var value = reader.ReadFixed64();
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Sfixed64:
                {
                    var value = unchecked((long)reader.ReadFixed64());
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Double:
                {
                    var value = BitConverter.UInt64BitsToDouble(reader.ReadFixed64());
                    return (JsonValue.Create(value), value == 0);
                }
            case FieldDescriptorProto.Types.Type.Float:
                {
                    var value = BitConverter.UInt32BitsToSingle(reader.ReadFixed32());
                    return (JsonValue.Create(value), value == 0);
                }
            default:
                throw Mismatch(message, field);
        }
    }

    private static JsonValue ZeroOf(FieldDescriptorProto.Types.Type type) => type switch
    {
        FieldDescriptorProto.Types.Type.String or FieldDescriptorProto.Types.Type.Bytes => JsonValue.Create(""),
        FieldDescriptorProto.Types.Type.Bool => JsonValue.Create(false),
        _ => JsonValue.Create(0),
    };

    private static bool IsPackable(FieldDescriptorProto.Types.Type type) =>
        type is not (FieldDescriptorProto.Types.Type.String or FieldDescriptorProto.Types.Type.Bytes
            or FieldDescriptorProto.Types.Type.Message or FieldDescriptorProto.Types.Type.Group);

    private static WireType WireTypeOf(FieldDescriptorProto.Types.Type type) => type switch
    {
        FieldDescriptorProto.Types.Type.Double or FieldDescriptorProto.Types.Type.Fixed64 or FieldDescriptorProto.Types.Type.Sfixed64 => WireType.Fixed64,
        FieldDescriptorProto.Types.Type.Float or FieldDescriptorProto.Types.Type.Fixed32 or FieldDescriptorProto.Types.Type.Sfixed32 => WireType.Fixed32,
        FieldDescriptorProto.Types.Type.String or FieldDescriptorProto.Types.Type.Bytes or FieldDescriptorProto.Types.Type.Message => WireType.LengthDelimited,
        FieldDescriptorProto.Types.Type.Group => WireType.StartGroup,
        _ => WireType.Varint,
    };

    private static string DecodeUtf8(ReadOnlySpan<byte> bytes, MessageSchema message, FieldSchema field)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw WireReader.Malformed($"invalid UTF-8 in {message.FullName}.{field.Name}");
        }
    }

    private static ApiException Mismatch(MessageSchema message, FieldSchema field) =>
        WireReader.Malformed($"wrong wire type for {message.FullName}.{field.Name}");

    /// <summary>Reads the last occurrence of one field of a small fixed message (Time, Duration, Quantity...).</summary>
    private static (ulong Varint, byte[] Bytes)? ReadSingle(ReadOnlySpan<byte> data, int wanted)
    {
        (ulong, byte[])? result = null;
        var reader = new WireReader(data);
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            if (number != wanted)
            {
                reader.Skip(wireType);
                continue;
            }
            result = wireType switch
            {
                WireType.Varint => (reader.ReadVarint(), []),
                WireType.LengthDelimited => (0, reader.ReadLengthDelimited().ToArray()),
                _ => throw WireReader.Malformed($"unexpected wire type {(int)wireType} for field {number}"),
            };
        }
        return result;
    }

    private static JsonNode? ConvertTime(ReadOnlySpan<byte> data, bool micro)
    {
        // metav1.Time's Marshal writes nothing for the zero time, and its JSON is null.
        if (data.IsEmpty)
        {
            return null;
        }
        var seconds = ReadSingle(data, 1) is { } s ? unchecked((long)s.Varint) : 0;
        var nanos = ReadSingle(data, 2) is { } n ? unchecked((int)n.Varint) : 0;
        const long MinSeconds = -62135596800; // 0001-01-01T00:00:00Z
        const long MaxSeconds = 253402300799; // 9999-12-31T23:59:59Z
        if (seconds < MinSeconds || seconds > MaxSeconds || nanos is < 0 or > 999_999_999)
        {
            throw WireReader.Malformed("time out of range");
        }
        var time = DateTime.UnixEpoch.AddSeconds(seconds);
        if (!micro)
        {
            // metav1.Time is second-precision in JSON (and in protobuf Unmarshal).
            return time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }
        time = time.AddTicks(nanos / 1000 * 10);
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }

    private static JsonValue ConvertIntOrString(ReadOnlySpan<byte> data)
    {
        long type = 0;
        var intVal = 0;
        var strVal = "";
        var reader = new WireReader(data);
        while (!reader.End)
        {
            var (number, wireType) = reader.ReadTag();
            switch (number, wireType)
            {
                case (1, WireType.Varint):
                    type = unchecked((long)reader.ReadVarint());
                    break;
                case (2, WireType.Varint):
                    intVal = unchecked((int)reader.ReadVarint());
                    break;
                case (3, WireType.LengthDelimited):
                    strVal = Encoding.UTF8.GetString(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }
        return type == 1 ? JsonValue.Create(strVal) : JsonValue.Create(intVal);
    }

    private JsonNode? ConvertRaw(ReadOnlySpan<byte> data, int depth, bool allowProtobuf)
    {
        var raw = ReadSingle(data, 1)?.Bytes;
        if (raw is null || raw.Length == 0)
        {
            return null;
        }
        if (allowProtobuf && raw.AsSpan().StartsWith(KubernetesProtobuf.Magic))
        {
            return decodeEmbedded(raw, depth + 1);
        }
        try
        {
            return JsonNode.Parse(raw);
        }
        catch (JsonException)
        {
            throw WireReader.Malformed("embedded raw object is neither JSON nor Kubernetes protobuf");
        }
    }
}
