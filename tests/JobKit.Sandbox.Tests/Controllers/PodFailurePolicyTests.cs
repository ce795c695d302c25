using JobKit.Sandbox.Controllers;
using k8s.Models;
using Xunit;

namespace JobKit.Sandbox.Tests.Controllers;

public class PodFailurePolicyTests
{
    private static readonly V1PodFailurePolicy Policy = new()
    {
        Rules =
        [
            new V1PodFailurePolicyRule { Action = "FailJob", OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { ContainerName = "c", OperatorProperty = "In", Values = [42] } },
            new V1PodFailurePolicyRule { Action = "Ignore", OnPodConditions = [new V1PodFailurePolicyOnPodConditionsPattern { Type = "DisruptionTarget", Status = "True" }] },
            new V1PodFailurePolicyRule { Action = "Ignore", OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { OperatorProperty = "In", Values = [3] } },
            new V1PodFailurePolicyRule { Action = "Count", OnExitCodes = new V1PodFailurePolicyOnExitCodesRequirement { OperatorProperty = "NotIn", Values = [5] } },
        ],
    };

    [Fact]
    public void FailJob_on_exit_code_gives_the_real_message()
    {
        // Real v1.32: "Container c for pod e3/pfj-c2ww2 failed with exit code 42 matching FailJob rule at index 0", reason PodFailurePolicy.
        var (message, count, action) = JobLogic.MatchPodFailurePolicy(Policy, FailedPod(42));
        Assert.Equal("Container c for pod e3/pfj-c2ww2 failed with exit code 42 matching FailJob rule at index 0", message);
        Assert.True(count);
        Assert.Equal("FailJob", action);
    }

    [Fact]
    public void Ignore_does_not_count_towards_the_backoff_limit()
    {
        Assert.Equal((null, false, "Ignore"), JobLogic.MatchPodFailurePolicy(Policy, FailedPod(3)));
        var disrupted = FailedPod(1);
        disrupted.Status.Conditions = [new V1PodCondition { Type = "DisruptionTarget", Status = "True" }];
        Assert.Equal((null, false, "Ignore"), JobLogic.MatchPodFailurePolicy(Policy, disrupted));
    }

    [Fact]
    public void NotIn_and_unmatched_failures_count()
    {
        Assert.Equal((null, true, "Count"), JobLogic.MatchPodFailurePolicy(Policy, FailedPod(1)));
        Assert.Equal((null, true, null), JobLogic.MatchPodFailurePolicy(Policy, FailedPod(5)));
        Assert.Equal((null, true, null), JobLogic.MatchPodFailurePolicy(null, FailedPod(42)));
    }

    [Fact]
    public void A_pod_failure_policy_means_only_failed_pods_are_replaced()
    {
        var job = new V1Job { Spec = new V1JobSpec { PodFailurePolicy = Policy } };
        Assert.True(JobLogic.OnlyReplaceFailedPods(job));
        var terminating = new V1Pod { Metadata = new V1ObjectMeta { DeletionTimestamp = DateTime.UtcNow }, Status = new V1PodStatus { Phase = "Running" } };
        Assert.False(JobLogic.IsPodFailed(terminating, job));
    }

    private static V1Pod FailedPod(int exitCode) => new()
    {
        Metadata = new V1ObjectMeta { Name = "pfj-c2ww2", NamespaceProperty = "e3" },
        Status = new V1PodStatus
        {
            Phase = "Failed",
            ContainerStatuses = [new V1ContainerStatus { Name = "c", State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exitCode } } }],
        },
    };
}

public class SuccessPolicyTests
{
    [Fact]
    public void Succeeded_indexes_rule_matches_when_all_listed_indexes_succeeded()
    {
        // Real v1.32: successPolicy rules [{succeededIndexes: "0"}], index 0 succeeded: SuccessCriteriaMet/Complete,
        // reason SuccessPolicy, message "Matched rules at index 0".
        var policy = new V1SuccessPolicy { Rules = [new V1SuccessPolicyRule { SucceededIndexes = "0" }] };
        Assert.Equal("Matched rules at index 0", JobLogic.MatchSuccessPolicy(policy, 3, new HashSet<int> { 0 }));
        Assert.Null(JobLogic.MatchSuccessPolicy(policy, 3, new HashSet<int> { 1 }));
    }

    [Fact]
    public void Succeeded_count_rules()
    {
        var policy = new V1SuccessPolicy
        {
            Rules =
            [
                new V1SuccessPolicyRule { SucceededIndexes = "0-3", SucceededCount = 3 },
                new V1SuccessPolicyRule { SucceededCount = 2 },
            ],
        };
        Assert.Equal("Matched rules at index 1", JobLogic.MatchSuccessPolicy(policy, 10, new HashSet<int> { 0, 7 }));
        Assert.Equal("Matched rules at index 0", JobLogic.MatchSuccessPolicy(policy, 10, new HashSet<int> { 0, 1, 2 }));
        Assert.Null(JobLogic.MatchSuccessPolicy(policy, 10, new HashSet<int> { 9 }));
    }
}
