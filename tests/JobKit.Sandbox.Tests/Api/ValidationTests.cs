using System.Text.Json.Nodes;
using JobKit.Sandbox.Api;
using JobKit.Sandbox.Api.Admission;
using Xunit;

namespace JobKit.Sandbox.Tests.Api;

// Messages, reasons and fields captured from kube-apiserver v1.32.13 (/work/shared/kube-control-plane):
// POST ...?dryRun=All (creates) and PATCH ...?dryRun=All (updates) of the same objects.
public class ValidationTests
{
    private const string Uid = "6aaa70a2-6d55-47bb-bbc5-da29a310999f";

    private const string SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private const string LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    private const string ConfigKeyMessage = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
    private const string LabelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    private const string NamePartMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    private static JsonObject O(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>Runs the create pipeline (defaults, admission, strategy) and returns the validation error.</summary>
    private static ApiException CreateFails(string group, string kind, string json)
    {
        var obj = Prepared(group, kind, json);
        return Assert.Throws<ApiException>(() => Validation.ValidateCreate(group, kind, obj));
    }

    private static JsonObject Prepared(string group, string kind, string json)
    {
        var obj = O(json);
        obj["metadata"] ??= new JsonObject();
        obj["metadata"]!["uid"] = Uid;
        obj["metadata"]!["namespace"] = kind == "Namespace" || kind == "Node" ? null : "default";
        Defaulting.Apply(group, "v1", kind, obj);
        Defaulting.AdmitOnCreate(group, kind, obj);
        Defaulting.PrepareForCreate(group, kind, obj);
        return obj;
    }

    private static (string Reason, string Field)[] Causes(ApiException ex) => [.. ex.Causes.Select(c => (c.Reason, c.Field))];

    [Fact]
    public void ConfigMap_name_must_be_a_subdomain()
    {
        var ex = CreateFails("", "ConfigMap", """{"metadata":{"name":"Bad_Name"}}""");
        Assert.Equal(422, ex.Code);
        Assert.Equal("Invalid", ex.Reason);
        Assert.Equal($"ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": {SubdomainMessage}", ex.Message);
        var details = ex.ToStatus()["details"]!;
        Assert.Equal(("Bad_Name", "ConfigMap"), ((string?)details["name"], (string?)details["kind"]));
        Assert.Equal(("FieldValueInvalid", $"Invalid value: \"Bad_Name\": {SubdomainMessage}", "metadata.name"),
            ((string?)details["causes"]![0]!["reason"], (string?)details["causes"]![0]!["message"], (string?)details["causes"]![0]!["field"]));
    }

    [Fact]
    public void Name_is_required_and_limited()
    {
        var ex = CreateFails("", "ConfigMap", """{"metadata":{}}""");
        Assert.Equal("ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required", ex.Message);
        ex = CreateFails("", "ConfigMap", $$$"""{"metadata":{"name":"{{{new string('a', 254)}}}"}}""");
        Assert.Equal(("FieldValueInvalid", "metadata.name", $"Invalid value: \"{new string('a', 254)}\": must be no more than 253 characters"), (ex.Causes[0].Reason, ex.Causes[0].Field, ex.Causes[0].Message));
        Assert.Single(ex.Causes);
    }

    [Fact]
    public void ConfigMap_keys_duplicates_and_size()
    {
        var ex = CreateFails("", "ConfigMap", """{"metadata":{"name":"ok"},"data":{"":"2","a b":"1"},"binaryData":{"a b":"eA=="}}""");
        Assert.Equal(
            $"ConfigMap \"ok\" is invalid: [data[]: Invalid value: \"\": {ConfigKeyMessage}, data[a b]: Invalid value: \"a b\": {ConfigKeyMessage}, data[a b]: Invalid value: \"a b\": duplicate of key present in binaryData, binaryData[a b]: Invalid value: \"a b\": {ConfigKeyMessage}]",
            ex.Message);
        Assert.Equal([("FieldValueInvalid", "data[]"), ("FieldValueInvalid", "data[a b]"), ("FieldValueInvalid", "data[a b]"), ("FieldValueInvalid", "binaryData[a b]")], Causes(ex));

        ex = CreateFails("", "ConfigMap", $$$"""{"metadata":{"name":"big"},"data":{"a":"{{{new string('x', 1048577)}}}"}}""");
        Assert.Equal("ConfigMap \"big\" is invalid: []: Too long: may not be more than 1048576 bytes", ex.Message);
        Assert.Equal([("FieldValueTooLong", "[]")], Causes(ex));
        // real: exactly 1048576 bytes of values is accepted (keys do not count); binaryData counts decoded bytes
        Validation.ValidateCreate("", "ConfigMap", Prepared("", "ConfigMap", $$$"""{"metadata":{"name":"big"},"data":{"a":"{{{new string('x', 1048576)}}}"}}"""));
        ex = CreateFails("", "ConfigMap", $$$"""{"metadata":{"name":"big"},"data":{"a":"{{{new string('x', 524288)}}}"},"binaryData":{"b":"{{{string.Concat(Enumerable.Repeat("eHh4", 174763))}}}"}}""");
        Assert.Equal([("FieldValueTooLong", "[]")], Causes(ex));
    }

    [Fact]
    public void Secret_keys_size_and_type_requirements()
    {
        // real: stringData keys are reported under data[...]
        var ex = CreateFails("", "Secret", """{"metadata":{"name":"s"},"data":{"a b":"eA=="},"stringData":{"c d":"x"}}""");
        Assert.Equal([("FieldValueInvalid", "data[a b]"), ("FieldValueInvalid", "data[c d]")], Causes(ex));
        ex = CreateFails("", "Secret", """{"metadata":{"name":"s"},"type":"kubernetes.io/tls","data":{}}""");
        Assert.Equal("Secret \"s\" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]", ex.Message);
        ex = CreateFails("", "Secret", $$$"""{"metadata":{"name":"big"},"data":{"a":"{{{Convert.ToBase64String(new byte[1048577])}}}"}}""");
        Assert.Equal("Secret \"big\" is invalid: data: Too long: may not be more than 1048576 bytes", ex.Message);
    }

    [Fact]
    public void Labels_and_annotations()
    {
        var ex = CreateFails("", "ConfigMap", """{"metadata":{"name":"ok","labels":{"a/b/c":"x","ok":"bad value!","-x":"y","example.com/":"z"},"annotations":{"bad key":"v"}}}""");
        Assert.Contains("metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"metadata.labels: Invalid value: \"bad value!\": {LabelValueMessage}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"metadata.labels: Invalid value: \"-x\": {NamePartMessage}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("metadata.labels: Invalid value: \"example.com/\": name part must be non-empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"metadata.annotations: Invalid value: \"bad key\": {NamePartMessage}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(6, ex.Causes.Count);
        ex = CreateFails("", "ConfigMap", """{"metadata":{"name":"ok","labels":{"k":"V"}}}""".Replace("V", new string('a', 64), StringComparison.Ordinal));
        Assert.Equal($"ConfigMap \"ok\" is invalid: metadata.labels: Invalid value: \"{new string('a', 64)}\": must be no more than 63 characters", ex.Message);
    }

    [Fact]
    public void Finalizers_must_be_standard_or_qualified()
    {
        // real (json patch adding finalizers x, y)
        var ex = CreateFails("", "ConfigMap", """{"metadata":{"name":"p1","finalizers":["x","y"]}}""");
        Assert.Equal("ConfigMap \"p1\" is invalid: [metadata.finalizers[0]: Invalid value: \"x\": name is neither a standard finalizer name nor is it fully qualified, metadata.finalizers[1]: Invalid value: \"y\": name is neither a standard finalizer name nor is it fully qualified]", ex.Message);
    }

    [Fact]
    public void Namespace_name_is_a_label_and_its_label_is_validated()
    {
        Assert.Equal("Namespace \"a.b\" is invalid: metadata.name: Invalid value: \"a.b\": must not contain dots", CreateFails("", "Namespace", """{"metadata":{"name":"a.b"}}""").Message);
        Assert.Equal($"Namespace \"A\" is invalid: metadata.name: Invalid value: \"A\": {LabelMessage}", CreateFails("", "Namespace", """{"metadata":{"name":"A"}}""").Message);
        var ex = CreateFails("", "Namespace", """{"metadata":{"name":"-a"}}""");
        Assert.Equal($"Namespace \"-a\" is invalid: [metadata.name: Invalid value: \"-a\": {LabelMessage}, metadata.labels: Invalid value: \"-a\": {LabelValueMessage}]", ex.Message);
        ex = CreateFails("", "Namespace", $$$"""{"metadata":{"name":"{{{new string('a', 64)}}}"}}""");
        Assert.Equal([("FieldValueInvalid", "metadata.name"), ("FieldValueInvalid", "metadata.labels")], Causes(ex));
        Validation.ValidateCreate("", "Namespace", Prepared("", "Namespace", """{"metadata":{"name":"1a"}}"""));
    }

    [Fact]
    public void Other_kinds_validate_names()
    {
        Assert.Equal([("FieldValueInvalid", "metadata.name")], Causes(CreateFails("", "ServiceAccount", """{"metadata":{"name":"S"}}""")));
        Assert.Equal([("FieldValueInvalid", "metadata.name")], Causes(CreateFails("", "Node", """{"metadata":{"name":"N_1"}}""")));
        var ex = CreateFails("coordination.k8s.io", "Lease", """{"metadata":{"name":"L"},"spec":{"leaseDurationSeconds":0}}""");
        Assert.Equal($"Lease.coordination.k8s.io \"L\" is invalid: [metadata.name: Invalid value: \"L\": {SubdomainMessage}, spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0]", ex.Message);
        // real: an Event with only a name is accepted
        Validation.ValidateCreate("", "Event", Prepared("", "Event", """{"metadata":{"name":"e"}}"""));
    }

    [Fact]
    public void Pod_requires_containers_names_and_images()
    {
        Assert.Equal("Pod \"p\" is invalid: spec.containers: Required value", CreateFails("", "Pod", """{"metadata":{"name":"p"},"spec":{}}""").Message);
        var ex = CreateFails("", "Pod", """{"metadata":{"name":"p"},"spec":{"containers":[{}]}}""");
        Assert.Equal("Pod \"p\" is invalid: [spec.containers[0].name: Required value, spec.containers[0].image: Required value]", ex.Message);
        Assert.Equal([("FieldValueRequired", "spec.containers[0].name"), ("FieldValueRequired", "spec.containers[0].image")], Causes(ex));
    }

    [Fact]
    public void Pod_names_duplicates_restart_policy_and_image_whitespace()
    {
        var ex = CreateFails("", "Pod", """{"metadata":{"name":"p"},"spec":{"restartPolicy":"Sometimes","containers":[{"name":"C_1","image":"x"},{"name":"C_1","image":" x"}]}}""");
        Assert.Equal(
            $"Pod \"p\" is invalid: [spec.containers[0].name: Invalid value: \"C_1\": {LabelMessage}, spec.containers[1].name: Invalid value: \"C_1\": {LabelMessage}, spec.containers[1].name: Duplicate value: \"C_1\", spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\", spec.containers[1].image: Invalid value: \" x\": must not have leading or trailing whitespace]",
            ex.Message);
        Assert.Equal([("FieldValueInvalid", "spec.containers[0].name"), ("FieldValueInvalid", "spec.containers[1].name"), ("FieldValueDuplicate", "spec.containers[1].name"), ("FieldValueNotSupported", "spec.restartPolicy"), ("FieldValueInvalid", "spec.containers[1].image")], Causes(ex));
    }

    [Fact]
    public void Pod_container_fields()
    {
        var ex = CreateFails("", "Pod", """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","imagePullPolicy":"Maybe","terminationMessagePolicy":"X","ports":[{"containerPort":0,"protocol":"XX"}]}],"dnsPolicy":"Q"}}""");
        Assert.Equal(
            "Pod \"p\" is invalid: [spec.containers[0].terminationMessagePolicy: Unsupported value: \"X\": supported values: \"File\", \"FallbackToLogsOnError\", spec.containers[0].ports[0].containerPort: Required value, spec.containers[0].ports[0].protocol: Unsupported value: \"XX\": supported values: \"SCTP\", \"TCP\", \"UDP\", spec.containers[0].imagePullPolicy: Unsupported value: \"Maybe\": supported values: \"Always\", \"IfNotPresent\", \"Never\", spec.dnsPolicy: Unsupported value: \"Q\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"]",
            ex.Message);
        ex = CreateFails("", "Pod", """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","volumeMounts":[{"name":"nope","mountPath":"/a"}],"env":[{"name":""},{"name":"a b=c"}]}],"volumes":[{"name":"V"},{"name":"x","emptyDir":{},"configMap":{"name":"y"}}]}}""");
        Assert.Equal(
            $"Pod \"p\" is invalid: [spec.volumes[0].name: Invalid value: \"V\": {LabelMessage}, spec.volumes[1].configMap: Forbidden: may not specify more than 1 volume type, spec.containers[0].env[0].name: Required value, spec.containers[0].env[1].name: Invalid value: \"a b=c\": a valid environment variable name must consist only of printable ASCII characters other than '=', spec.containers[0].volumeMounts[0].name: Not found: \"nope\"]",
            ex.Message);
        Assert.Equal("FieldValueNotFound", ex.Causes[^1].Reason);
        ex = CreateFails("", "Pod", """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"2"},"limits":{"cpu":"1"}}}]}}""");
        Assert.Equal("Pod \"p\" is invalid: spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1", ex.Message);
        ex = CreateFails("", "Pod", """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":70000,"hostPort":-1}]}]}}""");
        Assert.Equal("Pod \"p\" is invalid: [spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive, spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive]", ex.Message);
        ex = CreateFails("", "Pod", """{"metadata":{"name":"p"},"spec":{"initContainers":[{"name":"c","image":"x"}],"containers":[{"name":"c","image":"x"}]}}""");
        Assert.Equal("Pod \"p\" is invalid: spec.initContainers[0].name: Duplicate value: \"c\"", ex.Message);
    }

    [Fact]
    public void Pod_update_may_only_change_images_and_a_few_fields()
    {
        var old = Prepared("", "Pod", """{"metadata":{"name":"sp"},"spec":{"containers":[{"name":"c1","image":"busybox","args":["a"]},{"name":"c2","image":"busybox"}]}}""");
        var changed = (JsonObject)old.DeepClone();
        changed["spec"]!["containers"]![0]!["args"] = new JsonArray("q");
        var ex = Assert.Throws<ApiException>(() => Validation.ValidateUpdate("", "Pod", changed, old));
        Assert.Equal("spec", ex.Causes[0].Field);
        Assert.StartsWith("Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)", ex.Causes[0].Message, StringComparison.Ordinal);
        var fewer = (JsonObject)old.DeepClone();
        fewer["spec"]!["containers"]!.AsArray().RemoveAt(1);
        ex = Assert.Throws<ApiException>(() => Validation.ValidateUpdate("", "Pod", fewer, old));
        Assert.Equal("Pod \"sp\" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers", ex.Message);
        // real: images and activeDeadlineSeconds may change
        var images = (JsonObject)old.DeepClone();
        images["spec"]!["containers"]![0]!["image"] = "nginx";
        images["spec"]!["activeDeadlineSeconds"] = 5;
        Validation.ValidateUpdate("", "Pod", images, old);
    }

    [Fact]
    public void Job_restart_policy_must_be_on_failure_or_never()
    {
        const string Containers = "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]";
        // real: no restartPolicy and "Always" both answer Required with the valid values
        var ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"template":{"spec":{C}}}}""".Replace("C", Containers, StringComparison.Ordinal));
        Assert.Equal("Job.batch \"j\" is invalid: spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"", ex.Message);
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Always",C}}}}""".Replace("C", Containers, StringComparison.Ordinal));
        Assert.Equal([("FieldValueRequired", "spec.template.spec.restartPolicy")], Causes(ex));
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Bogus",C}}}}""".Replace("C", Containers, StringComparison.Ordinal));
        Assert.Equal("Job.batch \"j\" is invalid: [spec.template.spec.restartPolicy: Unsupported value: \"Bogus\": supported values: \"Always\", \"OnFailure\", \"Never\", spec.template.spec.restartPolicy: Unsupported value: \"Bogus\": supported values: \"OnFailure\", \"Never\"]", ex.Message);
    }

    [Fact]
    public void Job_template_and_spec_fields()
    {
        var ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{}}""");
        Assert.Equal("Job.batch \"j\" is invalid: [spec.template.spec.containers: Required value, spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"]", ex.Message);
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"parallelism":-1,"completions":-1,"backoffLimit":-1,"activeDeadlineSeconds":0,"ttlSecondsAfterFinished":-1,"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Equal("Job.batch \"j\" is invalid: [spec.parallelism: Invalid value: -1: must be greater than or equal to 0, spec.completions: Invalid value: -1: must be greater than or equal to 0, spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0, spec.ttlSecondsAfterFinished: Invalid value: -1: must be greater than or equal to 0]", ex.Message);
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"completionMode":"Indexed","parallelism":2,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Equal("Job.batch \"j\" is invalid: spec.completions: Required value: when completion mode is Indexed", ex.Message);
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"completionMode":"Foo","template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Equal("Job.batch \"j\" is invalid: spec.completionMode: Unsupported value: \"Foo\": supported values: \"NonIndexed\", \"Indexed\"", ex.Message);
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c"}]}}}}""");
        Assert.Equal("Job.batch \"j\" is invalid: spec.template.spec.containers[0].image: Required value", ex.Message);
        // real: a 64-character Job name fails through the generated job-name labels (two causes, one message)
        var name = new string('a', 64);
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"NAME_"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""".Replace("NAME_", name, StringComparison.Ordinal));
        Assert.Equal($"Job.batch \"{name}\" is invalid: spec.template.labels: Invalid value: \"{name}\": must be no more than 63 characters", ex.Message);
        Assert.Equal([("FieldValueInvalid", "spec.template.labels"), ("FieldValueInvalid", "spec.template.labels")], Causes(ex));
        // real: with template labels given, the Job's labels are the same map, so they fail too
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"NAME_"},"spec":{"template":{"metadata":{"labels":{"t":"1"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""".Replace("NAME_", name, StringComparison.Ordinal));
        Assert.Equal([("FieldValueInvalid", "metadata.labels"), ("FieldValueInvalid", "metadata.labels"), ("FieldValueInvalid", "spec.template.labels"), ("FieldValueInvalid", "spec.template.labels")], Causes(ex));
        // real: leading whitespace in a Job template image is accepted (Pod-only rule)
        Validation.ValidateCreate("batch", "Job", Prepared("batch", "Job", """{"metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":" busybox"}]}}}}"""));
    }

    [Fact]
    public void Job_selectors()
    {
        var ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"manualSelector":true,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Equal("Job.batch \"j\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`]", ex.Message);
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"manualSelector":true,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"c"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Equal("Job.batch \"j\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"a\":\"c\"}: `selector` does not match template `labels`", ex.Message);
        ex = CreateFails("batch", "Job", """{"metadata":{"name":"j"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Equal($"Job.batch \"j\" is invalid: spec.selector: Invalid value: v1.LabelSelector{{MatchLabels:map[string]string{{\"a\":\"b\", \"batch.kubernetes.io/controller-uid\":\"{Uid}\"}}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}: `selector` not auto-generated", ex.Message);
    }

    private static JsonObject CreatedJob(string spec)
    {
        var job = Prepared("batch", "Job", """{"metadata":{"name":"uj"},"spec":SPEC}""".Replace("SPEC", spec, StringComparison.Ordinal));
        Validation.ValidateCreate("batch", "Job", job);
        return job;
    }

    [Fact]
    public void Job_update_immutable_fields()
    {
        var old = CreatedJob("""{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"uj","image":"busybox"}]}}}""");
        var job = (JsonObject)old.DeepClone();
        job["spec"]!["selector"]!["matchLabels"]!["x"] = "y";
        var ex = Assert.Throws<ApiException>(() => Validation.ValidateUpdate("batch", "Job", job, old));
        // real (uj): 4 causes, the duplicate message written once
        Assert.Equal([("FieldValueInvalid", "spec.selector"), ("FieldValueInvalid", "spec.template.metadata.labels"), ("FieldValueInvalid", "spec.template.metadata.labels"), ("FieldValueInvalid", "spec.selector")], Causes(ex));
        var selector = $"v1.LabelSelector{{MatchLabels:map[string]string{{\"batch.kubernetes.io/controller-uid\":\"{Uid}\", \"x\":\"y\"}}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}";
        var labels = $"map[string]string{{\"batch.kubernetes.io/controller-uid\":\"{Uid}\", \"batch.kubernetes.io/job-name\":\"uj\", \"controller-uid\":\"{Uid}\", \"job-name\":\"uj\"}}";
        Assert.Equal($"Job.batch \"uj\" is invalid: [spec.selector: Invalid value: {selector}: `selector` not auto-generated, spec.template.metadata.labels: Invalid value: {labels}: `selector` does not match template `labels`, spec.selector: Invalid value: {selector}: field is immutable]", ex.Message);

        job = (JsonObject)old.DeepClone();
        job["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "nginx";
        ex = Assert.Throws<ApiException>(() => Validation.ValidateUpdate("batch", "Job", job, old));
        Assert.Equal([("FieldValueInvalid", "spec.template")], Causes(ex));
        Assert.EndsWith(": field is immutable", ex.Message, StringComparison.Ordinal);

        job = (JsonObject)old.DeepClone();
        job["spec"]!["completions"] = 3;
        Assert.Equal("Job.batch \"uj\" is invalid: spec.completions: Invalid value: 3: field is immutable", Assert.Throws<ApiException>(() => Validation.ValidateUpdate("batch", "Job", job, old)).Message);
        job = (JsonObject)old.DeepClone();
        job["spec"]!["completionMode"] = "Indexed";
        Assert.Equal("Job.batch \"uj\" is invalid: spec.completionMode: Invalid value: \"Indexed\": field is immutable", Assert.Throws<ApiException>(() => Validation.ValidateUpdate("batch", "Job", job, old)).Message);

        // real: parallelism, backoffLimit, activeDeadlineSeconds, suspend, podReplacementPolicy are mutable
        job = (JsonObject)old.DeepClone();
        job["spec"]!["parallelism"] = 5;
        job["spec"]!["backoffLimit"] = 2;
        job["spec"]!["activeDeadlineSeconds"] = 100;
        job["spec"]!["suspend"] = true;
        Validation.ValidateUpdate("batch", "Job", job, old);
    }

    [Fact]
    public void Job_update_suspended_template_scheduling_and_elastic_indexed()
    {
        // real (sj): a suspended Job that never started may change nodeSelector and labels, not the rest
        var old = CreatedJob("""{"suspend":true,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}""");
        var job = (JsonObject)old.DeepClone();
        job["spec"]!["template"]!["spec"]!["nodeSelector"] = new JsonObject { ["a"] = "b" };
        job["spec"]!["template"]!["metadata"]!["labels"]!["x"] = "y";
        Validation.ValidateUpdate("batch", "Job", job, old);
        job = (JsonObject)old.DeepClone();
        job["spec"]!["template"]!["spec"]!["terminationGracePeriodSeconds"] = 5;
        Assert.Equal([("FieldValueInvalid", "spec.template")], Causes(Assert.Throws<ApiException>(() => Validation.ValidateUpdate("batch", "Job", job, old))));

        // real (ij): Indexed completions change only in tandem with parallelism
        old = CreatedJob("""{"completionMode":"Indexed","completions":2,"parallelism":2,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}""");
        job = (JsonObject)old.DeepClone();
        job["spec"]!["completions"] = 3;
        Assert.Equal("Job.batch \"uj\" is invalid: spec.completions: Invalid value: 3: can only be modified in tandem with spec.parallelism", Assert.Throws<ApiException>(() => Validation.ValidateUpdate("batch", "Job", job, old)).Message);
        job["spec"]!["parallelism"] = 3;
        Validation.ValidateUpdate("batch", "Job", job, old);
    }

    private const string JobTemplate = "\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}";

    private static ApiException CronJobFails(string specFields) =>
        CreateFails("batch", "CronJob", """{"metadata":{"name":"cj"},"spec":{FIELDS}}""".Replace("FIELDS", specFields + JobTemplate, StringComparison.Ordinal));

    [Theory]
    [InlineData("\"schedule\":\"bogus\",", "spec.schedule: Invalid value: \"bogus\": expected exactly 5 fields, found 1: [bogus]")]
    [InlineData("", "spec.schedule: Required value")]
    [InlineData("\"schedule\":\"* * * * *\",\"timeZone\":\"Mars/Base\",", "spec.timeZone: Invalid value: \"Mars/Base\": unknown time zone Mars/Base")]
    [InlineData("\"schedule\":\"TZ=UTC * * * * *\",", "spec.schedule: Invalid value: \"TZ=UTC * * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead")]
    [InlineData("\"schedule\":\"CRON_TZ=UTC * * * * *\",\"timeZone\":\"UTC\",", "spec.schedule: Invalid value: \"CRON_TZ=UTC * * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead")]
    [InlineData("\"schedule\":\"* * * * *\",\"timeZone\":\" UTC\",", "spec.timeZone: Invalid value: \" UTC\": unknown time zone  UTC")]
    [InlineData("\"schedule\":\"61 * * * *\",", "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61")]
    [InlineData("\"schedule\":\"* * * * * *\",", "spec.schedule: Invalid value: \"* * * * * *\": expected exactly 5 fields, found 6: [* * * * * *]")]
    [InlineData("\"schedule\":\"* * * * *\",\"timeZone\":\"Europe/Berlin\",\"concurrencyPolicy\":\"Sometimes\",\"startingDeadlineSeconds\":-1,\"successfulJobsHistoryLimit\":-1,",
        "[spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0, spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\", spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0]")]
    public void CronJob_schedule_time_zone_and_policies(string fields, string expected)
    {
        Assert.Equal($"CronJob.batch \"cj\" is invalid: {expected}", CronJobFails(fields).Message);
    }

    [Fact]
    public void CronJob_accepts_descriptors_and_checks_name_and_template()
    {
        foreach (var schedule in new[] { "@every 5m", "@hourly", "*/5 1-3 * jan,FEB mon-fri", "0 0 ? * *" })
        {
            var cj = Prepared("batch", "CronJob", """{"metadata":{"name":"cj"},"spec":{"schedule":"S",T}}""".Replace("S", schedule, StringComparison.Ordinal).Replace("T", JobTemplate, StringComparison.Ordinal));
            Validation.ValidateCreate("batch", "CronJob", cj);
        }
        var name = new string('a', 53);
        var ex = CreateFails("batch", "CronJob", """{"metadata":{"name":"NAME_"},"spec":{"schedule":"@daily",T}}""".Replace("NAME_", name, StringComparison.Ordinal).Replace("T", JobTemplate, StringComparison.Ordinal));
        Assert.Equal($"CronJob.batch \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": must be no more than 52 characters", ex.Message);
        ex = CreateFails("batch", "CronJob", """{"metadata":{"name":"cj"},"spec":{"schedule":"@daily","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Always","containers":[{"name":"c","image":"busybox"}]}}}}}}""");
        Assert.Equal("CronJob.batch \"cj\" is invalid: spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"", ex.Message);
    }

    [Fact]
    public void Immutable_configmap_and_secret_updates()
    {
        var old = Prepared("", "ConfigMap", """{"metadata":{"name":"ucm"},"data":{"a":"1"},"immutable":true}""");
        void Fails(string patch, string expected)
        {
            var updated = (JsonObject)Api.JsonMergePatchApply(old, patch);
            Assert.Equal(expected, Assert.Throws<ApiException>(() => Validation.ValidateUpdate("", "ConfigMap", updated, old)).Message);
        }
        // real (ucm)
        Fails("""{"data":{"a":"2"}}""", "ConfigMap \"ucm\" is invalid: data: Forbidden: field is immutable when `immutable` is set");
        Fails("""{"immutable":false}""", "ConfigMap \"ucm\" is invalid: immutable: Forbidden: field is immutable when `immutable` is set");
        Fails("""{"binaryData":{"b":"eA=="}}""", "ConfigMap \"ucm\" is invalid: binaryData: Forbidden: field is immutable when `immutable` is set");
        Validation.ValidateUpdate("", "ConfigMap", (JsonObject)Api.JsonMergePatchApply(old, """{"metadata":{"labels":{"z":"1"}}}"""), old);

        var secret = Prepared("", "Secret", """{"metadata":{"name":"usec"},"data":{"a":"MQ=="}}""");
        var changed = (JsonObject)Api.JsonMergePatchApply(secret, """{"type":"x"}""");
        Assert.Equal("Secret \"usec\" is invalid: type: Invalid value: \"x\": field is immutable", Assert.Throws<ApiException>(() => Validation.ValidateUpdate("", "Secret", changed, secret)).Message);
    }

    private static class Api
    {
        public static JsonNode JsonMergePatchApply(JsonObject target, string patch) =>
            JobKit.Sandbox.Api.Patching.JsonMergePatch.Apply(target, JsonNode.Parse(patch))!;
    }
}
