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
//! - HTTP: `httparse` reads the request head; the accept loop, deadlines
//!   and bounds are ours (std only): a request head is at most
//!   [`MAX_HEAD`] bytes read within [`HEAD_DEADLINE`], at most
//!   `--http-workers` requests are served at once and a few more queued
//!   (the rest get 503), every answer closes the connection. A bad request
//!   gets a 4xx, never a crash.

use crate::args::{Cli, ExporterArgs};
use crate::Failure;
use flate2::write::GzEncoder;
use flate2::Compression;
use haproxy_admin::prometheus::{Counters, Exposition, Mode, Totals, CONTENT_TYPE};
use haproxy_admin::{Builder, HAProxy, Snapshot, Source, Timeouts};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
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

/// How long one write of the answer may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a target's process set is discovered again (new sockets in a
/// directory, restarted processes), besides after every failure.
const REDISCOVER: Duration = Duration::from_secs(30);

/// Labels of ours that an inventory may not set.
const RESERVED: [&str; 11] = [
    "target", "pid", "node", "proxy", "server", "state", "code", "endpoint", "version", "scope",
    "field",
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
    fn scrape(&self, timeout: Duration, mode: Mode) -> std::result::Result<Scraped, String> {
        use std::os::unix::fs::FileTypeExt;
        let hap = self.connect(timeout)?;
        let snap = hap.snapshot().map_err(|e| {
            // Discover again next time: the set may have changed.
            *self.hap.lock().unwrap_or_else(|e| e.into_inner()) = None;
            e.to_string()
        })?;
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
        Ok(Scraped {
            snap: Box::new(snap),
            totals,
            skipped,
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

/// A rendered exposition, gzipped on first demand.
#[derive(Debug)]
struct Body {
    plain: Vec<u8>,
    gzip: OnceLock<Vec<u8>>,
}

impl Body {
    fn gzipped(&self) -> &[u8] {
        self.gzip.get_or_init(|| {
            let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
            // Writing to a Vec cannot fail.
            let _ = enc.write_all(&self.plain);
            enc.finish().unwrap_or_default()
        })
    }
}

/// The exporter's state, shared by the HTTP workers.
#[derive(Debug)]
struct Exporter {
    targets: Vec<Arc<Target>>,
    mode: Mode,
    timeout: Duration,
    max_age: Duration,
    slots: Arc<Slots>,
    cache: Mutex<Option<(Instant, Arc<Body>)>>,
}

impl Exporter {
    /// The exposition: from the cache when it is young enough, else a new
    /// scrape (one at a time when caching, so concurrent scrapers share it).
    fn body(&self) -> Arc<Body> {
        if self.max_age.is_zero() {
            return Arc::new(self.scrape());
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, body)) = cache.as_ref() {
            if at.elapsed() <= self.max_age {
                return Arc::clone(body);
            }
        }
        let body = Arc::new(self.scrape());
        *cache = Some((Instant::now(), Arc::clone(&body)));
        body
    }

    /// A fresh scrape, held as bytes (for the cache, or gzip of a HEAD).
    fn scrape(&self) -> Body {
        self.render(|e| Body {
            plain: e.to_text().into_bytes(),
            gzip: OnceLock::new(),
        })
    }

    /// A fresh scrape written to `s` as it is rendered (nothing cached):
    /// chunked for HTTP/1.1, so that a cut body is seen as cut, and
    /// gzip-compressed on the way when the client takes it.
    fn stream(&self, s: &mut TcpStream, gzip: bool, chunked: bool) -> std::io::Result<()> {
        self.render(|e| {
            let mut head =
                format!("HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nConnection: close\r\n");
            if chunked {
                head.push_str("Transfer-Encoding: chunked\r\n");
            }
            if gzip {
                head.push_str("Content-Encoding: gzip\r\n");
            }
            head.push_str("\r\n");
            s.write_all(head.as_bytes())?;
            let body = Chunks {
                s: &mut *s,
                chunked,
            };
            let body = if gzip {
                let mut enc = GzEncoder::new(body, Compression::fast());
                e.write_to(&mut enc)?;
                enc.finish()?
            } else {
                let mut body = body;
                e.write_to(&mut body)?;
                body
            };
            body.finish()
        })?;
        close(s)
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
        let (t, f, slots, timeout, mode) = (
            Arc::clone(t),
            Arc::clone(&flight),
            Arc::clone(&self.slots),
            self.timeout,
            self.mode,
        );
        std::thread::spawn(move || {
            let began = Instant::now();
            let r = if slots.acquire_until(deadline) {
                let r = t.scrape(timeout, mode).map(Arc::new);
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
                    } = &**scraped;
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
                    for p in snap.processes() {
                        let endpoint = p.endpoint().to_string();
                        up(&mut e, &labels, &endpoint, 1.0);
                        process_info(&mut e, &labels, &endpoint, p);
                    }
                    for f in snap.failures() {
                        haproxy_cli::note!("haproxy-cli: exporter: {}: {f}", t.name);
                        up(&mut e, &labels, &f.endpoint, 0.0);
                    }
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
            "haproxy_cli_exposition_duration_seconds",
            "How long the whole scrape took, targets read concurrently, up to writing the text (streamed after)",
            &[],
            start.elapsed().as_secs_f64(),
        );
        done(&e)
    }
}

/// A response body: HTTP/1.1 chunks, or the bytes as they are (HTTP/1.0,
/// ended by closing).
struct Chunks<'s> {
    s: &'s mut TcpStream,
    chunked: bool,
}

impl Write for Chunks<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.chunked {
            write!(self.s, "{:x}\r\n", buf.len())?;
            self.s.write_all(buf)?;
            self.s.write_all(b"\r\n")?;
        } else {
            self.s.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.s.flush()
    }
}

impl Chunks<'_> {
    /// The last chunk.
    fn finish(self) -> std::io::Result<()> {
        if self.chunked {
            self.s.write_all(b"0\r\n\r\n")?;
        }
        self.s.flush()
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
    p: &haproxy_admin::Process,
) {
    let pid = p.id().pid.to_string();
    let mut l = labels.to_vec();
    l.push(("endpoint", endpoint));
    l.push(("pid", &pid));
    l.push(("version", p.version().unwrap_or("")));
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
        slots: Arc::new(Slots {
            free: Mutex::new(args.concurrency),
            cv: Condvar::new(),
        }),
        cache: Mutex::new(None),
    });
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| Failure::Io(format!("exporter: cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    haproxy_cli::note!("haproxy-cli: exporter listening on http://{addr}/metrics");
    // A bounded queue in front of a fixed set of workers.
    let (tx, rx) = mpsc::sync_channel::<TcpStream>(args.http_workers * 4);
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..args.http_workers {
        let (rx, exporter) = (Arc::clone(&rx), Arc::clone(&exporter));
        std::thread::spawn(move || loop {
            let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
            match next {
                Ok(stream) => serve(stream, &exporter),
                Err(_) => return,
            }
        });
    }
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors (EMFILE) and the like: the
                // pending connection stays queued, so retrying at once
                // spins a core; pause instead.
                haproxy_cli::note!("haproxy-cli: exporter: accept: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if let Err(mpsc::TrySendError::Full(mut s)) = tx.try_send(stream) {
            let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = respond(&mut s, 503, "text/plain", &[], b"busy\n", false);
        }
    }
    Ok(())
}

/// Reads the request head within [`HEAD_DEADLINE`] and [`MAX_HEAD`].
fn read_head(s: &mut TcpStream) -> std::result::Result<Vec<u8>, u16> {
    let deadline = Instant::now() + HEAD_DEADLINE;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || s.set_read_timeout(Some(left)).is_err() {
            return Err(408);
        }
        match s.read(&mut chunk) {
            Ok(0) => return Err(400),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(408),
        }
        // The head ends at an empty line, CRLF or a bare LF (RFC 9112
        // lets a server take LF alone); it must end within MAX_HEAD,
        // whatever was read with it.
        match head_end(&buf) {
            Some(end) if end <= MAX_HEAD => return Ok(buf),
            Some(_) => return Err(431),
            None if buf.len() > MAX_HEAD => return Err(431),
            None => {}
        }
    }
}

/// Where the request head ends (after its empty line), if it does.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
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

fn serve(mut s: TcpStream, exporter: &Exporter) {
    let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
    let head = match read_head(&mut s) {
        Ok(h) => h,
        Err(code) => {
            let _ = respond(&mut s, code, "text/plain", &[], b"bad request\n", false);
            return;
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let parsed = req.parse(&head);
    let (method, path) = match (parsed, req.method, req.path) {
        (Ok(httparse::Status::Complete(_)), Some(m), Some(p)) => (m, p),
        _ => {
            let _ = respond(&mut s, 400, "text/plain", &[], b"bad request\n", false);
            return;
        }
    };
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        let _ = respond(
            &mut s,
            405,
            "text/plain",
            &[("Allow", "GET, HEAD")],
            b"GET only\n",
            false,
        );
        return;
    }
    let path = path.split('?').next().unwrap_or("");
    match path {
        "/metrics" => {
            let gzip = req.headers.iter().any(|h| {
                h.name.eq_ignore_ascii_case("accept-encoding")
                    && accepts_gzip(&String::from_utf8_lossy(h.value))
            });
            if exporter.max_age.is_zero() && !head_only {
                // HTTP/1.0 has no chunks: its body ends with the
                // connection.
                let chunked = req.version == Some(1);
                let _ = exporter.stream(&mut s, gzip, chunked);
                return;
            }
            let body = exporter.body();
            let (bytes, extra): (&[u8], &[(&str, &str)]) = if gzip {
                (body.gzipped(), &[("Content-Encoding", "gzip")])
            } else {
                (&body.plain, &[])
            };
            let _ = respond(&mut s, 200, CONTENT_TYPE, extra, bytes, head_only);
        }
        "/" => {
            let _ = respond(
                &mut s,
                200,
                "text/plain; charset=utf-8",
                &[],
                b"haproxy-cli exporter: metrics at /metrics\n",
                head_only,
            );
        }
        _ => {
            let _ = respond(
                &mut s,
                404,
                "text/plain",
                &[],
                b"not found; try /metrics\n",
                false,
            );
        }
    }
}

fn respond(
    s: &mut TcpStream,
    code: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    };
    let mut head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    if !head_only {
        s.write_all(body)?;
    }
    s.flush()?;
    close(s)
}

/// Ends a response: shuts the writing side, and lets the client read the
/// answer before the socket closes.
fn close(s: &mut TcpStream) -> std::io::Result<()> {
    let _ = s.shutdown(std::net::Shutdown::Write);
    // Drain what the client still sends, briefly and boundedly.
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 1024];
    for _ in 0..16 {
        match s.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_end_at_an_empty_line_crlf_or_lf() {
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n\r\n"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.0\n\n"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\nA: b\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.0\n\nbody\r\n\r\n"), Some(16));
    }

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
