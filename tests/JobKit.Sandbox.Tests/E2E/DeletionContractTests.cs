using System.Net;
using k8s;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.E2E;

/// <summary>DELETE: finalizers, propagation policies (garbage collector) and namespace deletion.</summary>
public sealed class DeletionContractTests(ClusterFixture cluster)
{
    private const string HoldFinalizer = "jobkit.test/hold";

    private static readonly TimeSpan GcTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IKubernetes Client => cluster.Client;

    private Task<V1ConfigMap?> TryReadAsync(string ns, string name) =>
        ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: Ct));

    private Task<V1ConfigMap?> WaitGoneAsync(string ns, string name) =>
        cluster.WaitForAsync(() => TryReadAsync(ns, name), cm => cm is null, GcTimeout, $"configmap {ns}/{name} to be deleted", Ct);

    private async Task<(V1ConfigMap Owner, V1ConfigMap[] Dependents)> CreateFamilyAsync(string ns, bool holdDependent = false)
    {
        var owner = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("owner"), ns, cancellationToken: Ct);
        var dependents = new List<V1ConfigMap>();
        foreach (var name in new[] { "dependent-1", "dependent-2" })
        {
            var dependent = Objects.ConfigMap(name);
            dependent.Metadata.OwnerReferences = [Objects.OwnerReference(owner, blockOwnerDeletion: true)];
            if (holdDependent && name == "dependent-1")
            {
                dependent.Metadata.Finalizers = [HoldFinalizer];
            }
            dependents.Add(await Client.CoreV1.CreateNamespacedConfigMapAsync(dependent, ns, cancellationToken: Ct));
        }
        return (owner, dependents.ToArray());
    }

    private async Task RemoveFinalizersAsync(string ns, string name) =>
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), name, ns, cancellationToken: Ct);

    [Fact]
    public async Task Custom_finalizer_keeps_object_with_deletionTimestamp_until_removed()
    {
        await using var ns = await cluster.CreateNamespaceAsync("del-finalizer", Ct);
        var held = Objects.ConfigMap("held");
        held.Metadata.Finalizers = [HoldFinalizer];
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(held, ns, cancellationToken: Ct);

        // a DELETE that waits on finalizers answers 200 with the object itself, deletionTimestamp set
        var answer = await Client.CoreV1.DeleteNamespacedConfigMapAsync("held", ns, cancellationToken: Ct);
        var (kind, _) = ApiAssert.DeleteAnswer(answer);
        Assert.True(kind == "ConfigMap", $"expected the ConfigMap as the DELETE response, got kind {kind}: {answer.Status} {answer.Message}");

        var terminating = await Client.CoreV1.ReadNamespacedConfigMapAsync("held", ns, cancellationToken: Ct);
        Assert.NotNull(terminating.Metadata.DeletionTimestamp);
        Assert.Equal(0, terminating.Metadata.DeletionGracePeriodSeconds);
        Assert.Equal([HoldFinalizer], terminating.Metadata.Finalizers);
        Assert.NotEqual(created.Metadata.ResourceVersion, terminating.Metadata.ResourceVersion);

        // deleting again changes nothing; other updates are still allowed
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("held", ns, cancellationToken: Ct);
        var again = await Client.CoreV1.ReadNamespacedConfigMapAsync("held", ns, cancellationToken: Ct);
        Assert.Equal(terminating.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
        var updated = await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"key":"still writable"}}""", V1Patch.PatchType.MergePatch), "held", ns, cancellationToken: Ct);
        Assert.Equal("still writable", updated.Data["key"]);

        await RemoveFinalizersAsync(ns, "held");

        Assert.Null(await TryReadAsync(ns, "held"));
    }

    [Fact]
    public async Task Adding_a_finalizer_to_an_object_being_deleted_returns_422_Forbidden_cause()
    {
        await using var ns = await cluster.CreateNamespaceAsync("del-finalizer-new", Ct);
        var held = Objects.ConfigMap("held");
        held.Metadata.Finalizers = [HoldFinalizer];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(held, ns, cancellationToken: Ct);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("held", ns, cancellationToken: Ct);

        var status = await ApiAssert.FailsWithStatusAsync(
            HttpStatusCode.UnprocessableEntity,
            () => Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":["jobkit.test/hold","jobkit.test/other"]}}""", V1Patch.PatchType.MergePatch), "held", ns, cancellationToken: Ct));

        Assert.Equal("Invalid", status.Reason);
        Assert.Contains(status.Details.Causes, c => c.Field == "metadata.finalizers" && c.Reason == "FieldValueForbidden");
        Assert.Equal(
            "ConfigMap \"held\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"jobkit.test/other\"}",
            status.Message);
        await RemoveFinalizersAsync(ns, "held");
    }

    [Fact]
    public async Task Delete_without_finalizers_answers_a_Success_status()
    {
        await using var ns = await cluster.CreateNamespaceAsync("del-status", Ct);
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("gone"), ns, cancellationToken: Ct);

        var answer = await Client.CoreV1.DeleteNamespacedConfigMapAsync("gone", ns, cancellationToken: Ct);

        Assert.Equal("Status", answer.Kind);
        Assert.Equal("Success", answer.Status);
        Assert.Equal("gone", answer.Details.Name);
        Assert.Equal("configmaps", answer.Details.Kind);
        Assert.Equal(created.Metadata.Uid, answer.Details.Uid);
    }

    [Fact]
    public async Task Delete_with_Background_propagation_garbage_collects_dependents()
    {
        await using var ns = await cluster.CreateNamespaceAsync("del-background", Ct);
        var (_, dependents) = await CreateFamilyAsync(ns);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", ns, propagationPolicy: "Background", cancellationToken: Ct);

        Assert.Null(await TryReadAsync(ns, "owner"));
        foreach (var dependent in dependents)
        {
            await WaitGoneAsync(ns, dependent.Metadata.Name);
        }
    }

    [Fact]
    public async Task Delete_with_Foreground_propagation_keeps_owner_with_foregroundDeletion_finalizer_until_dependents_are_gone()
    {
        await using var ns = await cluster.CreateNamespaceAsync("del-foreground", Ct);
        await CreateFamilyAsync(ns, holdDependent: true);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", ns, propagationPolicy: "Foreground", cancellationToken: Ct);

        var owner = await Client.CoreV1.ReadNamespacedConfigMapAsync("owner", ns, cancellationToken: Ct);
        Assert.NotNull(owner.Metadata.DeletionTimestamp);
        Assert.Contains("foregroundDeletion", owner.Metadata.Finalizers);

        // the garbage collector deletes the dependents; the held one stays (deletionTimestamp set), and so does the owner
        await WaitGoneAsync(ns, "dependent-2");
        var held = await cluster.WaitForAsync(
            () => Client.CoreV1.ReadNamespacedConfigMapAsync("dependent-1", ns, cancellationToken: Ct),
            cm => cm.Metadata.DeletionTimestamp is not null,
            GcTimeout,
            "dependent-1 to be marked for deletion by the garbage collector",
            Ct);
        Assert.Equal([HoldFinalizer], held.Metadata.Finalizers);
        owner = await Client.CoreV1.ReadNamespacedConfigMapAsync("owner", ns, cancellationToken: Ct);
        Assert.Contains("foregroundDeletion", owner.Metadata.Finalizers);

        await RemoveFinalizersAsync(ns, "dependent-1");

        await WaitGoneAsync(ns, "dependent-1");
        await WaitGoneAsync(ns, "owner");
    }

    [Fact]
    public async Task Delete_with_Orphan_propagation_keeps_dependents_and_removes_their_ownerReference()
    {
        await using var ns = await cluster.CreateNamespaceAsync("del-orphan", Ct);
        var (owner, dependents) = await CreateFamilyAsync(ns);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", ns, propagationPolicy: "Orphan", cancellationToken: Ct);

        await WaitGoneAsync(ns, "owner");
        foreach (var dependent in dependents)
        {
            var kept = await cluster.WaitForAsync(
                () => Client.CoreV1.ReadNamespacedConfigMapAsync(dependent.Metadata.Name, ns, cancellationToken: Ct),
                cm => cm.Metadata.OwnerReferences is null || cm.Metadata.OwnerReferences.Count == 0,
                GcTimeout,
                $"{dependent.Metadata.Name} to lose its ownerReference to {owner.Metadata.Uid}",
                Ct);
            Assert.Null(kept.Metadata.DeletionTimestamp);
            Assert.Equal(dependent.Metadata.Uid, kept.Metadata.Uid);
        }
    }

    [Fact]
    public async Task Delete_with_Orphan_propagation_holds_the_owner_with_the_orphan_finalizer_while_dependents_are_released()
    {
        await using var ns = await cluster.CreateNamespaceAsync("del-orphan-fin", Ct);
        var owner = Objects.ConfigMap("owner");
        owner.Metadata.Finalizers = [HoldFinalizer];
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(owner, ns, cancellationToken: Ct);
        var dependent = Objects.ConfigMap("dependent");
        dependent.Metadata.OwnerReferences = [Objects.OwnerReference(created)];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(dependent, ns, cancellationToken: Ct);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", ns, propagationPolicy: "Orphan", cancellationToken: Ct);

        var marked = await Client.CoreV1.ReadNamespacedConfigMapAsync("owner", ns, cancellationToken: Ct);
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Contains(HoldFinalizer, marked.Metadata.Finalizers);
        // the garbage collector removes "orphan" once it has released the dependents; the custom finalizer stays
        await cluster.WaitForAsync(
            () => Client.CoreV1.ReadNamespacedConfigMapAsync("owner", ns, cancellationToken: Ct),
            cm => !cm.Metadata.Finalizers.Contains("orphan"),
            GcTimeout,
            "the orphan finalizer to be removed from the owner",
            Ct);
        var released = await Client.CoreV1.ReadNamespacedConfigMapAsync("dependent", ns, cancellationToken: Ct);
        Assert.True(released.Metadata.OwnerReferences is null || released.Metadata.OwnerReferences.Count == 0);
        await RemoveFinalizersAsync(ns, "owner");
        await WaitGoneAsync(ns, "owner");
    }

    [Fact]
    public async Task Delete_job_without_propagationPolicy_orphans_its_dependents()
    {
        // batch/v1 Jobs keep their legacy default: DELETE without a policy orphans (kubectl always sends Background)
        await using var ns = await cluster.CreateNamespaceAsync("del-job-default", Ct);
        var job = await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("legacy", "true", s => s.Suspend = true), ns, cancellationToken: Ct);
        var dependent = Objects.ConfigMap("owned-by-job");
        dependent.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = "legacy", Uid = job.Metadata.Uid }];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(dependent, ns, cancellationToken: Ct);

        var answer = await Client.BatchV1.DeleteNamespacedJobAsync("legacy", ns, cancellationToken: Ct);

        var (kind, metadata) = ApiAssert.DeleteAnswer(answer);
        Assert.True(kind == "Job", $"the orphan finalizer holds the Job, so DELETE answers with the Job; got kind {kind}: {answer.Status} {answer.Message}");
        Assert.NotNull(metadata?.DeletionTimestamp);
        Assert.Contains("orphan", metadata.Finalizers);
        await cluster.WaitForAsync(
            () => ClusterFixture.TryReadAsync(() => Client.BatchV1.ReadNamespacedJobAsync("legacy", ns, cancellationToken: Ct)),
            j => j is null,
            GcTimeout,
            "job legacy to be deleted once its dependents are orphaned",
            Ct);
        var kept = await Client.CoreV1.ReadNamespacedConfigMapAsync("owned-by-job", ns, cancellationToken: Ct);
        Assert.Null(kept.Metadata.DeletionTimestamp);
        Assert.True(kept.Metadata.OwnerReferences is null || kept.Metadata.OwnerReferences.Count == 0, "the orphaned dependent lost its ownerReference");
    }

    [Fact]
    public async Task Namespace_deletion_removes_its_contents_then_the_namespace()
    {
        var ns = await cluster.CreateNamespaceAsync("del-namespace", Ct);
        await using var _ = ns;
        var held = Objects.ConfigMap("held");
        held.Metadata.Finalizers = [HoldFinalizer];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(held, ns, cancellationToken: Ct);
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "plain" }, StringData = new Dictionary<string, string> { ["k"] = "v" } }, ns, cancellationToken: Ct);
        await Client.BatchV1.CreateNamespacedJobAsync(Objects.Job("suspended", "true", s => s.Suspend = true), ns, cancellationToken: Ct);

        await Client.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: Ct);

        var terminating = await Client.CoreV1.ReadNamespaceAsync(ns, cancellationToken: Ct);
        Assert.NotNull(terminating.Metadata.DeletionTimestamp);
        Assert.Equal("Terminating", terminating.Status.Phase);
        Assert.Equal(["kubernetes"], terminating.Spec.Finalizers);

        await cluster.WaitForAsync(
            () => ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("plain", ns, cancellationToken: Ct)),
            s => s is null,
            GcTimeout,
            "secret plain to be deleted with its namespace",
            Ct);
        await cluster.WaitForAsync(
            () => ClusterFixture.TryReadAsync(() => Client.BatchV1.ReadNamespacedJobAsync("suspended", ns, cancellationToken: Ct)),
            j => j is null,
            GcTimeout,
            "job suspended to be deleted with its namespace",
            Ct);
        var stuck = await cluster.WaitForAsync(
            () => Client.CoreV1.ReadNamespacedConfigMapAsync("held", ns, cancellationToken: Ct),
            cm => cm.Metadata.DeletionTimestamp is not null,
            GcTimeout,
            "configmap held to be marked for deletion with its namespace",
            Ct);
        Assert.Equal([HoldFinalizer], stuck.Metadata.Finalizers);
        Assert.Equal("Terminating", (await Client.CoreV1.ReadNamespaceAsync(ns, cancellationToken: Ct)).Status.Phase);

        await RemoveFinalizersAsync(ns, "held");

        await cluster.WaitForAsync(
            () => ClusterFixture.TryReadAsync(() => Client.CoreV1.ReadNamespaceAsync(ns, cancellationToken: Ct)),
            n => n is null,
            GcTimeout,
            $"namespace {ns} to be deleted once empty",
            Ct);
    }

    [Fact]
    public async Task Create_in_terminating_namespace_returns_403_Forbidden()
    {
        var ns = await cluster.CreateNamespaceAsync("del-ns-create", Ct);
        await using var _ = ns;
        var held = Objects.ConfigMap("held");
        held.Metadata.Finalizers = [HoldFinalizer];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(held, ns, cancellationToken: Ct);
        await Client.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: Ct);

        var status = await ApiAssert.FailsWithStatusAsync(HttpStatusCode.Forbidden, () => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("late"), ns, cancellationToken: Ct));

        Assert.Equal("Forbidden", status.Reason);
        Assert.Equal($"configmaps \"late\" is forbidden: unable to create new content in namespace {ns.Name} because it is being terminated", status.Message);
        Assert.Equal("late", status.Details.Name);
        Assert.Equal("configmaps", status.Details.Kind);
        var cause = Assert.Single(status.Details.Causes);
        Assert.Equal(("NamespaceTerminating", "metadata.namespace", $"namespace {ns.Name} is being terminated"), (cause.Reason, cause.Field, cause.Message));
        await RemoveFinalizersAsync(ns, "held");
    }
}
