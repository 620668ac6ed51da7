//! The async admin (feature `tokio`): the same process set, snapshots,
//! writes, batches and maps as [`HAProxy`], for programs on tokio.
//!
//! [`AsyncHAProxy`] holds a [`HAProxy`] — the same processes, settings and
//! limiter — and its methods return the same types ([`Snapshot`],
//! [`PerProcess`], [`Error`], [`MapInfo`]…): only the waiting is async.
//! Discovery probes and every process's `show info` + `show stat` run as
//! tokio tasks (no thread per process); each reply is parsed in its task
//! and the snapshot is combined by the code [`HAProxy::snapshot`] uses.
//! The commands are built and the replies judged by the same code as the
//! blocking API.
//!
//! ```no_run
//! use haproxy_admin::asynch::AsyncHAProxy;
//! use haproxy_admin::Weight;
//!
//! # async fn run() -> haproxy_admin::Result<()> {
//! let hap = AsyncHAProxy::from_dir("/run/haproxy").await?;
//! let snap = hap.snapshot().await?;
//! for server in snap.servers(Some("be_app")) {
//!     println!("{}/{}: {:?}", server.backend(), server.name(), server.status());
//! }
//! let app1 = snap.backend("be_app")?.server("app1")?;
//! let weight = Weight::Absolute(50).command(app1.backend(), app1.name())?;
//! hap.run_having(&app1.processes(), &weight).await?;
//! # Ok(()) }
//! ```
//!
//! # Runtime and cancellation
//!
//! Tasks are spawned on the current tokio runtime (current-thread or
//! multi-thread: both work). Every future may be dropped: the tasks it
//! spawned are aborted, their connections closed and their connection
//! slots freed, and the handle stays usable. A write dropped after it was
//! sent may still have happened on some processes (as with any command
//! whose reply is not awaited): read the state back. The views' own
//! write methods ([`crate::Server::set_weight`]…) block; from async code
//! send the same [`Command`] with [`AsyncHAProxy::run_having`] (the
//! processes that have the object), [`AsyncHAProxy::run`] (every
//! process) or [`AsyncHAProxy::run_batch`].

use crate::check::{compared, entries_differences, files_difference, read_difference};
use crate::conn::{judge, judge_dump, judge_pipelined, judge_text, Settings};
use crate::error::Unreachable;
use crate::haproxy::{
    collect, endpoint_of, identify_reply, master_workers, socket_paths, Builder, PerProcess,
};
use crate::maps::{
    check_committed, confirmations, lookups, lookups_of, map_infos, parse_entries,
    parse_new_version, readings, resolve_all, ListKind, LOOKUPS_AT_ONCE,
};
use crate::process::{apply_levels, level_asks};
use crate::select::{round_budget, wait_round, WaitRound, WaitState};
use crate::snapshot::parse_replies_into;
use crate::{
    snapshot_differences, Batch, Difference, Entry, Error, HAProxy, Lookup, MapInfo, MapRef,
    ObjectRef, Process, ProcessId, Result, SessionsLeft, Snapshot, Text,
};
use haproxy_proto::command::Command;
use haproxy_transport::asynch::{AsyncClient, AsyncSession};
use haproxy_transport::{Endpoint, Target};
use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The async twin of [`HAProxy`]: the same process set, async methods,
/// the same result types. Cheap to clone; share one between tasks (the
/// connection limiter, [`crate::Builder`]'s, bounds them all per socket).
#[derive(Debug, Clone)]
pub struct AsyncHAProxy {
    hap: HAProxy,
}

impl From<HAProxy> for AsyncHAProxy {
    /// The same process set, used from async code.
    fn from(hap: HAProxy) -> AsyncHAProxy {
        AsyncHAProxy { hap }
    }
}

// ---- transport, per endpoint ------------------------------------------

fn client(settings: &Settings, endpoint: &Endpoint) -> AsyncClient {
    AsyncClient::from(settings.client(endpoint))
}

async fn raw(settings: &Settings, endpoint: &Endpoint, line: &str) -> Result<String> {
    Ok(client(settings, endpoint).command(line).await?)
}

async fn probe(settings: &Settings, endpoint: &Endpoint, line: &str) -> Result<String> {
    let c = AsyncClient::from(settings.probe_client(endpoint));
    Ok(c.command(line).await?)
}

async fn command(settings: &Settings, endpoint: &Endpoint, line: &str) -> Result<String> {
    let reply = raw(settings, endpoint, line).await?;
    judge_text(endpoint, line, reply)
}

async fn send(settings: &Settings, endpoint: &Endpoint, c: &Command) -> Result<String> {
    let client = client(settings, endpoint);
    let reply = match c.payload() {
        Some(p) => client.command_with_payload(c.line(), p).await?,
        None => client.command(c.line()).await?,
    };
    judge(endpoint, c, reply)
}

/// A session to one process, replies judged as [`crate::conn::Conn`]'s.
struct Conn {
    endpoint: Endpoint,
    session: AsyncSession,
}

impl Conn {
    async fn open(settings: &Settings, endpoint: &Endpoint) -> Result<Conn> {
        Ok(Conn {
            endpoint: endpoint.clone(),
            session: client(settings, endpoint).session().await?,
        })
    }

    async fn send(&mut self, c: &Command) -> Result<String> {
        let reply = match c.payload() {
            Some(p) => self.session.command_with_payload(c.line(), p).await?,
            None => self.session.command(c.line()).await?,
        };
        judge(&self.endpoint, c, reply)
    }

    async fn pipeline(&mut self, commands: &[Command]) -> Result<Vec<String>> {
        let lines: Vec<&str> = commands.iter().map(Command::line).collect();
        let replies = self.session.pipeline(&lines).await?;
        judge_pipelined(&self.endpoint, commands, replies)
    }
}

impl crate::exchange::Exchange for AsyncHAProxy {
    fn all(&self) -> Vec<&Process> {
        AsyncHAProxy::all(self)
    }

    fn writable(&self) -> Vec<&Process> {
        AsyncHAProxy::writable(self)
    }

    async fn exchange(
        &self,
        processes: &[&Process],
        commands: Vec<Vec<Command>>,
    ) -> Vec<Result<Vec<String>>> {
        let settings = self.settings();
        let jobs: Vec<(Endpoint, Vec<Command>)> = processes
            .iter()
            .map(|p| p.endpoint().clone())
            .zip(commands)
            .collect();
        fan_out(
            jobs,
            "command",
            |(e, _)| e.to_string(),
            |(e, commands)| {
                let s = Arc::clone(&settings);
                async move {
                    let mut conn = Conn::open(&s, &e).await?;
                    let mut replies = Vec::with_capacity(commands.len());
                    for run in crate::exchange::runs(&commands) {
                        match run {
                            [one] => replies.push(conn.send(one).await?),
                            more => replies.extend(conn.pipeline(more).await?),
                        }
                    }
                    Ok(replies)
                }
            },
        )
        .await
    }
}

// ---- fan-out as tasks --------------------------------------------------

/// Runs `job` for every item as a tokio task; results in item order. A
/// task that panicked is [`Error::WorkerPanicked`] for its item. Dropping
/// the future aborts every task.
async fn fan_out<I, T, F, Fut>(
    items: Vec<I>,
    task: &'static str,
    name: impl Fn(&I) -> String,
    job: F,
) -> Vec<Result<T>>
where
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let names: Vec<String> = items.iter().map(name).collect();
    let mut set = JoinSet::new();
    let mut index = HashMap::new();
    for (i, item) in items.into_iter().enumerate() {
        let handle = set.spawn(job(item));
        index.insert(handle.id(), i);
    }
    let mut out: Vec<Option<Result<T>>> = names.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next_with_id().await {
        match joined {
            Ok((id, r)) => {
                if let Some(&i) = index.get(&id) {
                    out[i] = Some(r);
                }
            }
            Err(e) => {
                if let Some(&i) = index.get(&e.id()) {
                    out[i] = Some(Err(Error::WorkerPanicked {
                        task,
                        item: names[i].clone(),
                    }));
                }
            }
        }
    }
    out.into_iter()
        .zip(names)
        .map(|(r, item)| r.unwrap_or(Err(Error::WorkerPanicked { task, item })))
        .collect()
}

/// A map reference a task can own: `haproxy-proto`'s [`MapRef`] borrows
/// its file name, and a task outlives the caller's borrow.
#[derive(Debug, Clone)]
enum TaskMap {
    Id(u64),
    File(Arc<str>),
}

impl TaskMap {
    fn new(map: MapRef<'_>) -> TaskMap {
        match map {
            MapRef::Id(id) => TaskMap::Id(id),
            MapRef::File(f) => TaskMap::File(f.into()),
        }
    }

    fn get(&self) -> MapRef<'_> {
        match self {
            TaskMap::Id(id) => MapRef::Id(*id),
            TaskMap::File(f) => MapRef::File(f),
        }
    }
}

/// Runs `f` for every process as a task; all results, or the failures
/// ([`collect`]: the single process's error, or [`Error::Partial`]).
async fn on_each<T, F, Fut>(
    settings: &Arc<Settings>,
    processes: &[&Process],
    what: &str,
    f: F,
) -> Result<PerProcess<T>>
where
    F: Fn(Arc<Settings>, Endpoint) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let endpoints: Vec<Endpoint> = processes.iter().map(|p| p.endpoint().clone()).collect();
    let results = fan_out(endpoints, "command", Endpoint::to_string, |e| {
        f(Arc::clone(settings), e)
    })
    .await;
    collect(processes, what, results)
}

// ---- discovery ---------------------------------------------------------

async fn identify(settings: Arc<Settings>, endpoint: Endpoint, quick: bool) -> Result<Process> {
    let c = AsyncClient::from(settings.identify_client(&endpoint, quick));
    let reply = c.command("show info").await?;
    identify_reply(&endpoint, reply)
}

async fn probe_all(
    settings: &Arc<Settings>,
    endpoints: &[Endpoint],
    quick: bool,
) -> Vec<Result<Process>> {
    fan_out(endpoints.to_vec(), "probe", Endpoint::to_string, |e| {
        identify(Arc::clone(settings), e, quick)
    })
    .await
}

/// [`crate::process::choose_sockets`], the level probes as tasks.
async fn choose_sockets(settings: &Arc<Settings>, processes: &mut [Process]) {
    let asks = level_asks(processes);
    if asks.is_empty() {
        return;
    }
    let endpoints: Vec<Endpoint> = asks.iter().map(|(_, _, e)| e.clone()).collect();
    let replies = fan_out(endpoints, "level probe", Endpoint::to_string, |e| {
        let settings = Arc::clone(settings);
        async move { probe(&settings, &e, "show cli level").await }
    })
    .await;
    apply_levels(processes, &asks, replies);
}

impl Builder {
    /// [`Builder::from_socket`], async.
    ///
    /// # Errors
    ///
    /// As [`Builder::from_socket`].
    pub async fn from_socket_async(self, socket: impl AsRef<Path>) -> Result<AsyncHAProxy> {
        let endpoint = endpoint_of(socket.as_ref())?;
        self.from_endpoints_async([endpoint]).await
    }

    /// [`Builder::from_dir`], async: the sockets probed as tasks.
    ///
    /// # Errors
    ///
    /// As [`Builder::from_dir`].
    pub async fn from_dir_async(self, dir: impl AsRef<Path>) -> Result<AsyncHAProxy> {
        self.discover_async(dir.as_ref(), None).await
    }

    /// [`Builder::from_dir_matching`], async.
    ///
    /// # Errors
    ///
    /// As [`Builder::from_dir_matching`].
    pub async fn from_dir_matching_async(
        self,
        dir: impl AsRef<Path>,
        pattern: &str,
    ) -> Result<AsyncHAProxy> {
        let pat = glob::Pattern::new(pattern).map_err(|e| Error::Pattern {
            pattern: pattern.to_owned(),
            message: e.to_string(),
        })?;
        self.discover_async(dir.as_ref(), Some(&pat)).await
    }

    /// [`Builder::from_endpoints`], async.
    ///
    /// # Errors
    ///
    /// As [`Builder::from_endpoints`].
    pub async fn from_endpoints_async(
        self,
        endpoints: impl IntoIterator<Item = Endpoint>,
    ) -> Result<AsyncHAProxy> {
        let endpoints: Vec<Endpoint> = endpoints.into_iter().collect();
        if endpoints.is_empty() {
            return Err(Error::NoEndpoints);
        }
        let settings = Arc::new(self.settings.clone());
        let probed = probe_all(&settings, &endpoints, false).await;
        let olds = vec![false; endpoints.len()];
        self.named_async(&settings, probed, endpoints, olds).await
    }

    /// [`Builder::from_master`], async.
    ///
    /// # Errors
    ///
    /// As [`Builder::from_master`].
    pub async fn from_master_async(self, master: impl AsRef<Path>) -> Result<AsyncHAProxy> {
        let master = endpoint_of(master.as_ref())?;
        let endpoint = Endpoint::via_master(master.clone(), Target::Master);
        let settings = Arc::new(self.settings.clone());
        let reply = command(&settings, &endpoint, "show proc").await;
        let (workers, olds) = master_workers(&master, &endpoint, reply)?;
        let probed = probe_all(&settings, &workers, false).await;
        self.named_async(&settings, probed, workers, olds).await
    }

    async fn named_async(
        self,
        settings: &Arc<Settings>,
        probed: Vec<Result<Process>>,
        endpoints: Vec<Endpoint>,
        olds: Vec<bool>,
    ) -> Result<AsyncHAProxy> {
        let probed = probed
            .into_iter()
            .zip(endpoints)
            .zip(olds)
            .map(|((r, e), old)| (r, e, old));
        let (mut processes, unreachable): (Vec<Process>, Vec<Unreachable>) =
            self.named_set(probed)?;
        choose_sockets(settings, &mut processes).await;
        Ok(AsyncHAProxy::from(self.build(
            processes,
            Vec::new(),
            unreachable,
        )))
    }

    async fn discover_async(
        self,
        dir: &Path,
        pattern: Option<&glob::Pattern>,
    ) -> Result<AsyncHAProxy> {
        let paths = socket_paths(dir, pattern)?;
        let endpoints: Vec<Endpoint> = paths.iter().map(Endpoint::unix).collect();
        let settings = Arc::new(self.settings.clone());
        let probed = probe_all(&settings, &endpoints, true).await;
        let (mut processes, skipped, unreachable) = self.dir_set(dir, paths, probed)?;
        choose_sockets(&settings, &mut processes).await;
        Ok(AsyncHAProxy::from(self.build(
            processes,
            skipped,
            unreachable,
        )))
    }
}

impl AsyncHAProxy {
    /// One socket, default settings ([`Builder::from_socket_async`]).
    ///
    /// # Errors
    ///
    /// As [`Builder::from_socket`].
    pub async fn from_socket(socket: impl AsRef<Path>) -> Result<AsyncHAProxy> {
        Builder::new().from_socket_async(socket).await
    }

    /// Every live socket of `dir`, default settings
    /// ([`Builder::from_dir_async`]).
    ///
    /// # Errors
    ///
    /// As [`Builder::from_dir`].
    pub async fn from_dir(dir: impl AsRef<Path>) -> Result<AsyncHAProxy> {
        Builder::new().from_dir_async(dir).await
    }

    /// The given endpoints, default settings
    /// ([`Builder::from_endpoints_async`]).
    ///
    /// # Errors
    ///
    /// As [`Builder::from_endpoints`].
    pub async fn from_endpoints(
        endpoints: impl IntoIterator<Item = Endpoint>,
    ) -> Result<AsyncHAProxy> {
        Builder::new().from_endpoints_async(endpoints).await
    }

    /// The workers of a master CLI, default settings
    /// ([`Builder::from_master_async`]).
    ///
    /// # Errors
    ///
    /// As [`Builder::from_master`].
    pub async fn from_master(master: impl AsRef<Path>) -> Result<AsyncHAProxy> {
        Builder::new().from_master_async(master).await
    }

    /// The same process set as a blocking [`HAProxy`] (for code that is
    /// not async, or `spawn_blocking`).
    pub fn blocking(&self) -> &HAProxy {
        &self.hap
    }

    /// The processes, each once, in discovery order.
    pub fn processes(&self) -> &[Process] {
        self.hap.processes()
    }

    /// Socket files discovery skipped, and why ([`HAProxy::skipped`]).
    pub fn skipped(&self) -> &[crate::Skipped] {
        self.hap.skipped()
    }

    /// Processes that could not be reached ([`HAProxy::unreachable`]).
    pub fn unreachable(&self) -> &[Unreachable] {
        self.hap.unreachable()
    }

    fn settings(&self) -> Arc<Settings> {
        Arc::new(self.hap.shared.settings.clone())
    }

    fn all(&self) -> Vec<&Process> {
        self.hap.shared.processes.iter().collect()
    }

    /// The processes a write goes to ([`HAProxy::skipped_by_writes`]).
    fn writable(&self) -> Vec<&Process> {
        self.hap.writable()
    }

    /// The processes of this set among `ids` (those having an object).
    fn having(&self, ids: &[ProcessId]) -> Vec<&Process> {
        self.hap
            .shared
            .processes
            .iter()
            .filter(|p| ids.contains(p.id()))
            .collect()
    }

    // ---- reads ----------------------------------------------------------

    /// [`HAProxy::snapshot`], async: every process's `show info` and
    /// `show stat` fetched and parsed in a task of its own, combined as
    /// the blocking snapshot is.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::snapshot`].
    pub async fn snapshot(&self) -> Result<Snapshot> {
        let partial = self.hap.shared.settings.allow_partial;
        self.fetch(partial).await
    }

    /// [`HAProxy::snapshot_partial`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::snapshot_partial`].
    pub async fn snapshot_partial(&self) -> Result<Snapshot> {
        self.fetch(true).await
    }

    async fn fetch(&self, allow_partial: bool) -> Result<Snapshot> {
        let shared = Arc::clone(&self.hap.shared);
        let settings = self.settings();
        let endpoints: Vec<Endpoint> = shared
            .processes
            .iter()
            .map(|p| p.endpoint().clone())
            .collect();
        let results = fan_out(endpoints, "fetch", Endpoint::to_string, |e| {
            let settings = Arc::clone(&settings);
            let shared = Arc::clone(&shared);
            async move {
                // The dump first, as the blocking fetch does, into a
                // dropped snapshot's memory if there is one.
                let mut memory = shared.spare.take();
                let stat = client(&settings, &e)
                    .command_into("show stat", memory.take_input())
                    .await?;
                let stat = judge_dump(&e, "show stat", stat)?;
                let info = command(&settings, &e, "show info").await?;
                // Parsing megabytes is CPU work: on tokio's blocking
                // threads, so that it runs beside the other processes'
                // reads (and parses) even on a current-thread runtime,
                // never holding up the runtime's I/O.
                let item = e.to_string();
                tokio::task::spawn_blocking(move || parse_replies_into(&item, &info, stat, memory))
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::WorkerPanicked {
                            task: "parse",
                            item: e.to_string(),
                        })
                    })
            }
        })
        .await;
        Snapshot::from_results(shared, results, allow_partial)
    }

    /// [`HAProxy::wait_sessions`], async: polls with async snapshots
    /// and tokio sleeps until no object of `objects` has more than `max`
    /// sessions, or `deadline` passes; what is left (empty: done).
    ///
    /// # Errors
    ///
    /// As [`HAProxy::wait_sessions`].
    pub async fn wait_sessions(
        &self,
        objects: &[ObjectRef],
        max: u64,
        deadline: Duration,
        poll: Duration,
        mut progress: impl FnMut(&[SessionsLeft]),
    ) -> Result<Vec<SessionsLeft>> {
        let end = Instant::now() + deadline;
        let mut state = WaitState::default();
        loop {
            let bounded = AsyncHAProxy {
                hap: self.hap.within(round_budget(end)),
            };
            let snap = match bounded.snapshot().await {
                Ok(snap) => snap,
                Err(e) => return state.cut_short(end).ok_or(e),
            };
            match wait_round(&snap, objects, max, (end, poll), &mut state, &mut progress)? {
                WaitRound::Done(left) => return Ok(left),
                WaitRound::Sleep(d) => tokio::time::sleep(d).await,
            }
        }
    }

    /// [`HAProxy::differences`], async: the snapshot's differences, then
    /// the maps' and ACLs' (files, then each one's entries), read with
    /// async commands.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::differences`].
    pub async fn differences(&self, snap: &Snapshot) -> Result<Vec<Difference>> {
        let mut out: Vec<Difference> = read_difference(snap).into_iter().collect();
        out.extend(snapshot_differences(snap));
        for kind in [ListKind::Map, ListKind::Acl] {
            let (name, lists) = match kind {
                ListKind::Map => ("map", self.maps().await?),
                ListKind::Acl => ("acl", self.acls().await?),
            };
            if let Some(d) = files_difference(name, &lists) {
                out.push(d);
                continue;
            }
            for (m, file) in compared(&lists) {
                let got = self.entries(kind, MapRef::File(file)).await?;
                out.extend(entries_differences(name, m, &got));
            }
        }
        Ok(out)
    }

    /// [`HAProxy::command`], async: `line` to every process as typed,
    /// each reply judged as every command's is.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::command`].
    pub async fn command(&self, line: &str) -> Result<PerProcess<String>> {
        self.run(&Command::raw(line)?).await
    }

    /// Sends a command built by `haproxy-proto`'s builder to every
    /// process, each reply judged by recognition.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's text, or
    /// [`Error::Partial`] when only some processes failed.
    pub async fn run(&self, command: &Command) -> Result<PerProcess<String>> {
        self.run_on(&self.writable(), command).await
    }

    async fn run_on(&self, processes: &[&Process], c: &Command) -> Result<PerProcess<String>> {
        let what = c.line().to_owned();
        let c = c.clone();
        on_each(&self.settings(), processes, &what, move |s, e| {
            let c = c.clone();
            async move { send(&s, &e, &c).await }
        })
        .await
    }

    /// Sends `command` to the processes `having` names — the processes
    /// that have an object (`server.processes()`), as the blocking views'
    /// writes do — each reply judged by recognition. Every write of the
    /// async API is a [`Command`] sent by this, [`AsyncHAProxy::run`] or
    /// [`AsyncHAProxy::run_batch`]: built once, by `haproxy-proto`'s
    /// builder (for a weight, [`crate::Weight::command`]).
    ///
    /// ```no_run
    /// # async fn f(hap: haproxy_admin::asynch::AsyncHAProxy) -> haproxy_admin::Result<()> {
    /// use haproxy_admin::{Command, State};
    /// let snap = hap.snapshot().await?;
    /// let s1 = snap.backend("be_app")?.server("app1")?;
    /// let drain = Command::set_server_state(s1.backend(), s1.name(), State::Drain)?;
    /// hap.run_having(&s1.processes(), &drain).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`AsyncHAProxy::run`].
    pub async fn run_having(
        &self,
        having: &[ProcessId],
        command: &Command,
    ) -> Result<PerProcess<String>> {
        self.run_on(&self.having(having), command).await
    }

    /// [`HAProxy::errors`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::errors`].
    pub async fn errors(&self, proxy_id: Option<i64>) -> Result<PerProcess<Text>> {
        let replies = self.run(&Command::show_errors(proxy_id)?).await?;
        Ok(replies.into_iter().map(|(p, t)| (p, Text(t))).collect())
    }

    /// [`HAProxy::servers_state`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::servers_state`].
    pub async fn servers_state(&self, backend: Option<&str>) -> Result<PerProcess<Text>> {
        let replies = self.run(&Command::show_servers_state(backend)?).await?;
        Ok(replies.into_iter().map(|(p, t)| (p, Text(t))).collect())
    }

    // ---- batches --------------------------------------------------------

    /// A [`Batch`] for this process set: queue commands with its
    /// methods, then send it with [`AsyncHAProxy::run_batch`] (its own
    /// [`Batch::run`] blocks).
    pub fn batch(&self) -> Batch<'_> {
        self.hap.batch()
    }

    /// [`Batch::run`], async: one session per process, pipelined, the
    /// processes as tasks.
    ///
    /// # Errors
    ///
    /// As [`Batch::run`].
    pub async fn run_batch(&self, batch: Batch<'_>) -> Result<PerProcess<Vec<String>>> {
        let commands: Arc<[Command]> = batch.commands().into();
        on_each(
            &self.settings(),
            &self.writable(),
            &batch.what(),
            move |s, e| {
                let commands = Arc::clone(&commands);
                async move { Conn::open(&s, &e).await?.pipeline(&commands).await }
            },
        )
        .await
    }

    // ---- maps and ACLs --------------------------------------------------

    async fn read<T, P>(&self, c: Command, parse: P) -> Result<PerProcess<T>>
    where
        T: Send + 'static,
        P: Fn(&str) -> std::result::Result<T, haproxy_proto::ParseError>
            + Send
            + Sync
            + Copy
            + 'static,
    {
        let what = c.line().to_owned();
        on_each(&self.settings(), &self.all(), &what, move |s, e| {
            let c = c.clone();
            async move {
                let reply = send(&s, &e, &c).await?;
                parse(&reply).map_err(|source| Error::Parse {
                    endpoint: e.to_string(),
                    command: c.line().to_owned(),
                    source: Box::new(source),
                })
            }
        })
        .await
    }

    async fn entries(&self, kind: ListKind, list: MapRef<'_>) -> Result<PerProcess<Vec<Entry>>> {
        let show = kind.show_entries(list)?;
        let what = show.line().to_owned();
        let list = TaskMap::new(list);
        on_each(&self.settings(), &self.all(), &what, move |s, e| {
            let (show, list) = (show.clone(), list.clone());
            async move {
                let mut conn = Conn::open(&s, &e).await?;
                let reply = conn.send(&show).await?;
                let parsed = parse_entries(kind, &reply).map_err(|source| Error::Parse {
                    endpoint: e.to_string(),
                    command: show.line().to_owned(),
                    source: Box::new(source),
                })?;
                // As the blocking path: every reading looked up, pipelined.
                let readings = readings(&parsed);
                let mut confirmed = Vec::with_capacity(readings.len());
                for chunk in readings.chunks(LOOKUPS_AT_ONCE) {
                    let replies = conn.pipeline(&lookups_of(list.get(), chunk)?).await?;
                    confirmed.extend(confirmations(chunk, &replies));
                }
                Ok(resolve_all(&parsed, &readings, &confirmed))
            }
        })
        .await
    }

    /// [`HAProxy::maps`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::maps`].
    pub async fn maps(&self) -> Result<PerProcess<Vec<MapInfo>>> {
        self.read(ListKind::Map.show_lists(), map_infos).await
    }

    /// [`HAProxy::acls`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::acls`].
    pub async fn acls(&self) -> Result<PerProcess<Vec<MapInfo>>> {
        self.read(ListKind::Acl.show_lists(), map_infos).await
    }

    /// [`HAProxy::map_entries`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::map_entries`].
    pub async fn map_entries(&self, map: MapRef<'_>) -> Result<PerProcess<Vec<Entry>>> {
        self.entries(ListKind::Map, map).await
    }

    /// [`HAProxy::acl_entries`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::acl_entries`].
    pub async fn acl_entries(&self, acl: MapRef<'_>) -> Result<PerProcess<Vec<Entry>>> {
        self.entries(ListKind::Acl, acl).await
    }

    /// [`HAProxy::get_map`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::get_map`].
    pub async fn get_map(&self, map: MapRef<'_>, value: &str) -> Result<PerProcess<Vec<Lookup>>> {
        self.read(ListKind::Map.get(map, value)?, lookups).await
    }

    /// [`HAProxy::get_acl`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::get_acl`].
    pub async fn get_acl(&self, acl: MapRef<'_>, value: &str) -> Result<PerProcess<Vec<Lookup>>> {
        self.read(ListKind::Acl.get(acl, value)?, lookups).await
    }

    /// [`HAProxy::add_map_entries`], async: the payload chunked, one
    /// session per process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map_entries`].
    pub async fn add_map_entries(&self, map: MapRef<'_>, entries: &[(&str, &str)]) -> Result<()> {
        let add = Command::add_map_bulk(map, None, entries)?;
        let what = add.line().to_owned();
        on_each(&self.settings(), &self.all(), &what, move |s, e| {
            let add = add.clone();
            async move { Conn::open(&s, &e).await?.send(&add).await }
        })
        .await
        .map(drop)
    }

    /// [`HAProxy::replace_map`], async: the same three rounds (prepare and
    /// fill, commit, check every process holds what it committed), each
    /// round's processes as tasks.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::replace_map`].
    pub async fn replace_map(&self, map: MapRef<'_>, entries: &[(&str, &str)]) -> Result<()> {
        let prepare = Command::prepare_map(map)?;
        // Built once, before any process is touched: an entry the builder
        // refuses fails here, with nothing prepared.
        let fill = if entries.is_empty() {
            None
        } else {
            // The version is per process; the payload is checked now and
            // built again with each process's version below.
            Command::add_map_bulk(map, Some(0), entries)?;
            Some(
                entries
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<Vec<_>>(),
            )
        };
        let all = self.writable();
        let what = prepare.line().to_owned();
        let owned_map = TaskMap::new(map);
        let versions: PerProcess<u64> = on_each(&self.settings(), &all, &what, move |s, e| {
            let (prepare, fill, map) = (prepare.clone(), fill.clone(), owned_map.clone());
            async move {
                let mut conn = Conn::open(&s, &e).await?;
                let reply = conn.send(&prepare).await?;
                let version = parse_new_version(&reply).ok_or_else(|| Error::CommandFailed {
                    endpoint: e.to_string(),
                    command: prepare.line().to_owned(),
                    message: reply.clone(),
                })?;
                if let Some(fill) = fill {
                    let pairs: Vec<(&str, &str)> =
                        fill.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    conn.send(&Command::add_map_bulk(map.get(), Some(version), &pairs)?)
                        .await?;
                }
                Ok(version)
            }
        })
        .await?;
        let by_endpoint: HashMap<Endpoint, u64> = all
            .iter()
            .zip(&versions)
            .map(|(p, (_, v))| (p.endpoint().clone(), *v))
            .collect();
        let by_endpoint = Arc::new(by_endpoint);
        let what = format!("commit map {map}");
        let owned_map = TaskMap::new(map);
        on_each(&self.settings(), &all, &what, move |s, e| {
            let (by_endpoint, map) = (Arc::clone(&by_endpoint), owned_map.clone());
            async move {
                let version = by_endpoint
                    .get(&e)
                    .copied()
                    .ok_or_else(|| Error::NotHAProxy {
                        endpoint: e.to_string(),
                        reason: "no prepared version for this process".to_owned(),
                    })?;
                send(&s, &e, &Command::commit_map(map.get(), version)?).await
            }
        })
        .await?;
        let lists = self.maps().await?;
        check_committed(map, &all, &versions, &lists)
    }

    /// [`HAProxy::certs`], async: the same rounds.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::certs`].
    pub async fn certs(&self) -> Result<PerProcess<Vec<crate::Cert>>> {
        crate::certs::certs(self).await
    }

    /// [`HAProxy::cert`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::cert`].
    pub async fn cert(&self, file: &str) -> Result<PerProcess<crate::Cert>> {
        crate::certs::cert(self, file).await
    }

    /// [`HAProxy::update_cert`], async: the same four rounds.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::update_cert`].
    pub async fn update_cert(
        &self,
        file: &str,
        pem: &haproxy_proto::ssl::Pem,
    ) -> Result<crate::CertUpdate> {
        crate::certs::update_cert(self, file, pem).await
    }

    /// [`HAProxy::tables`], async: the same rounds.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::tables`].
    pub async fn tables(&self) -> Result<PerProcess<Vec<crate::TableInfo>>> {
        crate::tables::tables(self).await
    }

    /// [`HAProxy::table_entries`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::table_entries`].
    pub async fn table_entries(
        &self,
        name: &str,
        key: Option<&str>,
    ) -> Result<PerProcess<Vec<crate::TableEntry>>> {
        crate::tables::table(self, name, key).await
    }

    /// [`HAProxy::set_table_entry`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::set_table_entry`].
    pub async fn set_table_entry(&self, name: &str, key: &str, data: &[(&str, u64)]) -> Result<()> {
        crate::tables::set_entry(self, name, key, data).await
    }

    /// [`HAProxy::clear_table`], async.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::clear_table`].
    pub async fn clear_table(&self, name: &str, key: Option<&str>) -> Result<()> {
        crate::tables::clear(self, name, key).await
    }
}
