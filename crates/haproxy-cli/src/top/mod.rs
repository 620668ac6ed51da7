//! `top`: a live view of frontends, backends and servers.
//!
//! On a terminal it is an interactive screen (ratatui over crossterm):
//! views, sort, filter, a selected server to enable, disable, drain or
//! re-weight after a confirmation, and the per-process values of an object
//! on which the processes disagree. On a pipe or file it prints one plain
//! frame per refresh, so it can be logged.
//!
//! - [`app`]: the state and what each key does (no terminal: unit tested);
//! - [`data`]: a snapshot turned into rows;
//! - [`render`]: the state drawn, fitted to the terminal's width;
//! - here: the terminal (raw mode and alternate screen, restored on every
//!   way out: `q`, Ctrl-C, a signal, an error, a panic) and the event
//!   loop, with one worker thread that fetches and writes, so a slow or
//!   frozen socket never blocks the keys, and at most one fetch is in
//!   flight.

mod app;
mod data;
mod render;

use crate::args::{Cli, TopArgs};
use crate::Failure;
use app::{Action, App, Effect, Key, View};
use clap::parser::ValueSource;
use clap::CommandFactory;
use haproxy_admin::HAProxy;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::crossterm::{cursor, execute};
use ratatui::widgets::TableState;
use ratatui::Terminal;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

type Result<T = ()> = std::result::Result<T, Failure>;

/// How long the loop waits for a key before it looks at the worker's
/// results and redraws.
const TICK: Duration = Duration::from_millis(100);

/// Refuses what `top` cannot do, before any socket is opened: `--format`
/// (a live view for people has no data format) and an interval that is
/// not a positive number of seconds.
pub(crate) fn check(args: &TopArgs) -> Result {
    if format_given() {
        return Err(Failure::Usage(
            "--format does not apply to `top` (a live view for people); for data use \
             `frontend list`, `backend list` or `server list` with --format"
                .into(),
        ));
    }
    interval(args).map(|_| ())
}

fn interval(args: &TopArgs) -> Result<Duration> {
    if !(args.interval.is_finite() && args.interval > 0.0) {
        return Err(Failure::Usage(format!(
            "--interval must be a positive number of seconds, not {}",
            args.interval
        )));
    }
    Ok(Duration::from_secs_f64(args.interval))
}

/// Runs the view: interactive on a terminal, else `--iterations` plain
/// frames (or forever).
pub(crate) fn run(out: &mut impl Write, hap: &HAProxy, args: &TopArgs) -> Result {
    check(args)?;
    let interval = interval(args)?;
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        interactive(out, hap, args, interval)
    } else {
        plain(out, hap, args, interval)
    }
}

/// Whether `--format` was on the command line. `Cli` holds a value
/// either way (the default), so the matches say where it came from.
fn format_given() -> bool {
    let Ok(m) = Cli::command().try_get_matches_from(std::env::args_os()) else {
        return false;
    };
    let given = |m: &clap::ArgMatches| m.value_source("format") == Some(ValueSource::CommandLine);
    given(&m) || m.subcommand_matches("top").is_some_and(given)
}

/// Frames of plain text, one per refresh, for a pipe or a file.
fn plain(out: &mut impl Write, hap: &HAProxy, args: &TopArgs, interval: Duration) -> Result {
    let mut frame = 0u64;
    loop {
        let snap = hap.snapshot_partial()?;
        let data = data::from_snapshot(&snap);
        if frame > 0 {
            out.write_all(b"\n")?;
        }
        writeln!(
            out,
            "haproxy-cli top — {}, frame {}",
            data.summary,
            frame + 1
        )?;
        for f in &data.failures {
            writeln!(out, "  failed: {f}")?;
        }
        let mut app = App::new();
        app.set_data(data);
        for (view, title) in [
            (View::Frontends, "FRONTENDS"),
            (View::Backends, "BACKENDS"),
            (View::Servers, "SERVERS"),
        ] {
            app.view = view;
            writeln!(out, "\n{title}")?;
            for line in app::text_table(&app.header(), &app.rows(), usize::MAX) {
                writeln!(out, "{line}")?;
            }
        }
        out.flush()?;
        frame += 1;
        if args.iterations.is_some_and(|n| frame >= n) {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}

/// What the worker is asked to do.
enum Job {
    Fetch,
    Write(app::Write),
}

/// What the worker answers.
enum Done {
    Fetched(std::result::Result<app::Data, String>),
    Written(app::Write, std::result::Result<usize, String>),
}

/// The one worker thread: fetches and writes in order, each bounded by
/// the connection's timeouts. It ends when the loop drops its sender (or,
/// stuck on a frozen socket at exit, with the process).
fn spawn_worker(hap: &HAProxy) -> Result<(mpsc::Sender<Job>, mpsc::Receiver<Done>)> {
    let (jobs, job_rx) = mpsc::channel::<Job>();
    let (done_tx, done) = mpsc::channel::<Done>();
    let hap = hap.clone();
    std::thread::Builder::new()
        .name("top-worker".into())
        .spawn(move || {
            for job in job_rx {
                let write = match &job {
                    Job::Write(w) => Some(w.clone()),
                    Job::Fetch => None,
                };
                // A panic in a job is reported as that job's error; the
                // panic hook keeps it off the screen.
                let caught =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| do_job(&hap, job)));
                let reply = caught.unwrap_or_else(|p| {
                    let why = p
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| p.downcast_ref::<&str>().copied())
                        .unwrap_or("unknown");
                    let e = format!("internal error (panic): {why}");
                    match write {
                        Some(w) => Done::Written(w, Err(e)),
                        None => Done::Fetched(Err(e)),
                    }
                });
                if done_tx.send(reply).is_err() {
                    return;
                }
            }
        })?;
    Ok((jobs, done))
}

fn do_job(hap: &HAProxy, job: Job) -> Done {
    match job {
        Job::Fetch => Done::Fetched(
            hap.snapshot_partial()
                .map(|s| data::from_snapshot(&s))
                .map_err(|e| one_line(&e.to_string())),
        ),
        Job::Write(w) => {
            let command = match w.action {
                Action::State(s) => {
                    haproxy_admin::Command::set_server_state(&w.backend, &w.server, s)
                }
                Action::Weight(x) => x.command(&w.backend, &w.server),
            };
            let result = command
                .map_err(haproxy_admin::Error::from)
                .and_then(|c| hap.run(&c))
                .map(|per| per.len())
                .map_err(|e| one_line(&e.to_string()));
            Done::Written(w, result)
        }
    }
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Raw mode and the alternate screen, left again on drop (also when
/// unwinding).
struct Screen {
    active: bool,
}

impl Screen {
    fn enter(out: &mut impl Write) -> Result<Screen> {
        terminal::enable_raw_mode()?;
        let screen = Screen { active: true };
        execute!(out, EnterAlternateScreen, cursor::Hide)?;
        Ok(screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if self.active {
            restore_terminal();
        }
    }
}

/// Leaves the alternate screen, shows the cursor, ends raw mode. Safe to
/// call twice.
fn restore_terminal() {
    let mut out = std::io::stdout();
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = terminal::disable_raw_mode();
}

/// A panic on the terminal's thread restores the terminal before the
/// message is printed (else it is lost with the alternate screen). A
/// panic elsewhere (the worker) is reported on the screen as that job's
/// error instead of being printed over it.
fn install_panic_hook() {
    let ui = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui {
            restore_terminal();
            previous(info);
        }
    }));
}

fn key_of(k: event::KeyEvent) -> Option<Key> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char('c') if ctrl => Key::CtrlC,
        KeyCode::Char(c) if !ctrl => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        _ => return None,
    })
}

fn interactive(out: &mut impl Write, hap: &HAProxy, args: &TopArgs, interval: Duration) -> Result {
    // SIGINT/SIGTERM/SIGHUP end the loop (the terminal is restored on the
    // way out); in raw mode Ctrl-C arrives as a key instead.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    install_panic_hook();
    let (jobs, done) = spawn_worker(hap)?;
    let screen = Screen::enter(out)?;
    let mut term = Terminal::new(CrosstermBackend::new(&mut *out))?;
    term.clear()?;
    let result = event_loop(&mut term, &jobs, &done, &stop, args, interval);
    drop(term);
    drop(screen);
    result
}

fn event_loop<W: Write>(
    term: &mut Terminal<CrosstermBackend<W>>,
    jobs: &mpsc::Sender<Job>,
    done: &mpsc::Receiver<Done>,
    stop: &AtomicBool,
    args: &TopArgs,
    interval: Duration,
) -> Result {
    let worker_gone = || Failure::Io("the top worker thread stopped".into());
    let mut app = App::new();
    let mut table = TableState::default();
    // At most one fetch in flight: `fetching` is its start.
    let mut fetching: Option<Instant> = None;
    let mut next_fetch = Instant::now();
    let mut fetched_at: Option<Instant> = None;
    let mut frames = 0u64;
    // Redraw after a key, new data or a resize, and once a second for the
    // clock; not every tick (a large fleet's table is not free to sort).
    let mut dirty = true;
    let mut drawn = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if fetching.is_none() && now >= next_fetch {
            jobs.send(Job::Fetch).map_err(|_| worker_gone())?;
            fetching = Some(now);
        }
        loop {
            let reply = done.try_recv();
            dirty |= reply.is_ok();
            match reply {
                Ok(Done::Fetched(r)) => {
                    fetching = None;
                    next_fetch = Instant::now() + interval;
                    match r {
                        Ok(d) => {
                            app.set_data(d);
                            fetched_at = Some(Instant::now());
                        }
                        Err(e) => app.fetch_error = Some(e),
                    }
                    frames += 1;
                }
                Ok(Done::Written(w, r)) => {
                    app.written(&w, r);
                    // Show the write's effect now, not an interval later.
                    next_fetch = Instant::now();
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return Err(worker_gone()),
            }
        }
        if dirty || drawn.elapsed() >= Duration::from_secs(1) {
            let clock = render::Clock {
                fetching_for: fetching.map(|t| t.elapsed()),
                age: fetched_at.map(|t| t.elapsed()),
            };
            term.draw(|f| render::draw(f, &mut app, &mut table, clock))?;
            dirty = false;
            drawn = Instant::now();
        }
        if args.iterations.is_some_and(|n| frames >= n) {
            return Ok(());
        }
        if !event::poll(TICK)? {
            continue;
        }
        let k = match event::read()? {
            Event::Key(k) => k,
            Event::Resize(..) => {
                dirty = true;
                continue;
            }
            _ => continue,
        };
        if k.kind == KeyEventKind::Release {
            continue;
        }
        let Some(key) = key_of(k) else { continue };
        dirty = true;
        // Esc and the next key in one read arrive as Alt+key: top has no
        // Alt bindings, so it is what was typed, Esc then the key.
        if k.modifiers.contains(KeyModifiers::ALT) && matches!(key, Key::Char(_)) {
            app.key(Key::Esc);
        }
        match app.key(key) {
            Effect::None => {}
            Effect::Quit => return Ok(()),
            Effect::Refresh => next_fetch = Instant::now(),
            Effect::Send(w) => jobs.send(Job::Write(w)).map_err(|_| worker_gone())?,
        }
    }
    Ok(())
}
