using System.Text;
using OpsTools.Engine.Backup;

namespace OpsTools.Engine.Tests.Backup;

public sealed class DatabaseRestorerTests
{
    [Theory]
    [InlineData("app")]
    [InlineData("rs \"quoted\" it's")]
    [InlineData("a_database_name_that_is_quite_long_already_and_then_some_more_xx")]
    [InlineData("ääääääääääääääääääääääääääääääääää")]
    public void Derived_names_stay_within_63_bytes_and_keep_the_suffix(string name)
    {
        foreach (var suffix in new[] { "_restore_20260101T000000Z", "_pre_restore_20260101T000000Z" })
        {
            var d = DatabaseRestorer.Derived(name, suffix);
            Assert.EndsWith(suffix, d);
            Assert.True(Encoding.UTF8.GetByteCount(d) <= 63, d);
            Assert.StartsWith(d[..^suffix.Length], name);
        }
    }

    [Fact]
    public void Derived_names_have_no_equals_sign_which_libpq_would_read_as_a_connection_string()
    {
        Assert.Equal("a_b_restore_x", DatabaseRestorer.Derived("a=b", "_restore_x"));
    }

    [Fact]
    public void Two_derived_names_of_one_target_differ()
    {
        var name = new string('x', 63);
        Assert.NotEqual(DatabaseRestorer.Derived(name, "_restore_1"), DatabaseRestorer.Derived(name, "_pre_restore_1"));
    }
}
