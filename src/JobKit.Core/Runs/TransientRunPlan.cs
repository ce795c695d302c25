using System.Security.Cryptography;
using System.Text.RegularExpressions;
using JobKit.Core.Workloads;
using k8s.Models;

namespace JobKit.Core.Runs;

/// <summary>
/// The objects a transient run creates, built offline from the request and the source CronJob: the Job (suspended
/// while it has a ConfigMap to wait for) and the run's own copy of the ConfigMap, which only this Job reads.
/// </summary>
public sealed partial class TransientRunPlan
{
    /// <summary>Characters of a run id: lowercase consonants and digits, so ids never spell words (as Kubernetes' rand.String).</summary>
    private const string RunIdAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private TransientRunPlan(string runId, V1Job job, V1ConfigMap? configMap)
    {
        RunId = runId;
        Job = job;
        ConfigMap = configMap;
    }

    public string RunId { get; }

    /// <summary>The Job to create; <c>spec.suspend</c> is true when there is a <see cref="ConfigMap"/> to create first.</summary>
    public V1Job Job { get; }

    /// <summary>The run's ConfigMap; its ownerReference to the Job is filled in once the Job exists (<see cref="OwnedBy"/>).</summary>
    public V1ConfigMap? ConfigMap { get; }

    public string Namespace => Job.Metadata.NamespaceProperty;

    public static string NewRunId()
    {
        Span<char> id = stackalloc char[6];
        for (var i = 0; i < id.Length; i++)
        {
            id[i] = RunIdAlphabet[RandomNumberGenerator.GetInt32(RunIdAlphabet.Length)];
        }
        return new string(id);
    }

    /// <param name="cronJob">The source CronJob when <see cref="TransientRunRequest.Source"/> is <see cref="RunSource.CronJob"/>.</param>
    /// <exception cref="RunInputException">Names are invalid, or the Job's template never reads the ConfigMap.</exception>
    public static TransientRunPlan Create(TransientRunRequest request, V1CronJob? cronJob = null)
    {
        var runId = request.RunId;
        var job = request.Source switch
        {
            RunSource.CronJob source => JobFromCronJob(cronJob ?? throw new ArgumentNullException(nameof(cronJob)), source),
            RunSource.Image image => JobFromImage(request.JobName ?? throw new RunInputException("--job-name is required with an image"), image),
            RunSource.Manifest manifest => Clone(manifest.Job),
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        };
        job.ApiVersion = "batch/v1";
        job.Kind = "Job";
        job.Metadata ??= new V1ObjectMeta();
        job.Metadata.Name = request.JobName ?? job.Metadata.Name;
        if (string.IsNullOrEmpty(job.Metadata.Name) && string.IsNullOrEmpty(job.Metadata.GenerateName))
        {
            throw new RunInputException("--job-name is required: the Job needs a name");
        }
        if (!string.IsNullOrEmpty(job.Metadata.Name))
        {
            RequireLabelValueName(job.Metadata.Name, "--job-name", "Job name");
        }
        if (request.Source is RunSource.Manifest { Job.Metadata.NamespaceProperty: { Length: > 0 } manifestNamespace } fromManifest && manifestNamespace != request.Namespace)
        {
            throw new RunInputException($"the namespace from {fromManifest.Origin} (\"{manifestNamespace}\") does not match the namespace \"{request.Namespace}\": pass --namespace={manifestNamespace}");
        }
        job.Metadata.NamespaceProperty = request.Namespace;
        job.Metadata.ResourceVersion = null;
        job.Metadata.Uid = null;
        job.Metadata.Labels = WithRunLabels(job.Metadata.Labels, runId);
        job.Spec ??= new V1JobSpec();
        job.Spec.Template ??= new V1PodTemplateSpec();
        job.Spec.Template.Spec ??= new V1PodSpec();
        job.Spec.TtlSecondsAfterFinished = Math.Min(job.Spec.TtlSecondsAfterFinished ?? int.MaxValue, request.TtlSecondsAfterFinished);
        job.Status = null;

        var configMap = request.ConfigMapName is { } name ? TransientConfigMap(request, name, runId, job) : null;
        // Suspended until the ConfigMap exists: an optional reference would otherwise let a pod start without it.
        job.Spec.Suspend = configMap is not null ? true : job.Spec.Suspend;
        return new TransientRunPlan(runId, job, configMap);
    }

    /// <summary>The ConfigMap with its ownerReference to the created Job, so deleting the Job (or its TTL) deletes it too.</summary>
    public V1ConfigMap? OwnedBy(V1Job created)
    {
        if (ConfigMap is null)
        {
            return null;
        }
        var owned = Clone(ConfigMap);
        owned.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = created.Metadata.Name, Uid = created.Metadata.Uid }];
        return owned;
    }

    private static V1ConfigMap TransientConfigMap(TransientRunRequest request, string name, string runId, V1Job job)
    {
        RequireSubdomainName(name, "NAME", "ConfigMap name");
        var transientName = $"{name}-{runId}";
        if (transientName.Length > 253)
        {
            throw new RunInputException($"the ConfigMap name \"{name}\" is too long: with the run's suffix it must be at most 253 characters");
        }
        var podSpec = job.Spec.Template.Spec;
        if (request.Source is RunSource.Image)
        {
            foreach (var container in podSpec.Containers ?? [])
            {
                container.EnvFrom ??= [];
                container.EnvFrom.Add(new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = transientName } });
            }
        }
        else if (PodSpecReferences.RenameConfigMap(podSpec, name, transientName) == 0)
        {
            throw new RunInputException($"{SourceName(request.Source)} never reads configmap \"{name}\" (no env, envFrom or volume of its pod template names it), so the data would reach nothing; nothing was created");
        }
        return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta
            {
                Name = transientName,
                NamespaceProperty = request.Namespace,
                Labels = WithRunLabels(new Dictionary<string, string> { [RunLabels.ConfigMapFor] = name }, runId),
            },
            // Immutable: nothing can change what the run reads while it runs.
            Immutable = true,
            Data = request.Data.Count > 0 ? new Dictionary<string, string>(request.Data) : null,
            BinaryData = request.BinaryData.Count > 0 ? new Dictionary<string, byte[]>(request.BinaryData) : null,
        };
    }

    public static string SourceName(RunSource source) => source switch
    {
        RunSource.CronJob c => $"cronjob/{c.Name}",
        RunSource.Image i => $"image {i.ImageName}",
        RunSource.Manifest m => m.Origin,
        _ => source.ToString(),
    };

    /// <summary>What <c>kubectl create job --from=cronjob/NAME</c> builds (kubectl pkg/cmd/create/create_job.go, createJobFromCronJob), without the CronJob ownerReference: see README ("Why the run's Job is not owned by its CronJob").</summary>
    private static V1Job JobFromCronJob(V1CronJob cronJob, RunSource.CronJob source)
    {
        var template = Clone(cronJob.Spec?.JobTemplate ?? throw new RunInputException($"cronjob/{source.Name} has no jobTemplate"));
        var annotations = new Dictionary<string, string> { [RunLabels.InstantiateAnnotation] = "manual" };
        foreach (var (key, value) in template.Metadata?.Annotations ?? new Dictionary<string, string>())
        {
            annotations[key] = value;
        }
        annotations[RunLabels.SourceAnnotation] = $"cronjob/{source.Name}";
        return new V1Job
        {
            Metadata = new V1ObjectMeta { Annotations = annotations, Labels = template.Metadata?.Labels },
            Spec = template.Spec,
        };
    }

    /// <summary>What <c>kubectl create job NAME --image=IMAGE -- COMMAND</c> builds (kubectl create_job.go, createJob).</summary>
    private static V1Job JobFromImage(string jobName, RunSource.Image image) => new()
    {
        Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { [RunLabels.SourceAnnotation] = $"image/{image.ImageName}" } },
        Spec = new V1JobSpec
        {
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    Containers = [new V1Container { Name = jobName, Image = image.ImageName, Command = image.Command.Count > 0 ? [.. image.Command] : null }],
                    RestartPolicy = "Never",
                },
            },
        },
    };

    private static Dictionary<string, string> WithRunLabels(IDictionary<string, string>? labels, string runId) =>
        new(labels ?? new Dictionary<string, string>())
        {
            [RunLabels.ManagedBy] = RunLabels.ManagedByValue,
            [RunLabels.RunId] = runId,
        };

    private static T Clone<T>(T value) => k8s.KubernetesJson.Deserialize<T>(k8s.KubernetesJson.Serialize(value));

    // IsDNS1123Subdomain and IsDNS1123Label (k8s.io/apimachinery/pkg/util/validation).
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();

    private static void RequireSubdomainName(string name, string flag, string what)
    {
        if (name.Length > 253 || !Subdomain().IsMatch(name))
        {
            throw new RunInputException($"{flag}: invalid {what} \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
        }
    }

    /// <summary>A Job's name becomes the value of its pods' <c>batch.kubernetes.io/job-name</c> label, so it must also fit a label value (63 characters).</summary>
    private static void RequireLabelValueName(string name, string flag, string what)
    {
        RequireSubdomainName(name, flag, what);
        if (name.Length > 63)
        {
            throw new RunInputException($"{flag}: invalid {what} \"{name}\": must be no more than 63 characters");
        }
    }
}
