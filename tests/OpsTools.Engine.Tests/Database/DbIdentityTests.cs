using OpsTools.Database;

namespace OpsTools.Engine.Tests.Database;

/// <summary>The identity block of database results is one contract, so a new result type cannot leave a part of it out.</summary>
public sealed class DbIdentityTests
{
    [Fact]
    public void Every_result_type_with_a_ConnectionId_carries_the_whole_identity_block()
    {
        var withId = typeof(IDbIdentity).Assembly.GetExportedTypes()
            .Where(t => t.IsClass && t.GetProperty("ConnectionId") is not null)
            // A summary over states spans every database of a server: it has no one database to name.
            .Where(t => t != typeof(DbConnectionSummary))
            .ToList();
        Assert.True(withId.Count >= 14, $"only {withId.Count} types found");
        Assert.All(withId, t => Assert.True(typeof(IDbIdentity).IsAssignableFrom(t), $"{t.FullName} has a ConnectionId but is not an IDbIdentity"));
    }
}
