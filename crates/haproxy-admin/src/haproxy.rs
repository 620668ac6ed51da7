//! The process set: construction (one socket, a socket directory, any list
//! of endpoints, a master CLI), discovery, and commands sent to every
//! process.

use crate::conn::Settings;
use crate::error::{ProcessFailure, Skipped};
use crate::process::{add_unique, Process, ProcessId};
use crate::snapshot::Snapshot;
use crate::{Error, Result};
use haproxy_proto::command::Command;
use haproxy_proto::info::parse_info;
use haproxy_transport::{Endpoint, RetryPolicy, Timeouts};
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Values paired with the process they came from, in process order.
pub type PerProcess<T> = Vec<(ProcessId, T)>;

/// The process set and its connection settings, shared by snapshots so
/// that views can send commands.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) processes: Vec<Process>,
    pub(crate) settings: Settings,
}

/// Every HAProxy process reachable through the given sockets, each counted
/// once however many sockets reach it.
///
/// Reads go through a [`Snapshot`] ([`HAProxy::snapshot`]): one `show info`
/// and one `show stat` per process, fetched concurrently. Writes go to
/// every process, concurrently, and every reply is judged whole.
#[derive(Debug, Clone)]
pub struct HAProxy {
    pub(crate) shared: Arc<Shared>,
    skipped: Vec<Skipped>,
}

/// Settings for building a [`HAProxy`]: timeouts, retry policy and the
/// discovery probe timeout. Ends with one of the `from_*` constructors.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    settings: Settings,
}

impl Builder {
    /// A builder with the transport's default timeouts and retry policy and
    /// a 500 ms probe timeout.
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

    /// How long discovery waits for a socket to answer `show info` (no
    /// retry). Probes run concurrently, so a silent foreign socket costs
    /// this once, not once per socket.
    pub fn probe_timeout(mut self, timeout: Duration) -> Builder {
        self.settings.probe_timeout = timeout;
        self
    }

    /// One socket (or any endpoint string: `/path`, `ipv4@127.0.0.1:9999`,
    /// `/master.sock@!1234`).
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] if the endpoint does not parse or does not
    /// answer; [`Error::NotHaproxy`] if it is not HAProxy.
    pub fn from_socket(self, socket: impl AsRef<Path>) -> Result<HAProxy> {
        let endpoint: Endpoint = socket.as_ref().to_string_lossy().parse()?;
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
    /// process are merged (the extra ones kept as alternates).
    ///
    /// # Errors
    ///
    /// [`Error::NoEndpoints`] for an empty list; the first endpoint's
    /// error if any endpoint does not answer as HAProxy.
    pub fn from_endpoints(self, endpoints: impl IntoIterator<Item = Endpoint>) -> Result<HAProxy> {
        let endpoints: Vec<Endpoint> = endpoints.into_iter().collect();
        if endpoints.is_empty() {
            return Err(Error::NoEndpoints);
        }
        let probed = probe_all(&self.settings, &endpoints, false);
        let mut processes = Vec::new();
        for result in probed {
            add_unique(&mut processes, result?);
        }
        Ok(self.build(processes, Vec::new()))
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
        let master = master.as_ref().to_string_lossy().into_owned();
        // The master itself, addressed as such (its CLI answers only once
        // the request is complete, which the transport's master mode knows).
        let endpoint: Endpoint = format!("{master}@master").parse()?;
        let reply = self.settings.command(&endpoint, "show proc")?;
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
            workers.push(format!("{master}@!{}", p.pid).parse::<Endpoint>()?);
            old.push(p.old);
        }
        if workers.is_empty() {
            return Err(Error::NotFound {
                kind: "worker",
                name: master,
            });
        }
        let probed = probe_all(&self.settings, &workers, false);
        let mut processes = Vec::new();
        for (result, old) in probed.into_iter().zip(old) {
            let mut p = result?;
            p.old = old;
            add_unique(&mut processes, p);
        }
        Ok(self.build(processes, Vec::new()))
    }

    fn discover(self, dir: &Path, pattern: Option<&glob::Pattern>) -> Result<HAProxy> {
        let entries = fs::read_dir(dir).map_err(|source| Error::ReadDir {
            dir: dir.to_owned(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries.flatten() {
            let is_socket = entry.file_type().map(|t| t.is_socket()).unwrap_or(false);
            let name_ok = pattern.map_or(true, |p| p.matches(&entry.file_name().to_string_lossy()));
            if is_socket && name_ok {
                paths.push(entry.path());
            }
        }
        paths.sort();
        let mut skipped = Vec::new();
        let mut endpoints = Vec::new();
        let mut endpoint_paths = Vec::new();
        for path in paths {
            match path.to_string_lossy().parse::<Endpoint>() {
                Ok(e) => {
                    endpoints.push(e);
                    endpoint_paths.push(path);
                }
                Err(e) => skipped.push(Skipped {
                    path,
                    reason: e.to_string(),
                }),
            }
        }
        let probed = probe_all(&self.settings, &endpoints, true);
        let mut processes = Vec::new();
        for (result, path) in probed.into_iter().zip(endpoint_paths) {
            match result {
                Ok(p) => add_unique(&mut processes, p),
                Err(e) => skipped.push(Skipped {
                    path,
                    reason: e.to_string(),
                }),
            }
        }
        if processes.is_empty() {
            return Err(Error::NoLiveSocket {
                dir: dir.to_owned(),
                skipped,
            });
        }
        Ok(self.build(processes, skipped))
    }

    fn build(self, processes: Vec<Process>, skipped: Vec<Skipped>) -> HAProxy {
        HAProxy {
            shared: Arc::new(Shared {
                processes,
                settings: self.settings,
            }),
            skipped,
        }
    }
}

/// At most this many probes run at once (a directory may hold many
/// sockets; each probe is a thread).
const PROBE_CONCURRENCY: usize = 64;

/// Probes every endpoint concurrently with `show info`. `quick` uses the
/// probe timeout without retry (discovery); otherwise the command settings.
fn probe_all(settings: &Settings, endpoints: &[Endpoint], quick: bool) -> Vec<Result<Process>> {
    let mut out = Vec::with_capacity(endpoints.len());
    for chunk in endpoints.chunks(PROBE_CONCURRENCY) {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|e| s.spawn(move || identify(settings, e, quick)))
                .collect();
            for (h, e) in handles.into_iter().zip(chunk) {
                out.push(h.join().unwrap_or_else(|_| {
                    Err(Error::NotHaproxy {
                        endpoint: e.to_string(),
                        reason: "probe thread panicked".to_owned(),
                    })
                }));
            }
        });
    }
    out
}

fn identify(settings: &Settings, endpoint: &Endpoint, quick: bool) -> Result<Process> {
    let reply = if quick {
        settings.probe(endpoint, "show info")?
    } else {
        settings.raw(endpoint, "show info")?
    };
    let not_haproxy = |what: &str| {
        // The start of what came back, so the user can tell what listens.
        let start: String = reply.chars().take(60).collect();
        Error::NotHaproxy {
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
    /// directory).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Fetches `show info` and `show stat` from every process, concurrently.
    /// A process that fails is listed in [`Snapshot::failures`]; the others'
    /// data is kept.
    ///
    /// # Errors
    ///
    /// [`Error::Partial`] only when every process failed.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Snapshot::fetch(Arc::clone(&self.shared))
    }

    /// Sends `line` to every process as is, without judging the replies
    /// (raw passthrough); each process's reply, verbatim.
    ///
    /// # Errors
    ///
    /// [`Error::Partial`] (or the single process's error) if a process
    /// could not be reached; replies of the others are lost with it.
    /// [`Error::Proto`] for an empty line or one holding a control
    /// character (it could start a second command).
    pub fn command(&self, line: &str) -> Result<PerProcess<String>> {
        // A typed line is sent as typed (`;` included: the user wrote it),
        // but it must stay one line.
        let line = haproxy_proto::command::Command::raw(line)?.to_wire();
        let line = line.as_str();
        let all: Vec<&Process> = self.shared.processes.iter().collect();
        fan_out(&self.shared.settings, &all, line, |s, e| s.raw(e, line))
    }

    /// Sends an already built command to every process and judges each
    /// reply.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's text (or [`Error::Partial`]
    /// when only some processes failed).
    pub(crate) fn run(&self, command: &Command) -> Result<PerProcess<String>> {
        let all: Vec<&Process> = self.shared.processes.iter().collect();
        run_on(&self.shared.settings, &all, command)
    }
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
    let results: Vec<Result<T>> = std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = processes
            .iter()
            .map(|p| s.spawn(move || f(settings, &p.endpoint)))
            .collect();
        handles
            .into_iter()
            .zip(processes)
            .map(|(h, p)| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::NotHaproxy {
                        endpoint: p.endpoint.to_string(),
                        reason: "worker thread panicked".to_owned(),
                    })
                })
            })
            .collect()
    });
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
