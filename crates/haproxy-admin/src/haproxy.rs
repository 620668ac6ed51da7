//! The process set: construction (one socket, a socket directory, any list
//! of endpoints, a master CLI), discovery, and commands sent to every
//! process.

use crate::conn::Settings;
use crate::error::{ProcessFailure, Skipped, Unreachable};
use crate::fanout;
use crate::process::{add_unique, apply_levels, level_asks, Process, ProcessId};
use crate::{Error, Result};
use haproxy_proto::command::Command;
use haproxy_proto::info::parse_info;
use haproxy_transport::{Endpoint, Limiter, ReplyLimits, RetryPolicy, Target, Timeouts};
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where a set's processes are: what a user names on a command line, in
/// an environment variable or a configuration file, once, for every
/// program to connect through ([`Builder::connect`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// These endpoints (UNIX sockets, `ipv4@…`, master selectors `@N`).
    Endpoints(Vec<Endpoint>),
    /// Every live HAProxy socket in `dir` (whose file name matches the
    /// glob `pattern`, when given).
    Dir {
        /// The directory.
        dir: PathBuf,
        /// A glob over file names (`haproxy-*.sock`).
        pattern: Option<String>,
    },
    /// Every worker of this master CLI socket.
    Master(PathBuf),
}

impl std::fmt::Display for Source {
    /// How an operator would name it: endpoints comma-separated, a
    /// directory (with `:GLOB`), or `master:PATH`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Endpoints(e) => {
                for (i, e) in e.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Source::Dir { dir, pattern } => {
                write!(f, "{}", dir.display())?;
                match pattern {
                    Some(p) => write!(f, ":{p}"),
                    None => Ok(()),
                }
            }
            Source::Master(m) => write!(f, "master:{}", m.display()),
        }
    }
}

/// Values paired with the process they came from, in process order.
pub type PerProcess<T> = Vec<(ProcessId, T)>;

/// The process set and its connection settings, shared by snapshots so
/// that views can send commands.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) processes: Vec<Process>,
    pub(crate) settings: Settings,
    /// Processes that could not be reached at discovery (best effort
    /// only; otherwise discovery failed).
    pub(crate) unreachable: Vec<Unreachable>,
    /// The memory of dropped snapshots' tables, for the next fetch.
    pub(crate) spare: SpareTables,
}

/// The memory of dropped snapshots' tables (at most one per process),
/// which the next fetch reads and parses into: a program that takes
/// snapshot after snapshot of a large fleet (`top`, an exporter) then
/// writes over pages already in memory instead of faulting in fresh ones
/// each time (a third of a 4 × 10,000-server snapshot's CPU went to page
/// faults).
#[derive(Debug, Default)]
pub(crate) struct SpareTables(std::sync::Mutex<Vec<haproxy_proto::stat::TableMemory>>);

impl SpareTables {
    /// A table's memory, or none.
    pub(crate) fn take(&self) -> haproxy_proto::stat::TableMemory {
        self.0
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .unwrap_or_default()
    }

    /// Keeps `memory` for a later fetch, unless `max` are kept already.
    pub(crate) fn give(&self, memory: haproxy_proto::stat::TableMemory, max: usize) {
        if let Ok(mut spare) = self.0.lock() {
            if spare.len() < max {
                spare.push(memory);
            }
        }
    }
}

/// Every HAProxy process reachable through the given sockets, each counted
/// once however many sockets reach it.
///
/// Reads go through a [`Snapshot`](crate::Snapshot) ([`HAProxy::snapshot`]): one `show info`
/// and one `show stat` per process, fetched concurrently. Writes go to
/// every process, concurrently, and every reply is judged whole.
#[derive(Debug, Clone)]
pub struct HAProxy {
    pub(crate) shared: Arc<Shared>,
    skipped: Vec<Skipped>,
}

/// Settings for building a [`HAProxy`]: timeouts, retry policy, the
/// discovery probe timeout and whether partial results are acceptable.
/// Ends with one of the `from_*` constructors.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    pub(crate) settings: Settings,
}

impl Builder {
    /// A builder with the transport's default timeouts and retry policy, a
    /// probe timeout equal to the command timeouts, and no partial results.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Connect, read and write timeouts for commands.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Builder {
        self.settings.timeouts = timeouts;
        self
    }

    /// How connection failures and timeouts are retried (never a command
    /// HAProxy answered).
    pub fn retry(mut self, retry: RetryPolicy) -> Builder {
        self.settings.retry = retry;
        self
    }

    /// How long discovery waits for a socket to answer `show info` (every
    /// phase, no retry). By default the command timeouts: a process too
    /// busy to answer a probe in time is one a command would reach no
    /// better. Probes run concurrently, so a silent socket costs this
    /// once, not once per socket. A socket that accepts but does not
    /// answer in time is not skipped: it is a process that could not be
    /// reached (see [`Builder::allow_partial`]).
    pub fn probe_timeout(mut self, timeout: Duration) -> Builder {
        self.settings.probe_timeout = Some(timeout);
        self
    }

    /// How large one reply may grow before it is abandoned with
    /// [`TransportError::ReplyTooLarge`](crate::TransportError::ReplyTooLarge)
    /// (by default 256 MiB for a dump, 1 MiB for anything else): a bound
    /// on memory whatever a socket sends. The probe that identifies a
    /// process (`show info`) reads at most [`PROBE_REPLY_LIMIT`](crate::PROBE_REPLY_LIMIT)
    /// whatever this says, so a foreign socket that streams without end
    /// is cut early; such a socket is a process that could not be reached
    /// (see [`Builder::allow_partial`]).
    pub fn reply_limits(mut self, limits: ReplyLimits) -> Builder {
        self.settings.limits = limits;
        self
    }

    /// The bound on connections open to each socket at once (by default
    /// [`haproxy_transport::DEFAULT_MAX_CONNECTIONS`], under HAProxy's
    /// `stats maxconn` of 10). Every client of the set shares it, and so
    /// does any other client given the same [`Limiter`]: a program that
    /// also talks to these sockets through its own `haproxy_transport`
    /// clients passes one limiter to both, so that together they stay
    /// within `stats maxconn`.
    pub fn limiter(mut self, limiter: Limiter) -> Builder {
        self.settings.limiter = limiter;
        self
    }

    /// Best effort: proceed without the processes that could not be
    /// reached, instead of failing. Discovery then keeps them in
    /// [`HAProxy::unreachable`]; a [`Snapshot`](crate::Snapshot) keeps the processes that
    /// failed in [`Snapshot::failures`](crate::Snapshot::failures) and says what it lacks in
    /// [`Snapshot::missing`](crate::Snapshot::missing). Without it, a socket that accepted but did
    /// not answer in time, whose `stats maxconn` was full, or that could
    /// not be opened (e.g. out of file descriptors) makes discovery fail
    /// with [`Error::Unreachable`], and a process failing during a
    /// snapshot makes the snapshot fail. Sockets where nothing listens
    /// (refused, stale) and sockets that are not HAProxy are skipped and
    /// reported ([`HAProxy::skipped`]) either way.
    pub fn allow_partial(mut self) -> Builder {
        self.settings.allow_partial = true;
        self
    }

    /// The processes `source` names: the one entry point every program
    /// (the CLI, the exporter, a library user) builds a set through.
    ///
    /// # Errors
    ///
    /// As [`Builder::from_endpoints`], [`Builder::from_dir_matching`] or
    /// [`Builder::from_master`], for the source's kind.
    pub fn connect(self, source: &Source) -> Result<HAProxy> {
        match source {
            Source::Endpoints(e) => self.from_endpoints(e.iter().cloned()),
            Source::Dir { dir, pattern: None } => self.from_dir(dir),
            Source::Dir {
                dir,
                pattern: Some(p),
            } => self.from_dir_matching(dir, p),
            Source::Master(m) => self.from_master(m),
        }
    }

    /// One socket (or any endpoint string: `/path`, `ipv4@127.0.0.1:9999`,
    /// `/master.sock@!1234`). An existing socket file, or a path that is
    /// not UTF-8, is taken as a UNIX socket as is (a file named `x@1` is
    /// not a master selector); use [`Builder::from_endpoints`] with an
    /// [`Endpoint`] to say exactly what is meant.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] if the endpoint does not parse or does not
    /// answer; [`Error::NotHAProxy`] if it is not HAProxy.
    pub fn from_socket(self, socket: impl AsRef<Path>) -> Result<HAProxy> {
        let endpoint = endpoint_of(socket.as_ref())?;
        self.from_endpoints([endpoint])
    }

    /// Every live HAProxy socket in `dir`. Other files and sockets that do
    /// not answer as HAProxy are skipped and reported
    /// ([`HAProxy::skipped`]).
    ///
    /// # Errors
    ///
    /// [`Error::ReadDir`] if the directory cannot be read;
    /// [`Error::NoLiveSocket`] (with every skipped socket and why) if no
    /// socket answers as HAProxy.
    pub fn from_dir(self, dir: impl AsRef<Path>) -> Result<HAProxy> {
        self.discover(dir.as_ref(), None)
    }

    /// Like [`Builder::from_dir`], probing only the files whose name
    /// matches the glob `pattern` (e.g. `haproxy-*.sock`).
    ///
    /// # Errors
    ///
    /// As [`Builder::from_dir`], and [`Error::Pattern`] for an invalid
    /// pattern.
    pub fn from_dir_matching(self, dir: impl AsRef<Path>, pattern: &str) -> Result<HAProxy> {
        let pat = glob::Pattern::new(pattern).map_err(|e| Error::Pattern {
            pattern: pattern.to_owned(),
            message: e.to_string(),
        })?;
        self.discover(dir.as_ref(), Some(&pat))
    }

    /// The given endpoints, probed concurrently; endpoints reaching one
    /// process are merged (the highest-level one used, the others kept
    /// as alternates).
    ///
    /// # Errors
    ///
    /// [`Error::NoEndpoints`] for an empty list; the first endpoint's
    /// error if any endpoint does not answer as HAProxy — with
    /// [`Builder::allow_partial`], only if it answered as something else
    /// or none answered, the others being kept in
    /// [`HAProxy::unreachable`].
    pub fn from_endpoints(self, endpoints: impl IntoIterator<Item = Endpoint>) -> Result<HAProxy> {
        let endpoints: Vec<Endpoint> = endpoints.into_iter().collect();
        if endpoints.is_empty() {
            return Err(Error::NoEndpoints);
        }
        let probed = probe_all(&self.settings, &endpoints, false);
        self.named(
            probed
                .into_iter()
                .zip(endpoints)
                .map(|(r, e)| (r, e, false)),
        )
    }

    /// Builds the set from the probes of endpoints the user named (or a
    /// master listed): any failure is an error, unless best effort was
    /// asked for and the endpoint may be a live process.
    fn named(
        self,
        probed: impl Iterator<Item = (Result<Process>, Endpoint, bool)>,
    ) -> Result<HAProxy> {
        let (mut processes, unreachable) = self.named_set(probed)?;
        choose_sockets(&self.settings, &mut processes);
        Ok(self.build(processes, Vec::new(), unreachable))
    }

    /// The processes (not yet choosing among sockets reaching one
    /// process) and the unreachable endpoints, from the probes of
    /// endpoints the user named: shared by blocking and async discovery.
    pub(crate) fn named_set(
        &self,
        probed: impl Iterator<Item = (Result<Process>, Endpoint, bool)>,
    ) -> Result<(Vec<Process>, Vec<Unreachable>)> {
        let mut processes = Vec::new();
        let mut unreachable = Vec::new();
        let mut first_error = None;
        for (result, endpoint, old) in probed {
            match result {
                Ok(mut p) => {
                    p.old = old;
                    add_unique(&mut processes, p);
                }
                Err(e) if self.settings.allow_partial && probe_verdict(&e) != Verdict::Foreign => {
                    unreachable.push(Unreachable {
                        endpoint: endpoint.to_string(),
                        reason: e.to_string(),
                    });
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        if processes.is_empty() {
            return Err(first_error.unwrap_or(Error::NoEndpoints));
        }
        Ok((processes, unreachable))
    }

    /// The workers of a master CLI (`haproxy -W -S <socket>`), from
    /// `show proc`: current workers and old ones still draining after a
    /// reload ([`Process::is_old`]), each reached as `<master>@!<pid>`.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] if the master does not answer,
    /// [`Error::Parse`] if `show proc` cannot be read, and the first
    /// worker's error if a worker does not answer `show info`.
    pub fn from_master(self, master: impl AsRef<Path>) -> Result<HAProxy> {
        let master = endpoint_of(master.as_ref())?;
        // The master itself, addressed as such (its CLI answers only once
        // the request is complete, which the transport's master mode knows).
        let endpoint = Endpoint::via_master(master.clone(), Target::Master);
        let reply = self.settings.command(&endpoint, "show proc");
        let (workers, old) = master_workers(&master, &endpoint, reply)?;
        let probed = probe_all(&self.settings, &workers, false);
        self.named(
            probed
                .into_iter()
                .zip(workers)
                .zip(old)
                .map(|((r, e), old)| (r, e, old)),
        )
    }

    fn discover(self, dir: &Path, pattern: Option<&glob::Pattern>) -> Result<HAProxy> {
        let paths = socket_paths(dir, pattern)?;
        // A socket file is a UNIX socket whatever its name holds (`@`, bytes
        // that are not UTF-8): never read back as an endpoint string.
        let endpoints: Vec<Endpoint> = paths.iter().map(Endpoint::unix).collect();
        let probed = probe_all(&self.settings, &endpoints, true);
        let (mut processes, skipped, unreachable) = self.dir_set(dir, paths, probed)?;
        choose_sockets(&self.settings, &mut processes);
        Ok(self.build(processes, skipped, unreachable))
    }

    /// The processes, skipped sockets and unreachable ones of a
    /// directory from the probes of its sockets: shared by blocking and
    /// async discovery.
    pub(crate) fn dir_set(
        &self,
        dir: &Path,
        paths: Vec<PathBuf>,
        probed: Vec<Result<Process>>,
    ) -> Result<(Vec<Process>, Vec<Skipped>, Vec<Unreachable>)> {
        let mut processes = Vec::new();
        let mut skipped = Vec::new();
        let mut unreachable = Vec::new();
        for (result, path) in probed.into_iter().zip(paths) {
            match result {
                Ok(p) => add_unique(&mut processes, p),
                Err(e) => match probe_verdict(&e) {
                    Verdict::Dead | Verdict::Foreign => {
                        // The path is said by `Skipped` itself, once.
                        let text = e.to_string();
                        let prefix = format!("{}: ", path.display());
                        let reason = text.strip_prefix(&prefix).unwrap_or(&text).to_owned();
                        skipped.push(Skipped { path, reason })
                    }
                    Verdict::Unreachable => unreachable.push(Unreachable {
                        endpoint: path.display().to_string(),
                        reason: e.to_string(),
                    }),
                },
            }
        }
        if !unreachable.is_empty() && (processes.is_empty() || !self.settings.allow_partial) {
            return Err(Error::Unreachable { unreachable });
        }
        if processes.is_empty() {
            return Err(Error::NoLiveSocket {
                dir: dir.to_owned(),
                skipped,
            });
        }
        Ok((processes, skipped, unreachable))
    }

    pub(crate) fn build(
        self,
        processes: Vec<Process>,
        skipped: Vec<Skipped>,
        unreachable: Vec<Unreachable>,
    ) -> HAProxy {
        HAProxy {
            shared: Arc::new(Shared {
                processes,
                settings: self.settings,
                unreachable,
                spare: SpareTables::default(),
            }),
            skipped,
        }
    }
}

/// The socket files of `dir` (whose name matches `pattern`), sorted.
pub(crate) fn socket_paths(dir: &Path, pattern: Option<&glob::Pattern>) -> Result<Vec<PathBuf>> {
    let entries = fs::read_dir(dir).map_err(|source| Error::ReadDir {
        dir: dir.to_owned(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries.flatten() {
        // A link to a socket counts as the socket (a directory of links
        // to each instance's socket is a common layout).
        let is_socket = entry.file_type().is_ok_and(|t| {
            t.is_socket()
                || (t.is_symlink()
                    && fs::metadata(entry.path()).is_ok_and(|m| m.file_type().is_socket()))
        });
        let name_ok = pattern.map_or(true, |p| p.matches(&entry.file_name().to_string_lossy()));
        if is_socket && name_ok {
            paths.push(entry.path());
        }
    }
    paths.sort();
    Ok(paths)
}

/// The workers a master's `show proc` reply lists, each reached as
/// `<master>@!<pid>`, and whether each is an old one.
pub(crate) fn master_workers(
    master: &Endpoint,
    endpoint: &Endpoint,
    reply: Result<String>,
) -> Result<(Vec<Endpoint>, Vec<bool>)> {
    let not_a_master = |found: &str| Error::NotAMaster {
        endpoint: master.to_string(),
        found: found.chars().take(60).collect(),
    };
    let reply = match reply {
        Ok(reply) => reply,
        // A worker's stats socket: no `show proc`, its help text instead.
        Err(Error::CommandFailed { message, .. }) if is_unknown_command(&message) => {
            return Err(not_a_master(&message));
        }
        Err(e) => return Err(e),
    };
    if is_unknown_command(&reply) {
        return Err(not_a_master(&reply));
    }
    let procs = haproxy_proto::proc::parse_proc(&reply).map_err(|source| Error::Parse {
        endpoint: endpoint.to_string(),
        command: "show proc".to_owned(),
        source: Box::new(source),
    })?;
    let mut workers = Vec::new();
    let mut old = Vec::new();
    for p in procs
        .iter()
        .filter(|p| p.kind == haproxy_proto::proc::ProcKind::Worker)
    {
        workers.push(Endpoint::via_master(master.clone(), Target::Pid(p.pid)));
        old.push(p.old);
    }
    if workers.is_empty() {
        return Err(Error::NotFound {
            kind: "worker",
            name: master.to_string(),
        });
    }
    Ok((workers, old))
}

/// The endpoint a path names: an existing socket file, or a path that is
/// not UTF-8, as a UNIX socket as is; otherwise the endpoint syntax
/// (`ipv4@…`, `/master.sock@1`…).
pub(crate) fn endpoint_of(path: &Path) -> Result<Endpoint> {
    let is_socket = fs::metadata(path).is_ok_and(|m| m.file_type().is_socket());
    match path.to_str() {
        Some(text) if !is_socket => Ok(text.parse()?),
        _ => Ok(Endpoint::unix(path)),
    }
}

/// Whether a reply is HAProxy's "Unknown command" help text.
fn is_unknown_command(reply: &str) -> bool {
    reply.trim_start().starts_with("Unknown command")
}

/// What a failed probe says about the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Nothing listens (refused, stale file, gone): skipped.
    Dead,
    /// Something answered, but not HAProxy: skipped.
    Foreign,
    /// Something may be there that did not answer (accepted and stayed
    /// silent, `stats maxconn` full, could not be opened): a process we
    /// could not reach.
    Unreachable,
}

fn probe_verdict(e: &Error) -> Verdict {
    match e {
        Error::NotHAProxy { .. } => Verdict::Foreign,
        Error::Transport(t) => transport_verdict(t),
        _ => Verdict::Unreachable,
    }
}

fn transport_verdict(e: &haproxy_transport::Error) -> Verdict {
    use haproxy_transport::Error as T;
    match e {
        T::NoSuchSocket { .. } | T::NotASocket { .. } | T::ConnectRefused { .. } => Verdict::Dead,
        T::NotHAProxy { .. } | T::InvalidUtf8 { .. } => Verdict::Foreign,
        T::RetriesExhausted { last, .. } => transport_verdict(last),
        // Timeouts, a connect that failed otherwise (EMFILE, EAGAIN on a
        // full backlog), permission, a reply cut short, and any error this
        // code does not know yet: maybe a live process.
        _ => Verdict::Unreachable,
    }
}

/// At most this many probes run at once (a directory may hold many
/// sockets; each probe is a thread).
const PROBE_CONCURRENCY: usize = 64;

/// Probes every endpoint concurrently with `show info`. `quick` uses the
/// probe timeout without retry (discovery); otherwise the command settings.
fn probe_all(settings: &Settings, endpoints: &[Endpoint], quick: bool) -> Vec<Result<Process>> {
    fanout::fan_out(
        endpoints,
        PROBE_CONCURRENCY,
        "probe",
        Endpoint::to_string,
        |e| identify(settings, e, quick),
    )
}

fn identify(settings: &Settings, endpoint: &Endpoint, quick: bool) -> Result<Process> {
    let reply = settings
        .identify_client(endpoint, quick)
        .command("show info")?;
    identify_reply(endpoint, reply)
}

/// The process a `show info` reply describes, or why it is not HAProxy.
pub(crate) fn identify_reply(endpoint: &Endpoint, reply: String) -> Result<Process> {
    let not_haproxy = |what: &str| {
        // The start of what came back, so the user can tell what listens.
        let start: String = reply.chars().take(60).collect();
        Error::NotHAProxy {
            endpoint: endpoint.to_string(),
            reason: format!("{what}; it answered {start:?}"),
        }
    };
    let info = parse_info(&reply).map_err(|_| not_haproxy("`show info` reply is not HAProxy's"))?;
    if info.name() != Some("HAProxy") {
        return Err(not_haproxy("`show info` has no `Name: HAProxy`"));
    }
    let id = ProcessId::from_info(&info).ok_or_else(|| not_haproxy("`show info` has no `Pid`"))?;
    Ok(Process {
        id,
        endpoint: endpoint.clone(),
        alternates: Vec::new(),
        version: info.version().map(str::to_owned),
        old: false,
        exact_start: matches!(info.start_time_sec(), Ok(Some(_))),
    })
}

impl HAProxy {
    /// A [`Builder`] for timeouts, retry policy and probe timeout.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// One socket, default settings. See [`Builder::from_socket`].
    ///
    /// # Errors
    ///
    /// As [`Builder::from_socket`].
    pub fn from_socket(socket: impl AsRef<Path>) -> Result<HAProxy> {
        Builder::new().from_socket(socket)
    }

    /// Every live socket in `dir`, default settings. See
    /// [`Builder::from_dir`].
    ///
    /// # Errors
    ///
    /// As [`Builder::from_dir`].
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<HAProxy> {
        Builder::new().from_dir(dir)
    }

    /// The sockets of `dir` whose name matches `pattern`. See
    /// [`Builder::from_dir_matching`].
    ///
    /// # Errors
    ///
    /// As [`Builder::from_dir_matching`].
    pub fn from_dir_matching(dir: impl AsRef<Path>, pattern: &str) -> Result<HAProxy> {
        Builder::new().from_dir_matching(dir, pattern)
    }

    /// The given endpoints, default settings. See
    /// [`Builder::from_endpoints`].
    ///
    /// # Errors
    ///
    /// As [`Builder::from_endpoints`].
    pub fn from_endpoints(endpoints: impl IntoIterator<Item = Endpoint>) -> Result<HAProxy> {
        Builder::new().from_endpoints(endpoints)
    }

    /// The workers of a master CLI, default settings. See
    /// [`Builder::from_master`].
    ///
    /// # Errors
    ///
    /// As [`Builder::from_master`].
    pub fn from_master(master: impl AsRef<Path>) -> Result<HAProxy> {
        Builder::new().from_master(master)
    }

    /// The processes, each once, in discovery order.
    pub fn processes(&self) -> &[Process] {
        &self.shared.processes
    }

    /// The PIDs of the processes.
    pub fn process_ids(&self) -> Vec<u32> {
        self.shared.processes.iter().map(|p| p.id.pid).collect()
    }

    /// Socket files discovery skipped, and why (empty unless built from a
    /// directory): nothing listened there, or it was not HAProxy.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Sockets of processes that could not be reached, kept only with
    /// [`Builder::allow_partial`] (otherwise building the set failed):
    /// every result of this set lacks them. Empty for a complete set.
    pub fn unreachable(&self) -> &[Unreachable] {
        &self.shared.unreachable
    }

    /// Sends `line` to every process as typed (raw passthrough) and
    /// judges each reply as every command is judged: a reply holding one
    /// of HAProxy's known error messages ([`haproxy_proto::reply::ERRORS`])
    /// is a failure. Each process's reply, verbatim.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's words (or
    /// [`Error::Partial`] when only some processes refused or could not
    /// be reached). [`Error::Proto`] for an empty line or one holding a
    /// control character (it could start a second command).
    pub fn command(&self, line: &str) -> Result<PerProcess<String>> {
        // A typed line is sent as typed (`;` included: the user wrote it),
        // but it must stay one line; to every process, old workers too (it
        // may be a read).
        run_on(self.settings(), &self.all(), &Command::raw(line)?)
    }

    /// The same set without the processes writes skip
    /// ([`HAProxy::skipped_by_writes`]: a master's old workers): what
    /// must agree is compared among the current workers.
    pub fn current(&self) -> HAProxy {
        let processes = self.writable().into_iter().cloned().collect();
        self.derived(processes, self.shared.settings.clone())
    }

    /// A set of `processes` (of this one) with `settings`, the same
    /// unreachable endpoints; no table memory shared.
    fn derived(&self, processes: Vec<Process>, settings: Settings) -> HAProxy {
        HAProxy {
            shared: Arc::new(Shared {
                processes,
                settings,
                unreachable: self.shared.unreachable.clone(),
                spare: SpareTables::default(),
            }),
            skipped: Vec::new(),
        }
    }

    /// The same process set and connection limiter, every command's
    /// deadline at most `left` (the time a wait has left).
    pub(crate) fn within(&self, left: Duration) -> HAProxy {
        let s = &self.shared;
        let mut settings = s.settings.clone();
        let t = &mut settings.timeouts;
        t.command = t.command.min(left);
        t.connect = t.connect.min(left);
        t.queue = t.queue.min(left);
        if let Some(p) = settings.probe_timeout.as_mut() {
            *p = (*p).min(left);
        }
        self.derived(s.processes.clone(), settings)
    }

    /// Every process of the set.
    pub(crate) fn all(&self) -> Vec<&Process> {
        self.shared.processes.iter().collect()
    }

    /// The processes a write goes to: every one but the old workers of a
    /// master (draining after a reload: their proxies are disabled, so
    /// they refuse every write with `Proxy is disabled.`, and their
    /// settings are the old configuration's). A set of old workers only is
    /// written as it is.
    pub(crate) fn writable(&self) -> Vec<&Process> {
        writable(self.shared.processes.iter())
    }

    /// The old workers of a master in the set, which writes skip (see
    /// [`Process::is_old`]): to say so.
    pub fn skipped_by_writes(&self) -> Vec<&Process> {
        let w = self.writable();
        self.shared
            .processes
            .iter()
            .filter(|p| !w.iter().any(|x| std::ptr::eq(*x, *p)))
            .collect()
    }

    /// How the set talks to its processes.
    pub(crate) fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// Sends a command built by `haproxy-proto`'s builder to every
    /// process and judges each reply by recognition: the one path of
    /// every write, so that what a dry run prints ([`Command::line`]) is
    /// what is sent.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's text (or [`Error::Partial`]
    /// when only some processes failed).
    pub fn run(&self, command: &Command) -> Result<PerProcess<String>> {
        run_on(self.settings(), &self.writable(), command)
    }
}

/// Of `processes`, those a write goes to: all but old workers, unless
/// there are only old workers.
pub(crate) fn writable<'p>(
    processes: impl Iterator<Item = &'p Process> + Clone,
) -> Vec<&'p Process> {
    let current: Vec<&Process> = processes.clone().filter(|p| !p.is_old()).collect();
    if current.is_empty() {
        processes.collect()
    } else {
        current
    }
}

/// For every process reached by several sockets, asks each socket its
/// level (`show cli level`, concurrently) and makes the highest-level one
/// the process's endpoint, the others alternates: writes must not go to
/// a `level user` socket when an admin one reaches the same process. A
/// socket that cannot say ranks lowest; ties keep discovery order.
fn choose_sockets(settings: &Settings, processes: &mut [Process]) {
    let asks = level_asks(processes);
    if asks.is_empty() {
        return;
    }
    let ranks = fanout::fan_out(
        &asks,
        asks.len(),
        "level probe",
        |(_, _, e)| e.to_string(),
        |(_, _, e)| settings.probe(e, "show cli level"),
    );
    apply_levels(processes, &asks, ranks);
}

/// Sends `command` to `processes` concurrently and judges every reply by
/// recognition.
pub(crate) fn run_on(
    settings: &Settings,
    processes: &[&Process],
    command: &Command,
) -> Result<PerProcess<String>> {
    fan_out(settings, processes, command.line(), |s, e| {
        s.send(e, command)
    })
}

/// Runs `f` for every process concurrently; all results, or the failures.
pub(crate) fn fan_out<T: Send>(
    settings: &Settings,
    processes: &[&Process],
    what: &str,
    f: impl Fn(&Settings, &Endpoint) -> Result<T> + Sync,
) -> Result<PerProcess<T>> {
    let results = fanout::fan_out(
        processes,
        processes.len(),
        "command",
        |p| p.endpoint.to_string(),
        |p| f(settings, &p.endpoint),
    );
    collect(processes, what, results)
}

/// Pairs results with their processes: all values, the single error of a
/// single process, or [`Error::Partial`].
pub(crate) fn collect<T>(
    processes: &[&Process],
    what: &str,
    results: Vec<Result<T>>,
) -> Result<PerProcess<T>> {
    let mut ok = Vec::new();
    let mut failures = Vec::new();
    for (p, r) in processes.iter().zip(results) {
        match r {
            Ok(v) => ok.push((p.id.clone(), v)),
            Err(e) => failures.push(ProcessFailure {
                process: p.id.clone(),
                endpoint: p.endpoint.to_string(),
                error: Box::new(e),
            }),
        }
    }
    if failures.is_empty() {
        return Ok(ok);
    }
    if ok.is_empty() && failures.len() == 1 {
        if let Some(f) = failures.pop() {
            return Err(*f.error);
        }
    }
    Err(Error::Partial {
        command: what.to_owned(),
        succeeded: ok.into_iter().map(|(p, _)| p).collect(),
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use haproxy_transport::{Error as T, Phase};
    use std::io;

    #[test]
    fn a_dead_socket_is_told_from_a_busy_process() {
        let e = || Endpoint::unix("/run/haproxy/a.sock");
        let os = |code| io::Error::from_raw_os_error(code);
        let cases: Vec<(Error, Verdict)> = vec![
            (T::ConnectRefused { endpoint: e() }.into(), Verdict::Dead),
            (T::NoSuchSocket { endpoint: e() }.into(), Verdict::Dead),
            (T::NotASocket { endpoint: e() }.into(), Verdict::Dead),
            (
                T::NotHAProxy {
                    endpoint: e(),
                    found: "HTTP/1.1 400".into(),
                }
                .into(),
                Verdict::Foreign,
            ),
            (
                Error::NotHAProxy {
                    endpoint: "x".into(),
                    reason: "no Name".into(),
                },
                Verdict::Foreign,
            ),
            // Accepted and silent (busy, or stats maxconn full: the kernel
            // queues the connection and HAProxy does not take it).
            (
                T::Timeout {
                    endpoint: e(),
                    phase: Phase::Read,
                    after: Duration::from_secs(1),
                }
                .into(),
                Verdict::Unreachable,
            ),
            (
                T::Timeout {
                    endpoint: e(),
                    phase: Phase::Connect,
                    after: Duration::from_secs(1),
                }
                .into(),
                Verdict::Unreachable,
            ),
            // Could not be opened: out of file descriptors, backlog full.
            (
                T::Connect {
                    endpoint: e(),
                    source: os(24), // EMFILE
                }
                .into(),
                Verdict::Unreachable,
            ),
            (
                T::Connect {
                    endpoint: e(),
                    source: os(11), // EAGAIN
                }
                .into(),
                Verdict::Unreachable,
            ),
            (
                T::PermissionDenied { endpoint: e() }.into(),
                Verdict::Unreachable,
            ),
            (
                T::ClosedMidReply {
                    endpoint: e(),
                    received: 10,
                }
                .into(),
                Verdict::Unreachable,
            ),
            (
                T::RetriesExhausted {
                    endpoint: e(),
                    attempts: 3,
                    last: Box::new(T::ConnectRefused { endpoint: e() }),
                }
                .into(),
                Verdict::Dead,
            ),
            (
                Error::WorkerPanicked {
                    task: "probe",
                    item: "x".into(),
                },
                Verdict::Unreachable,
            ),
        ];
        for (error, want) in cases {
            assert_eq!(probe_verdict(&error), want, "{error}");
        }
    }

    #[test]
    fn a_socket_file_is_never_read_as_an_endpoint_string() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let non_utf8 = Path::new(OsStr::from_bytes(b"/tmp/y\xff.sock"));
        assert_eq!(
            endpoint_of(non_utf8).expect("unix"),
            Endpoint::Unix(non_utf8.to_owned())
        );
        // A path that does not exist keeps the endpoint syntax.
        assert!(matches!(
            endpoint_of(Path::new("/nonexistent/m.sock@1")),
            Ok(Endpoint::Master { .. })
        ));
    }
}
