using System.Diagnostics;

namespace JobKit.Cli.Commands;

/// <summary>
/// kubectl's <c>-v=6</c>: one line per API request on stderr (<c>GET https://... 200 OK in 3 milliseconds</c>), so users
/// and benchmarks can see and count exactly what a command asks of the server. A watch or a log stream is logged when
/// its response starts.
/// </summary>
internal sealed class RequestLog : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"{request.Method} {request.RequestUri} {(int)response.StatusCode} {response.ReasonPhrase} in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} milliseconds").ConfigureAwait(false);
            return response;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"{request.Method} {request.RequestUri} failed after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} milliseconds: {e.Message}").ConfigureAwait(false);
            throw;
        }
    }
}
