using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using JobKit.Sandbox.Api.Admission;
using Xunit;

namespace JobKit.Sandbox.Tests.Api;

// Expectations captured from kube-apiserver v1.32.13 (/work/shared/kube-control-plane):
// POST ...?dryRun=All (or kubectl create --dry-run=server -o json) of the same input.
public partial class DefaultingTests
{
    private const string Uid = "2da43096-fee3-48f3-8d30-179d5ea41d8e";

    private static JsonObject O(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>Key order is not significant: compare with keys sorted at every level.</summary>
    internal static string Canon(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canon(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canon)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    [GeneratedRegex("kube-api-access-[a-z0-9]{5}")]
    private static partial Regex TokenVolume();

    private static void AssertSameJson(string expected, JsonNode? actual) =>
        Assert.Equal(Canon(JsonNode.Parse(expected)), Canon(actual));

    /// <summary>The create pipeline as the API server runs it.</summary>
    private static JsonObject Create(string group, string kind, string json)
    {
        var obj = O(json);
        var meta = obj["metadata"] as JsonObject ?? [];
        meta["uid"] = Uid;
        obj["metadata"] = meta;
        Defaulting.Apply(group, "v1", kind, obj);
        Defaulting.AdmitOnCreate(group, kind, obj);
        Defaulting.PrepareForCreate(group, kind, obj);
        Validation.ValidateCreate(group, kind, obj);
        Defaulting.Apply(group, "v1", kind, obj); // storage round trip
        return obj;
    }

    [Fact]
    public void Pod_gets_spec_defaults_service_account_volume_tolerations_priority_and_status()
    {
        var pod = Create("", "Pod", """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"dp","namespace":"default"},"spec":{"initContainers":[{"name":"i","image":"busybox:1.36"}],
             "containers":[{"name":"c","image":"nginx:latest","ports":[{"containerPort":80}]},{"name":"d","image":"reg:5000/x@sha256:abcd"},{"name":"e","image":"reg:5000/x"}]}}
            """);
        var volumeName = (string?)pod["spec"]!["volumes"]![0]!["name"];
        Assert.Matches("^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$", volumeName);
        var actual = JsonNode.Parse(TokenVolume().Replace(new JsonObject { ["spec"] = pod["spec"]!.DeepClone(), ["status"] = pod["status"]!.DeepClone() }.ToJsonString(), "kube-api-access-xxxxx"));
        // real (dp): spec and status of the dry-run create
        AssertSameJson("""
            {"spec":{"volumes":[{"name":"kube-api-access-xxxxx","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],"initContainers":[{"name":"i","image":"busybox:1.36","resources":{},"volumeMounts":[{"name":"kube-api-access-xxxxx","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"containers":[{"name":"c","image":"nginx:latest","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{},"volumeMounts":[{"name":"kube-api-access-xxxxx","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"},{"name":"d","image":"reg:5000/x@sha256:abcd","resources":{},"volumeMounts":[{"name":"kube-api-access-xxxxx","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"},{"name":"e","image":"reg:5000/x","resources":{},"volumeMounts":[{"name":"kube-api-access-xxxxx","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending","qosClass":"BestEffort"}}
            """, actual);
    }

    [Fact]
    public void Pod_without_automount_with_host_network_probes_volumes_and_limits()
    {
        var pod = Create("", "Pod", """
            {"metadata":{"name":"p2","namespace":"default"},"spec":{"automountServiceAccountToken":false,"hostNetwork":true,"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists"},{"operator":"Exists","effect":"NoSchedule"}],"volumes":[{"name":"a"},{"name":"s","secret":{"secretName":"x"}},{"name":"c","configMap":{"name":"x"}},{"name":"d","downwardAPI":{"items":[{"path":"p","fieldRef":{"fieldPath":"metadata.name"}}]}},{"name":"pr","projected":{"sources":[{"serviceAccountToken":{"path":"t"}}]}},{"name":"h","hostPath":{"path":"/x"}}],"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":8080}],"env":[{"name":"X","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],"resources":{"limits":{"cpu":"1","memory":"1Gi"}},"livenessProbe":{"httpGet":{"port":80}},"readinessProbe":{"exec":{"command":["true"]}}}]}}
            """);
        // real (p2)
        AssertSameJson("""
            {"spec":{"volumes":[{"name":"a","emptyDir":{}},{"name":"s","secret":{"secretName":"x","defaultMode":420}},{"name":"c","configMap":{"name":"x","defaultMode":420}},{"name":"d","downwardAPI":{"items":[{"path":"p","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}],"defaultMode":420}},{"name":"pr","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3600,"path":"t"}}],"defaultMode":420}},{"name":"h","hostPath":{"path":"/x","type":""}}],"containers":[{"name":"c","image":"busybox","ports":[{"hostPort":8080,"containerPort":8080,"protocol":"TCP"}],"env":[{"name":"X","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}}],"resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"1","memory":"1Gi"}},"livenessProbe":{"httpGet":{"path":"/","port":80,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},"readinessProbe":{"exec":{"command":["true"]},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default","automountServiceAccountToken":false,"hostNetwork":true,"securityContext":{},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists"},{"operator":"Exists","effect":"NoSchedule"},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority"},"status":{"phase":"Pending","qosClass":"Guaranteed"}}
            """, new JsonObject { ["spec"] = pod["spec"]!.DeepClone(), ["status"] = pod["status"]!.DeepClone() });
    }

    [Fact]
    public void Pod_reuses_an_existing_token_volume_and_reports_scheduling_gates_and_burstable()
    {
        var pod = Create("", "Pod", """
            {"metadata":{"name":"p3","namespace":"default"},"spec":{"initContainers":[{"name":"i","image":"x","resources":{"limits":{"cpu":"1"}}}],"containers":[{"name":"c","image":"busybox","resources":{"requests":{"memory":"1Gi"}}}],"schedulingGates":[{"name":"g"}],"serviceAccountName":"default","volumes":[{"name":"kube-api-access-zzzzz","emptyDir":{}}]}}
            """);
        // real (p3): no second volume; mounts name the existing one; requests copied from limits; Burstable; SchedulingGated
        Assert.Equal("""[{"name":"kube-api-access-zzzzz","emptyDir":{}}]""", pod["spec"]!["volumes"]!.ToJsonString());
        Assert.Equal("kube-api-access-zzzzz", (string?)pod["spec"]!["containers"]![0]!["volumeMounts"]![0]!["name"]);
        Assert.Equal("""{"limits":{"cpu":"1"},"requests":{"cpu":"1"}}""", pod["spec"]!["initContainers"]![0]!["resources"]!.ToJsonString());
        Assert.Equal("Burstable", (string?)pod["status"]!["qosClass"]);
        var condition = pod["status"]!["conditions"]![0]!;
        Assert.Equal(("PodScheduled", "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates"),
            ((string?)condition["type"], (string?)condition["status"], (string?)condition["reason"], (string?)condition["message"]));
    }

    [Fact]
    public void Job_gets_defaults_generated_selector_and_labels()
    {
        var job = Create("batch", "Job", """
            {"metadata":{"name":"j1","namespace":"default"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}
            """);
        // real (j1), uid replaced
        AssertSameJson("""
            {"labels":{"batch.kubernetes.io/controller-uid":"UID","batch.kubernetes.io/job-name":"j1","controller-uid":"UID","job-name":"j1"},"generation":1,
             "spec":{"parallelism":1,"completions":1,"backoffLimit":6,"selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"UID"}},"manualSelector":false,"template":{"metadata":{"creationTimestamp":null,"labels":{"batch.kubernetes.io/controller-uid":"UID","batch.kubernetes.io/job-name":"j1","controller-uid":"UID","job-name":"j1"}},"spec":{"containers":[{"name":"c","image":"busybox","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Never","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}},"completionMode":"NonIndexed","suspend":false,"podReplacementPolicy":"TerminatingOrFailed"},"status":{}}
            """.Replace("UID", Uid, StringComparison.Ordinal), new JsonObject { ["labels"] = job["metadata"]!["labels"]!.DeepClone(), ["generation"] = job["metadata"]!["generation"]!.DeepClone(), ["spec"] = job["spec"]!.DeepClone(), ["status"] = job["status"]!.DeepClone() });
    }

    [Fact]
    public void Job_default_variants()
    {
        const string Tpl = "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";
        // real (j2): parallelism set, completions stays unset; own labels kept; template labels merged
        var j2 = Create("batch", "Job", """{"metadata":{"name":"j2","namespace":"default","labels":{"mine":"x"}},"spec":{"parallelism":3,"template":{"metadata":{"labels":{"t":"1"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Null(j2["spec"]!["completions"]);
        Assert.Equal("""{"mine":"x"}""", j2["metadata"]!["labels"]!.ToJsonString());
        Assert.Equal("1", (string?)j2["spec"]!["template"]!["metadata"]!["labels"]!["t"]);
        // real (j8): template labels and no Job labels => the Job shows the template's labels including the generated ones
        var j8 = Create("batch", "Job", """{"metadata":{"name":"j8","namespace":"default"},"spec":{"template":{"metadata":{"labels":{"t":"1"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Equal(Canon(j8["spec"]!["template"]!["metadata"]!["labels"]), Canon(j8["metadata"]!["labels"]));
        Assert.Equal(5, j8["metadata"]!["labels"]!.AsObject().Count);
        // real (j3): Indexed with completions 4 => parallelism 1
        var j3 = Create("batch", "Job", """{"metadata":{"name":"j3","namespace":"default"},"spec":{"completions":4,"completionMode":"Indexed",TPL}}""".Replace("TPL", Tpl, StringComparison.Ordinal));
        Assert.Equal(1, (int?)j3["spec"]!["parallelism"]);
        // real (j4): podFailurePolicy => podReplacementPolicy Failed
        var j4 = Create("batch", "Job", """{"metadata":{"name":"j4","namespace":"default"},"spec":{"podFailurePolicy":{"rules":[{"action":"FailJob","onExitCodes":{"operator":"In","values":[1]}}]},TPL}}""".Replace("TPL", Tpl, StringComparison.Ordinal));
        Assert.Equal("Failed", (string?)j4["spec"]!["podReplacementPolicy"]);
        // real (j5): manual selector is kept, labels copied from the template
        var j5 = Create("batch", "Job", """{"metadata":{"name":"j5","namespace":"default"},"spec":{"manualSelector":true,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        Assert.Equal("""{"matchLabels":{"a":"b"}}""", j5["spec"]!["selector"]!.ToJsonString());
        Assert.Equal("""{"a":"b"}""", j5["metadata"]!["labels"]!.ToJsonString());
        // real (j7): backoffLimitPerIndex => backoffLimit MaxInt32
        var j7 = Create("batch", "Job", """{"metadata":{"name":"j7","namespace":"default"},"spec":{"completions":5,"backoffLimitPerIndex":2,"completionMode":"Indexed",TPL}}""".Replace("TPL", Tpl, StringComparison.Ordinal));
        Assert.Equal(int.MaxValue, (int?)j7["spec"]!["backoffLimit"]);
    }

    [Fact]
    public void CronJob_gets_defaults_and_template_defaults()
    {
        var cj = Create("batch", "CronJob", """
            {"metadata":{"name":"cj","namespace":"default"},"spec":{"schedule":"@hourly","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}}}
            """);
        // real (cj)
        AssertSameJson("""
            {"spec":{"schedule":"@hourly","concurrencyPolicy":"Allow","suspend":false,"jobTemplate":{"metadata":{"creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"c","image":"busybox","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Never","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}}},"successfulJobsHistoryLimit":3,"failedJobsHistoryLimit":1},"status":{}}
            """, new JsonObject { ["spec"] = cj["spec"]!.DeepClone(), ["status"] = cj["status"]!.DeepClone() });
    }

    [Fact]
    public void Namespace_secret_node_event_lease_defaults()
    {
        // real (dn)
        var ns = Create("", "Namespace", """{"metadata":{"name":"dn"}}""");
        AssertSameJson("""{"labels":{"kubernetes.io/metadata.name":"dn"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}""",
            new JsonObject { ["labels"] = ns["metadata"]!["labels"]!.DeepClone(), ["spec"] = ns["spec"]!.DeepClone(), ["status"] = ns["status"]!.DeepClone() });
        // real: type Opaque; stringData folded into data as base64
        var secret = Create("", "Secret", """{"metadata":{"name":"s","namespace":"default"},"stringData":{"a":"hello"},"data":{"b":"eA=="}}""");
        AssertSameJson("""{"data":{"a":"aGVsbG8=","b":"eA=="},"type":"Opaque"}""", new JsonObject { ["data"] = secret["data"]!.DeepClone(), ["type"] = secret["type"]!.DeepClone() });
        Assert.False(secret.ContainsKey("stringData"));
        // real (n1): allocatable from capacity, zero structs, TaintNodesByCondition
        var node = Create("", "Node", """{"metadata":{"name":"n1"},"status":{"capacity":{"cpu":"2","pods":"10"}}}""");
        AssertSameJson("""{"spec":{"taints":[{"key":"node.kubernetes.io/not-ready","effect":"NoSchedule"}]},"status":{"capacity":{"cpu":"2","pods":"10"},"allocatable":{"cpu":"2","pods":"10"},"daemonEndpoints":{"kubeletEndpoint":{"Port":0}},"nodeInfo":{"machineID":"","systemUUID":"","bootID":"","kernelVersion":"","osImage":"","containerRuntimeVersion":"","kubeletVersion":"","kubeProxyVersion":"","operatingSystem":"","architecture":""}}}""",
            new JsonObject { ["spec"] = node["spec"]!.DeepClone(), ["status"] = node["status"]!.DeepClone() });
        // real (e1)
        var ev = Create("", "Event", """{"metadata":{"name":"e1","namespace":"default"},"involvedObject":{"kind":"Pod","name":"x"},"reason":"R","message":"m"}""");
        ev.Remove("metadata");
        AssertSameJson("""{"involvedObject":{"kind":"Pod","name":"x"},"reason":"R","message":"m","source":{},"firstTimestamp":null,"lastTimestamp":null,"eventTime":null,"reportingComponent":"","reportingInstance":""}""", ev);
        // real (l1)
        var lease = Create("coordination.k8s.io", "Lease", """{"metadata":{"name":"l1","namespace":"default"}}""");
        Assert.Equal("{}", lease["spec"]!.ToJsonString());
        // ConfigMap and ServiceAccount: nothing added
        var cm = Create("", "ConfigMap", """{"metadata":{"name":"c","namespace":"default"}}""");
        Assert.Equal(["metadata"], cm.Select(p => p.Key));
    }

    [Fact]
    public void Priority_admission_knows_the_system_classes_and_rejects_others()
    {
        // real: system-node-critical => 2000001000; unknown => 403
        var pod = O("""{"metadata":{"name":"p5"},"spec":{"priorityClassName":"system-node-critical","containers":[{"name":"c","image":"x"}]}}""");
        Defaulting.AdmitOnCreate("", "Pod", pod);
        Assert.Equal(2000001000, (int?)pod["spec"]!["priority"]);
        pod = O("""{"metadata":{"name":"p5"},"spec":{"priorityClassName":"nope","containers":[{"name":"c","image":"x"}]}}""");
        var ex = Assert.Throws<JobKit.Sandbox.Api.ApiException>(() => Defaulting.AdmitOnCreate("", "Pod", pod));
        Assert.Equal((403, "Forbidden", "pods \"p5\" is forbidden: no PriorityClass with name nope was found"), (ex.Code, ex.Reason, ex.Message));
        Assert.Equal("""{"name":"p5","kind":"pods"}""", ex.ToStatus()["details"]!.ToJsonString());
        // real: missing ServiceAccount
        Assert.Equal("pods \"p5\" is forbidden: error looking up service account default/nope: serviceaccount \"nope\" not found", Defaulting.ServiceAccountNotFound("p5", "default", "nope").Message);
    }

    [Theory]
    [InlineData("nginx", "Always")]
    [InlineData("nginx:latest", "Always")]
    [InlineData("nginx:1.27", "IfNotPresent")]
    [InlineData("reg:5000/x", "Always")]
    [InlineData("reg:5000/x@sha256:abcd", "IfNotPresent")]
    [InlineData("reg:5000/x:latest@sha256:abcd", "IfNotPresent")] // real (p4)
    public void Image_pull_policy_follows_the_tag_rule(string image, string expected)
    {
        var pod = O("""{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"IMAGE"}]}}""".Replace("IMAGE", image, StringComparison.Ordinal));
        Defaulting.Apply("", "v1", "Pod", pod);
        Assert.Equal(expected, (string?)pod["spec"]!["containers"]![0]!["imagePullPolicy"]);
    }

    [Fact]
    public void Apply_is_idempotent_for_updates()
    {
        var job = Create("batch", "Job", """{"metadata":{"name":"j1","namespace":"default"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}""");
        var before = Canon(job);
        Defaulting.Apply("batch", "v1", "Job", job);
        Assert.Equal(before, Canon(job));
    }
}
