using System.Globalization;

namespace JobKit.Sandbox.Api;

/// <summary>metav1.Time as the API writes it: RFC 3339, UTC, whole seconds.</summary>
public static class Timestamps
{
    public static string Format(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
