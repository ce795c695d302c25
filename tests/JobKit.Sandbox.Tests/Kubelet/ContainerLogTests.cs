using System.Text;
using JobKit.Sandbox.Kubelet;
using Xunit;

namespace JobKit.Sandbox.Tests.Kubelet;

public class ContainerLogTests
{
    [Fact]
    public void Timestamps_are_rfc3339_nano_without_trailing_zeros()
    {
        Assert.Equal("2026-11-25T12:41:55.2636Z", ContainerLogFile.FormatTimestamp(new DateTime(2026, 11, 25, 12, 41, 55, DateTimeKind.Utc).AddTicks(2_636_000)));
        Assert.Equal("2026-11-25T12:41:55Z", ContainerLogFile.FormatTimestamp(new DateTime(2026, 11, 25, 12, 41, 55, DateTimeKind.Utc)));
    }

    [Fact]
    public void Records_round_trip_through_the_file_and_unfinished_lines_wait()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kubelet-log-{Guid.NewGuid():N}.log");
        try
        {
            var time = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.WriteAllBytes(path, [
                .. ContainerLogFile.EncodeRecord(time, "stdout", false, "hello world"u8),
                .. ContainerLogFile.EncodeRecord(time.AddSeconds(1), "stderr", true, "no newline"u8),
                .. "2026-01-02T03:04:07Z stdout F half"u8,
            ]);
            var reader = new LogFileReader(path);
            var records = reader.ReadNew();
            Assert.Equal(2, records.Count);
            Assert.Equal("hello world", Encoding.UTF8.GetString(records[0].Content.Span));
            Assert.False(records[0].Partial);
            Assert.Equal(time, records[0].Time);
            Assert.True(records[1].Partial);
            Assert.Equal("2026-01-02T03:04:06Z", records[1].Timestamp);

            File.AppendAllText(path, " written\n");
            var rest = Assert.Single(reader.ReadNew());
            Assert.Equal("half written", Encoding.UTF8.GetString(rest.Content.Span));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
