using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Api;

public sealed record ApiServerOptions
{
    public int Port { get; init; }

    public required X509Certificate2 ServingCertificate { get; init; }

    /// <summary>The client certificate presented to kubelets when proxying logs (kube-apiserver's --kubelet-client-certificate).</summary>
    public required X509Certificate2 KubeletClientCertificate { get; init; }

    public required Func<string, bool> IsValidToken { get; init; }

    /// <summary>Issues a bearer token for a service account (TokenRequest); the server accepts the tokens it issues.</summary>
    public required Func<string, string, TimeSpan, string> IssueServiceAccountToken { get; init; }
}

/// <summary>
/// The HTTP face of the sandbox: the Kubernetes REST paths, discovery, bearer-token authentication, watch
/// streams, Table output for kubectl and the log proxy to kubelets, over HTTPS on 127.0.0.1.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    private static readonly TimeSpan BookmarkInterval = TimeSpan.FromSeconds(5);
    private static readonly string[] LogQueryParameters = ["follow", "previous", "sinceSeconds", "sinceTime", "timestamps", "tailLines", "limitBytes"];
    private readonly ApiService api;
    private readonly ApiServerOptions options;
    private readonly WebApplication app;
    private readonly HttpClient kubeletClient;
    private readonly ILogger logger;
    private long requestCount;

    private ApiServer(ApiService api, ApiServerOptions options, WebApplication app, ILogger logger)
    {
        this.logger = logger;
        this.api = api;
        this.options = options;
        this.app = app;
        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                ClientCertificates = new X509CertificateCollection { options.KubeletClientCertificate },
                // kube-apiserver without --kubelet-certificate-authority does not verify kubelets' serving certs either.
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
        };
        kubeletClient = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Requests served so far (for benchmarks that count API calls).</summary>
    public long RequestCount => Interlocked.Read(ref requestCount);

    public static async Task<ApiServer> StartAsync(ApiService api, ApiServerOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 3 * 1024 * 1024;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(options.ServingCertificate);
            });
        });
        var app = builder.Build();
        var server = new ApiServer(api, options, app, loggerFactory.CreateLogger("kube-apiserver"));
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Urls.First();
        var port = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)).Port;
        server.Url = new Uri($"https://127.0.0.1:{port}");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await app.StopAsync(stopping.Token).ConfigureAwait(false);
        }
        await app.DisposeAsync().ConfigureAwait(false);
        kubeletClient.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref requestCount);
        try
        {
            var path = context.Request.Path.Value ?? "/";
            if (path is "/healthz" or "/livez" or "/readyz" || path.StartsWith("/healthz/", StringComparison.Ordinal) || path.StartsWith("/readyz/", StringComparison.Ordinal))
            {
                await WriteTextAsync(context, 200, "ok").ConfigureAwait(false);
                return;
            }
            if (!Authenticated(context.Request))
            {
                await WriteStatusAsync(context, new ApiException(401, "Unauthorized", "Unauthorized")).ConfigureAwait(false);
                return;
            }
            await RouteAsync(context, path).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            if (!context.Response.HasStarted)
            {
                await WriteStatusAsync(context, e).ConfigureAwait(false);
            }
        }
        catch (JsonException e)
        {
            if (!context.Response.HasStarted)
            {
                await WriteStatusAsync(context, ApiException.BadRequest($"the body of the request could not be decoded: {e.Message}")).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                await WriteStatusAsync(context, new ApiException(500, "InternalError", $"Internal error occurred: {e.Message}")).ConfigureAwait(false);
            }
        }
    }

    private bool Authenticated(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && options.IsValidToken(header[7..].Trim());
    }

    private async Task RouteAsync(HttpContext context, string path)
    {
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (segments)
        {
            case ["version"]:
                await WriteJsonAsync(context, 200, Discovery.Version()).ConfigureAwait(false);
                return;
            case ["api"]:
                await WriteJsonAsync(context, 200, Discovery.CoreVersions(context.Request.Host.ToString())).ConfigureAwait(false);
                return;
            case ["apis"]:
                await WriteJsonAsync(context, 200, Discovery.Groups()).ConfigureAwait(false);
                return;
            case ["api", var version]:
                await WriteJsonAsync(context, 200, Discovery.Resources("", version) ?? throw NotFoundPath(path)).ConfigureAwait(false);
                return;
            case ["apis", var group]:
                await WriteJsonAsync(context, 200, Discovery.Group(group) ?? throw NotFoundPath(path)).ConfigureAwait(false);
                return;
            case ["apis", var group, var version]:
                await WriteJsonAsync(context, 200, Discovery.Resources(group, version) ?? throw NotFoundPath(path)).ConfigureAwait(false);
                return;
            case ["openapi", "v3"]:
                await WriteJsonAsync(context, 200, Discovery.OpenApiV3Root()).ConfigureAwait(false);
                return;
            case ["openapi", "v3", "api", var version]:
                await WriteJsonAsync(context, 200, Discovery.OpenApiV3("", version) ?? throw NotFoundPath(path)).ConfigureAwait(false);
                return;
            case ["openapi", "v3", "apis", var group, var version]:
                await WriteJsonAsync(context, 200, Discovery.OpenApiV3(group, version) ?? throw NotFoundPath(path)).ConfigureAwait(false);
                return;
            case ["api", var version, .. var rest]:
                await ResourceAsync(context, "", version, rest, path).ConfigureAwait(false);
                return;
            case ["apis", var group, var version, .. var rest]:
                await ResourceAsync(context, group, version, rest, path).ConfigureAwait(false);
                return;
            default:
                throw NotFoundPath(path);
        }
    }

    private static ApiException NotFoundPath(string path) => new(404, "NotFound", "the server could not find the requested resource", causes: [new StatusCause("UnexpectedServerResponse", "404 page not found", "")]);

    private async Task ResourceAsync(HttpContext context, string group, string version, string[] rest, string path)
    {
        var watchPath = false;
        if (rest is ["watch", .. var afterWatch])
        {
            watchPath = true;
            rest = afterWatch;
        }
        string? ns = null;
        if (rest.Length >= 3 && rest[0] == "namespaces" && ResourceTypes.Find(group, version, rest[2]) is { Namespaced: true })
        {
            ns = rest[1];
            rest = rest[2..];
        }
        if (rest.Length == 0 || rest.Length > 3)
        {
            throw NotFoundPath(path);
        }
        var type = ResourceTypes.Find(group, version, rest[0]) ?? throw NotFoundPath(path);
        var name = rest.Length > 1 ? rest[1] : null;
        var subresource = rest.Length > 2 ? rest[2] : null;
        if (subresource is not null && !type.Subresources.Contains(subresource))
        {
            throw NotFoundPath(path);
        }
        if (type.Namespaced && ns is null && name is not null)
        {
            throw NotFoundPath(path);
        }
        var request = context.Request;
        var query = request.Query;
        var dryRun = query["dryRun"].ToString() == "All";
        var method = request.Method;
        if (name is null)
        {
            switch (method)
            {
                case "GET" when watchPath || IsTrue(query["watch"]):
                    await WatchAsync(context, type, ns).ConfigureAwait(false);
                    return;
                case "GET":
                    await ListAsync(context, type, ns).ConfigureAwait(false);
                    return;
                case "POST":
                    if (type.Namespaced && ns is null)
                    {
                        throw new ApiException(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
                    }
                    var created = api.Create(type, ns, await ReadJsonAsync(request).ConfigureAwait(false), dryRun);
                    await WriteObjectAsync(context, 201, type, created).ConfigureAwait(false);
                    return;
                case "DELETE":
                    await DeleteCollectionAsync(context, type, ns, dryRun).ConfigureAwait(false);
                    return;
                default:
                    throw new ApiException(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
            }
        }
        switch (subresource, method)
        {
            case (null, "GET") when watchPath || IsTrue(query["watch"]):
                await WatchAsync(context, type, ns, name).ConfigureAwait(false);
                return;
            case (null or "status", "GET"):
                await WriteObjectAsync(context, 200, type, api.Get(type, ns, name)).ConfigureAwait(false);
                return;
            case (null or "status" or "finalize", "PUT"):
                var updated = api.Update(type, ns, name, await ReadJsonAsync(request).ConfigureAwait(false), subresource, dryRun);
                await WriteObjectAsync(context, 200, type, updated).ConfigureAwait(false);
                return;
            case (null or "status", "PATCH"):
                var contentType = (request.ContentType ?? "").Split(';')[0].Trim();
                var patch = await JsonNode.ParseAsync(request.Body).ConfigureAwait(false) ?? throw ApiException.BadRequest("empty patch");
                var patched = api.Patch(type, ns, name, contentType, patch, subresource, dryRun);
                await WriteObjectAsync(context, 200, type, patched).ConfigureAwait(false);
                return;
            case (null, "DELETE"):
                var result = api.Delete(type, ns, name, await ReadDeleteOptionsAsync(request).ConfigureAwait(false), dryRun);
                await WriteDeleteResultAsync(context, type, result).ConfigureAwait(false);
                return;
            case ("scale", "GET"):
                await WriteJsonAsync(context, 200, ApiService.Scale(type, api.Get(type, ns, name))).ConfigureAwait(false);
                return;
            case ("scale", "PUT"):
                await WriteJsonAsync(context, 200, api.UpdateScale(type, ns!, name, await ReadJsonAsync(request).ConfigureAwait(false), dryRun)).ConfigureAwait(false);
                return;
            case ("scale", "PATCH"):
                {
                    var scalePatch = await JsonNode.ParseAsync(request.Body).ConfigureAwait(false) ?? throw ApiException.BadRequest("empty patch");
                    var scaleContentType = (request.ContentType ?? "").Split(';')[0].Trim();
                    await WriteJsonAsync(context, 200, api.PatchScale(type, ns!, name, scaleContentType, scalePatch, dryRun)).ConfigureAwait(false);
                    return;
                }
            case ("binding", "POST"):
                var binding = await ReadJsonAsync(request).ConfigureAwait(false);
                api.Bind(ns!, name, binding["target"]?["name"]?.GetValue<string>() ?? throw ApiException.BadRequest("binding target name is required"), binding["metadata"]?["uid"]?.GetValue<string>());
                await WriteJsonAsync(context, 201, Success(null)).ConfigureAwait(false);
                return;
            case ("log", "GET"):
                await ProxyLogAsync(context, ns!, name).ConfigureAwait(false);
                return;
            case ("token", "POST"):
                await TokenRequestAsync(context, ns!, name).ConfigureAwait(false);
                return;
            default:
                throw new ApiException(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        }
    }

    private async Task ListAsync(HttpContext context, ResourceType type, string? ns)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], type);
        var (items, resourceVersion) = api.Store.List(type, ns);
        var matching = items.Where(o => labels.Matches(o) && fields.Matches(o));
        var continueFrom = DecodeContinue(query["continue"]);
        if (continueFrom is not null)
        {
            matching = matching.Where(o => string.CompareOrdinal(Key(o), continueFrom) > 0);
        }
        var list = matching.ToList();
        string? continueToken = null;
        long? remaining = null;
        if (long.TryParse(query["limit"], out var limit) && limit > 0 && list.Count > limit)
        {
            remaining = list.Count - limit;
            list = list.Take((int)limit).ToList();
            continueToken = Convert.ToBase64String(Encoding.UTF8.GetBytes(Key(list[^1])));
        }
        var rv = resourceVersion.ToString(CultureInfo.InvariantCulture);
        if (WantsTable(context.Request))
        {
            await WriteJsonAsync(context, 200, Tables.Build(type, list, rv, api.Time.GetUtcNow())).ConfigureAwait(false);
            return;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("kind", type.ListKind);
        writer.WriteString("apiVersion", type.ApiVersion);
        writer.WriteStartObject("metadata");
        writer.WriteString("resourceVersion", rv);
        if (continueToken is not null)
        {
            writer.WriteString("continue", continueToken);
            writer.WriteNumber("remainingItemCount", remaining!.Value);
        }
        writer.WriteEndObject();
        writer.WriteStartArray("items");
        foreach (var item in list)
        {
            item.WriteTo(writer);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static string Key(JsonObject obj) => ObjectStore.ObjectKey(obj["metadata"]?["namespace"]?.GetValue<string>(), obj["metadata"]!["name"]!.GetValue<string>());

    private static string? DecodeContinue(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw ApiException.BadRequest("continue key is not valid: illegal base64 data");
        }
    }

    private async Task WatchAsync(HttpContext context, ResourceType type, string? ns, string? name = null)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], type);
        Func<JsonObject, bool> filter = name is null
            ? o => labels.Matches(o) && fields.Matches(o)
            : o => o["metadata"]?["name"]?.GetValue<string>() == name && labels.Matches(o) && fields.Matches(o);
        var rvText = query["resourceVersion"].ToString();
        long? from = string.IsNullOrEmpty(rvText) || rvText == "0" ? null : long.TryParse(rvText, out var parsed) ? parsed : throw ApiException.BadRequest($"invalid resource version: {rvText}");
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var table = WantsTable(context.Request);
        var timeout = long.TryParse(query["timeoutSeconds"], out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        ObjectStore.Watcher watcher;
        try
        {
            watcher = api.Store.Watch(type, ns, filter, from);
        }
        catch (ApiException gone) when (gone.Code == 410)
        {
            // The real watch cache answers 200 and a single ERROR event carrying the 410 Status.
            await WriteWatchEventAsync(context, "ERROR", gone.ToStatus()).ConfigureAwait(false);
            return;
        }
        using var _ = watcher;
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeoutSource.CancelAfter(timeout);
        var token = timeoutSource.Token;
        await context.Response.StartAsync(token).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(token).ConfigureAwait(false);
        var lastVersion = from ?? 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(token);
                tick.CancelAfter(BookmarkInterval);
                try
                {
                    if (!await watcher.Events.WaitToReadAsync(tick.Token).ConfigureAwait(false))
                    {
                        return;
                    }
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    if (bookmarks)
                    {
                        var current = Math.Max(lastVersion, api.Store.CurrentResourceVersion);
                        var bookmark = new JsonObject
                        {
                            ["kind"] = type.Kind,
                            ["apiVersion"] = type.ApiVersion,
                            ["metadata"] = new JsonObject { ["resourceVersion"] = current.ToString(CultureInfo.InvariantCulture) },
                        };
                        await WriteWatchEventAsync(context, "BOOKMARK", bookmark).ConfigureAwait(false);
                    }
                    continue;
                }
                while (watcher.Events.TryRead(out var e))
                {
                    lastVersion = e.ResourceVersion;
                    // Each event's object already carries the event's resourceVersion (ObjectStore.Mutate sets it).
                    await WriteWatchEventAsync(context, e.Type, table ? Tables.Build(type, [e.Object], e.ResourceVersion.ToString(CultureInfo.InvariantCulture), api.Time.GetUtcNow()) : e.Object).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }

    private static async Task WriteWatchEventAsync(HttpContext context, string type, JsonObject obj)
    {
        var buffer = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WritePropertyName("object");
            obj.WriteTo(writer);
            writer.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceType type, string? ns, bool dryRun)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], type);
        var deleteOptions = await ReadDeleteOptionsAsync(context.Request).ConfigureAwait(false);
        var (items, rv) = api.Store.List(type, ns);
        var results = new List<JsonObject>();
        foreach (var item in items.Where(o => labels.Matches(o) && fields.Matches(o)))
        {
            try
            {
                results.Add(api.Delete(type, item["metadata"]?["namespace"]?.GetValue<string>(), item["metadata"]!["name"]!.GetValue<string>(), deleteOptions, dryRun).Object);
            }
            catch (ApiException e) when (e.Code == 404)
            {
            }
        }
        var list = new JsonObject
        {
            ["kind"] = type.ListKind,
            ["apiVersion"] = type.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
            ["items"] = new JsonArray(results.Select(r => (JsonNode)r.DeepClone()).ToArray()),
        };
        await WriteJsonAsync(context, 200, list).ConfigureAwait(false);
    }

    private async Task WriteDeleteResultAsync(HttpContext context, ResourceType type, DeleteResult result)
    {
        if (!result.Deleted)
        {
            // Deletion pending on finalizers or a grace period: 202 with the object (endpoints/handlers/delete.go).
            await WriteObjectAsync(context, 202, type, result.Object).ConfigureAwait(false);
            return;
        }
        if (type == ResourceTypes.Pod || type == ResourceTypes.Namespace)
        {
            // Pods and namespaces return the deleted object (ReturnDeletedObject in their registries).
            await WriteObjectAsync(context, 200, type, result.Object).ConfigureAwait(false);
            return;
        }
        var metadata = result.Object["metadata"]!;
        await WriteJsonAsync(context, 200, Success(new JsonObject
        {
            ["name"] = metadata["name"]?.DeepClone(),
            ["group"] = type.Group.Length == 0 ? null : type.Group,
            ["kind"] = type.Plural,
            ["uid"] = metadata["uid"]?.DeepClone(),
        })).ConfigureAwait(false);
    }

    private static JsonObject Success(JsonObject? details)
    {
        var status = new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success" };
        if (details is not null)
        {
            foreach (var key in details.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList())
            {
                details.Remove(key);
            }
            status["details"] = details;
        }
        return status;
    }

    private async Task ProxyLogAsync(HttpContext context, string ns, string name)
    {
        var pod = api.Get(ResourceTypes.Pod, ns, name);
        var query = context.Request.Query;
        var containers = (pod["spec"]?["containers"] as JsonArray ?? []).Select(c => c?["name"]?.GetValue<string>() ?? "").ToList();
        var all = containers.Concat((pod["spec"]?["initContainers"] as JsonArray ?? []).Select(c => c?["name"]?.GetValue<string>() ?? "")).Concat((pod["spec"]?["ephemeralContainers"] as JsonArray ?? []).Select(c => c?["name"]?.GetValue<string>() ?? "")).ToList();
        var container = query["container"].ToString();
        if (string.IsNullOrEmpty(container))
        {
            container = pod["metadata"]?["annotations"]?["kubectl.kubernetes.io/default-container"]?.GetValue<string>() ?? "";
            if (string.IsNullOrEmpty(container))
            {
                if (containers.Count != 1)
                {
                    throw ApiException.BadRequest($"a container name must be specified for pod {name}, choose one of: [{string.Join(" ", containers)}]");
                }
                container = containers[0];
            }
        }
        if (!all.Contains(container))
        {
            throw ApiException.BadRequest($"container {container} is not valid for pod {name}");
        }
        var nodeName = pod["spec"]?["nodeName"]?.GetValue<string>();
        context.Response.ContentType = "text/plain";
        if (string.IsNullOrEmpty(nodeName))
        {
            // The real server calls no kubelet for an unscheduled pod and answers an empty body.
            context.Response.StatusCode = 200;
            return;
        }
        var node = api.Get(ResourceTypes.Node, null, nodeName);
        var address = (node["status"]?["addresses"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(a => a["type"]?.GetValue<string>() == "InternalIP")?["address"]?.GetValue<string>() ?? "127.0.0.1";
        var port = node["status"]?["daemonEndpoints"]?["kubeletEndpoint"]?["Port"].AsInt() ?? 10250;
        var forwarded = string.Join('&', LogQueryParameters
            .Where(k => query.ContainsKey(k))
            .Select(k => $"{k}={Uri.EscapeDataString(query[k].ToString())}"));
        var url = $"https://{address}:{port}/containerLogs/{ns}/{name}/{container}{(forwarded.Length > 0 ? "?" + forwarded : "")}";
        HttpResponseMessage response;
        try
        {
            response = await kubeletClient.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ApiException(500, "InternalError", $"Get \"{url}\": {e.Message}");
        }
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(context.RequestAborted).ConfigureAwait(false);
                throw new ApiException((int)response.StatusCode, response.StatusCode == HttpStatusCode.NotFound ? "NotFound" : "BadRequest", text.Trim());
            }
            await using var stream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            }
        }
    }

    private async Task TokenRequestAsync(HttpContext context, string ns, string serviceAccount)
    {
        api.Get(ResourceTypes.ServiceAccount, ns, serviceAccount);
        var body = await ReadJsonAsync(context.Request).ConfigureAwait(false);
        var seconds = body["spec"]?["expirationSeconds"].AsLong() ?? 3600;
        var lifetime = TimeSpan.FromSeconds(Math.Max(600, seconds));
        var token = options.IssueServiceAccountToken(ns, serviceAccount, lifetime);
        var response = new JsonObject
        {
            ["kind"] = "TokenRequest",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["name"] = serviceAccount, ["namespace"] = ns, ["creationTimestamp"] = null },
            ["spec"] = new JsonObject
            {
                ["audiences"] = body["spec"]?["audiences"]?.DeepClone() ?? new JsonArray("https://kubernetes.default.svc.cluster.local"),
                ["expirationSeconds"] = (long)lifetime.TotalSeconds,
                ["boundObjectRef"] = body["spec"]?["boundObjectRef"]?.DeepClone(),
            },
            ["status"] = new JsonObject
            {
                ["token"] = token,
                ["expirationTimestamp"] = Timestamps.Format(api.Time.GetUtcNow().Add(lifetime)),
            },
        };
        await WriteJsonAsync(context, 201, response).ConfigureAwait(false);
    }

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) => value.ToString() is "true" or "1";

    private static bool WantsTable(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        return accept.Contains("as=Table", StringComparison.Ordinal);
    }

    private static async Task<JsonObject> ReadJsonAsync(HttpRequest request)
    {
        var contentType = (request.ContentType ?? "application/json").Split(';')[0].Trim();
        if (contentType == "application/vnd.kubernetes.protobuf" && Protobuf.KubernetesProtobuf.Shared is { } protobuf)
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer).ConfigureAwait(false);
            return protobuf.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        if (contentType is not ("application/json" or "" or "*/*"))
        {
            throw new ApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml");
        }
        return await JsonNode.ParseAsync(request.Body).ConfigureAwait(false) as JsonObject ?? throw ApiException.BadRequest("the body of the request must be a JSON object");
    }

    private static async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpRequest request)
    {
        var query = request.Query;
        JsonObject? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var text = await new StreamReader(request.Body).ReadToEndAsync().ConfigureAwait(false);
            if (!string.IsNullOrWhiteSpace(text))
            {
                body = JsonNode.Parse(text) as JsonObject;
            }
        }
        long? grace = body?["gracePeriodSeconds"].AsLong();
        if (grace is null && long.TryParse(query["gracePeriodSeconds"], out var queryGrace))
        {
            grace = queryGrace;
        }
        var policy = body?["propagationPolicy"]?.GetValue<string>() ?? NullIfEmpty(query["propagationPolicy"]);
        bool? orphan = body?["orphanDependents"]?.GetValue<bool>() ?? (bool.TryParse(query["orphanDependents"], out var o) ? o : null);
        return new DeleteOptions(policy, grace, body?["preconditions"]?["uid"]?.GetValue<string>(), body?["preconditions"]?["resourceVersion"]?.GetValue<string>(), orphan);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private Task WriteObjectAsync(HttpContext context, int code, ResourceType type, JsonObject obj)
    {
        if (WantsTable(context.Request) && context.Request.Method == "GET")
        {
            return WriteJsonAsync(context, code, Tables.Build(type, [obj], obj["metadata"]?["resourceVersion"]?.GetValue<string>() ?? "", api.Time.GetUtcNow()));
        }
        return WriteJsonAsync(context, code, obj);
    }

    private static async Task WriteJsonAsync(HttpContext context, int code, JsonNode body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        body.WriteTo(writer);
    }

    private static Task WriteTextAsync(HttpContext context, int code, string text)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text);
    }

    private static Task WriteStatusAsync(HttpContext context, ApiException e)
    {
        if (e.RetryAfterSeconds is { } retry)
        {
            context.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
        }
        return WriteJsonAsync(context, e.Code, e.ToStatus());
    }
}
