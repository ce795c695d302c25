using System.Text.Json.Nodes;

namespace JobKit.Sandbox.Api;

/// <summary>One entry of metav1.StatusDetails.causes, e.g. (FieldValueInvalid, "Invalid value: ...", "metadata.name").</summary>
public sealed record StatusCause(string Reason, string Message, string Field);

/// <summary>
/// An API error, answered as a metav1.Status body with the same code, reason and message the real
/// kube-apiserver writes (k8s.io/apimachinery/pkg/api/errors).
/// </summary>
public sealed class ApiException : Exception
{
    public ApiException(int code, string reason, string message, string? kind = null, string? name = null, string? group = null, IReadOnlyList<StatusCause>? causes = null, int? retryAfterSeconds = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Kind = kind;
        Name = name;
        Group = group;
        Causes = causes ?? [];
        RetryAfterSeconds = retryAfterSeconds;
    }

    public int Code { get; }

    /// <summary>metav1.StatusReason: NotFound, AlreadyExists, Conflict, Invalid, BadRequest, Gone, Unauthorized, Forbidden, MethodNotAllowed, UnsupportedMediaType, NotAcceptable, InternalError, Expired.</summary>
    public string Reason { get; }

    /// <summary>details.kind: the resource's plural ("configmaps") for NotFound/AlreadyExists/Conflict, the Kind ("ConfigMap") for Invalid, as the real server writes them.</summary>
    public string? Kind { get; }

    public string? Name { get; }

    public string? Group { get; }

    public IReadOnlyList<StatusCause> Causes { get; }

    public int? RetryAfterSeconds { get; }

    public static ApiException NotFound(string group, string resource, string name) =>
        new(404, "NotFound", $"{Qualified(group, resource)} \"{name}\" not found", resource, name, group);

    public static ApiException AlreadyExists(string group, string resource, string name) =>
        new(409, "AlreadyExists", $"{Qualified(group, resource)} \"{name}\" already exists", resource, name, group);

    public static ApiException Conflict(string group, string resource, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {Qualified(group, resource)} \"{name}\": {detail}", resource, name, group);

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    /// <summary>422 as errors.NewInvalid builds it: <c>Kind "name" is invalid: [field: Invalid value: ..., ...]</c>.</summary>
    public static ApiException Invalid(string group, string kind, string name, IReadOnlyList<StatusCause> causes)
    {
        // utilerrors.Aggregate: identical messages are written once; one distinct message goes without brackets.
        var messages = causes.Select(c => string.IsNullOrEmpty(c.Field) ? c.Message : $"{c.Field}: {c.Message}").Distinct(StringComparer.Ordinal).ToList();
        var joined = messages.Count == 1 ? messages[0] : $"[{string.Join(", ", messages)}]";
        return new ApiException(422, "Invalid", $"{Qualified(group, kind)} \"{name}\" is invalid: {joined}", kind, name, group, causes);
    }

    /// <summary>A Go error that is no metav1.Status: the server answers 500 with the bare message and no reason.</summary>
    public static ApiException Internal(string message) => new(500, "", message);

    public static ApiException UnsupportedMediaType(string message) => new(415, "UnsupportedMediaType", message);

    public static ApiException Gone(string message) => new(410, "Expired", message);

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
        };
        // metav1.Status.reason is omitempty: errors that are no APIStatus (e.g. strategic merge patch failures)
        // reach clients as 500 without a reason.
        if (!string.IsNullOrEmpty(Reason))
        {
            status["reason"] = Reason;
        }
        if (Kind is not null || Name is not null || Causes.Count > 0 || RetryAfterSeconds is not null)
        {
            var details = new JsonObject();
            if (!string.IsNullOrEmpty(Name))
            {
                details["name"] = Name;
            }
            if (!string.IsNullOrEmpty(Group))
            {
                details["group"] = Group;
            }
            // An empty (non-null) Kind yields "details": {} as NewGenericServerResponse writes it.
            if (!string.IsNullOrEmpty(Kind))
            {
                details["kind"] = Kind;
            }
            if (Causes.Count > 0)
            {
                details["causes"] = new JsonArray(Causes.Select(c => (JsonNode)new JsonObject
                {
                    ["reason"] = c.Reason,
                    ["message"] = c.Message,
                    ["field"] = c.Field,
                }).ToArray());
            }
            if (RetryAfterSeconds is { } retry)
            {
                details["retryAfterSeconds"] = retry;
            }
            status["details"] = details;
        }
        status["code"] = Code;
        return status;
    }

    private static string Qualified(string group, string resource) => group.Length == 0 ? resource : $"{resource}.{group}";
}
