using System.Net;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>422 Invalid answers: reason Invalid, details.kind = the Kind, details.causes with field and reason.</summary>
public sealed class ValidationContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    private static V1StatusCause SingleCause(V1Status status, string field)
    {
        Assert.NotNull(status.Details?.Causes);
        var cause = status.Details.Causes.FirstOrDefault(c => c.Field == field);
        if (cause is null)
        {
            Assert.Fail($"no cause for field {field} in {ApiAssert.Describe(status)}");
        }
        return cause;
    }

    [Fact]
    public async Task ConfigMap_with_invalid_key_returns_422_Invalid_with_cause()
    {
        await using var ns = await cluster.CreateNamespaceAsync("invalid-key", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.UnprocessableEntity,
            () => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("keys", new Dictionary<string, string> { ["bad key!"] = "v" }), ns, cancellationToken: Ct));

        Assert.Equal("Invalid", status.Reason);
        Assert.Equal("keys", status.Details.Name);
        Assert.Equal("ConfigMap", status.Details.Kind);
        var cause = SingleCause(status, "data[bad key!]");
        Assert.Equal("FieldValueInvalid", cause.Reason);
        const string Explanation = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
        Assert.Equal($"Invalid value: \"bad key!\": {Explanation}", cause.Message);
        Assert.Equal($"ConfigMap \"keys\" is invalid: data[bad key!]: Invalid value: \"bad key!\": {Explanation}", status.Message);
    }

    [Fact]
    public async Task Invalid_name_returns_422_with_metadata_name_cause()
    {
        await using var ns = await cluster.CreateNamespaceAsync("invalid-name", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.UnprocessableEntity,
            () => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("Not_A_DNS_Name"), ns, cancellationToken: Ct));

        Assert.Equal("Invalid", status.Reason);
        Assert.Equal("Not_A_DNS_Name", status.Details.Name);
        Assert.Equal("ConfigMap", status.Details.Kind);
        var cause = SingleCause(status, "metadata.name");
        Assert.Equal("FieldValueInvalid", cause.Reason);
        const string Explanation = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
        Assert.Equal($"Invalid value: \"Not_A_DNS_Name\": {Explanation}", cause.Message);
        Assert.Equal($"ConfigMap \"Not_A_DNS_Name\" is invalid: metadata.name: Invalid value: \"Not_A_DNS_Name\": {Explanation}", status.Message);
    }

    [Fact]
    public async Task ConfigMap_over_1MiB_returns_422_TooLong()
    {
        await using var ns = await cluster.CreateNamespaceAsync("invalid-size", Ct);
        var big = new string('x', (1024 * 1024) + 1);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.UnprocessableEntity,
            () => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("huge", new Dictionary<string, string> { ["blob"] = big }), ns, cancellationToken: Ct));

        Assert.Equal("Invalid", status.Reason);
        Assert.Equal("huge", status.Details.Name);
        Assert.Equal("ConfigMap", status.Details.Kind);
        var cause = Assert.Single(status.Details.Causes);
        Assert.Equal("FieldValueTooLong", cause.Reason);
        Assert.Equal("[]", cause.Field);
        Assert.Equal("Too long: may not be more than 1048576 bytes", cause.Message);
        Assert.Equal("ConfigMap \"huge\" is invalid: []: Too long: may not be more than 1048576 bytes", status.Message);
        Assert.Null(await ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("huge", ns, cancellationToken: Ct)));
    }

    [Fact]
    public async Task ConfigMap_of_exactly_1MiB_is_accepted()
    {
        await using var ns = await cluster.CreateNamespaceAsync("valid-size", Ct);
        var blob = new string('x', (1024 * 1024) - "blob".Length);

        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("full", new Dictionary<string, string> { ["blob"] = blob }), ns, cancellationToken: Ct);

        Assert.Equal(blob.Length, created.Data["blob"].Length);
    }

    [Fact]
    public async Task Job_with_restartPolicy_Always_returns_422_Required_with_valid_values()
    {
        await using var ns = await cluster.CreateNamespaceAsync("invalid-job-rp", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.UnprocessableEntity,
            () => Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("forever", "true", s => s.Template.Spec.RestartPolicy = "Always"), ns, cancellationToken: Ct));

        Assert.Equal("Invalid", status.Reason);
        Assert.Equal("forever", status.Details.Name);
        Assert.Equal("Job", status.Details.Kind);
        Assert.Equal("batch", status.Details.Group);
        var cause = SingleCause(status, "spec.template.spec.restartPolicy");
        Assert.Equal("FieldValueRequired", cause.Reason);
        Assert.Equal("Required value: valid values: \"OnFailure\", \"Never\"", cause.Message);
        Assert.Equal("Job.batch \"forever\" is invalid: spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"", status.Message);
    }

    [Fact]
    public async Task Job_without_containers_returns_422_Required()
    {
        await using var ns = await cluster.CreateNamespaceAsync("invalid-job-empty", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.UnprocessableEntity,
            () => Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("empty", "true", s => s.Template.Spec.Containers = []), ns, cancellationToken: Ct));

        Assert.Equal("Invalid", status.Reason);
        Assert.Equal("Job", status.Details.Kind);
        var cause = SingleCause(status, "spec.template.spec.containers");
        Assert.Equal("FieldValueRequired", cause.Reason);
        Assert.Equal("Required value", cause.Message);
        Assert.Equal("Job.batch \"empty\" is invalid: spec.template.spec.containers: Required value", status.Message);
    }

    [Fact]
    public async Task Job_template_change_returns_422_immutable_field()
    {
        await using var ns = await cluster.CreateNamespaceAsync("invalid-job-immut", Ct);
        await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("fixed", "true", s => s.Suspend = false), ns, cancellationToken: Ct);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.UnprocessableEntity,
            () => ApiAssert.RetryOnConflictAsync(async () =>
            {
                var job = await Client.BatchV1.ReadNamespacedJobAsync("fixed", ns, cancellationToken: Ct);
                job.Spec.Template.Spec.Containers[0].Command = ["sh", "-c", "false"];
                return await Client.BatchV1.ReplaceNamespacedJobAsync(job, "fixed", ns, cancellationToken: Ct);
            }));

        Assert.Equal("Invalid", status.Reason);
        var cause = SingleCause(status, "spec.template");
        Assert.Equal("FieldValueInvalid", cause.Reason);
        Assert.Contains("field is immutable", cause.Message, StringComparison.Ordinal);
    }
}
