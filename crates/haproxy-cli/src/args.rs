//! The command line, as plain data: clap parses into these types, and
//! `main` runs one function per subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The built-in socket directory when neither `--socket-dir`, `--socket`,
/// `--master` nor `HAPROXY_CLI_SOCKET_DIR` says otherwise.
pub const DEFAULT_SOCKET_DIR: &str = "/run/haproxy";

/// Operate every HAProxy process of a host through the Runtime API (stats
/// sockets): read stats, change servers, maps and ACLs, without a reload.
///
/// Values of several processes are combined (counters summed, times
/// averaged, names and states required to agree); where processes disagree
/// every process's value is shown.
#[derive(Debug, Parser)]
#[command(name = "haproxy-cli", version, max_term_width = 100)]
pub struct Cli {
    /// Use every live HAProxy stats socket in DIR (dead ones are skipped
    /// with a warning).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "HAPROXY_CLI_SOCKET_DIR",
        default_value = DEFAULT_SOCKET_DIR
    )]
    pub socket_dir: PathBuf,

    /// Only the socket files in the directory whose names match GLOB.
    #[arg(long, global = true, value_name = "GLOB")]
    pub pattern: Option<String>,

    /// Use this endpoint (repeatable; replaces --socket-dir): a UNIX socket
    /// path, `ipv4@HOST:PORT`, `ipv6@[ADDR]:PORT`, `HOST:PORT`, or a master
    /// socket with a worker selector (`/run/master.sock@1`,
    /// `/run/master.sock@!PID`).
    #[arg(long = "socket", global = true, value_name = "ENDPOINT")]
    pub sockets: Vec<String>,

    /// Use every worker of this master CLI socket (`show proc`), old
    /// workers still draining after a reload included.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "sockets")]
    pub master: Option<PathBuf>,

    /// Seconds to wait to connect, and for each read and write.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,

    /// Connection attempts after the first fails (connect errors and
    /// timeouts only; a command HAProxy answered is never retried):
    /// a number, or `forever`.
    #[arg(long, global = true, value_name = "N|forever", default_value = "0")]
    pub retry: String,

    /// Seconds between connection attempts.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 1.0)]
    pub retry_interval: f64,

    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Prometheus output (and the exporter): one series per process, with
    /// `pid` and `node` labels, instead of one combined series.
    #[arg(long, global = true)]
    pub per_process: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON: arrays of objects, numbers as numbers, empty fields as null.
    Json,
    /// CSV with a header, every column.
    Csv,
    /// Prometheus text exposition format.
    Prometheus,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// `show info` of every process, combined.
    Info,
    /// One `show info` metric, combined across processes (bare value).
    Metric {
        /// The metric's name as `show info` prints it (`Maxconn`,
        /// `CurrConns`, `Uptime_sec`, …).
        name: String,
    },
    /// Frontends.
    #[command(subcommand)]
    Frontend(FrontendCmd),
    /// Backends.
    #[command(subcommand)]
    Backend(BackendCmd),
    /// Servers.
    #[command(subcommand)]
    Server(ServerCmd),
    /// Maps (MAP is a numeric id, `#ID`, or the map's file).
    #[command(subcommand)]
    Map(MapCmd),
    /// ACLs (ACL is a numeric id, `#ID`, or the ACL's file).
    #[command(subcommand)]
    Acl(AclCmd),
    /// Global settings of every process.
    #[command(subcommand)]
    Global(GlobalCmd),
    /// `show errors` of every process (captured protocol errors).
    Errors {
        /// Only the errors of the proxy with this numeric id.
        #[arg(long, value_name = "IID")]
        proxy: Option<i64>,
    },
    /// Every frontend, backend and server with every field of every
    /// process.
    Dump,
    /// Send COMMAND as is to every process and print each reply (control
    /// characters are refused).
    Raw {
        /// The Runtime API command, e.g. 'show servers state'.
        command: String,
    },
    /// A live view of frontends, backends and servers (rates, sessions,
    /// status), refreshed in the terminal.
    Top(TopArgs),
    /// Serve Prometheus metrics over HTTP (`GET /metrics`, promex's names)
    /// for this host's processes or a fleet; see docs/prometheus.md.
    Exporter(ExporterArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

/// `exporter` options.
#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// Address to serve on, e.g. 127.0.0.1:9101.
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// Serve a snapshot up to SECS old instead of reading HAProxy again
    /// (0: a fresh one per scrape). Concurrent scrapers share one read.
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub max_age: f64,
    /// Answer within SECS: a target or process not read by then is
    /// `haproxy_up 0`, the rest is served.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub scrape_timeout: f64,
    /// Targets with labels, one a line: `ENDPOINT [label=value …]`, or
    /// `dir:PATH[:GLOB]` for a socket directory (replaces --socket and
    /// --socket-dir).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// At most N targets read at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// At most N HTTP requests served at once (a few more wait, the rest
    /// get 503).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub http_workers: usize,
}

/// `top` options.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// Seconds between refreshes.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub interval: f64,
    /// Stop after N refreshes (default: run until interrupted).
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
}

/// `frontend …`
#[derive(Debug, Subcommand)]
pub enum FrontendCmd {
    /// Every frontend.
    List,
    /// One frontend, every field.
    Show {
        /// The frontend.
        name: String,
    },
    /// Start accepting connections again.
    Enable {
        /// The frontend.
        name: String,
    },
    /// Stop accepting connections (the listeners stay bound).
    Disable {
        /// The frontend.
        name: String,
    },
    /// Stop the frontend for good (until a reload).
    Shutdown {
        /// The frontend.
        name: String,
    },
    /// Set the frontend's maxconn.
    SetMaxconn {
        /// The frontend.
        name: String,
        /// The new limit.
        maxconn: u32,
    },
}

/// `backend …`
#[derive(Debug, Subcommand)]
pub enum BackendCmd {
    /// Every backend.
    List,
    /// One backend, every field.
    Show {
        /// The backend.
        name: String,
    },
}

/// `server …`; SERVER is `BACKEND/SERVER`.
#[derive(Debug, Subcommand)]
pub enum ServerCmd {
    /// Every server (of the given backends only, when --backend is given).
    List {
        /// Only the servers of this backend (repeatable).
        #[arg(long = "backend", value_name = "NAME")]
        backends: Vec<String>,
    },
    /// One server, every field.
    Show {
        /// BACKEND/SERVER.
        server: String,
    },
    /// Leave maintenance (`enable server`).
    Enable {
        /// BACKEND/SERVER.
        server: String,
    },
    /// Enter maintenance (`disable server`).
    Disable {
        /// BACKEND/SERVER.
        server: String,
    },
    /// Normal mode: take traffic (`set server … state ready`).
    Ready {
        /// BACKEND/SERVER.
        server: String,
    },
    /// Drain: only persistent connections (`state drain`).
    Drain {
        /// BACKEND/SERVER.
        server: String,
    },
    /// Maintenance: no traffic, checks stopped (`state maint`).
    Maint {
        /// BACKEND/SERVER.
        server: String,
    },
    /// Set the weight: 0–256, or a percentage of the configured weight
    /// (`50%`).
    SetWeight {
        /// BACKEND/SERVER.
        server: String,
        /// The weight.
        weight: String,
    },
    /// Change the server's address (and port).
    SetAddr {
        /// BACKEND/SERVER.
        server: String,
        /// IPv4 or IPv6 address.
        addr: String,
        /// The port.
        port: Option<u16>,
    },
    /// Force the health-check state.
    SetHealth {
        /// BACKEND/SERVER.
        server: String,
        /// up, stopping or down.
        #[arg(value_enum)]
        state: HealthArg,
    },
    /// Force the agent-check state.
    SetAgent {
        /// BACKEND/SERVER.
        server: String,
        /// up or down.
        #[arg(value_enum)]
        state: HealthArg,
    },
    /// Close every session of the server.
    ShutdownSessions {
        /// BACKEND/SERVER.
        server: String,
    },
}

/// A forced check state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HealthArg {
    /// Up.
    Up,
    /// Stopping (health only).
    Stopping,
    /// Down.
    Down,
}

/// `map …`
#[derive(Debug, Subcommand)]
pub enum MapCmd {
    /// Every map.
    List,
    /// A map's entries.
    Show {
        /// Id or file.
        map: String,
    },
    /// Look KEY up as HAProxy would.
    Get {
        /// Id or file.
        map: String,
        /// The key to look up.
        key: String,
    },
    /// Add an entry.
    Add {
        /// Id or file.
        map: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Change the value of the entries with KEY (or the entry `0x…`).
    Set {
        /// Id or file.
        map: String,
        /// The key, or an entry id `0x…`.
        key: String,
        /// The new value.
        value: String,
    },
    /// Delete the entries with KEY (or the entry `0x…`).
    Del {
        /// Id or file.
        map: String,
        /// The key, or an entry id `0x…`.
        key: String,
    },
    /// Delete every entry.
    Clear {
        /// Id or file.
        map: String,
    },
    /// Replace the whole map atomically with FILE's `key value` lines
    /// (HAProxy 2.4+: prepare, load, commit).
    Replace {
        /// Id or file.
        map: String,
        /// A file of `key value` lines (`-` for standard input).
        file: PathBuf,
    },
}

/// `acl …`
#[derive(Debug, Subcommand)]
pub enum AclCmd {
    /// Every ACL.
    List,
    /// An ACL's patterns.
    Show {
        /// Id or file.
        acl: String,
    },
    /// Match VALUE against the ACL as HAProxy would.
    Get {
        /// Id or file.
        acl: String,
        /// The value to match.
        value: String,
    },
    /// Add a pattern.
    Add {
        /// Id or file.
        acl: String,
        /// The pattern. (Not named `pattern` inside: that id belongs to
        /// the global `--pattern`, and clap would share the value.)
        #[arg(value_name = "PATTERN")]
        entry: String,
    },
    /// Delete the pattern KEY (or the entry `0x…`).
    Del {
        /// Id or file.
        acl: String,
        /// The pattern, or an entry id `0x…`.
        key: String,
    },
    /// Delete every pattern.
    Clear {
        /// Id or file.
        acl: String,
    },
}

/// `global …`
#[derive(Debug, Subcommand)]
pub enum GlobalCmd {
    /// Set the global maxconn of every process.
    SetMaxconn {
        /// The new limit.
        maxconn: u32,
    },
    /// Set a global rate limit of every process.
    SetRateLimit {
        /// Which limit.
        #[arg(value_enum)]
        which: RateLimitArg,
        /// Per second, 0 for none.
        limit: u32,
    },
    /// Clear the max and rate counters (`--all`: every counter).
    ClearCounters {
        /// Clear every counter, not only maxima and rates.
        #[arg(long)]
        all: bool,
    },
}

/// A global rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RateLimitArg {
    /// Connections per second.
    Connections,
    /// Sessions per second.
    Sessions,
    /// SSL sessions per second.
    SslSessions,
}
