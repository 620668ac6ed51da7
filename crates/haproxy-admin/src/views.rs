//! Frontends, backends and servers: views over a [`Snapshot`] (no round
//! trip per property), how a snapshot hands them out, and their writes
//! (sent to every process that has the object).
//!
//! The writes (`Server::set_weight`, `Server::drain`, …) are blocking:
//! they talk to every process and wait for each reply. They compile in
//! async code too, where they would block the runtime's thread for as long
//! as the slowest process takes: there, build the write's [`Command`] and
//! run it with `AsyncHAProxy::run_having(&server.processes(), &command)`
//! (feature `tokio`; see its module), or call the blocking write inside
//! `tokio::task::spawn_blocking`.

use crate::aggregate::Combined;
use crate::haproxy::{run_on, PerProcess};
use crate::objects::{ObjectKind, StatObject};
use crate::snapshot::{ObjectEntry, Snapshot};
use crate::value::Value;
use crate::{Error, Health, Result, State};
use haproxy_proto::command::Command;
use haproxy_proto::value::{Addr, CheckStatus, Status};
use haproxy_proto::ArgError;
use serde::Serialize;

impl Snapshot {
    fn views<'s, T>(&'s self, kind: ObjectKind, make: impl Fn(&'s Snapshot, usize) -> T) -> Vec<T> {
        self.objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind == kind)
            .map(|(i, _)| make(self, i))
            .collect()
    }

    /// Every frontend.
    pub fn frontends(&self) -> Vec<Frontend<'_>> {
        self.views(ObjectKind::Frontend, Frontend::new)
    }

    /// The frontend `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if no process has it.
    pub fn frontend(&self, name: &str) -> Result<Frontend<'_>> {
        self.find(ObjectKind::Frontend, name, None)
            .map(|i| Frontend::new(self, i))
            .ok_or_else(|| Error::NotFound {
                kind: "frontend",
                name: name.to_owned(),
            })
    }

    /// Every backend.
    pub fn backends(&self) -> Vec<Backend<'_>> {
        self.views(ObjectKind::Backend, Backend::new)
    }

    /// The backend `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if no process has it.
    pub fn backend(&self, name: &str) -> Result<Backend<'_>> {
        self.find(ObjectKind::Backend, name, None)
            .map(|i| Backend::new(self, i))
            .ok_or_else(|| Error::NotFound {
                kind: "backend",
                name: name.to_owned(),
            })
    }

    /// Every server, or those of `backend`.
    pub fn servers(&self, backend: Option<&str>) -> Vec<Server<'_>> {
        self.objects
            .iter()
            .enumerate()
            .filter(|&(i, o)| {
                o.kind == ObjectKind::Server && backend.map_or(true, |b| self.proxy_of(i) == b)
            })
            .map(|(i, _)| Server::new(self, i))
            .collect()
    }

    /// The servers named `name` (one per backend that has such a server),
    /// or only the one of `backend`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if none exists.
    pub fn server(&self, name: &str, backend: Option<&str>) -> Result<Vec<Server<'_>>> {
        let found: Vec<Server<'_>> = self
            .objects
            .iter()
            .enumerate()
            .filter(|&(i, o)| {
                o.kind == ObjectKind::Server
                    && self.name_of(i) == name
                    && backend.map_or(true, |b| self.proxy_of(i) == b)
            })
            .map(|(i, _)| Server::new(self, i))
            .collect();
        if found.is_empty() {
            let name = match backend {
                Some(b) => format!("{b}/{name}"),
                None => name.to_owned(),
            };
            return Err(Error::NotFound {
                kind: "server",
                name,
            });
        }
        Ok(found)
    }

    fn find(&self, kind: ObjectKind, name: &str, proxy: Option<&str>) -> Option<usize> {
        self.objects.iter().enumerate().position(|(i, o)| {
            o.kind == kind
                && match kind {
                    ObjectKind::Server | ObjectKind::Listener => {
                        self.name_of(i) == name && proxy.map_or(true, |p| self.proxy_of(i) == p)
                    }
                    _ => self.proxy_of(i) == name,
                }
        })
    }
}

/// What every view shares: the snapshot and the object's index.
#[derive(Debug, Clone, Copy)]
struct View<'s> {
    snap: &'s Snapshot,
    obj: usize,
}

impl<'s> View<'s> {
    fn entry(&self) -> &'s ObjectEntry {
        self.snap.object(self.obj)
    }

    fn proxy(&self) -> &'s str {
        self.snap.proxy_of(self.obj)
    }

    fn name(&self) -> &'s str {
        self.snap.name_of(self.obj)
    }

    fn what(&self, field: &str) -> String {
        let kind = self.entry().kind;
        match kind {
            ObjectKind::Server | ObjectKind::Listener => {
                format!("{field} of {}/{}", self.proxy(), self.name())
            }
            _ => format!("{field} of {} {}", kind.label(), self.proxy()),
        }
    }

    fn field(&self, name: &str) -> Option<Combined<Value>> {
        let col = self.snap.column_index(name)?;
        self.snap.combined(self.obj, col, &mut Vec::new())
    }

    fn metric(&self, name: &str) -> Result<Option<Value>> {
        if self.snap.column_index(name).is_none() {
            return Err(Error::NoSuchField {
                kind: self.entry().kind.label(),
                name: name.to_owned(),
            });
        }
        self.field(name)
            .map(|c| c.into_value(self.what(name)))
            .transpose()
    }

    fn text(&self, name: &str) -> Result<Option<String>> {
        Ok(self.metric(name)?.map(|v| v.to_string()))
    }

    fn number(&self, name: &str) -> Result<Option<u64>> {
        Ok(self.metric(name)?.and_then(|v| v.as_u64()))
    }

    fn per_process(&self, name: &str) -> PerProcess<Option<Value>> {
        match self.snap.column_index(name) {
            Some(col) => self.snap.per_process(self.obj, col),
            None => Vec::new(),
        }
    }

    fn numbers_per_process(&self, name: &str) -> PerProcess<Option<u64>> {
        self.per_process(name)
            .into_iter()
            .map(|(p, v)| (p, v.and_then(|v| v.as_u64())))
            .collect()
    }

    fn stats(&self) -> StatObject {
        self.snap
            .stat_object(self.obj, &mut crate::snapshot::combine::Scratch::default())
    }

    fn stats_per_process(&self) -> PerProcess<StatObject> {
        self.snap
            .rows_of(self.obj)
            .iter()
            .enumerate()
            .filter_map(|(pos, &(pi, _))| {
                self.snap
                    .stat_for_process(self.obj, pos)
                    .map(|s| (self.snap.process_id(pi), s))
            })
            .collect()
    }

    /// Sends `command` (as the builder made it) to every process that
    /// has this object.
    fn run(&self, command: Result<Command, ArgError>) -> Result<()> {
        let procs = crate::haproxy::writable(self.snap.object_processes(self.obj).into_iter());
        run_on(&self.snap.shared.settings, &procs, &command?).map(|_| ())
    }
}

macro_rules! common_view_methods {
    () => {
        pub(crate) fn new(snap: &'s Snapshot, obj: usize) -> Self {
            Self {
                v: View { snap, obj },
            }
        }

        /// `status`, must agree: a frontend's `OPEN`, `STOP`, `FULL`; a
        /// backend's `UP`, `DOWN`; a server's also `MAINT`, `DRAIN`, `no
        /// check`…
        ///
        /// # Errors
        ///
        /// [`Error::InconsistentData`] when processes differ.
        pub fn status(&self) -> Result<Option<Status>> {
            Ok(self.v.text("status")?.map(|s| Status::parse(&s)))
        }

        /// Every column combined across processes (owned, serialisable).
        pub fn stats(&self) -> StatObject {
            self.v.stats()
        }

        /// Every column, per process.
        pub fn stats_per_process(&self) -> PerProcess<StatObject> {
            self.v.stats_per_process()
        }

        /// Column `name` combined across processes, as data (a
        /// disagreement is every process's value); `None` if empty or
        /// absent.
        pub fn field(&self, name: &str) -> Option<Combined<Value>> {
            self.v.field(name)
        }

        /// The value of column `name` (any `show stat` column), combined
        /// as the field table says: counters summed, times averaged,
        /// maxima the largest, names and states must agree.
        ///
        /// # Errors
        ///
        /// [`Error::NoSuchField`] if no process prints this column (not in
        /// this HAProxy version); [`Error::InconsistentData`] when a
        /// must-agree column differs.
        pub fn metric(&self, name: &str) -> Result<Option<Value>> {
            self.v.metric(name)
        }

        /// Column `name` for each process that has the object.
        pub fn metric_per_process(&self, name: &str) -> PerProcess<Option<Value>> {
            self.v.per_process(name)
        }

        /// The processes that have this object.
        pub fn processes(&self) -> Vec<crate::ProcessId> {
            self.v
                .snap
                .object_processes(self.v.obj)
                .into_iter()
                .map(|p| p.id().clone())
                .collect()
        }
    };
}

/// A frontend, across processes.
#[derive(Debug, Clone, Copy)]
pub struct Frontend<'s> {
    v: View<'s>,
}

impl<'s> Frontend<'s> {
    /// The frontend's name.
    pub fn name(&self) -> &'s str {
        self.v.proxy()
    }

    /// `iid`, the proxy id; must agree.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn iid(&self) -> Result<Option<u64>> {
        self.v.number("iid")
    }

    /// `slim`, the configured session limit, summed over processes.
    ///
    /// # Errors
    ///
    /// As [`Frontend::metric`].
    pub fn maxconn(&self) -> Result<Option<u64>> {
        self.v.number("slim")
    }

    /// `req_tot` summed (HTTP frontends; `None` for TCP ones).
    pub fn requests(&self) -> Option<u64> {
        self.v.number("req_tot").ok().flatten()
    }

    /// `req_tot` per process.
    pub fn requests_per_process(&self) -> PerProcess<Option<u64>> {
        self.v.numbers_per_process("req_tot")
    }

    common_view_methods!();

    /// `enable frontend` on every process that has it.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's text, or
    /// [`Error::Partial`] when only some processes failed.
    pub fn enable(&self) -> Result<()> {
        self.v.run(Command::enable_frontend(self.name()))
    }

    /// `disable frontend`.
    ///
    /// # Errors
    ///
    /// As [`Frontend::enable`].
    pub fn disable(&self) -> Result<()> {
        self.v.run(Command::disable_frontend(self.name()))
    }

    /// `shutdown frontend`: stops it for good (until a reload).
    ///
    /// # Errors
    ///
    /// As [`Frontend::enable`].
    pub fn shutdown(&self) -> Result<()> {
        self.v.run(Command::shutdown_frontend(self.name()))
    }

    /// `set maxconn frontend`.
    ///
    /// # Errors
    ///
    /// As [`Frontend::enable`].
    pub fn set_maxconn(&self, maxconn: u32) -> Result<()> {
        self.v
            .run(Command::set_maxconn_frontend(self.name(), maxconn))
    }
}

/// A backend, across processes.
#[derive(Debug, Clone, Copy)]
pub struct Backend<'s> {
    v: View<'s>,
}

impl<'s> Backend<'s> {
    /// The backend's name.
    pub fn name(&self) -> &'s str {
        self.v.proxy()
    }

    /// `iid`; must agree.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn iid(&self) -> Result<Option<u64>> {
        self.v.number("iid")
    }

    /// `stot` summed: sessions (requests, for HTTP) sent to the backend.
    pub fn requests(&self) -> Option<u64> {
        self.v.number("stot").ok().flatten()
    }

    /// `stot` per process.
    pub fn requests_per_process(&self) -> PerProcess<Option<u64>> {
        self.v.numbers_per_process("stot")
    }

    /// The backend's servers.
    pub fn servers(&self) -> Vec<Server<'s>> {
        self.v.snap.servers(Some(self.name()))
    }

    /// The backend's server `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if it has none of that name.
    pub fn server(&self, name: &str) -> Result<Server<'s>> {
        let mut found = self.v.snap.server(name, Some(self.name()))?;
        found.pop().ok_or_else(|| Error::NotFound {
            kind: "server",
            name: name.to_owned(),
        })
    }

    common_view_methods!();
}

/// A server's weight, for [`Server::set_weight`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weight {
    /// An absolute weight, 0–256 (HAProxy's range).
    Absolute(u16),
    /// A percentage of the configured weight.
    Percent(u16),
}

impl Weight {
    /// `set weight <backend>/<server> <weight>[%]`.
    pub fn command(self, backend: &str, server: &str) -> Result<Command, ArgError> {
        match self {
            Weight::Absolute(w) => Command::set_weight(backend, server, u32::from(w)),
            Weight::Percent(p) => Command::set_weight_percent(backend, server, u32::from(p)),
        }
    }
}

/// A weight that is neither `0`–`256` nor a percentage (`50%`), with the
/// text given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("weight must be 0-256 or a percentage like 50%, not {0:?}")]
pub struct InvalidWeight(pub String);

impl std::str::FromStr for Weight {
    type Err = InvalidWeight;

    /// `0`–`256` is [`Weight::Absolute`], `N%` is [`Weight::Percent`].
    fn from_str(s: &str) -> std::result::Result<Weight, InvalidWeight> {
        let bad = || InvalidWeight(s.to_owned());
        match s.strip_suffix('%') {
            Some(p) => p.parse().map(Weight::Percent).map_err(|_| bad()),
            None => match s.parse::<u16>() {
                Ok(w) if w <= 256 => Ok(Weight::Absolute(w)),
                _ => Err(bad()),
            },
        }
    }
}

/// A server, across processes.
#[derive(Debug, Clone, Copy)]
pub struct Server<'s> {
    v: View<'s>,
}

impl<'s> Server<'s> {
    /// The server's name.
    pub fn name(&self) -> &'s str {
        self.v.name()
    }

    /// The backend it belongs to.
    pub fn backend(&self) -> &'s str {
        self.v.proxy()
    }

    /// `sid`, the server id; must agree.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn sid(&self) -> Result<Option<u64>> {
        self.v.number("sid")
    }

    /// `weight`, the effective weight; must agree.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn weight(&self) -> Result<Option<u64>> {
        self.v.number("weight")
    }

    /// `addr` (2.0+): the address and port, IPv6 and `unix@` read
    /// correctly; must agree.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn address(&self) -> Result<Option<Addr>> {
        Ok(self.v.text("addr")?.map(|s| Addr::parse(&s)))
    }

    /// The port of [`Server::address`].
    ///
    /// # Errors
    ///
    /// As [`Server::address`].
    pub fn port(&self) -> Result<Option<u16>> {
        Ok(self.address()?.and_then(|a| a.port()))
    }

    /// `check_status`; must agree. `None` for a server without checks.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn check_status(&self) -> Result<Option<CheckStatus>> {
        Ok(self.v.text("check_status")?.map(|s| CheckStatus::parse(&s)))
    }

    /// `check_code` (layer 5–7 code of the last check); must agree.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn check_code(&self) -> Result<Option<u64>> {
        self.v.number("check_code")
    }

    /// `last_chk`: the last health check's contents or error text.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn last_status(&self) -> Result<Option<String>> {
        self.v.text("last_chk")
    }

    /// `last_agt`: the last agent check's contents or error text.
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentData`] when processes differ.
    pub fn last_agent_check(&self) -> Result<Option<String>> {
        self.v.text("last_agt")
    }

    /// `stot` summed.
    pub fn requests(&self) -> Option<u64> {
        self.v.number("stot").ok().flatten()
    }

    /// `stot` per process.
    pub fn requests_per_process(&self) -> PerProcess<Option<u64>> {
        self.v.numbers_per_process("stot")
    }

    common_view_methods!();

    /// `set weight <backend>/<server> <weight>` on every process that has
    /// the server.
    ///
    /// # Errors
    ///
    /// [`Error::Proto`] for a weight out of 0–256; [`Error::CommandFailed`]
    /// with HAProxy's text; [`Error::Partial`] when only some processes
    /// failed.
    pub fn set_weight(&self, weight: Weight) -> Result<()> {
        self.v.run(weight.command(self.backend(), self.name()))
    }

    /// `set server <backend>/<server> state ready|drain|maint`.
    ///
    /// # Errors
    ///
    /// As [`Server::set_weight`].
    pub fn set_state(&self, state: State) -> Result<()> {
        self.v.run(Command::set_server_state(
            self.backend(),
            self.name(),
            state,
        ))
    }

    /// `enable server`: leave maintenance, re-enable checks.
    ///
    /// # Errors
    ///
    /// As [`Server::set_weight`].
    pub fn enable(&self) -> Result<()> {
        self.v
            .run(Command::enable_server(self.backend(), self.name()))
    }

    /// `disable server`: maintenance, checks stopped.
    ///
    /// # Errors
    ///
    /// As [`Server::set_weight`].
    pub fn disable(&self) -> Result<()> {
        self.v
            .run(Command::disable_server(self.backend(), self.name()))
    }

    /// `set server <b>/<s> addr <addr> [port <port>]`.
    ///
    /// # Errors
    ///
    /// As [`Server::set_weight`].
    pub fn set_address(&self, addr: &str, port: Option<u16>) -> Result<()> {
        self.v.run(Command::set_server_addr(
            self.backend(),
            self.name(),
            addr,
            port,
        ))
    }

    /// `shutdown sessions server`: closes every session on the server.
    ///
    /// # Errors
    ///
    /// As [`Server::set_weight`].
    pub fn shutdown_sessions(&self) -> Result<()> {
        self.v.run(Command::shutdown_sessions_server(
            self.backend(),
            self.name(),
        ))
    }

    /// `set server <b>/<s> health up|stopping|down`.
    ///
    /// # Errors
    ///
    /// As [`Server::set_weight`].
    pub fn set_health(&self, health: Health) -> Result<()> {
        self.v.run(Command::set_server_health(
            self.backend(),
            self.name(),
            health,
        ))
    }

    /// `set server <b>/<s> agent up|down` ([`Health::Stopping`] is refused
    /// by HAProxy for agents).
    ///
    /// # Errors
    ///
    /// As [`Server::set_weight`].
    pub fn set_agent(&self, health: Health) -> Result<()> {
        self.v.run(Command::set_server_agent(
            self.backend(),
            self.name(),
            health,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_from_text() {
        let cases = [
            ("0", Ok(Weight::Absolute(0))),
            ("256", Ok(Weight::Absolute(256))),
            ("50%", Ok(Weight::Percent(50))),
            ("257", Err(())),
            ("-1", Err(())),
            ("x%", Err(())),
            ("", Err(())),
        ];
        for (s, want) in cases {
            assert_eq!(s.parse::<Weight>().map_err(|_| ()), want, "{s:?}");
        }
        let e = "300".parse::<Weight>().expect_err("out of range");
        assert_eq!(
            e.to_string(),
            "weight must be 0-256 or a percentage like 50%, not \"300\""
        );
    }
}
