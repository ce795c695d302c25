using System.CommandLine;
using JobKit.Core.Runs;

namespace JobKit.Cli.Commands;

/// <summary>
/// <c>kubectl create transient_configmap NAME ... --job-name=J (--job-from=cronjob/C | --job-image=IMG [-- COMMAND])</c>:
/// the interface of the kubectl plugin JobKit replaces (miyamo2/kubectl-create-transient_configmap), on JobKit's engine.
/// </summary>
public static class TransientConfigMapCommand
{
    public const string PluginName = "kubectl-create-transient_configmap";

    public static RootCommand Create()
    {
        var flags = new RunFlags();
        var name = new Argument<string>("NAME") { Description = "The ConfigMap name the Job reads; the run creates NAME-<run id>, seen by its Job only." };
        var command = new Argument<string[]>("COMMAND") { Description = "With --job-image: the command (after --) and its arguments.", Arity = ArgumentArity.ZeroOrMore };
        var jobName = new Option<string>("--job-name") { Description = "Name of the Job to create.", Required = true };
        var jobFrom = new Option<string?>("--job-from") { Description = "The CronJob to run, as cronjob/NAME (like kubectl create job --from)." };
        var jobImage = new Option<string?>("--job-image") { Description = "Image of a one-container Job (like kubectl create job --image); it gets the ConfigMap by envFrom." };
        var root = new RootCommand("Run a Job once with a ConfigMap only it sees, wait for it, stream its logs, then delete both (JobKit's kubectl create transient_configmap).")
        {
            name, command, jobName, jobFrom, jobImage,
        };
        flags.AddTo(root);
        root.SetAction((parse, _) => RunExecution.RunAsync(parse, flags, ns =>
        {
            var from = parse.GetValue(jobFrom);
            var image = parse.GetValue(jobImage);
            RunSource source = (from, image) switch
            {
                (null, null) => throw new UsageException("one of --job-from=cronjob/NAME or --job-image=IMAGE is required"),
                ({ }, { }) => throw new UsageException("--job-from and --job-image cannot be combined"),
                ({ } f, null) => (RunSource)CronJobSource(f, "--job-from"),
                (null, { } i) => new RunSource.Image(i, parse.GetValue(command) ?? []),
            };
            if (source is RunSource.CronJob && parse.GetValue(command) is { Length: > 0 })
            {
                throw new UsageException("a COMMAND can only be given with --job-image");
            }
            var content = flags.Sources.Read(parse, parse.GetValue(name));
            return new TransientRunRequest
            {
                Namespace = ns,
                JobName = parse.GetValue(jobName),
                Source = source,
                ConfigMapName = parse.GetValue(name),
                Data = content.Data,
                BinaryData = content.BinaryData.ToDictionary(e => e.Key, e => e.Value.ToArray()),
                TtlSecondsAfterFinished = parse.GetValue(flags.TtlSecondsAfterFinished),
            };
        }, "create transient_configmap completed"));
        return root;
    }

    /// <summary>kubectl create job --from accepts <c>cronjob/NAME</c> and <c>cronjob.batch/NAME</c> (and cronjobs/...).</summary>
    public static RunSource.CronJob CronJobSource(string from, string flag)
    {
        var slash = from.IndexOf('/', StringComparison.Ordinal);
        var kind = slash < 0 ? "" : from[..slash].ToLowerInvariant();
        if (kind is not ("cronjob" or "cronjobs" or "cronjob.batch" or "cronjobs.batch") || slash == from.Length - 1)
        {
            throw new UsageException($"{flag}: from must be an existing cronjob, as cronjob/NAME (got \"{from}\")");
        }
        return new RunSource.CronJob(from[(slash + 1)..]);
    }
}
