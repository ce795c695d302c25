using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api.Admission;

/// <summary>
/// What the kube-apiserver v1.32 fills into objects it is given, split as the server splits it. On a create, call
/// in this order (the server's order): <see cref="Apply"/> (scheme defaulting, k8s.io/kubernetes/pkg/apis/*/v1
/// defaults.go, plus the fields the typed round trip always writes), <see cref="AdmitOnCreate"/> (the default
/// mutating admission plugins: ServiceAccount, Priority, DefaultTolerationSeconds for Pods, TaintNodesByCondition
/// for Nodes), <see cref="PrepareForCreate"/> (the registry strategies: status reset, Pod phase/QoS, Job selector
/// and labels, Namespace finalizer, generation), <see cref="Validation.ValidateCreate"/>, and <see cref="Apply"/>
/// once more before storing: the real server defaults again when it decodes the stored object, which is when a
/// Job without labels gets its template's (generated) labels — after validation, as on the real server.
/// On an update (PUT/PATCH result) call <see cref="Apply"/>, then <see cref="Validation.ValidateUpdate"/>.
/// </summary>
public static class Defaulting
{
    public const string DaemonSetTemplateGenerationAnnotation = "deprecated.daemonset.template.generation";

    public const string ServiceAccountTokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    private const string RandomAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>Scheme defaulting (SetDefaults_*), applied to every create and update body. Mutates <paramref name="obj"/>.</summary>
    public static void Apply(string group, string version, string kind, JsonObject obj)
    {
        _ = version; // all kinds in scope are v1
        switch ((group, kind))
        {
            case ("", "Pod"):
                {
                    var spec = Child(obj, "spec");
                    DefaultPodSpec(spec);
                    DefaultPodOnly(spec);
                    break;
                }
            case ("", "PodTemplate"):
                DefaultPodTemplate(Child(obj, "template"));
                break;
            case ("batch", "Job"):
                DefaultJobSpec(Child(obj, "spec"));
                CopyTemplateLabelsIfEmpty(obj);
                break;
            case ("batch", "CronJob"):
                {
                    var spec = Child(obj, "spec");
                    SetIfMissing(spec, "concurrencyPolicy", "Allow");
                    SetIfMissing(spec, "suspend", false);
                    SetIfMissing(spec, "successfulJobsHistoryLimit", 3);
                    SetIfMissing(spec, "failedJobsHistoryLimit", 1);
                    var jobTemplate = Child(spec, "jobTemplate");
                    SetIfMissing(Child(jobTemplate, "metadata"), "creationTimestamp", null);
                    DefaultPodTemplate(Child(Child(jobTemplate, "spec"), "template"));
                    break;
                }
            case ("", "Namespace"):
                {
                    var name = (string?)obj["metadata"]?["name"];
                    if (!string.IsNullOrEmpty(name))
                    {
                        Child(Child(obj, "metadata"), "labels")["kubernetes.io/metadata.name"] = name;
                    }
                    Child(obj, "spec");
                    var status = Child(obj, "status");
                    if (string.IsNullOrEmpty((string?)status["phase"]))
                    {
                        status["phase"] = "Active";
                    }
                    break;
                }
            case ("", "Secret"):
                if (string.IsNullOrEmpty((string?)obj["type"]))
                {
                    obj["type"] = "Opaque";
                }
                if (obj["stringData"] is JsonObject stringData)
                {
                    // v1 -> internal conversion: stringData overwrites data (base64 of the UTF-8 bytes) and is dropped.
                    var data = Child(obj, "data");
                    foreach (var (k, v) in stringData)
                    {
                        data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes((string?)v ?? ""));
                    }
                    obj.Remove("stringData");
                }
                break;
            case ("", "Node"):
                {
                    Child(obj, "spec");
                    var status = Child(obj, "status");
                    if (status["allocatable"] is null && status["capacity"] is JsonObject capacity)
                    {
                        status["allocatable"] = capacity.DeepClone();
                    }
                    SetIfMissing(Child(Child(status, "daemonEndpoints"), "kubeletEndpoint"), "Port", 0);
                    var nodeInfo = Child(status, "nodeInfo");
                    foreach (var key in new[] { "machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture" })
                    {
                        SetIfMissing(nodeInfo, key, "");
                    }
                    break;
                }
            case ("", "Event"):
                Child(obj, "involvedObject");
                Child(obj, "source");
                SetIfMissing(obj, "firstTimestamp", null);
                SetIfMissing(obj, "lastTimestamp", null);
                SetIfMissing(obj, "eventTime", null);
                SetIfMissing(obj, "reportingComponent", "");
                SetIfMissing(obj, "reportingInstance", "");
                break;
            case ("coordination.k8s.io", "Lease"):
                Child(obj, "spec");
                break;
            case ("apps", "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet"):
                DefaultWorkload(kind, Child(obj, "spec"));
                break;
            default:
                break;
        }
    }

    /// <summary>SetDefaults_Deployment, _ReplicaSet, _StatefulSet, _DaemonSet (pkg/apis/apps/v1/defaults.go), and the pod template's.</summary>
    private static void DefaultWorkload(string kind, JsonObject spec)
    {
        switch (kind)
        {
            case "Deployment":
                {
                    SetIfMissing(spec, "replicas", 1);
                    var strategy = Child(spec, "strategy");
                    if (string.IsNullOrEmpty((string?)strategy["type"]))
                    {
                        strategy["type"] = "RollingUpdate";
                    }
                    if ((string?)strategy["type"] == "RollingUpdate")
                    {
                        var rolling = Child(strategy, "rollingUpdate");
                        SetIfMissing(rolling, "maxUnavailable", "25%");
                        SetIfMissing(rolling, "maxSurge", "25%");
                    }
                    SetIfMissing(spec, "revisionHistoryLimit", 10);
                    SetIfMissing(spec, "progressDeadlineSeconds", 600);
                    break;
                }
            case "ReplicaSet":
                SetIfMissing(spec, "replicas", 1);
                break;
            case "StatefulSet":
                {
                    if (string.IsNullOrEmpty((string?)spec["podManagementPolicy"]))
                    {
                        spec["podManagementPolicy"] = "OrderedReady";
                    }
                    var strategy = Child(spec, "updateStrategy");
                    if (string.IsNullOrEmpty((string?)strategy["type"]))
                    {
                        strategy["type"] = "RollingUpdate";
                        Child(strategy, "rollingUpdate");
                    }
                    if ((string?)strategy["type"] == "RollingUpdate" && strategy["rollingUpdate"] is JsonObject rolling)
                    {
                        SetIfMissing(rolling, "partition", 0);
                    }
                    var retention = Child(spec, "persistentVolumeClaimRetentionPolicy");
                    SetIfMissing(retention, "whenDeleted", "Retain");
                    SetIfMissing(retention, "whenScaled", "Retain");
                    SetIfMissing(spec, "replicas", 1);
                    SetIfMissing(spec, "revisionHistoryLimit", 10);
                    SetIfMissing(spec, "serviceName", "");
                    break;
                }
            case "DaemonSet":
                {
                    var strategy = Child(spec, "updateStrategy");
                    if (string.IsNullOrEmpty((string?)strategy["type"]))
                    {
                        strategy["type"] = "RollingUpdate";
                    }
                    if ((string?)strategy["type"] == "RollingUpdate")
                    {
                        var rolling = Child(strategy, "rollingUpdate");
                        SetIfMissing(rolling, "maxUnavailable", 1);
                        SetIfMissing(rolling, "maxSurge", 0);
                    }
                    SetIfMissing(spec, "revisionHistoryLimit", 10);
                    break;
                }
        }
        // omitempty scalars a Go round trip drops.
        foreach (var field in new[] { "minReadySeconds" })
        {
            if (Validation.Num(spec[field]) == 0)
            {
                spec.Remove(field);
            }
        }
        if (spec["paused"] is JsonValue paused && paused.GetValueKind() == JsonValueKind.False)
        {
            spec.Remove("paused");
        }
        DefaultPodTemplate(Child(spec, "template"));
    }

    /// <summary>The apps/v1 status fields without omitempty (always written, 0 included); the others vanish at 0.</summary>
    private static readonly Dictionary<string, string[]> RequiredStatusFields = new()
    {
        ["Deployment"] = [],
        ["ReplicaSet"] = ["replicas"],
        ["StatefulSet"] = ["replicas", "availableReplicas"],
        ["DaemonSet"] = ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"],
    };

    private static readonly string[] OmitEmptyStatusFields =
    [
        "observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas",
        "fullyLabeledReplicas", "currentReplicas", "updatedNumberScheduled", "numberAvailable", "numberUnavailable",
        "currentRevision", "updateRevision",
    ];

    /// <summary>What the Go round trip does to an apps/v1 status: required counters present, omitempty zeros gone.</summary>
    public static void ShapeStatus(string group, string kind, JsonObject obj)
    {
        if (group != "apps" || !RequiredStatusFields.TryGetValue(kind, out var required) || obj["status"] is not JsonObject status)
        {
            return;
        }
        foreach (var field in OmitEmptyStatusFields.Except(required))
        {
            if (status[field] is JsonValue v && (Validation.Num(v) == 0 || (v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0)))
            {
                status.Remove(field);
            }
        }
        foreach (var field in required)
        {
            SetIfMissing(status, field, 0);
        }
        if (status["conditions"] is JsonArray { Count: 0 })
        {
            status.Remove("conditions");
        }
    }

    /// <summary>
    /// The registry strategies' PrepareForCreate: resets status, sets Pod <c>status.phase: Pending</c> and
    /// <c>qosClass</c>, generates a Job's selector and labels from <c>metadata.uid</c>, adds the Namespace's
    /// <c>kubernetes</c> finalizer, sets <c>metadata.generation: 1</c> for kinds that track it (Job, CronJob).
    /// Call after <see cref="AdmitOnCreate"/> (the QoS class uses the final resources).
    /// </summary>
    public static void PrepareForCreate(string group, string kind, JsonObject obj)
    {
        switch ((group, kind))
        {
            case ("", "Pod"):
                {
                    var spec = Child(obj, "spec");
                    var status = new JsonObject { ["phase"] = "Pending" };
                    if (spec["schedulingGates"] is JsonArray { Count: > 0 })
                    {
                        status["conditions"] = new JsonArray(new JsonObject
                        {
                            ["type"] = "PodScheduled",
                            ["status"] = "False",
                            ["lastProbeTime"] = null,
                            ["lastTransitionTime"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                            ["reason"] = "SchedulingGated",
                            ["message"] = "Scheduling is blocked due to non-empty scheduling gates",
                        });
                    }
                    status["qosClass"] = QosClass(spec);
                    obj["status"] = status;
                    break;
                }
            case ("batch", "Job"):
                {
                    var spec = Child(obj, "spec");
                    // SetDefaults_Job made metadata.labels the very map of the template's labels when the Job had
                    // none and the template had some; the generated labels then show in both.
                    var templateLabels = spec["template"]?["metadata"]?["labels"] as JsonObject;
                    var shared = templateLabels is not null && JsonNode.DeepEquals(obj["metadata"]?["labels"], templateLabels);
                    if (spec["manualSelector"] is not JsonValue manual || manual.GetValueKind() != JsonValueKind.True)
                    {
                        GenerateJobSelector(obj, spec);
                    }
                    if (shared)
                    {
                        Child(obj, "metadata")["labels"] = spec["template"]!["metadata"]!["labels"]!.DeepClone();
                    }
                    obj["status"] = new JsonObject();
                    Child(obj, "metadata")["generation"] = 1;
                    break;
                }
            case ("batch", "CronJob"):
                obj["status"] = new JsonObject();
                Child(obj, "metadata")["generation"] = 1;
                break;
            case ("apps", "Deployment" or "ReplicaSet" or "StatefulSet"):
                obj["status"] = new JsonObject();
                Child(obj, "metadata")["generation"] = 1;
                break;
            case ("apps", "DaemonSet"):
                obj["status"] = new JsonObject();
                Child(obj, "metadata")["generation"] = 1;
                // The v1 face of the internal spec.templateGeneration.
                Child(Child(obj, "metadata"), "annotations")[DaemonSetTemplateGenerationAnnotation] = "1";
                break;
            case ("", "Namespace"):
                {
                    var spec = Child(obj, "spec");
                    var finalizers = spec["finalizers"] as JsonArray;
                    if (finalizers is null)
                    {
                        spec["finalizers"] = new JsonArray("kubernetes");
                    }
                    else if (!finalizers.Any(f => (string?)f == "kubernetes"))
                    {
                        finalizers.Add("kubernetes");
                    }
                    obj["status"] = new JsonObject { ["phase"] = "Active" };
                    break;
                }
            default:
                break;
        }
    }

    /// <summary>
    /// The default mutating admission plugins that act on a create. Pods: ServiceAccount (serviceAccountName
    /// "default", the projected <c>kube-api-access-xxxxx</c> token volume mounted read-only at
    /// <see cref="ServiceAccountTokenMountPath"/> in every container and init container unless
    /// automountServiceAccountToken is false on the pod, or else on <paramref name="serviceAccount"/>), Priority
    /// (priority 0 / system classes, preemptionPolicy PreemptLowerPriority), DefaultTolerationSeconds (not-ready and
    /// unreachable NoExecute for 300 s). Nodes: TaintNodesByCondition (<c>node.kubernetes.io/not-ready:NoSchedule</c>).
    /// The caller checks that the pod's ServiceAccount exists (the real plugin rejects the pod otherwise) and may
    /// pass it for its automountServiceAccountToken.
    /// </summary>
    public static void AdmitOnCreate(string group, string kind, JsonObject obj, JsonObject? serviceAccount = null)
    {
        switch ((group, kind))
        {
            case ("", "Pod"):
                AdmitPod(obj, serviceAccount);
                break;
            case ("", "Node"):
                {
                    var spec = Child(obj, "spec");
                    var taints = spec["taints"] as JsonArray;
                    if (taints is null || !taints.Any(t => (string?)t?["key"] == "node.kubernetes.io/not-ready" && (string?)t?["effect"] == "NoSchedule"))
                    {
                        taints ??= [];
                        taints.Add(new JsonObject { ["key"] = "node.kubernetes.io/not-ready", ["effect"] = "NoSchedule" });
                        spec["taints"] = taints;
                    }
                    break;
                }
            default:
                break;
        }
    }

    /// <summary>
    /// The ServiceAccount admission plugin's answer when the pod's ServiceAccount (after <see cref="AdmitOnCreate"/>
    /// defaulted it to "default") does not exist: 403 <c>pods "p" is forbidden: error looking up service account
    /// ns/sa: serviceaccount "sa" not found</c>. The caller looks the ServiceAccount up and throws this.
    /// </summary>
    public static ApiException ServiceAccountNotFound(string podName, string @namespace, string serviceAccount) =>
        Forbidden(podName, $"error looking up service account {@namespace}/{serviceAccount}: serviceaccount \"{serviceAccount}\" not found");

    private static ApiException Forbidden(string podName, string reason) =>
        new(403, "Forbidden", $"pods \"{podName}\" is forbidden: {reason}", "pods", podName);

    private static void AdmitPod(JsonObject pod, JsonObject? serviceAccount)
    {
        var spec = Child(pod, "spec");
        var isMirror = pod["metadata"]?["annotations"]?["kubernetes.io/config.mirror"] is not null;

        // ServiceAccount
        if (!isMirror)
        {
            if (string.IsNullOrEmpty((string?)spec["serviceAccountName"]))
            {
                spec["serviceAccountName"] = "default";
            }
            spec["serviceAccount"] = (string?)spec["serviceAccountName"];
            var automount = spec["automountServiceAccountToken"] is JsonValue podAuto
                ? podAuto.GetValueKind() == JsonValueKind.True
                : serviceAccount?["automountServiceAccountToken"] is not JsonValue saAuto || saAuto.GetValueKind() == JsonValueKind.True;
            if (automount)
            {
                MountServiceAccountToken(spec);
            }
        }

        // Priority
        if (spec["priority"] is null)
        {
            var priorityClassName = (string?)spec["priorityClassName"];
            spec["priority"] = priorityClassName switch
            {
                "system-node-critical" => 2000001000,
                "system-cluster-critical" => 2000000000,
                null or "" => 0,
                // JobKit serves no PriorityClass objects: any other name is unknown, as on a server without it.
                _ => throw Forbidden((string?)pod["metadata"]?["name"] ?? "", $"no PriorityClass with name {priorityClassName} was found"),
            };
        }
        SetIfMissing(spec, "preemptionPolicy", "PreemptLowerPriority");

        // DefaultTolerationSeconds
        var tolerations = spec["tolerations"] as JsonArray;
        bool Tolerates(string key) => tolerations is not null && tolerations.Any(t =>
            (string.IsNullOrEmpty((string?)t?["key"]) || (string?)t?["key"] == key) &&
            (string.IsNullOrEmpty((string?)t?["effect"]) || (string?)t?["effect"] == "NoExecute"));
        var notReady = !Tolerates("node.kubernetes.io/not-ready");
        var unreachable = !Tolerates("node.kubernetes.io/unreachable");
        if (notReady || unreachable)
        {
            tolerations ??= [];
            if (notReady)
            {
                tolerations.Add(new JsonObject { ["key"] = "node.kubernetes.io/not-ready", ["operator"] = "Exists", ["effect"] = "NoExecute", ["tolerationSeconds"] = 300 });
            }
            if (unreachable)
            {
                tolerations.Add(new JsonObject { ["key"] = "node.kubernetes.io/unreachable", ["operator"] = "Exists", ["effect"] = "NoExecute", ["tolerationSeconds"] = 300 });
            }
            spec["tolerations"] = tolerations;
        }
    }

    private static void MountServiceAccountToken(JsonObject spec)
    {
        string? volumeName = null;
        if (spec["volumes"] is JsonArray volumes)
        {
            volumeName = volumes.Select(v => (string?)v?["name"]).FirstOrDefault(n => n is not null && n.StartsWith("kube-api-access-", StringComparison.Ordinal));
        }
        var hasVolume = volumeName is not null;
        volumeName ??= "kube-api-access-" + RandomSuffix();

        var needsVolume = false;
        foreach (var listName in new[] { "initContainers", "containers" })
        {
            if (spec[listName] is not JsonArray containers)
            {
                continue;
            }
            foreach (var container in containers.OfType<JsonObject>())
            {
                var mounts = container["volumeMounts"] as JsonArray;
                if (mounts is not null && mounts.Any(m => (string?)m?["mountPath"] == ServiceAccountTokenMountPath))
                {
                    continue;
                }
                mounts ??= [];
                mounts.Add(new JsonObject { ["name"] = volumeName, ["readOnly"] = true, ["mountPath"] = ServiceAccountTokenMountPath });
                container["volumeMounts"] = mounts;
                needsVolume = true;
            }
        }
        if (!hasVolume && needsVolume)
        {
            var list = spec["volumes"] as JsonArray ?? [];
            list.Add(new JsonObject
            {
                ["name"] = volumeName,
                ["projected"] = new JsonObject
                {
                    ["sources"] = new JsonArray(
                        new JsonObject { ["serviceAccountToken"] = new JsonObject { ["expirationSeconds"] = 3607, ["path"] = "token" } },
                        new JsonObject
                        {
                            ["configMap"] = new JsonObject
                            {
                                ["name"] = "kube-root-ca.crt",
                                ["items"] = new JsonArray(new JsonObject { ["key"] = "ca.crt", ["path"] = "ca.crt" }),
                            },
                        },
                        new JsonObject
                        {
                            ["downwardAPI"] = new JsonObject
                            {
                                ["items"] = new JsonArray(new JsonObject
                                {
                                    ["path"] = "namespace",
                                    ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = "metadata.namespace" },
                                }),
                            },
                        }),
                    ["defaultMode"] = 420,
                },
            });
            spec["volumes"] = list;
        }
    }

    private static string RandomSuffix()
    {
        var chars = new char[5];
        for (var i = 0; i < chars.Length; i++)
        {
#pragma warning disable CA5394 // not security relevant: a volume name suffix
            chars[i] = RandomAlphabet[Random.Shared.Next(RandomAlphabet.Length)];
#pragma warning restore CA5394
        }
        return new string(chars);
    }

    private static void GenerateJobSelector(JsonObject job, JsonObject spec)
    {
        var name = (string?)job["metadata"]?["name"] ?? "";
        var uid = (string?)job["metadata"]?["uid"] ?? "";
        var template = Child(spec, "template");
        var labels = Child(Child(template, "metadata"), "labels");
        foreach (var key in new[] { "batch.kubernetes.io/job-name", "job-name" })
        {
            SetIfMissing(labels, key, name);
        }
        foreach (var key in new[] { "batch.kubernetes.io/controller-uid", "controller-uid" })
        {
            SetIfMissing(labels, key, uid);
        }
        SortKeys(labels);
        var matchLabels = Child(Child(spec, "selector"), "matchLabels");
        SetIfMissing(matchLabels, "batch.kubernetes.io/controller-uid", uid);
    }

    private static void CopyTemplateLabelsIfEmpty(JsonObject job)
    {
        if (job["spec"]?["template"]?["metadata"]?["labels"] is JsonObject { Count: > 0 } templateLabels &&
            job["metadata"]?["labels"] is not JsonObject { Count: > 0 })
        {
            Child(job, "metadata")["labels"] = templateLabels.DeepClone();
        }
    }

    private static void DefaultJobSpec(JsonObject spec)
    {
        if (spec["completions"] is null && spec["parallelism"] is null)
        {
            spec["completions"] = 1;
            spec["parallelism"] = 1;
        }
        SetIfMissing(spec, "parallelism", 1);
        if (spec["backoffLimit"] is null)
        {
            spec["backoffLimit"] = spec["backoffLimitPerIndex"] is not null ? int.MaxValue : 6;
        }
        SetIfMissing(spec, "manualSelector", false);
        SetIfMissing(spec, "completionMode", "NonIndexed");
        SetIfMissing(spec, "suspend", false);
        if (spec["podFailurePolicy"]?["rules"] is JsonArray rules)
        {
            foreach (var pattern in rules.SelectMany(r => r?["onPodConditions"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (string.IsNullOrEmpty((string?)pattern["status"]))
                {
                    pattern["status"] = "True";
                }
            }
        }
        SetIfMissing(spec, "podReplacementPolicy", spec["podFailurePolicy"] is not null ? "Failed" : "TerminatingOrFailed");
        DefaultPodTemplate(Child(spec, "template"));
    }

    private static void DefaultPodTemplate(JsonObject template)
    {
        SetIfMissing(Child(template, "metadata"), "creationTimestamp", null);
        DefaultPodSpec(Child(template, "spec"));
    }

    /// <summary>SetDefaults_Pod on top of SetDefaults_PodSpec: only Pods, not templates.</summary>
    private static void DefaultPodOnly(JsonObject spec)
    {
        foreach (var container in Containers(spec, "containers", "initContainers"))
        {
            if (container["resources"]?["limits"] is JsonObject limits)
            {
                var requests = Child(container["resources"]!.AsObject(), "requests");
                foreach (var (k, v) in limits)
                {
                    SetIfMissing(requests, k, v?.DeepClone());
                }
            }
        }
        SetIfMissing(spec, "enableServiceLinks", true);
        if (spec["hostNetwork"] is JsonValue hn && hn.GetValueKind() == JsonValueKind.True)
        {
            foreach (var port in Containers(spec, "containers", "initContainers").SelectMany(c => c["ports"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (Validation.Num(port["hostPort"]) is null or 0)
                {
                    port["hostPort"] = port["containerPort"]?.DeepClone();
                }
            }
        }
    }

    private static void DefaultPodSpec(JsonObject spec)
    {
        if (string.IsNullOrEmpty((string?)spec["dnsPolicy"]))
        {
            spec["dnsPolicy"] = "ClusterFirst";
        }
        if (string.IsNullOrEmpty((string?)spec["restartPolicy"]))
        {
            spec["restartPolicy"] = "Always";
        }
        SetIfMissing(spec, "securityContext", new JsonObject());
        SetIfMissing(spec, "terminationGracePeriodSeconds", 30);
        if (string.IsNullOrEmpty((string?)spec["schedulerName"]))
        {
            spec["schedulerName"] = "default-scheduler";
        }
        // v1 conversion keeps the deprecated serviceAccount field in step with serviceAccountName.
        var saName = (string?)spec["serviceAccountName"];
        if (string.IsNullOrEmpty(saName))
        {
            saName = (string?)spec["serviceAccount"];
            if (!string.IsNullOrEmpty(saName))
            {
                spec["serviceAccountName"] = saName;
            }
        }
        if (!string.IsNullOrEmpty(saName))
        {
            spec["serviceAccount"] = saName;
        }

        if (spec["volumes"] is JsonArray volumes)
        {
            foreach (var volume in volumes.OfType<JsonObject>())
            {
                DefaultVolume(volume);
            }
        }
        foreach (var container in Containers(spec, "initContainers", "containers", "ephemeralContainers"))
        {
            DefaultContainer(container);
        }
    }

    private static readonly string[] VolumeSources =
    [
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs",
        "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap",
        "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos",
        "csi", "ephemeral", "image",
    ];

    internal static IReadOnlyList<string> VolumeSourceNames => VolumeSources;

    private static void DefaultVolume(JsonObject volume)
    {
        if (!VolumeSources.Any(s => volume[s] is not null))
        {
            volume["emptyDir"] = new JsonObject();
        }
        if (volume["secret"] is JsonObject secret)
        {
            SetIfMissing(secret, "defaultMode", 420);
        }
        if (volume["configMap"] is JsonObject configMap)
        {
            SetIfMissing(configMap, "defaultMode", 420);
        }
        if (volume["downwardAPI"] is JsonObject downwardApi)
        {
            DefaultDownwardApiItems(downwardApi);
            SetIfMissing(downwardApi, "defaultMode", 420);
        }
        if (volume["hostPath"] is JsonObject hostPath)
        {
            SetIfMissing(hostPath, "type", "");
        }
        if (volume["projected"] is JsonObject projected)
        {
            foreach (var source in (projected["sources"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (source["downwardAPI"] is JsonObject d)
                {
                    DefaultDownwardApiItems(d);
                }
                if (source["serviceAccountToken"] is JsonObject token)
                {
                    SetIfMissing(token, "expirationSeconds", 3600);
                }
            }
            SetIfMissing(projected, "defaultMode", 420);
        }
    }

    private static void DefaultDownwardApiItems(JsonObject downwardApi)
    {
        foreach (var item in (downwardApi["items"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (item["fieldRef"] is JsonObject fieldRef)
            {
                SetIfMissing(fieldRef, "apiVersion", "v1");
            }
        }
    }

    private static void DefaultContainer(JsonObject container)
    {
        SetIfMissing(container, "resources", new JsonObject());
        if (string.IsNullOrEmpty((string?)container["terminationMessagePath"]))
        {
            container["terminationMessagePath"] = "/dev/termination-log";
        }
        if (string.IsNullOrEmpty((string?)container["terminationMessagePolicy"]))
        {
            container["terminationMessagePolicy"] = "File";
        }
        if (string.IsNullOrEmpty((string?)container["imagePullPolicy"]))
        {
            container["imagePullPolicy"] = ImagePullPolicyFor((string?)container["image"] ?? "");
        }
        foreach (var port in (container["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (string.IsNullOrEmpty((string?)port["protocol"]))
            {
                port["protocol"] = "TCP";
            }
        }
        foreach (var env in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (env["valueFrom"]?["fieldRef"] is JsonObject fieldRef)
            {
                SetIfMissing(fieldRef, "apiVersion", "v1");
            }
        }
        foreach (var probeName in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
        {
            if (container[probeName] is JsonObject probe)
            {
                DefaultHttpGet(probe);
                SetIfMissing(probe, "timeoutSeconds", 1);
                SetIfMissing(probe, "periodSeconds", 10);
                SetIfMissing(probe, "successThreshold", 1);
                SetIfMissing(probe, "failureThreshold", 3);
            }
        }
        if (container["lifecycle"] is JsonObject lifecycle)
        {
            foreach (var handler in new[] { "postStart", "preStop" })
            {
                if (lifecycle[handler] is JsonObject h)
                {
                    DefaultHttpGet(h);
                }
            }
        }
    }

    private static void DefaultHttpGet(JsonObject handler)
    {
        if (handler["httpGet"] is JsonObject httpGet)
        {
            if (string.IsNullOrEmpty((string?)httpGet["path"]))
            {
                httpGet["path"] = "/";
            }
            if (string.IsNullOrEmpty((string?)httpGet["scheme"]))
            {
                httpGet["scheme"] = "HTTP";
            }
        }
    }

    /// <summary>Always for ":latest" or an image without tag and digest, else IfNotPresent (a digest wins over any tag: real "x:latest@sha256:.." is IfNotPresent).</summary>
    internal static string ImagePullPolicyFor(string image)
    {
        var name = image;
        if (name.Contains('@', StringComparison.Ordinal))
        {
            return "IfNotPresent";
        }
        var lastSlash = name.LastIndexOf('/');
        var lastColon = name.LastIndexOf(':');
        string? tag = lastColon > lastSlash ? name[(lastColon + 1)..] : null;
        if (tag is null && image.Length > 0)
        {
            tag = "latest";
        }
        return tag == "latest" ? "Always" : "IfNotPresent";
    }

    /// <summary>GetPodQOS (pkg/apis/core/helper/qos): BestEffort, Burstable or Guaranteed from cpu/memory of containers and init containers.</summary>
    internal static string QosClass(JsonObject spec)
    {
        var requests = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var limits = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var isGuaranteed = true;
        foreach (var container in Containers(spec, "containers", "initContainers"))
        {
            foreach (var (name, value) in container["resources"]?["requests"] as JsonObject ?? [])
            {
                if (name is "cpu" or "memory" && Quantity.TryParse((string?)value, out var q) && q > 0)
                {
                    requests[name] = requests.GetValueOrDefault(name) + q;
                }
            }
            var found = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, value) in container["resources"]?["limits"] as JsonObject ?? [])
            {
                if (name is "cpu" or "memory" && Quantity.TryParse((string?)value, out var q) && q > 0)
                {
                    found.Add(name);
                    limits[name] = limits.GetValueOrDefault(name) + q;
                }
            }
            if (!found.Contains("cpu") || !found.Contains("memory"))
            {
                isGuaranteed = false;
            }
        }
        if (requests.Count == 0 && limits.Count == 0)
        {
            return "BestEffort";
        }
        if (isGuaranteed && requests.Any(r => !limits.TryGetValue(r.Key, out var l) || l != r.Value))
        {
            isGuaranteed = false;
        }
        return isGuaranteed && requests.Count == limits.Count ? "Guaranteed" : "Burstable";
    }

    internal static IEnumerable<JsonObject> Containers(JsonObject spec, params string[] lists) =>
        lists.SelectMany(l => spec[l] as JsonArray ?? []).OfType<JsonObject>();

    /// <summary>The object at <paramref name="key"/>, created (and replacing null or a non-object) if missing.</summary>
    internal static JsonObject Child(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject existing)
        {
            return existing;
        }
        var created = new JsonObject();
        parent[key] = created;
        return created;
    }

    /// <summary>Sets <paramref name="key"/> when it is absent or null.</summary>
    private static void SetIfMissing(JsonObject obj, string key, JsonNode? value)
    {
        if (obj[key] is null)
        {
            obj[key] = value;
        }
    }

    private static void SortKeys(JsonObject obj)
    {
        var entries = obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, Value: p.Value?.DeepClone())).ToList();
        obj.Clear();
        foreach (var (k, v) in entries)
        {
            obj[k] = v;
        }
    }
}
