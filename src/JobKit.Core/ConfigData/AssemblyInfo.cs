using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("JobKit.Core.Tests")]
