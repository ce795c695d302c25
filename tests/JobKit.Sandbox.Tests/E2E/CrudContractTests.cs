using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>Create/read/update/delete of configmaps, secrets and jobs, and the errors the API answers with.</summary>
public sealed class CrudContractTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    [Fact]
    public async Task ConfigMap_create_get_list_update_delete_round_trip()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-cm", Ct);

        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings", new Dictionary<string, string> { ["a"] = "1" }), ns, cancellationToken: Ct);
        Assert.Equal("settings", created.Metadata.Name);
        Assert.Equal(ns.Name, created.Metadata.NamespaceProperty);
        Assert.Equal("1", created.Data["a"]);

        var read = await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", ns, cancellationToken: Ct);
        Assert.Equal(created.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Equal("ConfigMap", read.Kind);
        Assert.Equal("v1", read.ApiVersion);

        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(ns, cancellationToken: Ct);
        Assert.Contains(list.Items, c => c.Metadata.Name == "settings");
        Assert.False(string.IsNullOrEmpty(list.Metadata.ResourceVersion), "a list carries the resourceVersion it was read at");

        read.Data["a"] = "2";
        read.Data["b"] = "3";
        var updated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(read, "settings", ns, cancellationToken: Ct);
        Assert.Equal("2", updated.Data["a"]);
        Assert.Equal("3", updated.Data["b"]);
        Assert.Equal(created.Metadata.Uid, updated.Metadata.Uid);
        Assert.NotEqual(created.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("settings", ns, cancellationToken: Ct);
        Assert.Null(await ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("settings", ns, cancellationToken: Ct)));
        var after = await Client.CoreV1.ListNamespacedConfigMapAsync(ns, cancellationToken: Ct);
        Assert.DoesNotContain(after.Items, c => c.Metadata.Name == "settings");
    }

    [Fact]
    public async Task Secret_stringData_is_stored_as_data_and_type_defaults_to_Opaque()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-secret", Ct);

        var created = await Client.CoreV1.CreateNamespacedSecretAsync(
            new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = "creds" },
                StringData = new Dictionary<string, string> { ["user"] = "admin" },
                Data = new Dictionary<string, byte[]> { ["token"] = Encoding.UTF8.GetBytes("s3cr3t") },
            },
            ns,
            cancellationToken: Ct);
        Assert.Equal("Opaque", created.Type);
        Assert.Null(created.StringData);
        Assert.Equal("admin", Encoding.UTF8.GetString(created.Data["user"]));
        Assert.Equal("s3cr3t", Encoding.UTF8.GetString(created.Data["token"]));

        var read = await Client.CoreV1.ReadNamespacedSecretAsync("creds", ns, cancellationToken: Ct);
        Assert.Equal("admin", Encoding.UTF8.GetString(read.Data["user"]));
        read.Data["user"] = Encoding.UTF8.GetBytes("root");
        var updated = await Client.CoreV1.ReplaceNamespacedSecretAsync(read, "creds", ns, cancellationToken: Ct);
        Assert.Equal("root", Encoding.UTF8.GetString(updated.Data["user"]));

        await Client.CoreV1.DeleteNamespacedSecretAsync("creds", ns, cancellationToken: Ct);
        Assert.Null(await ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("creds", ns, cancellationToken: Ct)));
    }

    [Fact]
    public async Task Job_create_get_list_update_delete_round_trip()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-job", Ct);

        var created = await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("work", "echo hi", s => s.Suspend = true), ns, cancellationToken: Ct);
        Assert.Equal("work", created.Metadata.Name);
        Assert.Equal("batch/v1", created.ApiVersion);
        Assert.Equal("Job", created.Kind);

        var list = await Client.BatchV1.ListNamespacedJobAsync(ns, cancellationToken: Ct);
        Assert.Equal("work", Assert.Single(list.Items).Metadata.Name);

        var updated = await ApiAssert.RetryOnConflictAsync(async () =>
        {
            var job = await Client.BatchV1.ReadNamespacedJobAsync("work", ns, cancellationToken: Ct);
            job.Metadata.Labels = new Dictionary<string, string> { ["tier"] = "batch" };
            return await Client.BatchV1.ReplaceNamespacedJobAsync(job, "work", ns, cancellationToken: Ct);
        });
        Assert.Equal("batch", updated.Metadata.Labels["tier"]);

        await Client.BatchV1.DeleteNamespacedJobAsync("work", ns, propagationPolicy: "Background", cancellationToken: Ct);
        await cluster.WaitForAsync(
            () => ClusterFixture.TryReadAsync(() => Client.BatchV1.ReadNamespacedJobAsync("work", ns, cancellationToken: Ct)),
            job => job is null,
            TimeSpan.FromSeconds(30),
            "job work to be deleted",
            Ct);
    }

    [Fact]
    public async Task Create_returns_uid_creationTimestamp_and_resourceVersion()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-meta", Ct);
        var before = DateTime.UtcNow.AddMinutes(-5);

        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("meta"), ns, cancellationToken: Ct);

        Assert.True(Guid.TryParse(created.Metadata.Uid, out _), $"uid is a UUID: {created.Metadata.Uid}");
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.InRange(created.Metadata.CreationTimestamp.Value.ToUniversalTime(), before, DateTime.UtcNow.AddMinutes(5));
        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));
        Assert.Null(created.Metadata.DeletionTimestamp);

        var other = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("other"), ns, cancellationToken: Ct);
        Assert.NotEqual(created.Metadata.Uid, other.Metadata.Uid);
        Assert.NotEqual(created.Metadata.ResourceVersion, other.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Create_existing_name_returns_409_AlreadyExists_status()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-exists", Ct);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("twice"), ns, cancellationToken: Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.Conflict, () => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("twice"), ns, cancellationToken: Ct));

        Assert.Equal("AlreadyExists", status.Reason);
        Assert.Equal("configmaps \"twice\" already exists", status.Message);
        Assert.Equal("twice", status.Details.Name);
        Assert.Equal("configmaps", status.Details.Kind);
    }

    [Fact]
    public async Task Create_existing_job_name_returns_409_AlreadyExists_with_group()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-exists-job", Ct);
        await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("twice", "true", s => s.Suspend = true), ns, cancellationToken: Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.Conflict, () => Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("twice", "true", s => s.Suspend = true), ns, cancellationToken: Ct));

        Assert.Equal("AlreadyExists", status.Reason);
        Assert.Equal("jobs.batch \"twice\" already exists", status.Message);
        Assert.Equal("twice", status.Details.Name);
        Assert.Equal("batch", status.Details.Group);
        Assert.Equal("jobs", status.Details.Kind);
    }

    [Fact]
    public async Task Update_with_stale_resourceVersion_returns_409_Conflict_status()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-conflict", Ct);
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("contended"), ns, cancellationToken: Ct);
        var stale = await Client.CoreV1.ReadNamespacedConfigMapAsync("contended", ns, cancellationToken: Ct);

        created.Data["key"] = "first writer";
        await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "contended", ns, cancellationToken: Ct);

        stale.Data["key"] = "second writer";
        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.Conflict, () => Client.CoreV1.ReplaceNamespacedConfigMapAsync(stale, "contended", ns, cancellationToken: Ct));

        Assert.Equal("Conflict", status.Reason);
        Assert.Equal(
            "Operation cannot be fulfilled on configmaps \"contended\": the object has been modified; please apply your changes to the latest version and try again",
            status.Message);
        Assert.Equal("contended", status.Details.Name);
        Assert.Equal("configmaps", status.Details.Kind);
        var current = await Client.CoreV1.ReadNamespacedConfigMapAsync("contended", ns, cancellationToken: Ct);
        Assert.Equal("first writer", current.Data["key"]);
    }

    [Fact]
    public async Task Update_without_resourceVersion_overwrites_unconditionally()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-uncond", Ct);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("blind"), ns, cancellationToken: Ct);

        var blind = Objects.ConfigMap("blind", new Dictionary<string, string> { ["key"] = "overwritten" });
        var updated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(blind, "blind", ns, cancellationToken: Ct);

        Assert.Equal("overwritten", updated.Data["key"]);
    }

    [Fact]
    public async Task Update_that_changes_nothing_keeps_the_resourceVersion()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-noop", Ct);
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("same"), ns, cancellationToken: Ct);

        var updated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "same", ns, cancellationToken: Ct);

        Assert.Equal(created.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Update_with_different_name_in_body_returns_400_BadRequest()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-rename", Ct);
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("original"), ns, cancellationToken: Ct);

        created.Metadata.Name = "renamed";
        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.BadRequest, () => Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "original", ns, cancellationToken: Ct));

        Assert.Equal("BadRequest", status.Reason);
        Assert.Equal("the name of the object (renamed) does not match the name on the URL (original)", status.Message);
    }

    [Fact]
    public async Task Get_missing_returns_404_NotFound_status()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-missing", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.NotFound, () => Client.CoreV1.ReadNamespacedConfigMapAsync("nowhere", ns, cancellationToken: Ct));

        Assert.Equal("NotFound", status.Reason);
        Assert.Equal("configmaps \"nowhere\" not found", status.Message);
        Assert.Equal("nowhere", status.Details.Name);
        Assert.Equal("configmaps", status.Details.Kind);
        Assert.True(string.IsNullOrEmpty(status.Details.Group), $"core resources have no group, got {status.Details.Group}");
    }

    [Fact]
    public async Task Get_missing_job_returns_404_NotFound_with_group()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-missing-job", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.NotFound, () => Client.BatchV1.ReadNamespacedJobAsync("nowhere", ns, cancellationToken: Ct));

        Assert.Equal("NotFound", status.Reason);
        Assert.Equal("jobs.batch \"nowhere\" not found", status.Message);
        Assert.Equal("nowhere", status.Details.Name);
        Assert.Equal("batch", status.Details.Group);
        Assert.Equal("jobs", status.Details.Kind);
    }

    [Fact]
    public async Task Delete_missing_returns_404_NotFound_status()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-del-missing", Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.NotFound, () => Client.CoreV1.DeleteNamespacedSecretAsync("nowhere", ns, cancellationToken: Ct));

        Assert.Equal("NotFound", status.Reason);
        Assert.Equal("secrets \"nowhere\" not found", status.Message);
        Assert.Equal("secrets", status.Details.Kind);
    }

    [Fact]
    public async Task Create_in_missing_namespace_returns_404_namespace_NotFound()
    {
        var missing = ClusterFixture.NamespaceName("absent");

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.NotFound, () => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("orphan"), missing, cancellationToken: Ct));

        Assert.Equal("NotFound", status.Reason);
        Assert.Equal($"namespaces \"{missing}\" not found", status.Message);
        Assert.Equal(missing, status.Details.Name);
        Assert.Equal("namespaces", status.Details.Kind);
    }

    [Fact]
    public async Task GenerateName_gets_a_unique_name_with_a_5_character_suffix()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-genname", Ct);
        var template = new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "gen-" }, Data = new Dictionary<string, string> { ["k"] = "v" } };

        var first = await Client.CoreV1.CreateNamespacedConfigMapAsync(template, ns, cancellationToken: Ct);
        var second = await Client.CoreV1.CreateNamespacedConfigMapAsync(template, ns, cancellationToken: Ct);

        foreach (var created in new[] { first, second })
        {
            Assert.Equal("gen-", created.Metadata.GenerateName);
            Assert.Matches("^gen-[a-z0-9]{5}$", created.Metadata.Name);
            var read = await Client.CoreV1.ReadNamespacedConfigMapAsync(created.Metadata.Name, ns, cancellationToken: Ct);
            Assert.Equal(created.Metadata.Uid, read.Metadata.Uid);
        }
        Assert.NotEqual(first.Metadata.Name, second.Metadata.Name);
    }

    [Fact]
    public async Task DryRun_All_create_returns_the_object_but_stores_nothing()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-dryrun", Ct);

        var dry = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("imaginary"), ns, dryRun: "All", cancellationToken: Ct);

        Assert.Equal("imaginary", dry.Metadata.Name);
        Assert.Equal("value", dry.Data["key"]);
        Assert.Null(await ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("imaginary", ns, cancellationToken: Ct)));
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(ns, cancellationToken: Ct);
        Assert.DoesNotContain(list.Items, c => c.Metadata.Name == "imaginary");
    }

    [Fact]
    public async Task DryRun_All_update_and_delete_change_nothing()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-dryrun-upd", Ct);
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("kept"), ns, cancellationToken: Ct);

        var changed = Objects.ConfigMap("kept", new Dictionary<string, string> { ["key"] = "changed" });
        changed.Metadata.ResourceVersion = created.Metadata.ResourceVersion;
        var dryUpdated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(changed, "kept", ns, dryRun: "All", cancellationToken: Ct);
        Assert.Equal("changed", dryUpdated.Data["key"]);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("kept", ns, dryRun: "All", cancellationToken: Ct);

        var read = await Client.CoreV1.ReadNamespacedConfigMapAsync("kept", ns, cancellationToken: Ct);
        Assert.Equal("value", read.Data["key"]);
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Null(read.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task Generation_increments_on_spec_change_only()
    {
        await using var ns = await cluster.CreateNamespaceAsync("crud-generation", Ct);
        var created = await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("gen", "true", s => s.Suspend = true), ns, cancellationToken: Ct);
        Assert.Equal(1, created.Metadata.Generation);

        var relabeled = await ApiAssert.RetryOnConflictAsync(async () =>
        {
            var job = await Client.BatchV1.ReadNamespacedJobAsync("gen", ns, cancellationToken: Ct);
            job.Metadata.Labels = new Dictionary<string, string> { ["changed"] = "metadata" };
            job.Metadata.Annotations = new Dictionary<string, string> { ["note"] = "metadata only" };
            return await Client.BatchV1.ReplaceNamespacedJobAsync(job, "gen", ns, cancellationToken: Ct);
        });
        Assert.Equal(1, relabeled.Metadata.Generation);

        var respecced = await ApiAssert.RetryOnConflictAsync(async () =>
        {
            var job = await Client.BatchV1.ReadNamespacedJobAsync("gen", ns, cancellationToken: Ct);
            job.Spec.ActiveDeadlineSeconds = 600;
            return await Client.BatchV1.ReplaceNamespacedJobAsync(job, "gen", ns, cancellationToken: Ct);
        });
        Assert.Equal(2, respecced.Metadata.Generation);

        var again = await ApiAssert.RetryOnConflictAsync(async () =>
        {
            var job = await Client.BatchV1.ReadNamespacedJobAsync("gen", ns, cancellationToken: Ct);
            job.Spec.Parallelism = 2;
            return await Client.BatchV1.ReplaceNamespacedJobAsync(job, "gen", ns, cancellationToken: Ct);
        });
        Assert.Equal(3, again.Metadata.Generation);
    }
}
