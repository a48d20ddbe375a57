using OpsTools.TestKit;

namespace OpsTools.Module.Tests;

/// <summary>Tests that need a real PostgreSQL share one throwaway cluster (see PgCluster) and run one class at a time.</summary>
[CollectionDefinition("PostgreSQL")]
public sealed class PostgreSqlCollection : ICollectionFixture<PgClusterFixture> { }
