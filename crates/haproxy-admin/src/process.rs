//! Process identity: which HAProxy process an endpoint reaches.
//!
//! Two sockets of one process (an admin and an operator socket, a UNIX and
//! a TCP socket, a master-CLI selector and the worker's own socket) reach
//! the same process; counting it twice doubles every sum. A process is
//! identified by its `show info`: `Pid`, `node` (PIDs clash across hosts)
//! and its start time (`Start_time_sec` from 2.5, otherwise now minus
//! `Uptime_sec`, compared with a tolerance).

use haproxy_proto::info::Info;
use haproxy_transport::Endpoint;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Start times computed from `Uptime_sec` may differ by this much between
/// two reads of one process.
const START_TOLERANCE_SECS: u64 = 2;

/// Who a process is: its PID, node name and start time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessId {
    /// The system PID (`Pid`).
    pub pid: u32,
    /// The node name (`node`), where HAProxy printed one.
    pub node: Option<String>,
    /// When the process started, in seconds since the Unix epoch
    /// (`Start_time_sec`, or now minus `Uptime_sec`).
    pub started: Option<u64>,
}

impl ProcessId {
    /// A process id from its parts.
    pub fn new(pid: u32, node: Option<String>, started: Option<u64>) -> ProcessId {
        ProcessId { pid, node, started }
    }

    /// The identity `show info` states, or `None` when it has no usable
    /// `Pid`.
    pub fn from_info(info: &Info<'_>) -> Option<ProcessId> {
        ProcessId::of(
            info.pid().ok()??,
            info.node(),
            info.start_time_sec().ok().flatten(),
            info.uptime_sec().ok().flatten(),
        )
    }

    /// As [`ProcessId::from_info`], from the owned form a snapshot keeps.
    pub(crate) fn from_owned(info: &haproxy_proto::info::InfoOwned) -> Option<ProcessId> {
        let number = |f: &str| info.get(f).and_then(|v| v.trim().parse().ok());
        ProcessId::of(
            number("Pid")?,
            info.get("node"),
            number("Start_time_sec"),
            number("Uptime_sec"),
        )
    }

    fn of(
        pid: u64,
        node: Option<&str>,
        start: Option<u64>,
        uptime: Option<u64>,
    ) -> Option<ProcessId> {
        let pid = u32::try_from(pid).ok()?;
        let node = node.filter(|n| !n.is_empty()).map(str::to_owned);
        let started = start.or_else(|| Some(now_secs()?.saturating_sub(uptime?)));
        Some(ProcessId { pid, node, started })
    }

    /// Whether `self` and `other` name the same process: same PID and
    /// node, start times equal within a small tolerance (or unknown).
    pub fn same_process(&self, other: &ProcessId) -> bool {
        self.pid == other.pid
            && self.node == other.node
            && match (self.started, other.started) {
                (Some(a), Some(b)) => a.abs_diff(b) <= START_TOLERANCE_SECS,
                _ => true,
            }
    }
}

fn now_secs() -> Option<u64> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if let Some(node) = &self.node {
            write!(f, " on {node}")?;
        }
        Ok(())
    }
}

/// One HAProxy process of the set: who it is, the endpoint used to talk
/// to it, and other endpoints found to reach the same process.
#[derive(Debug, Clone)]
pub struct Process {
    pub(crate) id: ProcessId,
    pub(crate) endpoint: Endpoint,
    pub(crate) alternates: Vec<Endpoint>,
    pub(crate) version: Option<String>,
    pub(crate) old: bool,
    /// Whether `id.started` is HAProxy's own `Start_time_sec` (exact),
    /// not computed from `Uptime_sec` at probe time.
    pub(crate) exact_start: bool,
}

impl Process {
    /// Who the process is.
    pub fn id(&self) -> &ProcessId {
        &self.id
    }

    /// The endpoint commands are sent to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Other endpoints that reach the same process (kept, not used twice).
    pub fn alternates(&self) -> &[Endpoint] {
        &self.alternates
    }

    /// The HAProxy version the process reported (`Version`).
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Whether the process is an old worker still draining after a reload
    /// (master-worker mode only).
    pub fn is_old(&self) -> bool {
        self.old
    }
}

/// The rank of a socket's `show cli level` reply: admin above operator
/// above user above anything else (an error, an HAProxy too old to say).
fn level_rank(reply: &str) -> u8 {
    match reply.trim() {
        "admin" => 3,
        "operator" => 2,
        "user" => 1,
        _ => 0,
    }
}

/// The sockets to ask `show cli level`: `(process, socket, endpoint)`
/// for every process reached by several sockets (socket 0: the one in
/// use, then the alternates).
pub(crate) fn level_asks(processes: &[Process]) -> Vec<(usize, usize, Endpoint)> {
    processes
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.alternates.is_empty())
        .flat_map(|(i, p)| {
            std::iter::once(&p.endpoint)
                .chain(&p.alternates)
                .enumerate()
                .map(move |(j, e)| (i, j, e.clone()))
        })
        .collect()
}

/// Makes each process's highest-level socket its endpoint, from the
/// replies to [`level_asks`] (in its order).
pub(crate) fn apply_levels<E>(
    processes: &mut [Process],
    asks: &[(usize, usize, Endpoint)],
    replies: Vec<Result<String, E>>,
) {
    let mut best: Vec<Option<(u8, usize)>> = vec![None; processes.len()];
    for ((i, j, _), r) in asks.iter().zip(replies) {
        let rank = r.map_or(0, |reply| level_rank(&reply));
        if best[*i].map_or(true, |(b, _)| rank > b) {
            best[*i] = Some((rank, *j));
        }
    }
    for (p, b) in processes.iter_mut().zip(best) {
        if let Some((_, j)) = b.filter(|&(_, j)| j > 0) {
            std::mem::swap(&mut p.endpoint, &mut p.alternates[j - 1]);
        }
    }
}

/// Whether two probed processes are one: [`ProcessId::same_process`], and
/// more where `show info` says more — two processes with the same PID and
/// node (containers) are told apart by an exact start time (2.5+:
/// `Start_time_sec`, to the second, no tolerance) and by their version.
fn one_process(a: &Process, b: &Process) -> bool {
    a.id.same_process(&b.id)
        && (!(a.exact_start && b.exact_start) || a.id.started == b.id.started)
        && match (&a.version, &b.version) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

/// Adds `candidate` to `set` unless a process of `set` is the same process,
/// in which case its endpoint becomes an alternate of that process.
pub(crate) fn add_unique(set: &mut Vec<Process>, candidate: Process) {
    match set.iter_mut().find(|p| one_process(p, &candidate)) {
        Some(existing) => {
            existing.alternates.push(candidate.endpoint);
            existing.alternates.extend(candidate.alternates);
        }
        None => set.push(candidate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_comes_from_show_info() {
        let cases: &[(&str, Option<ProcessId>)] = &[
            (
                "Name: HAProxy\nPid: 42\nnode: lb1\nStart_time_sec: 1000\nUptime_sec: 5\n",
                Some(ProcessId::new(42, Some("lb1".into()), Some(1000))),
            ),
            (
                "Name: HAProxy\nPid: 7\nnode: \nStart_time_sec: 9\n",
                Some(ProcessId::new(7, None, Some(9))),
            ),
            ("Name: HAProxy\nnode: lb1\n", None),
            ("Name: HAProxy\nPid: x\n", None),
        ];
        for (text, want) in cases {
            let info = haproxy_proto::info::parse_info(text).expect("valid show info");
            assert_eq!(&ProcessId::from_info(&info), want, "{text:?}");
        }
    }

    #[test]
    fn same_process_needs_pid_node_and_close_start() {
        let a = ProcessId::new(1, Some("n".into()), Some(100));
        let cases = [
            (ProcessId::new(1, Some("n".into()), Some(100)), true),
            (ProcessId::new(1, Some("n".into()), Some(102)), true),
            (ProcessId::new(1, Some("n".into()), Some(103)), false),
            (ProcessId::new(1, Some("m".into()), Some(100)), false),
            (ProcessId::new(2, Some("n".into()), Some(100)), false),
            (ProcessId::new(1, Some("n".into()), None), true),
        ];
        for (b, want) in cases {
            assert_eq!(a.same_process(&b), want, "{b:?}");
        }
    }

    #[test]
    fn same_pid_and_node_are_told_apart_by_exact_start_and_version() {
        let p = |started: u64, exact: bool, version: &str| Process {
            id: ProcessId::new(1, Some("box".into()), Some(started)),
            endpoint: Endpoint::unix(format!("/s{started}{exact}{version}")),
            alternates: Vec::new(),
            version: Some(version.into()),
            old: false,
            exact_start: exact,
        };
        let cases = [
            (p(100, true, "2.6"), p(100, true, "2.6"), true),
            // Two containers' PID 1, started a second apart.
            (p(100, true, "2.6"), p(101, true, "2.6"), false),
            // From Uptime_sec: a second apart may be one process read twice.
            (p(100, false, "2.6"), p(101, false, "2.6"), true),
            (p(100, true, "2.6"), p(101, false, "2.6"), true),
            (p(100, true, "2.6"), p(100, true, "3.0"), false),
        ];
        for (a, b, want) in cases {
            assert_eq!(one_process(&a, &b), want, "{a:?} / {b:?}");
            let mut set = vec![a];
            add_unique(&mut set, b);
            assert_eq!(set.len(), if want { 1 } else { 2 });
        }
    }

    #[test]
    fn levels_rank_admin_first() {
        let cases = [
            ("admin\n\n", 3),
            ("operator\n", 2),
            ("user\n\n", 1),
            ("Unknown command\n", 0),
            ("", 0),
        ];
        for (reply, want) in cases {
            assert_eq!(level_rank(reply), want, "{reply:?}");
        }
    }
}
