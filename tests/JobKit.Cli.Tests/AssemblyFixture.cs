using JobKit.Testing;
using Xunit;

[assembly: AssemblyFixture(typeof(ClusterFixture))]
