using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace JobKit.Sandbox.Api.Protobuf;

/// <summary>Kubernetes types whose JSON is not the object of their protobuf fields.</summary>
internal enum SpecialType
{
    None,
    Time,
    MicroTime,
    Duration,
    Quantity,
    IntOrString,
    RawExtension,
    FieldsV1,

    /// <summary>A named slice (<c>type Verbs []string</c>): a message with one <c>repeated items</c> field, JSON an array.</summary>
    ItemsArray,
}

internal sealed class MessageSchema
{
    public required string FullName { get; init; }

    public required string Package { get; init; }

    public required string Name { get; init; }

    public SpecialType Special { get; set; }

    public bool IsMapEntry { get; init; }

    /// <summary>Whether the Go struct behind it was found in kubectl's type data (then the JSON tags are exact).</summary>
    public bool GoStructMatched { get; set; }

    /// <summary>Fields in declaration order (the Go struct's order, which is the JSON order).</summary>
    public List<FieldSchema> Fields { get; } = [];

    public Dictionary<int, FieldSchema> ByNumber { get; } = [];
}

internal sealed class FieldSchema
{
    public required string Name { get; init; }

    public required int Number { get; init; }

    public required FieldDescriptorProto.Types.Type Type { get; init; }

    public required bool Repeated { get; init; }

    /// <summary>Resolved message type (messages and map entries).</summary>
    public MessageSchema? Message { get; set; }

    public string? TypeName { get; init; }

    /// <summary>gogoproto.nullable=false: a Go value, not a pointer, so gogo writes it even when zero.</summary>
    public bool NonNullable { get; init; }

    /// <summary>gogoproto.customname: the Go field name.</summary>
    public string? GoName { get; init; }

    /// <summary>A Go embedded struct tagged <c>json:",inline"</c>: its fields go into the parent JSON object.</summary>
    public bool Inline { get; set; }

    /// <summary>The JSON name (the json tag's, which is the proto name in k8s); null for <c>json:"-"</c>.</summary>
    public string? JsonName { get; set; }

    /// <summary>For a Go value scalar: whether Go's JSON leaves it out when zero (<c>omitempty</c>).</summary>
    public bool OmitEmpty { get; set; } = true;

    public bool IsMap => Message is { IsMapEntry: true } && Repeated;
}

/// <summary>The message types of kubectl's descriptors, resolved and annotated with what the Go tags say.</summary>
internal sealed class ProtoSchema
{
    // gogo.proto extension numbers (github.com/gogo/protobuf/gogoproto/gogo.proto).
    private const int GogoNullable = 65001;
    private const int GogoCustomName = 65004;

    private const string Meta = "k8s.io.apimachinery.pkg.apis.meta.v1.";

    private static readonly Dictionary<string, SpecialType> Specials = new(StringComparer.Ordinal)
    {
        [Meta + "Time"] = SpecialType.Time,
        [Meta + "MicroTime"] = SpecialType.MicroTime,
        [Meta + "Duration"] = SpecialType.Duration,
        [Meta + "FieldsV1"] = SpecialType.FieldsV1,
        ["k8s.io.apimachinery.pkg.api.resource.Quantity"] = SpecialType.Quantity,
        ["k8s.io.apimachinery.pkg.api.resource.QuantityValue"] = SpecialType.Quantity,
        ["k8s.io.apimachinery.pkg.util.intstr.IntOrString"] = SpecialType.IntOrString,
        ["k8s.io.apimachinery.pkg.runtime.RawExtension"] = SpecialType.RawExtension,
    };

    private ProtoSchema(Dictionary<string, MessageSchema> messages, IReadOnlyList<string> packages)
    {
        Messages = messages;
        Packages = packages;
    }

    /// <summary>By full name without the leading dot, e.g. <c>k8s.io.api.core.v1.ConfigMap</c>, nested ones included.</summary>
    public Dictionary<string, MessageSchema> Messages { get; }

    public IReadOnlyList<string> Packages { get; }

    public static ProtoSchema Build(KubectlSchema source)
    {
        var messages = new Dictionary<string, MessageSchema>(StringComparer.Ordinal);
        foreach (var file in source.Files)
        {
            foreach (var message in file.MessageType)
            {
                Add(messages, file.Package, file.Package, message, source);
            }
        }
        foreach (var message in messages.Values)
        {
            foreach (var field in message.Fields)
            {
                if (field.TypeName is { } typeName && messages.TryGetValue(typeName.TrimStart('.'), out var type))
                {
                    field.Message = type;
                }
            }
        }
        var structs = IndexStructs(source.Structs);
        foreach (var message in messages.Values)
        {
            var matches = message.IsMapEntry ? null : structs.GetValueOrDefault(Signature(message.Fields.Select(f => (f.Number, f.Name))));
            message.GoStructMatched = matches is not null;
            foreach (var field in message.Fields)
            {
                var tags = matches?.Select(m => m.GetValueOrDefault(field.Number)?.Get("json")).Distinct().ToList();
                if (tags is [{ } json])
                {
                    // The struct's own tag: exact.
                    var options = json.Split(',');
                    var embedded = matches!.All(m => m[field.Number].Embedded);
                    field.JsonName = options[0] switch
                    {
                        "-" when options.Length == 1 => null,
                        "" => field.Name,
                        _ => options[0],
                    };
                    field.OmitEmpty = options.Skip(1).Contains("omitempty");
                    // encoding/json flattens an embedded struct without a JSON name (k8s marks them ",inline").
                    field.Inline = embedded && options[0].Length == 0 && field.Message is not null && !field.Repeated;
                    continue;
                }

                // No struct (or disagreeing ones): what the tags as text say.
                if (field.NonNullable && source.OmitEmpty.TryGetValue((field.Name, field.Number, TagWireType(field.Type)), out var omit) && omit == false)
                {
                    field.OmitEmpty = false;
                }
                // Go embeds a struct under its type's name; go-to-protobuf names the proto field after it (lowerCamel)
                // unless the tag says otherwise (Probe's ProbeHandler is "handler"). A tag without a name
                // (EphemeralContainerCommon's `protobuf:"bytes,1,req"`) only counts when no other tag names the field.
                if (field.Message is { } type && field.GoName == type.Name && !field.Repeated
                    && (source.Inline.Contains((field.Name, field.Number))
                        || (source.Inline.Contains((null, field.Number)) && field.Name == LowerFirst(type.Name)
                            && !source.OmitEmpty.ContainsKey((field.Name, field.Number, "bytes")))))
                {
                    field.Inline = true;
                }
            }
        }
        var packages = source.Files.Select(f => f.Package).Distinct(StringComparer.Ordinal).ToList();
        return new ProtoSchema(messages, packages);
    }

    private static void Add(Dictionary<string, MessageSchema> messages, string package, string scope, DescriptorProto descriptor, KubectlSchema source)
    {
        var fullName = $"{scope}.{descriptor.Name}";
        var message = new MessageSchema
        {
            FullName = fullName,
            Package = package,
            Name = descriptor.Name,
            IsMapEntry = descriptor.Options?.MapEntry ?? false,
        };
        foreach (var field in descriptor.Field)
        {
            var options = ReadOptions(field.Options);
            var schema = new FieldSchema
            {
                Name = field.Name,
                Number = field.Number,
                Type = field.Type,
                Repeated = field.Label == FieldDescriptorProto.Types.Label.Repeated,
                TypeName = field.HasTypeName ? field.TypeName : null,
                NonNullable = options.Nullable == false,
                JsonName = field.Name,
                GoName = options.CustomName,
            };
            message.Fields.Add(schema);
            message.ByNumber[field.Number] = schema;
        }
        if (Specials.TryGetValue(fullName, out var special))
        {
            message.Special = special;
        }
        else if (message.Fields is [{ Name: "items", Repeated: true, NonNullable: false }] && !message.IsMapEntry)
        {
            // `type Verbs []string` / `type ExtraValue []string`: go-to-protobuf wraps the slice in a message.
            message.Special = SpecialType.ItemsArray;
        }
        messages[fullName] = message;
        foreach (var nested in descriptor.NestedType)
        {
            Add(messages, package, fullName, nested, source);
        }
    }

    private static (bool? Nullable, string? CustomName) ReadOptions(FieldOptions? options)
    {
        if (options is null)
        {
            return (null, null);
        }
        // The gogo extensions are unknown fields to Google.Protobuf; read them off the serialized options.
        var input = new CodedInputStream(options.ToByteArray());
        bool? nullable = null;
        string? customName = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case GogoNullable when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    nullable = input.ReadBool();
                    break;
                case GogoCustomName when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    customName = input.ReadString();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return (nullable, customName);
    }

    /// <summary>Go structs with protobuf tags by the set of (field number, proto name) they carry, each as number → field.</summary>
    private static Dictionary<string, List<Dictionary<int, GoField>>> IndexStructs(IReadOnlyList<GoStruct> structs)
    {
        var index = new Dictionary<string, List<Dictionary<int, GoField>>>(StringComparer.Ordinal);
        foreach (var goStruct in structs)
        {
            var fields = new Dictionary<int, GoField>();
            var names = new List<(int, string)>();
            foreach (var field in goStruct.Fields)
            {
                if (field.Get("protobuf") is not { } protobuf)
                {
                    continue;
                }
                var parts = protobuf.Split(',');
                if (parts.Length < 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                {
                    continue;
                }
                // go-to-protobuf names an unnamed field after the Go name (EphemeralContainerCommon: ephemeralContainerCommon).
                var name = parts.FirstOrDefault(p => p.StartsWith("name=", StringComparison.Ordinal))?[5..] ?? LowerFirst(field.Name);
                fields[number] = field;
                names.Add((number, name));
            }
            if (fields.Count > 0)
            {
                var signature = Signature(names);
                if (!index.TryGetValue(signature, out var list))
                {
                    index[signature] = list = [];
                }
                list.Add(fields);
            }
        }
        return index;
    }

    private static string Signature(IEnumerable<(int Number, string Name)> fields) =>
        string.Join(",", fields.Order().Select(f => $"{f.Number}:{f.Name}"));

    /// <summary>The wire type as go-to-protobuf writes it in the Go tag.</summary>
    private static string TagWireType(FieldDescriptorProto.Types.Type type) => type switch
    {
        FieldDescriptorProto.Types.Type.String or FieldDescriptorProto.Types.Type.Bytes or FieldDescriptorProto.Types.Type.Message => "bytes",
        FieldDescriptorProto.Types.Type.Double or FieldDescriptorProto.Types.Type.Fixed64 or FieldDescriptorProto.Types.Type.Sfixed64 => "fixed64",
        FieldDescriptorProto.Types.Type.Float or FieldDescriptorProto.Types.Type.Fixed32 or FieldDescriptorProto.Types.Type.Sfixed32 => "fixed32",
        FieldDescriptorProto.Types.Type.Sint32 => "zigzag32",
        FieldDescriptorProto.Types.Type.Sint64 => "zigzag64",
        _ => "varint",
    };

    private static string LowerFirst(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name[1..];
}
