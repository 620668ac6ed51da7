//! Printing, in every format: `table` for people, `json` and `csv` for
//! scripts, `prometheus` for scrapers.
//!
//! Rules shared by every format:
//! - a value combined across processes is printed as one value; a
//!   must-agree column on which processes disagree is printed as every
//!   process's value (`{UP|DOWN}` in a table or CSV cell, an object
//!   `{"disagreement": [{"process": …, "value": …}]}` in JSON, one sample
//!   per process in Prometheus), never as one picked value;
//! - JSON numbers are numbers and empty fields `null`;
//! - map and ACL listings must agree across processes (entry ids aside,
//!   which are per process): if they do not, the command fails and says
//!   which processes differ rather than printing one of them.

use crate::{Failure, Format};
use haproxy_admin::prometheus::{Exposition, Mode, INFO_METRICS};
use haproxy_admin::{
    BorrowedObject, Combined, CombinedRef, Entry, Error, Lookup, MapInfo, ObjectKind, PerProcess,
    ProcessId, Snapshot, StatObject, Value, ValueRef,
};
use haproxy_proto::field::is_separator;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

type Result<T = ()> = std::result::Result<T, Failure>;

/// `--per-process`: set once by `main` before any output.
static PER_PROCESS: AtomicBool = AtomicBool::new(false);

/// Prometheus output keeps one series per process (`--per-process`).
pub fn set_per_process(on: bool) {
    PER_PROCESS.store(on, Ordering::Relaxed);
}

fn prometheus_mode() -> Mode {
    if PER_PROCESS.load(Ordering::Relaxed) {
        Mode::PerProcess
    } else {
        Mode::Combined
    }
}

/// `metric NAME --format prometheus`: the process metric promex names
/// for `show info` field NAME.
pub fn prometheus_metric(out: &mut impl Write, snap: &Snapshot, name: &str) -> Result {
    if !INFO_METRICS.iter().any(|m| m.fields.contains(&name)) {
        return Err(Failure::Usage(format!(
            "show info field {name} has no Prometheus metric (promex exports none); \
             use --format table, json or csv"
        )));
    }
    let mut e = Exposition::new();
    e.add_process(snap, &[], prometheus_mode(), |m| m.fields.contains(&name));
    e.write_to(out)?;
    Ok(())
}

fn json_err(e: serde_json::Error) -> Failure {
    Failure::json(e)
}

fn not_for(format: Format, what: &str) -> Failure {
    let name = match format {
        Format::Table => "table",
        Format::Json => "json",
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
        Format::Prometheus => "prometheus",
    };
    Failure::Usage(format!(
        "--format {name} does not apply to {what}; use table, json or csv"
    ))
}

// ---- cells --------------------------------------------------------------

/// A combined value as one table or CSV cell (control characters made
/// visible).
pub fn cell(v: Option<CombinedRef<'_>>) -> String {
    cell_or(v, "")
}

/// [`cell`] with `empty` for an empty field (and for a process without a
/// value in a disagreement, shown as `{UP|-|UP}`).
pub fn cell_or(v: Option<CombinedRef<'_>>, empty: &str) -> String {
    let text = |v: Option<ValueRef<'_>>| {
        v.map_or_else(
            || empty.to_owned(),
            |v| crate::escape::control(&v.to_string()).into_owned(),
        )
    };
    match v {
        None => empty.to_owned(),
        Some(CombinedRef::Owned(Combined::Disagreement { values })) => {
            let parts: Vec<String> = values
                .iter()
                .map(|(_, v)| text(v.as_ref().map(Value::as_ref)))
                .collect();
            format!("{{{}}}", parts.join("|"))
        }
        Some(c) => text(c.value()),
    }
}

/// RFC 4180 quoting, as HAProxy's own CSV does it, control characters
/// made visible.
fn csv_field(s: &str) -> String {
    let s = crate::escape::control(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// One CSV row of `fields`, RFC 4180 quoting, control characters made
/// visible.
pub fn csv_row<'a>(out: &mut impl Write, fields: impl IntoIterator<Item = &'a str>) -> Result {
    let mut first = true;
    for f in fields {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        out.write_all(csv_field(f).as_bytes())?;
    }
    out.write_all(b"\n")?;
    Ok(())
}

/// Left-aligned columns, two spaces apart.
fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> Result {
    table_rows(out, Some(header), rows)
}

/// An aligned table, with the header line left out when `header` is `None`
/// (`--no-header`; the widths are those of the rows). Control characters
/// are made visible.
pub fn table_rows(out: &mut impl Write, header: Option<&[&str]>, rows: &[Vec<String>]) -> Result {
    let shown = header.is_some();
    let header: Vec<String> = match header {
        Some(h) => h
            .iter()
            .map(|h| crate::escape::control(h).into_owned())
            .collect(),
        None => vec![String::new(); rows.first().map_or(0, Vec::len)],
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::escape::control(c).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line =
        |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
            let mut s = String::new();
            for (i, c) in cells.enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                s.push_str(c);
                let pad = widths[i].saturating_sub(c.chars().count());
                s.push_str(&" ".repeat(pad));
            }
            writeln!(out, "{}", s.trim_end())
        };
    if shown {
        line(out, &mut header.iter().map(String::as_str))?;
    }
    for r in &rows {
        line(out, &mut r.iter().map(String::as_str))?;
    }
    Ok(())
}

// ---- show info ----------------------------------------------------------

/// Every `show info` field name, in the first process's order, then any
/// that only other processes print.
fn info_names(snap: &Snapshot) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, info) in snap.info() {
        for (n, _) in &info.fields {
            if !names.iter().any(|x| x == n) {
                names.push(n.clone());
            }
        }
    }
    names
}

/// `info`: every `show info` field, combined across processes.
pub fn info(out: &mut impl Write, format: Format, snap: &Snapshot) -> Result {
    let fields: Vec<(String, Option<Combined<Value>>)> = info_names(snap)
        .into_iter()
        .map(|n| {
            let v = snap.info_field(&n);
            (n, v)
        })
        .collect();
    match format {
        Format::Table => {
            let w = fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (n, v) in &fields {
                let n = crate::escape::control(n);
                writeln!(out, "{n:<w$}  {}", cell(v.as_ref().map(CombinedRef::from)))?;
            }
        }
        Format::Json | Format::Jsonl => {
            struct Fields<'a>(&'a [(String, Option<Combined<Value>>)]);
            impl Serialize for Fields<'_> {
                fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                    let mut m = s.serialize_map(Some(self.0.len()))?;
                    for (n, v) in self.0 {
                        m.serialize_entry(n, v)?;
                    }
                    m.end()
                }
            }
            serde_json::to_writer_pretty(&mut *out, &Fields(&fields)).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv => {
            csv_row(out, ["field", "value"])?;
            for (n, v) in &fields {
                csv_row(
                    out,
                    [n.as_str(), cell(v.as_ref().map(CombinedRef::from)).as_str()],
                )?;
            }
        }
        Format::Prometheus => {
            let mut e = Exposition::new();
            e.add_process(snap, &[], prometheus_mode(), |_| true);
            e.write_to(out)?;
        }
    }
    Ok(())
}

/// `metric NAME`: the bare value by default.
pub fn metric(out: &mut impl Write, format: Format, name: &str, v: &Value) -> Result {
    match format {
        Format::Table => writeln!(out, "{v}")?,
        Format::Json | Format::Jsonl => {
            serde_json::to_writer(&mut *out, v).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv => {
            csv_row(out, ["metric", "value"])?;
            csv_row(out, [name, v.to_string().as_str()])?;
        }
        Format::Prometheus => return Err(not_for(format, "metric (use prometheus_metric)")),
    }
    Ok(())
}

// ---- stat objects ---------------------------------------------------------

/// The columns a table shows per kind; every format but `table` shows
/// all of them.
pub fn table_columns(kind: ObjectKind) -> &'static [&'static str] {
    match kind {
        ObjectKind::Frontend => &[
            "status", "scur", "slim", "stot", "rate", "req_rate", "ereq", "dreq", "bin", "bout",
        ],
        ObjectKind::Backend => &[
            "status", "act", "bck", "scur", "stot", "rate", "qcur", "econ", "eresp", "bin", "bout",
        ],
        ObjectKind::Server | ObjectKind::Listener => &[
            "status",
            "weight",
            "addr",
            "check_status",
            "scur",
            "stot",
            "rate",
            "qcur",
            "econ",
            "lastchg",
        ],
    }
}

fn is_server(kind: ObjectKind) -> bool {
    matches!(kind, ObjectKind::Server | ObjectKind::Listener)
}

/// `name` (and `backend` for servers) then every column, in header order.
struct JsonObject<'a>(&'a StatObject);

impl Serialize for JsonObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let o = self.0;
        let mut m = s.serialize_map(None)?;
        if is_server(o.kind()) {
            m.serialize_entry("name", o.name())?;
            m.serialize_entry("backend", o.proxy())?;
        } else {
            m.serialize_entry("name", o.proxy())?;
        }
        for (c, v) in o.iter().filter(|(c, _)| !is_separator(c)) {
            m.serialize_entry(c, &v)?;
        }
        // An object only some processes have says how many.
        if o.is_partial() {
            m.serialize_entry("processes", &o.processes())?;
        }
        m.end()
    }
}

/// A listing's columns as JSON fields (`,"scur":null`), escaped once for
/// every object of the listing: what [`JsonObject`] writes, without
/// escaping 100 names again for each of 10,000 servers.
struct JsonKeys {
    /// Every column's field when it is empty (`,"name":null`), one after
    /// the other: a run of empty fields is written in one copy.
    nulls: Vec<u8>,
    /// Where each column's field starts in `nulls`, and where the last
    /// ends.
    at: Vec<usize>,
}

/// An empty field's value.
const NULL: &[u8] = b"null";

/// The fields of one object, written in column order: the empty ones are
/// held back until the next value (or the end) writes them in one run.
struct Fields<'k> {
    keys: &'k JsonKeys,
    /// The first column not written yet.
    next: usize,
}

impl JsonKeys {
    fn new(columns: &[Box<str>]) -> Result<JsonKeys> {
        let mut nulls = Vec::new();
        let mut at = vec![0];
        for c in columns {
            // A separator's field is empty: written neither as a key nor
            // as a value (see `Fields::field`).
            if !is_separator(c) {
                nulls.push(b',');
                serde_json::to_writer(&mut nulls, &**c).map_err(json_err)?;
                nulls.push(b':');
                nulls.extend_from_slice(NULL);
            }
            at.push(nulls.len());
        }
        Ok(JsonKeys { nulls, at })
    }

    fn fields(&self) -> Fields<'_> {
        Fields {
            keys: self,
            next: 0,
        }
    }

    /// Writes `o` as [`JsonObject`] serialises it.
    fn write(&self, out: &mut impl Write, o: &StatObject) -> Result {
        self.head(out, o.kind(), o.name(), o.proxy())?;
        // The object's columns are its snapshot's (the same list).
        let mut fields = self.fields();
        for (i, (c, v)) in o.iter().enumerate() {
            fields.field(out, i, c, v.as_ref())?;
        }
        fields.end(out)?;
        self.tail(out, o.is_partial().then(|| o.processes()))
    }

    /// Writes `o` as [`JsonKeys::write`] writes its [`StatObject`],
    /// straight from the snapshot, after a comma.
    fn write_borrowed(&self, out: &mut Vec<u8>, o: &mut BorrowedObject<'_>) -> Result {
        out.push(b',');
        self.head(out, o.kind(), o.name(), o.proxy())?;
        let mut fields = self.fields();
        let mut i = 0;
        o.try_for_each_value(|c, v| {
            fields.field(out, i, c, v)?;
            i += 1;
            Ok::<(), Failure>(())
        })?;
        fields.end(out)?;
        self.tail(out, o.is_partial().then(|| o.processes()))
    }

    /// `{"name":…` (and `"backend":…` for a server).
    fn head(&self, out: &mut impl Write, kind: ObjectKind, name: &str, proxy: &str) -> Result {
        out.write_all(b"{\"name\":")?;
        if is_server(kind) {
            serde_json::to_writer(&mut *out, name).map_err(json_err)?;
            out.write_all(b",\"backend\":")?;
        }
        serde_json::to_writer(&mut *out, proxy).map_err(json_err)
    }

    /// How many processes have the object, when only some do, and `}`.
    fn tail(&self, out: &mut impl Write, partial: Option<usize>) -> Result {
        if let Some(n) = partial {
            write!(out, ",\"processes\":{n}")?;
        }
        Ok(out.write_all(b"}")?)
    }
}

impl Fields<'_> {
    /// `,"column":value` for column `i` (`null` when empty), columns
    /// given in order. Integers, most of a listing, are written here;
    /// the rest as serde writes them.
    #[inline]
    fn field(
        &mut self,
        out: &mut impl Write,
        i: usize,
        column: &str,
        value: Option<&CombinedRef<'_>>,
    ) -> Result {
        let Some(value) = value else {
            return Ok(());
        };
        let at = &self.keys.at;
        let (Some(&from), Some(&start), Some(&end)) = (at.get(self.next), at.get(i), at.get(i + 1))
        else {
            if is_separator(column) {
                return Ok(());
            }
            // Not a column of the listing: written whole.
            self.end(out)?;
            out.write_all(b",")?;
            serde_json::to_writer(&mut *out, column).map_err(json_err)?;
            out.write_all(b":")?;
            return serde_json::to_writer(&mut *out, value).map_err(json_err);
        };
        if start == end {
            // A separator (no key): the empty fields before it are
            // written with the next value's run.
            return Ok(());
        }
        // The empty fields before this one, and its key.
        out.write_all(
            self.keys
                .nulls
                .get(from.min(start)..end - NULL.len())
                .unwrap_or_default(),
        )?;
        self.next = i + 1;
        match *value {
            CombinedRef::Value(ValueRef::Unsigned(n)) => {
                out.write_all(itoa::Buffer::new().format(n).as_bytes())?
            }
            CombinedRef::Value(ValueRef::Signed(n)) => {
                out.write_all(itoa::Buffer::new().format(n).as_bytes())?
            }
            ref v => serde_json::to_writer(&mut *out, v).map_err(json_err)?,
        }
        Ok(())
    }

    /// The empty fields after the last value.
    fn end(&mut self, out: &mut impl Write) -> Result {
        let at = &self.keys.at;
        if let (Some(&from), Some(&end)) = (at.get(self.next), at.last()) {
            out.write_all(self.keys.nulls.get(from..end).unwrap_or_default())?;
        }
        self.next = at.len();
        Ok(())
    }
}

struct JsonObjects<'a>(&'a [StatObject]);

impl Serialize for JsonObjects<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for o in self.0 {
            seq.serialize_element(&JsonObject(o))?;
        }
        seq.end()
    }
}

fn display_name(o: &StatObject) -> &str {
    if is_server(o.kind()) {
        o.name()
    } else {
        o.proxy()
    }
}

/// The name as a table shows it: marked with how many processes have the
/// object when only some do (`app7 [1/2]`).
pub fn table_name(o: &StatObject) -> String {
    if o.is_partial() {
        format!(
            "{} [{}/{}]",
            display_name(o),
            o.processes(),
            o.of_processes()
        )
    } else {
        display_name(o).to_owned()
    }
}

/// `frontend list`, `backend list`, `server list`.
pub fn objects(
    out: &mut impl Write,
    format: Format,
    kind: ObjectKind,
    list: &[StatObject],
) -> Result {
    match format {
        Format::Table => {
            let cols = table_columns(kind);
            let mut header: Vec<&str> = Vec::new();
            if is_server(kind) {
                header.push("backend");
            }
            header.push("name");
            header.extend_from_slice(cols);
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|o| {
                    let mut r = Vec::with_capacity(header.len());
                    if is_server(kind) {
                        r.push(o.proxy().to_owned());
                    }
                    r.push(table_name(o));
                    r.extend(cols.iter().map(|c| cell(o.get(c))));
                    r
                })
                .collect();
            table(out, &header, &rows)?;
        }
        Format::Json | Format::Jsonl => {
            serde_json::to_writer(&mut *out, &JsonObjects(list)).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let Some(first) = list.first() else {
                return Ok(());
            };
            let partial = list.iter().any(StatObject::is_partial);
            csv_header(out, kind, first, partial)?;
            for o in list {
                csv_object(out, kind, o, partial)?;
            }
        }
        // Prometheus reads the snapshot itself (see `stream_objects`).
        Format::Prometheus => return Err(not_for(format, "objects without their snapshot")),
    }
    Ok(())
}

/// The CSV header of a listing whose first object is `first`; with a
/// last column `processes` when some objects of the listing are on only
/// some processes (`partial`).
fn csv_header(out: &mut impl Write, kind: ObjectKind, first: &StatObject, partial: bool) -> Result {
    let mut header: Vec<&str> = vec!["name"];
    if is_server(kind) {
        header.push("backend");
    }
    header.extend(first.iter().map(|(c, _)| c));
    if partial {
        header.push("processes");
    }
    csv_row(out, header)
}

/// One object as a CSV row (see [`csv_header`] for `partial`).
fn csv_object(out: &mut impl Write, kind: ObjectKind, o: &StatObject, partial: bool) -> Result {
    let mut r: Vec<String> = vec![display_name(o).to_owned()];
    if is_server(kind) {
        r.push(o.proxy().to_owned());
    }
    r.extend(o.iter().map(|(_, v)| cell(v)));
    if partial {
        r.push(o.processes().to_string());
    }
    csv_row(out, r.iter().map(String::as_str))
}

/// A listing straight from the snapshot, the objects whose proxy and
/// name `keep` accepts: as [`stream_objects`] writes it, JSON written on
/// every core from the snapshot's values without building the objects.
pub fn stream_objects_by_name(
    out: &mut impl Write,
    format: Format,
    kind: ObjectKind,
    snap: &Snapshot,
    keep: impl Fn(&str, &str) -> bool + Sync,
) -> Result {
    if format != Format::Json {
        return stream_objects(out, format, kind, snap, |o| keep(o.proxy(), o.name()));
    }
    let keys = JsonKeys::new(snap.columns())?;
    out.write_all(b"[")?;
    // Every object is written after a comma; the listing's first one is
    // not.
    let mut first = true;
    snap.render_objects(
        kind,
        |o, buf| {
            if keep(o.proxy(), o.name()) {
                keys.write_borrowed(buf, o)?;
            }
            Ok(())
        },
        |bytes| {
            let bytes = match bytes.split_first() {
                Some((_, rest)) if first => {
                    first = false;
                    rest
                }
                _ => bytes,
            };
            out.write_all(bytes).map_err(Failure::from)
        },
    )?;
    out.write_all(b"]\n")?;
    Ok(())
}

/// A listing straight from the snapshot, the objects `keep` accepts. JSON
/// and CSV are streamed object by object, so memory stays flat however
/// many servers there are; a table (column widths) and Prometheus
/// (grouped by metric) need every object first.
pub fn stream_objects(
    out: &mut impl Write,
    format: Format,
    kind: ObjectKind,
    snap: &Snapshot,
    keep: impl Fn(&StatObject) -> bool,
) -> Result {
    match format {
        Format::Json | Format::Jsonl => {
            out.write_all(b"[")?;
            let mut first = true;
            let keys = JsonKeys::new(snap.columns())?;
            snap.for_each_stat_object(kind, |o| -> Result {
                if !keep(&o) {
                    return Ok(());
                }
                if !first {
                    out.write_all(b",")?;
                }
                first = false;
                keys.write(out, &o)
            })?;
            out.write_all(b"]\n")?;
        }
        Format::Csv => {
            let mut first = true;
            let partial = snap.partial_objects(kind) > 0;
            snap.for_each_stat_object(kind, |o| -> Result {
                if !keep(&o) {
                    return Ok(());
                }
                if first {
                    csv_header(out, kind, &o, partial)?;
                    first = false;
                }
                csv_object(out, kind, &o, partial)
            })?;
        }
        Format::Prometheus => {
            // The filter sees each object once; the writer reads the
            // snapshot itself (promex's names, per process if asked).
            let kept: HashSet<(String, String)> = snap
                .stat_objects(kind)
                .into_iter()
                .filter(|o| keep(o))
                .map(|o| (o.proxy().to_owned(), o.name().to_owned()))
                .collect();
            let mut e = Exposition::new();
            e.add_objects(snap, &[], prometheus_mode(), |k, proxy, name| {
                k == kind && kept.contains(&(proxy.to_owned(), name.to_owned()))
            });
            e.write_to(out)?;
        }
        Format::Table => {
            let list: Vec<StatObject> = snap
                .stat_objects(kind)
                .into_iter()
                .filter(|o| keep(o))
                .collect();
            objects(out, format, kind, &list)?;
        }
    }
    Ok(())
}

/// `frontend show`, `backend show`, `server show`: one object, every
/// column.
pub fn object(out: &mut impl Write, format: Format, kind: ObjectKind, o: &StatObject) -> Result {
    match format {
        Format::Table => {
            let w = o.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
            for (c, v) in o.iter() {
                let c = crate::escape::control(c);
                let line = format!("{c:<w$}  {}", cell(v));
                writeln!(out, "{}", line.trim_end())?;
            }
        }
        Format::Json | Format::Jsonl => {
            serde_json::to_writer_pretty(&mut *out, &JsonObject(o)).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv | Format::Prometheus => objects(out, format, kind, std::slice::from_ref(o))?,
    }
    Ok(())
}

// ---- dump -----------------------------------------------------------------

/// `dump`: every frontend, backend and server, every column, every
/// process, uncombined.
pub fn dump(out: &mut impl Write, format: Format, snap: &Snapshot) -> Result {
    let mut rows: Vec<(ProcessId, StatObject)> = Vec::new();
    for f in snap.frontends() {
        rows.extend(f.stats_per_process());
    }
    for b in snap.backends() {
        rows.extend(b.stats_per_process());
    }
    for s in snap.servers(None) {
        rows.extend(s.stats_per_process());
    }
    match format {
        Format::Table => {
            for (p, o) in &rows {
                let fields: Vec<String> = o
                    .iter()
                    .filter_map(|(c, v)| v.map(|v| format!("{c}={}", cell(Some(v)))))
                    .collect();
                writeln!(
                    out,
                    "{} {}/{} [{p}] {}",
                    kind_name(o.kind()),
                    o.proxy(),
                    o.name(),
                    fields.join(" ")
                )?;
            }
        }
        Format::Json | Format::Jsonl => {
            struct Rows<'a>(&'a [(ProcessId, StatObject)]);
            impl Serialize for Rows<'_> {
                fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                    #[derive(Serialize)]
                    struct Row<'a> {
                        kind: &'static str,
                        process: &'a ProcessId,
                        fields: &'a StatObject,
                    }
                    let mut seq = s.serialize_seq(Some(self.0.len()))?;
                    for (p, o) in self.0 {
                        seq.serialize_element(&Row {
                            kind: kind_name(o.kind()),
                            process: p,
                            fields: o,
                        })?;
                    }
                    seq.end()
                }
            }
            serde_json::to_writer(&mut *out, &Rows(&rows)).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let Some((_, first)) = rows.first() else {
                return Ok(());
            };
            let mut header = vec!["kind", "pid"];
            header.extend(first.iter().map(|(c, _)| c));
            csv_row(out, header)?;
            for (p, o) in &rows {
                let mut r = vec![kind_name(o.kind()).to_owned(), p.pid.to_string()];
                r.extend(o.iter().map(|(_, v)| cell(v)));
                csv_row(out, r.iter().map(String::as_str))?;
            }
        }
        Format::Prometheus => {
            return Err(not_for(
                format,
                "dump (use `server list --format prometheus`)",
            ))
        }
    }
    Ok(())
}

fn kind_name(k: ObjectKind) -> &'static str {
    match k {
        ObjectKind::Frontend => "frontend",
        ObjectKind::Backend => "backend",
        ObjectKind::Server => "server",
        ObjectKind::Listener => "listener",
    }
}

// ---- per-process text -------------------------------------------------------

/// `raw`, `errors`: each process's reply, verbatim.
pub fn per_process_text<T: AsRef<str>>(
    out: &mut impl Write,
    format: Format,
    replies: &PerProcess<T>,
) -> Result {
    match format {
        Format::Table => {
            let many = replies.len() > 1;
            for (p, text) in replies {
                if many {
                    writeln!(out, "==> {p} <==")?;
                }
                let t = text.as_ref().trim_end_matches('\n');
                if !t.is_empty() {
                    writeln!(out, "{t}")?;
                }
            }
        }
        Format::Json | Format::Jsonl => {
            #[derive(Serialize)]
            struct Reply<'a> {
                process: &'a ProcessId,
                output: &'a str,
            }
            let v: Vec<Reply<'_>> = replies
                .iter()
                .map(|(p, t)| Reply {
                    process: p,
                    output: t.as_ref(),
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &v).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv => {
            csv_row(out, ["pid", "output"])?;
            for (p, t) in replies {
                csv_row(out, [p.pid.to_string().as_str(), t.as_ref()])?;
            }
        }
        Format::Prometheus => return Err(not_for(format, "text replies")),
    }
    Ok(())
}

// ---- maps and ACLs -------------------------------------------------------------

/// The one value every process agrees on, or an error naming each
/// process's version. `same` says what must agree.
fn agreed<'a, T, K: PartialEq + std::fmt::Debug>(
    what: &str,
    per: &'a PerProcess<T>,
    same: impl Fn(&T) -> K,
) -> Result<Option<&'a T>> {
    let Some((_, first)) = per.first() else {
        return Ok(None);
    };
    let k = same(first);
    if per.iter().all(|(_, t)| same(t) == k) {
        return Ok(Some(first));
    }
    Err(Failure::Admin(Error::InconsistentData {
        what: what.to_owned(),
        values: per
            .iter()
            .map(|(p, t)| (p.clone(), Some(format!("{:?}", same(t)))))
            .collect(),
    }))
}

/// `map list`, `acl list`.
pub fn lists(out: &mut impl Write, format: Format, per: &PerProcess<Vec<MapInfo>>) -> Result {
    let list = agreed("the map/ACL list", per, |l| {
        l.iter()
            .map(|m| (m.id, m.file.clone(), m.entry_cnt))
            .collect::<Vec<_>>()
    })?;
    let list = list.map(Vec::as_slice).unwrap_or_default();
    match format {
        Format::Table => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|m| {
                    vec![
                        m.id.to_string(),
                        m.file.clone().unwrap_or_default(),
                        m.entry_cnt.map_or_else(String::new, |n| n.to_string()),
                        m.description.clone(),
                    ]
                })
                .collect();
            table(out, &["id", "file", "entries", "description"], &rows)?;
        }
        Format::Json | Format::Jsonl => {
            serde_json::to_writer_pretty(&mut *out, list).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv => {
            csv_row(out, ["id", "file", "entries", "description"])?;
            for m in list {
                let id = m.id.to_string();
                let n = m.entry_cnt.map_or_else(String::new, |n| n.to_string());
                csv_row(
                    out,
                    [
                        id.as_str(),
                        m.file.as_deref().unwrap_or(""),
                        n.as_str(),
                        m.description.as_str(),
                    ],
                )?;
            }
        }
        Format::Prometheus => return Err(not_for(format, "map and ACL listings")),
    }
    Ok(())
}

/// `map show`, `acl show`: `[{"id", "key", "value"}]` (ids are those of
/// the first process; entry ids are per process).
pub fn entries(out: &mut impl Write, format: Format, per: &PerProcess<Vec<Entry>>) -> Result {
    // Processes that hold other entries: the first differing key, with
    // every process's value there, and how many keys differ.
    let diffs = haproxy_admin::entry_differences(per);
    if let Some((key, values)) = diffs.first() {
        return Err(Failure::Admin(Error::InconsistentData {
            what: format!(
                "the entries ({}; `check` lists them), first {key:?}",
                if diffs.len() == 1 {
                    "1 key differs".to_owned()
                } else {
                    format!("{} keys differ", diffs.len())
                }
            ),
            values: values.clone(),
        }));
    }
    // An entry id is one process's pointer: shown only where every
    // process has that id (one process, as a rule), else `-` (JSON null),
    // so that no id is taken for the fleet's.
    let shared: std::collections::HashSet<&str> = match per.split_first() {
        Some(((_, first), rest)) => {
            let others: Vec<std::collections::HashSet<&str>> = rest
                .iter()
                .map(|(_, l)| l.iter().map(|e| e.id.as_str()).collect())
                .collect();
            first
                .iter()
                .map(|e| e.id.as_str())
                .filter(|id| others.iter().all(|o| o.contains(id)))
                .collect()
        }
        None => Default::default(),
    };
    fn shown<'e>(shared: &std::collections::HashSet<&str>, e: &'e Entry) -> Option<&'e str> {
        shared.contains(e.id.as_str()).then_some(e.id.as_str())
    }
    let id = |e| shown(&shared, e);
    let list = per.first().map(|(_, l)| l.as_slice()).unwrap_or_default();
    match format {
        Format::Table => {
            for e in list {
                let i = id(e).unwrap_or("-");
                match &e.value {
                    Some(v) => writeln!(out, "{i} {} {v}", e.key)?,
                    None => writeln!(out, "{i} {}", e.key)?,
                }
            }
        }
        Format::Json | Format::Jsonl => {
            let shown: Vec<serde_json::Value> = list
                .iter()
                .map(|e| {
                    let mut v = serde_json::to_value(e).unwrap_or_default();
                    if id(e).is_none() {
                        v["id"] = serde_json::Value::Null;
                    }
                    v
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &shown).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv => {
            csv_row(out, ["id", "key", "value"])?;
            for e in list {
                csv_row(
                    out,
                    [
                        id(e).unwrap_or("-"),
                        e.key.as_str(),
                        e.value.as_deref().unwrap_or(""),
                    ],
                )?;
            }
        }
        Format::Prometheus => return Err(not_for(format, "map and ACL entries")),
    }
    Ok(())
}

/// `map get`, `acl get`.
pub fn lookups(out: &mut impl Write, format: Format, per: &PerProcess<Vec<Lookup>>) -> Result {
    let list = agreed("the lookup", per, |l| l.clone())?;
    let list = list.map(Vec::as_slice).unwrap_or_default();
    match format {
        Format::Table => {
            for l in list {
                let mut s = format!(
                    "type={} found={}",
                    l.match_type,
                    if l.found { "yes" } else { "no" }
                );
                if let Some(k) = &l.key {
                    s.push_str(&format!(" key={k:?}"));
                }
                if let Some(v) = &l.value {
                    s.push_str(&format!(" value={v:?}"));
                }
                writeln!(out, "{s}")?;
            }
        }
        Format::Json | Format::Jsonl => {
            serde_json::to_writer_pretty(&mut *out, list).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Csv => {
            csv_row(out, ["type", "found", "key", "value"])?;
            for l in list {
                let found = if l.found { "yes" } else { "no" };
                csv_row(
                    out,
                    [
                        l.match_type.as_str(),
                        found,
                        l.key.as_deref().unwrap_or(""),
                        l.value.as_deref().unwrap_or(""),
                    ],
                )?;
            }
        }
        Format::Prometheus => return Err(not_for(format, "lookups")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_written_from_the_snapshot_is_the_json_of_its_objects() {
        use haproxy_admin::Endpoint;
        // Three processes: sums, a must-agree column that disagrees, an
        // average, text with quotes and escapes, an object only two
        // processes have, empty fields first, inside and last, and enough
        // servers to be written on every core.
        let header = "# pxname,svname,scur,weight,status,addr,rtime,check_desc,type,tracked,\n";
        let stat = |p: u32| {
            let mut s = header.to_owned();
            for i in 0..3000 {
                if p == 2 && i % 7 == 0 {
                    continue;
                }
                let weight = if i % 11 == 0 { p } else { 1 };
                let scur = if i % 3 == 0 {
                    String::new()
                } else {
                    (i + p as usize).to_string()
                };
                s += &format!(
                    "be_{},s{i},{},{weight},UP,10.0.0.{}:80,{},\"say \"\"hi\"\"\\\\\",2,,\n",
                    i % 5,
                    scur,
                    i % 250,
                    p * 3 + i as u32 % 4,
                );
            }
            s += "be_0,BACKEND,1,3,UP,,5,,1,,\nfe,FRONTEND,2,,OPEN,,,,0,,\n\n";
            s
        };
        let snap = Snapshot::from_replies((0..3).map(|p| {
            (
                Endpoint::unix(format!("/run/p{p}.sock")),
                format!("Pid: {}\n", 10 + p),
                stat(p),
            )
        }))
        .expect("snapshot");
        for kind in [
            ObjectKind::Server,
            ObjectKind::Backend,
            ObjectKind::Frontend,
        ] {
            for keep_all in [true, false] {
                let keep = |px: &str, _: &str| keep_all || px != "be_3";
                let mut old = Vec::new();
                stream_objects(&mut old, Format::Json, kind, &snap, |o| {
                    keep(o.proxy(), o.name())
                })
                .expect("old");
                let mut new = Vec::new();
                stream_objects_by_name(&mut new, Format::Json, kind, &snap, keep).expect("new");
                assert_eq!(
                    String::from_utf8_lossy(&new),
                    String::from_utf8_lossy(&old),
                    "{kind:?}"
                );
                // Both as serde writes the objects, field by field.
                let kept: Vec<StatObject> = snap
                    .stat_objects(kind)
                    .into_iter()
                    .filter(|o| keep(o.proxy(), o.name()))
                    .collect();
                let mut serde = Vec::new();
                objects(&mut serde, Format::Json, kind, &kept).expect("serde");
                assert_eq!(
                    String::from_utf8_lossy(&new),
                    String::from_utf8_lossy(&serde),
                    "{kind:?}"
                );
            }
        }
        let mut all = Vec::new();
        stream_objects_by_name(&mut all, Format::Json, ObjectKind::Server, &snap, |_, _| {
            true
        })
        .expect("listing");
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains("disagreement"), "the weights disagree");
        assert!(text.contains("\"processes\":2"), "partial objects");
        let mut none = Vec::new();
        stream_objects_by_name(
            &mut none,
            Format::Json,
            ObjectKind::Server,
            &snap,
            |_, _| false,
        )
        .expect("listing");
        assert_eq!(none, b"[]\n");
    }

    #[test]
    fn cells_and_quoting() {
        assert_eq!(cell(None), "");
        assert_eq!(cell(Some(CombinedRef::Value(ValueRef::Unsigned(3)))), "3");
        let p = |pid| ProcessId::new(pid, None, None);
        let d = Combined::Disagreement {
            values: vec![(p(1), Some(Value::Text("UP".into()))), (p(2), None)],
        };
        assert_eq!(cell(Some(CombinedRef::from(&d))), "{UP|}");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}

/// One certificate file as a group of processes serves it: the rows of
/// `cert list` and `cert show`.
#[derive(Debug, Serialize)]
pub struct CertRow<'a> {
    /// The pids that serve this version of the file.
    pub pids: Vec<u32>,
    /// Whether every process of the set serves it so.
    pub everywhere: bool,
    /// Seconds left until it expires (negative: expired).
    pub expires_in: Option<i64>,
    /// The certificate.
    #[serde(flatten)]
    pub cert: &'a haproxy_admin::Cert,
}

/// Groups certificates by file, then by fingerprint: one row where every
/// process serves the same certificate, one per group where they differ
/// (or where only some processes hold the file).
pub fn cert_rows(per: &PerProcess<Vec<haproxy_admin::Cert>>, now: i64) -> Vec<CertRow<'_>> {
    let mut rows: Vec<CertRow<'_>> = Vec::new();
    for (p, certs) in per {
        for c in certs {
            match rows
                .iter_mut()
                .find(|r| r.cert.file == c.file && r.cert.sha1 == c.sha1)
            {
                Some(r) => r.pids.push(p.pid),
                None => rows.push(CertRow {
                    pids: vec![p.pid],
                    everywhere: false,
                    expires_in: c.not_after_unix.map(|t| t - now),
                    cert: c,
                }),
            }
        }
    }
    for r in &mut rows {
        r.everywhere = r.pids.len() == per.len();
    }
    rows.sort_by(|a, b| a.cert.file.cmp(&b.cert.file).then(a.pids.cmp(&b.pids)));
    rows
}

/// `cert list`, `cert show`.
pub fn certs(out: &mut impl Write, format: Format, rows: &[CertRow<'_>]) -> Result {
    const HEADER: [&str; 9] = [
        "file",
        "processes",
        "not_after",
        "days_left",
        "subject",
        "sans",
        "serial",
        "sha1",
        "status",
    ];
    let cells = |r: &CertRow<'_>| -> Vec<String> {
        let c = r.cert;
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        vec![
            c.file.clone(),
            if r.everywhere {
                "all".to_owned()
            } else {
                r.pids
                    .iter()
                    .map(|p| format!("pid {p}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            opt(&c.not_after),
            r.expires_in
                .map_or_else(String::new, |s| s.div_euclid(86_400).to_string()),
            opt(&c.subject),
            c.sans.join(" "),
            opt(&c.serial),
            opt(&c.sha1),
            opt(&c.status),
        ]
    };
    match format {
        Format::Table => {
            let rows: Vec<Vec<String>> = rows.iter().map(cells).collect();
            table(out, &HEADER, &rows)?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for r in rows {
                serde_json::to_writer(&mut *out, r).map_err(json_err)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            csv_row(out, HEADER)?;
            for r in rows {
                let c = cells(r);
                csv_row(out, c.iter().map(String::as_str))?;
            }
        }
        Format::Prometheus => return Err(not_for(format, "certificate listings")),
    }
    Ok(())
}

/// `table list`: one row per table, entries summed over the processes
/// that hold it.
pub fn tables(
    out: &mut impl Write,
    format: Format,
    per: &PerProcess<Vec<haproxy_admin::TableInfo>>,
) -> Result {
    let mut rows: Vec<(haproxy_admin::TableInfo, usize)> = Vec::new();
    for (_, list) in per {
        for t in list {
            match rows.iter_mut().find(|(r, _)| r.name == t.name) {
                Some((r, n)) => {
                    r.used += t.used;
                    *n += 1;
                }
                None => rows.push((t.clone(), 1)),
            }
        }
    }
    const HEADER: [&str; 5] = ["table", "type", "size", "used", "processes"];
    let cells = |(t, n): &(haproxy_admin::TableInfo, usize)| {
        vec![
            t.name.clone(),
            t.key_type.clone(),
            t.size.to_string(),
            t.used.to_string(),
            n.to_string(),
        ]
    };
    match format {
        Format::Table => table(out, &HEADER, &rows.iter().map(cells).collect::<Vec<_>>())?,
        Format::Json | Format::Jsonl => {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(t, n)| {
                    serde_json::json!({"table": t.name, "type": t.key_type, "size": t.size, "used": t.used, "processes": n})
                })
                .collect();
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut *out, &list).map_err(json_err)?;
                writeln!(out)?;
            } else {
                for l in list {
                    serde_json::to_writer(&mut *out, &l).map_err(json_err)?;
                    writeln!(out)?;
                }
            }
        }
        Format::Csv => {
            csv_row(out, HEADER)?;
            for r in &rows {
                let c = cells(r);
                csv_row(out, c.iter().map(String::as_str))?;
            }
        }
        Format::Prometheus => return Err(not_for(format, "stick table listings")),
    }
    Ok(())
}

/// `table show`: one row per key, its data combined
/// ([`haproxy_admin::combine_entries`]): `type=value`, a per-process
/// value as `type=pid:value/pid:value`.
pub fn table_entries(
    out: &mut impl Write,
    format: Format,
    entries: &[haproxy_admin::CombinedEntry],
) -> Result {
    use haproxy_admin::TableValue;
    let data = |e: &haproxy_admin::CombinedEntry| {
        e.data
            .iter()
            .map(|(t, v)| match v {
                TableValue::Sum(n) => format!("{t}={n}"),
                TableValue::Same(s) => format!("{t}={s}"),
                TableValue::PerProcess(per) => format!(
                    "{t}={}",
                    per.iter()
                        .map(|(p, v)| format!("{p}:{v}"))
                        .collect::<Vec<_>>()
                        .join("/")
                ),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let pids = |e: &haproxy_admin::CombinedEntry| {
        e.pids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    const HEADER: [&str; 3] = ["key", "pids", "data"];
    match format {
        Format::Table => {
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|e| vec![e.key.clone(), pids(e), data(e)])
                .collect();
            table(out, &HEADER, &rows)?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, entries).map_err(json_err)?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for e in entries {
                serde_json::to_writer(&mut *out, e).map_err(json_err)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            csv_row(out, HEADER)?;
            for e in entries {
                let (p, d) = (pids(e), data(e));
                csv_row(out, [e.key.as_str(), p.as_str(), d.as_str()])?;
            }
        }
        Format::Prometheus => return Err(not_for(format, "stick table entries")),
    }
    Ok(())
}
