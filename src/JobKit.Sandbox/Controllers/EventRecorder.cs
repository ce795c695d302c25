using System.Globalization;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// client-go's record.EventRecorder as kube-controller-manager uses it: core/v1 Events named
/// <c>&lt;object&gt;.&lt;unix nanos in hex&gt;</c> in the object's namespace, with <c>source.component</c> and
/// <c>reportingComponent</c> set to the controller's name, <c>reportingInstance</c> empty, <c>count</c>,
/// <c>firstTimestamp</c>/<c>lastTimestamp</c>. Like the EventCorrelator, a repeat of the same
/// (object, type, reason, message) patches the existing Event's count and lastTimestamp instead of creating
/// another one. Writes happen in the background so reconciles never wait on them.
/// </summary>
internal sealed class EventRecorder
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";

    private readonly IKubernetes client;
    private readonly string component;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Channel<Corev1Event> pending = Channel.CreateUnbounded<Corev1Event>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, (string Name, string Namespace, int Count, DateTime First)> seen = [];

    public EventRecorder(IKubernetes client, string component, TimeProvider time, ILogger logger)
    {
        this.client = client;
        this.component = component;
        this.time = time;
        this.logger = logger;
    }

    public void Event(IKubernetesObject<V1ObjectMeta> obj, string type, string reason, string message)
    {
        var now = Truncate(time.GetUtcNow().UtcDateTime);
        // Items of a LIST carry no kind/apiVersion: name them from the type, as client-go's reference.GetReference does from the scheme.
        var (apiVersion, kind) = obj switch
        {
            V1Job => ("batch/v1", "Job"),
            V1CronJob => ("batch/v1", "CronJob"),
            V1Pod => ("v1", "Pod"),
            V1Deployment => ("apps/v1", "Deployment"),
            V1ReplicaSet => ("apps/v1", "ReplicaSet"),
            V1StatefulSet => ("apps/v1", "StatefulSet"),
            V1DaemonSet => ("apps/v1", "DaemonSet"),
            _ => (obj.ApiVersion, obj.Kind),
        };
        var involved = new V1ObjectReference
        {
            ApiVersion = apiVersion,
            Kind = kind,
            Name = obj.Metadata.Name,
            NamespaceProperty = obj.Metadata.NamespaceProperty,
            Uid = obj.Metadata.Uid,
            ResourceVersion = obj.Metadata.ResourceVersion,
        };
        var ns = string.IsNullOrEmpty(involved.NamespaceProperty) ? "default" : involved.NamespaceProperty;
        var ev = new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta
            {
                Name = string.Create(CultureInfo.InvariantCulture, $"{involved.Name}.{(time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000) + Random.Shared.Next(1_000_000):x}"),
                NamespaceProperty = ns,
            },
            InvolvedObject = involved,
            Reason = reason,
            Message = message,
            Type = type,
            Count = 1,
            FirstTimestamp = now,
            LastTimestamp = now,
            Source = new V1EventSource { Component = component },
            ReportingComponent = component,
            ReportingInstance = "",
        };
        pending.Writer.TryWrite(ev);
    }

    public void Eventf(IKubernetesObject<V1ObjectMeta> obj, string type, string reason, string format, params object?[] args) =>
        Event(obj, type, reason, string.Format(CultureInfo.InvariantCulture, format, args));

    internal static DateTime Truncate(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var ev in pending.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await WriteAsync(ev, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WriteAsync(Corev1Event ev, CancellationToken cancellationToken)
    {
        var o = ev.InvolvedObject;
        var key = string.Join('\u0000', component, o.Kind, o.NamespaceProperty, o.Name, o.Uid, ev.Type, ev.Reason, ev.Message);
        try
        {
            if (seen.TryGetValue(key, out var prior))
            {
                var count = prior.Count + 1;
                var patch = new V1Patch(
                    new Dictionary<string, object?> { ["count"] = count, ["lastTimestamp"] = ev.LastTimestamp, ["message"] = ev.Message },
                    V1Patch.PatchType.StrategicMergePatch);
                try
                {
                    await client.CoreV1.PatchNamespacedEventAsync(patch, prior.Name, prior.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                    seen[key] = (prior.Name, prior.Namespace, count, prior.First);
                    return;
                }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    // Expired or deleted: create a new one carrying the count, as the correlator does.
                    ev.Count = count;
                    ev.FirstTimestamp = prior.First;
                }
            }
            var created = await client.CoreV1.CreateNamespacedEventAsync(ev, ev.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            seen[key] = (created.Metadata.Name, created.Metadata.NamespaceProperty, ev.Count ?? 1, ev.FirstTimestamp ?? ev.LastTimestamp!.Value);
            if (seen.Count > 4096)
            {
                seen.Clear();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not write event {Reason} for {Kind} {Namespace}/{Name}", ev.Reason, o.Kind, o.NamespaceProperty, o.Name);
        }
    }
}
