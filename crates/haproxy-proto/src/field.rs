//! The columns of `show stat`: every standard column HAProxy has printed
//! from 1.3.15 to 3.4, each with its name, the kind of value it holds, how it
//! combines across processes, and the version that added it.
//!
//! All of it lives in one table (the `columns!` invocation below), which
//! expands to the [`Column`] enum and one exhaustive `match` per property:
//! nothing is decided by comparing names at run time.
//!
//! Columns HAProxy prints that are not in the table — the literal `-`
//! separator of 2.3+ and the per-module columns after it (`h1_*`, `h2_*`,
//! `ssl_*`, `quic_*`, resolvers, …), or standard columns newer than this
//! code — are kept by name as [`HeaderColumn::Unknown`].
//!
//! ```
//! use haproxy_proto::field::{Column, ValueKind};
//! use haproxy_proto::Combine;
//!
//! let c = Column::from_name("qmax").expect("a standard column");
//! assert_eq!(c, Column::Qmax);
//! assert_eq!(c.info().combine, Combine::Max);
//! assert_eq!(c.info().kind, ValueKind::Max);
//! assert_eq!(Column::SrcIlim.name(), "src_ilim"); // HAProxy's spelling
//! ```

use std::fmt;

use crate::Combine;

/// What a column's values are, which also says how the parser reads them:
/// the numeric kinds are parsed as integers, the others as text or as one
/// of the enums of [`crate::value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// A name or free-form identifier (`pxname`, `svname`, `cookie`,
    /// `tracked`, `algo`, `proto`).
    Name,
    /// Free text (`last_chk`, `check_desc`, …).
    Text,
    /// A cumulative counter since start (nature `C`).
    Counter,
    /// A current value (nature `G`).
    Gauge,
    /// A configured limit (nature `L`).
    Limit,
    /// The highest value seen (nature `M`).
    Max,
    /// Events per second over the last second (nature `R`).
    Rate,
    /// Milliseconds, averaged over the last 1024 requests (nature `a`).
    AverageMs,
    /// Seconds since an event (nature `A`); `-1` when it never happened.
    Age,
    /// A duration in milliseconds (nature `D`).
    DurationMs,
    /// A numeric identifier (`pid`, `iid`, `sid`, `srid`).
    Id,
    /// A server or backend weight.
    Weight,
    /// A percentage (0–100).
    Percent,
    /// A numeric result code (`check_code`, `agent_code`).
    Code,
    /// A configured check parameter (`check_rise`, `check_fall`, …).
    Setting,
    /// A check's current health counter.
    Health,
    /// A numeric aggregated status (`agg_*`).
    StatusCode,
    /// [`crate::value::Status`].
    Status,
    /// [`crate::value::CheckStatus`].
    CheckStatus,
    /// [`crate::value::ProxyType`] (printed as a number).
    ProxyType,
    /// [`crate::value::Mode`].
    Mode,
    /// [`crate::value::Addr`].
    Addr,
}

impl ValueKind {
    /// Whether the column holds an integer (every kind but the text-like
    /// ones: name, text, status, check status, mode, address).
    pub const fn is_numeric(self) -> bool {
        !matches!(
            self,
            ValueKind::Name
                | ValueKind::Text
                | ValueKind::Status
                | ValueKind::CheckStatus
                | ValueKind::Mode
                | ValueKind::Addr
        )
    }
}

/// Everything known about one standard column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnInfo {
    /// HAProxy's name, exactly as in the header.
    pub name: &'static str,
    /// What its values are.
    pub kind: ValueKind,
    /// How its values of several processes make one value.
    pub combine: Combine,
    /// The first HAProxy version that prints it.
    pub since: &'static str,
    /// What it means, in a few words (after HAProxy's management guide).
    pub description: &'static str,
}

macro_rules! columns {
    ($($variant:ident = $name:literal, $kind:ident, $combine:ident, $since:literal, $desc:literal;)+) => {
        /// A standard `show stat` column. The discriminant is the column's
        /// 0-based position in the header of HAProxy 3.3+ (and of 2.6.8+ /
        /// 2.7.1+ for the first 103); older versions print a prefix of this
        /// list, except that 2.5–2.7.0 have `agg_server_check_status` at
        /// position 100. The parser never relies on positions: the header
        /// says which column is where.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Column {
            $(
                #[doc = concat!("`", $name, "` — ", $desc, " (since ", $since, ").")]
                $variant,
            )+
        }

        impl Column {
            /// Every standard column, in header order.
            pub const ALL: &'static [Column] = &[$(Column::$variant),+];

            /// Everything known about this column.
            pub const fn info(self) -> &'static ColumnInfo {
                match self {
                    $(
                        Column::$variant => &ColumnInfo {
                            name: $name,
                            kind: ValueKind::$kind,
                            combine: Combine::$combine,
                            since: $since,
                            description: $desc,
                        },
                    )+
                }
            }

            /// The column with HAProxy's name `name` (exact, case-sensitive).
            pub fn from_name(name: &str) -> Option<Column> {
                match name {
                    $($name => Some(Column::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

columns! {
    Pxname = "pxname", Name, MustAgree, "1.3.15", "proxy name";
    Svname = "svname", Name, MustAgree, "1.3.15", "service name: FRONTEND, BACKEND, a server name or a listener name";
    Qcur = "qcur", Gauge, Sum, "1.3.15", "current queued requests";
    Qmax = "qmax", Max, Max, "1.3.15", "highest value of qcur";
    Scur = "scur", Gauge, Sum, "1.3.15", "current sessions";
    Smax = "smax", Max, Max, "1.3.15", "highest value of scur";
    Slim = "slim", Limit, Sum, "1.3.15", "configured session limit";
    Stot = "stot", Counter, Sum, "1.3.15", "cumulative number of sessions";
    Bin = "bin", Counter, Sum, "1.3.15", "bytes in";
    Bout = "bout", Counter, Sum, "1.3.15", "bytes out";
    Dreq = "dreq", Counter, Sum, "1.3.15", "requests denied because of security concerns";
    Dresp = "dresp", Counter, Sum, "1.3.15", "responses denied because of security concerns";
    Ereq = "ereq", Counter, Sum, "1.3.15", "request errors";
    Econ = "econ", Counter, Sum, "1.3.15", "errors while connecting to a server";
    Eresp = "eresp", Counter, Sum, "1.3.15", "response errors";
    Wretr = "wretr", Counter, Sum, "1.3.15", "connection retries";
    Wredis = "wredis", Counter, Sum, "1.3.15", "redispatches to another server";
    Status = "status", Status, MustAgree, "1.3.15", "status (UP, DOWN, NOLB, MAINT, DRAIN, OPEN, FULL, no check, ...)";
    Weight = "weight", Weight, MustAgree, "1.3.15", "effective weight (server) or total weight (backend)";
    Act = "act", Gauge, MustAgree, "1.3.15", "number of active servers (backend) or server is active (server)";
    Bck = "bck", Gauge, MustAgree, "1.3.15", "number of backup servers (backend) or server is backup (server)";
    Chkfail = "chkfail", Counter, Sum, "1.3.15", "failed checks";
    Chkdown = "chkdown", Counter, Sum, "1.3.15", "UP to DOWN transitions";
    Lastchg = "lastchg", Age, Min, "1.3.15", "seconds since the last UP/DOWN transition";
    Downtime = "downtime", Counter, Sum, "1.3.15", "total downtime in seconds";
    Qlimit = "qlimit", Limit, Sum, "1.3.15", "configured maxqueue of the server";
    Pid = "pid", Id, First, "1.3.15", "process id (1 for the first process)";
    Iid = "iid", Id, MustAgree, "1.3.15", "unique proxy id";
    Sid = "sid", Id, MustAgree, "1.3.15", "server id, unique inside a proxy";
    Throttle = "throttle", Percent, Average, "1.3.15", "current throttle percentage of a server in slowstart";
    Lbtot = "lbtot", Counter, Sum, "1.3.15", "times a server was selected";
    Tracked = "tracked", Name, MustAgree, "1.3.15", "id of the proxy/server this server tracks";
    Type = "type", ProxyType, MustAgree, "1.3.15", "0=frontend, 1=backend, 2=server, 3=socket/listener";
    Rate = "rate", Rate, Sum, "1.3.16", "sessions per second over the last elapsed second";
    RateLim = "rate_lim", Limit, Sum, "1.3.18", "configured limit on new sessions per second";
    RateMax = "rate_max", Max, Max, "1.3.18", "highest value of rate";
    CheckStatus = "check_status", CheckStatus, MustAgree, "1.4.0", "status of the last health check";
    CheckCode = "check_code", Code, MustAgree, "1.4.0", "layer 5-7 code of the last health check, if available";
    CheckDuration = "check_duration", DurationMs, Average, "1.4.0", "time in ms the last health check took";
    Hrsp1xx = "hrsp_1xx", Counter, Sum, "1.4.0", "HTTP responses with 1xx code";
    Hrsp2xx = "hrsp_2xx", Counter, Sum, "1.4.0", "HTTP responses with 2xx code";
    Hrsp3xx = "hrsp_3xx", Counter, Sum, "1.4.0", "HTTP responses with 3xx code";
    Hrsp4xx = "hrsp_4xx", Counter, Sum, "1.4.0", "HTTP responses with 4xx code";
    Hrsp5xx = "hrsp_5xx", Counter, Sum, "1.4.0", "HTTP responses with 5xx code";
    HrspOther = "hrsp_other", Counter, Sum, "1.4.0", "HTTP responses with other codes (protocol error)";
    Hanafail = "hanafail", Counter, Sum, "1.4.0", "failed health checks details";
    ReqRate = "req_rate", Rate, Sum, "1.4.0", "HTTP requests per second over the last elapsed second";
    ReqRateMax = "req_rate_max", Max, Max, "1.4.0", "highest value of req_rate";
    ReqTot = "req_tot", Counter, Sum, "1.4.0", "total number of HTTP requests received";
    CliAbrt = "cli_abrt", Counter, Sum, "1.4.1", "data transfers aborted by the client";
    SrvAbrt = "srv_abrt", Counter, Sum, "1.4.1", "data transfers aborted by the server";
    CompIn = "comp_in", Counter, Sum, "1.5", "HTTP response bytes fed to the compressor";
    CompOut = "comp_out", Counter, Sum, "1.5", "HTTP response bytes emitted by the compressor";
    CompByp = "comp_byp", Counter, Sum, "1.5", "bytes that bypassed the HTTP compressor";
    CompRsp = "comp_rsp", Counter, Sum, "1.5", "HTTP responses that were compressed";
    Lastsess = "lastsess", Age, Average, "1.5", "seconds since the last session was assigned to the server/backend (-1 if never)";
    LastChk = "last_chk", Text, MustAgree, "1.5", "last health check contents or textual error";
    LastAgt = "last_agt", Text, MustAgree, "1.5", "last agent check contents or textual error";
    Qtime = "qtime", AverageMs, Average, "1.5", "average queue time in ms over the last 1024 requests";
    Ctime = "ctime", AverageMs, Average, "1.5", "average connect time in ms over the last 1024 requests";
    Rtime = "rtime", AverageMs, Average, "1.5", "average response time in ms over the last 1024 requests";
    Ttime = "ttime", AverageMs, Average, "1.5", "average total session time in ms over the last 1024 requests";
    AgentStatus = "agent_status", CheckStatus, MustAgree, "1.7", "status of the last agent check";
    AgentCode = "agent_code", Code, MustAgree, "1.7", "numeric code reported by the agent, if any";
    AgentDuration = "agent_duration", DurationMs, Average, "1.7", "time in ms the last agent check took";
    CheckDesc = "check_desc", Text, MustAgree, "1.7", "short human-readable description of check_status";
    AgentDesc = "agent_desc", Text, MustAgree, "1.7", "short human-readable description of agent_status";
    CheckRise = "check_rise", Setting, MustAgree, "1.7", "server's rise parameter used by checks";
    CheckFall = "check_fall", Setting, MustAgree, "1.7", "server's fall parameter used by checks";
    CheckHealth = "check_health", Health, MustAgree, "1.7", "server's health check value between 0 and rise+fall-1";
    AgentRise = "agent_rise", Setting, MustAgree, "1.7", "agent's rise parameter";
    AgentFall = "agent_fall", Setting, MustAgree, "1.7", "agent's fall parameter";
    AgentHealth = "agent_health", Health, MustAgree, "1.7", "agent's health parameter between 0 and rise+fall-1";
    Addr = "addr", Addr, MustAgree, "1.7", "address:port or \"unix\"";
    Cookie = "cookie", Name, MustAgree, "1.7", "server's cookie value or backend's cookie name";
    Mode = "mode", Mode, MustAgree, "1.7", "proxy mode (tcp, http, health, unknown)";
    Algo = "algo", Name, MustAgree, "1.7", "load balancing algorithm";
    ConnRate = "conn_rate", Rate, Sum, "1.7", "connections per second over the last elapsed second";
    ConnRateMax = "conn_rate_max", Max, Max, "1.7", "highest value of conn_rate";
    ConnTot = "conn_tot", Counter, Sum, "1.7", "cumulative number of connections";
    Intercepted = "intercepted", Counter, Sum, "1.7", "requests intercepted by the frontend (stats, redirects, ...)";
    Dcon = "dcon", Counter, Sum, "1.7", "requests denied by tcp-request connection rules";
    Dses = "dses", Counter, Sum, "1.7", "requests denied by tcp-request session rules";
    Wrew = "wrew", Counter, Sum, "1.9", "failed HTTP header rewrites";
    Connect = "connect", Counter, Sum, "1.9", "connection establishment attempts";
    Reuse = "reuse", Counter, Sum, "1.9", "connection reuses";
    CacheLookups = "cache_lookups", Counter, Sum, "1.9", "cache lookups";
    CacheHits = "cache_hits", Counter, Sum, "1.9", "cache hits";
    SrvIcur = "srv_icur", Gauge, Sum, "2.1", "current idle connections available for reuse";
    SrcIlim = "src_ilim", Limit, Sum, "2.1", "limit on idle connections available for reuse (HAProxy's own spelling of srv_ilim)";
    QtimeMax = "qtime_max", Max, Max, "2.1", "maximum observed queue time in ms";
    CtimeMax = "ctime_max", Max, Max, "2.1", "maximum observed connect time in ms";
    RtimeMax = "rtime_max", Max, Max, "2.1", "maximum observed response time in ms";
    TtimeMax = "ttime_max", Max, Max, "2.1", "maximum observed total session time in ms";
    Eint = "eint", Counter, Sum, "2.2", "internal errors";
    IdleConnCur = "idle_conn_cur", Gauge, Sum, "2.2", "current unsafe idle connections";
    SafeConnCur = "safe_conn_cur", Gauge, Sum, "2.2", "current safe idle connections";
    UsedConnCur = "used_conn_cur", Gauge, Sum, "2.2", "current connections in use";
    NeedConnEst = "need_conn_est", Gauge, Sum, "2.2", "estimated needed number of connections";
    Uweight = "uweight", Weight, MustAgree, "2.3", "total user weight (backend) or user weight (server)";
    AggServerStatus = "agg_server_status", StatusCode, MustAgree, "2.6.8", "backend's aggregated gauge of servers' status (inserted before agg_server_check_status in 2.6.8/2.7.1)";
    AggServerCheckStatus = "agg_server_check_status", StatusCode, MustAgree, "2.5", "deprecated aggregated servers' status (misnamed; see agg_server_status)";
    AggCheckStatus = "agg_check_status", StatusCode, MustAgree, "2.6.8", "backend's aggregated gauge of servers' check status";
    Srid = "srid", Id, MustAgree, "2.8", "server id revision, to tell servers that reuse an id apart";
    SessOther = "sess_other", Counter, Sum, "2.8", "sessions of other protocols (not HTTP/1, HTTP/2, HTTP/3)";
    H1sess = "h1sess", Counter, Sum, "2.8", "HTTP/1 sessions";
    H2sess = "h2sess", Counter, Sum, "2.8", "HTTP/2 sessions";
    H3sess = "h3sess", Counter, Sum, "2.8", "HTTP/3 sessions";
    ReqOther = "req_other", Counter, Sum, "2.8", "requests of other protocols";
    H1req = "h1req", Counter, Sum, "2.8", "HTTP/1 requests";
    H2req = "h2req", Counter, Sum, "2.8", "HTTP/2 requests";
    H3req = "h3req", Counter, Sum, "2.8", "HTTP/3 requests";
    Proto = "proto", Name, MustAgree, "2.9", "forced protocol of the server or listener (e.g. quic)";
    PrivIdleCur = "priv_idle_cur", Gauge, Sum, "3.3", "current private idle connections";
    Reqbin = "reqbin", Counter, Sum, "3.3", "request bytes received (HTTP headers and payload)";
    Reqbout = "reqbout", Counter, Sum, "3.3", "request bytes sent";
    Resbin = "resbin", Counter, Sum, "3.3", "response bytes received";
    Resbout = "resbout", Counter, Sum, "3.3", "response bytes sent";
}

/// How many standard columns there are (the length of [`Column::ALL`]).
pub const COLUMN_COUNT: usize = Column::ALL.len();

impl Column {
    /// HAProxy's name of the column.
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// The column's 0-based place in [`Column::ALL`], usable to index a
    /// small array by column.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The kind of value the column holds.
    pub const fn kind(self) -> ValueKind {
        self.info().kind
    }

    /// How the column combines across processes.
    pub const fn combine(self) -> Combine {
        self.info().combine
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One column of a `show stat` header: a standard [`Column`], or a column
/// this code does not know, kept by its name (the `-` separator, module
/// columns, or standard columns newer than this table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderColumn<'a> {
    /// A column of the table.
    Known(Column),
    /// Any other column, by the name the header gives it.
    Unknown(&'a str),
}

/// Whether a header name is not a field but a separator: HAProxy 2.6
/// prints a column named `-` between its own columns and the modules'
/// (its value is `-` too), and an empty name is no field either. Writers
/// leave these out where a field's name is a key (JSON, lists of
/// columns); CSV keeps HAProxy's header as it is.
pub fn is_separator(name: &str) -> bool {
    matches!(name, "-" | "")
}

impl<'a> HeaderColumn<'a> {
    /// Classifies a header name.
    pub fn from_name(name: &'a str) -> HeaderColumn<'a> {
        match Column::from_name(name) {
            Some(c) => HeaderColumn::Known(c),
            None => HeaderColumn::Unknown(name),
        }
    }

    /// The name as the header gives it.
    pub fn name(&self) -> &'a str {
        match self {
            HeaderColumn::Known(c) => c.name(),
            HeaderColumn::Unknown(n) => n,
        }
    }

    /// The standard column, if this is one.
    pub fn column(&self) -> Option<Column> {
        match self {
            HeaderColumn::Known(c) => Some(*c),
            HeaderColumn::Unknown(_) => None,
        }
    }

    /// The table's entry, for a standard column.
    pub fn info(&self) -> Option<&'static ColumnInfo> {
        self.column().map(Column::info)
    }

    /// How the column combines across processes: the table's
    /// [`Combine`] for a standard column; for another, [`Combine::Sum`]
    /// when it is a per-module column (`h1_*`, `h2_*`, `ssl_*`, …: every
    /// one a counter or a current count of its process), else
    /// [`Combine::MustAgree`].
    pub fn combine(&self) -> Combine {
        match self {
            HeaderColumn::Known(c) => c.combine(),
            HeaderColumn::Unknown(name) if is_module_column(name) => Combine::Sum,
            HeaderColumn::Unknown(_) => Combine::MustAgree,
        }
    }
}

/// The prefixes of the per-module columns HAProxy 2.x and 3.x print after
/// the `-` column. 3.0–3.4's QPACK module names its first column
/// `pack_decompression_failed` (sic; the others are `qpack_*`).
const MODULE_PREFIXES: &[&str] = &[
    "h1_",
    "h2_",
    "h3_",
    "ssl_",
    "quic_",
    "qpack_",
    "pack_decompression_failed",
    "rslv_",
];

fn is_module_column(name: &str) -> bool {
    MODULE_PREFIXES.iter().any(|p| name.starts_with(p))
}

impl fmt::Display for HeaderColumn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for (i, &c) in Column::ALL.iter().enumerate() {
            assert_eq!(c.index(), i, "{c}");
            assert_eq!(Column::from_name(c.name()), Some(c), "{c}");
        }
        let mut names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COLUMN_COUNT);
    }

    #[test]
    fn column_counts_match_haproxy_versions() {
        // (last standard column, how many standard columns end there)
        let cases = [
            ("type", 33),
            ("rate", 34),
            ("rate_max", 36),
            ("req_tot", 49),
            ("srv_abrt", 51),
            ("ttime", 62),
            ("dses", 83),
            ("cache_hits", 88),
            ("ttime_max", 94),
            ("need_conn_est", 99),
            ("uweight", 100),
            ("agg_check_status", 103),
            ("h3req", 112),
            ("proto", 113),
            ("resbout", 118),
        ];
        for (name, count) in cases {
            let c = Column::from_name(name).expect("known column");
            assert_eq!(c.index() + 1, count, "{name}");
        }
        assert_eq!(COLUMN_COUNT, 118);
    }

    #[test]
    fn combine_rules_follow_the_kind() {
        for &c in Column::ALL {
            let i = c.info();
            let ok = match i.kind {
                ValueKind::Counter | ValueKind::Rate | ValueKind::Limit => {
                    i.combine == Combine::Sum
                }
                ValueKind::Max => i.combine == Combine::Max,
                ValueKind::AverageMs | ValueKind::DurationMs | ValueKind::Percent => {
                    i.combine == Combine::Average
                }
                // The most recent change is what an operator means by
                // "since the last change" (205/97/9 s on three processes:
                // 9 s, not 104 s); `lastsess` is -1 where a process never
                // had a session, which neither rule reads right (kept
                // averaged, documented).
                ValueKind::Age => matches!(i.combine, Combine::Min | Combine::Average),
                ValueKind::Gauge => matches!(i.combine, Combine::Sum | Combine::MustAgree),
                ValueKind::Id => matches!(i.combine, Combine::MustAgree | Combine::First),
                _ => i.combine == Combine::MustAgree,
            };
            assert!(ok, "{c}: {:?} with {:?}", i.kind, i.combine);
        }
    }

    #[test]
    fn spot_checks() {
        let cases = [
            ("src_ilim", ValueKind::Limit, Combine::Sum),
            ("pid", ValueKind::Id, Combine::First),
            ("weight", ValueKind::Weight, Combine::MustAgree),
            ("uweight", ValueKind::Weight, Combine::MustAgree),
            ("qtime", ValueKind::AverageMs, Combine::Average),
            ("lastchg", ValueKind::Age, Combine::Min),
            ("smax", ValueKind::Max, Combine::Max),
            ("status", ValueKind::Status, Combine::MustAgree),
            ("addr", ValueKind::Addr, Combine::MustAgree),
            ("type", ValueKind::ProxyType, Combine::MustAgree),
        ];
        for (name, kind, combine) in cases {
            let c = Column::from_name(name).expect("known");
            assert_eq!((c.kind(), c.combine()), (kind, combine), "{name}");
        }
        assert_eq!(Column::from_name("srv_ilim"), None);
        assert_eq!(Column::from_name("PXNAME"), None);
    }

    #[test]
    fn header_columns_keep_unknown_names() {
        assert_eq!(HeaderColumn::from_name("-"), HeaderColumn::Unknown("-"));
        let h = HeaderColumn::from_name("h2_headers_rcvd");
        assert_eq!(h.name(), "h2_headers_rcvd");
        assert_eq!(h.combine(), Combine::Sum, "a module counter");
        let k = HeaderColumn::from_name("scur");
        assert_eq!(k.column(), Some(Column::Scur));
        assert_eq!(k.combine(), Combine::Sum);
        for name in [
            "h3_data",
            "quic_rxbuf_full",
            "qpack_encoder_stream_error",
            "pack_decompression_failed",
        ] {
            assert_eq!(
                HeaderColumn::from_name(name).combine(),
                Combine::Sum,
                "{name}"
            );
        }
        assert_eq!(
            HeaderColumn::from_name("no_such").combine(),
            Combine::MustAgree
        );
        assert_eq!(HeaderColumn::from_name("-").combine(), Combine::MustAgree);
    }
}
