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
///
/// The environment variables, named targets, durations and exit codes are
/// at the end of this help.
#[derive(Debug, Parser)]
#[command(
    name = "haproxy-cli",
    version,
    max_term_width = 100,
    next_help_heading = "Global options",
    after_help = crate::config::ENV_HELP
)]
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
    #[arg(long, global = true, value_name = "GLOB", env = "HAPROXY_CLI_PATTERN")]
    pub pattern: Option<String>,

    /// Use this endpoint (repeatable; replaces --socket-dir): a UNIX socket
    /// path, `ipv4@HOST:PORT`, `ipv6@[ADDR]:PORT`, `HOST:PORT`, or a master
    /// socket with a worker selector (`/run/master.sock@1`,
    /// `/run/master.sock@!PID`).
    #[arg(
        long = "socket",
        global = true,
        value_name = "ENDPOINT",
        env = "HAPROXY_CLI_SOCKET",
        value_delimiter = ','
    )]
    pub sockets: Vec<String>,

    /// Use every worker of this master CLI socket (`show proc`), old
    /// workers still draining after a reload included.
    #[arg(long, global = true, value_name = "PATH", env = "HAPROXY_CLI_MASTER")]
    pub master: Option<PathBuf>,

    /// How long one command may take, all told — connect, write and the
    /// whole reply (a deadline, not a per-read timeout): seconds, or a
    /// duration (`500ms`, `5s`, `2m`). With `--wait`, the deadline of the
    /// whole wait (each command then at most 5s).
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        default_value = "5",
        env = "HAPROXY_CLI_TIMEOUT",
        value_parser = crate::config::parse_secs
    )]
    pub timeout: f64,

    /// Connection attempts after the first fails (connect errors and
    /// timeouts only; a command HAProxy answered is never retried):
    /// a number, or `forever`.
    #[arg(
        long,
        global = true,
        value_name = "N|forever",
        default_value = "0",
        env = "HAPROXY_CLI_RETRY"
    )]
    pub retry: String,

    /// Time between connection attempts (seconds, or `500ms`, `2s`).
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        default_value = "1",
        env = "HAPROXY_CLI_RETRY_INTERVAL",
        value_parser = crate::config::parse_secs
    )]
    pub retry_interval: f64,

    /// How long discovery waits for each socket to answer (default: the
    /// --timeout): seconds, or a duration (`500ms`, `5s`). A socket that
    /// accepts but does not answer in time is a process that could not
    /// be reached, not a dead socket.
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        env = "HAPROXY_CLI_PROBE_TIMEOUT",
        value_parser = crate::config::parse_secs
    )]
    pub probe_timeout: Option<f64>,

    /// The largest reply read from one socket, in bytes or with a unit
    /// (`64K`, `16M`, `1G`): a longer one is abandoned and the command
    /// fails naming the socket. Bounds dumps (`show stat`, maps; default
    /// 256M); other replies are bounded by the smaller of this and 1M,
    /// and discovery's `show info` probe likewise.
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        env = "HAPROXY_CLI_MAX_REPLY_SIZE",
        value_parser = crate::config::parse_size
    )]
    pub max_reply_size: Option<usize>,
    /// Best effort: go on without the processes that could not be reached
    /// (busy, stats maxconn full, out of file descriptors) or that failed
    /// during a read; name them on stderr and exit 3. Without it, any such
    /// process makes the command fail (exit 1).
    #[arg(
        long,
        global = true,
        env = "HAPROXY_CLI_ALLOW_PARTIAL",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub allow_partial: bool,

    /// Output format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = Format::Table,
        env = "HAPROXY_CLI_FORMAT"
    )]
    pub format: Format,

    /// Output, kubectl's way: `-o json|jsonl|csv|table|prometheus` is
    /// `--format`, `-o wide` a table of every column (listings).
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        value_name = "MODE"
    )]
    pub output: Option<OutputMode>,

    /// Use the sockets of target NAME from the configuration file (see
    /// below); replaces --socket-dir.
    #[arg(long, global = true, value_name = "NAME", env = "HAPROXY_CLI_TARGET")]
    pub target: Option<String>,

    /// The configuration file of named targets (default:
    /// `$XDG_CONFIG_HOME/haproxy-cli/config`, else
    /// `~/.config/haproxy-cli/config`; optional).
    #[arg(long, global = true, value_name = "FILE", env = "HAPROXY_CLI_CONFIG")]
    pub config: Option<PathBuf>,

    /// Prometheus output (and the exporter): one series per process, with
    /// `pid` and `node` labels, instead of one combined series.
    #[arg(
        long,
        global = true,
        env = "HAPROXY_CLI_PER_PROCESS",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub per_process: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Where each way of naming the processes was given (filled by
    /// [`Cli::parse_all`], not a flag).
    #[arg(skip)]
    pub given: Given,
}

/// Where an option's value came from; a higher level wins.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Not given (or its built-in default).
    #[default]
    Unset,
    /// An environment variable.
    Env,
    /// The command line.
    CommandLine,
}

/// The level of each option that names the processes: `--target`,
/// `--master`, `--socket`, and `--socket-dir`/`--pattern` together.
#[derive(Debug, Default, Clone, Copy)]
pub struct Given {
    /// `--target` / `HAPROXY_CLI_TARGET`.
    pub target: Level,
    /// `--master` / `HAPROXY_CLI_MASTER`.
    pub master: Level,
    /// `--socket` / `HAPROXY_CLI_SOCKET`.
    pub sockets: Level,
    /// `--socket-dir` or `--pattern`, or their variables.
    pub dir: Level,
}

impl Cli {
    /// Parses the command line (exiting on a usage error, as clap does)
    /// and records where the process-naming options came from, so that
    /// one on the command line beats another in the environment.
    pub fn parse_all() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        cli.given = Given::of(&matches);
        // `-o` is `--format` under kubectl's name; `wide` is a table of
        // every column, which only a listing has.
        if let Some(o) = cli.output {
            cli.format = o.format();
            let list = match &mut cli.command {
                Command::Frontend(FrontendCmd::List(l)) | Command::Backend(BackendCmd::List(l)) => {
                    Some(l)
                }
                Command::Server(ServerCmd::List { list, .. }) => Some(list),
                _ => None,
            };
            match (o, list) {
                (OutputMode::Wide, Some(l)) => l.wide = true,
                (OutputMode::Wide, None) => {
                    let mut cmd = Cli::command();
                    cmd.error(
                        clap::error::ErrorKind::ArgumentConflict,
                        "-o wide applies to listings (frontend, backend, server list)",
                    )
                    .exit()
                }
                _ => {}
            }
        }
        cli
    }
}

impl Given {
    /// The levels in `m`.
    pub fn of(m: &clap::ArgMatches) -> Given {
        use clap::parser::ValueSource;
        let level = |id: &str| match m.value_source(id) {
            Some(ValueSource::CommandLine) => Level::CommandLine,
            Some(ValueSource::EnvVariable) => Level::Env,
            _ => Level::Unset,
        };
        Given {
            target: level("target"),
            master: level("master"),
            sockets: level("sockets"),
            dir: level("socket_dir").max(level("pattern")),
        }
    }
}

pub use haproxy_cli::Format;

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
    /// TLS certificates of every process (`show ssl cert`), and their
    /// update as one transaction per process, committed only when every
    /// process took it, then read back.
    #[command(subcommand)]
    Cert(CertCmd),
    /// Stick tables of every process: entries combined across processes,
    /// writes read back.
    #[command(subcommand)]
    Table(TableCmd),
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
    /// An interactive live view of frontends, backends and servers: views
    /// (Tab), sort (s), filter (/), per-process values (p), and the
    /// selected server enabled (e), disabled (x), drained (d) or
    /// re-weighted (w) on every process after a confirmation; q quits, ?
    /// lists the keys. On a pipe it prints plain frames instead.
    Top(TopArgs),
    /// Exit 1 listing every difference when the processes disagree on
    /// what must agree (versions, which objects exist, server states,
    /// weights and addresses, map and ACL contents); exit 0 when they
    /// agree.
    Check,
    /// Serve Prometheus metrics over HTTP (`GET /metrics`, promex's names)
    /// for this host's processes or a fleet; see docs/prometheus.md.
    Exporter(ExporterArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): haproxy-cli(1), or a subcommand's
    /// (`man server list` is haproxy-cli-server-list(1)).
    Man {
        /// The subcommand, word by word.
        #[arg(value_name = "SUBCOMMAND")]
        command: Vec<String>,
        /// Write every page, one file each (haproxy-cli.1,
        /// haproxy-cli-server.1, …), into DIR instead.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        all: Option<std::path::PathBuf>,
    },
}

/// `exporter` options.
#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// Address to serve on, e.g. 127.0.0.1:9101.
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// Serve a snapshot up to DURATION old instead of reading HAProxy
    /// again (0: a fresh one per scrape): seconds, or `500ms`, `5s`, `2m`.
    /// Whatever it is, a scrape that arrives while a target is being read
    /// waits for that read and shares it.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "0",
        value_parser = crate::config::parse_secs
    )]
    pub max_age: f64,
    /// Answer within DURATION (seconds, or `500ms`, `5s`): a target or
    /// process not read by then is `haproxy_up 0`, the rest is served.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5",
        value_parser = crate::config::parse_secs
    )]
    pub scrape_timeout: f64,
    /// Read the certificates (`haproxy_ssl_cert_not_after_seconds`) again
    /// when the last read is older than DURATION. The read runs in the
    /// background, never in a scrape's path; a scrape serves the last one
    /// (none before the first has ended).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "60",
        value_parser = crate::config::parse_secs
    )]
    pub cert_refresh: f64,
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
    /// Time between refreshes: seconds, or `500ms`, `5s`, `2m`.
    #[arg(
        long,
        default_value = "2",
        value_name = "DURATION",
        value_parser = crate::config::parse_secs
    )]
    pub interval: f64,
    /// Stop after N refreshes (default: run until interrupted).
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
}

/// `frontend …`
#[derive(Debug, Subcommand)]
pub enum FrontendCmd {
    /// Every frontend (or those selected).
    List(ListArgs),
    /// One frontend, every field.
    Show {
        /// The frontend.
        name: String,
    },
    /// Start accepting connections again.
    Enable(Target),
    /// Stop accepting connections (the listeners stay bound).
    Disable {
        /// Which frontends.
        #[command(flatten)]
        target: Target,
        /// Then wait until their sessions drop to --until-sessions.
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Stop the frontend for good (until a reload).
    Shutdown(Target),
    /// Set the frontends' maxconn.
    SetMaxconn {
        /// Which frontends.
        #[command(flatten)]
        target: Target,
        /// The new limit.
        maxconn: u32,
    },
}

/// `backend …`
#[derive(Debug, Subcommand)]
pub enum BackendCmd {
    /// Every backend (or those selected).
    List(ListArgs),
    /// One backend, every field.
    Show {
        /// The backend.
        name: String,
    },
}

/// `server …`; SERVER is `BACKEND/SERVER`.
#[derive(Debug, Subcommand)]
pub enum ServerCmd {
    /// Every server (of the given backends only, when --backend is given;
    /// or those selected).
    List {
        /// Only the servers of this backend (repeatable).
        #[arg(long = "backend", value_name = "NAME")]
        backends: Vec<String>,
        /// Selection and output.
        #[command(flatten)]
        list: ListArgs,
    },
    /// One server, every field.
    Show {
        /// BACKEND/SERVER.
        server: String,
    },
    /// Leave maintenance (`enable server`).
    Enable(Target),
    /// Enter maintenance (`disable server`).
    Disable(Target),
    /// Normal mode: take traffic (`set server … state ready`).
    Ready(Target),
    /// Drain: only persistent connections (`state drain`); with --wait,
    /// until their sessions are gone.
    Drain {
        /// Which servers.
        #[command(flatten)]
        target: Target,
        /// Wait for the sessions to end.
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Maintenance: no traffic, checks stopped (`state maint`); with
    /// --wait, until their sessions are gone.
    Maint {
        /// Which servers.
        #[command(flatten)]
        target: Target,
        /// Wait for the sessions to end.
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Set the weight: 0–256, or a percentage of the configured weight
    /// (`50%`).
    SetWeight {
        /// Which servers.
        #[command(flatten)]
        target: Target,
        /// The weight.
        weight: String,
        /// Let a percentage round a nonzero weight down to 0 (HAProxy
        /// takes N% of the configured weight, rounded down: 50% of 1 is
        /// 0, which takes the server out of the rotation).
        #[arg(long)]
        allow_zero: bool,
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
        /// Which servers.
        #[command(flatten)]
        target: Target,
        /// up, stopping or down.
        #[arg(value_enum)]
        state: HealthArg,
    },
    /// Force the agent-check state.
    SetAgent {
        /// Which servers.
        #[command(flatten)]
        target: Target,
        /// up or down.
        #[arg(value_enum)]
        state: HealthArg,
    },
    /// Close every session of the servers.
    ShutdownSessions(Target),
    /// Add a dynamic server on every process (HAProxy 2.4+; the backend
    /// must use a dynamic-capable balance algorithm).
    Add(AddArgs),
    /// Delete a dynamic server on every process: it must be in
    /// maintenance with no sessions (--drain-first gets it there).
    Del(DelArgs),
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
        /// Accept a FILE with no entry (empty, or comments only) and empty
        /// the map; without it such a FILE is refused, nothing sent (a
        /// generator that failed upstream must not wipe the map).
        #[arg(long)]
        allow_empty: bool,
    },
}

/// `cert …`
#[derive(Debug, Subcommand)]
pub enum CertCmd {
    /// Every certificate file of every process, with subject, SANs,
    /// not-after, serial and SHA-1 fingerprint; one row per file where
    /// the processes agree, one per group of processes where they differ.
    List {
        /// Exit 1 when any certificate expires within DURATION (`30d`,
        /// `12h`, `3600`), naming each on stderr.
        #[arg(long, value_name = "DURATION", value_parser = crate::config::parse_duration)]
        expiring: Option<std::time::Duration>,
    },
    /// One certificate file, as each process serves it.
    Show {
        /// The certificate file, as `cert list` names it.
        cert: String,
    },
    /// Replace CERT's certificate and key on every process with PEMFILE's
    /// (`set ssl cert`, then `commit ssl cert` once every process took
    /// it; any refusal aborts the others' transactions), then read back
    /// each process's fingerprint. A PEMFILE without a certificate and its
    /// matching unencrypted key is refused before anything is sent.
    Update {
        /// The certificate file, as `cert list` names it.
        cert: String,
        /// The PEM file: the certificate (leaf first, then its chain) and
        /// its private key.
        pemfile: PathBuf,
        /// Print what would be sent (the private key's lines are not
        /// shown) and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `table …`
#[derive(Debug, Subcommand)]
pub enum TableCmd {
    /// Every stick table: key type, size, entries used (summed over the
    /// processes).
    List,
    /// A table's entries, a key several processes hold shown once:
    /// counted data (`*_cnt`, rates, `gpc*`, `bytes_*`, `conn_cur`)
    /// summed, anything else one value where the processes agree and each
    /// process's where they differ.
    Show {
        /// The table (the proxy that declares it).
        table: String,
        /// Only this key (checked against the table's key type).
        #[arg(long)]
        key: Option<String>,
    },
    /// Create KEY's entry if needed and set its data on every process, then
    /// read it back on each: `data.gpc0=5 data.gpt0=1`.
    Set {
        /// The table.
        table: String,
        /// The key (checked against the table's key type: ip, ipv6,
        /// integer, string, binary).
        key: String,
        /// `data.TYPE=VALUE`, one or more.
        #[arg(required = true, value_name = "data.TYPE=VALUE")]
        data: Vec<String>,
    },
    /// Remove KEY's entry (or, with --all, every entry) on every process,
    /// then read back that none is left (HAProxy keeps an entry a
    /// connection still tracks, silently: that is exit 1).
    Clear {
        /// The table.
        table: String,
        /// The key to remove.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        key: Option<String>,
        /// Every entry of the table.
        #[arg(long)]
        all: bool,
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

/// `--watch` for listings.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct WatchArgs {
    /// Refresh every DURATION (seconds, or `500ms`, `5s`, `2m`) and print
    /// each change of status, weight or check status (and objects added
    /// or removed) with a UTC time stamp, until Ctrl-C. On a terminal the
    /// listing is redrawn in place with the latest changes under it;
    /// otherwise the first listing is printed, then only the change lines
    /// (JSON lines with --format json or jsonl). The listing honours the
    /// selection, --sort, --columns, -o wide and --no-header; not with
    /// --format prometheus.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = crate::config::parse_secs
    )]
    pub watch: Option<f64>,
}

/// Filters shared by listings and writes.
#[derive(Debug, Clone, Default, Args)]
pub struct Filters {
    /// Only objects whose status is one of these (comma-separated or
    /// repeated: UP, DOWN, MAINT, DRAIN, NOLB, OPEN, "no check"…; `UP`
    /// also matches `UP 1/3`). On any process, where processes disagree.
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only objects where FIELD OP VALUE holds, on any column (`scur>0`,
    /// `check_status=L4CON`, `addr~10.0.*`); OP is one of `= != < <= > >=
    /// ~` (glob). Repeatable: every one must hold.
    #[arg(long = "where", value_name = "FIELD OP VALUE")]
    pub wheres: Vec<String>,
    /// Only objects on which the processes disagree.
    #[arg(long)]
    pub disagreeing: bool,
}

/// Which objects a listing shows, and how.
#[derive(Debug, Clone, Default, Args)]
pub struct ListArgs {
    /// NAME or BACKEND/SERVER patterns, globs allowed (`be_app/*`,
    /// `*/web-*`); a backend name alone selects its servers.
    #[arg(value_name = "PATTERN")]
    pub patterns: Vec<String>,
    /// Filters.
    #[command(flatten)]
    pub filters: Filters,
    /// Sort by these columns (`-FIELD`: largest first), e.g.
    /// `--sort -scur,name`.
    #[arg(long, value_name = "FIELD[,-FIELD]", allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// Show these columns (after the name), e.g. `--columns
    /// status,scur,weight`.
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Every column in a table (`-o wide`, a global option).
    #[arg(skip)]
    pub wide: bool,
    /// No header line (table and CSV).
    #[arg(long)]
    pub no_header: bool,
    /// `--watch`.
    #[command(flatten)]
    pub watch: WatchArgs,
}

/// `-o MODE`: a format, or a table of every column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputMode {
    /// Aligned columns.
    Table,
    /// A table of every column (listings).
    Wide,
    /// JSON.
    Json,
    /// JSON lines.
    Jsonl,
    /// CSV.
    Csv,
    /// The Prometheus text format.
    Prometheus,
}

impl OutputMode {
    /// The `--format` it stands for.
    pub fn format(self) -> Format {
        match self {
            OutputMode::Table | OutputMode::Wide => Format::Table,
            OutputMode::Json => Format::Json,
            OutputMode::Jsonl => Format::Jsonl,
            OutputMode::Csv => Format::Csv,
            OutputMode::Prometheus => Format::Prometheus,
        }
    }
}

/// The objects a write acts on.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// BACKEND/SERVER (servers) or NAME (frontends); globs allowed
    /// (`be_app/*`, `*/web-*`), repeatable. A backend name alone selects
    /// its servers.
    #[arg(value_name = "PATTERN", required = true)]
    pub patterns: Vec<String>,
    /// Filters.
    #[command(flatten)]
    pub filters: Filters,
    /// Do not ask before changing several objects.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the commands each process would receive; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `--wait` and its bounds.
#[derive(Debug, Clone, Default, Args)]
pub struct WaitArgs {
    /// Then wait until every selected object has at most
    /// --until-sessions sessions on every process; the global --timeout
    /// is the deadline (exit 4 when reached).
    #[arg(long)]
    pub wait: bool,
    /// The sessions each object may keep for the wait to end.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "wait")]
    pub until_sessions: u64,
}

/// `server add`.
#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// BACKEND/SERVER.
    pub server: String,
    /// ADDR or ADDR:PORT (`[v6]:port` for IPv6).
    pub address: String,
    /// The server's weight.
    #[arg(long, value_name = "N")]
    pub weight: Option<u16>,
    /// Configure a health check (`check`) and start it (`enable health`)
    /// on every process.
    #[arg(long)]
    pub check: bool,
    /// Leave the new server in maintenance (by default it is enabled).
    #[arg(long)]
    pub maint: bool,
    /// Print the commands; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `server del`.
#[derive(Debug, Clone, Args)]
pub struct DelArgs {
    /// BACKEND/SERVER.
    pub server: String,
    /// First put it in maintenance, wait (global --timeout) until its
    /// sessions are gone, then delete.
    #[arg(long)]
    pub drain_first: bool,
}

impl Cli {
    /// The timeout of each connect, read and write: `--timeout`, or at
    /// most 5 s when `--timeout` is the deadline of a whole wait.
    pub(crate) fn io_timeout_secs(&self) -> f64 {
        let waits = match &self.command {
            Command::Server(ServerCmd::Drain { wait, .. } | ServerCmd::Maint { wait, .. }) => {
                wait.wait
            }
            Command::Frontend(FrontendCmd::Disable { wait, .. }) => wait.wait,
            Command::Server(ServerCmd::Del(d)) => d.drain_first,
            _ => false,
        };
        if waits {
            self.timeout.min(5.0)
        } else {
            self.timeout
        }
    }
}
