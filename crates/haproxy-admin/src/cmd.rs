//! Every command line this crate sends, built by `haproxy-proto`'s command
//! builder (which validates and escapes each argument): the one place where
//! this crate meets the builder.

use crate::maps::{EntryRef, ListKind, MapRef};
use crate::objects::{Health, State, Weight};
use crate::Result;
use haproxy_proto::command::Command;

fn wire(c: std::result::Result<Command, haproxy_proto::ArgError>) -> Result<Command> {
    Ok(c.map_err(haproxy_proto::Error::from)?)
}

pub(crate) fn enable_frontend(name: &str) -> Result<Command> {
    wire(Command::enable_frontend(name))
}

pub(crate) fn disable_frontend(name: &str) -> Result<Command> {
    wire(Command::disable_frontend(name))
}

pub(crate) fn shutdown_frontend(name: &str) -> Result<Command> {
    wire(Command::shutdown_frontend(name))
}

pub(crate) fn set_maxconn_frontend(name: &str, maxconn: u32) -> Result<Command> {
    wire(Command::set_maxconn_frontend(name, maxconn))
}

pub(crate) fn set_maxconn_global(maxconn: u32) -> Result<Command> {
    wire(Command::set_maxconn_global(maxconn))
}

/// Which global rate limit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RateLimit {
    Connections,
    Sessions,
    SslSessions,
}

pub(crate) fn set_rate_limit(which: RateLimit, limit: u32) -> Result<Command> {
    wire(match which {
        RateLimit::Connections => Command::set_rate_limit_connections(limit),
        RateLimit::Sessions => Command::set_rate_limit_sessions(limit),
        RateLimit::SslSessions => Command::set_rate_limit_ssl_sessions(limit),
    })
}

pub(crate) fn clear_counters(all: bool) -> Result<Command> {
    Ok(if all {
        Command::clear_counters_all()
    } else {
        Command::clear_counters()
    })
}

pub(crate) fn show_errors(proxy_id: Option<i64>) -> Result<Command> {
    wire(Command::show_errors(proxy_id))
}

pub(crate) fn show_servers_state(backend: Option<&str>) -> Result<Command> {
    wire(Command::show_servers_state(backend))
}

pub(crate) fn set_weight(backend: &str, server: &str, weight: Weight) -> Result<Command> {
    wire(match weight {
        Weight::Absolute(w) => Command::set_weight(backend, server, u32::from(w)),
        Weight::Percent(p) => Command::set_weight_percent(backend, server, u32::from(p)),
    })
}

pub(crate) fn set_state(backend: &str, server: &str, state: State) -> Result<Command> {
    let state = match state {
        State::Ready => haproxy_proto::command::ServerState::Ready,
        State::Drain => haproxy_proto::command::ServerState::Drain,
        State::Maint => haproxy_proto::command::ServerState::Maint,
    };
    wire(Command::set_server_state(backend, server, state))
}

pub(crate) fn enable_server(backend: &str, server: &str) -> Result<Command> {
    wire(Command::enable_server(backend, server))
}

pub(crate) fn disable_server(backend: &str, server: &str) -> Result<Command> {
    wire(Command::disable_server(backend, server))
}

pub(crate) fn set_addr(
    backend: &str,
    server: &str,
    addr: &str,
    port: Option<u16>,
) -> Result<Command> {
    wire(Command::set_server_addr(backend, server, addr, port))
}

pub(crate) fn shutdown_sessions(backend: &str, server: &str) -> Result<Command> {
    wire(Command::shutdown_sessions_server(backend, server))
}

fn health(h: Health) -> haproxy_proto::command::Health {
    match h {
        Health::Up => haproxy_proto::command::Health::Up,
        Health::Stopping => haproxy_proto::command::Health::Stopping,
        Health::Down => haproxy_proto::command::Health::Down,
    }
}

pub(crate) fn set_health(backend: &str, server: &str, h: Health) -> Result<Command> {
    wire(Command::set_server_health(backend, server, health(h)))
}

pub(crate) fn set_agent(backend: &str, server: &str, h: Health) -> Result<Command> {
    wire(Command::set_server_agent(backend, server, health(h)))
}

pub(crate) fn add_server(
    backend: &str,
    name: &str,
    address: &str,
    options: &[&str],
) -> Result<Command> {
    wire(Command::add_server(backend, name, address, options))
}

pub(crate) fn del_server(backend: &str, name: &str) -> Result<Command> {
    wire(Command::del_server(backend, name))
}

/// HAProxy's ids are listed as signed (`-1` before 2.4) but addressed
/// only when non-negative.
fn list_ref(
    list: &MapRef,
) -> std::result::Result<haproxy_proto::command::MapRef<'_>, haproxy_proto::ArgError> {
    match list {
        MapRef::Id(id) => u64::try_from(*id)
            .map(haproxy_proto::command::MapRef::Id)
            .map_err(|_| haproxy_proto::ArgError {
                command: "map/acl",
                argument: "id",
                value: id.to_string(),
                kind: haproxy_proto::ArgErrorKind::Invalid {
                    expected: "a non-negative map or ACL id",
                },
            }),
        MapRef::File(f) => Ok(haproxy_proto::command::MapRef::File(f)),
    }
}

fn entry_ref(entry: EntryRef<'_>) -> haproxy_proto::command::EntryRef<'_> {
    match entry {
        EntryRef::Key(k) => haproxy_proto::command::EntryRef::Key(k),
        EntryRef::Id(id) => haproxy_proto::command::EntryRef::Id(id),
    }
}

pub(crate) fn show_lists(kind: ListKind) -> Command {
    match kind {
        ListKind::Map => Command::show_maps(),
        ListKind::Acl => Command::show_acls(),
    }
}

pub(crate) fn show_entries(kind: ListKind, list: &MapRef) -> Result<Command> {
    wire(match kind {
        ListKind::Map => list_ref(list).and_then(Command::show_map),
        ListKind::Acl => list_ref(list).and_then(Command::show_acl),
    })
}

pub(crate) fn get(kind: ListKind, list: &MapRef, value: &str) -> Result<Command> {
    wire(match kind {
        ListKind::Map => list_ref(list).and_then(|m| Command::get_map(m, value)),
        ListKind::Acl => list_ref(list).and_then(|m| Command::get_acl(m, value)),
    })
}

pub(crate) fn add_map(map: &MapRef, key: &str, value: &str) -> Result<Command> {
    wire(list_ref(map).and_then(|m| Command::add_map(m, key, value)))
}

pub(crate) fn set_map(map: &MapRef, entry: EntryRef<'_>, value: &str) -> Result<Command> {
    wire(list_ref(map).and_then(|m| Command::set_map(m, entry_ref(entry), value)))
}

pub(crate) fn add_acl(acl: &MapRef, pattern: &str) -> Result<Command> {
    wire(list_ref(acl).and_then(|m| Command::add_acl(m, pattern)))
}

pub(crate) fn del(kind: ListKind, list: &MapRef, entry: EntryRef<'_>) -> Result<Command> {
    wire(match kind {
        ListKind::Map => list_ref(list).and_then(|m| Command::del_map(m, entry_ref(entry))),
        ListKind::Acl => list_ref(list).and_then(|m| Command::del_acl(m, entry_ref(entry))),
    })
}

pub(crate) fn clear(kind: ListKind, list: &MapRef) -> Result<Command> {
    wire(match kind {
        ListKind::Map => list_ref(list).and_then(Command::clear_map),
        ListKind::Acl => list_ref(list).and_then(Command::clear_acl),
    })
}

pub(crate) fn prepare_map(map: &MapRef) -> Result<Command> {
    wire(list_ref(map).and_then(Command::prepare_map))
}

pub(crate) fn commit_map(map: &MapRef, version: u64) -> Result<Command> {
    wire(list_ref(map).and_then(|m| Command::commit_map(m, version)))
}

/// `add map [@<ver>] <map> <<` and its payload.
pub(crate) fn add_map_payload(
    map: &MapRef,
    version: Option<u64>,
    entries: &[(&str, &str)],
) -> Result<Command> {
    wire(list_ref(map).and_then(|m| Command::add_map_bulk(m, version, entries)))
}
