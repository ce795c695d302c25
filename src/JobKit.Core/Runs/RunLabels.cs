namespace JobKit.Core.Runs;

/// <summary>The labels and annotations JobKit puts on what a run creates, so leftovers can always be found and told apart.</summary>
public static class RunLabels
{
    public const string ManagedBy = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "jobkit";
    public const string RunId = "jobkit.dev/run-id";

    /// <summary>On a transient ConfigMap: the name the Job's template reads, which this run's copy stands in for.</summary>
    public const string ConfigMapFor = "jobkit.dev/configmap-for";

    /// <summary><c>kubectl create job --from=cronjob/...</c> marks its Jobs so, and so do we.</summary>
    public const string InstantiateAnnotation = "cronjob.kubernetes.io/instantiate";

    /// <summary>Where the run's Job came from, e.g. <c>cronjob/foo-batch</c>.</summary>
    public const string SourceAnnotation = "jobkit.dev/source";

    /// <summary>Selects everything any JobKit run created.</summary>
    public const string ManagedSelector = ManagedBy + "=" + ManagedByValue + "," + RunId;
}
