using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using JobKit.Sandbox.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Kubelet;

/// <summary>
/// The kubelet's HTTPS endpoint, reduced to <c>GET /containerLogs/{ns}/{pod}/{container}</c> with the query
/// parameters the API server forwards from <c>kubectl logs</c>. Only clients with a certificate issued by one of
/// the configured CAs (the API server's kubelet-client certificate) are served.
/// </summary>
internal sealed class LogEndpoint : IAsyncDisposable
{
    private static readonly TimeSpan FollowPollInterval = TimeSpan.FromMilliseconds(200);

    private readonly WebApplication app;
    private readonly X509Certificate2Collection clientAuthorities;
    private readonly Func<string, string, string, (IReadOnlyList<ContainerLogFile> Logs, k8s.Models.V1ContainerState State)?> findLogs;
    private readonly ILogger logger;

    private LogEndpoint(
        WebApplication app,
        X509Certificate2Collection clientAuthorities,
        Func<string, string, string, (IReadOnlyList<ContainerLogFile>, k8s.Models.V1ContainerState)?> findLogs,
        ILogger logger)
    {
        this.app = app;
        this.clientAuthorities = clientAuthorities;
        this.findLogs = findLogs;
        this.logger = logger;
    }

    public int Port { get; private set; }

    public static async Task<LogEndpoint> StartAsync(
        X509Certificate2 servingCertificate,
        X509Certificate2Collection clientAuthorities,
        int port,
        Func<string, string, string, (IReadOnlyList<ContainerLogFile>, k8s.Models.V1ContainerState)?> findLogs,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<ILoggerFactory>(new QuietAspNetCoreLoggerFactory(loggerFactory));
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        // The host must not react to Ctrl+C or SIGTERM itself (the default ConsoleLifetime does): the kubelet's owner decides.
        builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = servingCertificate;
                // Accept any certificate in the handshake and decide per request, so that clients get 401/403
                // instead of a TLS failure.
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            }));
        });
        var app = builder.Build();
        var endpoint = new LogEndpoint(app, clientAuthorities, findLogs, loggerFactory.CreateLogger<LogEndpoint>());
        app.Run(endpoint.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint.Port = new Uri(address).Port;
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var certificate = await context.Connection.GetClientCertificateAsync(context.RequestAborted).ConfigureAwait(false);
        if (certificate is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized").ConfigureAwait(false);
            return;
        }
        if (!Pki.IsIssuedBy(certificate, clientAuthorities))
        {
            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, $"Forbidden (user={certificate.GetNameInfo(X509NameType.SimpleName, false)}, verb=get, resource=nodes, subresource=proxy)").ConfigureAwait(false);
            return;
        }
        var segments = context.Request.Path.Value?.Trim('/').Split('/') ?? [];
        if (!HttpMethods.IsGet(context.Request.Method) || segments.Length != 4 || segments[0] != "containerLogs")
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "404 page not found").ConfigureAwait(false);
            return;
        }
        var (ns, podName, containerName) = (Uri.UnescapeDataString(segments[1]), Uri.UnescapeDataString(segments[2]), Uri.UnescapeDataString(segments[3]));
        LogQuery query;
        try
        {
            query = LogQuery.Parse(context.Request.Query);
        }
        catch (FormatException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
            return;
        }
        var found = findLogs(ns, podName, containerName);
        if (found is not { } logs)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"pod \"{podName}\" in namespace \"{ns}\" or its container \"{containerName}\" not found on this node").ConfigureAwait(false);
            return;
        }
        ContainerLogFile file;
        if (query.Previous)
        {
            if (logs.Logs.Count < 2)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"previous terminated container \"{containerName}\" in pod \"{podName}\" not found").ConfigureAwait(false);
                return;
            }
            file = logs.Logs[^2];
        }
        else
        {
            if (logs.Logs.Count == 0)
            {
                var reason = logs.State.Waiting?.Reason ?? "ContainerCreating";
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"container \"{containerName}\" in pod \"{podName}\" is waiting to start: {reason}").ConfigureAwait(false);
                return;
            }
            file = logs.Logs[^1];
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain";
        await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        try
        {
            await StreamAsync(context.Response.Body, file, query, follow: query.Follow && !query.Previous, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (IOException e)
        {
            logger.LogDebug("log stream ended: {Error}", e.Message);
        }
    }

    private static async Task StreamAsync(Stream body, ContainerLogFile file, LogQuery query, bool follow, CancellationToken cancellationToken)
    {
        var reader = new LogFileReader(file.Path);
        var budget = query.LimitBytes ?? long.MaxValue;
        var records = reader.ReadNew().Where(query.Includes).ToList();
        if (query.TailLines is { } tail)
        {
            records = records.Skip(Math.Max(0, records.Count - (int)Math.Min(tail, int.MaxValue))).ToList();
        }
        budget = await WriteAsync(body, records, query.Timestamps, budget, cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
        while (follow && budget > 0)
        {
            var finished = file.Finished.IsCompleted;
            var more = reader.ReadNew().Where(query.Includes).ToList();
            budget = await WriteAsync(body, more, query.Timestamps, budget, cancellationToken).ConfigureAwait(false);
            await body.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (finished && more.Count == 0)
            {
                // The process has exited and everything it wrote has been sent.
                return;
            }
            await Task.WhenAny(file.Finished, Task.Delay(FollowPollInterval, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private static async Task<long> WriteAsync(Stream body, List<LogRecord> records, bool timestamps, long budget, CancellationToken cancellationToken)
    {
        foreach (var record in records)
        {
            if (budget <= 0)
            {
                break;
            }
            var output = new MemoryStream();
            if (timestamps)
            {
                output.Write(Encoding.ASCII.GetBytes(record.Timestamp + " "));
            }
            output.Write(record.Content.Span);
            if (!record.Partial)
            {
                output.WriteByte((byte)'\n');
            }
            var bytes = output.GetBuffer().AsMemory(0, (int)Math.Min(output.Length, budget));
            await body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            budget -= bytes.Length;
        }
        return budget;
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }

    /// <summary>The query of <c>kubectl logs</c>, as the API server forwards it (v1.PodLogOptions).</summary>
    private sealed record LogQuery(bool Follow, bool Previous, bool Timestamps, long? TailLines, long? LimitBytes, DateTime? Since)
    {
        public static LogQuery Parse(IQueryCollection query)
        {
            DateTime? since = null;
            if (Integer(query, "sinceSeconds") is { } seconds)
            {
                since = DateTime.UtcNow.AddSeconds(-seconds);
            }
            if (query.TryGetValue("sinceTime", out var sinceTime) && !string.IsNullOrEmpty(sinceTime))
            {
                since = ContainerLogFile.TryParseTimestamp(sinceTime.ToString(), out var parsed)
                    ? parsed
                    : throw new FormatException($"invalid sinceTime: {sinceTime}");
            }
            return new LogQuery(
                Boolean(query, "follow"),
                Boolean(query, "previous"),
                Boolean(query, "timestamps"),
                Integer(query, "tailLines"),
                Integer(query, "limitBytes"),
                since);
        }

        public bool Includes(LogRecord record) => Since is not { } since || record.Time >= since;

        /// <summary>Go's strconv.ParseBool, which the kubelet uses.</summary>
        private static bool Boolean(IQueryCollection query, string name)
        {
            if (!query.TryGetValue(name, out var values) || string.IsNullOrEmpty(values))
            {
                return false;
            }
            return values.ToString() switch
            {
                "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
                "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
                var other => throw new FormatException($"invalid {name}: {other}"),
            };
        }

        private static long? Integer(IQueryCollection query, string name)
        {
            if (!query.TryGetValue(name, out var values) || string.IsNullOrEmpty(values))
            {
                return null;
            }
            return long.TryParse(values.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value
                : throw new FormatException($"invalid {name}: {values}");
        }
    }
}

/// <summary>
/// Passes ASP.NET Core's own categories on only from Warning up: its per-request Information logs would drown
/// the kubelet's in the owner's log. Disposing is the owner's business, so Dispose does nothing.
/// </summary>
internal sealed class QuietAspNetCoreLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return categoryName.StartsWith("Microsoft.", StringComparison.Ordinal) ? new WarningsOnly(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
    }

    private sealed class WarningsOnly(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

/// <summary>A host lifetime that neither waits for nor listens to anything.</summary>
internal sealed class PassiveLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Reads the complete records appended to a log file since the last call.</summary>
internal sealed class LogFileReader(string path)
{
    private long offset;

    public List<LogRecord> ReadNew()
    {
        var records = new List<LogRecord>();
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length <= offset)
            {
                return records;
            }
            stream.Position = offset;
            bytes = new byte[stream.Length - offset];
            stream.ReadExactly(bytes);
        }
        catch (FileNotFoundException)
        {
            return records;
        }
        catch (DirectoryNotFoundException)
        {
            return records;
        }
        var memory = bytes.AsMemory();
        var consumed = 0;
        while (true)
        {
            var newline = memory.Span[consumed..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                // An unfinished record: read it again next time.
                break;
            }
            if (LogRecord.Parse(memory.Slice(consumed, newline)) is { } record)
            {
                records.Add(record);
            }
            consumed += newline + 1;
        }
        offset += consumed;
        return records;
    }
}
