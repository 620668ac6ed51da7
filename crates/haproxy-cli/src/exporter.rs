//! `haproxy-cli exporter --listen ADDR`: serves `/metrics` (the exposition
//! of `haproxy_admin::prometheus`, promex's names) for one host or a
//! fleet.
//!
//! - Targets: each `--socket` is one target; without `--socket`, the
//!   `--socket-dir` (with `--pattern`) is one target whose processes are
//!   combined; `--inventory FILE` lists targets with labels. With more
//!   than one target every series carries its target's `target` label;
//!   the inventory's labels are always there.
//! - A scrape reads every target concurrently (at most `--concurrency` at
//!   once) and answers within `--scrape-timeout`: a target or process that
//!   failed or did not answer in time is `haproxy_up 0`, the others are
//!   served. `--max-age` lets many scrapers share one snapshot.
//! - HTTP: hyper's HTTP/1 server on tokio (see [`serve`]): a request
//!   head within [`HEAD_DEADLINE`] and [`MAX_HEAD`] bytes, the whole
//!   exchange within [`RESPONSE_DEADLINE`], at most [`MAX_CONNECTIONS`]
//!   connections and `--http-workers` renders at once. An idle or slow
//!   client costs a task, never a render slot: a render is streamed
//!   (chunked) as it is written, or served from the `--max-age` cache.
//!   SIGTERM stops accepting and lets answers in progress finish.

use crate::args::{Cli, ExporterArgs};
use crate::Failure;
use flate2::write::GzEncoder;
use flate2::Compression;
use haproxy_admin::prometheus::{Counters, Exposition, Mode, Totals, CONTENT_TYPE};
use haproxy_admin::{Builder, HAProxy, Snapshot, Source, Timeouts};
use hyper::body::Bytes;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

type Result<T = ()> = std::result::Result<T, Failure>;

/// The largest request head (request line and headers) accepted.
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// How long a client has to send its whole request head.
pub(crate) const HEAD_DEADLINE: Duration = Duration::from_secs(5);

/// The most threads `--concurrency` and `--http-workers` may each ask
/// for (a thread each; 100,000 of them exhausted the process).
const MAX_WORKERS: usize = 1024;

/// How long a whole exchange may take, request head to the last byte of
/// the answer: a client reading slowly is cut off then.
const RESPONSE_DEADLINE: Duration = Duration::from_secs(60);

/// The most connections served at once; more are closed as they come.
const MAX_CONNECTIONS: usize = 1024;

/// How long connections in progress are given to finish at SIGTERM.
const DRAIN: Duration = Duration::from_secs(10);

/// How often a target's process set is discovered again (new sockets in a
/// directory, restarted processes), besides after every failure.
const REDISCOVER: Duration = Duration::from_secs(30);

/// Labels of ours that an inventory may not set.
const RESERVED: [&str; 12] = [
    "target", "pid", "node", "proxy", "server", "state", "code", "endpoint", "version", "scope",
    "field", "file",
];

/// Labels a Prometheus server attaches to every series it scrapes.
const PROMETHEUS_OWN: [&str; 2] = ["instance", "job"];

/// One HAProxy set the exporter reads: a host, or one instance.
#[derive(Debug)]
struct Target {
    name: String,
    labels: Vec<(String, String)>,
    source: Source,
    /// The global options' connection settings (reply limits, retries):
    /// the CLI's one builder; each read sets its timeouts.
    base: Builder,
    hap: Mutex<Option<(Instant, Arc<HAProxy>)>>,
    /// The read of it under way, if any (maybe one a scrape gave up on at
    /// its deadline): never more than one at a time; a scrape that
    /// arrives meanwhile waits for it and shares what it gives.
    flight: Mutex<Option<Arc<Flight>>>,
    /// Every process's counters as last read (combined mode), so that the
    /// combined counters never go backwards.
    counters: Mutex<Counters>,
    /// The certificates' not-after as last read, refreshed in the
    /// background (never in a scrape's path: a stalled process must not
    /// cost the scrape its stats).
    certs: Arc<Mutex<CertCache>>,
}

/// Each certificate file's not-after, per process pid.
type NotAfters = Vec<(String, Vec<(u32, i64)>)>;

/// What [`Target::certs_now`] serves.
#[derive(Debug, Default)]
struct CertCache {
    /// When the last read ended; `None` before the first.
    at: Option<Instant>,
    data: Arc<NotAfters>,
    /// A refresh is under way.
    running: bool,
    /// A read failed once (said once, on stderr).
    said: bool,
}

/// What a read of one target gave, and how long it took.
type ReadOutcome = (std::result::Result<Arc<Scraped>, String>, Duration);

/// One read of a target, shared by every scrape that wants it while it
/// runs.
#[derive(Debug, Default)]
struct Flight {
    done: Mutex<Option<ReadOutcome>>,
    cv: Condvar,
}

impl Flight {
    /// What the read gave, or `None` when `deadline` comes first.
    fn wait_until(&self, deadline: Instant) -> Option<ReadOutcome> {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        let done = wait_for(&self.cv, done, deadline, |d| d.is_some())?;
        done.clone()
    }

    fn finish(&self, r: ReadOutcome) {
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        self.cv.notify_all();
    }
}

impl Target {
    /// The certificates as last read; when that is older than `refresh`,
    /// a read starts in the background (one at a time) for a later
    /// scrape. A set that cannot list certificates (a `level user`
    /// socket) has none, said once.
    fn certs_now(&self, hap: &Arc<HAProxy>, refresh: Duration) -> Arc<NotAfters> {
        let mut c = self.certs.lock().unwrap_or_else(|e| e.into_inner());
        if !c.running && c.at.map_or(true, |at| at.elapsed() >= refresh) {
            c.running = true;
            let (cache, hap, name) = (Arc::clone(&self.certs), Arc::clone(hap), self.name.clone());
            std::thread::spawn(move || {
                let read = hap.certs();
                let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
                match read {
                    Ok(per) => c.data = Arc::new(not_afters(&per)),
                    Err(e) => {
                        if !c.said {
                            haproxy_cli::note!(
                                "haproxy-cli: exporter: {name}: no certificate metrics: {e}"
                            );
                            c.said = true;
                        }
                        c.data = Arc::default();
                    }
                }
                c.at = Some(Instant::now());
                c.running = false;
            });
        }
        Arc::clone(&c.data)
    }

    fn connect(&self, timeout: Duration) -> std::result::Result<Arc<HAProxy>, String> {
        let mut guard = self.hap.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, hap)) = guard.as_ref() {
            if at.elapsed() < REDISCOVER {
                return Ok(Arc::clone(hap));
            }
        }
        // The probe and the snapshot's reads each get part of the scrape
        // timeout, so that both fit in it.
        let builder = self
            .base
            .clone()
            .timeouts(Timeouts::uniform(timeout / 2))
            .probe_timeout(timeout / 4);
        // A set of several processes is best effort: a process that could
        // not be reached is reported `up 0` beside the others, never the
        // whole scrape lost.
        let builder = match &self.source {
            Source::Endpoints(e) if e.len() == 1 => builder,
            _ => builder.allow_partial(),
        };
        let hap = builder.connect(&self.source).map_err(|e| e.to_string())?;
        let hap = Arc::new(hap);
        *guard = Some((Instant::now(), Arc::clone(&hap)));
        Ok(hap)
    }

    /// A snapshot, and the sockets discovery skipped (a directory's dead
    /// or stalled processes: `(path, why)`).
    fn scrape(
        &self,
        timeout: Duration,
        mode: Mode,
        cert_refresh: Duration,
    ) -> std::result::Result<Scraped, String> {
        use std::os::unix::fs::FileTypeExt;
        let hap = self.connect(timeout)?;
        let snap = hap.snapshot().map_err(|e| {
            // Discover again next time: the set may have changed.
            *self.hap.lock().unwrap_or_else(|e| e.into_inner()) = None;
            e.to_string()
        })?;
        // A process restarted behind a socket since discovery (a reload
        // behind a master's `@1`): discover again next time, so that its
        // settings and version are the new one's.
        if snap
            .processes()
            .zip(snap.info())
            .any(|(p, (id, _))| p.id().pid != id.pid)
        {
            *self.hap.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        // Only sockets: other files in a socket directory are not
        // processes that are down.
        let skipped = hap
            .skipped()
            .iter()
            .filter(|s| std::fs::symlink_metadata(&s.path).is_ok_and(|m| m.file_type().is_socket()))
            .map(|s| (s.path.display().to_string(), s.reason.clone()))
            .chain(
                hap.unreachable()
                    .iter()
                    .map(|u| (u.endpoint.clone(), u.reason.clone())),
            )
            .collect();
        // Reads of one target are one at a time (single flight), so the
        // books see its snapshots in order.
        let totals = (mode == Mode::Combined).then(|| {
            self.counters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .observe(&snap)
        });
        let certs = self.certs_now(&hap, cert_refresh);
        Ok(Scraped {
            snap: Box::new(snap),
            totals,
            skipped,
            certs,
        })
    }
}

/// What reading one target gave.
#[derive(Debug)]
struct Scraped {
    /// Boxed: every target's outcome is held in one vector of them.
    snap: Box<Snapshot>,
    /// Its monotonic counters (combined mode).
    totals: Option<Totals>,
    skipped: Vec<(String, String)>,
    /// Each certificate file's not-after, per process pid.
    certs: Arc<NotAfters>,
}

/// Each certificate file's not-after per pid, files in order.
fn not_afters(
    per: &haproxy_admin::PerProcess<Vec<haproxy_admin::Cert>>,
) -> Vec<(String, Vec<(u32, i64)>)> {
    let mut files: std::collections::BTreeMap<&str, Vec<(u32, i64)>> = Default::default();
    for (p, certs) in per {
        for c in certs {
            if let Some(t) = c.not_after_unix {
                files.entry(c.file.as_str()).or_default().push((p.pid, t));
            }
        }
    }
    files.into_iter().map(|(f, v)| (f.to_owned(), v)).collect()
}

/// `haproxy_ssl_cert_not_after_seconds`: combined, the earliest of the
/// processes (the one to renew by); per process, one series each.
fn cert_metrics(
    e: &mut Exposition<'_>,
    labels: &[(&str, &str)],
    mode: Mode,
    certs: &[(String, Vec<(u32, i64)>)],
) {
    const NAME: &str = "haproxy_ssl_cert_not_after_seconds";
    const HELP: &str = "When the certificate file stops being valid (notAfter), in seconds since the epoch; combined: the earliest among the processes";
    for (file, per) in certs {
        let mut l = labels.to_vec();
        l.push(("file", file));
        if mode == Mode::Combined {
            if let Some(t) = per.iter().map(|(_, t)| *t).min() {
                e.gauge(NAME, HELP, &l, t as f64);
            }
        } else {
            for (pid, t) in per {
                let pid = pid.to_string();
                let mut l = l.clone();
                l.push(("pid", &pid));
                e.gauge(NAME, HELP, &l, *t as f64);
            }
        }
    }
}

/// Waits on `cv` until `ready` holds for the guarded value, or
/// `deadline` passes (`None`); a poisoned lock is taken as it is.
fn wait_for<'a, T>(
    cv: &Condvar,
    mut guard: std::sync::MutexGuard<'a, T>,
    deadline: Instant,
    ready: impl Fn(&T) -> bool,
) -> Option<std::sync::MutexGuard<'a, T>> {
    while !ready(&guard) {
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        guard = match cv.wait_timeout(guard, deadline - now) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        };
    }
    Some(guard)
}

/// A counting semaphore whose waits have a deadline.
#[derive(Debug)]
struct Slots {
    free: Mutex<usize>,
    cv: Condvar,
}

impl Slots {
    fn acquire_until(&self, deadline: Instant) -> bool {
        let free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        match wait_for(&self.cv, free, deadline, |f| *f > 0) {
            Some(mut free) => {
                *free -= 1;
                true
            }
            None => false,
        }
    }

    fn release(&self) {
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.cv.notify_one();
    }
}

/// A rendered exposition (cached for `--max-age`), gzipped on first
/// demand.
#[derive(Debug)]
struct Body {
    plain: Bytes,
    gzip: OnceLock<Bytes>,
}

impl Body {
    fn gzipped(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
                // Writing to a Vec cannot fail.
                let _ = enc.write_all(&self.plain);
                enc.finish().unwrap_or_default().into()
            })
            .clone()
    }
}

/// The exporter's state, shared by the HTTP tasks.
#[derive(Debug)]
struct Exporter {
    targets: Vec<Arc<Target>>,
    mode: Mode,
    timeout: Duration,
    max_age: Duration,
    /// How old the certificates read may be before a new read starts.
    cert_refresh: Duration,
    slots: Arc<Slots>,
    cache: Mutex<Option<(Instant, Arc<Body>)>>,
}

impl Exporter {
    /// The exposition from the cache when it is young enough, else a new
    /// scrape (one at a time, so that concurrent scrapers share it).
    fn cached(&self) -> Arc<Body> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, body)) = cache.as_ref() {
            if at.elapsed() <= self.max_age {
                return Arc::clone(body);
            }
        }
        let body = Arc::new(self.render(|e| Body {
            plain: e.to_text().into(),
            gzip: OnceLock::new(),
        }));
        *cache = Some((Instant::now(), Arc::clone(&body)));
        body
    }

    /// A fresh scrape written to `w` as it is rendered, gzip-compressed on
    /// the way when `gzip`.
    fn write_scrape(&self, w: impl Write, gzip: bool) -> std::io::Result<()> {
        self.render(|e| {
            if gzip {
                let mut enc = GzEncoder::new(w, Compression::fast());
                e.write_to(&mut enc)?;
                enc.finish().map(drop)
            } else {
                let mut w = w;
                e.write_to(&mut w)?;
                w.flush()
            }
        })
    }
    /// The read of `t` under way, or a new one started in a thread of
    /// its own (waiting for a `--concurrency` slot until `deadline`).
    fn flight_of(&self, t: &Arc<Target>, deadline: Instant) -> Arc<Flight> {
        let mut slot = t.flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = slot.as_ref() {
            return Arc::clone(f);
        }
        let flight = Arc::new(Flight::default());
        *slot = Some(Arc::clone(&flight));
        drop(slot);
        let (t, f, slots, timeout, mode, cert_refresh) = (
            Arc::clone(t),
            Arc::clone(&flight),
            Arc::clone(&self.slots),
            self.timeout,
            self.mode,
            self.cert_refresh,
        );
        std::thread::spawn(move || {
            let began = Instant::now();
            let r = if slots.acquire_until(deadline) {
                let r = t.scrape(timeout, mode, cert_refresh).map(Arc::new);
                slots.release();
                r
            } else {
                Err("no free scrape slot before the deadline (--concurrency)".to_owned())
            };
            // Scrapes from now on start a read of their own.
            *t.flight.lock().unwrap_or_else(|e| e.into_inner()) = None;
            f.finish((r, began.elapsed()));
        });
        flight
    }

    /// Reads every target concurrently and hands what came back by the
    /// deadline to `done` as an exposition.
    fn render<R>(&self, done: impl FnOnce(&Exposition<'_>) -> R) -> R {
        let start = Instant::now();
        let deadline = start + self.timeout;
        // Every target's read started (or joined) first, then each waited
        // for: the targets are read concurrently.
        let flights: Vec<Arc<Flight>> = self
            .targets
            .iter()
            .map(|t| self.flight_of(t, deadline))
            .collect();
        // Every target's outcome first: the exposition borrows the
        // snapshots and writes them when the body is made.
        let outcomes: Vec<(Duration, std::result::Result<Arc<Scraped>, String>)> = flights
            .iter()
            .map(|f| match f.wait_until(deadline) {
                Some((r, took)) => (took, r),
                None => (
                    self.timeout,
                    Err(format!(
                        "no answer within the scrape timeout of {:?}",
                        self.timeout
                    )),
                ),
            })
            .collect();
        let mut e = Exposition::new();
        for (t, (took, result)) in self.targets.iter().zip(&outcomes) {
            let mut labels: Vec<(&str, &str)> = vec![("target", t.name.as_str())];
            labels.extend(t.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            // One target needs no `target` label on its (many) series;
            // its few `haproxy_up` and duration series keep it.
            let series_labels = if self.targets.len() > 1 {
                &labels[..]
            } else {
                &labels[1..]
            };
            match result {
                Ok(scraped) => {
                    let Scraped {
                        snap,
                        totals,
                        skipped,
                        certs,
                    } = &**scraped;
                    cert_metrics(&mut e, series_labels, self.mode, certs);
                    match totals {
                        Some(totals) => e.add_counted(snap, totals, series_labels),
                        None => e.add_snapshot(snap, series_labels, self.mode),
                    }
                    // A socket of the directory that did not answer at
                    // discovery: a process that is down or stalled.
                    for (path, why) in skipped {
                        haproxy_cli::note!(
                            "haproxy-cli: exporter: {}: skipped {path}: {why}",
                            t.name
                        );
                        up(&mut e, &labels, path, 0.0);
                    }
                    for (p, (id, _)) in snap.processes().zip(snap.info()) {
                        let endpoint = p.endpoint().to_string();
                        up(&mut e, &labels, &endpoint, 1.0);
                        process_info(&mut e, &labels, &endpoint, id.pid, p.version());
                    }
                    for f in snap.failures() {
                        haproxy_cli::note!("haproxy-cli: exporter: {}: {f}", t.name);
                        up(&mut e, &labels, &f.endpoint, 0.0);
                    }
                    e.gauge(
                        "haproxy_cli_target_processes",
                        "How many HAProxy processes of this target answered this scrape",
                        &labels,
                        snap.processes().count() as f64,
                    );
                }
                Err(err) => {
                    haproxy_cli::note!("haproxy-cli: exporter: {}: {err}", t.name);
                    up(&mut e, &labels, "", 0.0);
                }
            }
            e.gauge(
                "haproxy_cli_scrape_duration_seconds",
                "How long reading this target took (show info and show stat of every process)",
                &labels,
                took.as_secs_f64(),
            );
        }
        e.gauge(
            "haproxy_cli_build_info",
            "1, with the version of the haproxy-cli exporter serving these metrics",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        e.gauge(
            "haproxy_cli_exposition_duration_seconds",
            "How long the whole scrape took, targets read concurrently, up to writing the text (streamed after)",
            &[],
            start.elapsed().as_secs_f64(),
        );
        done(&e)
    }
}

/// Where a scrape is written as it is rendered: pieces sent to the HTTP
/// task that streams them (chunked). The render never waits for the
/// client: a slow reader holds memory, not a render slot nor a thread.
struct Pieces(tokio::sync::mpsc::UnboundedSender<std::io::Result<Bytes>>);

impl Write for Pieces {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !buf.is_empty() {
            self.0
                .send(Ok(Bytes::copy_from_slice(buf)))
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A response body: whole, or streamed from a render. A render that
/// fails ends the stream with an error, so the client sees the body cut
/// (no last chunk), never a short exposition taken as whole.
enum Reply {
    Whole(Option<Bytes>),
    Streamed(tokio::sync::mpsc::UnboundedReceiver<std::io::Result<Bytes>>),
}

impl hyper::body::Body for Reply {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::io::Result<hyper::body::Frame<Bytes>>>> {
        match self.get_mut() {
            Reply::Whole(b) => {
                std::task::Poll::Ready(b.take().map(|b| Ok(hyper::body::Frame::data(b))))
            }
            Reply::Streamed(rx) => rx
                .poll_recv(cx)
                .map(|piece| piece.map(|p| p.map(hyper::body::Frame::data))),
        }
    }
}
const UP: &str = "haproxy_up";
const UP_HELP: &str =
    "1 if this HAProxy process answered show info and show stat in this scrape, 0 if it failed or did not answer in time";

/// `haproxy_up` of one endpoint. Its labels are the endpoint's alone, not
/// the process's: a reload (a new pid) keeps the series, so that alerts
/// and `rate()` over it do not restart.
fn up(e: &mut Exposition<'_>, labels: &[(&str, &str)], endpoint: &str, v: f64) {
    let mut l = labels.to_vec();
    l.push(("endpoint", endpoint));
    e.gauge(UP, UP_HELP, &l, v);
}

/// `haproxy_cli_process_info 1` with the process behind an endpoint: its
/// pid and version, as labels of an info series (the pid changes at every
/// reload; here that is one series replacing another, as it should be).
fn process_info(
    e: &mut Exposition<'_>,
    labels: &[(&str, &str)],
    endpoint: &str,
    pid: u32,
    version: Option<&str>,
) {
    let pid = pid.to_string();
    let mut l = labels.to_vec();
    l.push(("endpoint", endpoint));
    l.push(("pid", &pid));
    l.push(("version", version.unwrap_or("")));
    e.gauge(
        "haproxy_cli_process_info",
        "1 for each HAProxy process read in this scrape: the pid and version behind each endpoint",
        &l,
        1.0,
    );
}

fn secs(what: &str, s: f64, zero_ok: bool) -> Result<Duration> {
    if s.is_finite() && (s > 0.0 || (zero_ok && s == 0.0)) {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(Failure::Usage(format!(
            "--{what} must be a {}number of seconds, not {s}",
            if zero_ok { "" } else { "positive " }
        )))
    }
}

/// Reads an inventory: one target a line, `ENDPOINT [label=value …]`;
/// `dir:PATH` (or `dir:PATH:GLOB`) for a socket directory; `#` comments.
fn inventory(path: &Path, base: &Builder) -> Result<Vec<Target>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("inventory {}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at =
            |msg: String| Failure::Usage(format!("inventory {}:{}: {msg}", path.display(), n + 1));
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        let source = match first.strip_prefix("dir:") {
            Some(rest) => match rest.split_once(':') {
                Some((d, p)) => Source::Dir {
                    dir: PathBuf::from(d),
                    pattern: Some(p.to_owned()),
                },
                None => Source::Dir {
                    dir: PathBuf::from(rest),
                    pattern: None,
                },
            },
            None => Source::Endpoints(vec![first
                .parse()
                .map_err(|e: haproxy_admin::TransportError| at(e.to_string()))?]),
        };
        let mut labels = Vec::new();
        for w in words {
            let (k, v) = w
                .split_once('=')
                .ok_or_else(|| at(format!("expected label=value, got {w:?}")))?;
            let valid = !k.is_empty()
                && !k.starts_with("__")
                && k.bytes().enumerate().all(|(i, b)| {
                    b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit())
                });
            if !valid {
                return Err(at(format!("invalid label name {k:?}")));
            }
            if RESERVED.contains(&k) {
                return Err(at(format!("label {k:?} is the exporter's own")));
            }
            if PROMETHEUS_OWN.contains(&k) {
                return Err(at(format!(
                    "label {k:?} is Prometheus's own (set it in the scrape configuration)"
                )));
            }
            if labels.iter().any(|(x, _): &(String, String)| x == k) {
                return Err(at(format!("label {k:?} is given twice")));
            }
            labels.push((k.to_owned(), v.to_owned()));
        }
        out.push(target(first.to_owned(), labels, source, base));
    }
    if out.is_empty() {
        return Err(Failure::Usage(format!(
            "inventory {} lists no target",
            path.display()
        )));
    }
    Ok(out)
}

fn target(name: String, labels: Vec<(String, String)>, source: Source, base: &Builder) -> Target {
    Target {
        name,
        labels,
        source,
        base: base.clone(),
        hap: Mutex::new(None),
        flight: Mutex::new(None),
        counters: Mutex::new(Counters::new()),
        certs: Arc::default(),
    }
}

/// The targets the flags name: the inventory's, else the one process set
/// the global options name ([`crate::source::source`], as every command
/// reads it), each socket of `--socket` a target of its own.
fn targets(cli: &Cli, args: &ExporterArgs) -> Result<Vec<Target>> {
    let base = crate::source::builder(cli)?;
    if let Some(path) = &args.inventory {
        return inventory(path, &base);
    }
    let source = crate::source::source(cli)?;
    Ok(match source {
        Source::Endpoints(endpoints) => cli
            .sockets
            .iter()
            .zip(endpoints)
            .map(|(s, e)| target(s.clone(), Vec::new(), Source::Endpoints(vec![e]), &base))
            .collect(),
        other => {
            let name = cli.target.clone().unwrap_or_else(|| other.to_string());
            vec![target(name, Vec::new(), other, &base)]
        }
    })
}

/// Runs the exporter until the process is killed.
///
/// # Errors
///
/// A usage error for bad flags or inventory; an I/O error when ADDR
/// cannot be bound.
pub(crate) fn run(cli: &Cli, args: &ExporterArgs) -> Result {
    let timeout = secs("scrape-timeout", args.scrape_timeout, false)?;
    let max_age = secs("max-age", args.max_age, true)?;
    for (flag, n) in [
        ("--concurrency", args.concurrency),
        ("--http-workers", args.http_workers),
    ] {
        if !(1..=MAX_WORKERS).contains(&n) {
            return Err(Failure::Usage(format!(
                "{flag} must be from 1 to {MAX_WORKERS}, not {n}"
            )));
        }
    }
    let exporter = Arc::new(Exporter {
        targets: targets(cli, args)?.into_iter().map(Arc::new).collect(),
        mode: if cli.per_process {
            Mode::PerProcess
        } else {
            Mode::Combined
        },
        timeout,
        max_age,
        cert_refresh: secs("--cert-refresh", args.cert_refresh, true)?,
        slots: Arc::new(Slots {
            free: Mutex::new(args.concurrency),
            cv: Condvar::new(),
        }),
        cache: Mutex::new(None),
    });
    let listener = std::net::TcpListener::bind(&args.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| Failure::Io(format!("exporter: cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    haproxy_cli::note!("haproxy-cli: exporter listening on http://{addr}/metrics");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(serve(listener, exporter, args.http_workers))
}

/// Accepts connections until SIGTERM or SIGINT, each served in a task of
/// its own by hyper: the request head read within [`HEAD_DEADLINE`] and
/// [`MAX_HEAD`] bytes, the whole exchange within [`RESPONSE_DEADLINE`],
/// at most [`MAX_CONNECTIONS`] at once (the rest closed at once), at most
/// `renders` expositions rendered at once (`--http-workers`; a scrape that
/// finds none free within the scrape timeout gets 503). At a signal,
/// connections in progress are given [`DRAIN`] to finish.
async fn serve(listener: std::net::TcpListener, exporter: Arc<Exporter>, renders: usize) -> Result {
    use tokio::signal::unix::{signal, SignalKind};
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let renders = Arc::new(tokio::sync::Semaphore::new(renders));
    let (mut term, mut int) = (
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    );
    loop {
        let stream = tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors (EMFILE) and the like: the
                    // pending connection stays queued; pause, never spin.
                    haproxy_cli::note!("haproxy-cli: exporter: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            continue;
        };
        let (exporter, renders) = (Arc::clone(&exporter), Arc::clone(&renders));
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                answer(req, Arc::clone(&exporter), Arc::clone(&renders))
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_DEADLINE)
                .max_buf_size(MAX_HEAD)
                .keep_alive(false)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = tokio::time::timeout(RESPONSE_DEADLINE, conn).await;
            drop(permit);
        });
    }
    haproxy_cli::note!("haproxy-cli: exporter: stopping");
    let all = u32::try_from(MAX_CONNECTIONS).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN, connections.acquire_many(all)).await;
    Ok(())
}

/// Whether an `Accept-Encoding` value takes gzip: named, with a q-value
/// above 0 (`gzip;q=0` refuses it).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        name.eq_ignore_ascii_case("gzip") && q > 0.0
    })
}

/// One request's answer: `/metrics`, a small page at `/`, 404 elsewhere;
/// GET and HEAD only.
async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    exporter: Arc<Exporter>,
    renders: Arc<tokio::sync::Semaphore>,
) -> std::result::Result<hyper::Response<Reply>, std::convert::Infallible> {
    use hyper::{header, Method, Response, StatusCode};
    let plain = |code: StatusCode, text: &'static str| {
        let mut r = Response::new(Reply::Whole(Some(Bytes::from_static(text.as_bytes()))));
        *r.status_mut() = code;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return Ok(r);
    }
    match req.uri().path() {
        "/metrics" => {}
        "/" => {
            return Ok(plain(
                StatusCode::OK,
                "haproxy-cli exporter: metrics at /metrics\n",
            ))
        }
        _ => return Ok(plain(StatusCode::NOT_FOUND, "not found; try /metrics\n")),
    }
    let gzip = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .any(|v| accepts_gzip(&String::from_utf8_lossy(v.as_bytes())));
    let mut r = Response::new(Reply::Whole(None));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(CONTENT_TYPE),
    );
    if gzip {
        h.insert(
            header::CONTENT_ENCODING,
            header::HeaderValue::from_static("gzip"),
        );
    }
    if req.method() == Method::HEAD {
        return Ok(r);
    }
    let Ok(Ok(slot)) = tokio::time::timeout(exporter.timeout, renders.acquire_owned()).await else {
        return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, "busy\n"));
    };
    if !exporter.max_age.is_zero() {
        let body = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            exporter.cached()
        })
        .await;
        let Ok(body) = body else {
            return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, "scrape failed\n"));
        };
        let bytes = if gzip {
            body.gzipped()
        } else {
            body.plain.clone()
        };
        *r.body_mut() = Reply::Whole(Some(bytes));
        return Ok(r);
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        if let Err(e) = exporter.write_scrape(Pieces(tx.clone()), gzip) {
            let _ = tx.send(Err(e));
        }
    });
    *r.body_mut() = Reply::Streamed(rx);
    Ok(r)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_only_when_accepted() {
        for (value, want) in [
            ("gzip", true),
            ("GZIP", true),
            ("deflate, gzip;q=0.5", true),
            ("gzip;q=0", false),
            ("gzip; q=0.0", false),
            ("br, deflate", false),
            ("", false),
            ("gzip;q=1, identity", true),
        ] {
            assert_eq!(accepts_gzip(value), want, "{value:?}");
        }
    }

    #[test]
    fn inventory_lines() {
        let dir = std::env::temp_dir().join(format!("hx-inv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let p = dir.join("inv");
        std::fs::write(
            &p,
            "# fleet\n/run/a.sock host=lb1 datacenter=par1\n\ndir:/run/haproxy:*.sock host=lb2\nipv4@127.0.0.1:9999\n",
        )
        .expect("write");
        let t = inventory(&p, &Builder::default()).expect("parses");
        assert_eq!(t.len(), 3);
        assert_eq!(
            t[0].labels,
            [
                ("host".into(), "lb1".into()),
                ("datacenter".into(), "par1".into())
            ]
        );
        assert!(
            matches!(&t[1].source, Source::Dir { dir, pattern: Some(g) } if dir == Path::new("/run/haproxy") && g == "*.sock")
        );
        for (bad, what) in [
            ("/a.sock host\n", "label=value"),
            ("/a.sock 1x=2\n", "invalid label name"),
            ("/a.sock pid=2\n", "exporter's own"),
            ("/a.sock scope=x\n", "exporter's own"),
            ("/a.sock instance=x\n", "Prometheus's own"),
            ("/a.sock dc=a dc=b\n", "given twice"),
            ("# nothing\n", "no target"),
        ] {
            std::fs::write(&p, bad).expect("write");
            match inventory(&p, &Builder::default()) {
                Err(Failure::Usage(m)) => assert!(m.contains(what), "{m}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn slots_wait_with_a_deadline() {
        let s = Slots {
            free: Mutex::new(1),
            cv: Condvar::new(),
        };
        let soon = Instant::now() + Duration::from_millis(50);
        assert!(s.acquire_until(soon));
        assert!(!s.acquire_until(soon));
        s.release();
        assert!(s.acquire_until(Instant::now() + Duration::from_millis(50)));
    }
}
