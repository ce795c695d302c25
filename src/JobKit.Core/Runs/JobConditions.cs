using k8s.Models;

namespace JobKit.Core.Runs;

public static class JobConditions
{
    /// <summary>
    /// True when the Job succeeded, false when it failed, null while it runs. Kubernetes 1.31+ first sets
    /// SuccessCriteriaMet or FailureTarget, then Complete or Failed once its pods are gone (KEP-4368); either is final.
    /// </summary>
    public static bool? Terminal(V1Job job)
    {
        foreach (var condition in job.Status?.Conditions ?? [])
        {
            if (condition.Status != "True")
            {
                continue;
            }
            switch (condition.Type)
            {
                case "Complete" or "SuccessCriteriaMet":
                    return true;
                case "Failed" or "FailureTarget":
                    return false;
            }
        }
        return null;
    }
}
