using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("JobKit.Sandbox.Tests")]
