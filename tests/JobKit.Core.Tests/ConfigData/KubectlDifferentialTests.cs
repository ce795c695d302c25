using System.Diagnostics;
using System.Text;
using System.Text.Json;
using JobKit.Core.ConfigData;
using Xunit;

namespace JobKit.Core.Tests.ConfigData;

/// <summary>
/// Each case runs the real <c>kubectl create configmap x FLAGS --dry-run=client -o json</c> (which never contacts a
/// server: it gets an empty kubeconfig) in a fresh directory and requires <see cref="ConfigDataBuilder"/> to produce
/// the same data and binaryData, or to fail exactly when kubectl fails, with kubectl's message inside its own.
/// </summary>
public sealed class KubectlDifferentialTests
{
    private const string SetVariable = "JOBKIT_TEST_CONFIGDATA_SET";
    private const string UnsetVariable = "JOBKIT_TEST_CONFIGDATA_UNSET";

    private enum Expect
    {
        /// <summary>Same data, or both fail with kubectl's message contained in ours.</summary>
        Same,

        /// <summary>Both fail; our message words the problem differently (pflag's CSV errors).</summary>
        BothFail,

        /// <summary>kubectl silently drops data; we fail instead (deliberate).</summary>
        KubectlDropsWeFail,
    }

    private sealed record Case(string[] Flags, Action<TempDirectory>? Setup = null, Expect Expect = Expect.Same);

    private static readonly byte[] Binary = [0xff, 0xfe, 0x00, 0x01, 0x80];

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // --from-literal
        ["literal: '=' in the value"] = new(["--from-literal=a=b=c", "--from-literal=url=http://h/?x=1&y=2"]),
        ["literal: empty value"] = new(["--from-literal=a="]),
        ["literal: unicode"] = new(["--from-literal=greeting=héllo wörld ✓ 日本語 🎉", "--from-literal=zw=\u200b\u00a0"]),
        ["literal: several"] = new(["--from-literal=b=2", "--from-literal=a=1", "--from-literal=C=3"]),
        ["literal: newline and tab in the value"] = new(["--from-literal=a=line1\nline2\r\n\tx "]),
        ["literal: commas are not split"] = new(["--from-literal=a=1,2", "--from-literal=b=\"x,y\""]),
        ["literal: no '='"] = new(["--from-literal=a"]),
        ["literal: leading '='"] = new(["--from-literal==a"]),
        ["literal: only '='"] = new(["--from-literal=="]),
        ["literal: space in key"] = new(["--from-literal=a b=1"]),
        ["literal: key '.'"] = new(["--from-literal=.=1"]),
        ["literal: key '..'"] = new(["--from-literal=..=1"]),
        ["literal: key starting with '..'"] = new(["--from-literal=..a=1"]),
        ["literal: dotted keys"] = new(["--from-literal=.a=1", "--from-literal=a..b=2", "--from-literal=-_.=3"]),
        ["literal: 253-character key"] = new([$"--from-literal={new string('k', 253)}=v"]),
        ["literal: 254-character key"] = new([$"--from-literal={new string('k', 254)}=v"]),
        ["literal: 254-character key with a space"] = new([$"--from-literal={new string('k', 253)} =v"]),
        ["literal: non-ASCII key"] = new(["--from-literal=clé=v"]),
        ["literal: duplicate key"] = new(["--from-literal=a=1", "--from-literal=a=2"]),

        // --from-file
        ["file: basename as key"] = new(["--from-file=a.txt"], d => d.Text("a.txt", "hello\n")),
        ["file: explicit key"] = new(["--from-file=k=a.txt"], d => d.Text("a.txt", "hello")),
        ["file: nested path"] = new(["--from-file=sub/dir/b.conf"], d => d.Text("sub/dir/b.conf", "x=1\n")),
        ["file: ./ prefix"] = new(["--from-file=./a.txt"], d => d.Text("a.txt", "a")),
        ["file: binary"] = new(["--from-file=bin.dat"], d => d.Bytes("bin.dat", Binary)),
        ["file: UTF-8 surrogate encoding is binary"] = new(["--from-file=s"], d => d.Bytes("s", [0xed, 0xa0, 0x80])),
        ["file: overlong encoding is binary"] = new(["--from-file=o"], d => d.Bytes("o", [0xc0, 0x80])),
        ["file: NUL bytes are valid UTF-8"] = new(["--from-file=z"], d => d.Bytes("z", [0x61, 0x00, 0x62])),
        ["file: BOM kept"] = new(["--from-file=bom.txt"], d => d.Bytes("bom.txt", [0xef, 0xbb, 0xbf, 0x61])),
        ["file: empty"] = new(["--from-file=empty"], d => d.Text("empty", "")),
        ["file: CRLF kept"] = new(["--from-file=crlf"], d => d.Text("crlf", "a\r\nb\r\n")),
        ["file: unicode content"] = new(["--from-file=u"], d => d.Text("u", "日本語 🎉\n")),
        ["file: invalid basename"] = new(["--from-file=bad name.txt"], d => d.Text("bad name.txt", "x")),
        ["file: invalid basename, explicit key"] = new(["--from-file=good=bad name.txt"], d => d.Text("bad name.txt", "x")),
        ["file: basename starting with '..'"] = new(["--from-file=..x"], d => d.Text("..x", "x")),
        ["file: missing"] = new(["--from-file=nope.txt"]),
        ["file: missing, explicit key"] = new(["--from-file=k=nope.txt"]),
        ["file: '=' only"] = new(["--from-file=="]),
        ["file: missing key"] = new(["--from-file==a.txt"], d => d.Text("a.txt", "a")),
        ["file: missing path"] = new(["--from-file=k="]),
        ["file: two '='"] = new(["--from-file=a=b=c"]),
        ["file: invalid explicit key"] = new(["--from-file=a b=a.txt"], d => d.Text("a.txt", "a")),
        ["file: empty flag value"] = new(["--from-file="]),
        ["file: comma-separated"] = new(["--from-file=a.txt,k=b.txt"], d => d.Text("a.txt", "a").Text("b.txt", "b")),
        ["file: CSV-quoted comma"] = new(["--from-file=\"k=c,d.txt\""], d => d.Text("c,d.txt", "cd")),
        ["file: CSV-quoted doubled quote"] = new(["--from-file=\"k=q\"\"q\""], d => d.Text("q\"q", "q")),
        ["file: CSV empty field"] = new(["--from-file=a.txt,"], d => d.Text("a.txt", "a")),
        ["file: unterminated CSV quote"] = new(["--from-file=\"a.txt"], d => d.Text("a.txt", "a"), Expect.BothFail),
        ["file: bare CSV quote"] = new(["--from-file=a\"b"], d => d.Text("a\"b", "a"), Expect.BothFail),
        ["file: text after closing CSV quote"] = new(["--from-file=\"a\"b"], d => d.Text("a", "a"), Expect.BothFail),
        ["file: same basename twice"] = new(["--from-file=x/a", "--from-file=y/a"], d => d.Text("x/a", "1").Text("y/a", "2")),
        ["file: symlink given directly is followed"] = new(["--from-file=link"], d => d.Text("target", "t").Symlink("link", "target")),
        ["file: duplicate with a literal (files go first)"] = new(["--from-literal=a.txt=1", "--from-file=a.txt"], d => d.Text("a.txt", "a")),
        ["file: binary duplicate with a literal"] = new(["--from-literal=bin=1", "--from-file=bin"], d => d.Bytes("bin", Binary)),
        ["file: with literals"] = new(["--from-literal=lit=1", "--from-file=a.txt", "--from-file=bin"], d => d.Text("a.txt", "a").Bytes("bin", Binary)),

        // --from-file with a directory
        ["dir: regular files only"] = new(["--from-file=d"], d => d
            .Text("d/one", "1").Bytes("d/bin", Binary).Text("d/.hidden", "h").Text("d/sub/nested", "n")
            .Symlink("d/link", "one").Symlink("d/dirlink", "sub").Fifo("d/fifo")),
        ["dir: trailing slash"] = new(["--from-file=d/"], d => d.Text("d/a", "a")),
        ["dir: empty"] = new(["--from-file=d"], d => d.Dir("d")),
        ["dir: invalid file name is an error"] = new(["--from-file=d"], d => d.Text("d/ok", "1").Text("d/not ok", "2")),
        ["dir: invalid symlink name is skipped"] = new(["--from-file=d"], d => d.Text("d/ok", "1").Symlink("d/not ok", "ok")),
        ["dir: explicit key"] = new(["--from-file=k=d"], d => d.Text("d/a", "a")),
        ["dir: symlink to a directory"] = new(["--from-file=dl"], d => d.Text("d/a", "a").Symlink("dl", "d")),
        ["dir: duplicate with a file"] = new(["--from-file=d", "--from-file=a"], d => d.Text("d/a", "1").Text("a", "2")),

        // --from-env-file
        ["env: comments, blank lines, whitespace"] = new(["--from-env-file=e.env"], d => d.Text("e.env",
            "# comment\n\nA=1\n   B=two words  \n\tC=x=y\n  # indented comment\n   \t\nD=a#b\nE=\n")),
        ["env: quotes kept"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A=\"x\"\nB='y'\nC=\"multi\nD=line\"\n")),
        ["env: CRLF"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A=1\r\nB=2\r\r\n")),
        ["env: lone CR"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A=1\rB=2\nC=3\r")),
        ["env: no final newline"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A=1\nB=2")),
        ["env: BOM on the first line"] = new(["--from-env-file=e.env"], d => d.Bytes("e.env", [0xef, 0xbb, 0xbf, .. "A=1\nB=2\n"u8])),
        ["env: BOM on a later line"] = new(["--from-env-file=e.env"], d => d.Bytes("e.env", [.. "A=1\n"u8, 0xef, 0xbb, 0xbf, .. "B=2\n"u8])),
        ["env: BOM before a comment"] = new(["--from-env-file=e.env"], d => d.Bytes("e.env", [0xef, 0xbb, 0xbf, .. "# c\nA=1\n"u8])),
        ["env: unicode whitespace trimmed"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "\u00a0\u2003A=1\n\u3000B=\u00a02\u00a0\n")),
        ["env: unicode value"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A=日本語 🎉\n")),
        ["env: export"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "export A=1\n")),
        ["env: space before '='"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A =1\n")),
        ["env: leading digit"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "1A=1\n")),
        ["env: empty key"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "=1\n")),
        ["env: key '..'"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "..=1\n")),
        ["env: dotted and dashed keys"] = new(["--from-env-file=e.env"], d => d.Text("e.env", ".a=1\nb-c.d_e=2\n_=3\n")),
        ["env: 254-character key"] = new(["--from-env-file=e.env"], d => d.Text("e.env", new string('K', 254) + "=1\n")),
        ["env: key only, variable set"] = new(["--from-env-file=e.env"], d => d.Text("e.env", $"{SetVariable}\n")),
        ["env: key only, variable unset"] = new(["--from-env-file=e.env"], d => d.Text("e.env", $"{UnsetVariable}\n")),
        ["env: key only with trailing space"] = new(["--from-env-file=e.env"], d => d.Text("e.env", $"{SetVariable} \n")),
        ["env: duplicate key"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A=1\nA=2\n")),
        ["env: duplicate reported before a later bad line"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A=1\nA=2\nbad key=3\n")),
        ["env: invalid UTF-8"] = new(["--from-env-file=e.env"], d => d.Bytes("e.env", [.. "A=1\nB="u8, 0xff, .. "\n"u8])),
        ["env: invalid UTF-8 in a comment"] = new(["--from-env-file=e.env"], d => d.Bytes("e.env", [.. "# "u8, 0xff, .. "\nA=1\n"u8])),
        ["env: empty file"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "")),
        ["env: several files"] = new(["--from-env-file=a.env", "--from-env-file=b.env"], d => d.Text("a.env", "A=1\n").Text("b.env", "B=2\n")),
        ["env: comma-separated files"] = new(["--from-env-file=a.env,b.env"], d => d.Text("a.env", "A=1\n").Text("b.env", "B=2\n")),
        ["env: duplicate across files"] = new(["--from-env-file=a.env", "--from-env-file=b.env"], d => d.Text("a.env", "A=1\n").Text("b.env", "A=2\n")),
        ["env: missing"] = new(["--from-env-file=nope.env"]),
        ["env: directory"] = new(["--from-env-file=d"], d => d.Dir("d")),
        ["env: with a literal"] = new(["--from-env-file=e.env", "--from-literal=a=1"], d => d.Text("e.env", "A=1\n")),
        ["env: with a file"] = new(["--from-file=e.env", "--from-env-file=e.env"], d => d.Text("e.env", "A=1\n")),
        ["env: empty flag value with a literal"] = new(["--from-env-file=", "--from-literal=a=1"]),
        ["env: longest line kubectl reads"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "B=" + new string('x', 65533) + "\nC=3\n")),
        ["env: line too long"] = new(["--from-env-file=e.env"], d => d.Text("e.env", "A=1\nB=" + new string('x', 65534) + "\nC=3\n"), Expect.KubectlDropsWeFail),

        ["nothing at all"] = new([]),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Matches_kubectl(string name)
    {
        var testCase = Cases[name];
        using var directory = new TempDirectory();
        testCase.Setup?.Invoke(directory);
        var environment = new Dictionary<string, string?> { [SetVariable] = "from the environment", [UnsetVariable] = null };

        var kubectl = await RunKubectlAsync(directory, testCase.Flags, environment);
        ConfigDataResult? ours = null;
        ConfigDataException? error = null;
        try
        {
            ours = ConfigDataBuilder.Build(ToSources(testCase.Flags), new ConfigDataOptions
            {
                WorkingDirectory = directory.Path,
                GetEnvironmentVariable = n => environment.GetValueOrDefault(n),
                ObjectName = "x",
                MaxTotalSize = null,
            });
        }
        catch (ConfigDataException e)
        {
            error = e;
        }

        switch (testCase.Expect)
        {
            case Expect.Same when kubectl.ExitCode == 0:
                Assert.True(error is null, $"kubectl succeeded but we failed: {error?.Message}\n{kubectl}");
                var (data, binaryData) = ParseKubectlOutput(kubectl.StandardOutput);
                Assert.Equal(data, ours!.Data);
                Assert.Equal(binaryData.Keys, ours.BinaryData.Keys);
                foreach (var (key, value) in binaryData)
                {
                    Assert.Equal(value, ours.BinaryData[key].ToArray());
                }
                break;
            case Expect.Same:
                Assert.True(error is not null, $"kubectl failed but we succeeded\n{kubectl}");
                var kubectlMessage = kubectl.StandardError.Trim();
                Assert.StartsWith("error: ", kubectlMessage, StringComparison.Ordinal);
                Assert.Contains(kubectlMessage["error: ".Length..], error.Message, StringComparison.Ordinal);
                break;
            case Expect.BothFail:
                Assert.NotEqual(0, kubectl.ExitCode);
                Assert.NotNull(error);
                break;
            case Expect.KubectlDropsWeFail:
                Assert.Equal(0, kubectl.ExitCode);
                Assert.Equal(["A"], ParseKubectlOutput(kubectl.StandardOutput).Data.Keys);
                Assert.NotNull(error);
                break;
        }
        if (error is not null)
        {
            Assert.DoesNotContain('\n', error.Message);
            Assert.StartsWith("--from-", error.Message, StringComparison.Ordinal);
        }
    }

    private static ConfigDataSources ToSources(string[] flags)
    {
        List<string> files = [], literals = [], envFiles = [];
        foreach (var flag in flags)
        {
            var equals = flag.IndexOf('=', StringComparison.Ordinal);
            var value = flag[(equals + 1)..];
            (flag[..equals] switch
            {
                "--from-file" => files,
                "--from-literal" => literals,
                "--from-env-file" => envFiles,
                _ => throw new ArgumentException(flag, nameof(flags)),
            }).Add(value);
        }
        return new ConfigDataSources(files, literals, envFiles);
    }

    private static (SortedDictionary<string, string> Data, SortedDictionary<string, byte[]> BinaryData) ParseKubectlOutput(string json)
    {
        using var document = JsonDocument.Parse(json);
        var data = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var binaryData = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (document.RootElement.TryGetProperty("data", out var dataElement))
        {
            foreach (var property in dataElement.EnumerateObject())
            {
                data.Add(property.Name, property.Value.GetString()!);
            }
        }
        if (document.RootElement.TryGetProperty("binaryData", out var binaryElement))
        {
            foreach (var property in binaryElement.EnumerateObject())
            {
                binaryData.Add(property.Name, property.Value.GetBytesFromBase64());
            }
        }
        return (data, binaryData);
    }

    /// <summary>Like <see cref="Kubectl.RunAsync"/>, with a working directory and a controlled environment.</summary>
    private static async Task<ProcessResult> RunKubectlAsync(TempDirectory directory, string[] flags, Dictionary<string, string?> environment)
    {
        var kubeconfig = directory.Combine("kubeconfig.empty");
        await File.WriteAllTextAsync(kubeconfig, "", TestContext.Current.CancellationToken);
        var start = new ProcessStartInfo(Kubectl.Executable)
        {
            WorkingDirectory = directory.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        string[] args = ["--kubeconfig", kubeconfig, "create", "configmap", "x", .. flags, "--dry-run=client", "-o", "json"];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("KUBECONFIG");
        foreach (var (variable, value) in environment)
        {
            start.Environment[variable] = value;
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Skip($"kubectl not found ({Kubectl.Executable}); set {ClusterFixture.KubectlVariable}");
            throw;
        }
        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(2));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            return new ProcessResult($"kubectl {string.Join(' ', args)}", process.ExitCode, await stdout, await stderr);
        }
    }
}
