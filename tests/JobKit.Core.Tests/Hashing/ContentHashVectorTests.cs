using JobKit.Core.Hashing;
using k8s.Models;
using Xunit;

namespace JobKit.Core.Tests.Hashing;

/// <summary>
/// The tools' own test vectors: kustomize api/hasher/hasher_test.go and kubectl staging/src/k8s.io/kubectl/pkg/util/hash/hash_test.go
/// (the kustomize vectors with unquoted YAML numbers as values cannot be expressed in a typed ConfigMap and are left out).
/// </summary>
public sealed class ContentHashVectorTests
{
    private static readonly byte[] Empty = [];

    private static V1ConfigMap ConfigMap(Dictionary<string, string>? data = null, Dictionary<string, byte[]>? binaryData = null, string? name = null) =>
        new() { Metadata = name is null ? null : new V1ObjectMeta { Name = name }, Data = data, BinaryData = binaryData };

    private static V1Secret Secret(string type, Dictionary<string, byte[]>? data = null, Dictionary<string, string>? stringData = null) =>
        new() { Type = type, Data = data, StringData = stringData };

    public static TheoryData<string, V1ConfigMap, string, string> KustomizeConfigMaps => new()
    {
        { "empty data", ConfigMap(), "6ct58987ht", """{"data":"","kind":"ConfigMap","name":""}""" },
        { "one key", ConfigMap(new() { ["one"] = "" }), "9g67k2htb6", """{"data":{"one":""},"kind":"ConfigMap","name":""}""" },
        { "one key with binary data", ConfigMap(binaryData: new() { ["one"] = Empty }), "6mtk2m274t", """{"binaryData":{"one":""},"data":"","kind":"ConfigMap","name":""}""" },
        { "two keys with one each", ConfigMap(new() { ["one"] = "" }, new() { ["two"] = Empty }), "698h7c7t9m", """{"binaryData":{"two":""},"data":{"one":""},"kind":"ConfigMap","name":""}""" },
    };

    [Theory]
    [MemberData(nameof(KustomizeConfigMaps))]
    public void Kustomize_ConfigMap_vectors(string description, V1ConfigMap configMap, string suffix, string encoding)
    {
        Assert.Equal(encoding, ContentHash.CanonicalJson(configMap, ContentHashAlgorithm.Kustomize));
        Assert.True(suffix == ContentHash.Suffix(configMap, ContentHashAlgorithm.Kustomize), description);
    }

    public static TheoryData<string, V1Secret, string, string> KustomizeSecrets => new()
    {
        { "empty data", Secret("my-type"), "5gmgkf8578", """{"data":"","kind":"Secret","name":"","type":"my-type"}""" },
        { "one key", Secret("my-type", new() { ["one"] = Empty }), "74bd68bm66", """{"data":{"one":""},"kind":"Secret","name":"","type":"my-type"}""" },
    };

    [Theory]
    [MemberData(nameof(KustomizeSecrets))]
    public void Kustomize_Secret_vectors(string description, V1Secret secret, string suffix, string encoding)
    {
        Assert.Equal(encoding, ContentHash.CanonicalJson(secret, ContentHashAlgorithm.Kustomize));
        Assert.True(suffix == ContentHash.Suffix(secret, ContentHashAlgorithm.Kustomize), description);
    }

    public static TheoryData<string, V1ConfigMap, string> KubectlConfigMaps => new()
    {
        { "empty data", ConfigMap(new(), new()), "42745tchd9" },
        { "one key", ConfigMap(new() { ["one"] = "" }), "9g67k2htb6" },
        { "three keys", ConfigMap(new() { ["two"] = "2", ["one"] = "", ["three"] = "3" }), "f5h7t85m9b" },
        { "empty binary data", ConfigMap(binaryData: new()), "dk855m5d49" },
        { "one key with binary data", ConfigMap(binaryData: new() { ["one"] = Empty }), "mk79584b8c" },
        { "three keys with binary data", ConfigMap(binaryData: new() { ["two"] = "2"u8.ToArray(), ["one"] = Empty, ["three"] = "3"u8.ToArray() }), "t458mc6db2" },
        { "two keys with one each", ConfigMap(new() { ["one"] = "" }, new() { ["two"] = Empty }), "698h7c7t9m" },
    };

    [Theory]
    [MemberData(nameof(KubectlConfigMaps))]
    public void Kubectl_ConfigMap_vectors(string description, V1ConfigMap configMap, string suffix) =>
        Assert.True(suffix == ContentHash.Suffix(configMap, ContentHashAlgorithm.Kubectl), description);

    public static TheoryData<string, V1ConfigMap, string> KubectlConfigMapEncodings => new()
    {
        { "empty data", ConfigMap(new()), """{"data":{},"kind":"ConfigMap","name":""}""" },
        { "one key", ConfigMap(new() { ["one"] = "" }), """{"data":{"one":""},"kind":"ConfigMap","name":""}""" },
        { "three keys", ConfigMap(new() { ["two"] = "2", ["one"] = "", ["three"] = "3" }), """{"data":{"one":"","three":"3","two":"2"},"kind":"ConfigMap","name":""}""" },
        { "empty binary data", ConfigMap(binaryData: new()), """{"data":null,"kind":"ConfigMap","name":""}""" },
        { "one key binary", ConfigMap(binaryData: new() { ["one"] = Empty }), """{"binaryData":{"one":""},"data":null,"kind":"ConfigMap","name":""}""" },
        { "three keys binary", ConfigMap(binaryData: new() { ["two"] = "2"u8.ToArray(), ["one"] = Empty, ["three"] = "3"u8.ToArray() }), """{"binaryData":{"one":"","three":"Mw==","two":"Mg=="},"data":null,"kind":"ConfigMap","name":""}""" },
        { "two keys with one each", ConfigMap(new() { ["one"] = "" }, new() { ["two"] = Empty }), """{"binaryData":{"two":""},"data":{"one":""},"kind":"ConfigMap","name":""}""" },
    };

    [Theory]
    [MemberData(nameof(KubectlConfigMapEncodings))]
    public void Kubectl_ConfigMap_encodings(string description, V1ConfigMap configMap, string encoding) =>
        Assert.True(encoding == ContentHash.CanonicalJson(configMap, ContentHashAlgorithm.Kubectl), description);

    public static TheoryData<string, V1Secret, string, string> KubectlSecrets => new()
    {
        { "empty data", Secret("my-type", new()), "t75bgf6ctb", """{"data":{},"kind":"Secret","name":"","type":"my-type"}""" },
        { "one key", Secret("my-type", new() { ["one"] = Empty }), "74bd68bm66", """{"data":{"one":""},"kind":"Secret","name":"","type":"my-type"}""" },
        { "three keys", Secret("my-type", new() { ["two"] = "2"u8.ToArray(), ["one"] = Empty, ["three"] = "3"u8.ToArray() }), "dgcb6h9tmk", """{"data":{"one":"","three":"Mw==","two":"Mg=="},"kind":"Secret","name":"","type":"my-type"}""" },
    };

    [Theory]
    [MemberData(nameof(KubectlSecrets))]
    public void Kubectl_Secret_vectors(string description, V1Secret secret, string suffix, string encoding)
    {
        Assert.Equal(encoding, ContentHash.CanonicalJson(secret, ContentHashAlgorithm.Kubectl));
        Assert.True(suffix == ContentHash.Suffix(secret, ContentHashAlgorithm.Kubectl), description);
    }

    [Fact]
    public void Kustomize_ignores_the_name_immutable_and_metadata_while_kubectl_hashes_name_and_immutable()
    {
        // Observed with kubectl v1.32 (kustomize v5.5.0): a generator "empty" under namePrefix "p-" became p-empty-6ct58987ht,
        // the vector of the nameless empty ConfigMap: api/hasher looks up "metadata/name" as one field name and finds nothing.
        var named = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "p-empty", Labels = new Dictionary<string, string> { ["x"] = "z" } },
            Immutable = true,
        };
        Assert.Equal("6ct58987ht", ContentHash.Suffix(named, ContentHashAlgorithm.Kustomize));

        var data = new Dictionary<string, string> { ["a"] = "b" };
        Assert.Equal("dkb95f5f76", ContentHash.ConfigMapSuffix("foo", data, null, ContentHashAlgorithm.Kubectl)); // kubectl create configmap foo --from-literal=a=b --append-hash
        Assert.NotEqual("dkb95f5f76", ContentHash.ConfigMapSuffix("bar", data, null, ContentHashAlgorithm.Kubectl));
        Assert.NotEqual("dkb95f5f76", ContentHash.ConfigMapSuffix("foo", data, null, ContentHashAlgorithm.Kubectl, immutable: false));
        Assert.Equal(
            """{"data":{"a":"b"},"immutable":true,"kind":"ConfigMap","name":"foo"}""",
            ContentHash.CanonicalJson(new V1ConfigMap { Metadata = new() { Name = "foo" }, Data = data, Immutable = true }, ContentHashAlgorithm.Kubectl));
        Assert.Equal(
            ContentHash.ConfigMapSuffix("foo", data, null, ContentHashAlgorithm.Kustomize),
            ContentHash.ConfigMapSuffix("bar", data, null, ContentHashAlgorithm.Kustomize, immutable: true));
    }

    [Fact]
    public void Kubectl_create_secret_without_type_hashes_an_empty_type()
    {
        // kubectl create secret generic foo --from-literal=a=b --from-file=bin.dat (bytes 61 00 ff fe) --append-hash
        var data = new Dictionary<string, byte[]> { ["a"] = "b"u8.ToArray(), ["bin.dat"] = [0x61, 0x00, 0xff, 0xfe] };
        Assert.Equal("446b7ft9h9", ContentHash.SecretSuffix("foo", null, data, ContentHashAlgorithm.Kubectl));
        Assert.Equal("foo-446b7ft9h9", ContentHash.HashedName("foo", ContentHash.SecretSuffix("foo", null, data, ContentHashAlgorithm.Kubectl)));
    }

    [Fact]
    public void Strings_are_escaped_as_Go_encoding_json_does()
    {
        var data = new Dictionary<string, string>
        {
            ["html"] = "<a href=\"x\">&amp;</a>",
            ["separators"] = "\u2028\u2029",
            ["controls"] = "\b\f\n\r\t\u0001\u001f\u007f",
            ["unicode"] = "é日本🚀",
            ["lone"] = "\ud800x",
            ["slash"] = "a\\b/c",
        };
        Assert.Equal(
            "{\"data\":{\"controls\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\u007f\""
                + ""","html":"\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e","lone":"\ufffdx","separators":"\u2028\u2029","slash":"a\\b/c","unicode":"é日本🚀"},"kind":"ConfigMap","name":""}""",
            ContentHash.CanonicalJson(new V1ConfigMap { Data = data }, ContentHashAlgorithm.Kustomize));
        // Observed: configMapGenerator literals a=b, c=<>&\u2028x, n=123, t=true became ...-cggtc6cbg4.
        var observed = new Dictionary<string, string> { ["a"] = "b", ["c"] = "<>&\u2028x", ["n"] = "123", ["t"] = "true" };
        Assert.Equal("cggtc6cbg4", ContentHash.ConfigMapSuffix("lit", observed, null, ContentHashAlgorithm.Kustomize));
    }

    [Fact]
    public void Keys_are_sorted_by_UTF8_bytes_like_Go_maps()
    {
        // UTF-16 order puts U+1F680 (surrogates D83D DE80) before U+FF61; Go's byte order puts U+FF61 (EF BD A1) before it (F0 9F 9A 80).
        var data = new Dictionary<string, string> { ["🚀"] = "1", ["｡"] = "2", ["a"] = "3" };
        Assert.Equal(
            """{"data":{"a":"3","｡":"2","🚀":"1"},"kind":"ConfigMap","name":""}""",
            ContentHash.CanonicalJson(new V1ConfigMap { Data = data }, ContentHashAlgorithm.Kustomize));
    }

    [Fact]
    public void A_Secret_read_with_KubernetesYaml_hashes_like_the_manifest_although_empty_values_become_null()
    {
        var secret = k8s.KubernetesYaml.Deserialize<V1Secret>("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ntype: my-type\ndata:\n  one: \"\"\n");
        Assert.Null(secret.Data["one"]);
        Assert.Equal("74bd68bm66", ContentHash.Suffix(secret, ContentHashAlgorithm.Kustomize));
        Assert.Equal("""{"data":{"one":""},"kind":"Secret","name":"s","type":"my-type"}""", ContentHash.CanonicalJson(secret, ContentHashAlgorithm.Kubectl));
    }
}
