using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace JobKit.Testing;

/// <summary>A namespace for one test; disposing it deletes the namespace (and so everything in it) without waiting.</summary>
public sealed class TestNamespace : IAsyncDisposable
{
    private readonly IKubernetes client;

    internal TestNamespace(IKubernetes client, string name)
    {
        this.client = client;
        Name = name;
    }

    public string Name { get; }

    public static implicit operator string(TestNamespace ns) => ns.Name;

    public override string ToString() => Name;

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.CoreV1.DeleteNamespaceAsync(Name, new V1DeleteOptions { PropagationPolicy = "Background" }, cancellationToken: cts.Token);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // already gone or already terminating
        }
    }
}
