using System.Security;
using OpsTools.Configuration;
using OpsTools.Engine.Database;

namespace OpsTools.Engine.Tests.Database;

public sealed class PgTargetResolverTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("opstools-home-").FullName;

    private static Func<string, string?> Env(params (string, string)[] vars) =>
        name => vars.FirstOrDefault(v => v.Item1 == name).Item2;

    private static SecureString Secure(string s)
    {
        var ss = new SecureString();
        foreach (var c in s) ss.AppendChar(c);
        return ss;
    }

    [Fact]
    public void Libpq_environment_variables_fill_what_the_call_leaves_out()
    {
        var t = PgTargetResolver.Resolve(new PgTargetSpec(), Env(("PGHOST", "db1"), ("PGPORT", "6543"), ("PGDATABASE", "shop"), ("PGUSER", "ops"), ("PGPASSWORD", "s3cret-pw")), _home);
        Assert.Equal(("db1", 6543, "shop", "ops"), (t.Host, t.Port, t.Database, t.User));
        Assert.Equal("PGPASSWORD", t.PasswordSource);
        Assert.DoesNotContain("s3cret-pw", t.Display);
        Assert.DoesNotContain("s3cret-pw", t.ToString());
        Assert.Contains("Password=***", t.Display);
    }

    [Fact]
    public void Explicit_parameters_win_over_connection_string_over_environment_entry_over_variables()
    {
        var entry = new DatabaseEndpoint { Name = "app", Server = "from-entry", Database = "entrydb", User = "entryuser", Port = 5433 };
        var t = PgTargetResolver.Resolve(new PgTargetSpec
        {
            ConnectionString = "Host=from-string;Database=stringdb",
            Database = "explicitdb",
            Endpoint = entry,
        }, Env(("PGHOST", "from-var"), ("PGUSER", "varuser")), _home);
        Assert.Equal("from-string", t.Host);
        Assert.Equal("explicitdb", t.Database);
        Assert.Equal("entryuser", t.User);
        Assert.Equal(5433, t.Port);
        Assert.Equal("app", t.Name);
    }

    [Fact]
    public void Postgresql_urls_are_understood_and_their_password_hidden()
    {
        var t = PgTargetResolver.Resolve(new PgTargetSpec { ConnectionString = "postgresql://ops:p%40ss-word@db2:5544/shop?sslmode=require" }, Env(), _home);
        Assert.Equal(("db2", 5544, "shop", "ops"), (t.Host, t.Port, t.Database, t.User));
        Assert.Equal("the connection string", t.PasswordSource);
        Assert.DoesNotContain("p@ss-word", t.Display);
        Assert.Contains("SSL Mode=Require", t.Display);
    }

    [Fact]
    public void Credential_beats_every_other_password_source()
    {
        var t = PgTargetResolver.Resolve(new PgTargetSpec { User = "admin", Password = Secure("from-credential"), Server = "h" }, Env(("PGPASSWORD", "from-var")), _home);
        Assert.Equal("-Credential", t.PasswordSource);
        Assert.Equal("admin", t.User);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Pgpass_is_read_with_wildcards_and_escapes_and_ignored_when_others_can_read_it()
    {
        var pgpass = Path.Combine(_home, ".pgpass");
        File.WriteAllText(pgpass, "# comment\nother:5432:*:ops:wrong\ndb1:*:shop:ops:pa\\:ss\n*:*:*:*:fallback\n");
        File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var t = PgTargetResolver.Resolve(new PgTargetSpec { Server = "db1", Database = "shop", User = "ops" }, Env(), _home);
        Assert.Equal("~/.pgpass", t.PasswordSource);
        var t2 = PgTargetResolver.Resolve(new PgTargetSpec { Server = "db9", Database = "x", User = "y" }, Env(), _home);
        Assert.Equal("~/.pgpass", t2.PasswordSource);

        File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var t3 = PgTargetResolver.Resolve(new PgTargetSpec { Server = "db1", Database = "shop", User = "ops" }, Env(), _home);
        Assert.StartsWith("none", t3.PasswordSource);
    }

    [Fact]
    public void Missing_password_variable_and_bad_input_are_clear_errors_without_secrets()
    {
        var entry = new DatabaseEndpoint { Name = "app", Server = "h", PasswordVariable = "APP_DB_PASSWORD" };
        var e = Assert.Throws<OpsToolsException>(() => PgTargetResolver.Resolve(new PgTargetSpec { Endpoint = entry }, Env(), _home));
        Assert.Equal("DbPasswordVariableNotSet", e.ErrorId);
        Assert.Contains("APP_DB_PASSWORD", e.Message);

        var bad = Assert.Throws<OpsToolsException>(() => PgTargetResolver.Resolve(new PgTargetSpec { ConnectionString = "Host=h;Password=topsecret-1;Bogus Key=1" }, Env(), _home));
        Assert.Equal("DbConnectionStringInvalid", bad.ErrorId);
        Assert.DoesNotContain("topsecret-1", bad.Message);

        var ssl = Assert.Throws<OpsToolsException>(() => PgTargetResolver.Resolve(new PgTargetSpec { Server = "h", SslMode = "sometimes" }, Env(), _home));
        Assert.Contains("sslmode 'sometimes'", ssl.Message);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);
}
