using System.Net;
using k8s;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>Who may talk to the API server: a bearer token the server did not issue is refused (authn/request/bearertoken).</summary>
public sealed class AuthenticationContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Unknown_bearer_token_returns_401_Unauthorized_status()
    {
        var trusted = cluster.ClientConfiguration;
        using var stranger = new Kubernetes(new KubernetesClientConfiguration
        {
            Host = trusted.Host,
            SslCaCerts = trusted.SslCaCerts,
            SkipTlsVerify = trusted.SkipTlsVerify,
            AccessToken = "jobkit-test.not-a-token-this-server-issued",
        });

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.Unauthorized, () => stranger.CoreV1.ListNamespaceAsync(cancellationToken: Ct));

        Assert.Equal("Unauthorized", status.Reason);
        Assert.Equal("Unauthorized", status.Message);
    }
}
