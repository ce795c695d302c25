using System.Net;
using JobKit.Core.Config;
using JobKit.Core.Runs;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace JobKit.Cli.Commands;

/// <summary>How every command that talks to a cluster turns what went wrong into one line on stderr and an exit code.</summary>
internal static class CommandErrors
{
    public static async Task<int> GuardAsync(TerminationSignals signals, Func<Task<int>> command)
    {
        try
        {
            return await command().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (signals.ExitCode is { } signalled)
        {
            return signalled;
        }
        catch (Exception e) when (e is UsageException or RunInputException or ConfigInputException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (HttpOperationException e)
        {
            await Console.Error.WriteLineAsync($"error: {TryStatus(e)?.Message ?? $"{(int)e.Response.StatusCode} {e.Response.ReasonPhrase}"}").ConfigureAwait(false);
            // The server refusing what was asked (invalid, not found, taken) is bad input; the rest is the API's trouble.
            return e.Response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.BadRequest
                ? ExitCodes.Usage
                : ExitCodes.Api;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"error: cannot reach the API server: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Api;
        }
        catch (TaskCanceledException e) when (signals.ExitCode is null)
        {
            await Console.Error.WriteLineAsync($"error: the API server did not answer within --request-timeout ({e.Message})").ConfigureAwait(false);
            return ExitCodes.Api;
        }
    }

    private static V1Status? TryStatus(HttpOperationException e)
    {
        try
        {
            return string.IsNullOrEmpty(e.Response.Content) ? null : KubernetesJson.Deserialize<V1Status>(e.Response.Content);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
