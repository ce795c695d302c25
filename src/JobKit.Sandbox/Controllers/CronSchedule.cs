using System.Globalization;
using Cronos;
using k8s.Models;

namespace JobKit.Sandbox.Controllers;

/// <summary>
/// A parsed CronJob schedule with the semantics of robfig/cron's <c>ParseStandard</c> as the CronJob
/// controller uses it: five fields, the descriptors <c>@yearly @annually @monthly @weekly @daily @midnight
/// @hourly</c>, <c>@every &lt;duration&gt;</c>, and a <c>TZ=</c>/<c>CRON_TZ=</c> prefix (which is how
/// <c>spec.timeZone</c> is applied: formatSchedule prepends <c>TZ=&lt;timeZone&gt;</c>). Without a zone the
/// schedule runs in the controller's local time, as kube-controller-manager does.
/// </summary>
internal sealed class CronSchedule
{
    private static readonly HashSet<string> Descriptors = new(StringComparer.Ordinal)
    {
        "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
    };

    private readonly CronExpression? expression;
    private readonly TimeSpan every;

    private CronSchedule(CronExpression? expression, TimeSpan every, TimeZoneInfo zone)
    {
        this.expression = expression;
        this.every = every;
        Zone = zone;
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>Parses like cron.ParseStandard; throws <see cref="FormatException"/> with robfig's wording where it matters.</summary>
    public static CronSchedule Parse(string spec, TimeZoneInfo? localZone = null)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            throw new FormatException("empty spec string");
        }
        var zone = localZone ?? TimeZoneInfo.Local;
        spec = spec.Trim();
        if (spec.StartsWith("TZ=", StringComparison.Ordinal) || spec.StartsWith("CRON_TZ=", StringComparison.Ordinal))
        {
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            var space = spec.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0)
            {
                throw new FormatException("missing fields");
            }
            var name = spec[(eq + 1)..space];
            zone = FindZone(name) ?? throw new FormatException($"provided bad location {name}: unknown time zone {name}");
            spec = spec[space..].Trim();
        }
        if (spec.StartsWith('@'))
        {
            if (spec.StartsWith("@every ", StringComparison.Ordinal))
            {
                var d = ParseGoDuration(spec["@every ".Length..].Trim())
                    ?? throw new FormatException($"failed to parse duration {spec}");
                if (d < TimeSpan.FromSeconds(1))
                {
                    d = TimeSpan.FromSeconds(1);
                }
                d -= TimeSpan.FromTicks(d.Ticks % TimeSpan.TicksPerSecond);
                return new CronSchedule(null, d, zone);
            }
            if (!Descriptors.Contains(spec))
            {
                throw new FormatException($"unrecognized descriptor: {spec}");
            }
            return new CronSchedule(CronExpression.Parse(spec, CronFormat.Standard), TimeSpan.Zero, zone);
        }
        var fields = spec.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"expected exactly 5 fields, found {fields.Length}: [{string.Join(' ', fields)}]");
        }
        try
        {
            return new CronSchedule(CronExpression.Parse(string.Join(' ', fields), CronFormat.Standard), TimeSpan.Zero, zone);
        }
        catch (CronFormatException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>time.LoadLocation: an IANA name; "" and "UTC" are UTC, "Local" the local zone.</summary>
    public static TimeZoneInfo? FindZone(string? name)
    {
        if (string.IsNullOrEmpty(name) || name == "UTC")
        {
            return TimeZoneInfo.Utc;
        }
        if (name == "Local")
        {
            return TimeZoneInfo.Local;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (TimeZoneNotFoundException)
        {
            return null;
        }
        catch (InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// <summary>Schedule.Next: the first activation strictly after <paramref name="t"/> (whole seconds), or null if there is none.</summary>
    public DateTime? Next(DateTime t)
    {
        t = DateTime.SpecifyKind(t, DateTimeKind.Utc);
        if (expression is null)
        {
            // ConstantDelaySchedule: t rounded down to the second, plus the delay.
            return new DateTime(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc) + every;
        }
        return expression.GetNextOccurrence(t, Zone, inclusive: false);
    }

    /// <summary>Go's time.ParseDuration for the units robfig accepts after @every (ns, us, µs, ms, s, m, h).</summary>
    internal static TimeSpan? ParseGoDuration(string s)
    {
        if (s.Length == 0)
        {
            return null;
        }
        double totalNs = 0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }
            if (start == i || !double.TryParse(s[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }
            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }
            double? scale = s[unitStart..i] switch
            {
                "ns" => 1,
                "us" or "µs" or "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => null,
            };
            if (scale is null)
            {
                return null;
            }
            totalNs += value * scale.Value;
        }
        return TimeSpan.FromTicks((long)(totalNs / 100));
    }
}

/// <summary>Pure helpers of the CronJob controller (pkg/controller/cronjob/utils.go in Kubernetes 1.32).</summary>
internal static class CronJobLogic
{
    public const string ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";

    /// <summary>nextScheduleDelta: requeues land 100ms after the schedule time.</summary>
    public static readonly TimeSpan NextScheduleDelta = TimeSpan.FromMilliseconds(100);

    public enum Missed
    {
        None,
        Few,
        Many,
    }

    /// <summary>getJobName: "&lt;cronjob&gt;-&lt;scheduled time in minutes since the epoch&gt;".</summary>
    public static string JobName(string cronJobName, DateTime scheduledTime) =>
        string.Create(CultureInfo.InvariantCulture, $"{cronJobName}-{new DateTimeOffset(DateTime.SpecifyKind(scheduledTime, DateTimeKind.Utc)).ToUnixTimeSeconds() / 60}");

    /// <summary>The scheduled-timestamp annotation: RFC 3339 in the CronJob's time zone (UTC without one), "Z" for a zero offset.</summary>
    public static string FormatScheduledTimestamp(DateTime scheduledUtc, TimeZoneInfo zone)
    {
        var offset = zone.GetUtcOffset(DateTime.SpecifyKind(scheduledUtc, DateTimeKind.Utc));
        var local = new DateTimeOffset(DateTime.SpecifyKind(scheduledUtc, DateTimeKind.Utc)).ToOffset(offset);
        var text = local.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        if (offset == TimeSpan.Zero)
        {
            return text + "Z";
        }
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture, $"{text}{sign}{abs.Hours:00}:{abs.Minutes:00}");
    }

    /// <summary>formatSchedule: prepends TZ=&lt;timeZone&gt; unless the schedule already names a zone.</summary>
    public static string FormatSchedule(V1CronJob cj, out bool usesTzInSchedule)
    {
        var schedule = cj.Spec?.Schedule ?? "";
        usesTzInSchedule = schedule.Contains("TZ", StringComparison.Ordinal);
        if (usesTzInSchedule)
        {
            return schedule;
        }
        if (cj.Spec?.TimeZone is { } tz)
        {
            return $"TZ={tz} {schedule}";
        }
        return schedule;
    }

    /// <summary>
    /// mostRecentScheduleTime: from max(creation, lastScheduleTime[, now - startingDeadlineSeconds]) returns the
    /// earliest time, the most recent unmet schedule time (null if none) and how many were missed.
    /// </summary>
    public static (DateTime Earliest, DateTime? MostRecent, Missed Missed) MostRecentScheduleTime(V1CronJob cj, DateTime now, CronSchedule schedule, bool includeStartingDeadlineSeconds)
    {
        var earliest = (cj.Metadata.CreationTimestamp ?? now).ToUniversalTime();
        if (cj.Status?.LastScheduleTime is { } last)
        {
            earliest = last.ToUniversalTime();
        }
        if (includeStartingDeadlineSeconds && cj.Spec.StartingDeadlineSeconds is { } sds)
        {
            var deadline = now - TimeSpan.FromSeconds(sds);
            if (deadline > earliest)
            {
                earliest = deadline;
            }
        }
        var t1n = schedule.Next(earliest);
        if (t1n is not { } t1)
        {
            throw new FormatException("no schedule time after " + earliest.ToString("O", CultureInfo.InvariantCulture));
        }
        var t2 = schedule.Next(t1) ?? throw new FormatException("time difference between two schedules is less than 1 second");
        if (now < t1)
        {
            return (earliest, null, Missed.None);
        }
        if (now < t2)
        {
            return (earliest, t1, Missed.None);
        }
        var between = (long)Math.Round((t2 - t1).TotalSeconds);
        if (between < 1)
        {
            throw new FormatException("time difference between two schedules is less than 1 second");
        }
        var elapsed = (long)(now - t1).TotalSeconds;
        var missedCount = (elapsed / between) + 1;
        DateTime? mostRecent = null;
        var potentialEarliest = t1 + TimeSpan.FromSeconds((missedCount - 1 - 1) * between);
        for (var t = schedule.Next(potentialEarliest); t is { } tt && tt <= now; t = schedule.Next(tt))
        {
            mostRecent = tt;
        }
        var missed = missedCount > 100 ? Missed.Many : missedCount > 1 ? Missed.Few : Missed.None;
        return (earliest, mostRecent, missed);
    }

    /// <summary>nextScheduleTimeDuration: how long until the next schedule time (plus 100ms).</summary>
    public static TimeSpan NextScheduleTimeDuration(V1CronJob cj, DateTime now, CronSchedule schedule)
    {
        DateTime from;
        try
        {
            var (earliest, mostRecent, missed) = MostRecentScheduleTime(cj, now, schedule, false);
            from = mostRecent ?? (missed == Missed.None ? earliest : now);
        }
        catch (FormatException)
        {
            from = now;
        }
        var next = schedule.Next(from) ?? now.AddYears(1);
        return next + NextScheduleDelta - now;
    }
}
