//! The Prometheus text exposition of a [`Snapshot`], under the names,
//! types, help texts and labels of HAProxy's own exporter (promex,
//! `addons/promex/service-prometheus.c`), so that dashboards and alerts
//! written for promex work unchanged.
//!
//! Pure writer: no HTTP, no sockets. [`Exposition`] collects metric
//! families from one or more snapshots (a fleet: each with its own target
//! labels) and from the caller ([`Exposition::gauge`]: an exporter's
//! `up` and scrape duration), then writes every family once, with its
//! `# HELP` and `# TYPE` lines ([`CONTENT_TYPE`]).
//!
//! The mapping is data: [`INFO_METRICS`] (`show info` field → process
//! metric) and [`STAT_METRICS`] (`show stat` column → frontend, backend
//! and server metrics), one table each. Fields promex lacks are kept
//! under names of ours with the same conventions ([`StatMetric::promex`]
//! is `false` for them). Two promex names are changed: its counters
//! `haproxy_process_failed_resolutions` and (3.2+)
//! `haproxy_process_total_warnings` lack the `_total` that
//! `promtool check metrics` requires; here they have it ([`RENAMED`]).
//! Families of `show stat` columns or `show info` fields of a later
//! HAProxy version are written only where the version read prints them,
//! as promex of that version would.
//!
//! # Combined or per process
//!
//! [`Mode::Combined`] writes one series per object, combined across the
//! snapshot's processes as the library combines them. A family's label
//! names never depend on whether the processes agree: a must-agree field
//! they disagree on is written as their mean (a state family: the share
//! of processes in each state) beside a `haproxy_cli_disagreement` gauge
//! naming the field; a field only some processes print is the sum of
//! theirs where it is summed; an info label (`version`) is one series per
//! value printed. [`Exposition::add_counted`] takes the counters from
//! [`Counters`], so that they never go backwards.
//! [`Mode::PerProcess`] writes one series per process, every one with
//! `pid` and `node` labels.
//!
//! # Example
//!
//! ```no_run
//! use haproxy_admin::prometheus::{Exposition, Mode};
//! use haproxy_admin::HAProxy;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let snap = HAProxy::from_dir("/run/haproxy")?.snapshot()?;
//! let mut e = Exposition::new();
//! e.add_snapshot(&snap, &[("host", "lb1")], Mode::Combined);
//! e.write_to(&mut std::io::stdout().lock())?;
//! # Ok(()) }
//! ```

mod counters;

pub use counters::{Counters, Totals};

use crate::aggregate::Combined;
use crate::objects::ObjectKind;
use crate::process::ProcessId;
use crate::snapshot::Snapshot;
use crate::value::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric's Prometheus type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricType {
    /// A value that goes up and down.
    Gauge,
    /// A value that only goes up (names end in `_total`).
    Counter,
}

impl MetricType {
    /// The word of the `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
        }
    }
}

/// One series per object (combined across processes) or one per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Combined across processes; disagreements flagged beside the value.
    Combined,
    /// One series per process, with `pid` and `node` labels.
    PerProcess,
}

/// How a `show stat` column becomes samples (promex's special cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conversion {
    /// The value as it is; an empty field is `NaN` (as promex writes it).
    Plain,
    /// As [`Conversion::Plain`], only for proxies in `mode http`.
    HttpOnly,
    /// An HTTP response class: the `code` label, only in `mode http`.
    Code(&'static str),
    /// Milliseconds in `show stat`, seconds in the metric.
    Millis,
    /// The object's status: one series per state (`state` label), 1 for
    /// the current one.
    Status,
    /// The last check's status: one series per check result (`state`
    /// label); only for servers whose check is enabled.
    CheckStatus,
    /// The last check's code, 0 when the check had none; only for servers
    /// whose check is enabled.
    CheckCode,
    /// The last check's duration, milliseconds to seconds; only once a
    /// check ran.
    CheckDuration,
    /// Backends: how many of their servers are in each server state.
    AggServerStatus,
    /// Backends: how many of their checked servers had each check result.
    AggCheckStatus,
}

/// Which objects a metric exists for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scopes {
    /// Frontends (`haproxy_frontend_*`).
    pub frontend: bool,
    /// Backends (`haproxy_backend_*`).
    pub backend: bool,
    /// Servers (`haproxy_server_*`).
    pub server: bool,
}

const FE: Scopes = Scopes {
    frontend: true,
    backend: false,
    server: false,
};
const BE: Scopes = Scopes {
    frontend: false,
    backend: true,
    server: false,
};
const SRV: Scopes = Scopes {
    frontend: false,
    backend: false,
    server: true,
};
const FE_BE: Scopes = Scopes {
    frontend: true,
    backend: true,
    server: false,
};
const BE_SRV: Scopes = Scopes {
    frontend: false,
    backend: true,
    server: true,
};
const ALL: Scopes = Scopes {
    frontend: true,
    backend: true,
    server: true,
};

/// One `show stat` column as a metric.
#[derive(Debug, Clone, Copy)]
pub struct StatMetric {
    /// The `show stat` column(s) it reads, the first present wins
    /// (HAProxy 2.6 spells `srv_ilim` as `src_ilim`).
    pub columns: &'static [&'static str],
    /// The name after `haproxy_<scope>_`.
    pub name: &'static str,
    /// Gauge or counter.
    pub ty: MetricType,
    /// Which objects have it.
    pub scopes: Scopes,
    /// How the column becomes samples.
    pub conversion: Conversion,
    /// The `# HELP` text (promex's).
    pub help: &'static str,
    /// Whether promex (2.6, or a later version for the rows that say so)
    /// writes it under this name (`false`: a name of ours; promex 3.2
    /// took up `current_session_rate` under the same name and help).
    pub promex: bool,
}

/// One `show info` field as a process metric (`haproxy_process_*`).
#[derive(Debug, Clone, Copy)]
pub struct InfoMetric {
    /// The `show info` field, as HAProxy versions spell it: each process
    /// is read under the first it prints (2.6's `TotalSplicdedBytesOut`
    /// is 3.0's `TotalSplicedBytesOut`).
    pub fields: &'static [&'static str],
    /// The name after `haproxy_process_`.
    pub name: &'static str,
    /// Gauge or counter.
    pub ty: MetricType,
    /// The `# HELP` text (promex's).
    pub help: &'static str,
    /// How the field becomes a sample.
    pub value: InfoValue,
}

/// How a `show info` field becomes a process metric's sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InfoValue {
    /// The field's number; `NaN` for a process that does not print it, as
    /// promex writes a field its build leaves out (`ZlibMemUsage`).
    Number,
    /// As [`InfoValue::Number`], but no sample for a process that does
    /// not print it: a field of a later HAProxy version than the one read
    /// (promex of that version has no such metric).
    NumberWherePrinted,
    /// `1`, with the text of `show info` field `from` as label `label`
    /// (`build_info{version="…"}`, `node{node="…"}`).
    Label {
        /// The label's name.
        label: &'static str,
        /// The `show info` field whose text it carries.
        from: &'static str,
    },
}

/// Server states as promex names them, in its order.
pub const SERVER_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];

/// Check results promex lists (those at least "failed"), in its order.
pub const CHECK_STATES: [&str; 16] = [
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP",
    "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];

const HELP_HRSP: &str = "Total number of HTTP responses with status 100-199 returned by this object since the worker process started";

macro_rules! stat {
    ($col:expr, $name:expr, $ty:ident, $scopes:expr, $conv:expr, $help:expr) => {
        StatMetric {
            columns: &[$col],
            name: $name,
            ty: MetricType::$ty,
            scopes: $scopes,
            conversion: $conv,
            help: $help,
            promex: true,
        }
    };
}

use Conversion::{
    AggCheckStatus, AggServerStatus, CheckCode, CheckDuration, CheckStatus, Code, HttpOnly, Millis,
    Plain, Status,
};

/// Every `show stat` column that becomes a metric, in promex's order,
/// then ours.
#[rustfmt::skip]
pub static STAT_METRICS: &[StatMetric] = &[
    stat!("qcur", "current_queue", Gauge, BE_SRV, Plain, "Number of current queued connections"),
    stat!("qmax", "max_queue", Gauge, BE_SRV, Plain, "Highest value of queued connections encountered since process started"),
    stat!("scur", "current_sessions", Gauge, ALL, Plain, "Number of current sessions on the frontend, backend or server"),
    stat!("smax", "max_sessions", Gauge, ALL, Plain, "Highest value of current sessions encountered since process started"),
    stat!("slim", "limit_sessions", Gauge, ALL, Plain, "Frontend/listener/server's maxconn, backend's fullconn"),
    stat!("stot", "sessions_total", Counter, ALL, Plain, "Total number of sessions since process started"),
    stat!("bin", "bytes_in_total", Counter, ALL, Plain, "Total number of request bytes since process started"),
    stat!("bout", "bytes_out_total", Counter, ALL, Plain, "Total number of response bytes since process started"),
    stat!("dreq", "requests_denied_total", Counter, FE_BE, Plain, "Total number of denied requests since process started"),
    stat!("dresp", "responses_denied_total", Counter, ALL, Plain, "Total number of denied responses since process started"),
    stat!("ereq", "request_errors_total", Counter, FE, Plain, "Total number of invalid requests since process started"),
    stat!("econ", "connection_errors_total", Counter, BE_SRV, Plain, "Total number of failed connections to server since the worker process started"),
    stat!("eresp", "response_errors_total", Counter, BE_SRV, Plain, "Total number of invalid responses since the worker process started"),
    stat!("wretr", "retry_warnings_total", Counter, BE_SRV, Plain, "Total number of server connection retries since the worker process started"),
    stat!("wredis", "redispatch_warnings_total", Counter, BE_SRV, Plain, "Total number of server redispatches due to connection failures since the worker process started"),
    stat!("status", "status", Gauge, ALL, Status, "Current status of the service, per state label value."),
    stat!("weight", "weight", Gauge, BE_SRV, Plain, "Server's effective weight, or sum of active servers' effective weights for a backend"),
    stat!("act", "active_servers", Gauge, BE, Plain, "Total number of active UP servers with a non-zero weight"),
    stat!("bck", "backup_servers", Gauge, BE, Plain, "Total number of backup UP servers with a non-zero weight"),
    stat!("chkfail", "check_failures_total", Counter, SRV, Plain, "Total number of failed individual health checks per server/backend, since the worker process started"),
    stat!("chkdown", "check_up_down_total", Counter, BE_SRV, Plain, "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"),
    stat!("lastchg", "check_last_change_seconds", Gauge, BE_SRV, Plain, "How long ago the last server state changed, in seconds"),
    stat!("downtime", "downtime_seconds_total", Counter, BE_SRV, Plain, "Total time spent in DOWN state, for server or backend"),
    stat!("qlimit", "queue_limit", Gauge, SRV, Plain, "Limit on the number of connections in queue, for servers only (maxqueue argument)"),
    stat!("throttle", "current_throttle", Gauge, SRV, Plain, "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)"),
    stat!("lbtot", "loadbalanced_total", Counter, BE_SRV, Plain, "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"),
    stat!("rate_lim", "limit_session_rate", Gauge, FE, Plain, "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)"),
    stat!("rate_max", "max_session_rate", Gauge, ALL, Plain, "Highest value of sessions per second observed since the worker process started"),
    stat!("check_status", "check_status", Gauge, SRV, CheckStatus, "Status of last health check, per state label value."),
    stat!("check_code", "check_code", Gauge, SRV, CheckCode, "layer5-7 code, if available of the last health check."),
    stat!("check_duration", "check_duration_seconds", Gauge, SRV, CheckDuration, "Total duration of the latest server health check, in seconds."),
    stat!("hrsp_1xx", "http_responses_total", Counter, ALL, Code("1xx"), HELP_HRSP),
    stat!("hrsp_2xx", "http_responses_total", Counter, ALL, Code("2xx"), HELP_HRSP),
    stat!("hrsp_3xx", "http_responses_total", Counter, ALL, Code("3xx"), HELP_HRSP),
    stat!("hrsp_4xx", "http_responses_total", Counter, ALL, Code("4xx"), HELP_HRSP),
    stat!("hrsp_5xx", "http_responses_total", Counter, ALL, Code("5xx"), HELP_HRSP),
    stat!("hrsp_other", "http_responses_total", Counter, ALL, Code("other"), HELP_HRSP),
    stat!("req_rate_max", "http_requests_rate_max", Gauge, FE, HttpOnly, "Highest value of http requests observed since the worker process started"),
    stat!("req_tot", "http_requests_total", Counter, ALL, HttpOnly, "Total number of HTTP requests processed by this object since the worker process started"),
    stat!("cli_abrt", "client_aborts_total", Counter, BE_SRV, Plain, "Total number of requests or connections aborted by the client since the worker process started"),
    stat!("srv_abrt", "server_aborts_total", Counter, BE_SRV, Plain, "Total number of requests or connections aborted by the server since the worker process started"),
    stat!("comp_in", "http_comp_bytes_in_total", Counter, FE_BE, HttpOnly, "Total number of bytes submitted to the HTTP compressor for this object since the worker process started"),
    stat!("comp_out", "http_comp_bytes_out_total", Counter, FE_BE, HttpOnly, "Total number of bytes emitted by the HTTP compressor for this object since the worker process started"),
    stat!("comp_byp", "http_comp_bytes_bypassed_total", Counter, FE_BE, HttpOnly, "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)"),
    stat!("comp_rsp", "http_comp_responses_total", Counter, FE_BE, HttpOnly, "Total number of HTTP responses that were compressed for this object since the worker process started"),
    stat!("lastsess", "last_session_seconds", Gauge, BE_SRV, Plain, "How long ago some traffic was seen on this object on this worker process, in seconds"),
    stat!("qtime", "queue_time_average_seconds", Gauge, BE_SRV, Millis, "Avg. queue time for last 1024 successful connections."),
    stat!("ctime", "connect_time_average_seconds", Gauge, BE_SRV, Millis, "Avg. connect time for last 1024 successful connections."),
    stat!("rtime", "response_time_average_seconds", Gauge, BE_SRV, Millis, "Avg. response time for last 1024 successful connections."),
    stat!("ttime", "total_time_average_seconds", Gauge, BE_SRV, Millis, "Avg. total time for last 1024 successful connections."),
    stat!("conn_rate_max", "connections_rate_max", Gauge, FE, Plain, "Highest value of connections per second observed since the worker process started"),
    stat!("conn_tot", "connections_total", Counter, FE, Plain, "Total number of new connections accepted on this frontend since the worker process started"),
    stat!("intercepted", "intercepted_requests_total", Counter, FE, HttpOnly, "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started"),
    stat!("dcon", "denied_connections_total", Counter, FE, Plain, "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
    stat!("dses", "denied_sessions_total", Counter, FE, Plain, "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
    stat!("wrew", "failed_header_rewriting_total", Counter, ALL, Plain, "Total number of failed HTTP header rewrites since the worker process started"),
    stat!("connect", "connection_attempts_total", Counter, BE_SRV, Plain, "Total number of outgoing connection attempts on this backend/server since the worker process started"),
    stat!("reuse", "connection_reuses_total", Counter, BE_SRV, Plain, "Total number of reused connection on this backend/server since the worker process started"),
    stat!("cache_lookups", "http_cache_lookups_total", Counter, FE_BE, HttpOnly, "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started"),
    stat!("cache_hits", "http_cache_hits_total", Counter, FE_BE, HttpOnly, "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started"),
    stat!("srv_icur", "idle_connections_current", Gauge, SRV, Plain, "Current number of idle connections available for reuse on this server"),
    StatMetric {
        columns: &["srv_ilim", "src_ilim"],
        name: "idle_connections_limit",
        ty: MetricType::Gauge,
        scopes: SRV,
        conversion: Plain,
        help: "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)",
        promex: true,
    },
    stat!("qtime_max", "max_queue_time_seconds", Gauge, BE_SRV, Millis, "Maximum observed time spent in the queue"),
    stat!("ctime_max", "max_connect_time_seconds", Gauge, BE_SRV, Millis, "Maximum observed time spent waiting for a connection to complete"),
    stat!("rtime_max", "max_response_time_seconds", Gauge, BE_SRV, Millis, "Maximum observed time spent waiting for a server response"),
    stat!("ttime_max", "max_total_time_seconds", Gauge, BE_SRV, Millis, "Maximum observed total request+response time (request+queue+connect+response+processing)"),
    stat!("eint", "internal_errors_total", Counter, ALL, Plain, "Total number of internal errors since process started"),
    stat!("idle_conn_cur", "unsafe_idle_connections_current", Gauge, SRV, Plain, "Current number of unsafe idle connections"),
    stat!("safe_conn_cur", "safe_idle_connections_current", Gauge, SRV, Plain, "Current number of safe idle connections"),
    stat!("used_conn_cur", "used_connections_current", Gauge, SRV, Plain, "Current number of connections in use"),
    stat!("need_conn_est", "need_connections_current", Gauge, SRV, Plain, "Estimated needed number of connections"),
    stat!("uweight", "uweight", Gauge, BE_SRV, Plain, "Server's user weight, or sum of active servers' user weights for a backend"),
    stat!("status", "agg_server_status", Gauge, BE, AggServerStatus, "Backend's aggregated gauge of servers' status"),
    stat!("status", "agg_server_check_status", Gauge, BE, AggServerStatus, "Backend's aggregated gauge of servers' state check status"),
    stat!("check_status", "agg_check_status", Gauge, BE, AggCheckStatus, "Backend's aggregated gauge of servers' state check status"),
    // promex 3.0+ (server `act`/`bck`; servers' `http_requests_total` is
    // promex 3.2's, above).
    stat!("act", "active", Gauge, SRV, Plain, "Total number of active UP servers with a non-zero weight"),
    stat!("bck", "backup", Gauge, SRV, Plain, "Total number of backup UP servers with a non-zero weight"),
    // promex 3.4+, of show stat columns 3.3 added.
    stat!("priv_idle_cur", "private_idle_connections_current", Gauge, SRV, Plain, "Current number of private idle connections"),
    stat!("reqbin", "req_bytes_in_total", Counter, ALL, Plain, "Total number of request bytes received since process started"),
    stat!("reqbout", "req_bytes_out_total", Counter, ALL, Plain, "Total number of request bytes sent since process started"),
    stat!("resbin", "res_bytes_in_total", Counter, ALL, Plain, "Total number of response bytes received since process started"),
    stat!("resbout", "res_bytes_out_total", Counter, ALL, Plain, "Total number of response bytes sent since process started"),
    // Ours: columns promex 2.6 leaves out. Promex 3.2 added this one
    // under the same name: its help text is promex 3.2's.
    StatMetric {
        columns: &["rate"],
        name: "current_session_rate",
        ty: MetricType::Gauge,
        scopes: ALL,
        conversion: Plain,
        help: "Total number of sessions processed by this object over the last second (sessions for listeners/frontends, requests for backends/servers)",
        promex: false,
    },
    StatMetric {
        columns: &["req_rate"],
        name: "http_requests_rate_current",
        ty: MetricType::Gauge,
        scopes: FE,
        conversion: HttpOnly,
        help: "HTTP requests per second over the last elapsed second (show stat req_rate; not in promex)",
        promex: false,
    },
    StatMetric {
        columns: &["conn_rate"],
        name: "connections_rate_current",
        ty: MetricType::Gauge,
        scopes: FE,
        conversion: Plain,
        help: "Connections per second over the last elapsed second (show stat conn_rate; not in promex)",
        promex: false,
    },
    StatMetric {
        columns: &["hanafail"],
        name: "check_analyze_failures_total",
        ty: MetricType::Counter,
        scopes: SRV,
        conversion: Plain,
        help: "Failed health checks details (show stat hanafail; not in promex)",
        promex: false,
    },
];

macro_rules! info {
    ($field:expr, $name:expr, $ty:ident, $help:expr) => {
        info!($field, $name, $ty, $help, InfoValue::Number)
    };
    ($field:expr, $name:expr, $ty:ident, $help:expr, $value:expr) => {
        InfoMetric {
            fields: &[$field],
            name: $name,
            ty: MetricType::$ty,
            help: $help,
            value: $value,
        }
    };
}

/// The `show info` field promex turns into `haproxy_process_build_info`
/// (value 1, the version as a label).
pub const BUILD_INFO_FIELD: &str = "Build info";

/// Every `show info` field that becomes a process metric, in promex's
/// order.
#[rustfmt::skip]
pub static INFO_METRICS: &[InfoMetric] = &[
    info!("Nbthread", "nbthread", Gauge, "Number of started threads (global.nbthread)"),
    info!("Nbproc", "nbproc", Gauge, "Number of started worker processes (historical, always 1)"),
    info!("Process_num", "relative_process_id", Gauge, "Relative worker process number (1)"),
    info!("Uptime_sec", "uptime_seconds", Gauge, "How long ago this worker process was started (seconds)"),
    info!("PoolFailed", "pool_failures_total", Counter, "Number of failed pool allocations since this worker was started"),
    info!("Ulimit-n", "max_fds", Gauge, "Hard limit on the number of per-process file descriptors"),
    info!("Maxsock", "max_sockets", Gauge, "Hard limit on the number of per-process sockets"),
    info!("Maxconn", "max_connections", Gauge, "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)"),
    info!("Hard_maxconn", "hard_max_connections", Gauge, "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)"),
    info!("CurrConns", "current_connections", Gauge, "Current number of connections on this worker process"),
    info!("CumConns", "connections_total", Counter, "Total number of connections on this worker process since started"),
    info!("CumReq", "requests_total", Counter, "Total number of requests on this worker process since started"),
    info!("MaxSslConns", "max_ssl_connections", Gauge, "Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited"),
    info!("CurrSslConns", "current_ssl_connections", Gauge, "Current number of SSL endpoints on this worker process (front+back)"),
    info!("CumSslConns", "ssl_connections_total", Counter, "Total number of SSL endpoints on this worker process since started (front+back)"),
    info!("Maxpipes", "max_pipes", Gauge, "Hard limit on the number of pipes for splicing, 0=unlimited"),
    info!("PipesUsed", "pipes_used_total", Counter, "Current number of pipes in use in this worker process"),
    info!("PipesFree", "pipes_free_total", Counter, "Current number of allocated and available pipes in this worker process"),
    info!("ConnRate", "current_connection_rate", Gauge, "Number of front connections created on this worker process over the last second"),
    info!("ConnRateLimit", "limit_connection_rate", Gauge, "Hard limit for ConnRate (global.maxconnrate)"),
    info!("MaxConnRate", "max_connection_rate", Gauge, "Highest ConnRate reached on this worker process since started (in connections per second)"),
    info!("SessRate", "current_session_rate", Gauge, "Number of sessions created on this worker process over the last second"),
    info!("SessRateLimit", "limit_session_rate", Gauge, "Hard limit for SessRate (global.maxsessrate)"),
    info!("MaxSessRate", "max_session_rate", Gauge, "Highest SessRate reached on this worker process since started (in sessions per second)"),
    info!("SslRate", "current_ssl_rate", Gauge, "Number of SSL connections created on this worker process over the last second"),
    info!("SslRateLimit", "limit_ssl_rate", Gauge, "Hard limit for SslRate (global.maxsslrate)"),
    info!("MaxSslRate", "max_ssl_rate", Gauge, "Highest SslRate reached on this worker process since started (in connections per second)"),
    info!("SslFrontendKeyRate", "current_frontend_ssl_key_rate", Gauge, "Number of SSL keys created on frontends in this worker process over the last second"),
    info!("SslFrontendMaxKeyRate", "max_frontend_ssl_key_rate", Gauge, "Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)"),
    info!("SslFrontendSessionReuse_pct", "frontend_ssl_reuse", Gauge, "Percent of frontend SSL connections which did not require a new key"),
    info!("SslBackendKeyRate", "current_backend_ssl_key_rate", Gauge, "Number of SSL keys created on backends in this worker process over the last second"),
    info!("SslBackendMaxKeyRate", "max_backend_ssl_key_rate", Gauge, "Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)"),
    info!("SslCacheLookups", "ssl_cache_lookups_total", Counter, "Total number of SSL session ID lookups in the SSL session cache on this worker since started"),
    info!("SslCacheMisses", "ssl_cache_misses_total", Counter, "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started"),
    info!("CompressBpsIn", "http_comp_bytes_in_total", Counter, "Number of bytes submitted to the HTTP compressor in this worker process over the last second"),
    info!("CompressBpsOut", "http_comp_bytes_out_total", Counter, "Number of bytes emitted by the HTTP compressor in this worker process over the last second"),
    info!("CompressBpsRateLim", "limit_http_comp", Gauge, "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled"),
    info!("ZlibMemUsage", "current_zlib_memory", Gauge, "Amount of memory currently used by HTTP compression on the current worker process (in bytes)"),
    info!("MaxZlibMemUsage", "max_zlib_memory", Gauge, "Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)"),
    info!("Tasks", "current_tasks", Gauge, "Total number of tasks in the current worker process (active + sleeping)"),
    info!("Run_queue", "current_run_queue", Gauge, "Total number of active tasks+tasklets in the current worker process"),
    info!("Idle_pct", "idle_time_percent", Gauge, "Percentage of last second spent waiting in the current worker thread"),
    info!("Stopping", "stopping", Gauge, "1 if the worker process is currently stopping, otherwise zero"),
    info!("Jobs", "jobs", Gauge, "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)"),
    info!("Unstoppable Jobs", "unstoppable_jobs", Gauge, "Current number of unstoppable jobs on the current worker process (master connections)"),
    info!("Listeners", "listeners", Gauge, "Current number of active listeners on the current worker process"),
    info!("ActivePeers", "active_peers", Gauge, "Current number of verified active peers connections on the current worker process"),
    info!("ConnectedPeers", "connected_peers", Gauge, "Current number of peers having passed the connection step on the current worker process"),
    info!("DroppedLogs", "dropped_logs_total", Counter, "Total number of dropped logs for current worker process since started"),
    info!("BusyPolling", "busy_polling_enabled", Gauge, "1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)"),
    info!("FailedResolutions", "failed_resolutions_total", Counter, "Total number of failed DNS resolutions in current worker process since started"),
    info!("TotalBytesOut", "bytes_out_total", Counter, "Total number of bytes emitted by current worker process since started"),
    InfoMetric {
        fields: &["TotalSplicdedBytesOut", "TotalSplicedBytesOut"],
        name: "spliced_bytes_out_total",
        ty: MetricType::Counter,
        help: "Total number of bytes emitted by current worker process through a kernel pipe since started",
        value: InfoValue::Number,
    },
    info!("BytesOutRate", "bytes_out_rate", Gauge, "Number of bytes emitted by current worker process over the last second"),
    info!("CumRecvLogs", "recv_logs_total", Counter, "Total number of log messages received by log-forwarding listeners on this worker process since started"),
    info!(BUILD_INFO_FIELD, "build_info", Gauge, "Build info", InfoValue::Label { label: "version", from: "Version" }),
    info!("Memmax_bytes", "max_memory_bytes", Gauge, "Worker process's hard limit on memory usage in byes (-m on command line)"),
    info!("PoolAlloc_bytes", "pool_allocated_bytes", Gauge, "Amount of memory allocated in pools (in bytes)"),
    info!("PoolUsed_bytes", "pool_used_bytes", Gauge, "Amount of pool memory currently used (in bytes)"),
    info!("Start_time_sec", "start_time_seconds", Gauge, "Start time in seconds"),
    // promex 3.2+ (`TotalWarnings` is in 3.0's show info already).
    info!("node", "node", Gauge, "Node name (global.node)", InfoValue::Label { label: "node", from: "node" }),
    info!("TotalWarnings", "total_warnings_total", Counter, "Total warnings issued", InfoValue::NumberWherePrinted),
    // promex 3.4+ (fields 3.4's show info added). promex types the two
    // `_total` gauges; they only grow, and a `_total` is a counter.
    info!("NbThreadGroups", "nb_thread_groups", Gauge, "Number of started thread groups (global.thread-groups)", InfoValue::NumberWherePrinted),
    info!("PatternsAdded", "patterns_added_total", Counter, "Total number of patterns added (acl/map entries)", InfoValue::NumberWherePrinted),
    info!("PatternsFreed", "patterns_freed_total", Counter, "Total number of patterns freed (acl/map entries)", InfoValue::NumberWherePrinted),
];

/// promex names this exposition changes, `(promex, ours)`: counters
/// without `_total` (`promtool check metrics` refuses them).
pub const RENAMED: [(&str, &str); 2] = [
    (
        "haproxy_process_failed_resolutions",
        "haproxy_process_failed_resolutions_total",
    ),
    // promex 3.2+.
    (
        "haproxy_process_total_warnings",
        "haproxy_process_total_warnings_total",
    ),
];

/// The family that flags a must-agree field the processes disagree on.
pub const DISAGREEMENT: &str = "haproxy_cli_disagreement";

const DISAGREEMENT_HELP: &str = "1 for a must-agree field on which the processes disagree; the field's series then holds the processes' mean (a state: the share of processes in it)";

/// Metric families being collected; see the [module docs](self).
///
/// Snapshots are held by reference and written family by family when the
/// exposition is written: no sample is buffered before then, and
/// [`Exposition::write_to`] streams, so a large fleet costs its output,
/// not a copy of it per family.
#[derive(Debug, Default)]
pub struct Exposition<'s> {
    families: Vec<Family>,
    index: HashMap<String, usize>,
    sources: Vec<Source<'s>>,
}

#[derive(Debug)]
struct Family {
    name: String,
    help: String,
    ty: MetricType,
    /// Samples added one at a time ([`Exposition::add`]).
    body: String,
    /// The table rows whose samples it holds, from every source.
    feeds: Vec<Feed>,
}

/// Where a family's samples come from.
#[derive(Debug, Clone, Copy)]
enum Feed {
    /// [`INFO_METRICS`]`[i]`.
    Info(usize),
    /// [`STAT_METRICS`]`[i]` for objects of this kind.
    Stat(ObjectKind, usize),
    /// The flags of disagreements met while writing the others.
    Disagreement,
}

/// One snapshot added, with what to write of it.
#[derive(Debug)]
struct Source<'s> {
    snap: &'s Snapshot,
    /// Monotonic counters for it ([`Exposition::add_counted`]).
    totals: Option<&'s Totals>,
    base: Labels,
    mode: Mode,
    /// Which [`INFO_METRICS`] to write.
    info: Vec<bool>,
    /// The objects to write, per kind (frontend, backend, server): one row
    /// per object, or per object and process.
    rows: [Vec<Row>; 3],
    cols: Columns,
    /// Server counts, per backend row that has servers.
    aggs: Vec<Agg>,
    /// The length of every row's labels, per kind (for sizing the output).
    label_bytes: [usize; 3],
    /// Per kind, the numeric values of every row, read object by object
    /// (where the table is in cache) and written family by family.
    grids: [Grid; 3],
}

/// Per kind: for each [`STAT_METRICS`] entry read as a number, every
/// row's value, in row order.
#[derive(Debug, Default)]
struct Grid {
    /// `STAT_METRICS` index → position in `columns`.
    slot: Vec<Option<usize>>,
    columns: Vec<Vec<Quick>>,
}

/// A value as the writer needs it: a small number kept, anything else
/// (text, decimals, disagreements) read again when written (few).
#[derive(Debug, Clone, Copy)]
enum Quick {
    Empty,
    UInt(u64),
    Int(i64),
    Other,
}

impl Quick {
    fn of(v: Option<&Combined<Value>>) -> Quick {
        match v {
            None => Quick::Empty,
            Some(Combined::Value(Value::Unsigned(n))) => Quick::UInt(*n),
            Some(Combined::Value(Value::Signed(n))) => Quick::Int(*n),
            Some(_) => Quick::Other,
        }
    }

    fn of_cell(c: haproxy_proto::Field<'_>) -> Quick {
        match c {
            haproxy_proto::Field::Empty => Quick::Empty,
            haproxy_proto::Field::UInt(n) => Quick::UInt(n),
            haproxy_proto::Field::Int(n) => Quick::Int(n),
            haproxy_proto::Field::Text(_) => Quick::Other,
        }
    }
}

/// One series set: an object (combined) or an object on one process.
#[derive(Debug)]
struct Row {
    obj: usize,
    /// The process position within the object (per-process mode).
    pos: Option<usize>,
    labels: Labels,
    /// In `mode http` (promex writes the HTTP families only then).
    http: bool,
    /// Has a check status (promex writes check codes only then).
    checked: bool,
    /// Index into the source's `aggs` (backends).
    agg: Option<usize>,
}

/// A label set being built: `name="value"` pairs, escaped.
#[derive(Debug, Clone, Default)]
struct Labels(String);

impl Labels {
    fn push(&mut self, name: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push(',');
        }
        self.0.push_str(name);
        self.0.push_str("=\"");
        escape_into(&mut self.0, value);
        self.0.push('"');
    }

    fn with(&self, name: &str, value: &str) -> Labels {
        let mut l = self.clone();
        l.push(name, value);
        l
    }

    /// As [`Labels::with`], unless label `name` is there already (a
    /// process's `node`, which is its `show info` `node`). A value's `"`
    /// is escaped, so `name="` is only ever a label's start.
    fn with_new(&self, name: &str, value: &str) -> Labels {
        let start = format!("{name}=\"");
        if self.0.starts_with(&start) || self.0.contains(&format!(",{start}")) {
            return self.clone();
        }
        self.with(name, value)
    }

    fn process(&self, p: &ProcessId) -> Labels {
        let mut l = self.clone();
        let mut pid = String::new();
        push_u64(&mut pid, u64::from(p.pid));
        l.push("pid", &pid);
        l.push("node", p.node.as_deref().unwrap_or(""));
        l
    }
}

/// Where samples are written: a buffer, flushed to a writer as it fills
/// when there is one. A family's `# HELP`/`# TYPE` lines are written
/// before its first sample, so a family without samples is not written.
struct Out<'w, 'f> {
    buf: String,
    sink: Option<&'w mut dyn io::Write>,
    error: Option<io::Error>,
    pending: Option<&'f Family>,
}

/// How much is buffered before a streaming write flushes.
const FLUSH_AT: usize = 1 << 16;

impl<'f> Out<'_, 'f> {
    /// Starts a sample line of `name`: the header first if it is due.
    fn begin(&mut self, name: &str) {
        self.header_if_due();
        self.buf.push_str(name);
    }

    /// The pending family's `# HELP` and `# TYPE` lines, once.
    fn header_if_due(&mut self) {
        if let Some(f) = self.pending.take() {
            self.header(f);
        }
    }

    fn header(&mut self, f: &Family) {
        for (word, text) in [("HELP", f.help.as_str()), ("TYPE", f.ty.as_str())] {
            self.buf.push_str("# ");
            self.buf.push_str(word);
            self.buf.push(' ');
            self.buf.push_str(&f.name);
            self.buf.push(' ');
            self.buf.push_str(text);
            self.buf.push('\n');
        }
    }

    /// Ends a sample line; flushes a full buffer.
    fn end(&mut self) {
        self.buf.push('\n');
        if self.buf.len() >= FLUSH_AT {
            self.flush();
        }
    }

    /// Whole sample lines written beforehand (none: nothing, not even the
    /// header).
    fn lines(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.header_if_due();
        self.buf.push_str(text);
        if self.buf.len() >= FLUSH_AT {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(w) = self.sink.as_mut() {
            if self.error.is_none() {
                if let Err(e) = w.write_all(self.buf.as_bytes()) {
                    self.error = Some(e);
                }
            }
            self.buf.clear();
        }
    }

    /// One sample line: `name`, `labels` and an `extra` label, and the
    /// value `write` writes.
    fn sample(
        &mut self,
        name: &str,
        labels: &Labels,
        extra: Option<(&str, &str)>,
        write: impl FnOnce(&mut String),
    ) {
        self.begin(name);
        let b = &mut self.buf;
        if !labels.0.is_empty() || extra.is_some() {
            b.push('{');
            b.push_str(&labels.0);
            if let Some((k, v)) = extra {
                if !labels.0.is_empty() {
                    b.push(',');
                }
                // Extra labels are the table's constants (state, code):
                // nothing to escape.
                b.push_str(k);
                b.push_str("=\"");
                b.push_str(v);
                b.push('"');
            }
            b.push('}');
        }
        b.push(' ');
        write(b);
        self.end();
    }

    /// Whether writing failed (the rest is not worth rendering).
    fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Escapes a label value as the exposition format wants: `\`, `"` and
/// newline.
pub fn escape_label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            // Any other control character is made visible as the text
            // `\xNN` (its backslash escaped): the exposition format knows
            // no other escapes, and a raw NUL or ESC must not reach a
            // terminal or a parser.
            c if c.is_control() => {
                let _ = write!(out, "\\\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// Writes a value as the exposition writes it (`NaN` for none or text,
/// as promex does).
fn number_into(out: &mut String, v: Option<&Value>) {
    let _ = match v {
        Some(Value::Unsigned(n)) => {
            push_u64(out, *n);
            Ok(())
        }
        Some(Value::Signed(n)) if *n < 0 => {
            out.push('-');
            push_u64(out, n.unsigned_abs());
            Ok(())
        }
        Some(Value::Signed(n)) => write!(out, "{n}"),
        Some(Value::Float(f)) => {
            out.push_str(&float(*f));
            Ok(())
        }
        Some(Value::Text(_)) | None => {
            out.push_str("NaN");
            Ok(())
        }
    };
}

/// Writes `n` in decimal without going through `fmt` (most samples are
/// small integers; this is the writer's inner loop).
fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Digits are ASCII.
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// As [`number_into`], but 0 for none (promex's check code).
fn zero_into(out: &mut String, v: Option<&Value>) {
    match v {
        None => out.push('0'),
        v => number_into(out, v),
    }
}

#[cfg(test)]
fn number(v: Option<&Value>) -> String {
    let mut s = String::new();
    number_into(&mut s, v);
    s
}

fn float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        f.to_string()
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Unsigned(n) => Some(*n as f64),
        Value::Signed(n) => Some(*n as f64),
        Value::Float(f) => Some(*f),
        Value::Text(_) => None,
    }
}

fn millis_into(out: &mut String, v: Option<&Value>) {
    match v.and_then(as_f64) {
        Some(ms) => {
            let _ = write!(out, "{:.6}", ms / 1000.0);
        }
        None => out.push_str("NaN"),
    }
}

#[cfg(test)]
fn millis(v: Option<&Value>) -> String {
    let mut s = String::new();
    millis_into(&mut s, v);
    s
}

/// A field read as text (status, check status).
fn text(v: Option<&Value>) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Some(Value::Text(t)) => Some(std::borrow::Cow::Borrowed(t.as_str())),
        Some(v) => Some(std::borrow::Cow::Owned(v.to_string())),
        None => None,
    }
}

/// How a value is written.
type Writer = fn(&mut String, Option<&Value>);

/// A server's `show stat` status as promex's state (index into
/// [`SERVER_STATES`]).
fn server_state(status: &str) -> usize {
    if status.starts_with("MAINT") {
        2
    } else if status.starts_with("DRAIN") {
        3
    } else if status.starts_with("NOLB") {
        4
    } else if status.starts_with("UP") || status.starts_with("no check") {
        1
    } else {
        0
    }
}

/// A `show stat` check status (`L7OK`, `* L7OK` while a check runs) as an
/// index into [`CHECK_STATES`], `None` for the others (`INI`, `UNK`…).
fn check_state(status: &str) -> Option<usize> {
    let s = status.strip_prefix("* ").unwrap_or(status).trim();
    CHECK_STATES.iter().position(|c| *c == s)
}

fn kind_prefix(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Frontend => "haproxy_frontend_",
        ObjectKind::Backend => "haproxy_backend_",
        ObjectKind::Server => "haproxy_server_",
        ObjectKind::Listener => "haproxy_listener_",
    }
}

fn in_scope(s: Scopes, kind: ObjectKind) -> bool {
    match kind {
        ObjectKind::Frontend => s.frontend,
        ObjectKind::Backend => s.backend,
        ObjectKind::Server => s.server,
        ObjectKind::Listener => false,
    }
}

/// Who each process is and since when differ whenever processes do: in a
/// combined exposition they are never a disagreement (a per-pid series
/// that comes and goes with every restart, and `haproxy_cli_disagreement`
/// stuck at 1). The fleet's uptime is its youngest process's, its start
/// time the latest; per process, each keeps its own.
fn identity_combine(field: &str) -> Option<haproxy_proto::Combine> {
    match field {
        "Uptime_sec" => Some(haproxy_proto::Combine::Min),
        "Start_time_sec" => Some(haproxy_proto::Combine::Max),
        _ => None,
    }
}

/// One value of a field in the current context: the process it is from
/// when the field is per process (a disagreement, or per-process mode).
type Sample<'v> = (Option<&'v ProcessId>, Option<&'v Value>);

fn samples(c: Option<&Combined<Value>>) -> Vec<Sample<'_>> {
    match c {
        None => vec![(None, None)],
        Some(Combined::Value(v)) => vec![(None, Some(v))],
        Some(Combined::Disagreement { values }) => {
            values.iter().map(|(p, v)| (Some(p), v.as_ref())).collect()
        }
    }
}

/// Per backend (and process, in per-process mode): how many servers in
/// each promex server state, and with each check result.
#[derive(Debug, Default, Clone)]
struct Agg {
    servers: usize,
    states: [u64; SERVER_STATES.len()],
    checks: [u64; CHECK_STATES.len()],
}

/// The kinds with metric families, in the order they are written.
const KINDS: [ObjectKind; 3] = [
    ObjectKind::Frontend,
    ObjectKind::Backend,
    ObjectKind::Server,
];

fn kind_index(kind: ObjectKind) -> Option<usize> {
    KINDS.iter().position(|k| *k == kind)
}

impl<'s> Exposition<'s> {
    /// An empty exposition, every family of the tables registered (in
    /// promex's order) so that output order does not depend on data.
    pub fn new() -> Exposition<'s> {
        let mut e = Exposition::default();
        for (i, m) in INFO_METRICS.iter().enumerate() {
            let f = e.family(&format!("haproxy_process_{}", m.name), m.help, m.ty);
            e.families[f].feeds.push(Feed::Info(i));
        }
        for kind in KINDS {
            for (i, m) in STAT_METRICS.iter().enumerate() {
                if in_scope(m.scopes, kind) {
                    let f = e.family(&format!("{}{}", kind_prefix(kind), m.name), m.help, m.ty);
                    e.families[f].feeds.push(Feed::Stat(kind, i));
                }
            }
        }
        let f = e.family(DISAGREEMENT, DISAGREEMENT_HELP, MetricType::Gauge);
        e.families[f].feeds.push(Feed::Disagreement);
        e
    }

    /// The family `name`, created (with `help` and `ty`) if new.
    fn family(&mut self, name: &str, help: &str, ty: MetricType) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.families.len();
        self.families.push(Family {
            name: name.to_owned(),
            help: help.replace('\\', "\\\\").replace('\n', "\\n"),
            ty,
            body: String::new(),
            feeds: Vec::new(),
        });
        self.index.insert(name.to_owned(), i);
        i
    }

    /// Adds one sample of the caller's own family (created as a gauge or
    /// counter with `help` on first use): an exporter's `up`, its scrape
    /// duration.
    pub fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.add(name, help, MetricType::Gauge, labels, value);
    }

    /// As [`Exposition::gauge`], of type `ty`.
    pub fn add(
        &mut self,
        name: &str,
        help: &str,
        ty: MetricType,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let fam = self.family(name, help, ty);
        let l = base_labels(labels);
        let f = &mut self.families[fam];
        let mut out = Out {
            buf: std::mem::take(&mut f.body),
            sink: None,
            error: None,
            pending: None,
        };
        out.sample(&f.name, &l, None, |o| o.push_str(&float(value)));
        f.body = out.buf;
    }

    /// Adds every process, frontend, backend and server metric of `snap`,
    /// each series with `labels` (a fleet's target labels: host,
    /// datacenter…), combined or per process as `mode` says.
    pub fn add_snapshot(&mut self, snap: &'s Snapshot, labels: &[(&str, &str)], mode: Mode) {
        self.add_process(snap, labels, mode, |_| true);
        self.add_objects(snap, labels, mode, |_, _, _| true);
    }

    /// As [`Exposition::add_snapshot`] combined, every counter family's
    /// value taken from `totals` ([`Counters::observe`] of `snap`): counters
    /// that never go backwards while processes stall, leave or restart.
    pub fn add_counted(&mut self, snap: &'s Snapshot, totals: &'s Totals, labels: &[(&str, &str)]) {
        let mut src = Source::new(snap, labels, Mode::Combined);
        src.totals = Some(totals);
        src.info = vec![true; INFO_METRICS.len()];
        src.add_rows(&|_, _, _| true);
        self.sources.push(src);
    }

    /// Adds the process metrics ([`INFO_METRICS`]) that `keep` accepts.
    pub fn add_process(
        &mut self,
        snap: &'s Snapshot,
        labels: &[(&str, &str)],
        mode: Mode,
        keep: impl Fn(&InfoMetric) -> bool,
    ) {
        let mut src = Source::new(snap, labels, mode);
        src.info = INFO_METRICS.iter().map(keep).collect();
        self.sources.push(src);
    }

    /// Adds the frontend, backend and server metrics of the objects that
    /// `keep(kind, proxy, name)` accepts (`name` is `FRONTEND`/`BACKEND`
    /// for proxies). A backend's `agg_*` families count all its servers.
    pub fn add_objects(
        &mut self,
        snap: &'s Snapshot,
        labels: &[(&str, &str)],
        mode: Mode,
        keep: impl Fn(ObjectKind, &str, &str) -> bool,
    ) {
        let mut src = Source::new(snap, labels, mode);
        src.add_rows(&keep);
        self.sources.push(src);
    }

    /// Writes every family that has samples: `# HELP`, `# TYPE`, then its
    /// samples, streamed to `out` as they are written.
    ///
    /// # Errors
    ///
    /// What `out` returns.
    pub fn write_to(&self, out: &mut impl io::Write) -> io::Result<()> {
        let mut o = Out {
            buf: String::with_capacity(FLUSH_AT + 4096),
            sink: Some(out),
            error: None,
            pending: None,
        };
        self.render(&mut o);
        o.flush();
        o.error.map_or(Ok(()), Err)
    }

    /// The whole exposition as bytes, written once into a buffer sized
    /// beforehand.
    pub fn into_bytes(self) -> Vec<u8> {
        self.to_text().into_bytes()
    }

    /// The whole exposition as text.
    pub fn to_text(&self) -> String {
        let mut o = Out {
            buf: String::with_capacity(self.estimate()),
            sink: None,
            error: None,
            pending: None,
        };
        self.render(&mut o);
        o.buf
    }

    /// About how many bytes the exposition takes (a little more, as a
    /// rule): the buffer is sized once.
    fn estimate(&self) -> usize {
        let mut n = 0;
        for f in &self.families {
            n += f.name.len() + f.help.len() + 32 + f.body.len();
            for feed in &f.feeds {
                let Feed::Stat(kind, i) = *feed else {
                    n += 256;
                    continue;
                };
                let per_row = match STAT_METRICS[i].conversion {
                    Status | AggServerStatus => SERVER_STATES.len(),
                    CheckStatus | AggCheckStatus => CHECK_STATES.len(),
                    _ => 1,
                };
                let Some(k) = kind_index(kind) else { continue };
                for src in &self.sources {
                    let rows = src.rows[k].len();
                    n += per_row * (rows * (f.name.len() + 24) + src.label_bytes[k]);
                }
            }
        }
        n
    }

    /// Every family in order, each from its own samples and its feeds.
    fn render<'f>(&'f self, out: &mut Out<'_, 'f>) {
        let mut flags = String::new();
        let mut scratch = Vec::new();
        for f in &self.families {
            out.pending = Some(f);
            out.lines(&f.body);
            let mut at = 0;
            while let Some(&feed) = f.feeds.get(at) {
                at += 1;
                match feed {
                    Feed::Info(i) => {
                        for src in &self.sources {
                            src.info_samples(out, &mut flags, &f.name, i);
                        }
                    }
                    Feed::Stat(kind, _) => {
                        // Table rows feeding one family (HTTP response
                        // classes) are written object by object.
                        let from = at - 1;
                        at += f.feeds[at..]
                            .iter()
                            .take_while(|g| matches!(g, Feed::Stat(k, _) if *k == kind))
                            .count();
                        let Some(k) = kind_index(kind) else { continue };
                        for src in &self.sources {
                            for row in src.rows[k].iter().enumerate() {
                                for g in &f.feeds[from..at] {
                                    if let Feed::Stat(_, i) = *g {
                                        src.stat_samples(
                                            out,
                                            &mut flags,
                                            &f.name,
                                            kind,
                                            i,
                                            row,
                                            &mut scratch,
                                        );
                                    }
                                }
                                if out.failed() {
                                    return;
                                }
                            }
                        }
                    }
                    Feed::Disagreement => {
                        out.lines(&flags);
                        flags.clear();
                    }
                }
            }
            out.pending = None;
        }
    }
}

impl<'s> Source<'s> {
    fn new(snap: &'s Snapshot, labels: &[(&str, &str)], mode: Mode) -> Source<'s> {
        Source {
            snap,
            totals: None,
            base: base_labels(labels),
            mode,
            info: Vec::new(),
            rows: [Vec::new(), Vec::new(), Vec::new()],
            cols: Columns::of(snap),
            aggs: Vec::new(),
            label_bytes: [0; 3],
            grids: Default::default(),
        }
    }

    /// The rows of the objects `keep` accepts, with their labels, what
    /// decides which families they have, and their values in the grids:
    /// one pass, each object's record read once, all its columns at once
    /// (where the table is in cache); the backends' server counts.
    fn add_rows(&mut self, keep: &dyn Fn(ObjectKind, &str, &str) -> bool) {
        let snap = self.snap;
        let aggs = aggregates(snap, &self.cols, self.mode);
        let mode_col = self.cols.mode;
        let check_col = STAT_METRICS
            .iter()
            .position(|m| m.conversion == CheckStatus)
            .and_then(|i| self.cols.stat.get(i).copied().flatten());
        // The snapshot column of each grid column, per kind.
        let wanted: Vec<Vec<usize>> = KINDS.iter().map(|&kind| self.start_grid(kind)).collect();
        let mut scratch = Vec::new();
        for (obj, entry) in snap.objects.iter().enumerate() {
            let Some(k) = kind_index(entry.kind) else {
                continue;
            };
            let (proxy, name) = (snap.proxy_of(obj), snap.name_of(obj));
            if !keep(entry.kind, proxy, name) {
                continue;
            }
            let mut l = self.base.with("proxy", proxy);
            if entry.kind == ObjectKind::Server {
                l.push("server", name);
            }
            let agg = |pid: Option<u32>, aggs_out: &mut Vec<Agg>| {
                if entry.kind != ObjectKind::Backend {
                    return None;
                }
                let a = aggs.get(&(proxy, pid))?;
                aggs_out.push(a.clone());
                Some(aggs_out.len() - 1)
            };
            let grid = &mut self.grids[k];
            match self.mode {
                Mode::Combined => {
                    let recs = snap.records(obj);
                    let mut read = |c: usize| snap.combine_records(obj, &recs, c, &mut scratch);
                    let http = matches!(
                        mode_col.and_then(&mut read),
                        Some(Combined::Value(Value::Text(m))) if m == "http"
                    );
                    let checked = check_col.and_then(&mut read).is_some();
                    let totals = self.totals;
                    for (column, &c) in grid.columns.iter_mut().zip(&wanted[k]) {
                        column.push(match totals.and_then(|t| t.get(obj, c)) {
                            Some(n) => Quick::UInt(n),
                            None => Quick::of(read(c).as_ref()),
                        });
                    }
                    let agg = agg(None, &mut self.aggs);
                    self.rows[k].push(Row {
                        obj,
                        pos: None,
                        labels: l,
                        http,
                        checked,
                        agg,
                    });
                }
                Mode::PerProcess => {
                    for (pos, &(pi, r)) in snap.rows_of(obj).iter().enumerate() {
                        let p = snap.process_id(pi);
                        let cells = snap
                            .procs
                            .get(pi)
                            .and_then(|p| Some((p, p.table.cells(r)?)));
                        let read = |c: usize| {
                            cells
                                .as_ref()
                                .map_or(haproxy_proto::Field::Empty, |(p, cells)| {
                                    p.col_map
                                        .get(c)
                                        .copied()
                                        .flatten()
                                        .map_or(haproxy_proto::Field::Empty, |l| cells.get(l))
                                })
                        };
                        let http =
                            matches!(mode_col.map(read), Some(haproxy_proto::Field::Text("http")));
                        let checked = check_col.and_then(|c| Value::of_cell(read(c))).is_some();
                        for (column, &c) in grid.columns.iter_mut().zip(&wanted[k]) {
                            column.push(Quick::of_cell(read(c)));
                        }
                        let agg = agg(Some(p.pid), &mut self.aggs);
                        self.rows[k].push(Row {
                            obj,
                            pos: Some(pos),
                            labels: l.process(&p),
                            http,
                            checked,
                            agg,
                        });
                    }
                }
            }
        }
        for (n, rows) in self.label_bytes.iter_mut().zip(&self.rows) {
            *n = rows.iter().map(|r| r.labels.0.len()).sum();
        }
    }

    /// Sets up the grid of `kind`: a column for every metric of `kind`
    /// that reads a number; returns the snapshot column each one reads.
    fn start_grid(&mut self, kind: ObjectKind) -> Vec<usize> {
        let mut grid = Grid {
            slot: vec![None; STAT_METRICS.len()],
            columns: Vec::new(),
        };
        let mut wanted = Vec::new();
        for (i, m) in STAT_METRICS.iter().enumerate() {
            let numeric = !matches!(
                m.conversion,
                Status | CheckStatus | AggServerStatus | AggCheckStatus
            );
            if let (true, true, Some(c)) = (
                numeric,
                in_scope(m.scopes, kind),
                self.cols.stat.get(i).copied().flatten(),
            ) {
                grid.slot[i] = Some(wanted.len());
                wanted.push(c);
            }
        }
        // Room for every object of `kind` (each process's, per process).
        let rows: usize = self
            .snap
            .objects
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == kind)
            .map(|(obj, _)| match self.mode {
                Mode::Combined => 1,
                Mode::PerProcess => self.snap.rows_of(obj).len(),
            })
            .sum();
        grid.columns = wanted.iter().map(|_| Vec::with_capacity(rows)).collect();
        if let Some(k) = kind_index(kind) {
            self.grids[k] = grid;
        }
        wanted
    }

    /// The samples of process metric `INFO_METRICS[i]`.
    fn info_samples(&self, out: &mut Out<'_, '_>, flags: &mut String, name: &str, i: usize) {
        let Some(m) = INFO_METRICS
            .get(i)
            .filter(|_| self.info.get(i) == Some(&true))
        else {
            return;
        };
        let text = |v: Option<&Value>| v.map(|v| v.to_string()).unwrap_or_default();
        match self.mode {
            Mode::Combined => {
                if let InfoValue::Label { label, from } = m.value {
                    // One series per value the processes print (a fleet
                    // mid-upgrade has two versions), never per process.
                    let v = self.snap.info_field(from);
                    let mut seen: Vec<String> = Vec::new();
                    for (_, v) in samples(v.as_ref()) {
                        let t = text(v);
                        if !seen.contains(&t) {
                            out.sample(name, &self.base.with_new(label, &t), None, |o| o.push('1'));
                            seen.push(t);
                        }
                    }
                    return;
                }
                let v = self
                    .snap
                    .info_field_as(m.fields, m.fields.first().and_then(|f| identity_combine(f)));
                if v.is_none() && m.value == InfoValue::NumberWherePrinted {
                    return;
                }
                let total = self.totals.and_then(|t| t.info.get(i).copied().flatten());
                let v = match total {
                    Some(n) if v.is_some() => Some(Combined::Value(Value::Unsigned(n))),
                    _ => v,
                };
                let field = Field {
                    name,
                    kind: ObjectKind::Frontend,
                    column: m.fields.first().copied().unwrap_or(m.name),
                    process_level: true,
                };
                emit(
                    out,
                    flags,
                    &field,
                    &self.base,
                    None,
                    v.as_ref(),
                    number_into,
                );
            }
            Mode::PerProcess => {
                for (p, info) in self.snap.info() {
                    let l = self.base.process(&p);
                    if let InfoValue::Label { label, from } = m.value {
                        let v = info.get(from).and_then(Value::parse);
                        out.sample(name, &l.with_new(label, &text(v.as_ref())), None, |o| {
                            o.push('1');
                        });
                        continue;
                    }
                    let raw = m.fields.iter().find_map(|f| info.get(f));
                    if raw.is_none() && m.value == InfoValue::NumberWherePrinted {
                        continue;
                    }
                    let v = raw.and_then(Value::parse);
                    out.sample(name, &l, None, |o| number_into(o, v.as_ref()));
                }
            }
        }
    }

    /// The samples of `STAT_METRICS[i]` for one row.
    #[allow(clippy::too_many_arguments)]
    fn stat_samples(
        &self,
        out: &mut Out<'_, '_>,
        flags: &mut String,
        name: &str,
        kind: ObjectKind,
        i: usize,
        (r, row): (usize, &Row),
        scratch: &mut Vec<Option<Value>>,
    ) {
        let Some(m) = STAT_METRICS.get(i) else { return };
        // A column this HAProxy does not print (one of a later version):
        // no family, as promex of this version has none.
        let counts = matches!(m.conversion, AggServerStatus | AggCheckStatus);
        if !counts && self.cols.stat.get(i).copied().flatten().is_none() {
            return;
        }
        // The families that exist only for some rows, decided before any
        // value is read.
        match m.conversion {
            HttpOnly | Code(_) if !row.http => return,
            CheckCode if !row.checked => return,
            AggServerStatus | AggCheckStatus => {
                let Some(a) = row
                    .agg
                    .and_then(|a| self.aggs.get(a))
                    .filter(|a| a.servers > 0)
                else {
                    return;
                };
                let (states, counts): (&[&str], &[u64]) = if m.conversion == AggServerStatus {
                    (&SERVER_STATES, &a.states)
                } else {
                    (&CHECK_STATES, &a.checks)
                };
                for (st, n) in states.iter().zip(counts) {
                    out.sample(name, &row.labels, Some(("state", st)), |o| push_u64(o, *n));
                }
                return;
            }
            _ => {}
        }
        let quick = kind_index(kind)
            .and_then(|k| {
                let g = &self.grids[k];
                g.columns
                    .get(g.slot.get(i).copied().flatten()?)?
                    .get(r)
                    .copied()
            })
            .unwrap_or(Quick::Other);
        let v = match quick {
            Quick::Empty => None,
            Quick::UInt(n) => Some(Combined::Value(Value::Unsigned(n))),
            Quick::Int(n) => Some(Combined::Value(Value::of_i64(n))),
            Quick::Other => {
                let col = self.cols.stat.get(i).copied().flatten();
                match row.pos {
                    None => col.and_then(|c| self.snap.combined(row.obj, c, scratch)),
                    Some(pos) => col
                        .and_then(|c| cell(self.snap, row.obj, pos, c))
                        .map(Combined::Value),
                }
            }
        };
        let field = Field {
            name,
            kind,
            column: m.columns.first().copied().unwrap_or(m.name),
            process_level: false,
        };
        let l = &row.labels;
        match m.conversion {
            Plain | HttpOnly => emit(out, flags, &field, l, None, v.as_ref(), number_into),
            Code(code) => emit(
                out,
                flags,
                &field,
                l,
                Some(("code", code)),
                v.as_ref(),
                number_into,
            ),
            Millis => emit(out, flags, &field, l, None, v.as_ref(), millis_into),
            CheckCode => emit(out, flags, &field, l, None, v.as_ref(), zero_into),
            CheckDuration => {
                if v.is_some() {
                    emit(out, flags, &field, l, None, v.as_ref(), millis_into);
                }
            }
            Status | CheckStatus => {
                if v.is_none() {
                    return;
                }
                let states: &[&str] = match (m.conversion, kind) {
                    (CheckStatus, _) => &CHECK_STATES,
                    (_, ObjectKind::Server) => &SERVER_STATES,
                    _ => &SERVER_STATES[..2],
                };
                let current = |s: &str| match (m.conversion, kind) {
                    (CheckStatus, _) => check_state(s),
                    (_, ObjectKind::Server) => Some(server_state(s)),
                    (_, ObjectKind::Frontend) => Some(usize::from(s != "STOP")),
                    _ => Some(usize::from(s == "UP")),
                };
                // Per state, the share of the processes in it: 1 and 0
                // where they agree (promex's values), fractions where they
                // do not; the labels the same either way.
                let mut shares = vec![0u64; states.len()];
                let mut of = 0u64;
                for (_, v) in samples(v.as_ref()) {
                    let Some(s) = text(v) else { continue };
                    of += 1;
                    if let Some(i) = current(&s).and_then(|i| shares.get_mut(i)) {
                        *i += 1;
                    }
                }
                if of == 0 {
                    return;
                }
                for (st, n) in states.iter().zip(&shares) {
                    out.sample(name, l, Some(("state", st)), |o| {
                        if *n == of || *n == 0 {
                            o.push(if *n == 0 { '0' } else { '1' });
                        } else {
                            o.push_str(&float(*n as f64 / of as f64));
                        }
                    });
                }
                if matches!(v, Some(Combined::Disagreement { .. })) {
                    flag(flags, l, &field);
                }
            }
            AggServerStatus | AggCheckStatus => {}
        }
    }
}

/// The field a sample is of, for flagging a disagreement.
struct Field<'a> {
    /// The family's name.
    name: &'a str,
    kind: ObjectKind,
    /// The `show stat` column or `show info` field.
    column: &'a str,
    /// A process metric (`show info`).
    process_level: bool,
}

/// The sample of one value. Where the processes disagree, flagged, with
/// the same labels as when they agree: a field that is summed (a column
/// only some processes print, in a fleet of mixed versions) is the sum of
/// those that print it; another is the processes' mean (the weight the
/// fleet gives a server is its mean weight over the processes, each
/// balancing alone).
fn emit(
    out: &mut Out<'_, '_>,
    flags: &mut String,
    field: &Field<'_>,
    labels: &Labels,
    extra: Option<(&str, &str)>,
    v: Option<&Combined<Value>>,
    conv: Writer,
) {
    match v {
        Some(Combined::Disagreement { values }) => {
            let numbers: Vec<f64> = values
                .iter()
                .filter_map(|(_, v)| v.as_ref().and_then(as_f64))
                .collect();
            let how = if field.process_level {
                haproxy_proto::info::info_combine(field.column)
            } else {
                haproxy_proto::Column::from_name(field.column)
                    .map_or(haproxy_proto::Combine::MustAgree, |c| c.combine())
            };
            let sum: f64 = numbers.iter().sum();
            let mean = match (numbers.len(), how) {
                (0, _) => None,
                (_, haproxy_proto::Combine::Sum) => Some(Value::Float(sum)),
                (n, _) => Some(Value::Float(sum / n as f64)),
            };
            out.sample(field.name, labels, extra, |o| conv(o, mean.as_ref()));
            flag(flags, labels, field);
        }
        Some(Combined::Value(v)) => out.sample(field.name, labels, extra, |o| conv(o, Some(v))),
        None => out.sample(field.name, labels, extra, |o| conv(o, None)),
    }
}

/// A sample of the disagreement family, kept until that family is written.
fn flag(flags: &mut String, labels: &Labels, field: &Field<'_>) {
    let scope = if field.process_level {
        "process"
    } else {
        match field.kind {
            ObjectKind::Frontend => "frontend",
            ObjectKind::Backend => "backend",
            ObjectKind::Server => "server",
            ObjectKind::Listener => "listener",
        }
    };
    let l = labels.with("scope", scope).with("field", field.column);
    let mut out = Out {
        buf: std::mem::take(flags),
        sink: None,
        error: None,
        pending: None,
    };
    out.sample(DISAGREEMENT, &l, None, |o| o.push('1'));
    *flags = out.buf;
}

/// Server counts per backend (and process in per-process mode), for the
/// `agg_*` families. A server whose status disagrees across processes is
/// not counted in combined mode (its status series are per process and
/// flagged).
fn aggregates<'s>(
    snap: &'s Snapshot,
    cols: &Columns,
    mode: Mode,
) -> HashMap<(&'s str, Option<u32>), Agg> {
    let mut out: HashMap<(&str, Option<u32>), Agg> = HashMap::new();
    let mut scratch = Vec::new();
    let mut count = |key: (&'s str, Option<u32>), status: Option<Value>, check: Option<Value>| {
        let a = out.entry(key).or_default();
        a.servers += 1;
        if let Some(s) = text(status.as_ref()) {
            a.states[server_state(&s)] += 1;
        }
        if let Some(i) = text(check.as_ref()).as_deref().and_then(check_state) {
            a.checks[i] += 1;
        }
    };
    for (obj, entry) in snap.objects.iter().enumerate() {
        if entry.kind != ObjectKind::Server {
            continue;
        }
        match mode {
            Mode::Combined => {
                let mut get =
                    |c: Option<usize>| match c.and_then(|c| snap.combined(obj, c, &mut scratch)) {
                        Some(Combined::Value(v)) => Some(v),
                        _ => None,
                    };
                let status = get(cols.status);
                let check = get(cols.check_status);
                count((snap.proxy_of(obj), None), status, check);
            }
            Mode::PerProcess => {
                for (pos, &(pi, _)) in snap.rows_of(obj).iter().enumerate() {
                    let pid = snap.process_id(pi).pid;
                    let get = |c: Option<usize>| c.and_then(|c| cell(snap, obj, pos, c));
                    count(
                        (snap.proxy_of(obj), Some(pid)),
                        get(cols.status),
                        get(cols.check_status),
                    );
                }
            }
        }
    }
    out
}

fn base_labels(labels: &[(&str, &str)]) -> Labels {
    let mut base = Labels::default();
    for (n, v) in labels {
        base.push(n, v);
    }
    base
}

/// A cell of object `obj`, process position `pos`, snapshot column `col`.
fn cell(snap: &Snapshot, obj: usize, pos: usize, col: usize) -> Option<Value> {
    let &(pi, row) = snap.rows_of(obj).get(pos)?;
    let p = snap.procs.get(pi)?;
    let local = (*p.col_map.get(col)?)?;
    Value::of_cell(p.table.cell(row, local))
}

/// The snapshot column index of every table entry, resolved once.
#[derive(Debug)]
struct Columns {
    stat: Vec<Option<usize>>,
    mode: Option<usize>,
    status: Option<usize>,
    check_status: Option<usize>,
}

impl Columns {
    fn of(snap: &Snapshot) -> Columns {
        Columns {
            stat: STAT_METRICS
                .iter()
                .map(|m| m.columns.iter().find_map(|c| snap.column_index(c)))
                .collect(),
            mode: snap.column_index("mode"),
            status: snap.column_index("status"),
            check_status: snap.column_index("check_status"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_states_as_promex() {
        for (status, want) in [
            ("UP", "UP"),
            ("UP 1/3", "UP"),
            ("no check", "UP"),
            ("DOWN", "DOWN"),
            ("DOWN 1/2", "DOWN"),
            ("MAINT", "MAINT"),
            ("MAINT (via be/s1)", "MAINT"),
            ("MAINT (resolution)", "MAINT"),
            ("DRAIN", "DRAIN"),
            ("NOLB", "NOLB"),
        ] {
            assert_eq!(SERVER_STATES[server_state(status)], want, "{status}");
        }
    }

    #[test]
    fn check_states() {
        assert_eq!(check_state("L7OK"), Some(10));
        assert_eq!(check_state("* L4CON"), Some(4));
        assert_eq!(check_state("INI"), None);
        assert_eq!(check_state(""), None);
    }

    #[test]
    fn counters_end_in_total_and_names_are_valid() {
        let names = STAT_METRICS
            .iter()
            .map(|m| (m.name, m.ty))
            .chain(INFO_METRICS.iter().map(|m| (m.name, m.ty)));
        for (name, ty) in names {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            if ty == MetricType::Counter {
                assert!(name.ends_with("_total"), "{name}");
            }
        }
    }

    #[test]
    fn one_help_and_type_per_family() {
        let mut seen: HashMap<String, (&str, MetricType)> = HashMap::new();
        for kind in [
            ObjectKind::Frontend,
            ObjectKind::Backend,
            ObjectKind::Server,
        ] {
            for m in STAT_METRICS.iter().filter(|m| in_scope(m.scopes, kind)) {
                let n = format!("{}{}", kind_prefix(kind), m.name);
                if let Some((h, t)) = seen.insert(n.clone(), (m.help, m.ty)) {
                    assert_eq!((h, t), (m.help, m.ty), "{n}");
                }
            }
        }
    }

    #[test]
    fn escaping_and_samples() {
        assert_eq!(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let mut e = Exposition::new();
        e.gauge("haproxy_cli_up", "Up.", &[("target", "x\"y")], 1.0);
        e.gauge("haproxy_cli_up", "Up.", &[("target", "z")], 0.0);
        assert_eq!(
            e.to_text(),
            "# HELP haproxy_cli_up Up.\n# TYPE haproxy_cli_up gauge\n\
             haproxy_cli_up{target=\"x\\\"y\"} 1\nhaproxy_cli_up{target=\"z\"} 0\n"
        );
        let mut w = Vec::new();
        e.write_to(&mut w).expect("vec write");
        assert_eq!(String::from_utf8_lossy(&w), e.to_text());
        let text = e.to_text();
        assert_eq!(e.into_bytes(), text.into_bytes());
    }

    /// Two processes, `n` servers; server `s1` DOWN on the second.
    fn two_processes(n: usize) -> Snapshot {
        use haproxy_transport::Endpoint;
        let stat = |down: bool| {
            let mut t = String::from("# pxname,svname,scur,stot,status,check_status,mode,\n");
            for i in 0..n {
                let st = if down && i == 1 { "DOWN" } else { "UP" };
                t.push_str(&format!("be,s{i},{i},7,{st},L7OK,http,\n"));
            }
            t.push_str("be,BACKEND,0,14,UP,,http,\n\n");
            t
        };
        Snapshot::from_replies([
            (
                Endpoint::unix("/a"),
                "Name: HAProxy\nPid: 10\n".into(),
                stat(false),
            ),
            (
                Endpoint::unix("/b"),
                "Name: HAProxy\nPid: 11\n".into(),
                stat(true),
            ),
        ])
        .expect("snapshot")
    }

    #[test]
    fn streamed_buffered_and_per_process_agree() {
        let snap = two_processes(1_000);
        for mode in [Mode::Combined, Mode::PerProcess] {
            let mut e = Exposition::new();
            e.add_snapshot(&snap, &[("host", "lb1")], mode);
            e.gauge("haproxy_up", "Up.", &[], 1.0);
            let text = e.to_text();
            assert!(text.len() > 4 * FLUSH_AT, "{}", text.len());
            let mut streamed = Vec::new();
            e.write_to(&mut streamed).expect("vec write");
            assert_eq!(String::from_utf8_lossy(&streamed), text);
            assert!(
                text.ends_with("# TYPE haproxy_up gauge\nhaproxy_up 1\n"),
                "{mode:?}"
            );
            // Every family once, its header before its samples.
            let heads = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
            let names: std::collections::HashSet<&str> = text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| l.split(['{', ' ']).next().unwrap_or(""))
                .collect();
            assert_eq!(heads, names.len(), "{mode:?}");
            assert_eq!(e.into_bytes(), text.into_bytes());
        }
        let mut e = Exposition::new();
        e.add_snapshot(&snap, &[], Mode::Combined);
        let text = e.to_text();
        // Summed across processes; the status they disagree on is the
        // share of processes in each state, flagged.
        assert!(text.contains("\nhaproxy_server_current_sessions{proxy=\"be\",server=\"s2\"} 4\n"));
        for (state, share) in [("DOWN", "0.5"), ("UP", "0.5"), ("MAINT", "0")] {
            let line = format!(
                "\nhaproxy_server_status{{proxy=\"be\",server=\"s1\",state=\"{state}\"}} {share}\n"
            );
            assert!(text.contains(&line), "{line}");
        }
        assert!(!text.contains("pid="));
        assert!(text.contains(
            "\nhaproxy_cli_disagreement{proxy=\"be\",server=\"s1\",scope=\"server\",field=\"status\"} 1\n"
        ));
        let mut e = Exposition::new();
        e.add_snapshot(&snap, &[], Mode::PerProcess);
        let text = e.to_text();
        assert!(text.contains(
            "\nhaproxy_server_current_sessions{proxy=\"be\",server=\"s2\",pid=\"11\",node=\"\"} 2\n"
        ));
        assert!(!text.contains("haproxy_cli_disagreement"));
    }

    /// A family of a column this HAProxy does not print is not written
    /// (promex of that version has none); one of a column it prints is.
    #[test]
    fn a_column_of_a_later_version_is_a_family_only_where_printed() {
        use haproxy_transport::Endpoint;
        let cases = [
            ("# pxname,svname,scur,\nbe,s1,0,\n\n", false),
            ("# pxname,svname,scur,reqbin,\nbe,s1,0,12,\n\n", true),
        ];
        for (stat, written) in cases {
            let snap = Snapshot::from_replies([(
                Endpoint::unix("/a"),
                "Name: HAProxy\nPid: 10\n".to_owned(),
                stat.to_owned(),
            )])
            .expect("snapshot");
            let mut e = Exposition::new();
            e.add_snapshot(&snap, &[], Mode::Combined);
            let text = e.to_text();
            let line = "\nhaproxy_server_req_bytes_in_total{proxy=\"be\",server=\"s1\"} 12\n";
            assert_eq!(text.contains(line), written, "{text}");
            assert_eq!(text.contains("req_bytes_in_total"), written, "{text}");
            assert!(
                text.contains("\nhaproxy_server_current_sessions{proxy=\"be\",server=\"s1\"} 0\n")
            );
        }
    }

    /// A field of a later version: written only where printed. `node`:
    /// a label, once even where the process labels carry it.
    #[test]
    fn later_fields_where_printed_and_node_as_a_label() {
        use haproxy_transport::Endpoint;
        let proc = |pid: u32, extra: &str| {
            (
                Endpoint::unix(format!("/{pid}")),
                format!("Name: HAProxy\nPid: {pid}\nnode: n1\n{extra}"),
                "# pxname,svname,scur,\nbe,BACKEND,0,\n\n".to_owned(),
            )
        };
        let old = || proc(10, "");
        let new = || proc(11, "TotalWarnings: 3\nPatternsAdded: 9\n");
        let cases: [(Vec<_>, Mode, &[&str]); 4] = [
            (
                vec![old()],
                Mode::Combined,
                &["haproxy_process_node{node=\"n1\"} 1"],
            ),
            (
                vec![new()],
                Mode::Combined,
                &[
                    "haproxy_process_node{node=\"n1\"} 1",
                    "haproxy_process_total_warnings_total 3",
                    "haproxy_process_patterns_added_total 9",
                ],
            ),
            (
                vec![old(), new()],
                Mode::PerProcess,
                &[
                    "haproxy_process_node{pid=\"10\",node=\"n1\"} 1",
                    "haproxy_process_node{pid=\"11\",node=\"n1\"} 1",
                    "haproxy_process_total_warnings_total{pid=\"11\",node=\"n1\"} 3",
                    "haproxy_process_patterns_added_total{pid=\"11\",node=\"n1\"} 9",
                ],
            ),
            // Printed by one process only: the sum of those that print
            // it, flagged; the labels as when every process prints it.
            (
                vec![old(), new()],
                Mode::Combined,
                &[
                    "haproxy_process_node{node=\"n1\"} 1",
                    "haproxy_process_total_warnings_total 3",
                    "haproxy_process_patterns_added_total 9",
                    "haproxy_cli_disagreement{scope=\"process\",field=\"TotalWarnings\"} 1",
                    "haproxy_cli_disagreement{scope=\"process\",field=\"PatternsAdded\"} 1",
                ],
            ),
        ];
        let names = ["node", "total_warnings_total", "patterns_added_total"];
        for (procs, mode, want) in cases {
            let snap = Snapshot::from_replies(procs).expect("snapshot");
            let mut e = Exposition::new();
            e.add_process(&snap, &[], mode, |m| names.contains(&m.name));
            let text = e.to_text();
            let got: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            assert_eq!(got, want, "{mode:?}");
        }
    }

    /// `spliced_bytes_out_total` from 2.6's misspelt field, 3.0's, and a
    /// fleet of both: one value, never NaN.
    #[test]
    fn a_field_spelt_two_ways_is_one_metric() {
        use haproxy_transport::Endpoint;
        let stat = "# pxname,svname,scur,\nbe,BACKEND,0,\n\n";
        let proc = |pid: u32, spelling: &str, n: u64| {
            (
                Endpoint::unix(format!("/{pid}")),
                format!("Name: HAProxy\nPid: {pid}\n{spelling}: {n}\n"),
                stat.to_owned(),
            )
        };
        let (old, new) = ("TotalSplicdedBytesOut", "TotalSplicedBytesOut");
        let cases: [(Vec<_>, Mode, &[&str]); 5] = [
            (
                vec![proc(10, old, 3)],
                Mode::Combined,
                &["haproxy_process_spliced_bytes_out_total 3"],
            ),
            (
                vec![proc(10, new, 4)],
                Mode::Combined,
                &["haproxy_process_spliced_bytes_out_total 4"],
            ),
            (
                vec![proc(10, old, 3), proc(11, new, 4)],
                Mode::Combined,
                &["haproxy_process_spliced_bytes_out_total 7"],
            ),
            (
                vec![proc(10, old, 3), proc(11, new, 4)],
                Mode::PerProcess,
                &[
                    "haproxy_process_spliced_bytes_out_total{pid=\"10\",node=\"\"} 3",
                    "haproxy_process_spliced_bytes_out_total{pid=\"11\",node=\"\"} 4",
                ],
            ),
            (
                vec![proc(10, "Other", 1)],
                Mode::Combined,
                &["haproxy_process_spliced_bytes_out_total NaN"],
            ),
        ];
        for (procs, mode, want) in cases {
            let snap = Snapshot::from_replies(procs).expect("snapshot");
            let mut e = Exposition::new();
            e.add_process(&snap, &[], mode, |m| m.name == "spliced_bytes_out_total");
            let text = e.to_text();
            let got: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            assert_eq!(got, want, "{mode:?}");
        }
    }

    #[test]
    fn a_failing_writer_is_an_error() {
        struct Full(usize);
        impl io::Write for Full {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                if self.0 < b.len() {
                    return Err(io::Error::new(io::ErrorKind::WriteZero, "full"));
                }
                self.0 -= b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let snap = two_processes(1_000);
        let mut e = Exposition::new();
        e.add_snapshot(&snap, &[], Mode::PerProcess);
        let err = e.write_to(&mut Full(100_000)).expect_err("full");
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    }

    #[test]
    fn numbers() {
        assert_eq!(number(None), "NaN");
        assert_eq!(number(Some(&Value::Text("x".into()))), "NaN");
        assert_eq!(number(Some(&Value::Signed(-1))), "-1");
        assert_eq!(number(Some(&Value::Signed(i64::MIN))), i64::MIN.to_string());
        assert_eq!(number(Some(&Value::Unsigned(0))), "0");
        assert_eq!(
            number(Some(&Value::Unsigned(u64::MAX))),
            u64::MAX.to_string()
        );
        assert_eq!(number(Some(&Value::Unsigned(1_234_567))), "1234567");
        assert_eq!(millis(Some(&Value::Unsigned(1500))), "1.500000");
        assert_eq!(millis(None), "NaN");
    }
}
