using System.CommandLine;
using JobKit.Core.Runs;
using k8s;
using k8s.Models;

namespace JobKit.Cli.Commands;

/// <summary><c>jobkit run</c>: a Job from a CronJob, an image or a manifest, once, with an optional ConfigMap only it sees.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var flags = new RunFlags();
        var command = new Argument<string[]>("COMMAND") { Description = "With --image: the command (after --) and its arguments.", Arity = ArgumentArity.ZeroOrMore };
        var from = new Option<string?>("--from") { Description = "Run this CronJob's jobTemplate, as cronjob/NAME." };
        var image = new Option<string?>("--image") { Description = "Run one container of this image (the ConfigMap reaches it by envFrom)." };
        var file = new Option<FileInfo?>("--filename", "-f") { Description = "Run the Job in this manifest." };
        var jobName = new Option<string?>("--job-name") { Description = "Name of the Job (default: the CronJob's or manifest's name, or \"run\", plus the run id)." };
        var configMap = new Option<string?>("--configmap") { Description = "The ConfigMap name the Job reads (NAME); the run creates NAME-<run id> for its Job only. Default with --image: the Job's name." };
        var run = new Command("run", "Run a Job once, wait for it, stream its logs, then delete everything the run created.")
        {
            command, from, image, file, jobName, configMap,
        };
        flags.AddTo(run);
        run.SetAction((parse, _) => RunExecution.RunAsync(parse, flags, ns =>
        {
            var sources = new[] { parse.GetValue(from) is not null, parse.GetValue(image) is not null, parse.GetValue(file) is not null }.Count(given => given);
            if (sources != 1)
            {
                throw new UsageException("exactly one of --from=cronjob/NAME, --image=IMAGE or -f FILE is required");
            }
            RunSource source = parse.GetValue(from) is { } cronJob ? TransientConfigMapCommand.CronJobSource(cronJob, "--from")
                : parse.GetValue(image) is { } imageName ? new RunSource.Image(imageName, parse.GetValue(command) ?? [])
                : ReadManifest(parse.GetValue(file)!);
            if (source is not RunSource.Image && parse.GetValue(command) is { Length: > 0 })
            {
                throw new UsageException("a COMMAND can only be given with --image");
            }
            var runId = TransientRunPlan.NewRunId();
            var name = parse.GetValue(jobName) ?? source switch
            {
                RunSource.CronJob c => Truncated(c.Name, runId),
                RunSource.Manifest m => m.Job.Metadata?.Name,
                _ => $"run-{runId}",
            };
            var hasData = flags.Sources.Any(parse);
            var configMapName = parse.GetValue(configMap) ?? (hasData && source is RunSource.Image ? name : null);
            if (hasData && configMapName is null)
            {
                throw new UsageException("--from-literal/--from-file/--from-env-file need --configmap NAME: the ConfigMap name the Job reads");
            }
            var content = flags.Sources.Read(parse, configMapName);
            return new TransientRunRequest
            {
                Namespace = ns,
                RunId = runId,
                JobName = name,
                Source = source,
                ConfigMapName = configMapName,
                Data = content.Data,
                BinaryData = content.BinaryData.ToDictionary(e => e.Key, e => e.Value.ToArray()),
                TtlSecondsAfterFinished = parse.GetValue(flags.TtlSecondsAfterFinished),
            };
        }));
        return run;
    }

    /// <summary><c>NAME-&lt;run id&gt;</c> within the 63 characters a Job name may have.</summary>
    private static string Truncated(string name, string runId) => $"{name[..Math.Min(name.Length, 63 - runId.Length - 1)].TrimEnd('-', '.')}-{runId}";

    private static RunSource.Manifest ReadManifest(FileInfo file)
    {
        if (!file.Exists)
        {
            throw new UsageException($"--filename: {file.FullName} does not exist");
        }
        try
        {
            var job = KubernetesYaml.Deserialize<V1Job>(File.ReadAllText(file.FullName));
            if (job?.Kind != "Job")
            {
                throw new UsageException($"--filename: {file.Name} holds a {job?.Kind ?? "nothing"}, not a Job");
            }
            return new RunSource.Manifest(job, file.Name);
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            throw new UsageException($"--filename: {file.Name} is not a Job manifest: {e.Message}", e);
        }
    }
}
