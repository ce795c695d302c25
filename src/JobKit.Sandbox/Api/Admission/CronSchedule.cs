using System.Globalization;

namespace JobKit.Sandbox.Api.Admission;

/// <summary>
/// robfig/cron/v3 <c>ParseStandard</c> as CronJob validation uses it, for its error messages: 5 fields or a
/// descriptor (@yearly, @every 5m...), optional TZ=/CRON_TZ= prefix.
/// </summary>
internal static class CronSchedule
{
    private sealed record Bounds(int Min, int Max, Dictionary<string, int>? Names);

    private static readonly Bounds Minutes = new(0, 59, null);
    private static readonly Bounds Hours = new(0, 23, null);
    private static readonly Bounds Dom = new(1, 31, null);
    private static readonly Bounds Months = new(1, 12, new(StringComparer.Ordinal)
    {
        ["jan"] = 1,
        ["feb"] = 2,
        ["mar"] = 3,
        ["apr"] = 4,
        ["may"] = 5,
        ["jun"] = 6,
        ["jul"] = 7,
        ["aug"] = 8,
        ["sep"] = 9,
        ["oct"] = 10,
        ["nov"] = 11,
        ["dec"] = 12,
    });
    private static readonly Bounds Dow = new(0, 6, new(StringComparer.Ordinal)
    {
        ["sun"] = 0,
        ["mon"] = 1,
        ["tue"] = 2,
        ["wed"] = 3,
        ["thu"] = 4,
        ["fri"] = 5,
        ["sat"] = 6,
    });

    /// <summary>Null when the schedule parses, else the parser's error message.</summary>
    public static string? Error(string spec)
    {
        if (spec.Length == 0)
        {
            return "empty spec string";
        }
        if (spec.StartsWith("TZ=", StringComparison.Ordinal) || spec.StartsWith("CRON_TZ=", StringComparison.Ordinal))
        {
            var i = spec.IndexOf(' ', StringComparison.Ordinal);
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            var tz = i < 0 ? spec[(eq + 1)..] : spec[(eq + 1)..i];
            if (!Validation.TimeZoneExists(tz))
            {
                return $"provided bad location {tz}: unknown time zone {tz}";
            }
            spec = i < 0 ? "" : spec[(i + 1)..].Trim();
        }
        if (spec.StartsWith('@'))
        {
            return Descriptor(spec);
        }
        var fields = spec.Split([' ', '\t', '\n', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            return $"expected exactly 5 fields, found {fields.Length}: [{string.Join(" ", fields)}]";
        }
        Bounds[] bounds = [Minutes, Hours, Dom, Months, Dow];
        for (var f = 0; f < 5; f++)
        {
            foreach (var expr in fields[f].Split(','))
            {
                var error = Range(expr, bounds[f]);
                if (error is not null)
                {
                    return error;
                }
            }
        }
        return null;
    }

    private static string? Descriptor(string spec)
    {
        switch (spec)
        {
            case "@yearly" or "@annually" or "@monthly" or "@weekly" or "@daily" or "@midnight" or "@hourly":
                return null;
        }
        const string every = "@every ";
        if (spec.StartsWith(every, StringComparison.Ordinal))
        {
            var duration = spec[every.Length..];
            return GoDuration.IsValid(duration) ? null : $"failed to parse duration {spec}: time: invalid duration {FieldErrors.Q(duration)}";
        }
        return $"unrecognized descriptor: {spec}";
    }

    private static string? Range(string expr, Bounds r)
    {
        var rangeAndStep = expr.Split('/');
        var lowAndHigh = rangeAndStep[0].Split('-');
        var singleDigit = lowAndHigh.Length == 1;
        int start, end;
        if (lowAndHigh[0] is "*" or "?")
        {
            start = r.Min;
            end = r.Max;
        }
        else
        {
            var error = ParseIntOrName(lowAndHigh[0], r.Names, out start);
            if (error is not null)
            {
                return error;
            }
            switch (lowAndHigh.Length)
            {
                case 1:
                    end = start;
                    break;
                case 2:
                    error = ParseIntOrName(lowAndHigh[1], r.Names, out end);
                    if (error is not null)
                    {
                        return error;
                    }
                    break;
                default:
                    return $"too many hyphens: {expr}";
            }
        }
        int step;
        switch (rangeAndStep.Length)
        {
            case 1:
                step = 1;
                break;
            case 2:
                {
                    var error = MustParseInt(rangeAndStep[1], out step);
                    if (error is not null)
                    {
                        return error;
                    }
                    if (singleDigit)
                    {
                        end = r.Max;
                    }
                    if (step > 1)
                    {
                        // extra bit is irrelevant for validation
                    }
                    break;
                }
            default:
                return $"too many slashes: {expr}";
        }
        if (start < r.Min)
        {
            return $"beginning of range ({start}) below minimum ({r.Min}): {expr}";
        }
        if (end > r.Max)
        {
            return $"end of range ({end}) above maximum ({r.Max}): {expr}";
        }
        if (start > end)
        {
            return $"beginning of range ({start}) beyond end of range ({end}): {expr}";
        }
        if (step == 0)
        {
            return $"step of range should be a positive number: {expr}";
        }
        return null;
    }

    private static string? ParseIntOrName(string expr, Dictionary<string, int>? names, out int value)
    {
        if (names is not null && names.TryGetValue(expr.ToLowerInvariant(), out value))
        {
            return null;
        }
        return MustParseInt(expr, out value);
    }

    private static string? MustParseInt(string expr, out int value)
    {
        if (!int.TryParse(expr, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return $"failed to parse int from {expr}: strconv.Atoi: parsing {FieldErrors.Q(expr)}: invalid syntax";
        }
        if (value < 0)
        {
            return $"negative number ({value}) not allowed: {expr}";
        }
        return null;
    }
}

/// <summary>Go's time.ParseDuration syntax check ("5m", "1h30m", "1.5s").</summary>
internal static class GoDuration
{
    public static bool IsValid(string s)
    {
        if (s.Length == 0)
        {
            return false;
        }
        var i = 0;
        if (s[0] is '+' or '-')
        {
            i++;
        }
        if (s[i..] == "0")
        {
            return true;
        }
        if (i >= s.Length)
        {
            return false;
        }
        while (i < s.Length)
        {
            var startDigits = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            var hadInt = i > startDigits;
            var hadFrac = false;
            if (i < s.Length && s[i] == '.')
            {
                i++;
                var f = i;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
                hadFrac = i > f;
            }
            if (!hadInt && !hadFrac)
            {
                return false;
            }
            var u = i;
            while (i < s.Length && s[i] != '.' && !char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            if (s[u..i] is not ("ns" or "us" or "µs" or "μs" or "ms" or "s" or "m" or "h"))
            {
                return false;
            }
        }
        return true;
    }
}
