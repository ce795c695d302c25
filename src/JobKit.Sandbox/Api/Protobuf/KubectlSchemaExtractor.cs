using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace JobKit.Sandbox.Api.Protobuf;

/// <summary>What the kubectl binary tells about the Kubernetes API types.</summary>
internal sealed class KubectlSchema
{
    /// <summary>The <c>k8s.io/.../generated.proto</c> descriptors gogo-protobuf registered in the binary.</summary>
    public required IReadOnlyList<FileDescriptorProto> Files { get; init; }

    /// <summary>
    /// The Go structs with protobuf-tagged fields, read off the binary's runtime type data (ELF binaries whose type data
    /// holds absolute addresses, as Go's default static build does); empty when they cannot be read.
    /// </summary>
    public required IReadOnlyList<GoStruct> Structs { get; init; }

    /// <summary>
    /// Fallback when a message matches no struct: the Go struct tags found as text, by (proto field name, field number,
    /// wire type as the tag spells it: varint, bytes, fixed64...): true when every tag seen has <c>omitempty</c>,
    /// false when none has, null when they disagree.
    /// </summary>
    public required IReadOnlyDictionary<(string Name, int Number, string WireType), bool?> OmitEmpty { get; init; }

    /// <summary>Fallback: fields whose Go tag is <c>json:",inline"</c>: (proto field name or null when the tag names none, field number).</summary>
    public required IReadOnlySet<(string? Name, int Number)> Inline { get; init; }
}

/// <summary>A Go struct's fields as the runtime type data has them.</summary>
internal sealed record GoStruct(IReadOnlyList<GoField> Fields);

/// <summary>A struct field: Go name, whether it is embedded, and its tag.</summary>
internal sealed record GoField(string Name, bool Embedded, string Tag)
{
    /// <summary>The value of one key of the tag (<c>json</c>, <c>protobuf</c>), as reflect.StructTag.Get reads it.</summary>
    public string? Get(string key)
    {
        var tag = Tag.AsSpan();
        while (!tag.IsEmpty)
        {
            tag = tag.TrimStart(' ');
            var colon = tag.IndexOf(':');
            if (colon <= 0 || colon + 1 >= tag.Length || tag[colon + 1] != '"')
            {
                return null;
            }
            var name = tag[..colon];
            var rest = tag[(colon + 2)..];
            var end = rest.IndexOf('"');
            if (end < 0)
            {
                return null;
            }
            if (name.SequenceEqual(key))
            {
                return rest[..end].ToString();
            }
            tag = rest[(end + 1)..];
        }
        return null;
    }
}

/// <summary>
/// Reads the Kubernetes protobuf schema out of a kubectl binary: gogo-protobuf registers every
/// <c>generated.proto</c> as a gzipped <c>FileDescriptorProto</c>, and Go keeps the struct tags of the API types
/// (whose <c>json</c> part says <c>omitempty</c> and <c>,inline</c>, which the descriptors do not).
/// </summary>
internal static class KubectlSchemaExtractor
{
    // gzip member header as Go's compress/gzip writes it: magic, deflate, no flags, mtime 0, XFL 2 (best compression), OS 255 (unknown).
    private static readonly byte[] GzipHeader = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff];
    private static readonly byte[] TagSeparator = "\" protobuf:\""u8.ToArray();
    private static readonly byte[] JsonTagStart = "json:\""u8.ToArray();

    private const int MaxDescriptorSize = 8 << 20;

    private sealed record Region(string Name, long Offset, ulong Address, byte[] Data);

    public static KubectlSchema Extract(string path)
    {
        List<Region> regions;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1))
        {
            regions = ReadRegions(stream);
        }

        var files = new List<FileDescriptorProto>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tags = new List<(string Json, string Protobuf)>();
        foreach (var region in regions)
        {
            var data = region.Data.AsSpan();
            for (var i = 0; ;)
            {
                var hit = data[i..].IndexOf(GzipHeader);
                if (hit < 0)
                {
                    break;
                }
                i += hit;
                if (TryReadDescriptor(region.Data, i) is { } file && seen.Add(file.Name))
                {
                    files.Add(file);
                }
                i++;
            }
            for (var i = 0; ;)
            {
                var hit = data[i..].IndexOf(TagSeparator);
                if (hit < 0)
                {
                    break;
                }
                i += hit;
                if (ParseTag(data, i) is { } tag)
                {
                    tags.Add(tag);
                }
                i++;
            }
        }

        var structs = regions.FirstOrDefault(r => r.Name == ".rodata") is { Address: > 0 } rodata ? ReadStructs(rodata) : [];

        var omitEmpty = new Dictionary<(string, int, string), bool?>();
        var inline = new HashSet<(string?, int)>();
        foreach (var (json, protobuf) in tags)
        {
            var parts = protobuf.Split(',');
            if (parts.Length < 2 || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                continue;
            }
            var name = parts.FirstOrDefault(p => p.StartsWith("name=", StringComparison.Ordinal))?[5..];
            var jsonParts = json.Split(',');
            if (jsonParts[0].Length == 0 && jsonParts.Contains("inline"))
            {
                inline.Add((name, number));
                continue;
            }
            if (name is null)
            {
                continue;
            }
            var omit = jsonParts.Skip(1).Contains("omitempty");
            var key = (name, number, parts[0]);
            omitEmpty[key] = omitEmpty.TryGetValue(key, out var previous) && previous != omit ? null : omit;
        }

        return new KubectlSchema { Files = files, Structs = structs, OmitEmpty = omitEmpty, Inline = inline };
    }

    /// <summary>
    /// The sections Go keeps data in, when the file is a little-endian ELF64 (the descriptors are in .noptrdata, the
    /// type data and tags in .rodata: a fifth of kubectl); anything else is read whole.
    /// </summary>
    private static List<Region> ReadRegions(FileStream stream)
    {
        var regions = new List<Region>();
        foreach (var (name, offset, address, size) in ElfSections(stream))
        {
            if (name is ".rodata" or ".noptrdata" or ".data" or ".data.rel.ro" && size is > 0 and < int.MaxValue && offset + size <= stream.Length)
            {
                var data = new byte[size];
                stream.Position = offset;
                stream.ReadExactly(data);
                regions.Add(new Region(name, offset, address, data));
            }
        }
        if (regions.Count == 0 && stream.Length < int.MaxValue)
        {
            var data = new byte[stream.Length];
            stream.Position = 0;
            stream.ReadExactly(data);
            regions.Add(new Region("", 0, 0, data));
        }
        return regions;
    }

    private static List<(string Name, long Offset, ulong Address, long Size)> ElfSections(FileStream stream)
    {
        var sections = new List<(string, long, ulong, long)>();
        Span<byte> header = stackalloc byte[64];
        stream.Position = 0;
        if (stream.Read(header) != 64 || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2 || header[5] != 1)
        {
            return sections; // not a little-endian ELF64
        }
        var sectionOffset = BinaryPrimitives.ReadInt64LittleEndian(header[0x28..]);
        var sectionSize = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3a..]);
        var sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3c..]);
        var namesIndex = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3e..]);
        if (sectionSize < 64 || sectionCount == 0 || namesIndex >= sectionCount || sectionOffset <= 0 || sectionOffset + ((long)sectionSize * sectionCount) > stream.Length)
        {
            return sections;
        }
        var table = new byte[sectionSize * sectionCount];
        stream.Position = sectionOffset;
        stream.ReadExactly(table);
        var namesEntry = table.AsSpan(namesIndex * sectionSize, sectionSize);
        var namesOffset = BinaryPrimitives.ReadInt64LittleEndian(namesEntry[0x18..]);
        var namesSize = BinaryPrimitives.ReadInt64LittleEndian(namesEntry[0x20..]);
        if (namesOffset < 0 || namesSize is <= 0 or > 1 << 20 || namesOffset + namesSize > stream.Length)
        {
            return sections;
        }
        var names = new byte[namesSize];
        stream.Position = namesOffset;
        stream.ReadExactly(names);
        for (var i = 0; i < sectionCount; i++)
        {
            var entry = table.AsSpan(i * sectionSize, sectionSize);
            var nameOffset = BinaryPrimitives.ReadInt32LittleEndian(entry);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            if (nameOffset < 0 || nameOffset >= names.Length || type != 1 /* SHT_PROGBITS */)
            {
                continue;
            }
            var nameBytes = names.AsSpan(nameOffset);
            var end = nameBytes.IndexOf((byte)0);
            sections.Add((
                Encoding.ASCII.GetString(end < 0 ? nameBytes : nameBytes[..end]),
                BinaryPrimitives.ReadInt64LittleEndian(entry[0x18..]),
                BinaryPrimitives.ReadUInt64LittleEndian(entry[0x10..]),
                BinaryPrimitives.ReadInt64LittleEndian(entry[0x20..])));
        }
        return sections;
    }

    /// <summary>
    /// Go's runtime type data: a struct type's fields are an array of abi.StructField {Name *byte, Typ *Type, Offset
    /// uintptr}, Name pointing at [flags][varint length][name][varint length][tag] (flags: 2 has a tag, 8 embedded).
    /// Finds the arrays (first field at offset 0, offsets not decreasing, every name valid) holding protobuf tags.
    /// </summary>
    private static List<GoStruct> ReadStructs(Region rodata)
    {
        var structs = new List<GoStruct>();
        var data = rodata.Data;
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(data.AsSpan(0, data.Length & ~7));
        var low = rodata.Address;
        var high = rodata.Address + (ulong)data.Length;
        var names = new Dictionary<ulong, GoField?>();
        GoField? Name(ulong address)
        {
            if (!names.TryGetValue(address, out var field))
            {
                names[address] = field = ReadName(data, (long)(address - low));
            }
            return field;
        }
        for (var i = 0; i + 2 < words.Length;)
        {
            if (words[i + 2] != 0 || words[i] < low || words[i] >= high || words[i + 1] < low || words[i + 1] >= high
                || Name(words[i]) is not { } first || (!first.Embedded && !HasProtobufTag(first)))
            {
                i++;
                continue;
            }
            var fields = new List<GoField> { first };
            var previous = 0UL;
            var j = i + 3;
            for (; j + 2 < words.Length; j += 3)
            {
                var offset = words[j + 2];
                if (words[j] < low || words[j] >= high || words[j + 1] < low || words[j + 1] >= high || offset < previous || offset > 1 << 24
                    || Name(words[j]) is not { } field)
                {
                    break;
                }
                fields.Add(field);
                previous = offset;
            }
            if (fields.Any(HasProtobufTag))
            {
                structs.Add(new GoStruct(fields));
            }
            i = j;
        }
        return structs;
    }

    private static bool HasProtobufTag(GoField field) => field.Tag.Contains("protobuf:\"", StringComparison.Ordinal);

    private static GoField? ReadName(byte[] data, long offset)
    {
        if (offset < 0 || offset + 2 >= data.Length)
        {
            return null;
        }
        var flags = data[offset];
        if (flags >= 16)
        {
            return null;
        }
        var position = (int)offset + 1;
        if (ReadVarint(data, ref position) is not ({ } length and > 0 and < 256) || position + length > data.Length)
        {
            return null;
        }
        var name = data.AsSpan(position, length);
        if (!(char.IsAsciiLetter((char)name[0]) || name[0] == '_'))
        {
            return null;
        }
        foreach (var b in name)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b == '_'))
            {
                return null;
            }
        }
        position += length;
        var tag = "";
        if ((flags & 2) != 0)
        {
            if (ReadVarint(data, ref position) is not ({ } tagLength and < 4096) || position + tagLength > data.Length)
            {
                return null;
            }
            var tagBytes = data.AsSpan(position, tagLength);
            if (tagBytes.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7e) >= 0)
            {
                return null;
            }
            tag = Encoding.ASCII.GetString(tagBytes);
        }
        return new GoField(Encoding.ASCII.GetString(name), (flags & 8) != 0, tag);
    }

    private static int? ReadVarint(byte[] data, ref int position)
    {
        var value = 0;
        for (var shift = 0; shift < 21; shift += 7)
        {
            if (position >= data.Length)
            {
                return null;
            }
            var b = data[position++];
            value |= (b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        return null;
    }

    /// <summary>
    /// The json and protobuf values of the Go struct tag holding the <c>" protobuf:"</c> at <paramref name="separator"/>
    /// (<c>json:"name,omitempty" protobuf:"bytes,1,opt,name=name"</c>, maybe with other keys between). Go stores a tag
    /// as printable text after its length varint, so the tag is the printable run before the separator.
    /// </summary>
    private static (string Json, string Protobuf)? ParseTag(ReadOnlySpan<byte> span, int separator)
    {
        var start = separator;
        while (start > 0 && separator - start < 512 && span[start - 1] is >= 0x20 and < 0x7f)
        {
            start--;
        }
        var before = span[start..separator];
        var jsonStart = before.LastIndexOf(JsonTagStart);
        if (jsonStart < 0)
        {
            return null;
        }
        var json = before[(jsonStart + JsonTagStart.Length)..];
        var jsonEnd = json.IndexOf((byte)'"');
        if (jsonEnd >= 0)
        {
            json = json[..jsonEnd];
        }
        var after = span[(separator + TagSeparator.Length)..];
        after = after[..Math.Min(after.Length, 256)];
        var end = after.IndexOf((byte)'"');
        if (end < 0)
        {
            return null;
        }
        return (Encoding.ASCII.GetString(json), Encoding.ASCII.GetString(after[..end]));
    }

    private static FileDescriptorProto? TryReadDescriptor(byte[] data, int offset)
    {
        try
        {
            var start = offset + GzipHeader.Length;
            // DeflateStream stops at the end of this member (GZipStream would run on into a following one).
            using var deflate = new DeflateStream(new MemoryStream(data, start, data.Length - start, writable: false), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = deflate.Read(chunk, 0, chunk.Length)) > 0)
            {
                output.Write(chunk, 0, read);
                if (output.Length > MaxDescriptorSize)
                {
                    return null;
                }
            }
            var file = FileDescriptorProto.Parser.ParseFrom(output.GetBuffer().AsSpan(0, (int)output.Length));
            return file.Name.StartsWith("k8s.io/", StringComparison.Ordinal) && file.Name.EndsWith("/generated.proto", StringComparison.Ordinal) && file.HasPackage
                ? file
                : null;
        }
        catch (Exception e) when (e is InvalidDataException or InvalidProtocolBufferException or IOException)
        {
            return null;
        }
    }
}
