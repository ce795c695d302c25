using System.Globalization;
using System.Text;

namespace JobKit.Sandbox.Api.Protobuf;

/// <summary>Go's <c>time.Duration.String()</c>, which is metav1.Duration's JSON: "1m30s", "1h0m0s", "1.5s", "300ms", "0s".</summary>
internal static class GoDuration
{
    public static string Format(long nanoseconds)
    {
        if (nanoseconds == 0)
        {
            return "0s";
        }
        var negative = nanoseconds < 0;
        var u = negative ? unchecked((ulong)-nanoseconds) : (ulong)nanoseconds;
        var text = new StringBuilder();
        if (u < 1_000_000_000)
        {
            if (u < 1_000)
            {
                text.Append(u.ToString(CultureInfo.InvariantCulture)).Append("ns");
            }
            else if (u < 1_000_000)
            {
                text.Append(Fraction(u, 3)).Append("µs");
            }
            else
            {
                text.Append(Fraction(u, 6)).Append("ms");
            }
        }
        else
        {
            var seconds = u / 1_000_000_000;
            var fraction = u % 1_000_000_000;
            var minutes = seconds / 60;
            var hours = minutes / 60;
            if (hours > 0)
            {
                text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
            }
            if (minutes > 0)
            {
                text.Append((minutes % 60).ToString(CultureInfo.InvariantCulture)).Append('m');
            }
            text.Append(Fraction((seconds % 60 * 1_000_000_000) + fraction, 9)).Append('s');
        }
        return negative ? "-" + text : text.ToString();
    }

    /// <summary><paramref name="value"/> / 10^<paramref name="digits"/> with the fraction's trailing zeros cut.</summary>
    private static string Fraction(ulong value, int digits)
    {
        var scale = 1UL;
        for (var i = 0; i < digits; i++)
        {
            scale *= 10;
        }
        var whole = (value / scale).ToString(CultureInfo.InvariantCulture);
        var fraction = (value % scale).ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0');
        return fraction.Length == 0 ? whole : $"{whole}.{fraction}";
    }
}
