using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;
using JobKit.Sandbox.Api.Protobuf;
using Xunit;

namespace JobKit.Sandbox.Tests.Protobuf;

/// <summary>
/// Decoding what kubectl sends. Needs a kubectl on PATH (the schema comes from it): without one the tests are skipped.
/// </summary>
public sealed class KubernetesProtobufTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly Lazy<KubernetesProtobuf> Fallback = new(() =>
    {
        var path = KubernetesProtobuf.Shared!.KubectlPath;
        var extracted = KubectlSchemaExtractor.Extract(path);
        return KubernetesProtobuf.Create(new KubectlSchema
        {
            Files = extracted.Files,
            Structs = [],
            OmitEmpty = extracted.OmitEmpty,
            Inline = extracted.Inline,
        }, path);
    });

    public static TheoryData<string> CapturedBodies() =>
        [.. Directory.GetFiles(DataDirectory(), "*.bin").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(CapturedBodies))]
    public void Decodes_kubectl_body_to_the_objects_kubernetes_json(string name)
    {
        var protobuf = RequireKubectl();
        var body = File.ReadAllBytes(Path.Combine(DataDirectory(), name + ".bin"));
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(DataDirectory(), name + ".json")))!;

        var actual = protobuf.Decode(body);

        Assert.True(JsonNode.DeepEquals(expected, actual),
            $"expected:\n{expected.ToJsonString(Indented)}\nactual:\n{actual.ToJsonString(Indented)}");
        Assert.Equal(["apiVersion", "kind"], actual.Select(p => p.Key).Take(2));
    }

    [Theory]
    [MemberData(nameof(CapturedBodies))]
    public void Without_go_type_data_the_tag_text_fallback_decodes_the_same(string name)
    {
        var protobuf = RequireKubectl();
        // TokenRequestStatus.token: tags disagree on omitempty across structs, so the fallback leaves an empty one out.
        Assert.SkipWhen(name == "token", "needs the struct's own tag");
        var fallback = Fallback.Value;
        var body = File.ReadAllBytes(Path.Combine(DataDirectory(), name + ".bin"));

        var actual = fallback.Decode(body);

        Assert.True(JsonNode.DeepEquals(protobuf.Decode(body), actual), actual.ToJsonString(Indented));
    }

    [Fact]
    public void Nearly_every_message_matches_its_go_struct()
    {
        var messages = RequireKubectl().Schema.Messages.Values.Where(m => !m.IsMapEntry).ToList();

        Assert.True(messages.Count > 1000, $"{messages.Count} messages");
        Assert.True(messages.Count(m => m.GoStructMatched) > messages.Count * 0.95, $"{messages.Count(m => m.GoStructMatched)} of {messages.Count} matched");
    }

    [Fact]
    public void Job_from_cronjob_keeps_zero_pointers_and_special_types()
    {
        var job = RequireKubectl().Decode(File.ReadAllBytes(Path.Combine(DataDirectory(), "job-from-cronjob.bin")));

        var spec = job["spec"]!;
        Assert.Equal(0, (int)spec["backoffLimit"]!);
        Assert.False((bool)spec["suspend"]!);
        Assert.Equal(600, (long)spec["activeDeadlineSeconds"]!);
        var pod = spec["template"]!["spec"]!;
        Assert.Equal(0, (long)pod["terminationGracePeriodSeconds"]!);
        var container = pod["containers"]![0]!;
        Assert.Equal("500m", (string)container["resources"]!["limits"]!["cpu"]!);
        Assert.Equal("100m", (string)container["resources"]!["requests"]!["cpu"]!);
        Assert.Equal(8080, (int)container["livenessProbe"]!["httpGet"]!["port"]!);
        Assert.Equal("http", (string)container["readinessProbe"]!["httpGet"]!["port"]!);
        // LocalObjectReference is inlined: configMapKeyRef.name, not configMapKeyRef.localObjectReference.name.
        Assert.Equal("cm", (string)container["env"]![2]!["valueFrom"]!["configMapKeyRef"]!["name"]!);
        Assert.Equal("1Mi", (string)container["env"]![5]!["valueFrom"]!["resourceFieldRef"]!["divisor"]!);
        // VolumeSource is inlined into the Volume.
        Assert.Equal(420, (int)pod["volumes"]![0]!["configMap"]!["defaultMode"]!);
        Assert.Equal(0, (int)pod["volumes"]![1]!["secret"]!["defaultMode"]!);
        Assert.Equal("500Mi", (string)pod["volumes"]![2]!["emptyDir"]!["sizeLimit"]!);
        // Not inlined, though the Go field is named after its type.
        Assert.NotNull(pod["affinity"]!["nodeAffinity"]);
    }

    [Fact]
    public void Binary_data_is_base64()
    {
        var configMap = RequireKubectl().Decode(File.ReadAllBytes(Path.Combine(DataDirectory(), "configmap-files.bin")));

        var bytes = Convert.FromBase64String((string)configMap["binaryData"]!["bin"]!);
        Assert.Equal(300, bytes.Length);
        Assert.Equal("line1\nline2\n", (string)configMap["data"]!["text.txt"]!);
    }

    [Fact]
    public void Lease_renew_time_is_micro_time_and_zero_time_is_null()
    {
        var raw = Message(
            Bytes(1, Message( // metadata
                String(1, "node-1"),
                String(3, "kube-node-lease"),
                Bytes(8, []))), // creationTimestamp: zero Time
            Bytes(2, Message( // spec
                String(1, "node-1"),
                Varint(2, 40),
                Bytes(4, Message(Varint(1, 1795610515), Varint(2, 263658123))), // renewTime 2026-11-25T12:41:55.263658123Z
                Bytes(3, Message(Varint(1, 1795610400))), // acquireTime, no nanos
                Varint(5, 0)))); // leaseTransitions: *int32 0
        var lease = RequireKubectl().Decode(Body("coordination.k8s.io/v1", "Lease", raw));

        var expected = JsonNode.Parse("""
            {
              "apiVersion": "coordination.k8s.io/v1",
              "kind": "Lease",
              "metadata": { "name": "node-1", "namespace": "kube-node-lease", "creationTimestamp": null },
              "spec": {
                "holderIdentity": "node-1",
                "leaseDurationSeconds": 40,
                "acquireTime": "2026-11-25T12:40:00.000000Z",
                "renewTime": "2026-11-25T12:41:55.263658Z",
                "leaseTransitions": 0
              }
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, lease), lease.ToJsonString(Indented));
    }

    [Fact]
    public void Time_drops_fractional_seconds()
    {
        var raw = Message(Bytes(1, Message(String(1, "x"), Bytes(8, Message(Varint(1, 1795610400), Varint(2, 999))))));
        var configMap = RequireKubectl().Decode(Body("v1", "ConfigMap", raw));

        Assert.Equal("2026-11-25T12:40:00Z", (string)configMap["metadata"]!["creationTimestamp"]!);
    }

    [Fact]
    public void Meta_types_resolve_in_any_group_version()
    {
        // DeleteOptions{gracePeriodSeconds: 0, propagationPolicy: Foreground, dryRun: [All]}
        var raw = Message(Varint(1, 0), String(4, "Foreground"), String(5, "All"));
        var options = RequireKubectl().Decode(Body("batch/v1", "DeleteOptions", raw));

        var expected = JsonNode.Parse("""
            { "apiVersion": "batch/v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0, "propagationPolicy": "Foreground", "dryRun": ["All"] }
            """);
        Assert.True(JsonNode.DeepEquals(expected, options), options.ToJsonString(Indented));
    }

    [Fact]
    public void Named_slices_are_arrays()
    {
        // authentication.k8s.io/v1 TokenReview status.user.extra: map[string]ExtraValue, ExtraValue []string.
        var entry = Message(String(1, "scopes"), Bytes(2, Message(String(1, "a"), String(1, "b"))));
        var user = Message(String(1, "alice"), Bytes(4, entry));
        var raw = Message(Bytes(2, Message(String(1, "tok"))), Bytes(3, Message(Varint(1, 1), Bytes(2, user))));
        var review = RequireKubectl().Decode(Body("authentication.k8s.io/v1", "TokenReview", raw));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["a","b"]"""), review["status"]!["user"]!["extra"]!["scopes"]), review.ToJsonString(Indented));
        Assert.True((bool)review["status"]!["authenticated"]!);
    }

    [Fact]
    public void Malformed_bodies_are_bad_requests()
    {
        var protobuf = RequireKubectl();
        var valid = File.ReadAllBytes(Path.Combine(DataDirectory(), "configmap-literals.bin"));

        AssertBadRequest(() => protobuf.Decode("{\"kind\":\"ConfigMap\"}"u8));
        AssertBadRequest(() => protobuf.Decode(valid.AsSpan(0, valid.Length - 3)));
        AssertBadRequest(() => protobuf.Decode(Body("v1", "NoSuchKind", [])));
        AssertBadRequest(() => protobuf.Decode(Body("", "", [])));
        AssertBadRequest(() => protobuf.Decode(Body("v1", "ConfigMap", [0x0a, 0x05, 0x01])));
        // metadata (field 1) sent as a varint: wrong wire type.
        AssertBadRequest(() => protobuf.Decode(Body("v1", "ConfigMap", Varint(1, 7))));
    }

    [Fact]
    public void Load_without_kubectl_is_null()
    {
        Assert.Null(KubernetesProtobuf.Load("/nonexistent/kubectl"));
        var notKubectl = Path.GetTempFileName();
        try
        {
            File.WriteAllText(notKubectl, "not a binary");
            Assert.Null(KubernetesProtobuf.Load(notKubectl));
        }
        finally
        {
            File.Delete(notKubectl);
        }
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "1ns")]
    [InlineData(1_500L, "1.5µs")]
    [InlineData(300_000_000L, "300ms")]
    [InlineData(1_500_000_000L, "1.5s")]
    [InlineData(90_000_000_000L, "1m30s")]
    [InlineData(3_600_000_000_000L, "1h0m0s")]
    [InlineData(-5_000_000_000L, "-5s")]
    [InlineData(93_784_000_000_001L, "26h3m4.000000001s")]
    public void Durations_format_as_go_does(long nanoseconds, string expected) =>
        Assert.Equal(expected, GoDuration.Format(nanoseconds));

    private static KubernetesProtobuf RequireKubectl()
    {
        var protobuf = KubernetesProtobuf.Shared;
        Assert.SkipWhen(protobuf is null, "no kubectl on PATH: the protobuf schema comes from it");
        return protobuf!;
    }

    private static void AssertBadRequest(Action action)
    {
        var error = Assert.Throws<ApiException>(action);
        Assert.Equal(400, error.Code);
    }

    private static string DataDirectory([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "Data");

    private static byte[] Body(string apiVersion, string kind, byte[] raw) =>
        [.. "k8s\0"u8, .. Message(Bytes(1, Message(String(1, apiVersion), String(2, kind))), Bytes(2, raw))];

    private static byte[] Message(params byte[][] fields) => [.. fields.SelectMany(f => f)];

    private static byte[] Varint(int number, long value) => [.. Encode((ulong)number << 3), .. Encode(unchecked((ulong)value))];

    private static byte[] String(int number, string value) => Bytes(number, System.Text.Encoding.UTF8.GetBytes(value));

    private static byte[] Bytes(int number, byte[] value) => [.. Encode(((ulong)number << 3) | 2), .. Encode((ulong)value.Length), .. value];

    private static byte[] Encode(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
        return [.. bytes];
    }
}
