using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace JobKit.Sandbox.Api.Admission;

/// <summary>
/// The registry strategies' Validate/ValidateUpdate of kube-apiserver v1.32 for the kinds JobKit serves
/// (k8s.io/kubernetes/pkg/apis/{core,batch,coordination}/validation), with the server's messages and field paths.
/// Call after <see cref="Defaulting"/>; throws <see cref="ApiException"/> 422 Invalid with <c>details.causes</c>.
/// </summary>
public static partial class Validation
{
    public const int MaxSecretSize = 1024 * 1024;
    public const int TotalAnnotationSizeLimit = 256 * 1024;

    private const string Dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    private const string Dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private const string QualifiedNamePartMessage = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    private const string LabelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    private const string ConfigKeyMessage = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
    private const string EnvVarNameMessage = "a valid environment variable name must consist only of printable ASCII characters other than '='";
    private const string Immutable = "field is immutable";
    private const string ImmutableWhenSet = "field is immutable when `immutable` is set";

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedNamePart();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex ConfigKey();

    [GeneratedRegex("^[A-Za-z\\.\\-_0-9+]{1,14}$")]
    private static partial Regex TimeZonePart();

    /// <summary>Validates a new object (after defaulting, admission and PrepareForCreate).</summary>
    public static void ValidateCreate(string group, string kind, JsonObject obj)
    {
        var errors = new FieldErrors();
        Validate(group, kind, obj, null, errors);
        errors.ThrowIfAny(group, kind, Name(obj));
    }

    /// <summary>Validates an updated object against the stored one, including immutable fields.</summary>
    public static void ValidateUpdate(string group, string kind, JsonObject obj, JsonObject old)
    {
        var errors = new FieldErrors();
        Validate(group, kind, obj, old, errors);
        errors.ThrowIfAny(group, kind, Name(obj));
    }

    private static string Name(JsonObject obj) => (string?)obj["metadata"]?["name"] ?? "";

    private static void Validate(string group, string kind, JsonObject obj, JsonObject? old, FieldErrors e)
    {
        switch ((group, kind))
        {
            case ("", "ConfigMap"):
                ObjectMeta(obj, e, SubdomainErrors);
                if (old is not null && IsTrue(old["immutable"]))
                {
                    if (!IsTrue(obj["immutable"]))
                    {
                        e.Forbidden("immutable", ImmutableWhenSet);
                    }
                    if (!JsonNode.DeepEquals(obj["data"], old["data"]))
                    {
                        e.Forbidden("data", ImmutableWhenSet);
                    }
                    if (!JsonNode.DeepEquals(obj["binaryData"], old["binaryData"]))
                    {
                        e.Forbidden("binaryData", ImmutableWhenSet);
                    }
                }
                ConfigMap(obj, e);
                break;
            case ("", "Secret"):
                ObjectMeta(obj, e, SubdomainErrors);
                if (old is not null)
                {
                    if ((string?)obj["type"] != (string?)old["type"])
                    {
                        e.Invalid("type", (string?)obj["type"] ?? "", Immutable);
                    }
                    if (IsTrue(old["immutable"]))
                    {
                        if (!IsTrue(obj["immutable"]))
                        {
                            e.Forbidden("immutable", ImmutableWhenSet);
                        }
                        if (!JsonNode.DeepEquals(obj["data"], old["data"]))
                        {
                            e.Forbidden("data", ImmutableWhenSet);
                        }
                    }
                }
                Secret(obj, e);
                break;
            case ("", "Namespace"):
                ObjectMeta(obj, e, Dns1123LabelErrors);
                break;
            case ("", "ServiceAccount") or ("", "Node") or ("", "Event") or ("", "Binding"):
                ObjectMeta(obj, e, SubdomainErrors);
                break;
            case ("coordination.k8s.io", "Lease"):
                ObjectMeta(obj, e, SubdomainErrors);
                if (Num(obj["spec"]?["leaseDurationSeconds"]) is { } d && d <= 0)
                {
                    e.Invalid("spec.leaseDurationSeconds", d, "must be greater than 0");
                }
                if (Num(obj["spec"]?["leaseTransitions"]) is { } t && t < 0)
                {
                    e.Invalid("spec.leaseTransitions", t, "must be greater than or equal to 0");
                }
                break;
            case ("", "Pod"):
                ObjectMeta(obj, e, SubdomainErrors);
                if (old is null)
                {
                    var spec = obj["spec"] as JsonObject ?? [];
                    PodSpec(spec, "spec", e);
                    if (spec["ephemeralContainers"] is JsonArray { Count: > 0 })
                    {
                        e.Forbidden("spec.ephemeralContainers", "cannot be set on create");
                    }
                    var i = 0;
                    foreach (var c in Defaulting.Containers(spec, "containers"))
                    {
                        var image = (string?)c["image"] ?? "";
                        if (image.Length != image.Trim().Length)
                        {
                            e.Invalid($"spec.containers[{i}].image", image, "must not have leading or trailing whitespace");
                        }
                        i++;
                    }
                }
                else
                {
                    PodUpdate(obj, old, e);
                }
                break;
            case ("batch", "Job"):
                Job(obj, old, e);
                break;
            case ("apps", "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet"):
                ObjectMeta(obj, e, SubdomainErrors);
                Workload(kind, obj["spec"] as JsonObject ?? [], old?["spec"] as JsonObject, e);
                break;
            case ("batch", "CronJob"):
                ObjectMeta(obj, e, SubdomainErrors);
                if (old is null && Name(obj).Length > 52)
                {
                    e.Invalid("metadata.name", Name(obj), "must be no more than 52 characters");
                }
                CronJobSpec(obj["spec"] as JsonObject ?? [], old?["spec"] as JsonObject, e);
                break;
            default:
                ObjectMeta(obj, e, SubdomainErrors);
                break;
        }
    }

    // ---- names, labels, metadata ----

    internal static List<string> Dns1123LabelErrors(string value)
    {
        List<string> errs = [];
        if (value.Length > 63)
        {
            errs.Add("must be no more than 63 characters");
        }
        if (!Dns1123Label().IsMatch(value))
        {
            errs.Add(Dns1123Subdomain().IsMatch(value) ? "must not contain dots" : Dns1123LabelMessage);
        }
        return errs;
    }

    internal static List<string> SubdomainErrors(string value)
    {
        List<string> errs = [];
        if (value.Length > 253)
        {
            errs.Add("must be no more than 253 characters");
        }
        if (!Dns1123Subdomain().IsMatch(value))
        {
            errs.Add(Dns1123SubdomainMessage);
        }
        return errs;
    }

    internal static List<string> QualifiedNameErrors(string value)
    {
        List<string> errs = [];
        var parts = value.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1:
                name = parts[0];
                break;
            case 2:
                name = parts[1];
                if (parts[0].Length == 0)
                {
                    errs.Add("prefix part must be non-empty");
                }
                else
                {
                    errs.AddRange(SubdomainErrors(parts[0]).Select(m => "prefix part " + m));
                }
                break;
            default:
                return ["a qualified name " + QualifiedNamePartMessage + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
        }
        if (name.Length == 0)
        {
            errs.Add("name part must be non-empty");
        }
        else if (name.Length > 63)
        {
            errs.Add("name part must be no more than 63 characters");
        }
        if (!QualifiedNamePart().IsMatch(name))
        {
            errs.Add("name part " + QualifiedNamePartMessage);
        }
        return errs;
    }

    internal static List<string> LabelValueErrors(string value)
    {
        List<string> errs = [];
        if (value.Length > 63)
        {
            errs.Add("must be no more than 63 characters");
        }
        if (!LabelValue().IsMatch(value))
        {
            errs.Add(LabelValueMessage);
        }
        return errs;
    }

    internal static List<string> ConfigKeyErrors(string value)
    {
        List<string> errs = [];
        if (value.Length > 253)
        {
            errs.Add("must be no more than 253 characters");
        }
        if (!ConfigKey().IsMatch(value))
        {
            errs.Add(ConfigKeyMessage);
        }
        if (value == ".")
        {
            errs.Add("must not be '.'");
        }
        else if (value == "..")
        {
            errs.Add("must not be '..'");
        }
        else if (value.StartsWith("..", StringComparison.Ordinal))
        {
            errs.Add("must not start with '..'");
        }
        return errs;
    }

    private static void ObjectMeta(JsonObject obj, FieldErrors e, Func<string, List<string>> nameErrors)
    {
        var meta = obj["metadata"] as JsonObject ?? [];
        var name = (string?)meta["name"] ?? "";
        if (name.Length == 0)
        {
            if (string.IsNullOrEmpty((string?)meta["generateName"]))
            {
                e.Required("metadata.name", "name or generateName is required");
            }
        }
        else
        {
            foreach (var msg in nameErrors(name))
            {
                e.Invalid("metadata.name", name, msg);
            }
        }
        Labels(meta["labels"], "metadata.labels", e);
        Annotations(meta["annotations"], "metadata.annotations", e);
        var i = 0;
        foreach (var f in meta["finalizers"] as JsonArray ?? [])
        {
            var finalizer = (string?)f ?? "";
            var path = $"metadata.finalizers[{i++}]";
            var msgs = QualifiedNameErrors(finalizer);
            foreach (var msg in msgs)
            {
                e.Invalid(path, finalizer, msg);
            }
            if (msgs.Count == 0 && !finalizer.Contains('/', StringComparison.Ordinal) &&
                finalizer is not ("kubernetes" or "orphan" or "foregroundDeletion"))
            {
                e.Invalid(path, finalizer, "name is neither a standard finalizer name nor is it fully qualified");
            }
        }
    }

    private static void Labels(JsonNode? labels, string path, FieldErrors e)
    {
        foreach (var (k, v) in labels as JsonObject ?? [])
        {
            foreach (var msg in QualifiedNameErrors(k))
            {
                e.Invalid(path, k, msg);
            }
            var value = (string?)v ?? "";
            foreach (var msg in LabelValueErrors(value))
            {
                e.Invalid(path, value, msg);
            }
        }
    }

    private static void Annotations(JsonNode? annotations, string path, FieldErrors e)
    {
        long total = 0;
        foreach (var (k, v) in annotations as JsonObject ?? [])
        {
            foreach (var msg in QualifiedNameErrors(k.ToLowerInvariant()))
            {
                e.Invalid(path, k, msg);
            }
            total += Encoding.UTF8.GetByteCount(k) + Encoding.UTF8.GetByteCount((string?)v ?? "");
        }
        if (total > TotalAnnotationSizeLimit)
        {
            e.TooLong(path, TotalAnnotationSizeLimit);
        }
    }

    // ---- ConfigMap, Secret ----

    private static void ConfigMap(JsonObject cm, FieldErrors e)
    {
        long total = 0;
        var binary = cm["binaryData"] as JsonObject;
        foreach (var (key, value) in cm["data"] as JsonObject ?? [])
        {
            foreach (var msg in ConfigKeyErrors(key))
            {
                e.Invalid($"data[{key}]", key, msg);
            }
            if (binary is not null && binary.ContainsKey(key))
            {
                e.Invalid($"data[{key}]", key, "duplicate of key present in binaryData");
            }
            total += Encoding.UTF8.GetByteCount((string?)value ?? "");
        }
        foreach (var (key, value) in binary ?? [])
        {
            foreach (var msg in ConfigKeyErrors(key))
            {
                e.Invalid($"binaryData[{key}]", key, msg);
            }
            total += DecodedLength((string?)value);
        }
        if (total > MaxSecretSize)
        {
            e.TooLong("[]", MaxSecretSize);
        }
    }

    private static void Secret(JsonObject secret, FieldErrors e)
    {
        long total = 0;
        var data = secret["data"] as JsonObject;
        foreach (var (key, value) in data ?? [])
        {
            foreach (var msg in ConfigKeyErrors(key))
            {
                e.Invalid($"data[{key}]", key, msg);
            }
            total += DecodedLength((string?)value);
        }
        if (total > MaxSecretSize)
        {
            e.TooLong("data", MaxSecretSize);
        }
        bool Has(string key) => data is not null && data.ContainsKey(key);
        switch ((string?)secret["type"])
        {
            case "kubernetes.io/service-account-token":
                if (string.IsNullOrEmpty((string?)secret["metadata"]?["annotations"]?["kubernetes.io/service-account.name"]))
                {
                    e.Required("metadata.annotations[kubernetes.io/service-account.name]");
                }
                break;
            case "kubernetes.io/dockercfg":
                if (!Has(".dockercfg"))
                {
                    e.Required("data[.dockercfg]");
                }
                break;
            case "kubernetes.io/dockerconfigjson":
                if (!Has(".dockerconfigjson"))
                {
                    e.Required("data[.dockerconfigjson]");
                }
                break;
            case "kubernetes.io/basic-auth":
                if (!Has("username") && !Has("password"))
                {
                    e.Required("data[username]");
                    e.Required("data[password]");
                }
                break;
            case "kubernetes.io/ssh-auth":
                if (!Has("ssh-privatekey"))
                {
                    e.Required("data[ssh-privatekey]");
                }
                break;
            case "kubernetes.io/tls":
                if (!Has("tls.crt"))
                {
                    e.Required("data[tls.crt]");
                }
                if (!Has("tls.key"))
                {
                    e.Required("data[tls.key]");
                }
                break;
            default:
                break;
        }
    }

    private static long DecodedLength(string? base64)
    {
        if (string.IsNullOrEmpty(base64))
        {
            return 0;
        }
        var padding = base64.EndsWith("==", StringComparison.Ordinal) ? 2 : base64.EndsWith('=') ? 1 : 0;
        return (base64.Length * 3L / 4) - padding;
    }

    // ---- Pod ----

    private static void PodSpec(JsonObject spec, string path, FieldErrors e)
    {
        // Volumes
        var volumeNames = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var volume in (spec["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var vpath = $"{path}.volumes[{i++}]";
            var name = (string?)volume["name"] ?? "";
            if (name.Length == 0)
            {
                e.Required($"{vpath}.name");
            }
            else
            {
                foreach (var msg in Dns1123LabelErrors(name))
                {
                    e.Invalid($"{vpath}.name", name, msg);
                }
                if (!volumeNames.Add(name))
                {
                    e.Duplicate($"{vpath}.name", name);
                }
            }
            var sources = Defaulting.VolumeSourceNames.Where(s => volume[s] is not null).ToList();
            if (sources.Count == 0)
            {
                e.Required(vpath, "must specify a volume type");
            }
            foreach (var extra in sources.Skip(1))
            {
                e.Forbidden($"{vpath}.{extra}", "may not specify more than 1 volume type");
            }
        }

        // Containers, then init containers
        var containers = spec["containers"] as JsonArray;
        if (containers is null || containers.Count == 0)
        {
            e.Required($"{path}.containers");
        }
        else
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            i = 0;
            foreach (var c in containers.OfType<JsonObject>())
            {
                var cpath = $"{path}.containers[{i++}]";
                Container(c, cpath, volumeNames, e);
                var name = (string?)c["name"] ?? "";
                if (!names.Add(name))
                {
                    e.Duplicate($"{cpath}.name", name);
                }
            }
        }
        var allNames = new HashSet<string>(Defaulting.Containers(spec, "containers").Select(c => (string?)c["name"] ?? ""), StringComparer.Ordinal);
        i = 0;
        foreach (var c in Defaulting.Containers(spec, "initContainers"))
        {
            var cpath = $"{path}.initContainers[{i++}]";
            var name = (string?)c["name"] ?? "";
            if (!allNames.Add(name))
            {
                e.Duplicate($"{cpath}.name", name);
            }
            Container(c, cpath, volumeNames, e);
        }

        var restartPolicy = (string?)spec["restartPolicy"] ?? "";
        if (restartPolicy.Length == 0)
        {
            e.Required($"{path}.restartPolicy");
        }
        else if (restartPolicy is not ("Always" or "OnFailure" or "Never"))
        {
            e.NotSupported($"{path}.restartPolicy", restartPolicy, "Always", "OnFailure", "Never");
        }
        var dnsPolicy = (string?)spec["dnsPolicy"] ?? "";
        if (dnsPolicy.Length == 0)
        {
            e.Required($"{path}.dnsPolicy");
        }
        else if (dnsPolicy is not ("ClusterFirstWithHostNet" or "ClusterFirst" or "Default" or "None"))
        {
            e.NotSupported($"{path}.dnsPolicy", dnsPolicy, "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None");
        }
        var serviceAccountName = (string?)spec["serviceAccountName"] ?? "";
        if (serviceAccountName.Length > 0)
        {
            foreach (var msg in SubdomainErrors(serviceAccountName))
            {
                e.Invalid($"{path}.serviceAccountName", serviceAccountName, msg);
            }
        }
        if (Num(spec["activeDeadlineSeconds"]) is { } ads && ads <= 0)
        {
            e.Invalid($"{path}.activeDeadlineSeconds", ads, "must be between 1 and 2147483647, inclusive");
        }
    }

    private static void Container(JsonObject c, string path, HashSet<string> volumes, FieldErrors e)
    {
        var name = (string?)c["name"] ?? "";
        if (name.Length == 0)
        {
            e.Required($"{path}.name");
        }
        else
        {
            foreach (var msg in Dns1123LabelErrors(name))
            {
                e.Invalid($"{path}.name", name, msg);
            }
        }
        if (string.IsNullOrEmpty((string?)c["image"]))
        {
            e.Required($"{path}.image");
        }
        var tmp = (string?)c["terminationMessagePolicy"] ?? "";
        if (tmp.Length == 0)
        {
            e.Required($"{path}.terminationMessagePolicy");
        }
        else if (tmp is not ("File" or "FallbackToLogsOnError"))
        {
            e.NotSupported($"{path}.terminationMessagePolicy", tmp, "File", "FallbackToLogsOnError");
        }

        var i = 0;
        foreach (var port in (c["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var ppath = $"{path}.ports[{i++}]";
            var containerPort = Num(port["containerPort"]) ?? 0;
            if (containerPort == 0)
            {
                e.Required($"{ppath}.containerPort");
            }
            else if (containerPort is < 1 or > 65535)
            {
                e.Invalid($"{ppath}.containerPort", containerPort, "must be between 1 and 65535, inclusive");
            }
            if (Num(port["hostPort"]) is { } hostPort && hostPort != 0 && hostPort is < 1 or > 65535)
            {
                e.Invalid($"{ppath}.hostPort", hostPort, "must be between 1 and 65535, inclusive");
            }
            var protocol = (string?)port["protocol"] ?? "";
            if (protocol.Length == 0)
            {
                e.Required($"{ppath}.protocol");
            }
            else if (protocol is not ("TCP" or "UDP" or "SCTP"))
            {
                e.NotSupported($"{ppath}.protocol", protocol, "SCTP", "TCP", "UDP");
            }
        }

        i = 0;
        foreach (var env in (c["env"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var epath = $"{path}.env[{i++}].name";
            var envName = (string?)env["name"] ?? "";
            if (envName.Length == 0)
            {
                e.Required(epath);
            }
            else if (envName.Any(ch => ch is < ' ' or > '~' or '='))
            {
                e.Invalid(epath, envName, EnvVarNameMessage);
            }
        }

        i = 0;
        foreach (var mount in (c["volumeMounts"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var mpath = $"{path}.volumeMounts[{i++}]";
            var mountName = (string?)mount["name"] ?? "";
            if (mountName.Length == 0)
            {
                e.Required($"{mpath}.name");
            }
            else if (!volumes.Contains(mountName))
            {
                e.NotFound($"{mpath}.name", mountName);
            }
            if (string.IsNullOrEmpty((string?)mount["mountPath"]))
            {
                e.Required($"{mpath}.mountPath");
            }
        }

        var pullPolicy = (string?)c["imagePullPolicy"] ?? "";
        if (pullPolicy.Length == 0)
        {
            e.Required($"{path}.imagePullPolicy");
        }
        else if (pullPolicy is not ("Always" or "IfNotPresent" or "Never"))
        {
            e.NotSupported($"{path}.imagePullPolicy", pullPolicy, "Always", "IfNotPresent", "Never");
        }

        var requests = c["resources"]?["requests"] as JsonObject;
        var limits = c["resources"]?["limits"] as JsonObject;
        foreach (var (resource, value) in requests ?? [])
        {
            var text = (string?)value ?? "";
            if (limits?[resource] is JsonNode limitNode && Quantity.TryParse(text, out var req) &&
                Quantity.TryParse((string?)limitNode, out var lim) && req > lim)
            {
                e.Invalid($"{path}.resources.requests", text, $"must be less than or equal to {resource} limit of {(string?)limitNode}");
            }
        }
    }

    private static readonly string PodUpdateForbidden =
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

    private static void PodUpdate(JsonObject pod, JsonObject old, FieldErrors e)
    {
        var spec = pod["spec"] as JsonObject ?? [];
        var oldSpec = old["spec"] as JsonObject ?? [];
        if (Defaulting.Containers(spec, "containers").Count() != Defaulting.Containers(oldSpec, "containers").Count())
        {
            e.Forbidden("spec.containers", "pod updates may not add or remove containers");
            return;
        }
        if (Defaulting.Containers(spec, "initContainers").Count() != Defaulting.Containers(oldSpec, "initContainers").Count())
        {
            e.Forbidden("spec.initContainers", "pod updates may not add or remove containers");
            return;
        }
        // Mask the mutable fields, then the rest must be equal.
        var a = (JsonObject)spec.DeepClone();
        var b = (JsonObject)oldSpec.DeepClone();
        foreach (var s in new[] { a, b })
        {
            foreach (var c in Defaulting.Containers(s, "containers", "initContainers"))
            {
                c.Remove("image");
            }
            s.Remove("activeDeadlineSeconds");
            s.Remove("terminationGracePeriodSeconds");
            s.Remove("ephemeralContainers");
        }
        // Tolerations may only be added to.
        var tolerations = a["tolerations"] as JsonArray ?? [];
        var oldTolerations = b["tolerations"] as JsonArray ?? [];
        var tolerationsOk = oldTolerations.All(t => tolerations.Any(n => JsonNode.DeepEquals(n, t)));
        a.Remove("tolerations");
        b.Remove("tolerations");
        if (!JsonNode.DeepEquals(a, b) || !tolerationsOk)
        {
            e.Forbidden("spec", PodUpdateForbidden + "\n");
        }
        var i = 0;
        foreach (var c in Defaulting.Containers(spec, "containers"))
        {
            if (string.IsNullOrEmpty((string?)c["image"]))
            {
                e.Required($"spec.containers[{i}].image");
            }
            i++;
        }
    }

    // ---- Job ----

    private static void Job(JsonObject job, JsonObject? old, FieldErrors e)
    {
        ObjectMeta(job, e, SubdomainErrors);
        var spec = job["spec"] as JsonObject ?? [];
        var uid = (string?)job["metadata"]?["uid"] ?? "";

        // validateGeneratedSelector
        if (!IsTrue(spec["manualSelector"]))
        {
            if (spec["template"]?["metadata"]?["labels"] is null)
            {
                e.Required("spec.template.metadata.labels");
            }
            if (spec["selector"] is not JsonObject selector)
            {
                e.Required("spec.selector");
            }
            else
            {
                var generated = new JsonObject { ["matchLabels"] = new JsonObject { ["batch.kubernetes.io/controller-uid"] = uid } };
                var legacy = new JsonObject { ["matchLabels"] = new JsonObject { ["controller-uid"] = uid } };
                var normalized = (JsonObject)selector.DeepClone();
                if (normalized["matchExpressions"] is JsonArray { Count: 0 } or null)
                {
                    normalized.Remove("matchExpressions");
                }
                if (!JsonNode.DeepEquals(normalized, generated) && !JsonNode.DeepEquals(normalized, legacy))
                {
                    e.InvalidRendered("spec.selector", FieldErrors.GoLabelSelector(selector), "`selector` not auto-generated");
                }
            }
        }

        JobSpec(spec, "spec", e, isTemplate: false);
        if (spec["selector"] is not JsonObject)
        {
            e.Required("spec.selector");
        }
        var templateLabels = spec["template"]?["metadata"]?["labels"];
        if (!SelectorMatches(spec["selector"], templateLabels))
        {
            e.InvalidRendered("spec.template.metadata.labels", FieldErrors.GoStringMap(templateLabels), "`selector` does not match template `labels`");
        }

        if (old is null)
        {
            return;
        }
        var oldSpec = old["spec"] as JsonObject ?? [];
        // validateCompletions: elastic Indexed Jobs may change completions together with parallelism.
        if (!JsonNode.DeepEquals(spec["completions"], oldSpec["completions"]))
        {
            var indexed = (string?)spec["completionMode"] == "Indexed";
            if (indexed && spec["completions"] is JsonValue && oldSpec["completions"] is JsonValue)
            {
                if (!JsonNode.DeepEquals(spec["completions"], spec["parallelism"]))
                {
                    e.InvalidRendered("spec.completions", FieldErrors.GoValue(spec["completions"]), "can only be modified in tandem with spec.parallelism");
                }
            }
            else
            {
                e.InvalidRendered("spec.completions", FieldErrors.GoValue(spec["completions"]), Immutable);
            }
        }
        if (!JsonNode.DeepEquals(spec["selector"], oldSpec["selector"]))
        {
            e.InvalidRendered("spec.selector", FieldErrors.GoLabelSelector(spec["selector"]), Immutable);
        }
        var template = spec["template"]?.DeepClone() as JsonObject ?? [];
        var oldTemplate = oldSpec["template"]?.DeepClone() as JsonObject ?? [];
        var suspended = IsTrue(oldSpec["suspend"]) && old["status"]?["startTime"] is null;
        if (suspended)
        {
            // Scheduling directives of a suspended Job that never started are mutable.
            foreach (var t in new[] { template, oldTemplate })
            {
                if (t["metadata"] is JsonObject m)
                {
                    m.Remove("labels");
                    m.Remove("annotations");
                }
                if (t["spec"] is JsonObject s)
                {
                    s.Remove("nodeSelector");
                    s.Remove("tolerations");
                    s.Remove("schedulingGates");
                    if (s["affinity"] is JsonObject aff)
                    {
                        aff.Remove("nodeAffinity");
                        if (aff.Count == 0)
                        {
                            s.Remove("affinity");
                        }
                    }
                }
            }
        }
        if (!JsonNode.DeepEquals(template, oldTemplate))
        {
            e.InvalidRendered("spec.template", "core.PodTemplateSpec{...}", Immutable);
        }
        foreach (var field in new[] { "completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy" })
        {
            if (!JsonNode.DeepEquals(spec[field], oldSpec[field]))
            {
                e.InvalidRendered($"spec.{field}", FieldErrors.GoValue(spec[field]), Immutable);
            }
        }
    }

    /// <summary>validateJobSpec: shared by Jobs and CronJob job templates.</summary>
    private static void JobSpec(JsonObject spec, string path, FieldErrors e, bool isTemplate)
    {
        foreach (var field in new[] { "parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes" })
        {
            if (Num(spec[field]) is { } v && v < 0)
            {
                e.Invalid($"{path}.{field}", v, "must be greater than or equal to 0");
            }
        }
        var mode = (string?)spec["completionMode"];
        if (mode is not null)
        {
            if (mode is not ("NonIndexed" or "Indexed"))
            {
                e.NotSupported($"{path}.completionMode", mode, "NonIndexed", "Indexed");
            }
            else if (mode == "Indexed")
            {
                if (spec["completions"] is null)
                {
                    e.Required($"{path}.completions", "when completion mode is Indexed");
                }
                if (Num(spec["parallelism"]) is { } p && p > 100000)
                {
                    e.Invalid($"{path}.parallelism", p, "must be less than or equal to 100000 when completion mode is Indexed");
                }
            }
        }
        if (spec["backoffLimitPerIndex"] is not null && mode != "Indexed")
        {
            e.Forbidden($"{path}.backoffLimitPerIndex", "requires indexed completion mode");
        }
        var replacement = (string?)spec["podReplacementPolicy"];
        if (replacement is not null)
        {
            if (replacement is not ("TerminatingOrFailed" or "Failed"))
            {
                e.NotSupported($"{path}.podReplacementPolicy", replacement, "Failed", "TerminatingOrFailed");
            }
            else if (replacement != "Failed" && spec["podFailurePolicy"] is not null)
            {
                e.NotSupported($"{path}.podReplacementPolicy", replacement, "Failed");
            }
        }

        // validatePodTemplateSpecForJob
        var template = spec["template"] as JsonObject ?? [];
        var tpath = $"{path}.template";
        if (!isTemplate && spec["selector"] is JsonObject selector && !SelectorIsEmpty(selector) &&
            !SelectorMatches(selector, template["metadata"]?["labels"]))
        {
            e.InvalidRendered($"{tpath}.metadata.labels", FieldErrors.GoStringMap(template["metadata"]?["labels"]), "`selector` does not match template `labels`");
        }
        Labels(template["metadata"]?["labels"], $"{tpath}.labels", e);
        Annotations(template["metadata"]?["annotations"], $"{tpath}.annotations", e);
        var podSpec = template["spec"] as JsonObject ?? [];
        PodSpec(podSpec, $"{tpath}.spec", e);
        var restartPolicy = (string?)podSpec["restartPolicy"] ?? "";
        if (restartPolicy is "" or "Always")
        {
            e.Required($"{tpath}.spec.restartPolicy", "valid values: \"OnFailure\", \"Never\"");
        }
        else if (restartPolicy is not ("OnFailure" or "Never"))
        {
            e.NotSupported($"{tpath}.spec.restartPolicy", restartPolicy, "OnFailure", "Never");
        }
        if (podSpec["activeDeadlineSeconds"] is JsonValue ads)
        {
            e.InvalidRendered($"{tpath}.spec.activeDeadlineSeconds", ads.ToJsonString(), "activeDeadlineSeconds in ActiveDeadlineSeconds is not Supported");
        }
    }

    private static bool SelectorIsEmpty(JsonObject selector) =>
        selector["matchLabels"] is not JsonObject { Count: > 0 } && selector["matchExpressions"] is not JsonArray { Count: > 0 };

    /// <summary>metav1.LabelSelectorAsSelector(selector).Matches(labels); a nil selector matches nothing, an empty one everything.</summary>
    internal static bool SelectorMatches(JsonNode? selectorNode, JsonNode? labelsNode)
    {
        if (selectorNode is not JsonObject selector)
        {
            return false;
        }
        var labels = labelsNode as JsonObject ?? [];
        foreach (var (k, v) in selector["matchLabels"] as JsonObject ?? [])
        {
            if ((string?)labels[k] != (string?)v || !labels.ContainsKey(k))
            {
                return false;
            }
        }
        foreach (var expr in (selector["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = (string?)expr["key"] ?? "";
            var values = (expr["values"] as JsonArray ?? []).Select(v => (string?)v).ToList();
            var has = labels.ContainsKey(key);
            var ok = (string?)expr["operator"] switch
            {
                "In" => has && values.Contains((string?)labels[key]),
                "NotIn" => !has || !values.Contains((string?)labels[key]),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }

    // ---- CronJob ----

    private static void CronJobSpec(JsonObject spec, JsonObject? oldSpec, FieldErrors e)
    {
        var schedule = (string?)spec["schedule"] ?? "";
        if (schedule.Length == 0)
        {
            e.Required("spec.schedule");
        }
        else
        {
            var parseError = CronSchedule.Error(schedule);
            if (parseError is not null)
            {
                e.Invalid("spec.schedule", schedule, parseError);
            }
            var allowTz = oldSpec is not null && (((string?)oldSpec["schedule"])?.Contains("TZ", StringComparison.Ordinal) ?? false);
            if (allowTz && schedule.Contains("TZ", StringComparison.Ordinal) && spec["timeZone"] is not null)
            {
                e.Invalid("spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule");
            }
            else if (!allowTz && schedule.Contains("TZ", StringComparison.Ordinal))
            {
                e.Invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
            }
        }
        if (Num(spec["startingDeadlineSeconds"]) is { } sds && sds < 0)
        {
            e.Invalid("spec.startingDeadlineSeconds", sds, "must be greater than or equal to 0");
        }
        if (oldSpec is null || (string?)oldSpec["timeZone"] != (string?)spec["timeZone"])
        {
            TimeZone((string?)spec["timeZone"], e);
        }
        var policy = (string?)spec["concurrencyPolicy"] ?? "";
        if (policy.Length == 0)
        {
            e.Required("spec.concurrencyPolicy");
        }
        else if (policy is not ("Allow" or "Forbid" or "Replace"))
        {
            e.NotSupported("spec.concurrencyPolicy", policy, "Allow", "Forbid", "Replace");
        }

        // ValidateJobTemplateSpec
        var jobSpec = spec["jobTemplate"]?["spec"] as JsonObject ?? [];
        JobSpec(jobSpec, "spec.jobTemplate.spec", e, isTemplate: true);
        if (jobSpec["selector"] is JsonObject selector)
        {
            e.InvalidRendered("spec.jobTemplate.spec.selector", FieldErrors.GoLabelSelector(selector), "`selector` will be auto-generated");
        }
        if (IsTrue(jobSpec["manualSelector"]))
        {
            e.NotSupported("spec.jobTemplate.spec.manualSelector", "true", "nil", "false");
        }

        foreach (var field in new[] { "successfulJobsHistoryLimit", "failedJobsHistoryLimit" })
        {
            if (Num(spec[field]) is { } v && v < 0)
            {
                e.Invalid($"spec.{field}", v, "must be greater than or equal to 0");
            }
        }
    }

    private static void TimeZone(string? timeZone, FieldErrors e)
    {
        if (timeZone is null)
        {
            return;
        }
        if (timeZone.Length == 0)
        {
            e.Invalid("spec.timeZone", timeZone, "timeZone must be nil or non-empty string");
            return;
        }
        foreach (var part in timeZone.Split('/'))
        {
            if (part is "." or ".." || part.StartsWith('-') || !TimeZonePart().IsMatch(part))
            {
                e.Invalid("spec.timeZone", timeZone, $"unknown time zone {timeZone}");
                return;
            }
        }
        if (string.Equals(timeZone, "Local", StringComparison.OrdinalIgnoreCase))
        {
            e.Invalid("spec.timeZone", timeZone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones");
        }
        if (!TimeZoneExists(timeZone))
        {
            e.Invalid("spec.timeZone", timeZone, $"unknown time zone {timeZone}");
        }
    }

    /// <summary>Go's time.LoadLocation: "UTC", "" and IANA names of the system's tz database (case-sensitive).</summary>
    internal static bool TimeZoneExists(string name)
    {
        if (name is "UTC" or "")
        {
            return true;
        }
        if (name == "Local")
        {
            return true;
        }
        var path = Path.Combine("/usr/share/zoneinfo", name);
        if (File.Exists(path))
        {
            return true;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name).Id == name;
        }
        catch (TimeZoneNotFoundException)
        {
            return false;
        }
        catch (InvalidTimeZoneException)
        {
            return false;
        }
    }

    /// <summary>An integer JSON value, whatever CLR type backs the node.</summary>
    internal static long? Num(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number &&
        double.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)
            ? (long)d
            : null;

    private static bool IsTrue(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.True;
}
