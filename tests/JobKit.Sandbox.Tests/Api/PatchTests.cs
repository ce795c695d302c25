using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;
using JobKit.Sandbox.Api.Patching;
using Xunit;

namespace JobKit.Sandbox.Tests.Api;

// Expectations captured from kube-apiserver v1.32.13 (/work/shared/kube-control-plane) with
// PATCH ...?dryRun=All and the given Content-Type.
public class JsonMergePatchTests
{
    private static JsonNode? J(string json) => JsonNode.Parse(json);

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.Equal(J(expected)!.ToJsonString(), actual?.ToJsonString());

    [Fact]
    public void Null_deletes_a_member_and_objects_merge_recursively()
    {
        // real: merge-patch {"data":{"a":"1","b":null},"metadata":{"labels":{"x":"y"}}}
        var target = J("""{"data":{"b":"2","c":"3"},"metadata":{"name":"p"}}""");
        var result = JsonMergePatch.Apply(target, J("""{"data":{"a":"1","b":null},"metadata":{"labels":{"x":"y"}}}"""));
        AssertJson("""{"data":{"c":"3","a":"1"},"metadata":{"name":"p","labels":{"x":"y"}}}""", result);
        AssertJson("""{"data":{"b":"2","c":"3"},"metadata":{"name":"p"}}""", target); // target untouched
    }

    [Fact]
    public void Arrays_are_replaced_and_nested_objects_replace_scalars()
    {
        AssertJson("""{"a":[3]}""", JsonMergePatch.Apply(J("""{"a":[1,2]}"""), J("""{"a":[3]}""")));
        AssertJson("""{"a":{"b":1}}""", JsonMergePatch.Apply(J("""{"a":"x"}"""), J("""{"a":{"b":1,"c":null}}""")));
    }

    [Fact]
    public void Non_object_patch_bodies_are_the_servers_400s()
    {
        // real: merge-patch [1] and "x"; json-patch {"op":"add"}; strategic [1]
        var ex = Assert.Throws<ApiException>(() => JsonMergePatch.Apply(J("""{"a":1}"""), J("[1]")));
        Assert.Equal((400, "BadRequest", "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"), (ex.Code, ex.Reason, ex.Message));
        ex = Assert.Throws<ApiException>(() => JsonMergePatch.Apply(J("""{"a":1}"""), J("\"x\"")));
        Assert.Equal("error decoding patch: json: cannot unmarshal string into Go value of type map[string]interface {}", ex.Message);
        Assert.Equal("error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp", JsonPatch.NotAnArray(J("""{"op":"add"}""")).Message);
        Assert.Equal("json: cannot unmarshal array into Go value of type map[string]interface {}", StrategicMergePatch.NotAnObject(J("[1]")).Message);
    }
}

public class JsonPatchTests
{
    private static JsonNode? J(string json) => JsonNode.Parse(json);

    private static JsonNode? Patch(string target, string ops) => JsonPatch.Apply(J(target), (JsonArray)J(ops)!);

    private const string Cm = """{"data":{"a":"1"},"metadata":{"name":"p1","finalizers":["x"]}}""";

    [Fact]
    public void Add_remove_replace_move_copy_test_apply_in_order()
    {
        // real: test /data/a == "1" then move /data/a -> /data/q  => data {"q":"1"}
        var r = Patch(Cm, """[{"op":"test","path":"/data/a","value":"1"},{"op":"move","from":"/data/a","path":"/data/q"}]""");
        Assert.Equal("""{"q":"1"}""", r!["data"]!.ToJsonString());
        r = Patch(Cm, """[{"op":"add","path":"/metadata/finalizers/-","value":"y"},{"op":"add","path":"/metadata/finalizers/0","value":"z"},{"op":"copy","from":"/data/a","path":"/data/b"},{"op":"replace","path":"/data/a","value":"2"}]""");
        Assert.Equal("""["z","x","y"]""", r!["metadata"]!["finalizers"]!.ToJsonString());
        Assert.Equal("""{"a":"2","b":"1"}""", r["data"]!.ToJsonString());
        r = Patch(Cm, """[{"op":"remove","path":"/metadata/finalizers/0"},{"op":"remove","path":"/data"}]""");
        Assert.Equal("""{"name":"p1","finalizers":[]}""", r!["metadata"]!.ToJsonString());
        Assert.Null(r["data"]);
    }

    [Fact]
    public void Evanphx_v4_quirks_are_kept()
    {
        // real: replace of a missing member adds it ({"a":"1","zz":"x"})
        Assert.Equal("x", (string?)Patch(Cm, """[{"op":"replace","path":"/data/zz","value":"x"}]""")!["data"]!["zz"]);
        // real: add without value stores null (ConfigMap shows "b": "")
        var r = Patch(Cm, """[{"op":"add","path":"/data/b"}]""")!;
        Assert.True(r["data"]!.AsObject().ContainsKey("b"));
        Assert.Null(r["data"]!["b"]);
        // real: copy from a missing member copies null
        Assert.True(Patch(Cm, """[{"op":"copy","from":"/data/zz","path":"/data/b"}]""")!["data"]!.AsObject().ContainsKey("b"));
        // real: add at index -1 of ["x"] inserts at the end => ["x","y"]
        Assert.Equal("""["x","y"]""", Patch(Cm, """[{"op":"add","path":"/metadata/finalizers/-1","value":"y"}]""")!["metadata"]!["finalizers"]!.ToJsonString());
        // real: "data/b" (no leading slash) drops the first token: adds "b" at the root (unknown field warning)
        Assert.Equal("1", (string?)Patch(Cm, """[{"op":"add","path":"data/b","value":"1"}]""")!["b"]);
        // real: test of a missing member against null succeeds; "~1" decodes to "/"
        Assert.NotNull(Patch(Cm, """[{"op":"test","path":"/data/zz","value":null}]"""));
        Assert.Equal("1", (string?)Patch(Cm, """[{"op":"add","path":"/data/x~1y","value":"1"}]""")!["data"]!["x/y"]);
    }

    [Theory]
    // Each of these answered 422 {"message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{}}
    [InlineData("""[{"op":"remove","path":"/data/zz"}]""")]
    [InlineData("""[{"op":"test","path":"/data/a","value":"2"}]""")]
    [InlineData("""[{"op":"add","path":"/nope/x","value":"2"}]""")]
    [InlineData("""[{"op":"replace","path":"/nope/x","value":"2"}]""")]
    [InlineData("""[{"op":"bogus","path":"/data/a"}]""")]
    [InlineData("""[{"op":"move","from":"/data/zz","path":"/data/b"}]""")]
    [InlineData("""[{"op":"add","path":"/metadata/finalizers/5","value":"x"}]""")]
    [InlineData("""[{"op":"remove","path":"/metadata/finalizers/3"}]""")]
    [InlineData("""[{"op":"remove","path":"/metadata/finalizers/-"}]""")]
    [InlineData("""[{"op":"replace","path":"/metadata/finalizers/1","value":"y"}]""")]
    [InlineData("""[{"op":"add","path":"/metadata/finalizers/a","value":"y"}]""")]
    [InlineData("""[{"path":"/data/a"}]""")]
    [InlineData("""[{"op":"add","value":"1"}]""")]
    [InlineData("""[{"op":"copy","path":"/data/b"}]""")]
    [InlineData("""[{"op":"add","path":"","value":{}}]""")]
    [InlineData("""[{"op":"add","path":"/data/a/b","value":"2"}]""")]
    [InlineData("""[{"op":"move","from":"/metadata","path":"/metadata/x"}]""")]
    public void Failing_operations_answer_the_servers_opaque_422(string ops)
    {
        var ex = Assert.Throws<ApiException>(() => Patch(Cm, ops));
        Assert.Equal(422, ex.Code);
        Assert.Equal("Invalid", ex.Reason);
        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{},"code":422}""",
            ex.ToStatus().ToJsonString());
    }

    [Fact]
    public void Target_is_not_modified()
    {
        var target = J(Cm);
        _ = JsonPatch.Apply(target, (JsonArray)J("""[{"op":"remove","path":"/data/a"}]""")!);
        Assert.Equal(Cm, target!.ToJsonString());
    }
}

public class StrategicMergePatchTests
{
    private static JsonObject O(string json) => JsonNode.Parse(json)!.AsObject();

    // The PodTemplate used on the real server (a PodTemplate's template is mutable, unlike a Pod's spec).
    private const string Template = """
        {"apiVersion":"v1","kind":"PodTemplate","metadata":{"name":"pt"},"template":{"metadata":{"labels":{"a":"1"}},"spec":{
          "containers":[{"name":"c1","image":"busybox","args":["a","b"],"env":[{"name":"E1","value":"1"},{"name":"E2","value":"2"}],
            "ports":[{"containerPort":80},{"containerPort":81,"name":"p81"}],"volumeMounts":[{"name":"v","mountPath":"/a"}]},
            {"name":"c2","image":"busybox"}],
          "volumes":[{"name":"v","emptyDir":{}}],"tolerations":[{"key":"k","operator":"Exists"}],"nodeSelector":{"n":"1"}}}}
        """;

    private static JsonObject PatchTemplate(string spec) =>
        StrategicMergePatch.Apply(O(Template), O("{\"template\":{\"spec\":" + spec + "}}"), "", "PodTemplate")["template"]!["spec"]!.AsObject();

    private static string Names(JsonObject spec) => string.Join(",", spec["containers"]!.AsArray().Select(c => (string?)c!["name"]));

    [Fact]
    public void New_container_is_merged_by_name_and_goes_first()
    {
        // real: ["c3","c1","c2"]
        Assert.Equal("c3,c1,c2", Names(PatchTemplate("""{"containers":[{"name":"c3","image":"nginx"}]}""")));
    }

    [Fact]
    public void Patch_delete_removes_the_list_element()
    {
        // real: ["c2"]
        Assert.Equal("c2", Names(PatchTemplate("""{"containers":[{"name":"c1","$patch":"delete"}]}""")));
    }

    [Fact]
    public void Env_merges_by_name_with_delete_directive()
    {
        // real: [{"name":"E3","value":"3"},{"name":"E2","value":"2"}]
        var spec = PatchTemplate("""{"containers":[{"name":"c1","env":[{"name":"E3","value":"3"},{"name":"E1","$patch":"delete"}]}]}""");
        Assert.Equal("""[{"name":"E3","value":"3"},{"name":"E2","value":"2"}]""", spec["containers"]![0]!["env"]!.ToJsonString());
    }

    [Fact]
    public void Args_and_tolerations_are_replaced()
    {
        Assert.Equal("""["z"]""", PatchTemplate("""{"containers":[{"name":"c1","args":["z"]}]}""")["containers"]![0]!["args"]!.ToJsonString());
        Assert.Equal("""[{"key":"k2","operator":"Exists"}]""", PatchTemplate("""{"tolerations":[{"key":"k2","operator":"Exists"}]}""")["tolerations"]!.ToJsonString());
        // real: args ["b","c","b"] replace (no dedup)
        Assert.Equal("""["b","c","b"]""", PatchTemplate("""{"containers":[{"name":"c1","args":["b","c","b"]}]}""")["containers"]![0]!["args"]!.ToJsonString());
    }

    [Fact]
    public void Set_element_order_reorders_containers()
    {
        // real: ["c2","c1"] and ["c2","c3","c1"]
        Assert.Equal("c2,c1", Names(PatchTemplate("""{"$setElementOrder/containers":[{"name":"c2"},{"name":"c1"}]}""")));
        var spec = PatchTemplate("""{"$setElementOrder/containers":[{"name":"c2"},{"name":"c3"},{"name":"c1"}],"containers":[{"name":"c3","image":"x"}]}""");
        Assert.Equal("c2,c3,c1", Names(spec));
        Assert.DoesNotContain("$setElementOrder", spec.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Set_element_order_inside_a_merged_element()
    {
        // real: [E1, E0, E2]
        var spec = PatchTemplate("""{"containers":[{"name":"c1","env":[{"name":"E0","value":"0"}],"$setElementOrder/env":[{"name":"E1"},{"name":"E0"},{"name":"E2"}]}]}""");
        Assert.Equal("""[{"name":"E1","value":"1"},{"name":"E0","value":"0"},{"name":"E2","value":"2"}]""", spec["containers"]![0]!["env"]!.ToJsonString());
    }

    [Fact]
    public void Ports_merge_by_container_port()
    {
        // real (after defaulting protocol): 80, 81 (name p81, UDP), 82
        var spec = PatchTemplate("""{"containers":[{"name":"c1","ports":[{"containerPort":81,"protocol":"UDP"},{"containerPort":82}]}]}""");
        Assert.Equal("""[{"containerPort":80},{"containerPort":81,"name":"p81","protocol":"UDP"},{"containerPort":82}]""", spec["containers"]![0]!["ports"]!.ToJsonString());
    }

    [Fact]
    public void Volume_mounts_merge_by_mount_path()
    {
        // real: [{"name":"v","mountPath":"/b"},{"name":"v","mountPath":"/a"}]
        var spec = PatchTemplate("""{"containers":[{"name":"c1","volumeMounts":[{"mountPath":"/b","name":"v"}]}]}""");
        Assert.Equal("""[{"mountPath":"/b","name":"v"},{"name":"v","mountPath":"/a"}]""", spec["containers"]![0]!["volumeMounts"]!.ToJsonString());
    }

    [Fact]
    public void Replace_directive_in_list_and_map()
    {
        // real: ["c9"] ; nodeSelector {"z":"1"}
        Assert.Equal("c9", Names(PatchTemplate("""{"containers":[{"name":"c9","image":"q"},{"$patch":"replace"}]}""")));
        Assert.Equal("""{"z":"1"}""", PatchTemplate("""{"nodeSelector":{"$patch":"replace","z":"1"}}""")["nodeSelector"]!.ToJsonString());
    }

    [Fact]
    public void Delete_directive_in_map_removes_it()
    {
        // real: nodeSelector absent
        Assert.False(PatchTemplate("""{"nodeSelector":{"$patch":"delete"}}""").ContainsKey("nodeSelector"));
    }

    [Fact]
    public void Delete_from_primitive_list_and_retain_keys()
    {
        // real: ["b"]
        Assert.Equal("""["b"]""", PatchTemplate("""{"containers":[{"name":"c1","$deleteFromPrimitiveList/args":["a"]}]}""")["containers"]![0]!["args"]!.ToJsonString());
        // real: volume becomes {"name":"v","configMap":{"name":"cm",...}} without emptyDir
        Assert.Equal("""[{"name":"v","configMap":{"name":"cm"}}]""",
            PatchTemplate("""{"volumes":[{"name":"v","$retainKeys":["name","configMap"],"configMap":{"name":"cm"}}]}""")["volumes"]!.ToJsonString());
    }

    [Fact]
    public void Directives_inside_new_values_are_dropped()
    {
        // real: a new container keeps env [{"name":"X"}] (the $patch key is dropped by the typed decoding)
        var spec = PatchTemplate("""{"containers":[{"name":"c3","image":"nginx","env":[{"name":"X","$patch":"delete"}]}]}""");
        Assert.Equal("""[{"name":"X"}]""", spec["containers"]![0]!["env"]!.ToJsonString());
    }

    [Fact]
    public void Finalizers_are_a_merge_set_with_delete_and_order_lists()
    {
        var cm = O("""{"metadata":{"name":"p","finalizers":["x.io/a","x.io/b"]}}""");
        string Fin(string patch) => StrategicMergePatch.Apply(cm, O(patch), "", "ConfigMap")["metadata"]!["finalizers"]!.ToJsonString();
        // real (Pod sp): ["x.io/c","x.io/a","x.io/b"], ["x.io/b"], ["x.io/b","x.io/a"], ["x.io/c","x.io/b","x.io/a"]
        Assert.Equal("""["x.io/c","x.io/a","x.io/b"]""", Fin("""{"metadata":{"finalizers":["x.io/c"]}}"""));
        Assert.Equal("""["x.io/b"]""", Fin("""{"metadata":{"$deleteFromPrimitiveList/finalizers":["x.io/a"]}}"""));
        Assert.Equal("""["x.io/b","x.io/a"]""", Fin("""{"metadata":{"$setElementOrder/finalizers":["x.io/b","x.io/a"]}}"""));
        Assert.Equal("""["x.io/c","x.io/b","x.io/a"]""", Fin("""{"metadata":{"$setElementOrder/finalizers":["x.io/c","x.io/b","x.io/a"],"finalizers":["x.io/c"]}}"""));
        // real: deleting from an absent list leaves it absent
        Assert.False(StrategicMergePatch.Apply(O("""{"metadata":{"name":"p"}}"""), O("""{"metadata":{"$deleteFromPrimitiveList/finalizers":["a.io/x"]}}"""), "", "ConfigMap")["metadata"]!.AsObject().ContainsKey("finalizers"));
    }

    [Fact]
    public void Labels_merge_and_null_deletes()
    {
        // real: {"b":"2","c":"3"}
        var r = StrategicMergePatch.Apply(O("""{"metadata":{"labels":{"a":"1","b":"2"}}}"""), O("""{"metadata":{"labels":{"a":null,"c":"3"}}}"""), "", "Pod");
        Assert.Equal("""{"b":"2","c":"3"}""", r["metadata"]!["labels"]!.ToJsonString());
    }

    [Fact]
    public void Pod_status_conditions_merge_by_type()
    {
        // real (pods/status): [Ready False, X True, PodScheduled False]
        var pod = O("""{"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False"}]}}""");
        var r = StrategicMergePatch.Apply(pod, O("""{"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"X","status":"True"}]}}"""), "", "Pod");
        Assert.Equal("""[{"type":"Ready","status":"False"},{"type":"X","status":"True"},{"type":"PodScheduled","status":"False"}]""", r["status"]!["conditions"]!.ToJsonString());
        r = StrategicMergePatch.Apply(pod, O("""{"status":{"conditions":[{"type":"PodScheduled","status":"True"}]}}"""), "", "Pod");
        Assert.Equal("""[{"type":"PodScheduled","status":"True"}]""", r["status"]!["conditions"]!.ToJsonString());
    }

    [Fact]
    public void Job_and_cronjob_templates_use_pod_spec_merge_keys()
    {
        var job = O("""{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"}]}}},"status":{"conditions":[{"type":"Complete","status":"True"}]}}""");
        var r = StrategicMergePatch.Apply(job, O("""{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"y"}]}}},"status":{"conditions":[{"type":"Failed","status":"False"}]}}"""), "batch", "Job");
        Assert.Equal(2, r["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Count);
        Assert.Equal(2, r["status"]!["conditions"]!.AsArray().Count);
        var cj = O("""{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"}]}}}}}}""");
        r = StrategicMergePatch.Apply(cj, O("""{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"z"}]}}}}}}"""), "batch", "CronJob");
        Assert.Equal("""[{"name":"a","image":"z"}]""", r["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!["containers"]!.ToJsonString());
    }

    [Fact]
    public void Owner_references_merge_by_uid()
    {
        var r = StrategicMergePatch.Apply(O("""{"metadata":{"ownerReferences":[{"uid":"u0","name":"x"}]}}"""), O("""{"metadata":{"ownerReferences":[{"uid":"u1","name":"a"}]}}"""), "", "ConfigMap");
        Assert.Equal("""[{"uid":"u1","name":"a"},{"uid":"u0","name":"x"}]""", r["metadata"]!["ownerReferences"]!.ToJsonString());
    }

    [Fact]
    public void Errors_match_the_server()
    {
        // real: 500, no reason: "map: map[image:nginx] does not contain declared merge key: name"
        var ex = Assert.Throws<ApiException>(() => PatchTemplate("""{"containers":[{"image":"nginx"}]}"""));
        Assert.Equal(500, ex.Code);
        Assert.Equal("map: map[image:nginx] does not contain declared merge key: name", ex.Message);
        Assert.False(ex.ToStatus().ContainsKey("reason"));
        // real: 500 "unknown patch type: bogus in map: map[$patch:bogus name:c1]"
        ex = Assert.Throws<ApiException>(() => PatchTemplate("""{"containers":[{"name":"c1","$patch":"bogus"}]}"""));
        Assert.Equal("unknown patch type: bogus in map: map[$patch:bogus name:c1]", ex.Message);
        // real: 500 "merging lists cannot yet be specified in the patch"
        ex = Assert.Throws<ApiException>(() => PatchTemplate("""{"containers":[{"$patch":"merge"}]}"""));
        Assert.Equal("merging lists cannot yet be specified in the patch", ex.Message);
        // real: 400 BadRequest "invalid patch format of retainKeys"
        ex = Assert.Throws<ApiException>(() => PatchTemplate("""{"volumes":[{"name":"v","$retainKeys":["name"],"configMap":{"name":"cm"}}]}"""));
        Assert.Equal((400, "BadRequest", "invalid patch format of retainKeys"), (ex.Code, ex.Reason, ex.Message));
        // real: 500 "expected a []interface {}, but received a string"
        ex = Assert.Throws<ApiException>(() => PatchTemplate("""{"$setElementOrder/containers":"a"}"""));
        Assert.Equal("expected a []interface {}, but received a string", ex.Message);
        // real: 500 order mismatch
        ex = Assert.Throws<ApiException>(() => PatchTemplate("""{"$setElementOrder/containers":[{"name":"c1"},{"name":"c2"}],"containers":[{"name":"c2","image":"y"},{"name":"c1","image":"x"}]}"""));
        Assert.Equal("The order in patch list:\n[map[image:y name:c2] map[image:x name:c1]]\n doesn't match $setElementOrder list:\n[map[name:c1] map[name:c2]]\n", ex.Message);
    }

    [Fact]
    public void Custom_resources_are_unsupported_media_type()
    {
        // real (CRD widgets.x.io): 415 UnsupportedMediaType
        Assert.False(StrategicMergePatch.Supports("x.io", "Widget"));
        Assert.True(StrategicMergePatch.Supports("batch", "Job"));
        var ex = Assert.Throws<ApiException>(() => StrategicMergePatch.Apply(O("{}"), O("{}"), "x.io", "Widget"));
        Assert.Equal((415, "UnsupportedMediaType"), (ex.Code, ex.Reason));
        Assert.Equal("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml", ex.Message);
    }

    [Fact]
    public void Inputs_are_not_modified()
    {
        var original = O(Template);
        var patch = O("""{"template":{"spec":{"containers":[{"name":"c1","$patch":"delete"}]}}}""");
        var (o, p) = (original.ToJsonString(), patch.ToJsonString());
        _ = StrategicMergePatch.Apply(original, patch, "", "PodTemplate");
        Assert.Equal(o, original.ToJsonString());
        Assert.Equal(p, patch.ToJsonString());
    }
}
