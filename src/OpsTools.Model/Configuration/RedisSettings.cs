namespace OpsTools.Configuration;

/// <summary>The Redis server an environment file names (<c>Redis</c> section). Never a password: PasswordVariable names the variable that holds it.</summary>
public sealed class RedisSettings
{
    /// <summary>redis://[user@]host:port/db or rediss://... (a password in it is refused: use PasswordVariable).</summary>
    public string? Uri { get; set; }
    /// <summary>Host name or IP address (default 127.0.0.1).</summary>
    public string? Host { get; set; }
    /// <summary>TCP port (default 6379).</summary>
    public int? Port { get; set; }
    /// <summary>Database number (default 0).</summary>
    public int? Database { get; set; }
    /// <summary>ACL user (default: the default user).</summary>
    public string? User { get; set; }
    /// <summary>Name of an environment variable that holds the password.</summary>
    public string? PasswordVariable { get; set; }
    /// <summary>Connect with TLS (rediss://).</summary>
    public bool? Tls { get; set; }
    /// <summary>A PEM file with the CA that signed the server's certificate (redis-cli --cacert); relative to the environment file.</summary>
    public string? CaCertificate { get; set; }
    /// <summary>Accept any server certificate (redis-cli --insecure).</summary>
    public bool SkipCertificateCheck { get; set; }
    /// <summary>A PEM file with the client certificate for TLS client authentication (redis-cli --cert); relative to the environment file; implies TLS.</summary>
    public string? ClientCertificate { get; set; }
    /// <summary>A PEM file with the client certificate's private key (redis-cli --key); relative to the environment file. Default: the certificate file.</summary>
    public string? ClientKey { get; set; }

    public override string ToString() => Uri ?? $"{Host ?? "127.0.0.1"}:{Port ?? 6379}/{Database ?? 0}";
}

/// <summary>One queue an environment file names (<c>Queues</c> section).</summary>
public sealed class QueueEntry
{
    /// <summary>The queue's name (the list or stream key for List/Stream/SortedSet; the queue name for BullMQ, RQ, Celery).</summary>
    public string Name { get; set; } = "";
    /// <summary>Auto, List, Stream, SortedSet, BullMQ, RQ, Celery (default Auto: found from the keys).</summary>
    public string Kind { get; set; } = "Auto";
    /// <summary>BullMQ's key prefix (default 'bull').</summary>
    public string? Prefix { get; set; }
    /// <summary>Backlog at or above which this queue is a warning (default: the QueueBacklogWarning threshold).</summary>
    public double? BacklogWarning { get; set; }
    /// <summary>Backlog at or above which this queue is critical (default: QueueBacklogCritical).</summary>
    public double? BacklogCritical { get; set; }

    public override string ToString() => $"{Name} ({Kind})";
}

/// <summary>The PgBouncer admin console an environment file names (<c>PgBouncer</c> section).</summary>
public sealed class PgBouncerSettings
{
    /// <summary>Host name, IP address, or a Unix socket directory (starts with '/'). Default: PGHOST, else 127.0.0.1.</summary>
    public string? Host { get; set; }
    /// <summary>TCP port (default 6432).</summary>
    public int? Port { get; set; }
    /// <summary>An admin_users/stats_users entry (default: PGUSER, else 'pgbouncer').</summary>
    public string? User { get; set; }
    /// <summary>Name of an environment variable that holds the password (else PGPASSWORD, ~/.pgpass).</summary>
    public string? PasswordVariable { get; set; }

    public override string ToString() => $"{User ?? "pgbouncer"}@{Host ?? "127.0.0.1"}:{Port ?? 6432}/pgbouncer";
}
