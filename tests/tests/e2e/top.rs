//! `haproxy-cli top` in a real terminal: tmux runs it in a detached
//! session of a fixed size, the test types keys with `send-keys` and reads
//! the screen with `capture-pane`, against a real 3-instance fleet. Every
//! check polls the pane until a deadline; nothing relies on a sleep.

use crate::cli::cli;
use haproxy_e2e::{Fleet, Instance, Options, Topology};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long the screen may take to show what a key asked for (the
/// machine is shared and loaded).
const SCREEN: Duration = Duration::from_secs(15);

const TMUX_HINT: &str = "tmux is not installed: install it with \
     `apt-get install -y tmux` (or run `cargo xtask test`, which installs it)";

/// A private tmux server (its own socket, so tests do not share state)
/// with one detached session of a fixed size running `command`; the
/// server is killed on drop.
pub(crate) struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Starts `sh -c COMMAND; echo TOP-EXITED=$?` in a `width`×`height`
    /// pane; the shell stays after the command so the test can read
    /// what the terminal looks like once it returned.
    pub(crate) fn start(dir: &Path, width: u16, height: u16, command: &str) -> Tmux {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "{TMUX_HINT}");
        let socket = dir.join(format!("tmux-{width}x{height}.sock"));
        let t = Tmux { socket };
        // The shell traps SIGINT so that Ctrl-C (a signal when the program
        // is not in raw mode) ends only the program, not the shell.
        let script = format!("trap : INT; {command}; echo TOP-EXITED=$?; exec sleep 600");
        let out = t
            .cmd()
            .args(["new-session", "-d", "-s", "top", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .args(["sh", "-c", &script])
            .output()
            .expect("run tmux new-session");
        assert!(out.status.success(), "tmux new-session: {out:?}");
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).env_remove("TMUX");
        c
    }

    /// The visible pane as text; `-J` joins wrapped lines, so a line
    /// that wrapped comes back longer than the pane.
    fn capture(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-J", "-t", "top"])
            .output()
            .expect("run tmux capture-pane");
        assert!(out.status.success(), "capture-pane: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn display(&self, format: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "top", format])
            .output()
            .expect("run tmux display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Types keys (tmux key names: `Enter`, `Escape`, `Tab`, or text).
    pub(crate) fn keys(&self, keys: &[&str]) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", "top"])
            .args(keys)
            .status()
            .expect("run tmux send-keys");
        assert!(st.success(), "send-keys {keys:?}");
    }

    /// Polls the pane until `cond` holds; the pane, on failure.
    pub(crate) fn wait(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SCREEN;
        loop {
            let screen = self.capture();
            if cond(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {SCREEN:?} waiting for: {what}; the pane:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The PID of the program the pane's shell runs.
    fn program_pid(&self) -> u32 {
        let shell: u32 = self
            .display("#{pane_pid}")
            .parse()
            .expect("pane_pid is a number");
        let deadline = Instant::now() + SCREEN;
        loop {
            if let Some(pid) = child_of(shell) {
                return pid;
            }
            assert!(Instant::now() < deadline, "no child of the pane's shell");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// A child process of `parent`, from /proc.
fn child_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // pid (comm) state ppid …
        let ppid: u32 = stat
            .rsplit(')')
            .next()?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        (ppid == parent).then_some(pid)
    })
}

fn count_entries(dir: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// A 3-instance fleet; the servers `top` acts on (`be_static/*`) have no
/// health check, so nothing but the test changes their state.
fn fleet() -> Fleet {
    Fleet::start(Options {
        instances: 3,
        topology: Topology::standard(),
        ..Options::default()
    })
}

/// The command line that runs top against the fleet.
fn top_command(f: &Fleet, extra: &str) -> String {
    format!(
        "{} --socket-dir {} top --interval 0.3 {extra}",
        cli().display(),
        f.socket_dir().display()
    )
}

/// A column of `backend/server` in one instance's `show stat`, read raw.
fn stat(i: &Instance, px: &str, sv: &str, column: &str) -> String {
    let reply = i.raw("show stat");
    haproxy_e2e::stat_field(&reply, px, sv, column)
        .unwrap_or_else(|| panic!("no {column} of {px}/{sv}"))
        .to_owned()
}

fn shows_fleet(s: &str) -> bool {
    s.contains("3 process(es)") && s.contains("be_static/s1") && s.contains("be_static/s2")
}

#[test]
fn top_shows_the_fleet_and_q_restores_the_terminal() {
    let f = fleet();
    let t = Tmux::start(f.dir(), 100, 30, &top_command(&f, ""));
    let screen = t.wait("the servers of the fleet", shows_fleet);
    assert!(
        screen.contains("SERVER") && screen.contains("STATUS"),
        "{screen}"
    );
    assert_eq!(
        t.display("#{alternate_on}"),
        "1",
        "top runs on the alternate screen"
    );
    // Views: frontends, backends.
    t.keys(&["f"]);
    t.wait("the frontends view", |s| {
        s.contains("FRONTEND") && s.contains("fe_http")
    });
    t.keys(&["b"]);
    t.wait("the backends view", |s| {
        s.contains("BACKEND") && s.contains("be_static")
    });
    t.keys(&["q"]);
    let screen = t.wait("top to exit", |s| s.contains("TOP-EXITED="));
    assert!(screen.contains("TOP-EXITED=0"), "{screen}");
    assert!(
        !screen.contains("haproxy-cli top"),
        "the alternate screen is gone: {screen}"
    );
    assert_eq!(t.display("#{alternate_on}"), "0", "alternate screen left");
    // Raw mode is off again: the terminal echoes and cooks what is typed.
    assert_eq!(t.display("#{cursor_flag}"), "1", "cursor shown again");
}

#[test]
fn top_ctrl_c_restores_the_terminal() {
    let f = fleet();
    let t = Tmux::start(f.dir(), 100, 30, &top_command(&f, ""));
    t.wait("the servers of the fleet", shows_fleet);
    t.keys(&["C-c"]);
    let screen = t.wait("top to exit", |s| s.contains("TOP-EXITED="));
    assert!(screen.contains("TOP-EXITED=0"), "{screen}");
    assert_eq!(t.display("#{alternate_on}"), "0", "alternate screen left");
}

#[test]
fn top_restores_the_terminal_on_sigterm() {
    let f = fleet();
    let t = Tmux::start(f.dir(), 100, 30, &top_command(&f, ""));
    t.wait("the servers of the fleet", shows_fleet);
    haproxy_e2e::signal(t.program_pid(), "TERM");
    let screen = t.wait("top to exit", |s| s.contains("TOP-EXITED="));
    assert!(screen.contains("TOP-EXITED=0"), "{screen}");
    assert_eq!(t.display("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(t.display("#{cursor_flag}"), "1", "cursor shown again");
}

#[test]
fn top_drains_a_server_on_every_process_after_confirmation() {
    let f = fleet();
    for i in f.instances() {
        assert_eq!(stat(i, "be_static", "s2", "status"), "no check");
    }
    let t = Tmux::start(f.dir(), 100, 30, &top_command(&f, ""));
    t.wait("the servers of the fleet", shows_fleet);
    // Select be_static/s2 by filtering down to it.
    t.keys(&["/", "static/s2", "Enter"]);
    t.wait("only be_static/s2", |s| {
        s.contains("filter:static/s2") && s.contains("be_static/s2") && !s.contains("be_static/s1")
    });
    // d asks first; anything but y cancels, and nothing is sent.
    t.keys(&["d"]);
    t.wait("the confirmation", |s| {
        s.contains("drain be_static/s2 on every process (3)?")
    });
    t.keys(&["n"]);
    t.wait("the cancellation", |s| {
        s.contains("cancelled: drain be_static/s2")
    });
    for i in f.instances() {
        assert_eq!(
            stat(i, "be_static", "s2", "status"),
            "no check",
            "{}",
            i.pid
        );
    }
    t.keys(&["d"]);
    t.wait("the confirmation", |s| s.contains("Confirm"));
    t.keys(&["y"]);
    t.wait("the write's outcome", |s| {
        s.contains("done: drain be_static/s2 on 3 process(es)")
    });
    // Read back raw from every instance.
    for i in f.instances() {
        assert_eq!(stat(i, "be_static", "s2", "status"), "DRAIN", "{}", i.pid);
        assert_eq!(
            stat(i, "be_static", "s1", "status"),
            "no check",
            "{}",
            i.pid
        );
    }
    // And the screen shows it after the refresh the write triggers.
    t.wait("the new status on screen", |s| {
        s.lines()
            .any(|l| l.contains("be_static/s2") && l.contains("DRAIN"))
    });
    t.keys(&["q"]);
    t.wait("top to exit", |s| s.contains("TOP-EXITED=0"));
}

#[test]
fn top_shows_per_process_values_and_a_failed_write() {
    let mut f = fleet();
    // One instance drained behind top's back: the processes disagree.
    f.instances()[1].raw("set server be_static/s1 state drain");
    let t = Tmux::start(f.dir(), 100, 30, &top_command(&f, ""));
    t.wait("the disagreement", |s| {
        s.contains("{no check|DRAIN|no check}")
    });
    t.keys(&["/", "static/s1", "Enter", "p"]);
    let pid = f.instances()[1].pid;
    let screen = t.wait("the per-process box", |s| s.contains("Per process"));
    assert!(screen.contains("the processes disagree"), "{screen}");
    assert!(
        screen.contains(&format!("pid {pid}")) && screen.contains("status=DRAIN"),
        "{screen}"
    );
    t.keys(&["Escape"]);
    t.wait("the box closed", |s| !s.contains("Per process"));
    // The weight prompt refuses what HAProxy would.
    t.keys(&["w", "300", "Enter"]);
    t.wait("the weight refused", |s| s.contains("weight must be 0-256"));
    t.keys(&["BSpace", "BSpace", "BSpace", "5", "Enter"]);
    t.wait("the confirmation", |s| {
        s.contains("set weight 5 be_static/s1 on every process (3)?")
    });
    // One process goes away before the write: the failure is shown, and
    // what the others did stands (a batch is not a transaction).
    f.kill(2);
    t.keys(&["y"]);
    let screen = t.wait("the failure", |s| {
        s.contains("FAILED: set weight 5 be_static/s1")
    });
    assert!(!screen.contains("done:"), "{screen}");
    for i in &f.instances()[..2] {
        assert_eq!(stat(i, "be_static", "s1", "weight"), "5", "{}", i.pid);
    }
    t.keys(&["q"]);
    t.wait("top to exit", |s| s.contains("TOP-EXITED=0"));
}

#[test]
fn top_fits_sixty_columns() {
    let f = fleet();
    let t = Tmux::start(f.dir(), 60, 24, &top_command(&f, ""));
    let fits = |s: &str| s.lines().all(|l| l.chars().count() <= 60);
    for (key, header, row) in [
        ("v", " SERVER", "be_static/s2"),
        ("f", " FRONTEND", "fe_http"),
        ("b", " BACKEND", "be_static"),
        ("v", " SERVER", "be_static/s2"),
    ] {
        t.keys(&[key]);
        let screen = t.wait(row, |s| s.contains(row) && s.contains("3 process(es)"));
        assert!(fits(&screen), "a line wrapped:\n{screen}");
        let head = screen
            .lines()
            .find(|l| l.starts_with(header))
            .unwrap_or_else(|| panic!("no header row {header:?}:\n{screen}"));
        assert!(head.contains("STATUS"), "header cut: {head:?}");
    }
    // The dialogs fit too.
    t.keys(&["/", "static/s2", "Enter", "d"]);
    let screen = t.wait("the confirmation", |s| s.contains("Confirm"));
    assert!(fits(&screen), "a line wrapped:\n{screen}");
    t.keys(&["n", "?"]);
    let screen = t.wait("the help", |s| s.contains("Keys"));
    assert!(fits(&screen), "a line wrapped:\n{screen}");
    t.keys(&["Escape", "q"]);
    t.wait("top to exit", |s| s.contains("TOP-EXITED=0"));
}

#[test]
fn top_stays_responsive_while_a_process_is_frozen() {
    let f = fleet();
    // A long timeout: a fetch stuck on the frozen process lasts 20 s.
    let t = Tmux::start(f.dir(), 100, 30, &top_command(&f, "--timeout 20"));
    t.wait("the servers of the fleet", shows_fleet);
    let pid = t.program_pid();
    let frozen = f.instances()[2].pid;
    haproxy_e2e::signal(frozen, "STOP");
    let thaw = Thaw(frozen);
    t.wait("the stuck fetch", |s| s.contains("[fetching for"));
    // Still one fetch, one worker: no thread nor descriptor per frame.
    let tasks = format!("/proc/{pid}/task");
    let fds = format!("/proc/{pid}/fd");
    let (t0, f0) = (count_entries(&tasks), count_entries(&fds));
    t.wait("a few more seconds of the stuck fetch", |s| {
        stuck_for(s).is_some_and(|n| n >= 3)
    });
    let (t1, f1) = (count_entries(&tasks), count_entries(&fds));
    assert!(
        t1 <= t0 && f1 <= f0,
        "threads {t0} -> {t1}, fds {f0} -> {f1}"
    );
    // Keys still work while the fetch is stuck.
    t.keys(&["f"]);
    t.wait("the frontends view", |s| s.contains("fe_http"));
    let asked = Instant::now();
    t.keys(&["q"]);
    t.wait("top to exit", |s| s.contains("TOP-EXITED=0"));
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "q waited for the stuck fetch: {:?}",
        asked.elapsed()
    );
    assert_eq!(t.display("#{alternate_on}"), "0");
    drop(thaw);
}

/// N in `[fetching for Ns]` on the top line.
fn stuck_for(screen: &str) -> Option<u64> {
    let rest = screen.split("[fetching for ").nth(1)?;
    rest.split('s').next()?.parse().ok()
}

/// Continues a stopped process on drop (so the fleet can stop it).
struct Thaw(u32);

impl Drop for Thaw {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-CONT")
            .arg(self.0.to_string())
            .status();
    }
}

#[test]
fn top_with_format_is_a_usage_error() {
    for args in [
        &["--format", "json", "top"][..],
        &["top", "--format", "csv"][..],
    ] {
        let o = Command::new(cli())
            .args(args)
            .args(["--socket-dir", "/nonexistent"])
            .output()
            .expect("run haproxy-cli");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--format does not apply to `top`"), "{err}");
    }
}

#[test]
fn watch_redraws_in_place_on_a_terminal() {
    let f = fleet();
    let command = format!(
        "{} --socket-dir {} server list --backend be_static --watch 0.2",
        cli().display(),
        f.socket_dir().display()
    );
    // 60 columns: the listing is wider, its lines are cut, none wraps.
    let t = Tmux::start(f.dir(), 60, 14, &command);
    t.wait("the listing", |s| {
        s.contains("changes:") && s.contains("be_static")
    });
    f.instances()[0].raw("set weight be_static/s2 4");
    let screen = t.wait("the change under the listing", |s| {
        s.contains("be_static/s2 weight 20 -> {4|20|20}")
    });
    // Redrawn in place: one header, one listing, however many refreshes.
    assert_eq!(
        screen.matches("every 200ms: server list").count(),
        1,
        "{screen}"
    );
    assert_eq!(screen.matches("changes:").count(), 1, "{screen}");
    assert!(
        screen.lines().all(|l| l.chars().count() <= 60),
        "a line wrapped:\n{screen}"
    );
    t.keys(&["C-c"]);
    t.wait("the watch to exit", |s| s.contains("TOP-EXITED=0"));
}
