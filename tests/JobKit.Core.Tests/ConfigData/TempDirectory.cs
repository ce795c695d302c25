using System.Diagnostics;
using System.Text;
using Xunit;

namespace JobKit.Core.Tests.ConfigData;

/// <summary>A fresh directory for one test, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("jobkit-configdata-").FullName;
    }

    public string Path { get; }

    public string Combine(string relative) => System.IO.Path.Combine(Path, relative);

    public TempDirectory Text(string relative, string content) => Bytes(relative, Encoding.UTF8.GetBytes(content));

    public TempDirectory Bytes(string relative, byte[] content)
    {
        var full = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return this;
    }

    public TempDirectory Dir(string relative)
    {
        Directory.CreateDirectory(Combine(relative));
        return this;
    }

    public TempDirectory Symlink(string relative, string target)
    {
        File.CreateSymbolicLink(Combine(relative), target);
        return this;
    }

    public TempDirectory Fifo(string relative)
    {
        var start = new ProcessStartInfo("mkfifo") { UseShellExecute = false };
        start.ArgumentList.Add(Combine(relative));
        using var process = Process.Start(start)!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return this;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
