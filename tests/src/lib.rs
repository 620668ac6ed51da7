//! The harness that starts real HAProxy for the end-to-end tests, the
//! benches and `cargo xtask demo`.
//!
//! Every [`Fleet`] and [`MasterWorker`] lives in a fresh directory under
//! `/tmp` (short, because a UNIX socket path must fit in 108 bytes), writes
//! its own configuration there, starts `haproxy` in the foreground (`-db`),
//! waits until each stats socket answers `show info`, and on `Drop` kills
//! exactly the processes it started, by PID, even when a test panics.
//!
//! The harness uses only `std` so that any crate of the workspace can use
//! it without a dependency cycle.
//!
//! ```no_run
//! use haproxy_e2e::{Fleet, Options};
//!
//! let fleet = Fleet::start(Options { instances: 3, ..Options::default() });
//! for i in fleet.instances() {
//!     assert!(i.raw("show info").contains("Name: HAProxy"));
//! }
//! ```
#![deny(missing_docs)]

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How to install HAProxy, printed whenever it cannot be found.
pub const INSTALL_HINT: &str = "haproxy is not installed: install it with \
`apt-get install haproxy` (Debian/Ubuntu), or run `cargo xtask test`, which \
installs it when run as root";

/// The `haproxy` binary: `$HAPROXY_BIN` (what `cargo xtask test --haproxy
/// VERSION` sets), else `$HAPROXY`, else the first `haproxy` on `PATH`,
/// else `/usr/sbin/haproxy` or `/usr/local/sbin/haproxy`.
///
/// # Panics
///
/// When none exists, with [`INSTALL_HINT`]: tests that need HAProxy fail,
/// they never pass silently.
pub fn haproxy_path() -> PathBuf {
    find_haproxy().unwrap_or_else(|| panic!("{INSTALL_HINT}"))
}

/// The `haproxy` binary if one is installed (see [`haproxy_path`]).
pub fn find_haproxy() -> Option<PathBuf> {
    for var in ["HAPROXY_BIN", "HAPROXY"] {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(p));
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
}

/// The version of the HAProxy the tests run ([`haproxy_path`]) as
/// `(major, minor, patch)`, from `haproxy -v` (asked once per process).
///
/// # Panics
///
/// When haproxy is missing or prints no version.
pub fn haproxy_version() -> (u32, u32, u32) {
    version_triple(&haproxy_version_string())
}

/// Whether the HAProxy the tests run is at least `major.minor`: what a
/// test that depends on a version's behaviour asks.
///
/// # Panics
///
/// As [`haproxy_version`].
pub fn haproxy_at_least(major: u32, minor: u32) -> bool {
    let (a, b, _) = haproxy_version();
    (a, b) >= (major, minor)
}

/// The full version the HAProxy the tests run prints after `version` in
/// `haproxy -v`, e.g. `3.0.11-1+deb13u4`.
///
/// # Panics
///
/// As [`haproxy_version`].
pub fn haproxy_version_string() -> String {
    static CACHE: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    let bin = haproxy_path();
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, v)) = cache.iter().find(|(p, _)| *p == bin) {
        return v.clone();
    }
    let v = binary_version_string(&bin);
    cache.push((bin, v.clone()));
    v
}

/// What `<binary> -v` prints after `version`.
///
/// # Panics
///
/// When the binary does not run or prints no version.
pub fn binary_version_string(binary: &Path) -> String {
    let out = Command::new(binary)
        .arg("-v")
        .output()
        .unwrap_or_else(|e| panic!("run {} -v: {e}", binary.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .unwrap_or_else(|| panic!("no version in `{} -v`: {text}", binary.display()))
        .to_owned()
}

/// `(major, minor, patch)` of a version string such as `3.0.11-1+deb13u4`.
pub fn version_triple(v: &str) -> (u32, u32, u32) {
    let mut parts = v
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// Every HAProxy binary of the version matrix, oldest first, with its full
/// version: `$HAPROXY_MATRIX` (paths, `:`-separated, as `cargo xtask test
/// --haproxy all` sets it), else the lines of `target/haproxy/READY`
/// (`<version> <path>`, written by `cargo xtask haproxy`). Empty when
/// neither exists.
pub fn haproxy_matrix() -> Vec<(String, PathBuf)> {
    let mut bins: Vec<PathBuf> = match std::env::var_os("HAPROXY_MATRIX") {
        Some(v) if !v.is_empty() => std::env::split_paths(&v).collect(),
        _ => {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
                PathBuf::from,
            );
            std::fs::read_to_string(target.join("haproxy").join("READY"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.split_once(' ').map(|(_, p)| PathBuf::from(p.trim())))
                .collect()
        }
    };
    bins.retain(|b| b.is_file());
    let mut out: Vec<(String, PathBuf)> = bins
        .into_iter()
        .map(|b| (binary_version_string(&b), b))
        .collect();
    out.sort_by_key(|(v, _)| version_triple(v));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// A stats socket's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `level user`: read-only, no sensitive data.
    User,
    /// `level operator`: reads, and a few non-destructive changes.
    Operator,
    /// `level admin`: everything.
    Admin,
}

impl Level {
    /// The word HAProxy's configuration uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}

/// Which proxies and servers every instance of a fleet is configured with.
#[derive(Debug, Clone)]
pub enum Topology {
    /// A small, varied set (see [`Topology::standard`]).
    Standard,
    /// Many plain servers for benches (see [`Topology::large`]).
    Large {
        /// Number of backends `be_0` … .
        backends: usize,
        /// Servers per backend, `s0` … .
        servers: usize,
        /// Entries in the map file.
        map_entries: usize,
    },
}

impl Topology {
    /// Frontends `fe_http` (with a map `hosts.map` and an ACL file
    /// `blocked.acl`) and `fe_tcp`; `listen health` (answers 200, the
    /// target of the checks); backend `be_app` with `app1` UP (check),
    /// `app2` DOWN (its check fails), `app3` MAINT (`disabled`), `app4`
    /// backup, `app5` tracking `app1`, `app6` without check; `be_static`
    /// with `s1` (weight 10) and `s2` (weight 20); `be_tcp` with `t1`.
    ///
    /// Checks run every 100 ms, so a test must not set the state of `app1`
    /// or `app4` and then read it: the next check may already have changed
    /// it. `app2` is checked once at start (it goes DOWN) and then only
    /// every hour (`downinter 1h`): a health a test sets on it with `set
    /// server … health` stays until the test sets another. Only the checks
    /// reach `health`; nothing reaches `fe_http`, `fe_tcp` and the servers
    /// of `be_static` and `be_tcp` but what a test sends.
    pub fn standard() -> Topology {
        Topology::Standard
    }

    /// `backends` backends of `servers` servers each (no checks, weight
    /// 1), one frontend, and a map of `map_entries` entries.
    pub fn large(backends: usize, servers: usize, map_entries: usize) -> Topology {
        Topology::Large {
            backends,
            servers,
            map_entries,
        }
    }
}

/// What a [`Fleet`] starts.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many instances share the same proxies (the multi-process case).
    pub instances: usize,
    /// The proxies of every instance.
    pub topology: Topology,
    /// More UNIX stats sockets per instance: a name and a level. Each
    /// instance's is `<socket_dir>/<name>-<n>.sock`.
    pub extra_sockets: Vec<(String, Level)>,
    /// Also a TCP stats socket (level admin) on 127.0.0.1 and a free port.
    pub tcp_socket: bool,
    /// Also HAProxy's own Prometheus exporter (promex) on each instance,
    /// `GET /metrics` on 127.0.0.1 and a free port of its own.
    pub promex: bool,
    /// Appended to every instance's configuration, after the topology's
    /// proxies: more proxies a test needs without changing the shared
    /// topology (e.g. a backend with a static balance algorithm).
    pub extra_config: String,
    /// A certificate file (certificate and key) every instance serves on
    /// a TLS listener of its own, `fe_tls` on 127.0.0.1 and a free port
    /// ([`Instance::tls`]), answering 200: a TLS client can ask each
    /// process which certificate it serves.
    pub tls_cert: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            instances: 1,
            topology: Topology::standard(),
            extra_sockets: Vec::new(),
            tcp_socket: false,
            promex: false,
            extra_config: String::new(),
            tls_cert: None,
        }
    }
}

/// One running HAProxy instance of a [`Fleet`].
#[derive(Debug)]
pub struct Instance {
    /// Its PID.
    pub pid: u32,
    /// Its admin stats socket, `<socket_dir>/instance-<n>.sock`.
    pub socket: PathBuf,
    /// The extra sockets of [`Options::extra_sockets`], in order.
    pub extra_sockets: Vec<(PathBuf, Level)>,
    /// The TCP stats socket, when [`Options::tcp_socket`] was set.
    pub tcp: Option<SocketAddr>,
    /// Where promex answers `GET /metrics`, when [`Options::promex`] was
    /// set.
    pub promex: Option<SocketAddr>,
    /// Its own TLS listener, when [`Options::tls_cert`] was set.
    pub tls: Option<SocketAddr>,
    /// The port `fe_http` listens on (shared by every instance).
    pub http_port: u16,
    /// The port `fe_tcp` listens on (shared by every instance).
    pub tcp_port: u16,
    /// Its configuration file.
    pub config: PathBuf,
    child: Option<Child>,
    binary: PathBuf,
}

impl Instance {
    /// Sends `command` on the admin socket, reads the reply to EOF. Uses
    /// only `std`, so tests can read HAProxy without our libraries.
    ///
    /// # Panics
    ///
    /// When the socket does not answer.
    pub fn raw(&self, command: &str) -> String {
        raw_unix(&self.socket, command)
            .unwrap_or_else(|e| panic!("{}: `{command}`: {e}", self.socket.display()))
    }

    /// The `haproxy` binary this instance runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The version this instance runs, as `haproxy -v` prints it (e.g.
    /// `3.0.11-1+deb13u4`).
    pub fn version(&self) -> String {
        binary_version_string(&self.binary)
    }
}

/// Sends `command` (plus a newline) on the UNIX socket at `path` and reads
/// the reply to EOF, with a 10-second timeout.
///
/// # Errors
///
/// Any I/O error.
pub fn raw_unix(path: &Path, command: &str) -> std::io::Result<String> {
    let mut s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(command.as_bytes())?;
    s.write_all(b"\n")?;
    // The master CLI of 2.6 answers only once the client has shut down its
    // side; the workers' sockets do not mind.
    s.shutdown(std::net::Shutdown::Write)?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// A free TCP port on 127.0.0.1 (bound, read, released; never the same
/// twice in one process).
pub fn free_port() -> u16 {
    let l = listen_loopback();
    l.local_addr().expect("local addr").port()
}

/// A listener on a loopback port no other caller of [`free_port`] or
/// `listen_loopback` in this test process has had: a port handed to a
/// fleet (including its deliberately closed one) is never reused by a
/// fake server of another test, and the reverse.
///
/// # Panics
///
/// When 127.0.0.1 cannot be bound.
pub fn listen_loopback() -> TcpListener {
    static TAKEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().expect("local addr").port();
        if !taken.contains(&port) && claim_port(port) {
            taken.push(port);
            return l;
        }
    }
}

/// Claims `port` for this process across test processes run at once (a
/// bench beside a test run): HAProxy binds with `SO_REUSEPORT`, so two
/// fleets handed the same free port would both listen on it and share
/// each other's connections. A claim is a file naming the PID under
/// `/tmp/hx-ports`; one whose process is gone is taken over.
fn claim_port(port: u16) -> bool {
    let dir = Path::new("/tmp/hx-ports");
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(port.to_string());
    let me = std::process::id();
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => return f.write_all(me.to_string().as_bytes()).is_ok(),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let owner = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok());
                match owner {
                    // A claim of a finished process: removed, then claimed
                    // anew (or lost to a faster claimant).
                    Some(pid) if pid != me && !pid_alive(pid) => {
                        let _ = std::fs::remove_file(&path);
                    }
                    // Ours, alive, or still being written: not ours to take.
                    _ => return false,
                }
            }
            // No claim directory (read-only /tmp): this process's own
            // registry is all there is.
            Err(_) => return true,
        }
    }
    false
}

/// A fresh directory `/tmp/hx-<pid>-<n>`.
fn fresh_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = PathBuf::from(format!("/tmp/hx-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sockets")).expect("create the fleet's temp dir");
    dir
}

/// The ports every instance of a fleet shares (HAProxy binds with
/// `SO_REUSEPORT`, so instances can share listeners like the processes of
/// one multi-process HAProxy).
#[derive(Debug, Clone, Copy)]
struct Ports {
    http: u16,
    tcp: u16,
    health: u16,
    closed: u16,
}

/// Writes the configuration of one instance.
fn config(
    topology: &Topology,
    ports: Ports,
    dir: &Path,
    sockets: &[(PathBuf, Level)],
    tcp: Option<SocketAddr>,
    master_worker: bool,
) -> String {
    let mut c = String::new();
    c.push_str("global\n    maxconn 4000\n    stats timeout 30s\n");
    if master_worker {
        c.push_str("    master-worker\n");
    }
    for (path, level) in sockets {
        let _ = writeln!(
            c,
            "    stats socket {} mode 600 level {}",
            path.display(),
            level.as_str()
        );
    }
    if let Some(addr) = tcp {
        let _ = writeln!(c, "    stats socket ipv4@{addr} level admin");
    }
    let map = dir.join("hosts.map");
    let acl = dir.join("blocked.acl");
    c.push_str(
        "\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n    \
         timeout server 10s\n    timeout check 5s\n\n",
    );
    match topology {
        Topology::Standard => {
            let Ports {
                http,
                tcp,
                health,
                closed,
            } = ports;
            let _ = write!(
                c,
                "frontend fe_http\n    bind 127.0.0.1:{http}\n    maxconn 1000\n    \
                 acl blocked src -f {acl}\n    http-request deny if blocked\n    \
                 use_backend %[req.hdr(host),lower,map({map},be_app)]\n    \
                 default_backend be_app\n\n\
                 frontend fe_tcp\n    mode tcp\n    bind 127.0.0.1:{tcp}\n    \
                 default_backend be_tcp\n\n\
                 listen health\n    bind 127.0.0.1:{health}\n    \
                 http-request return status 200 content-type text/plain string ok\n\n\
                 backend be_app\n    balance roundrobin\n    option httpchk GET /\n    \
                 default-server inter 100ms fastinter 100ms downinter 100ms rise 1 fall 1\n    \
                 server app1 127.0.0.1:{health} check\n    \
                 server app2 127.0.0.1:{closed} check downinter 1h\n    \
                 server app3 127.0.0.1:{health} check disabled\n    \
                 server app4 127.0.0.1:{health} check backup\n    \
                 server app5 127.0.0.1:{health} track be_app/app1\n    \
                 server app6 127.0.0.1:{health}\n\n\
                 backend be_static\n    server s1 127.0.0.1:{health} weight 10\n    \
                 server s2 127.0.0.1:{health} weight 20\n\n\
                 backend be_tcp\n    mode tcp\n    server t1 127.0.0.1:{health}\n",
                acl = acl.display(),
                map = map.display(),
            );
        }
        Topology::Large {
            backends, servers, ..
        } => {
            let _ = write!(
                c,
                "frontend fe_http\n    bind 127.0.0.1:{}\n    \
                 use_backend %[req.hdr(host),lower,map({})]\n    default_backend be_0\n\n",
                ports.http,
                map.display()
            );
            for b in 0..*backends {
                let _ = writeln!(c, "backend be_{b}");
                for s in 0..*servers {
                    let _ = writeln!(c, "    server s{s} 127.0.0.1:{} weight 1", ports.health);
                }
                c.push('\n');
            }
        }
    }
    c
}

fn write_lists(topology: &Topology, dir: &Path) {
    let mut map = String::new();
    match topology {
        Topology::Standard => {
            map.push_str("example.com be_app\nstatic.example.com be_static\n");
        }
        Topology::Large {
            backends,
            map_entries,
            ..
        } => {
            for e in 0..*map_entries {
                let _ = writeln!(map, "host{e}.example.com be_{}", e % (*backends).max(1));
            }
        }
    }
    std::fs::write(dir.join("hosts.map"), map).expect("write hosts.map");
    std::fs::write(dir.join("blocked.acl"), "192.0.2.1\n198.51.100.0/24\n")
        .expect("write blocked.acl");
}

/// Starts `binary` in the foreground on `cfg`, logging to `log`.
fn spawn(binary: &Path, cfg: &Path, log: &Path, extra: &[&str]) -> Child {
    let out = std::fs::File::create(log).expect("create haproxy log");
    let err = out.try_clone().expect("clone log handle");
    Command::new(binary)
        .args(extra)
        .arg("-db")
        .arg("-f")
        .arg(cfg)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}; {INSTALL_HINT}", binary.display()))
}

/// Waits until `socket` answers `show info`, or panics with the log.
fn wait_socket(socket: &Path, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(reply) = raw_unix(socket, "show info") {
            if reply.contains("Name: HAProxy") {
                return;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!(
                "haproxy exited ({status}) before {} answered:\n{log}",
                socket.display()
            );
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{} did not answer within 20s:\n{log}", socket.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The position of `column` in the header line of a raw `show stat`
/// reply.
pub fn stat_column(reply: &str, column: &str) -> Option<usize> {
    reply
        .lines()
        .next()?
        .trim_start_matches("# ")
        .split(',')
        .position(|c| c == column)
}

/// Field `column` of record `pxname/svname` in a raw `show stat` reply
/// (no CSV quoting: the test topologies have none).
pub fn stat_field<'a>(reply: &'a str, pxname: &str, svname: &str, column: &str) -> Option<&'a str> {
    let col = stat_column(reply, column)?;
    reply
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f.len() > col && f[0] == pxname && f[1] == svname)
        .map(|f| f[col])
}

/// The lines of a raw `show info` reply that start with one of `keys`
/// (e.g. `"Maxconn:"`), in the reply's order.
pub fn info_lines(reply: &str, keys: &[&str]) -> Vec<String> {
    reply
        .lines()
        .filter(|l| keys.iter().any(|k| l.starts_with(k)))
        .map(str::to_owned)
        .collect()
}

/// The global limits a runtime command may change, as `show info` prints
/// them.
pub const LIMIT_FIELDS: [&str; 4] = [
    "Maxconn:",
    "ConnRateLimit:",
    "SessRateLimit:",
    "SslRateLimit:",
];

/// Waits until the standard topology's health checks have each run once
/// on `instance` and left the documented states (app1 and app4 UP by a
/// passed check, app2 DOWN), so that no test sees one process mid-check
/// beside others that are done: HAProxy starts a checked server UP and
/// the first check decides.
///
/// # Panics
///
/// When they do not settle within 20 s, with the last `show stat`.
fn wait_checks_settled(instance: &Instance) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stat = instance.raw("show stat -1 4 -1");
        let state = |server: &str| {
            (
                stat_field(&stat, "be_app", server, "status").unwrap_or_default(),
                stat_field(&stat, "be_app", server, "check_status").unwrap_or_default(),
            )
        };
        let (s1, c1) = state("app1");
        let (s2, c2) = state("app2");
        let (s4, c4) = state("app4");
        if s1 == "UP"
            && c1 == "L7OK"
            && s2 == "DOWN"
            && c2.starts_with("L4")
            && s4 == "UP"
            && c4 == "L7OK"
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "health checks of {} did not settle within 20s:\n{stat}",
            instance.socket.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills `child` (SIGKILL) and reaps it.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Whether a process with `pid` exists (and is not a zombie).
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Sends `signal` (a name such as `USR2`) to `pid` with `kill(1)`.
///
/// # Panics
///
/// When `kill` cannot be run.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// N HAProxy instances with the same proxies, each with its own stats
/// socket in one directory: the multi-process case.
#[derive(Debug)]
pub struct Fleet {
    dir: PathBuf,
    instances: Vec<Instance>,
}

impl Fleet {
    /// Starts the fleet and waits until every socket answers.
    ///
    /// # Panics
    ///
    /// When haproxy is missing (with [`INSTALL_HINT`]) or an instance
    /// does not start (with its log).
    pub fn start(options: Options) -> Fleet {
        Fleet::start_mixed(options, &[haproxy_path()])
    }

    /// Starts a fleet whose instance `n` runs `binaries[n % len]`: a fleet
    /// mid-upgrade, several HAProxy versions sharing the same proxies and
    /// socket directory. With no binaries, as [`Fleet::start`].
    ///
    /// # Panics
    ///
    /// As [`Fleet::start`].
    pub fn start_mixed(options: Options, binaries: &[PathBuf]) -> Fleet {
        let default = [haproxy_path()];
        let binaries = if binaries.is_empty() {
            &default[..]
        } else {
            binaries
        };
        let dir = fresh_dir();
        write_lists(&options.topology, &dir);
        let ports = Ports {
            http: free_port(),
            tcp: free_port(),
            health: free_port(),
            closed: free_port(),
        };
        let mut fleet = Fleet {
            dir: dir.clone(),
            instances: Vec::new(),
        };
        for n in 0..options.instances {
            let sockets_dir = dir.join("sockets");
            let socket = sockets_dir.join(format!("instance-{n}.sock"));
            let extra: Vec<(PathBuf, Level)> = options
                .extra_sockets
                .iter()
                .map(|(name, level)| (sockets_dir.join(format!("{name}-{n}.sock")), *level))
                .collect();
            let tcp = options
                .tcp_socket
                .then(|| SocketAddr::from(([127, 0, 0, 1], free_port())));
            let mut all = vec![(socket.clone(), Level::Admin)];
            all.extend(extra.iter().cloned());
            let cfg_path = dir.join(format!("instance-{n}.cfg"));
            let mut cfg = config(&options.topology, ports, &dir, &all, tcp, false);
            let promex = options
                .promex
                .then(|| SocketAddr::from(([127, 0, 0, 1], free_port())));
            if let Some(addr) = promex {
                let _ = write!(
                    cfg,
                    "\nfrontend promex\n    mode http\n    bind {addr}\n    \
                     http-request use-service prometheus-exporter if {{ path /metrics }}\n"
                );
            }
            let tls = options.tls_cert.as_ref().map(|crt| {
                let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
                let _ = write!(
                    cfg,
                    "\nfrontend fe_tls\n    mode http\n    bind {addr} ssl crt {}\n    \
                     http-request return status 200 content-type text/plain string tls\n",
                    crt.display()
                );
                addr
            });
            if !options.extra_config.is_empty() {
                cfg.push('\n');
                cfg.push_str(&options.extra_config);
                cfg.push('\n');
            }
            std::fs::write(&cfg_path, cfg).expect("write config");
            let log = dir.join(format!("instance-{n}.log"));
            let binary = binaries[n % binaries.len()].clone();
            let mut child = spawn(&binary, &cfg_path, &log, &[]);
            let pid = child.id();
            // Registered before waiting, so a failed start is still killed.
            fleet.instances.push(Instance {
                pid,
                socket: socket.clone(),
                extra_sockets: extra,
                tcp,
                promex,
                tls,
                http_port: ports.http,
                tcp_port: ports.tcp,
                config: cfg_path,
                child: None,
                binary,
            });
            wait_socket(&socket, &mut child, &log);
            if let Some(i) = fleet.instances.last_mut() {
                i.child = Some(child);
            }
        }
        if matches!(options.topology, Topology::Standard) {
            for i in &fleet.instances {
                wait_checks_settled(i);
            }
        }
        fleet
    }

    /// The fleet's temp directory (configs, logs, map and ACL files).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory that holds every instance's sockets.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.join("sockets")
    }

    /// The running instances, in start order.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The map file `fe_http` uses (`hosts.map`).
    pub fn map_file(&self) -> PathBuf {
        self.dir.join("hosts.map")
    }

    /// The ACL file `fe_http` uses (`blocked.acl`).
    pub fn acl_file(&self) -> PathBuf {
        self.dir.join("blocked.acl")
    }

    /// Kills instance `n` (SIGKILL) and reaps it; its socket file stays
    /// behind, stale.
    pub fn kill(&mut self, n: usize) {
        if let Some(child) = self.instances.get_mut(n).and_then(|i| i.child.as_mut()) {
            stop(child);
        }
    }

    /// Restarts instance `n`: kills it (SIGKILL), starts it again on the
    /// same configuration and waits until its socket answers; its new pid
    /// is in [`Fleet::instances`].
    ///
    /// # Panics
    ///
    /// When there is no instance `n`, or it does not start again.
    pub fn restart(&mut self, n: usize) {
        let dir = self.dir.clone();
        let i = &mut self.instances[n];
        if let Some(child) = i.child.as_mut() {
            stop(child);
        }
        let log = dir.join(format!("instance-{n}.restarted.log"));
        let mut child = spawn(&i.binary, &i.config, &log, &[]);
        i.pid = child.id();
        wait_socket(&i.socket, &mut child, &log);
        i.child = Some(child);
    }

    /// Polls `cond` every 20 ms until it holds.
    ///
    /// # Panics
    ///
    /// When it does not hold within `timeout`, naming `what`.
    pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
        wait_until(timeout, what, &mut cond);
    }
}

/// Polls `cond` every 20 ms until it holds.
///
/// # Panics
///
/// When it does not hold within `timeout`, naming `what`.
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for i in &mut self.instances {
            if let Some(child) = i.child.as_mut() {
                stop(child);
            } else if pid_alive(i.pid) {
                let _ = Command::new("kill")
                    .arg("-9")
                    .arg(i.pid.to_string())
                    .status();
            }
        }
        if std::env::var_os("HX_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// HAProxy in master-worker mode (`-W -S <master socket>`), with the
/// worker's own admin socket.
#[derive(Debug)]
pub struct MasterWorker {
    dir: PathBuf,
    master: Child,
    master_socket: PathBuf,
    worker_socket: PathBuf,
    seen_workers: Mutex<Vec<u32>>,
}

impl MasterWorker {
    /// Starts the master, waits for the master socket and the worker's
    /// socket.
    ///
    /// # Panics
    ///
    /// When haproxy is missing or does not start.
    pub fn start(topology: Topology) -> MasterWorker {
        haproxy_path();
        let dir = fresh_dir();
        write_lists(&topology, &dir);
        let ports = Ports {
            http: free_port(),
            tcp: free_port(),
            health: free_port(),
            closed: free_port(),
        };
        let worker_socket = dir.join("sockets").join("worker.sock");
        let master_socket = dir.join("sockets").join("master.sock");
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(
            &cfg,
            config(
                &topology,
                ports,
                &dir,
                &[(worker_socket.clone(), Level::Admin)],
                None,
                true,
            ),
        )
        .expect("write config");
        let log = dir.join("master.log");
        let master_arg = format!("{},level,admin", master_socket.display());
        let mut master = spawn(&haproxy_path(), &cfg, &log, &["-W", "-S", &master_arg]);
        wait_socket(&worker_socket, &mut master, &log);
        let mw = MasterWorker {
            dir,
            master,
            master_socket,
            worker_socket,
            seen_workers: Mutex::new(Vec::new()),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while mw.worker_pids().is_empty() {
            assert!(Instant::now() < deadline, "master lists no worker");
            std::thread::sleep(Duration::from_millis(20));
        }
        mw
    }

    /// The master CLI socket.
    pub fn master_socket(&self) -> &Path {
        &self.master_socket
    }

    /// The master's PID.
    pub fn master_pid(&self) -> u32 {
        self.master.id()
    }

    /// The current worker's admin socket.
    pub fn worker_socket(&self) -> &Path {
        &self.worker_socket
    }

    /// Sends `command` to the master CLI and reads the reply.
    ///
    /// # Panics
    ///
    /// When the master socket does not answer.
    pub fn raw_master(&self, command: &str) -> String {
        raw_unix(&self.master_socket, command)
            .unwrap_or_else(|e| panic!("{}: `{command}`: {e}", self.master_socket.display()))
    }

    /// The PIDs of every worker the master lists (current and old), from
    /// `show proc`, read without our libraries.
    pub fn worker_pids(&self) -> Vec<u32> {
        let reply = raw_unix(&self.master_socket, "show proc").unwrap_or_default();
        let pids: Vec<u32> = reply
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                let pid = words.next()?.parse().ok()?;
                (words.next()? == "worker").then_some(pid)
            })
            .collect();
        let mut seen = self.seen_workers.lock().unwrap_or_else(|e| e.into_inner());
        for p in &pids {
            if !seen.contains(p) {
                seen.push(*p);
            }
        }
        pids
    }

    /// Reloads (SIGUSR2 to the master) and waits until a new worker
    /// answers on the worker socket.
    ///
    /// # Panics
    ///
    /// When no new worker appears within 20 seconds.
    pub fn reload(&self) {
        let before = self.worker_pids();
        signal(self.master_pid(), "USR2");
        wait_until(Duration::from_secs(20), "a new worker after reload", || {
            self.worker_pids().iter().any(|p| !before.contains(p))
                && raw_unix(&self.worker_socket, "show info")
                    .map(|r| before.iter().all(|p| !r.contains(&format!("\nPid: {p}\n"))))
                    .unwrap_or(false)
        });
    }

    /// The port `frontend` binds on 127.0.0.1, from the configuration
    /// the harness wrote.
    ///
    /// # Panics
    ///
    /// When the configuration has no such frontend on 127.0.0.1.
    pub fn frontend_port(&self, frontend: &str) -> u16 {
        let cfg = std::fs::read_to_string(self.dir.join("haproxy.cfg")).expect("read the config");
        cfg.split(&format!("frontend {frontend}\n"))
            .nth(1)
            .and_then(|s| s.split("bind 127.0.0.1:").nth(1))
            .and_then(|s| s.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{frontend}'s port"))
    }

    /// Every worker PID this harness has seen.
    pub fn seen_worker_pids(&self) -> Vec<u32> {
        self.seen_workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for MasterWorker {
    fn drop(&mut self) {
        let workers = self.seen_worker_pids();
        stop(&mut self.master);
        for pid in workers {
            if pid_alive(pid) {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        }
        if std::env::var_os("HX_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
