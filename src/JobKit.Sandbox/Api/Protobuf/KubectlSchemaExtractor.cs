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
    /// The Go struct tags of the API types (<c>json:"..." protobuf:"..."</c>), by (proto field name, field number, wire
    /// type as the tag spells it: varint, bytes, fixed64...):
    /// true when every tag seen for that pair has <c>omitempty</c> (or <c>,inline</c>), false when none has, absent or
    /// null when they disagree.
    /// </summary>
    public required IReadOnlyDictionary<(string Name, int Number, string WireType), bool?> OmitEmpty { get; init; }

    /// <summary>Fields whose Go tag is <c>json:",inline"</c>: (proto field name or null when the tag names none, field number).</summary>
    public required IReadOnlySet<(string? Name, int Number)> Inline { get; init; }
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

    private const int ChunkSize = 1 << 22;
    private const int Overlap = 1024;
    private const int MaxDescriptorSize = 8 << 20;

    public static KubectlSchema Extract(string path)
    {
        var gzipOffsets = new List<long>();
        var tags = new List<(string Json, string Protobuf)>();
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, System.IO.FileOptions.SequentialScan))
        {
            foreach (var (start, length) in Regions(stream))
            {
                stream.Position = start;
                Scan(stream, start, length, gzipOffsets, tags);
            }
        }

        var files = new List<FileDescriptorProto>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            foreach (var offset in gzipOffsets)
            {
                if (TryReadDescriptor(stream, offset) is { } file && seen.Add(file.Name))
                {
                    files.Add(file);
                }
            }
        }

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

        return new KubectlSchema { Files = files, OmitEmpty = omitEmpty, Inline = inline };
    }

    /// <summary>
    /// Where to look: in an ELF binary the sections Go keeps data in (the descriptors are in .noptrdata, the type
    /// names and tags in .rodata), a fifth of the file; anything else whole.
    /// </summary>
    private static List<(long Start, long Length)> Regions(FileStream stream)
    {
        var whole = new List<(long, long)> { (0, stream.Length) };
        Span<byte> header = stackalloc byte[64];
        if (stream.Read(header) != 64 || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2 || header[5] != 1)
        {
            return whole; // not a little-endian ELF64
        }
        var sectionOffset = BinaryPrimitives.ReadInt64LittleEndian(header[0x28..]);
        var sectionSize = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3a..]);
        var sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3c..]);
        var namesIndex = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3e..]);
        if (sectionSize < 64 || sectionCount == 0 || namesIndex >= sectionCount || sectionOffset <= 0 || sectionOffset + ((long)sectionSize * sectionCount) > stream.Length)
        {
            return whole;
        }
        var table = new byte[sectionSize * sectionCount];
        stream.Position = sectionOffset;
        stream.ReadExactly(table);
        (long Offset, long Size) Section(int index)
        {
            var entry = table.AsSpan(index * sectionSize, sectionSize);
            return (BinaryPrimitives.ReadInt64LittleEndian(entry[0x18..]), BinaryPrimitives.ReadInt64LittleEndian(entry[0x20..]));
        }
        var (namesOffset, namesSize) = Section(namesIndex);
        if (namesOffset < 0 || namesSize is <= 0 or > 1 << 20 || namesOffset + namesSize > stream.Length)
        {
            return whole;
        }
        var names = new byte[namesSize];
        stream.Position = namesOffset;
        stream.ReadExactly(names);
        var regions = new List<(long, long)>();
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
            var name = Encoding.ASCII.GetString(end < 0 ? nameBytes : nameBytes[..end]);
            if (name is ".rodata" or ".noptrdata" or ".data" or ".data.rel.ro")
            {
                var (offset, size) = Section(i);
                if (offset >= 0 && size > 0 && offset + size <= stream.Length)
                {
                    regions.Add((offset, size));
                }
            }
        }
        return regions.Count > 0 ? regions : whole;
    }

    private static void Scan(Stream stream, long start, long length, List<long> gzipOffsets, List<(string, string)> tags)
    {
        var buffer = new byte[ChunkSize + Overlap];
        var baseOffset = start;
        var remaining = length;
        var filled = 0;
        while (true)
        {
            var eof = false;
            while (filled < buffer.Length)
            {
                var read = remaining <= 0 ? 0 : stream.Read(buffer, filled, (int)Math.Min(buffer.Length - filled, remaining));
                remaining -= read;
                if (read == 0)
                {
                    eof = true;
                    break;
                }
                filled += read;
            }

            // Matches starting before `limit` are handled now; later ones come again at the start of the next chunk.
            var limit = eof ? filled : filled - Overlap;
            var span = buffer.AsSpan(0, filled);
            for (var i = 0; i < limit;)
            {
                var hit = span[i..limit].IndexOf(GzipHeader.AsSpan(0, 2));
                if (hit < 0)
                {
                    break;
                }
                i += hit;
                if (span[i..].StartsWith(GzipHeader))
                {
                    gzipOffsets.Add(baseOffset + i);
                }
                i++;
            }
            for (var i = 0; i < limit;)
            {
                var hit = span[i..limit].IndexOf(TagSeparator);
                if (hit < 0)
                {
                    break;
                }
                i += hit;
                if (ParseTag(span, i) is { } tag)
                {
                    tags.Add(tag);
                }
                i++;
            }

            if (eof)
            {
                return;
            }
            buffer.AsSpan(filled - Overlap, Overlap).CopyTo(buffer);
            baseOffset += filled - Overlap;
            filled = Overlap;
        }
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

    private static FileDescriptorProto? TryReadDescriptor(FileStream stream, long offset)
    {
        try
        {
            stream.Position = offset + GzipHeader.Length;
            // DeflateStream stops at the end of this member (GZipStream would run on into a following one).
            using var deflate = new DeflateStream(stream, CompressionMode.Decompress, leaveOpen: true);
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
