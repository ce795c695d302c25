using JobKit.Core.Runs;
using k8s.Models;
using Xunit;

namespace JobKit.Core.Tests.Runs;

public sealed class TransientRunPlanTests
{
    private static V1CronJob CronJob(V1PodSpec podSpec, int? ttl = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "report", NamespaceProperty = "batch", Uid = "cron-uid" },
        Spec = new V1CronJobSpec
        {
            Schedule = "0 0 * * *",
            JobTemplate = new V1JobTemplateSpec
            {
                Metadata = new V1ObjectMeta
                {
                    Labels = new Dictionary<string, string> { ["team"] = "data" },
                    Annotations = new Dictionary<string, string> { ["owner"] = "data-team" },
                },
                Spec = new V1JobSpec { BackoffLimit = 2, TtlSecondsAfterFinished = ttl, Template = new V1PodTemplateSpec { Spec = podSpec } },
            },
        },
    };

    private static V1PodSpec ReadsSettings() => new()
    {
        RestartPolicy = "Never",
        InitContainers = [new V1Container { Name = "init", EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = "settings" } }] }],
        Containers =
        [
            new V1Container
            {
                Name = "main",
                Env = [new V1EnvVar { Name = "NUM", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "settings", Key = "num", Optional = true } } }],
            },
        ],
        Volumes =
        [
            new V1Volume { Name = "plain", ConfigMap = new V1ConfigMapVolumeSource { Name = "settings" } },
            new V1Volume { Name = "other", ConfigMap = new V1ConfigMapVolumeSource { Name = "unrelated" } },
            new V1Volume { Name = "projected", Projected = new V1ProjectedVolumeSource { Sources = [new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = "settings" } }] } },
        ],
    };

    private static TransientRunRequest Request(RunSource source, string? configMap = "settings") => new()
    {
        Namespace = "batch",
        JobName = "manual",
        Source = source,
        RunId = "r4nd0m",
        ConfigMapName = configMap,
        Data = new Dictionary<string, string> { ["num"] = "2" },
    };

    [Fact]
    public void A_run_from_a_CronJob_is_what_kubectl_create_job_from_builds_with_only_its_own_references_renamed()
    {
        var cronJob = CronJob(ReadsSettings());

        var plan = TransientRunPlan.Create(Request(new RunSource.CronJob("report")), cronJob);

        var job = plan.Job;
        Assert.Equal(("manual", "batch"), (job.Metadata.Name, job.Metadata.NamespaceProperty));
        Assert.Equal("manual", job.Metadata.Annotations["cronjob.kubernetes.io/instantiate"]);
        Assert.Equal("data-team", job.Metadata.Annotations["owner"]);
        Assert.Equal("cronjob/report", job.Metadata.Annotations["jobkit.dev/source"]);
        Assert.Equal("data", job.Metadata.Labels["team"]);
        Assert.Equal("jobkit", job.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Equal("r4nd0m", job.Metadata.Labels["jobkit.dev/run-id"]);
        Assert.Null(job.Metadata.OwnerReferences);
        Assert.Equal(2, job.Spec.BackoffLimit);
        Assert.True(job.Spec.Suspend);
        Assert.Equal(600, job.Spec.TtlSecondsAfterFinished);

        var spec = job.Spec.Template.Spec;
        Assert.Equal("settings-r4nd0m", spec.InitContainers[0].EnvFrom[0].ConfigMapRef.Name);
        Assert.Equal("settings-r4nd0m", spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name);
        Assert.Equal("settings-r4nd0m", spec.Volumes[0].ConfigMap.Name);
        Assert.Equal("unrelated", spec.Volumes[1].ConfigMap.Name);
        Assert.Equal("settings-r4nd0m", spec.Volumes[2].Projected.Sources[0].ConfigMap.Name);
        // The CronJob itself, and so its scheduled runs, still read "settings".
        Assert.Equal("settings", cronJob.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name);

        var configMap = plan.ConfigMap!;
        Assert.Equal("settings-r4nd0m", configMap.Metadata.Name);
        Assert.True(configMap.Immutable);
        Assert.Equal("settings", configMap.Metadata.Labels["jobkit.dev/configmap-for"]);
        Assert.Equal("r4nd0m", configMap.Metadata.Labels["jobkit.dev/run-id"]);
        Assert.Equal("2", configMap.Data["num"]);
    }

    [Fact]
    public void The_ConfigMap_is_owned_by_the_created_Job()
    {
        var plan = TransientRunPlan.Create(Request(new RunSource.CronJob("report")), CronJob(ReadsSettings()));

        var owned = plan.OwnedBy(new V1Job { Metadata = new V1ObjectMeta { Name = "manual", Uid = "job-uid" } })!;

        var owner = Assert.Single(owned.Metadata.OwnerReferences);
        Assert.Equal(("batch/v1", "Job", "manual", "job-uid"), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));
        Assert.Null(plan.ConfigMap!.Metadata.OwnerReferences);
    }

    [Fact]
    public void A_template_that_never_reads_NAME_is_refused()
    {
        var error = Assert.Throws<RunInputException>(() => TransientRunPlan.Create(Request(new RunSource.CronJob("report"), "other"), CronJob(ReadsSettings())));

        Assert.Contains("cronjob/report never reads configmap \"other\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_without_a_ConfigMap_is_not_suspended_and_keeps_a_lower_TTL_of_its_template()
    {
        var plan = TransientRunPlan.Create(Request(new RunSource.CronJob("report"), configMap: null), CronJob(ReadsSettings(), ttl: 30));

        Assert.Null(plan.ConfigMap);
        Assert.NotEqual(true, plan.Job.Spec.Suspend);
        Assert.Equal(30, plan.Job.Spec.TtlSecondsAfterFinished);
        Assert.Equal("settings", plan.Job.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Name);
    }

    [Fact]
    public void An_image_run_is_kubectl_create_job_image_and_reads_the_ConfigMap_by_envFrom()
    {
        var plan = TransientRunPlan.Create(Request(new RunSource.Image("busybox", ["sh", "-c", "env"])));

        var container = Assert.Single(plan.Job.Spec.Template.Spec.Containers);
        Assert.Equal(("manual", "busybox"), (container.Name, container.Image));
        Assert.Equal(["sh", "-c", "env"], container.Command);
        Assert.Equal("Never", plan.Job.Spec.Template.Spec.RestartPolicy);
        Assert.Equal("settings-r4nd0m", Assert.Single(container.EnvFrom).ConfigMapRef.Name);
    }

    [Fact]
    public void A_manifest_in_another_namespace_is_refused_like_kubectl_does()
    {
        var manifest = new V1Job
        {
            Metadata = new V1ObjectMeta { Name = "from-file", NamespaceProperty = "elsewhere" },
            Spec = new V1JobSpec { Template = new V1PodTemplateSpec { Spec = ReadsSettings() } },
        };

        var error = Assert.Throws<RunInputException>(() => TransientRunPlan.Create(Request(new RunSource.Manifest(manifest, "job.yaml"))));

        Assert.Contains("--namespace=elsewhere", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Manual", "--job-name")]
    [InlineData("a-name-that-is-far-too-long-to-be-the-value-of-a-label-on-its-pods-x", "--job-name")]
    public void Invalid_Job_names_are_refused_naming_the_flag(string name, string flag)
    {
        var error = Assert.Throws<RunInputException>(() => TransientRunPlan.Create(Request(new RunSource.CronJob("report")) with { JobName = name }, CronJob(ReadsSettings())));

        Assert.StartsWith(flag, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_ConfigMap_name_is_refused()
    {
        Assert.Throws<RunInputException>(() => TransientRunPlan.Create(Request(new RunSource.CronJob("report"), "Settings_1"), CronJob(ReadsSettings())));
    }

    [Fact]
    public void Terminal_conditions_include_the_Kubernetes_1_31_precursors()
    {
        static V1Job With(string type, string status = "True") => new() { Status = new V1JobStatus { Conditions = [new V1JobCondition { Type = type, Status = status }] } };

        Assert.True(JobConditions.Terminal(With("Complete")));
        Assert.True(JobConditions.Terminal(With("SuccessCriteriaMet")));
        Assert.False(JobConditions.Terminal(With("Failed")));
        Assert.False(JobConditions.Terminal(With("FailureTarget")));
        Assert.Null(JobConditions.Terminal(With("Suspended")));
        Assert.Null(JobConditions.Terminal(With("Complete", "False")));
        Assert.Null(JobConditions.Terminal(new V1Job()));
    }
}
