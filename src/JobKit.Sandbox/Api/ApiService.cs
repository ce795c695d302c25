using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using JobKit.Sandbox.Api.Admission;
using JobKit.Sandbox.Api.Patching;

namespace JobKit.Sandbox.Api;

/// <summary>Options of a DELETE (metav1.DeleteOptions).</summary>
public sealed record DeleteOptions(string? PropagationPolicy = null, long? GracePeriodSeconds = null, string? PreconditionUid = null, string? PreconditionResourceVersion = null, bool? OrphanDependents = null);

/// <summary>What a DELETE did: the object is gone (<see cref="Deleted"/>) or still there, being finalized or terminating.</summary>
public sealed record DeleteResult(JsonObject Object, bool Deleted);

/// <summary>
/// The API server's registry: the semantics of create, update, patch and delete that kube-apiserver's generic
/// registry and the kinds' strategies apply (pkg/registry), on top of <see cref="ObjectStore"/>. The HTTP layer
/// and the sandbox's in-process controllers both go through it.
/// </summary>
public sealed partial class ApiService(ObjectStore store, TimeProvider time)
{
    private const string GenerateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public ObjectStore Store => store;

    public TimeProvider Time => time;

    public string Now() => Timestamps.Format(time.GetUtcNow());

    public JsonObject Get(ResourceType type, string? ns, string name) =>
        store.Get(type, ns, name) ?? throw ApiException.NotFound(type.Group, type.Plural, name);

    public JsonObject Create(ResourceType type, string? ns, JsonObject body, bool dryRun = false)
    {
        var obj = (JsonObject)body.DeepClone();
        CheckKind(type, obj);
        var metadata = Metadata(obj);
        ns = CheckNamespace(type, ns, metadata);
        var name = metadata["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name))
        {
            var generateName = metadata["generateName"]?.GetValue<string>();
            if (string.IsNullOrEmpty(generateName))
            {
                throw ApiException.Invalid(type.Group, type.Kind, "", [new StatusCause("FieldValueRequired", "Required value: name or generateName is required", "metadata.name")]);
            }
            name = generateName + RandomSuffix(5);
            metadata["name"] = name;
        }
        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = Now();
        metadata.Remove("resourceVersion");
        metadata.Remove("deletionTimestamp");
        metadata.Remove("deletionGracePeriodSeconds");
        metadata.Remove("managedFields");
        metadata.Remove("generation");
        if (type.Namespaced)
        {
            // The NamespaceLifecycle admission plugin runs before the others.
            CheckNamespaceAcceptsContent(type, ns!, name);
        }
        // The real server's order: scheme defaults, mutating admission, the strategy's PrepareForCreate, validation,
        // then defaults once more as the stored object is decoded (see Defaulting).
        Defaulting.Apply(type.Group, type.Version, type.Kind, obj);
        Defaulting.AdmitOnCreate(type.Group, type.Kind, obj, type == ResourceTypes.Pod ? PodServiceAccount(ns!, obj) : null);
        Defaulting.PrepareForCreate(type.Group, type.Kind, obj);
        Validation.ValidateCreate(type.Group, type.Kind, obj);
        Defaulting.Apply(type.Group, type.Version, type.Kind, obj);
        obj = Ordered(type, obj);
        if (dryRun)
        {
            if (store.Get(type, ns, name) is not null)
            {
                throw ApiException.AlreadyExists(type.Group, type.Plural, name);
            }
            return obj;
        }
        return store.Mutate(type, ns, name, current =>
        {
            if (current is not null)
            {
                throw ApiException.AlreadyExists(type.Group, type.Plural, name);
            }
            if (type.Namespaced)
            {
                CheckNamespaceAcceptsContent(type, ns!, name);
            }
            return obj;
        })!;
    }

    /// <summary>
    /// The ServiceAccount admission plugin rejects a pod whose ServiceAccount does not exist
    /// (plugin/pkg/admission/serviceaccount: "error looking up service account").
    /// </summary>
    private JsonObject PodServiceAccount(string ns, JsonObject pod)
    {
        var name = pod["spec"]?["serviceAccountName"]?.GetValue<string>() is { Length: > 0 } given ? given : "default";
        return store.Get(ResourceTypes.ServiceAccount, ns, name)
            ?? throw new ApiException(403, "Forbidden", $"pods \"{pod["metadata"]?["name"]}\" is forbidden: error looking up service account {ns}/{name}: serviceaccount \"{name}\" not found", "pods", pod["metadata"]?["name"]?.GetValue<string>());
    }

    /// <summary>PUT. With <paramref name="subresource"/> "status", only the status changes; otherwise status is kept.</summary>
    public JsonObject Update(ResourceType type, string? ns, string name, JsonObject body, string? subresource = null, bool dryRun = false)
    {
        var obj = (JsonObject)body.DeepClone();
        CheckKind(type, obj);
        var metadata = Metadata(obj);
        CheckNamespace(type, ns, metadata);
        var bodyName = metadata["name"]?.GetValue<string>();
        if (bodyName != name)
        {
            throw ApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }
        return Write(type, ns, name, dryRun, current =>
        {
            if (current is null)
            {
                if (type.AllowCreateOnUpdate && subresource is null)
                {
                    return obj;
                }
                throw ApiException.NotFound(type.Group, type.Plural, name);
            }
            return obj;
        }, subresource, createIfMissing: type.AllowCreateOnUpdate && subresource is null);
    }

    public JsonObject Patch(ResourceType type, string? ns, string name, string contentType, JsonNode patch, string? subresource = null, bool dryRun = false)
    {
        return Write(type, ns, name, dryRun, current =>
        {
            if (current is null)
            {
                throw ApiException.NotFound(type.Group, type.Plural, name);
            }
            var original = (JsonObject)current.DeepClone();
            JsonNode? patched = contentType switch
            {
                "application/merge-patch+json" => JsonMergePatch.Apply(original, patch),
                "application/json-patch+json" => JsonPatch.Apply(original, patch as JsonArray ?? throw ApiException.BadRequest("json patch must be a JSON array")),
                "application/strategic-merge-patch+json" when StrategicMergePatch.Supports(type.Group, type.Kind) =>
                    StrategicMergePatch.Apply(original, patch as JsonObject ?? throw ApiException.BadRequest("strategic merge patch must be a JSON object"), type.Group, type.Kind),
                _ => throw new ApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
            };
            return patched as JsonObject ?? throw ApiException.BadRequest("the patch did not produce an object");
        }, subresource, createIfMissing: false);
    }

    /// <summary>Read-modify-write for in-process controllers: <paramref name="change"/> edits a copy of the current object under the store's lock, so it cannot conflict.</summary>
    public JsonObject Modify(ResourceType type, string? ns, string name, Action<JsonObject> change, string? subresource = null)
    {
        return Write(type, ns, name, false, current =>
        {
            if (current is null)
            {
                throw ApiException.NotFound(type.Group, type.Plural, name);
            }
            var copy = (JsonObject)current.DeepClone();
            change(copy);
            return copy;
        }, subresource, createIfMissing: false);
    }

    private JsonObject Write(ResourceType type, string? ns, string name, bool dryRun, Func<JsonObject?, JsonObject?> desired, string? subresource, bool createIfMissing)
    {
        JsonObject? createBody = null;
        JsonObject? result = null;
        var decide = (JsonObject? current) =>
        {
            var next = desired(current);
            if (current is null)
            {
                createBody = next;
                return current;
            }
            next = Prepare(type, current, next!, subresource);
            if (JsonNode.DeepEquals(WithoutVersion(next), WithoutVersion(current)))
            {
                return current;
            }
            if (dryRun)
            {
                result = next;
                return current;
            }
            if (IsReadyToGo(next))
            {
                return null;
            }
            return next;
        };
        var stored = store.Mutate(type, ns, name, decide);
        if (createBody is not null && createIfMissing)
        {
            return Create(type, ns, createBody, dryRun);
        }
        return result ?? stored!;
    }

    /// <summary>Applies what an update may and may not change (rest.BeforeUpdate and the kinds' PrepareForUpdate).</summary>
    private static JsonObject Prepare(ResourceType type, JsonObject current, JsonObject next, string? subresource)
    {
        CheckKind(type, next);
        var metadata = Metadata(next);
        var currentMeta = (JsonObject)current["metadata"]!;
        var givenVersion = metadata["resourceVersion"]?.GetValue<string>();
        var name = currentMeta["name"]!.GetValue<string>();
        if (!string.IsNullOrEmpty(givenVersion) && givenVersion != currentMeta["resourceVersion"]?.GetValue<string>())
        {
            throw ApiException.Conflict(type.Group, type.Plural, name, "the object has been modified; please apply your changes to the latest version and try again");
        }
        var givenUid = metadata["uid"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(givenUid) && givenUid != currentMeta["uid"]?.GetValue<string>())
        {
            throw ApiException.Conflict(type.Group, type.Plural, name, $"Precondition failed: UID in precondition: {givenUid}, UID in object meta: {currentMeta["uid"]}");
        }
        if (subresource == "status")
        {
            // statusStrategy.PrepareForUpdate (pkg/registry/*/strategy.go) puts back the stored spec and the rest of the
            // desired state; metadata such as labels and annotations may change through /status, as on the real server.
            foreach (var key in next.Select(kv => kv.Key).Where(k => k is not ("status" or "metadata" or "kind" or "apiVersion") && !current.ContainsKey(k)).ToList())
            {
                next.Remove(key);
            }
            foreach (var (key, value) in current.Where(kv => kv.Key is not ("status" or "metadata" or "kind" or "apiVersion")))
            {
                next[key] = value?.DeepClone();
            }
            KeepImmutableMetadata(metadata, currentMeta);
        }
        else if (subresource == "finalize" && type == ResourceTypes.Namespace)
        {
            var updated = (JsonObject)current.DeepClone();
            updated["spec"] ??= new JsonObject();
            updated["spec"]!["finalizers"] = next["spec"]?["finalizers"]?.DeepClone() ?? new JsonArray();
            next = updated;
        }
        else
        {
            KeepImmutableMetadata(metadata, currentMeta);
            if (type.HasStatus)
            {
                next["status"] = current["status"]?.DeepClone();
                if (next["status"] is null)
                {
                    next.Remove("status");
                }
            }
            Defaulting.Apply(type.Group, type.Version, type.Kind, next);
            // A Deployment's generation also counts annotation changes (pkg/registry/apps/deployment/strategy.go).
            if (type.HasGeneration && (!JsonNode.DeepEquals(next["spec"], current["spec"])
                || (type == ResourceTypes.Deployment && !JsonNode.DeepEquals(metadata["annotations"], currentMeta["annotations"]))))
            {
                metadata["generation"] = (currentMeta["generation"].AsLong() ?? 0) + 1;
            }
            if (type == ResourceTypes.DaemonSet)
            {
                // spec.templateGeneration (seen as an annotation in v1) is the server's: kept, and bumped by a template change.
                var templateGeneration = long.TryParse(currentMeta["annotations"]?[Defaulting.DaemonSetTemplateGenerationAnnotation]?.GetValue<string>(), out var g) ? g : 0;
                if (!JsonNode.DeepEquals(next["spec"]?["template"], current["spec"]?["template"]))
                {
                    templateGeneration++;
                }
                if (metadata["annotations"] is not JsonObject annotations)
                {
                    metadata["annotations"] = annotations = [];
                }
                annotations[Defaulting.DaemonSetTemplateGenerationAnnotation] = templateGeneration.ToString(CultureInfo.InvariantCulture);
            }
        }
        if (currentMeta["deletionTimestamp"] is not null)
        {
            // ValidateObjectMetaUpdate: an object on its way out takes no new finalizers.
            var before = (currentMeta["finalizers"] as JsonArray ?? []).Select(f => f?.GetValue<string>()).ToHashSet();
            var added = (Metadata(next)["finalizers"] as JsonArray ?? []).Select(f => f?.GetValue<string>()).Where(f => !before.Contains(f)).ToList();
            if (added.Count > 0)
            {
                throw ApiException.Invalid(type.Group, type.Kind, name, [new StatusCause("FieldValueForbidden",
                    $"Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{string.Join(", ", added.Select(f => $"\"{f}\""))}}}",
                    "metadata.finalizers")]);
            }
        }
        Validation.ValidateUpdate(type.Group, type.Kind, next, current);
        Metadata(next)["resourceVersion"] = currentMeta["resourceVersion"]?.DeepClone();
        return Ordered(type, next);
    }

    private static readonly string[] ImmutableMetadata = ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"];

    /// <summary>The metadata only the server writes (rest.BeforeUpdate / FillObjectMetaSystemFields).</summary>
    private static void KeepImmutableMetadata(JsonObject metadata, JsonObject currentMeta)
    {
        foreach (var immutable in ImmutableMetadata)
        {
            metadata[immutable] = currentMeta[immutable]?.DeepClone();
            if (metadata[immutable] is null)
            {
                metadata.Remove(immutable);
            }
        }
    }

    /// <summary>An object being deleted goes once no finalizer holds it and no grace period remains (registry/generic deleteWithoutFinalizers).</summary>
    private static bool IsReadyToGo(JsonObject obj)
    {
        var metadata = (JsonObject)obj["metadata"]!;
        return metadata["deletionTimestamp"] is not null
            && (metadata["finalizers"] as JsonArray ?? []).Count == 0
            && (obj["spec"]?["finalizers"] as JsonArray ?? []).Count == 0
            && (metadata["deletionGracePeriodSeconds"].AsLong() ?? 0) == 0;
    }

    public DeleteResult Delete(ResourceType type, string? ns, string name, DeleteOptions options, bool dryRun = false)
    {
        JsonObject? remaining = null;
        JsonObject? removed = null;
        var deleting = false;
        var stored = store.Mutate(type, ns, name, current =>
        {
            if (current is null)
            {
                throw ApiException.NotFound(type.Group, type.Plural, name);
            }
            var metadata = (JsonObject)current["metadata"]!;
            if (options.PreconditionUid is { } uid && uid != metadata["uid"]?.GetValue<string>())
            {
                throw ApiException.Conflict(type.Group, type.Plural, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {metadata["uid"]}");
            }
            if (options.PreconditionResourceVersion is { } rv && rv != metadata["resourceVersion"]?.GetValue<string>())
            {
                throw ApiException.Conflict(type.Group, type.Plural, name, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {metadata["resourceVersion"]}");
            }
            var next = (JsonObject)current.DeepClone();
            var nextMeta = (JsonObject)next["metadata"]!;
            var finalizers = (nextMeta["finalizers"] as JsonArray)?.Select(f => f!.GetValue<string>()).ToList() ?? [];
            var policy = options.PropagationPolicy ?? (options.OrphanDependents == true ? "Orphan" : options.OrphanDependents == false ? "Background" : type.DefaultPropagation);
            if (policy is not ("Orphan" or "Foreground" or "Background"))
            {
                throw ApiException.BadRequest($"DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
            }
            var alreadyDeleting = nextMeta["deletionTimestamp"] is not null;
            if (!alreadyDeleting || policy != "Background")
            {
                var gcFinalizer = policy switch { "Orphan" => "orphan", "Foreground" => "foregroundDeletion", _ => null };
                if (!alreadyDeleting || gcFinalizer is not null)
                {
                    finalizers.RemoveAll(f => f is "orphan" or "foregroundDeletion" && f != gcFinalizer);
                    if (gcFinalizer is not null && !finalizers.Contains(gcFinalizer))
                    {
                        finalizers.Add(gcFinalizer);
                    }
                }
            }
            if (type == ResourceTypes.Namespace && !alreadyDeleting)
            {
                next["status"] = new JsonObject { ["phase"] = "Terminating" };
            }
            var grace = GracePeriod(type, current, options);
            var existingGrace = metadata["deletionGracePeriodSeconds"].AsLong();
            var namespaceFinalizers = type == ResourceTypes.Namespace ? (next["spec"]?["finalizers"] as JsonArray ?? []).Count : 0;
            if (finalizers.Count == 0 && grace == 0 && namespaceFinalizers == 0)
            {
                if (dryRun)
                {
                    removed = current;
                    return current;
                }
                deleting = true;
                return null;
            }
            if (finalizers.Count > 0)
            {
                nextMeta["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)JsonValue.Create(f)).ToArray());
            }
            else
            {
                nextMeta.Remove("finalizers");
            }
            if (!alreadyDeleting && type.HasGeneration)
            {
                // Setting deletionTimestamp counts as a spec change (registry/rest/delete.go BeforeDelete).
                nextMeta["generation"] = (metadata["generation"].AsLong() ?? 0) + 1;
            }
            if (!alreadyDeleting || grace < (existingGrace ?? 0))
            {
                // A later DELETE may shorten a grace period, never lengthen it.
                nextMeta["deletionTimestamp"] = Timestamps.Format(time.GetUtcNow().AddSeconds(grace));
                nextMeta["deletionGracePeriodSeconds"] = grace;
            }
            if (JsonNode.DeepEquals(next, current))
            {
                remaining = current;
                return current;
            }
            if (dryRun)
            {
                remaining = next;
                return current;
            }
            return next;
        });
        if (removed is not null)
        {
            return new DeleteResult(removed, true);
        }
        if (remaining is not null)
        {
            return new DeleteResult(remaining, false);
        }
        return new DeleteResult(stored!, deleting);
    }

    /// <summary>
    /// Pods bound to a node and not finished are deleted gracefully: the kubelet stops them and confirms
    /// (pkg/registry/core/pod/strategy.go CheckGracefulDelete). Everything else goes at once.
    /// </summary>
    private static long GracePeriod(ResourceType type, JsonObject current, DeleteOptions options)
    {
        if (type != ResourceTypes.Pod)
        {
            return 0;
        }
        var phase = current["status"]?["phase"]?.GetValue<string>();
        if (string.IsNullOrEmpty(current["spec"]?["nodeName"]?.GetValue<string>()) || phase is "Succeeded" or "Failed")
        {
            return 0;
        }
        var grace = options.GracePeriodSeconds ?? current["spec"]?["terminationGracePeriodSeconds"].AsLong() ?? 30;
        return Math.Max(0, grace);
    }

    /// <summary>POST pods/NAME/binding, as the scheduler does (pkg/registry/core/pod/storage BindingREST).</summary>
    public void Bind(string ns, string podName, string nodeName, string? uid = null)
    {
        store.Mutate(ResourceTypes.Pod, ns, podName, current =>
        {
            if (current is null)
            {
                throw ApiException.NotFound("", "pods", podName);
            }
            if (uid is not null && current["metadata"]!["uid"]!.GetValue<string>() != uid)
            {
                throw ApiException.Conflict("", "pods", podName, "the UID in the bind request does not match the pod");
            }
            if (current["metadata"]!["deletionTimestamp"] is not null)
            {
                throw ApiException.Conflict("", "pods", podName, "pod is being deleted, cannot be assigned to a host");
            }
            var existing = current["spec"]?["nodeName"]?.GetValue<string>();
            if (!string.IsNullOrEmpty(existing))
            {
                throw ApiException.Conflict("", "pods", podName, $"pod {podName} is already assigned to node \"{existing}\"");
            }
            var next = (JsonObject)current.DeepClone();
            next["spec"]!["nodeName"] = nodeName;
            SetCondition(next, new JsonObject { ["type"] = "PodScheduled", ["status"] = "True", ["lastProbeTime"] = null, ["lastTransitionTime"] = Now() });
            return next;
        });
    }

    /// <summary>Sets or replaces a status condition by type, keeping lastTransitionTime when the status did not change.</summary>
    public static void SetCondition(JsonObject obj, JsonObject condition)
    {
        var status = obj["status"] as JsonObject ?? [];
        obj["status"] = status;
        var conditions = status["conditions"] as JsonArray ?? [];
        status["conditions"] = conditions;
        var type = condition["type"]!.GetValue<string>();
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == type);
        if (existing is not null)
        {
            if (existing["status"]?.GetValue<string>() == condition["status"]?.GetValue<string>() && existing["lastTransitionTime"] is not null)
            {
                condition["lastTransitionTime"] = existing["lastTransitionTime"]!.DeepClone();
            }
            conditions[conditions.IndexOf(existing)] = condition;
        }
        else
        {
            conditions.Add(condition);
        }
    }

    private void CheckNamespaceAcceptsContent(ResourceType type, string ns, string name)
    {
        var namespaceObject = store.Get(ResourceTypes.Namespace, null, ns) ?? throw ApiException.NotFound("", "namespaces", ns);
        if (namespaceObject["metadata"]?["deletionTimestamp"] is not null)
        {
            throw new ApiException(403, "Forbidden", $"{(type.Group.Length == 0 ? type.Plural : type.Plural + "." + type.Group)} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated", type.Plural, name, type.Group,
                [new StatusCause("NamespaceTerminating", $"namespace {ns} is being terminated", "metadata.namespace")]);
        }
    }

    private static void CheckKind(ResourceType type, JsonObject obj)
    {
        var apiVersion = obj["apiVersion"]?.GetValue<string>();
        var kind = obj["kind"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != type.ApiVersion)
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion})");
        }
        if (!string.IsNullOrEmpty(kind) && kind != type.Kind)
        {
            throw ApiException.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({type.Kind})");
        }
        obj["apiVersion"] = type.ApiVersion;
        obj["kind"] = type.Kind;
    }

    private static string? CheckNamespace(ResourceType type, string? ns, JsonObject metadata)
    {
        if (!type.Namespaced)
        {
            metadata.Remove("namespace");
            return null;
        }
        var given = metadata["namespace"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(given) && given != ns)
        {
            throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
        metadata["namespace"] = ns;
        return ns;
    }

    private static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            obj["metadata"] = metadata;
        }
        return metadata;
    }

    /// <summary>kind, apiVersion, metadata first, as Go's struct order prints them.</summary>
    private static JsonObject Ordered(ResourceType type, JsonObject obj)
    {
        Normalization.Apply(obj);
        Defaulting.ShapeStatus(type.Group, type.Kind, obj);
        var ordered = new JsonObject { ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion, ["metadata"] = obj["metadata"]?.DeepClone() };
        foreach (var (key, value) in obj)
        {
            if (key is not ("kind" or "apiVersion" or "metadata"))
            {
                ordered[key] = value?.DeepClone();
            }
        }
        return ordered;
    }

    private static JsonObject WithoutVersion(JsonObject obj)
    {
        var copy = (JsonObject)obj.DeepClone();
        ((JsonObject)copy["metadata"]!).Remove("resourceVersion");
        return copy;
    }

    public static string RandomSuffix(int length) =>
        new(Enumerable.Range(0, length).Select(_ => GenerateNameAlphabet[RandomNumberGenerator.GetInt32(GenerateNameAlphabet.Length)]).ToArray());
}
