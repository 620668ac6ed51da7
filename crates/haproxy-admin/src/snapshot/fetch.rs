//! Fetching a snapshot: one `show info` and one `show stat` per process,
//! concurrently, parsed in the fetch threads — or replies fetched by any
//! other means — and the results (failures kept) made into a [`Snapshot`].

use super::model::{ProcSnap, Snapshot};
use crate::error::ProcessFailure;
use crate::haproxy::{HAProxy, Shared};
use crate::process::{Process, ProcessId};
use crate::table::ProcTable;
use crate::{Error, Result};
use haproxy_proto::info::{parse_info, InfoOwned};
use haproxy_proto::stat::TableMemory;
use std::sync::Arc;

/// What one process answered, parsed.
pub(crate) struct Fetched {
    pub(super) info: InfoOwned,
    pub(super) table: ProcTable,
}

/// Parses one process's `show info` and `show stat` replies, however they
/// were fetched (blocking, async, read from files); `endpoint` names the
/// source in a parse error.
pub(crate) fn parse_replies(endpoint: &str, info_text: &str, stat_text: String) -> Result<Fetched> {
    parse_replies_into(endpoint, info_text, stat_text, TableMemory::default())
}

/// [`parse_replies`], the table parsed into `memory` (a dropped table's).
pub(crate) fn parse_replies_into(
    endpoint: &str,
    info_text: &str,
    stat_text: String,
    memory: TableMemory,
) -> Result<Fetched> {
    let parse_err = |command: &str, source| Error::Parse {
        endpoint: endpoint.to_owned(),
        command: command.to_owned(),
        source: Box::new(source),
    };
    let info = parse_info(info_text)
        .map_err(|e| parse_err("show info", e))?
        .into_owned();
    let table =
        ProcTable::parse_reusing(stat_text, memory).map_err(|e| parse_err("show stat", e))?;
    Ok(Fetched { info, table })
}

fn fetch_one(shared: &Shared, p: &Process) -> Result<Fetched> {
    // The dump first, into a dropped snapshot's memory if there is one:
    // every process starts its dump at once, as a raw concurrent fetch
    // would, rather than after a `show info` that waits its turn on a
    // machine already busy with the others' dumps.
    let mut memory = shared.spare.take();
    let stat_text = shared
        .settings
        .csv_dump(&p.endpoint, "show stat", memory.take_input())?;
    let info_text = shared.settings.command(&p.endpoint, "show info")?;
    parse_replies_into(&p.endpoint.to_string(), &info_text, stat_text, memory)
}

impl HAProxy {
    /// Fetches `show info` and `show stat` from every process, concurrently.
    ///
    /// A snapshot dropped leaves the memory of its replies and parsed
    /// tables (at most one per process) to the next snapshot of this
    /// handle and its clones, which reads and parses into it: snapshot
    /// after snapshot of a large fleet then costs no fresh memory.
    ///
    /// # Errors
    ///
    /// [`Error::Partial`] when a process failed (the single process's
    /// error for a set of one). With [`Builder::allow_partial`](crate::Builder::allow_partial), only
    /// when every process failed: a process that failed is then listed
    /// in [`Snapshot::failures`], the others' data is kept, and
    /// [`Snapshot::missing`] says what the snapshot lacks.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Snapshot::fetch(Arc::clone(&self.shared), self.shared.settings.allow_partial)
    }

    /// Like [`HAProxy::snapshot`] with best effort whatever the builder
    /// said: for live views (`top`) that show a failed process as such
    /// rather than stop.
    ///
    /// # Errors
    ///
    /// [`Error::Partial`] when every process failed.
    pub fn snapshot_partial(&self) -> Result<Snapshot> {
        Snapshot::fetch(Arc::clone(&self.shared), true)
    }
}

impl Snapshot {
    /// Fetches every process; a failure is an error unless
    /// `allow_partial`, and then only when every process failed.
    pub(crate) fn fetch(shared: Arc<Shared>, allow_partial: bool) -> Result<Snapshot> {
        let results: Vec<Result<Fetched>> = crate::fanout::fan_out(
            &shared.processes,
            shared.processes.len(),
            "fetch",
            |p| p.endpoint.to_string(),
            |p| fetch_one(&shared, p),
        );
        Snapshot::from_results(shared, results, allow_partial)
    }

    /// A snapshot of `shared`'s processes from each one's fetch result
    /// (in process order), however fetched: a failure is an error unless
    /// `allow_partial`, and then only when every process failed.
    pub(crate) fn from_results(
        shared: Arc<Shared>,
        results: Vec<Result<Fetched>>,
        allow_partial: bool,
    ) -> Result<Snapshot> {
        let mut procs = Vec::new();
        let mut failures = Vec::new();
        for (i, (r, p)) in results.into_iter().zip(&shared.processes).enumerate() {
            match r {
                Ok(f) => procs.push(ProcSnap {
                    process: i,
                    info: f.info,
                    table: f.table,
                    col_map: Vec::new(),
                }),
                Err(e) => failures.push(ProcessFailure {
                    process: p.id.clone(),
                    endpoint: p.endpoint.to_string(),
                    error: Box::new(e),
                }),
            }
        }
        if !failures.is_empty() && (procs.is_empty() || !allow_partial) {
            if procs.is_empty() && failures.len() == 1 {
                if let Some(f) = failures.pop() {
                    return Err(*f.error);
                }
            }
            return Err(Error::Partial {
                command: "show info; show stat".to_owned(),
                succeeded: procs
                    .iter()
                    .map(|p| shared.processes[p.process].id.clone())
                    .collect(),
                failures,
            });
        }
        Ok(Snapshot::assemble(shared, procs, failures))
    }

    /// A snapshot from `show info` and `show stat` replies fetched by any
    /// means (an async client, HTTP stats pages' `;csv`, files), one
    /// `(endpoint, show info, show stat)` per process, aggregated exactly
    /// as [`crate::HAProxy::snapshot`] aggregates its own fetches.
    ///
    /// The endpoint names the process in errors and is where the views'
    /// writes ([`Server::set_weight`](crate::Server::set_weight)…) go, with default settings. A
    /// process is identified by its `show info` (`Pid`, `node`, start
    /// time); an empty `show info` (an HTTP stats page has none) gives
    /// PID 0, and [`Snapshot::metric`] then finds no field.
    ///
    /// ```
    /// use haproxy_admin::{Endpoint, Snapshot};
    /// let stat = "# pxname,svname,scur,status,\nbe,app1,3,UP,\nbe,BACKEND,3,UP,\n\n";
    /// let snap = Snapshot::from_replies([
    ///     (Endpoint::unix("/run/a.sock"), "Name: HAProxy\nPid: 10\n".to_owned(), stat.to_owned()),
    ///     (Endpoint::unix("/run/b.sock"), "Name: HAProxy\nPid: 11\n".to_owned(), stat.to_owned()),
    /// ])?;
    /// let app1 = snap.backend("be")?.server("app1")?;
    /// assert_eq!(app1.metric("scur")?.and_then(|v| v.as_u64()), Some(6));
    /// # Ok::<(), haproxy_admin::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NoEndpoints`] for no replies; [`Error::Parse`] naming the
    /// endpoint for a reply that does not parse (or [`Error::Partial`]
    /// when several processes are given).
    pub fn from_replies(
        replies: impl IntoIterator<Item = (haproxy_transport::Endpoint, String, String)>,
    ) -> Result<Snapshot> {
        let mut processes = Vec::new();
        let mut results = Vec::new();
        for (endpoint, info_text, stat_text) in replies {
            let result = parse_replies(&endpoint.to_string(), &info_text, stat_text);
            let info = parse_info(&info_text).ok();
            let id = info.as_ref().and_then(ProcessId::from_info);
            processes.push(Process {
                id: id.unwrap_or_else(|| ProcessId::new(0, None, None)),
                endpoint,
                alternates: Vec::new(),
                version: info.as_ref().and_then(|i| i.version()).map(str::to_owned),
                old: false,
                exact_start: info
                    .as_ref()
                    .is_some_and(|i| matches!(i.start_time_sec(), Ok(Some(_)))),
            });
            results.push(result);
        }
        if processes.is_empty() {
            return Err(Error::NoEndpoints);
        }
        let shared = Arc::new(Shared {
            processes,
            settings: crate::conn::Settings::default(),
            unreachable: Vec::new(),
            spare: Default::default(),
        });
        Snapshot::from_results(shared, results, false)
    }

    /// Takes a new snapshot of the same process set.
    ///
    /// # Errors
    ///
    /// As [`crate::HAProxy::snapshot`].
    pub fn refresh(&self) -> Result<Snapshot> {
        let allow_partial = self.shared.settings.allow_partial;
        Snapshot::fetch(Arc::clone(&self.shared), allow_partial)
    }
}

#[cfg(test)]
mod from_replies_tests {
    use super::*;
    use haproxy_transport::Endpoint;

    #[test]
    fn replies_fetched_elsewhere_aggregate_like_a_fetch() {
        let stat = "# pxname,svname,scur,status,\nbe,app1,3,UP,\nbe,BACKEND,3,UP,\n\n";
        let snap = Snapshot::from_replies([
            (
                Endpoint::unix("/a.sock"),
                "Name: HAProxy\nPid: 10\nMaxconn: 100\n".to_owned(),
                stat.to_owned(),
            ),
            (
                Endpoint::unix("/b.sock"),
                "Name: HAProxy\nPid: 11\nMaxconn: 50\n".to_owned(),
                stat.to_owned(),
            ),
        ])
        .expect("snapshot");
        assert_eq!(snap.process_ids(), [10, 11]);
        assert_eq!(snap.maxconn().expect("summed"), 150);
        let app1 = snap.backend("be").and_then(|b| b.server("app1"));
        let scur = app1.expect("app1").metric("scur").expect("scur");
        assert_eq!(scur.and_then(|v| v.as_u64()), Some(6));
        // An HTTP stats page has no `show info`: PID 0, no info fields.
        let page = Snapshot::from_replies([(Endpoint::unix("/c"), String::new(), stat.into())])
            .expect("page");
        assert_eq!(page.process_ids(), [0]);
        assert!(page.maxconn().is_err());
    }

    #[test]
    fn a_bad_reply_names_its_source() {
        let e = Snapshot::from_replies([(
            Endpoint::unix("/bad.sock"),
            "Name: HAProxy\nPid: 1\n".to_owned(),
            "not a stat reply".to_owned(),
        )]);
        match e {
            Err(Error::Parse {
                endpoint, command, ..
            }) => assert_eq!(
                (endpoint.as_str(), command.as_str()),
                ("/bad.sock", "show stat")
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Snapshot::from_replies(Vec::new()),
            Err(Error::NoEndpoints)
        ));
    }
}
