using k8s.Models;

namespace JobKit.Core.Runs;

/// <summary>Where a run's Job comes from.</summary>
public abstract record RunSource
{
    private RunSource()
    {
    }

    /// <summary>The jobTemplate of CronJob <paramref name="Name"/>, as <c>kubectl create job --from=cronjob/NAME</c> takes it.</summary>
    public sealed record CronJob(string Name) : RunSource;

    /// <summary>One container running <paramref name="Image"/>, as <c>kubectl create job --image=IMAGE -- COMMAND</c> builds it.</summary>
    public sealed record Image(string ImageName, IReadOnlyList<string> Command) : RunSource;

    /// <summary>A Job manifest given by the user.</summary>
    public sealed record Manifest(V1Job Job, string Origin) : RunSource;
}
