using System.Globalization;
using System.Text;
using k8s;
using k8s.Models;

namespace JobKit.Sandbox.Controllers;

/// <summary>Pure helpers of the Job controller (pkg/controller/job in Kubernetes 1.32), unit-testable.</summary>
internal static class JobLogic
{
    public const string TrackingFinalizer = "batch.kubernetes.io/job-tracking";
    public const string CompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";
    public const string CompletionIndexEnv = "JOB_COMPLETION_INDEX";
    public const string ManagedByController = "kubernetes.io/job-controller";

    public const string Complete = "Complete";
    public const string Failed = "Failed";
    public const string FailureTarget = "FailureTarget";
    public const string SuccessCriteriaMet = "SuccessCriteriaMet";
    public const string Suspended = "Suspended";

    public const string ReasonBackoffLimitExceeded = "BackoffLimitExceeded";
    public const string ReasonDeadlineExceeded = "DeadlineExceeded";
    public const string ReasonCompletionsReached = "CompletionsReached";
    public const string MessageBackoffLimitExceeded = "Job has reached the specified backoff limit";
    public const string MessageDeadlineExceeded = "Job was active longer than specified deadline";
    public const string MessageCompletionsReached = "Reached expected number of succeeded pods";

    /// <summary>DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff.</summary>
    public static readonly TimeSpan DefaultPodFailureBackoff = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MaxPodFailureBackoff = TimeSpan.FromMinutes(6);

    public const int MaxUncountedPods = 500;
    public const int MaxPodCreateDeletePerSync = 500;

    /// <summary>names.MaxGeneratedNameLength: 63 minus the 5 random characters.</summary>
    public const int MaxGeneratedNameLength = 58;

    public static T DeepCopy<T>(T obj) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(obj));

    public static DateTime Truncate(DateTime t) => EventRecorder.Truncate(t);

    // ---------------------------------------------------------------- conditions

    public static V1JobCondition? FindCondition(V1Job job, string type) =>
        job.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    public static bool HasTrueCondition(V1Job job, string type) => FindCondition(job, type)?.Status == "True";

    /// <summary>util.IsJobFinished: a Complete or Failed condition with status True.</summary>
    public static bool IsFinished(V1Job job) =>
        job.Status?.Conditions?.Any(c => (c.Type == Complete || c.Type == Failed) && c.Status == "True") == true;

    /// <summary>The finished condition's type (Complete or Failed), or null.</summary>
    public static V1JobCondition? FinishedCondition(V1Job job) =>
        job.Status?.Conditions?.FirstOrDefault(c => (c.Type == Complete || c.Type == Failed) && c.Status == "True");

    public static V1JobCondition NewCondition(string type, string status, string? reason, string? message, DateTime now) => new()
    {
        Type = type,
        Status = status,
        Reason = reason,
        Message = message,
        LastProbeTime = Truncate(now),
        LastTransitionTime = Truncate(now),
    };

    /// <summary>ensureJobConditionStatus: sets or adds the condition; a False condition is never added when absent.</summary>
    public static bool EnsureConditionStatus(V1Job job, string type, string status, string reason, string message, DateTime now)
    {
        job.Status ??= new V1JobStatus();
        job.Status.Conditions ??= [];
        var list = job.Status.Conditions;
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].Type == type)
            {
                if (list[i].Status != status || list[i].Reason != reason || list[i].Message != message)
                {
                    list[i] = NewCondition(type, status, reason, message, now);
                    return true;
                }
                return false;
            }
        }
        if (status != "False")
        {
            list.Add(NewCondition(type, status, reason, message, now));
            return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- spec helpers

    public static bool IsSuspended(V1Job job) => job.Spec?.Suspend == true;

    public static bool IsIndexed(V1Job job) => job.Spec?.CompletionMode == "Indexed";

    public static int Parallelism(V1Job job) => job.Spec?.Parallelism ?? 1;

    public static int BackoffLimit(V1Job job) => job.Spec?.BackoffLimit ?? 6;

    /// <summary>onlyReplaceFailedPods: podReplacementPolicy Failed, or a podFailurePolicy (which defaults it to Failed).</summary>
    public static bool OnlyReplaceFailedPods(V1Job job) =>
        job.Spec?.PodReplacementPolicy == "Failed" || (job.Spec?.PodReplacementPolicy is null && job.Spec?.PodFailurePolicy is not null);

    /// <summary>What the API server's defaulting would fill in, for servers that do not default: completions and parallelism 1 when both are unset.</summary>
    public static void ApplyDefaults(V1Job job)
    {
        job.Spec ??= new V1JobSpec();
        if (job.Spec.Completions is null && job.Spec.Parallelism is null)
        {
            job.Spec.Completions = 1;
            job.Spec.Parallelism = 1;
        }
        job.Spec.Parallelism ??= 1;
        job.Spec.BackoffLimit ??= 6;
        job.Spec.CompletionMode ??= "NonIndexed";
        job.Status ??= new V1JobStatus();
    }

    // ---------------------------------------------------------------- pods

    public static bool HasTrackingFinalizer(V1Pod pod) => pod.Metadata.Finalizers?.Contains(TrackingFinalizer) == true;

    public static bool IsTerminal(V1Pod pod) => pod.Status?.Phase is "Succeeded" or "Failed";

    /// <summary>controller.FilterActivePods: not terminal and not being deleted.</summary>
    public static bool IsActive(V1Pod pod) => !IsTerminal(pod) && pod.Metadata.DeletionTimestamp is null;

    /// <summary>controller.CountTerminatingPods: being deleted and not terminal.</summary>
    public static bool IsTerminating(V1Pod pod) => pod.Metadata.DeletionTimestamp is not null && !IsTerminal(pod);

    public static bool IsReady(V1Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>isPodFailed: Failed, or (unless only failed pods are replaced) being deleted without having succeeded.</summary>
    public static bool IsPodFailed(V1Pod pod, V1Job job)
    {
        if (pod.Status?.Phase == "Failed")
        {
            return true;
        }
        if (OnlyReplaceFailedPods(job))
        {
            return false;
        }
        return pod.Metadata.DeletionTimestamp is not null && pod.Status?.Phase != "Succeeded";
    }

    public static V1OwnerReference? ControllerOf(V1Pod pod) => pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);

    /// <summary>getFinishedTime: the Ready=False transition of a terminal pod, the containers' last finishedAt, the deletion timestamp, else creation.</summary>
    public static DateTime GetFinishedTime(V1Pod p)
    {
        if (IsTerminal(p) && p.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready") is { Status: "False", LastTransitionTime: { } ready })
        {
            return ready.ToUniversalTime();
        }
        var statuses = p.Status?.ContainerStatuses;
        if (statuses is { Count: > 0 } && statuses.All(s => s.State?.Terminated is not null))
        {
            var finished = statuses.Select(s => s.State.Terminated.FinishedAt).Where(t => t is not null).Select(t => t!.Value).ToList();
            if (finished.Count > 0)
            {
                return finished.Max().ToUniversalTime();
            }
        }
        if (p.Metadata.DeletionTimestamp is { } deleted)
        {
            return deleted.ToUniversalTime();
        }
        return p.Metadata.CreationTimestamp?.ToUniversalTime() ?? DateTime.UnixEpoch;
    }

    /// <summary>getPodsPrefix: "&lt;job&gt;-".</summary>
    public static string PodGenerateName(string jobName)
    {
        var prefix = jobName + "-";
        return prefix.Length > MaxGeneratedNameLength ? prefix[..MaxGeneratedNameLength] : prefix;
    }

    /// <summary>podGenerateNameWithIndex: "&lt;job&gt;-&lt;index&gt;-", the job name cut so the prefix fits 58 characters.</summary>
    public static string PodGenerateNameWithIndex(string jobName, int index)
    {
        var append = "-" + index.ToString(CultureInfo.InvariantCulture) + "-";
        var prefix = jobName + append;
        if (prefix.Length > MaxGeneratedNameLength)
        {
            prefix = jobName[..(MaxGeneratedNameLength - append.Length)] + append;
        }
        return prefix;
    }

    /// <summary>getCompletionIndex: the annotation's value, or -1.</summary>
    public static int GetCompletionIndex(V1Pod pod)
    {
        if (pod.Metadata.Annotations?.TryGetValue(CompletionIndexAnnotation, out var v) == true
            && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i >= 0
            && v == i.ToString(CultureInfo.InvariantCulture))
        {
            return i;
        }
        return -1;
    }

    /// <summary>controller.ActivePods ordering: the pods to delete first come first.</summary>
    public static int CompareForDeletion(V1Pod a, V1Pod b)
    {
        var aUnassigned = string.IsNullOrEmpty(a.Spec?.NodeName);
        var bUnassigned = string.IsNullOrEmpty(b.Spec?.NodeName);
        if (aUnassigned != bUnassigned)
        {
            return aUnassigned ? -1 : 1;
        }
        var pa = PhaseRank(a.Status?.Phase);
        var pb = PhaseRank(b.Status?.Phase);
        if (pa != pb)
        {
            return pa.CompareTo(pb);
        }
        var ra = IsReady(a);
        var rb = IsReady(b);
        if (ra != rb)
        {
            return ra ? 1 : -1;
        }
        var restartsA = a.Status?.ContainerStatuses?.Sum(s => s.RestartCount) ?? 0;
        var restartsB = b.Status?.ContainerStatuses?.Sum(s => s.RestartCount) ?? 0;
        if (restartsA != restartsB)
        {
            return restartsB.CompareTo(restartsA);
        }
        var ca = a.Metadata.CreationTimestamp ?? DateTime.MaxValue;
        var cb = b.Metadata.CreationTimestamp ?? DateTime.MaxValue;
        return cb.CompareTo(ca);
    }

    private static int PhaseRank(string? phase) => phase switch
    {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    };

    /// <summary>pastBackoffLimitOnFailure: restartPolicy OnFailure and the restarts of running/pending pods reach the limit.</summary>
    public static bool PastBackoffLimitOnFailure(V1Job job, IEnumerable<V1Pod> pods)
    {
        if (job.Spec?.Template?.Spec?.RestartPolicy != "OnFailure")
        {
            return false;
        }
        var result = 0;
        foreach (var po in pods)
        {
            if (po.Status?.Phase is "Running" or "Pending")
            {
                result += po.Status.InitContainerStatuses?.Sum(s => s.RestartCount) ?? 0;
                result += po.Status.ContainerStatuses?.Sum(s => s.RestartCount) ?? 0;
            }
        }
        var limit = BackoffLimit(job);
        return limit == 0 ? result > 0 : result >= limit;
    }

    // ---------------------------------------------------------------- pod failure policy

    public const string ReasonPodFailurePolicy = "PodFailurePolicy";

    /// <summary>
    /// matchPodFailurePolicy: the first rule matching a failed pod decides. Returns the FailJob message (or
    /// null), whether the failure counts towards backoffLimit (false only for Ignore), and the action.
    /// </summary>
    public static (string? FailJobMessage, bool CountFailed, string? Action) MatchPodFailurePolicy(V1PodFailurePolicy? policy, V1Pod pod)
    {
        if (policy?.Rules is null)
        {
            return (null, true, null);
        }
        for (var index = 0; index < policy.Rules.Count; index++)
        {
            var rule = policy.Rules[index];
            // The two kinds of rule differ only in what they match; only FailJob names the match, so its message is built only then.
            Func<string> failJobMessage;
            if (rule.OnExitCodes is { } onExitCodes)
            {
                var container = MatchingContainer(pod.Status?.ContainerStatuses, onExitCodes) ?? MatchingContainer(pod.Status?.InitContainerStatuses, onExitCodes);
                if (container is null)
                {
                    continue;
                }
                failJobMessage = () => string.Create(CultureInfo.InvariantCulture, $"Container {container.Name} for pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} failed with exit code {container.State.Terminated.ExitCode} matching FailJob rule at index {index}");
            }
            else if (rule.OnPodConditions is { } patterns)
            {
                var condition = pod.Status?.Conditions?.FirstOrDefault(c => patterns.Any(pt => pt.Type == c.Type && (pt.Status ?? "True") == c.Status));
                if (condition is null)
                {
                    continue;
                }
                failJobMessage = () => string.Create(CultureInfo.InvariantCulture, $"Pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} has condition {condition.Type} matching FailJob rule at index {index}");
            }
            else
            {
                continue;
            }
            switch (rule.Action)
            {
                case "Ignore":
                    return (null, false, "Ignore");
                case "Count":
                    return (null, true, "Count");
                case "FailIndex":
                    return (null, true, "FailIndex");
                case "FailJob":
                    return (failJobMessage(), true, "FailJob");
                default:
                    break;
            }
        }
        return (null, true, null);
    }

    private static V1ContainerStatus? MatchingContainer(IList<V1ContainerStatus>? statuses, V1PodFailurePolicyOnExitCodesRequirement requirement)
    {
        foreach (var cs in statuses ?? [])
        {
            if (cs.State?.Terminated is not { } terminated)
            {
                // Still terminating: no exit code to match yet.
                continue;
            }
            if ((requirement.ContainerName is null || requirement.ContainerName == cs.Name) && terminated.ExitCode != 0)
            {
                var values = requirement.Values ?? [];
                var matches = requirement.OperatorProperty switch
                {
                    "In" => values.Contains(terminated.ExitCode),
                    "NotIn" => !values.Contains(terminated.ExitCode),
                    _ => false,
                };
                if (matches)
                {
                    return cs;
                }
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- success policy

    public const string ReasonSuccessPolicy = "SuccessPolicy";

    /// <summary>
    /// matchSuccessPolicy (Indexed Jobs): the first rule whose succeededIndexes all succeeded (or at least
    /// succeededCount of them, or of all indexes without succeededIndexes) gives "Matched rules at index N".
    /// </summary>
    public static string? MatchSuccessPolicy(V1SuccessPolicy? policy, int completions, ISet<int> succeededIndexes)
    {
        if (policy?.Rules is null || succeededIndexes.Count == 0)
        {
            return null;
        }
        for (var index = 0; index < policy.Rules.Count; index++)
        {
            var rule = policy.Rules[index];
            if (rule.SucceededIndexes is not null)
            {
                var required = ParseIndexes(rule.SucceededIndexes, completions);
                if (required.Count == 0)
                {
                    continue;
                }
                var matched = required.Count(succeededIndexes.Contains);
                if (matched > 0
                    && ((rule.SucceededCount is null && matched == required.Count) || (rule.SucceededCount is { } n && matched >= n)))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"Matched rules at index {index}");
                }
            }
            else if (rule.SucceededCount is { } n && succeededIndexes.Count >= n)
            {
                return string.Create(CultureInfo.InvariantCulture, $"Matched rules at index {index}");
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- backoff

    /// <summary>getRemainingTimeForFailuresCount: 10s doubled per failure after the first, capped at 6 min, counted from the last failure.</summary>
    public static TimeSpan RemainingBackoff(int failuresAfterLastSuccess, DateTime? lastFailureTime, DateTime now)
    {
        if (failuresAfterLastSuccess == 0 || lastFailureTime is null)
        {
            return TimeSpan.Zero;
        }
        var backoff = DefaultPodFailureBackoff;
        for (var i = 1; i < failuresAfterLastSuccess; i++)
        {
            backoff *= 2;
            if (backoff >= MaxPodFailureBackoff)
            {
                backoff = MaxPodFailureBackoff;
                break;
            }
        }
        var elapsed = now - lastFailureTime.Value;
        return backoff < elapsed ? TimeSpan.Zero : backoff - elapsed;
    }

    /// <summary>backoffStore.newBackoffRecord: folds this sync's newly finished pods into the per-Job record.</summary>
    public static BackoffRecord NextBackoffRecord(BackoffRecord old, IReadOnlyList<V1Pod> newSucceeded, IReadOnlyList<V1Pod> newFailed)
    {
        var succeeded = newSucceeded.Select(GetFinishedTime).Order().ToList();
        var failed = newFailed.Select(GetFinishedTime).Order().ToList();
        if (succeeded.Count == 0)
        {
            if (failed.Count == 0)
            {
                return old;
            }
            return new BackoffRecord(old.FailuresAfterLastSuccess + failed.Count, failed[^1]);
        }
        var lastSuccess = succeeded[^1];
        var count = 0;
        DateTime? lastFailure = null;
        for (var i = failed.Count - 1; i >= 0; i--)
        {
            if (failed[i] <= lastSuccess)
            {
                break;
            }
            lastFailure ??= failed[i];
            count++;
        }
        return new BackoffRecord(count, lastFailure);
    }

    // ---------------------------------------------------------------- indexes

    /// <summary>parseIndexesFromString: "1,3-5,7" into a sorted set, ignoring indexes at or past completions.</summary>
    public static SortedSet<int> ParseIndexes(string? s, int completions)
    {
        var result = new SortedSet<int>();
        if (string.IsNullOrEmpty(s))
        {
            return result;
        }
        foreach (var part in s.Split(','))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var x) && x < completions)
                {
                    result.Add(x);
                }
                continue;
            }
            if (int.TryParse(part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var a)
                && int.TryParse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var b))
            {
                for (var i = a; i <= Math.Min(b, completions - 1); i++)
                {
                    result.Add(i);
                }
            }
        }
        return result;
    }

    /// <summary>orderedIntervals.String: "0-2,4,6,7" (a run of two is written with a comma, as the real controller does: "0,1").</summary>
    public static string FormatIndexes(IEnumerable<int> indexes)
    {
        var sb = new StringBuilder();
        int? start = null;
        var prev = 0;
        foreach (var i in indexes.Order())
        {
            if (start is not null && i == prev + 1)
            {
                prev = i;
                continue;
            }
            if (start is not null)
            {
                Append(sb, start.Value, prev);
            }
            start = i;
            prev = i;
        }
        if (start is not null)
        {
            Append(sb, start.Value, prev);
        }
        return sb.ToString();

        static void Append(StringBuilder sb, int a, int b)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }
            sb.Append(a.ToString(CultureInfo.InvariantCulture));
            if (b > a)
            {
                sb.Append(b == a + 1 ? ',' : '-').Append(b.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>firstPendingIndexes: the lowest indexes neither succeeded nor held by a pod.</summary>
    public static List<int> FirstPendingIndexes(ISet<int> nonPending, int count, int completions)
    {
        var result = new List<int>();
        for (var i = 0; i < completions && result.Count < count; i++)
        {
            if (!nonPending.Contains(i))
            {
                result.Add(i);
            }
        }
        return result;
    }
}

/// <summary>The Job controller's backoffRecord: failures since the last success and when the last one finished.</summary>
internal readonly record struct BackoffRecord(int FailuresAfterLastSuccess, DateTime? LastFailureTime);
