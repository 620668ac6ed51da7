//! `--watch DURATION` for `frontend list`, `backend list` and `server
//! list`: the listing, then every DURATION what changed (status, weight,
//! check status; objects added or removed), each change on its own line
//! with a UTC time stamp. On a terminal the listing is redrawn in place
//! with the latest changes under it; elsewhere the first listing is
//! printed, then only the change lines (JSON lines with `--format json`
//! or `jsonl`). The listing is written by the same writer as without
//! `--watch` ([`sets::listing`]), so the selection, `--sort`,
//! `--columns`, `-o wide`, `--no-header` and `--format jsonl` hold; the
//! selection also chooses the objects whose changes are printed.
//!
//! Every wait is bounded: a refresh by the connection timeouts, the pause
//! between refreshes by DURATION. SIGINT (Ctrl-C) and SIGTERM end the
//! watch cleanly after the refresh in progress (a second one ends it at
//! once).

use crate::args::Format;
use crate::args::ListArgs;
use crate::sets;
use crate::{complete_snapshot, Failure};
use haproxy_admin::{HAProxy, ObjectKind, Snapshot, StatObject};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

type Result<T = ()> = std::result::Result<T, Failure>;

/// The fields whose changes are reported.
const FIELDS: [&str; 3] = ["status", "weight", "check_status"];

/// How many change lines a terminal keeps under the listing at most.
const KEEP: usize = 200;

/// One object's watched fields, as text (`-` when empty).
type Fields = [String; 3];

/// What changed between two refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// A watched field of `object` went from one value to another.
    Field {
        object: String,
        field: &'static str,
        old: String,
        new: String,
    },
    /// The object appeared.
    Added { object: String },
    /// The object is gone.
    Removed { object: String },
}

/// Validates `--watch`: a positive, finite duration.
pub(crate) fn interval(secs: f64) -> Result<Duration> {
    if secs.is_finite() && secs > 0.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(Failure::Usage(format!(
            "--watch must be a positive number of seconds, not {secs}"
        )))
    }
}

/// Runs the watch until SIGINT or SIGTERM, from `first`, the snapshot of
/// the first listing.
///
/// The first listing must be complete (every process answered), as
/// without `--watch`; a later refresh that fails is reported on stderr
/// with its time, the watch goes on, and the exit status says so.
/// `extra` is a selection of the caller's (`server list --backend`) on
/// top of the listing flags `l`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    out: &mut impl Write,
    format: Format,
    hap: &HAProxy,
    kind: ObjectKind,
    l: &ListArgs,
    every: Duration,
    first: Snapshot,
    extra: impl Fn(&StatObject) -> bool,
) -> Result {
    let sel = sets::selection(&l.patterns, &l.filters)?;
    let keep = |o: &StatObject| extra(o) && sel.matches(o);
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The first signal sets the flag; a second, with the flag set,
        // exits at once (status 130).
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))?;
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let tty = std::io::stdout().is_terminal();
    let what = match kind {
        ObjectKind::Frontend => "frontend list",
        ObjectKind::Backend => "backend list",
        _ => "server list",
    };
    let listing =
        |out: &mut Vec<u8>, snap: &Snapshot| sets::listing(out, format, kind, snap, l, &extra);
    let mut last = fields(&first, kind, &keep);
    let mut changes: Vec<String> = Vec::new();
    if tty {
        redraw(out, &first, listing, what, every, &changes)?;
    } else {
        sets::listing(out, format, kind, &first, l, &extra)?;
        out.flush()?;
    }
    drop(first);
    let mut failed = 0usize;
    loop {
        if pause(every, &stop) {
            break;
        }
        let stamp = timestamp(SystemTime::now());
        let snap = match complete_snapshot(hap) {
            Ok(s) => s,
            Err(e) => {
                failed += 1;
                let e = match e {
                    Failure::Admin(e) => e.to_string(),
                    Failure::BrokenPipe => return Err(Failure::BrokenPipe),
                    Failure::Io(m)
                    | Failure::Usage(m)
                    | Failure::WaitTimeout(m)
                    | Failure::Checked(m) => m,
                };
                haproxy_cli::note!("{stamp} refresh failed: {}", e.trim());
                continue;
            }
        };
        let now = fields(&snap, kind, &keep);
        let found = diff(&last, &now);
        last = now;
        let lines: Vec<String> = found.iter().map(|c| line(&stamp, c, format)).collect();
        if tty {
            changes.extend(lines);
            let drop = changes.len().saturating_sub(KEEP);
            changes.drain(..drop);
            redraw(out, &snap, listing, what, every, &changes)?;
        } else {
            for l in &lines {
                writeln!(out, "{l}")?;
            }
            out.flush()?;
        }
    }
    out.flush()?;
    if failed > 0 {
        return Err(Failure::Io(format!(
            "{failed} refresh(es) of the watch failed (see above)"
        )));
    }
    Ok(())
}

/// Sleeps `every`, in short steps so a signal is seen at once; whether
/// the watch must stop.
fn pause(every: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + every;
    loop {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// The listing and the latest changes, drawn over the previous ones:
/// cursor home, screen cleared, then a frame that fits the terminal (see
/// [`fit_frame`]), so nothing scrolls and the next frame lands in place.
/// `write_listing` writes the listing as without `--watch`.
fn redraw(
    out: &mut impl Write,
    snap: &Snapshot,
    write_listing: impl Fn(&mut Vec<u8>, &Snapshot) -> Result,
    what: &str,
    every: Duration,
    changes: &[String],
) -> Result {
    let mut listing = Vec::new();
    write_listing(&mut listing, snap)?;
    let listing = String::from_utf8_lossy(&listing);
    let (width, rows) = ratatui::crossterm::terminal::size()
        .map_or((80, 24), |(w, r)| (usize::from(w), usize::from(r)));
    let title = format!(
        "every {every:?}: {what}, {} (Ctrl-C to stop)",
        timestamp(SystemTime::now())
    );
    let lines = fit_frame(&title, &listing, changes, width, rows);
    let mut frame = String::from("\x1b[H\x1b[2J");
    frame.push_str(&lines.join("\n"));
    out.write_all(frame.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The lines of one frame for a `width`×`rows` terminal: the title, the
/// listing, a blank line, `changes:` and the latest changes, at most
/// `rows - 1` lines (the last row stays free so the terminal never
/// scrolls) each cut to `width` characters (so none wraps). The changes
/// keep at least 3 rows (or as many as there are); a listing that does
/// not fit ends with a line saying how many rows are not shown.
pub(crate) fn fit_frame(
    title: &str,
    listing: &str,
    changes: &[String],
    width: usize,
    rows: usize,
) -> Vec<String> {
    let budget = rows.saturating_sub(1).max(1);
    let listing: Vec<&str> = listing.lines().collect();
    let fixed = 3; // title, blank, "changes:"
    let change_rows = changes
        .len()
        .min(3.max(budget.saturating_sub(listing.len() + fixed)));
    let listing_rows = listing
        .len()
        .min(budget.saturating_sub(fixed + change_rows));
    let mut out = vec![title.to_owned()];
    if listing_rows < listing.len() {
        let shown = listing_rows.saturating_sub(1);
        out.extend(listing[..shown].iter().map(|l| (*l).to_owned()));
        out.push(format!(
            "... {} more rows (the whole listing: without --watch)",
            listing.len() - shown
        ));
    } else {
        out.extend(listing.iter().map(|l| (*l).to_owned()));
    }
    out.push(String::new());
    out.push("changes:".to_owned());
    out.extend(changes[changes.len() - change_rows..].iter().cloned());
    out.truncate(budget);
    out.into_iter()
        .map(|l| {
            if l.chars().count() > width {
                l.chars().take(width).collect()
            } else {
                l
            }
        })
        .collect()
}

/// The watched fields of every listed object, in listing order.
fn fields(
    snap: &Snapshot,
    kind: ObjectKind,
    keep: &impl Fn(&StatObject) -> bool,
) -> Vec<(String, Fields)> {
    snap.stat_objects(kind)
        .iter()
        .filter(|o| keep(o))
        .map(|o| {
            let name = match kind {
                ObjectKind::Server | ObjectKind::Listener => format!("{}/{}", o.proxy(), o.name()),
                _ => o.proxy().to_owned(),
            };
            (name, FIELDS.map(|f| crate::output::cell_or(o.get(f), "-")))
        })
        .collect()
}

/// What changed from `old` to `new`: fields in object order, then the
/// objects that are gone.
pub(crate) fn diff(old: &[(String, Fields)], new: &[(String, Fields)]) -> Vec<Change> {
    let before: HashMap<&str, &Fields> = old.iter().map(|(n, f)| (n.as_str(), f)).collect();
    let after: HashMap<&str, &Fields> = new.iter().map(|(n, f)| (n.as_str(), f)).collect();
    let mut out = Vec::new();
    for (name, now) in new {
        match before.get(name.as_str()) {
            None => out.push(Change::Added {
                object: name.clone(),
            }),
            Some(was) => {
                for (i, field) in FIELDS.iter().enumerate() {
                    if was[i] != now[i] {
                        out.push(Change::Field {
                            object: name.clone(),
                            field,
                            old: was[i].clone(),
                            new: now[i].clone(),
                        });
                    }
                }
            }
        }
    }
    for (name, _) in old {
        if !after.contains_key(name.as_str()) {
            out.push(Change::Removed {
                object: name.clone(),
            });
        }
    }
    out
}

/// One change as a line: text, or a JSON object with `--format json` or
/// `jsonl`.
fn line(stamp: &str, c: &Change, format: Format) -> String {
    if matches!(format, Format::Json | Format::Jsonl) {
        let v = match c {
            Change::Field {
                object,
                field,
                old,
                new,
            } => serde_json::json!({
                "time": stamp, "object": object, "change": field, "old": old, "new": new
            }),
            Change::Added { object } => {
                serde_json::json!({"time": stamp, "object": object, "change": "added"})
            }
            Change::Removed { object } => {
                serde_json::json!({"time": stamp, "object": object, "change": "removed"})
            }
        };
        return v.to_string();
    }
    match c {
        Change::Field {
            object,
            field,
            old,
            new,
        } => format!("{stamp} {object} {field} {old} -> {new}"),
        Change::Added { object } => format!("{stamp} {object} added"),
        Change::Removed { object } => format!("{stamp} {object} removed"),
    }
}

/// `2026-11-30T08:10:02Z` (UTC, to the second).
pub(crate) fn timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str, status: &str, weight: &str, check: &str) -> (String, Fields) {
        (
            name.to_owned(),
            [status.to_owned(), weight.to_owned(), check.to_owned()],
        )
    }

    #[test]
    fn changes_of_status_weight_check_and_objects() {
        let old = vec![
            obj("be/a", "UP", "1", "L7OK"),
            obj("be/b", "UP", "10", "-"),
            obj("be/c", "UP", "1", "-"),
        ];
        let new = vec![
            obj("be/a", "DOWN", "1", "L4CON"),
            obj("be/b", "UP", "5", "-"),
            obj("be/d", "MAINT", "1", "-"),
        ];
        let c = diff(&old, &new);
        assert_eq!(
            c,
            vec![
                Change::Field {
                    object: "be/a".into(),
                    field: "status",
                    old: "UP".into(),
                    new: "DOWN".into()
                },
                Change::Field {
                    object: "be/a".into(),
                    field: "check_status",
                    old: "L7OK".into(),
                    new: "L4CON".into()
                },
                Change::Field {
                    object: "be/b".into(),
                    field: "weight",
                    old: "10".into(),
                    new: "5".into()
                },
                Change::Added {
                    object: "be/d".into()
                },
                Change::Removed {
                    object: "be/c".into()
                },
            ]
        );
        assert!(diff(&new, &new).is_empty());
        let t = "2026-01-02T03:04:05Z";
        assert_eq!(
            line(t, &c[2], Format::Table),
            "2026-01-02T03:04:05Z be/b weight 10 -> 5"
        );
        assert_eq!(
            line(t, &c[2], Format::Json),
            r#"{"change":"weight","new":"5","object":"be/b","old":"10","time":"2026-01-02T03:04:05Z"}"#
        );
        assert_eq!(
            line(t, &c[2], Format::Jsonl),
            line(t, &c[2], Format::Json),
            "JSON lines with --format jsonl too"
        );
        assert_eq!(line(t, &c[3], Format::Table), format!("{t} be/d added"));
    }

    #[test]
    fn frames_fit_the_terminal() {
        let listing: String = (0..30)
            .map(|i| format!("row {i} {}\n", "x".repeat(90)))
            .collect();
        let changes: Vec<String> = (0..10).map(|i| format!("change {i}")).collect();
        let f = fit_frame("title", &listing, &changes, 60, 24);
        assert_eq!(f.len(), 23, "the last row stays free: {f:#?}");
        assert!(f.iter().all(|l| l.chars().count() <= 60), "{f:#?}");
        assert_eq!(f[0], "title");
        // title + 16 listing rows + "more" + blank + "changes:" + the
        // last 3 changes: the listing gives way, the changes keep 3 rows.
        let more = f
            .iter()
            .position(|l| l.starts_with("... "))
            .expect("a more line");
        assert_eq!(
            f[more],
            "... 14 more rows (the whole listing: without --watch)"
        );
        assert_eq!(f[more + 2], "changes:");
        assert_eq!(&f[more + 3..], ["change 7", "change 8", "change 9"]);
        // A short listing leaves the room to the changes.
        let f = fit_frame("title", "a\nb\n", &changes, 60, 24);
        assert_eq!(f.len(), 15);
        assert_eq!(f[5], "change 0");
        // No changes yet.
        let f = fit_frame("title", "a\nb\n", &[], 60, 24);
        assert_eq!(f, ["title", "a", "b", "", "changes:"]);
    }

    #[test]
    fn timestamps_are_utc_civil_dates() {
        let at = |s: u64| timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn intervals_must_be_positive() {
        assert_eq!(interval(0.5).ok(), Some(Duration::from_millis(500)));

        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(interval(bad), Err(Failure::Usage(_))), "{bad}");
        }
    }
}
