using System.Globalization;
using System.Text.RegularExpressions;

namespace JobKit.Cli.Commands;

/// <summary>Durations as kubectl takes them (Go's time.ParseDuration: <c>90s</c>, <c>1h30m</c>, <c>500ms</c>); a bare number means seconds, <c>0</c> means none.</summary>
internal static partial class Durations
{
    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")]
    private static partial Regex Part();

    public static bool TryParse(string text, out TimeSpan? duration)
    {
        duration = null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            duration = seconds == 0 ? null : TimeSpan.FromSeconds(seconds);
            return seconds >= 0;
        }
        var total = TimeSpan.Zero;
        var consumed = 0;
        foreach (Match m in Part().Matches(text))
        {
            if (m.Index != consumed)
            {
                return false;
            }
            consumed += m.Length;
            var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                "ms" => TimeSpan.FromMilliseconds(value),
                "us" or "µs" => TimeSpan.FromMicroseconds(value),
                _ => TimeSpan.FromTicks((long)(value / 100)),
            };
        }
        if (consumed != text.Length || consumed == 0)
        {
            return false;
        }
        duration = total == TimeSpan.Zero ? null : total;
        return true;
    }
}
