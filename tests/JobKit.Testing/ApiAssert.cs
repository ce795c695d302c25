using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace JobKit.Testing;

/// <summary>Assertions on API errors: the HTTP status code and the metav1.Status body the server sent.</summary>
public static class ApiAssert
{
    /// <summary>Asserts <paramref name="call"/> fails with <paramref name="code"/> and a Status body; returns that body.</summary>
    public static async Task<V1Status> FailsWithStatusAsync(HttpStatusCode code, Func<Task> call)
    {
        var exception = await Assert.ThrowsAsync<HttpOperationException>(call);
        Assert.True(
            exception.Response.StatusCode == code,
            $"expected HTTP {(int)code} {code}, got {(int)exception.Response.StatusCode} {exception.Response.StatusCode}: {exception.Response.Content}");
        var content = exception.Response.Content;
        Assert.False(string.IsNullOrEmpty(content), "the error response has no body");
        var status = KubernetesJson.Deserialize<V1Status>(content);
        Assert.Equal("Status", status.Kind);
        Assert.Equal("v1", status.ApiVersion);
        Assert.Equal("Failure", status.Status);
        Assert.Equal((int)code, status.Code);
        return status;
    }

    /// <summary>A Status as text (KubernetesClient cannot serialize V1Status).</summary>
    public static string Describe(V1Status status)
    {
        var causes = status.Details?.Causes?.Select(c => $"{{reason={c.Reason}, field={c.Field}, message={c.Message}}}") ?? [];
        return $"Status{{code={status.Code}, reason={status.Reason}, message={status.Message}, details={{name={status.Details?.Name}, group={status.Details?.Group}, kind={status.Details?.Kind}, causes=[{string.Join(", ", causes)}]}}}}";
    }

    /// <summary>
    /// What a DELETE answered: a Status (deleted at once) or the object itself (still there: finalizers or graceful
    /// deletion). KubernetesClient types every DELETE answer as V1Status and keeps objects it cannot read as one.
    /// </summary>
    public static (string? Kind, V1ObjectMeta? Metadata) DeleteAnswer(V1Status answer)
    {
        if (answer.HasObject)
        {
            // any type with kind and metadata reads the header; unknown fields are skipped
            var partial = answer.ObjectView<V1ConfigMap>();
            return (partial.Kind, partial.Metadata);
        }
        return (answer.Kind, null);
    }

    /// <summary>Retries a read-modify-write on 409 Conflict (a controller may write the same object meanwhile).</summary>
    public static async Task<T> RetryOnConflictAsync<T>(Func<Task<T>> attempt, int attempts = 10)
    {
        for (var i = 1; ; i++)
        {
            try
            {
                return await attempt();
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && i < attempts)
            {
            }
        }
    }
}
