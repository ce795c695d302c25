using System.Runtime.InteropServices;

namespace JobKit.Core.ConfigData;

internal enum FileKind
{
    Regular,
    Directory,
    Symlink,
    Other,
}

/// <summary>
/// A directory entry's type as lstat(2) reports it, which .NET does not expose: FileInfo cannot tell a regular file
/// from a FIFO, socket or device, and kubectl packages regular files only (reading a FIFO would block forever).
/// </summary>
internal static class FileType
{
    private const int TypeMask = 0xF000;
    private const int RegularType = 0x8000;
    private const int DirectoryType = 0x4000;
    private const int SymlinkType = 0xA000;

    private static bool nativeUnavailable;

    public static FileKind Of(FileSystemInfo entry)
    {
        if (!OperatingSystem.IsWindows() && !nativeUnavailable)
        {
            try
            {
                // SystemNative_LStat fills the runtime's FileStatus: int32 Flags, then int32 Mode with the S_IFMT bits.
                var status = new byte[512];
                if (LStat(entry.FullName, status) == 0)
                {
                    return (BitConverter.ToInt32(status, 4) & TypeMask) switch
                    {
                        RegularType => FileKind.Regular,
                        DirectoryType => FileKind.Directory,
                        SymlinkType => FileKind.Symlink,
                        _ => FileKind.Other,
                    };
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                nativeUnavailable = true;
            }
        }
        if (entry.Attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            return FileKind.Symlink;
        }
        return entry is DirectoryInfo ? FileKind.Directory : FileKind.Regular;
    }

    // DllImport, not LibraryImport: the generated marshalling needs AllowUnsafeBlocks, which JobKit.Core does not set.
#pragma warning disable SYSLIB1054
    [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int LStat(string path, [Out] byte[] output);
#pragma warning restore SYSLIB1054
}
