//! From a [`Snapshot`] to the rows `top` shows: each object's cells as
//! text, its disagreements, and — for an object on which the processes
//! disagree — the view's columns process by process.

use super::app::{Data, Row, View};
use haproxy_admin::{Combined, ObjectKind, Snapshot, StatObject, Value};

/// The rows of every view and the summary line.
pub(crate) fn from_snapshot(snap: &Snapshot) -> Data {
    let metric = |n: &str| {
        snap.metric(n)
            .map_or_else(|_| "-".to_owned(), |v| v.to_string())
    };
    let processes = snap.process_ids().len();
    let summary = format!(
        "{processes} process(es), HAProxy {}, up {}s, conns {} ({}/s)",
        metric("Version"),
        // The youngest process's (each process has its own).
        snap.uptime_sec()
            .map_or_else(|_| "-".to_owned(), |v| v.to_string()),
        metric("CurrConns"),
        metric("ConnRate"),
    );
    let failures = snap.failures().iter().map(|f| f.to_string()).collect();
    let tables = View::ALL.map(|view| rows(snap, view));
    Data {
        summary,
        failures,
        tables,
        processes,
    }
}

fn rows(snap: &Snapshot, view: View) -> Vec<Row> {
    let kind = match view {
        View::Frontends => ObjectKind::Frontend,
        View::Backends => ObjectKind::Backend,
        View::Servers => ObjectKind::Server,
    };
    snap.stat_objects(kind)
        .iter()
        .map(|o| {
            let name = match view {
                View::Servers => format!("{}/{}", o.proxy(), o.name()),
                _ => o.proxy().to_owned(),
            };
            let mut cells = vec![name];
            cells.extend(view.columns().iter().map(|c| text(o, c)));
            let disagreements: Vec<(String, Vec<(String, String)>)> = o
                .disagreements()
                .map(|(col, v)| {
                    let values = match v {
                        Combined::Disagreement { values } => values
                            .iter()
                            .map(|(p, v)| (p.to_string(), value_text(v.as_ref())))
                            .collect(),
                        Combined::Value(v) => vec![("all".to_owned(), v.to_string())],
                    };
                    (col.to_owned(), values)
                })
                .collect();
            let per_process = if disagreements.is_empty() {
                Vec::new()
            } else {
                per_process(snap, view, o)
            };
            Row {
                proxy: o.proxy().to_owned(),
                name: o.name().to_owned(),
                cells,
                disagreements,
                per_process,
            }
        })
        .collect()
}

/// The view's columns of `o` in each process that has it.
fn per_process(snap: &Snapshot, view: View, o: &StatObject) -> Vec<(String, Vec<String>)> {
    let stats = match view {
        View::Frontends => snap.frontend(o.proxy()).map(|f| f.stats_per_process()),
        View::Backends => snap.backend(o.proxy()).map(|b| b.stats_per_process()),
        View::Servers => snap
            .backend(o.proxy())
            .and_then(|b| b.server(o.name()))
            .map(|s| s.stats_per_process()),
    };
    stats
        .unwrap_or_default()
        .iter()
        .map(|(p, so)| {
            let cells = view.columns().iter().map(|c| text(so, c)).collect();
            (p.to_string(), cells)
        })
        .collect()
}

fn value_text(v: Option<&Value>) -> String {
    v.map_or_else(|| "-".to_owned(), Value::to_string)
}

/// A cell: the combined value, `-` when empty, every process's value
/// (`{UP|DRAIN|UP}`) when they disagree.
fn text(o: &StatObject, c: &str) -> String {
    crate::output::cell_or(o.get(c), "-")
}
