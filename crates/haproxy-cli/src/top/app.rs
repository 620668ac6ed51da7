//! The state of `top`, without a terminal: what is shown (the last data a
//! fetch brought), which view, sort, filter and row are chosen, and the
//! dialog in progress. Keys go in ([`App::key`]), effects come out
//! ([`Effect`]): the event loop sends writes and fetches, the renderer
//! draws. Everything here is plain data, so it is tested without a
//! terminal or HAProxy.

use haproxy_admin::{State, Weight};
use std::cmp::Ordering;

/// A key, as the state machine sees it (the event loop maps the
/// terminal's events to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    CtrlC,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Tab,
    BackTab,
    Enter,
    Esc,
    Backspace,
}

/// The three tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    Frontends,
    Backends,
    Servers,
}

impl View {
    pub(crate) const ALL: [View; 3] = [View::Frontends, View::Backends, View::Servers];

    pub(crate) fn title(self) -> &'static str {
        match self {
            View::Frontends => "Frontends",
            View::Backends => "Backends",
            View::Servers => "Servers",
        }
    }

    fn index(self) -> usize {
        match self {
            View::Frontends => 0,
            View::Backends => 1,
            View::Servers => 2,
        }
    }

    /// The `show stat` columns the view shows after the name, most
    /// important first (the last ones are dropped first on a narrow
    /// terminal).
    pub(crate) fn columns(self) -> &'static [&'static str] {
        match self {
            View::Frontends => &["status", "scur", "rate", "req_rate", "stot", "slim", "ereq"],
            View::Backends => &[
                "status", "act", "bck", "scur", "rate", "qcur", "stot", "econ",
            ],
            View::Servers => &[
                "status",
                "weight",
                "scur",
                "check_status",
                "rate",
                "qcur",
                "stot",
            ],
        }
    }

    /// The header of the name column.
    pub(crate) fn name_header(self) -> &'static str {
        match self {
            View::Frontends => "frontend",
            View::Backends => "backend",
            View::Servers => "server",
        }
    }
}

/// One row of a table: the object and its cells (name first, then the
/// view's columns), as text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The proxy (frontend or backend name).
    pub(crate) proxy: String,
    /// The server name (`FRONTEND`/`BACKEND` for proxies).
    pub(crate) name: String,
    /// The name cell, then one cell per view column.
    pub(crate) cells: Vec<String>,
    /// Columns on which the processes disagree: `(column, [(process,
    /// value)])`. Empty when they agree.
    pub(crate) disagreements: Vec<(String, Vec<(String, String)>)>,
    /// The view's columns, process by process (filled for disagreeing
    /// objects, for the per-process view).
    pub(crate) per_process: Vec<(String, Vec<String>)>,
}

impl Row {
    fn key(&self) -> (&str, &str) {
        (&self.proxy, &self.name)
    }
}

/// What one fetch brought.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Data {
    /// The summary line (processes, version, connections).
    pub(crate) summary: String,
    /// Processes that failed to answer, one line each.
    pub(crate) failures: Vec<String>,
    /// Rows of each view, in HAProxy's order.
    pub(crate) tables: [Vec<Row>; 3],
    /// How many processes answered.
    pub(crate) processes: usize,
}

/// A write on the selected server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    State(State),
    Weight(Weight),
}

impl Action {
    fn verb(&self) -> String {
        match self {
            Action::State(State::Ready) => "enable (state ready)".to_owned(),
            Action::State(State::Drain) => "drain".to_owned(),
            Action::State(State::Maint) => "disable (state maint)".to_owned(),
            Action::State(other) => format!("state {}", other.as_str()),
            Action::Weight(Weight::Absolute(w)) => format!("set weight {w}"),
            Action::Weight(Weight::Percent(p)) => format!("set weight {p}%"),
        }
    }
}

/// A write to send: the action on `backend/server`, on every process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Write {
    pub(crate) backend: String,
    pub(crate) server: String,
    pub(crate) action: Action,
}

impl Write {
    /// "drain be_app/app1".
    pub(crate) fn describe(&self) -> String {
        format!("{} {}/{}", self.action.verb(), self.backend, self.server)
    }
}

/// The dialog in progress, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Browsing.
    Normal,
    /// Typing a filter (applied as typed).
    Filter,
    /// Typing a weight for the selected server.
    Weight { input: String },
    /// Waiting for `y` to send the write.
    Confirm(Write),
    /// Showing the selected object process by process.
    PerProcess,
    /// Showing the keys.
    Help,
}

/// What the event loop must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    None,
    Quit,
    Refresh,
    Send(Write),
}

/// A message at the bottom: the outcome of the last write, or a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Note {
    Info(String),
    Error(String),
}

/// The whole state of the view.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) data: Data,
    pub(crate) view: View,
    /// Sort column per view: `None` for HAProxy's order, else the cell
    /// index; and whether descending.
    sort: [(Option<usize>, bool); 3],
    pub(crate) filter: String,
    /// The selected object per view, by `(proxy, name)`, so it stays on
    /// the same object across refreshes and sorts.
    selected: [Option<(String, String)>; 3],
    pub(crate) mode: Mode,
    pub(crate) note: Option<Note>,
    /// The last fetch's error, shown until a fetch succeeds.
    pub(crate) fetch_error: Option<String>,
    /// Rows the table area shows (for page up/down), set by the renderer.
    pub(crate) page: usize,
}

impl App {
    pub(crate) fn new() -> App {
        App {
            data: Data::default(),
            view: View::Servers,
            sort: [(None, false); 3],
            filter: String::new(),
            selected: [None, None, None],
            mode: Mode::Normal,
            note: None,
            fetch_error: None,
            page: 10,
        }
    }

    /// New data from a fetch; keeps view, sort, filter and selection.
    pub(crate) fn set_data(&mut self, data: Data) {
        self.data = data;
        self.fetch_error = None;
        self.keep_selection();
    }

    /// The sort of the current view: the cell index (if any) and whether
    /// descending.
    pub(crate) fn sort(&self) -> (Option<usize>, bool) {
        self.sort[self.view.index()]
    }

    /// The header of the current view: the name column, then the
    /// columns.
    pub(crate) fn header(&self) -> Vec<&'static str> {
        let mut h = vec![self.view.name_header()];
        h.extend_from_slice(self.view.columns());
        h
    }

    /// The rows of the current view, filtered and sorted.
    pub(crate) fn rows(&self) -> Vec<&Row> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&Row> = self.data.tables[self.view.index()]
            .iter()
            .filter(|r| {
                needle.is_empty() || r.cells.iter().any(|c| c.to_lowercase().contains(&needle))
            })
            .collect();
        if let (Some(col), desc) = self.sort() {
            // Stable: rows that compare equal keep HAProxy's order.
            rows.sort_by(|a, b| {
                let o = compare_cells(a.cells.get(col), b.cells.get(col));
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        rows
    }

    /// The index of the selected row among [`App::rows`].
    pub(crate) fn selected_index(&self) -> Option<usize> {
        let sel = self.selected[self.view.index()].as_ref()?;
        self.rows()
            .iter()
            .position(|r| r.key() == (sel.0.as_str(), sel.1.as_str()))
    }

    /// The selected row.
    pub(crate) fn selected_row(&self) -> Option<&Row> {
        let i = self.selected_index()?;
        self.rows().get(i).copied()
    }

    fn select_at(&mut self, i: usize) {
        let key = self
            .rows()
            .get(i)
            .map(|r| (r.proxy.clone(), r.name.clone()));
        self.selected[self.view.index()] = key;
    }

    /// After new data, a filter or a sort: the selection stays on its
    /// object if it is still shown, else moves to the first row.
    fn keep_selection(&mut self) {
        if self.selected_index().is_none() {
            self.select_at(0);
        }
    }

    fn move_by(&mut self, delta: isize) {
        let n = self.rows().len();
        if n == 0 {
            return;
        }
        let at = self.selected_index().unwrap_or(0);
        let to = at.saturating_add_signed(delta).min(n - 1);
        self.select_at(to);
    }

    /// Handles one key.
    pub(crate) fn key(&mut self, key: Key) -> Effect {
        if key == Key::CtrlC {
            return Effect::Quit;
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.normal_key(key),
            Mode::Filter => {
                match key {
                    Key::Enter => {}
                    Key::Esc => self.filter.clear(),
                    Key::Backspace => {
                        self.filter.pop();
                        self.mode = Mode::Filter;
                    }
                    Key::Char(c) if !c.is_control() => {
                        self.filter.push(c);
                        self.mode = Mode::Filter;
                    }
                    _ => self.mode = Mode::Filter,
                }
                self.keep_selection();
                Effect::None
            }
            Mode::Weight { mut input } => {
                match key {
                    Key::Esc => self.note = Some(Note::Info("weight not changed".into())),
                    Key::Enter => match (parse_weight(&input), self.selected_server()) {
                        (Ok(w), Some((backend, server))) => {
                            self.mode = Mode::Confirm(Write {
                                backend,
                                server,
                                action: Action::Weight(w),
                            });
                        }
                        (Err(e), _) => {
                            self.note = Some(Note::Error(e));
                            self.mode = Mode::Weight { input };
                        }
                        (Ok(_), None) => {}
                    },
                    Key::Backspace => {
                        input.pop();
                        self.mode = Mode::Weight { input };
                    }
                    Key::Char(c) if c.is_ascii_digit() || c == '%' => {
                        if input.len() < 4 {
                            input.push(c);
                        }
                        self.mode = Mode::Weight { input };
                    }
                    _ => self.mode = Mode::Weight { input },
                }
                Effect::None
            }
            Mode::Confirm(write) => match key {
                Key::Char('y') | Key::Char('Y') => {
                    self.note = Some(Note::Info(format!("sending: {}", write.describe())));
                    Effect::Send(write)
                }
                _ => {
                    self.note = Some(Note::Info(format!("cancelled: {}", write.describe())));
                    Effect::None
                }
            },
            Mode::PerProcess | Mode::Help => match key {
                Key::Char('q') => Effect::Quit,
                _ => Effect::None,
            },
        }
    }

    fn normal_key(&mut self, key: Key) -> Effect {
        let page = self.page.max(1) as isize;
        match key {
            Key::Char('q') => return Effect::Quit,
            Key::Esc => {
                self.note = None;
            }
            Key::Tab | Key::Right => {
                self.view = View::ALL[(self.view.index() + 1) % 3];
                self.keep_selection();
            }
            Key::BackTab | Key::Left => {
                self.view = View::ALL[(self.view.index() + 2) % 3];
                self.keep_selection();
            }
            Key::Char('f') => self.switch(View::Frontends),
            Key::Char('b') => self.switch(View::Backends),
            Key::Char('v') => self.switch(View::Servers),
            Key::Up | Key::Char('k') => self.move_by(-1),
            Key::Down | Key::Char('j') => self.move_by(1),
            Key::PageUp => self.move_by(-page),
            Key::PageDown => self.move_by(page),
            Key::Home | Key::Char('g') => self.select_at(0),
            Key::End | Key::Char('G') => {
                let n = self.rows().len();
                self.select_at(n.saturating_sub(1));
            }
            Key::Char('s') => {
                let cols = self.header().len();
                let s = &mut self.sort[self.view.index()];
                s.0 = match s.0 {
                    None => Some(0),
                    Some(c) if c + 1 < cols => Some(c + 1),
                    Some(_) => None,
                };
            }
            Key::Char('S') => {
                let s = &mut self.sort[self.view.index()];
                s.1 = !s.1;
            }
            Key::Char('/') => self.mode = Mode::Filter,
            Key::Char('r') => return Effect::Refresh,
            Key::Char('?') | Key::Char('h') => self.mode = Mode::Help,
            Key::Enter | Key::Char('p') if self.selected_row().is_some() => {
                self.mode = Mode::PerProcess;
            }
            Key::Char(c @ ('e' | 'x' | 'd' | 'w')) => self.action_key(c),
            _ => {}
        }
        Effect::None
    }

    fn switch(&mut self, view: View) {
        self.view = view;
        self.keep_selection();
    }

    /// `backend/server` of the selected row, in the servers view.
    fn selected_server(&self) -> Option<(String, String)> {
        if self.view != View::Servers {
            return None;
        }
        self.selected_row()
            .map(|r| (r.proxy.clone(), r.name.clone()))
    }

    fn action_key(&mut self, c: char) {
        let Some((backend, server)) = self.selected_server() else {
            self.note = Some(Note::Error(
                "select a server first (servers view: v, then arrows)".into(),
            ));
            return;
        };
        let action = match c {
            'e' => Action::State(State::Ready),
            'x' => Action::State(State::Maint),
            'd' => Action::State(State::Drain),
            _ => {
                self.mode = Mode::Weight {
                    input: String::new(),
                };
                return;
            }
        };
        self.mode = Mode::Confirm(Write {
            backend,
            server,
            action,
        });
    }

    /// The outcome of a write.
    pub(crate) fn written(&mut self, write: &Write, result: Result<usize, String>) {
        self.note = Some(match result {
            Ok(n) => Note::Info(format!("done: {} on {n} process(es)", write.describe())),
            Err(e) => Note::Error(format!("FAILED: {}: {e}", write.describe())),
        });
    }
}

/// Numbers compare as numbers, `-` (empty) first, text as text.
fn compare_cells(a: Option<&String>, b: Option<&String>) -> Ordering {
    let num = |s: Option<&String>| s.and_then(|s| s.parse::<f64>().ok());
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(&b),
    }
}

/// `0`–`256`, or `N%`.
pub(crate) fn parse_weight(s: &str) -> Result<Weight, String> {
    let bad = || format!("weight must be 0-256 or a percentage like 50%, not {s:?}");
    match s.strip_suffix('%') {
        Some(p) => Ok(Weight::Percent(p.parse().map_err(|_| bad())?)),
        None => match s.parse::<u16>() {
            Ok(w) if w <= 256 => Ok(Weight::Absolute(w)),
            _ => Err(bad()),
        },
    }
}

/// The width of each column (0: dropped) so that the columns and one
/// space between each fit in `width`: the name column gives way first
/// (down to `min_name`, its text elided), then columns are dropped from
/// the right; the name column is never dropped, only cut to what is left.
pub(crate) fn fit_widths(natural: &[usize], width: usize, min_name: usize) -> Vec<usize> {
    let mut w = natural.to_vec();
    let total = |w: &[usize]| {
        let shown = w.iter().filter(|&&x| x > 0).count();
        w.iter().sum::<usize>() + shown.saturating_sub(1)
    };
    if w.is_empty() || total(&w) <= width {
        return w;
    }
    let over = total(&w) - width;
    let name_min = min_name.min(w[0]);
    w[0] -= over.min(w[0] - name_min);
    let mut last = w.len();
    while total(&w) > width && last > 1 {
        last -= 1;
        w[last] = 0;
    }
    if total(&w) > width {
        w[0] = width;
    }
    w
}

/// `text` cut to `width` characters, its last one `~` when cut.
pub(crate) fn elide(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut s: String = text.chars().take(width - 1).collect();
    s.push('~');
    s
}

/// The natural width of each column of `rows` under `header`.
pub(crate) fn natural_widths(header: &[&str], rows: &[&Row]) -> Vec<usize> {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in w.iter_mut().zip(&r.cells) {
            *w = (*w).max(c.chars().count());
        }
    }
    w
}

/// One table as lines of text no wider than `width` (for a pipe, and the
/// unit tests): header, then rows.
pub(crate) fn text_table(header: &[&str], rows: &[&Row], width: usize) -> Vec<String> {
    let widths = fit_widths(&natural_widths(header, rows), width, 12);
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (c, &w) in cells.zip(&widths) {
            if w == 0 {
                continue;
            }
            if !s.is_empty() {
                s.push(' ');
            }
            let c = elide(c, w);
            let pad = w - c.chars().count();
            s.push_str(&c);
            s.push_str(&" ".repeat(pad));
        }
        s.trim_end().to_owned()
    };
    let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    let mut out = vec![line(&mut upper.iter().map(String::as_str))];
    for r in rows {
        out.push(line(&mut r.cells.iter().map(String::as_str)));
    }
    out
}

/// A row of test data: agreed values, nothing per process.
#[cfg(test)]
fn row(proxy: &str, name: &str, cells: &[&str]) -> Row {
    Row {
        proxy: proxy.into(),
        name: name.into(),
        cells: cells.iter().map(|c| (*c).to_owned()).collect(),
        disagreements: Vec::new(),
        per_process: Vec::new(),
    }
}

/// A small fleet's data, for the tests of this module and the renderer.
#[cfg(test)]
pub(crate) fn sample() -> App {
    let mut a = App::new();
    let servers = vec![
        row(
            "be_app",
            "app1",
            &["be_app/app1", "UP", "1", "5", "L7OK", "0", "0", "10"],
        ),
        row(
            "be_app",
            "app2",
            &["be_app/app2", "DOWN", "1", "0", "L4CON", "0", "0", "2"],
        ),
        row(
            "be_static",
            "s1",
            &["be_static/s1", "UP", "10", "12", "-", "0", "0", "100"],
        ),
        row(
            "be_static",
            "s2",
            &["be_static/s2", "MAINT", "20", "0", "-", "0", "0", "7"],
        ),
    ];
    a.set_data(Data {
        summary: "3 process(es), HAProxy 2.6.12".into(),
        failures: vec![],
        tables: [
            vec![row("fe_http", "FRONTEND", &["fe_http", "OPEN"])],
            vec![row("be_app", "BACKEND", &["be_app", "UP"])],
            servers,
        ],
        processes: 3,
    });
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        sample()
    }

    fn names(a: &App) -> Vec<String> {
        a.rows().iter().map(|r| r.cells[0].clone()).collect()
    }

    fn selected(a: &App) -> String {
        a.selected_row()
            .map(|r| r.cells[0].clone())
            .unwrap_or_default()
    }

    #[test]
    fn sort_cycles_columns_numerically_and_reverses() {
        let mut a = app();
        assert_eq!(a.view, View::Servers);
        assert_eq!(a.sort(), (None, false));
        // s: name, s: status, s: weight — numbers compare as numbers.
        a.key(Key::Char('s'));
        assert_eq!(a.sort(), (Some(0), false));
        a.key(Key::Char('s'));
        assert_eq!(names(&a)[0], "be_app/app2", "DOWN sorts first");
        a.key(Key::Char('s'));
        a.key(Key::Char('s'));
        assert_eq!(a.sort(), (Some(3), false), "scur");
        assert_eq!(
            names(&a),
            ["be_app/app2", "be_static/s2", "be_app/app1", "be_static/s1"]
        );
        a.key(Key::Char('S'));
        assert_eq!(names(&a)[0], "be_static/s1", "12 sessions, descending");
        // Past the last column: back to HAProxy's order.
        for _ in 0..5 {
            a.key(Key::Char('s'));
        }
        assert_eq!(a.sort().0, None);
        assert_eq!(names(&a)[0], "be_app/app1");
        // Each view keeps its own sort.
        a.key(Key::Char('f'));
        assert_eq!(a.sort(), (None, false));
    }

    #[test]
    fn filter_narrows_and_the_selection_follows() {
        let mut a = app();
        a.key(Key::Down);
        a.key(Key::Down);
        assert_eq!(selected(&a), "be_static/s1");
        a.key(Key::Char('/'));
        assert_eq!(a.mode, Mode::Filter);
        for c in "STATIC".chars() {
            a.key(Key::Char(c));
        }
        assert_eq!(
            names(&a),
            ["be_static/s1", "be_static/s2"],
            "case-insensitive"
        );
        assert_eq!(selected(&a), "be_static/s1", "still shown: kept");
        a.key(Key::Backspace);
        a.key(Key::Enter);
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.filter, "STATI");
        // A filter matches any cell (status here); the selection moves to
        // the first row when its object is filtered out.
        a.key(Key::Char('/'));
        for _ in 0..5 {
            a.key(Key::Backspace);
        }
        for c in "down".chars() {
            a.key(Key::Char(c));
        }
        assert_eq!(names(&a), ["be_app/app2"]);
        assert_eq!(selected(&a), "be_app/app2");
        // Esc clears the filter.
        a.key(Key::Esc);
        assert_eq!(a.filter, "");
        assert_eq!(names(&a).len(), 4);
    }

    #[test]
    fn selection_moves_within_bounds_and_survives_refresh_and_sort() {
        let mut a = app();
        assert_eq!(selected(&a), "be_app/app1");
        a.key(Key::Up);
        assert_eq!(selected(&a), "be_app/app1");
        a.key(Key::End);
        assert_eq!(selected(&a), "be_static/s2");
        a.key(Key::Down);
        assert_eq!(selected(&a), "be_static/s2");
        a.key(Key::Char('k'));
        assert_eq!(selected(&a), "be_static/s1");
        // Sorting moves the row, not the selection.
        a.key(Key::Char('s'));
        a.key(Key::Char('s'));
        assert_eq!(selected(&a), "be_static/s1");
        // A refresh with the rows in another order keeps it too.
        let mut d = a.data.clone();
        d.tables[2].reverse();
        a.set_data(d);
        assert_eq!(selected(&a), "be_static/s1");
        // A refresh without the object moves it to the first row.
        let mut d = a.data.clone();
        d.tables[2].retain(|r| r.name != "s1");
        a.set_data(d);
        assert!(a.selected_row().is_some());
        assert_ne!(selected(&a), "be_static/s1");
    }

    #[test]
    fn drain_asks_first_and_sends_only_on_yes() {
        let mut a = app();
        a.key(Key::Down);
        assert_eq!(a.key(Key::Char('d')), Effect::None);
        let want = Write {
            backend: "be_app".into(),
            server: "app2".into(),
            action: Action::State(State::Drain),
        };
        assert_eq!(a.mode, Mode::Confirm(want.clone()));
        // Anything but y cancels.
        assert_eq!(a.key(Key::Char('n')), Effect::None);
        assert_eq!(a.mode, Mode::Normal);
        assert!(matches!(&a.note, Some(Note::Info(m)) if m.starts_with("cancelled")));
        a.key(Key::Char('d'));
        assert_eq!(a.key(Key::Char('y')), Effect::Send(want.clone()));
        assert_eq!(a.mode, Mode::Normal);
        // A failure is shown as such.
        a.written(&want, Err("No such server.".into()));
        assert!(matches!(&a.note, Some(Note::Error(m)) if m.contains("No such server.")));
        a.written(&want, Ok(3));
        assert!(
            matches!(&a.note, Some(Note::Info(m)) if m == "done: drain be_app/app2 on 3 process(es)")
        );
    }

    #[test]
    fn enable_disable_and_weight_with_confirmation() {
        let mut a = app();
        a.key(Key::Char('e'));
        assert!(matches!(&a.mode, Mode::Confirm(w) if w.action == Action::State(State::Ready)));
        a.key(Key::Esc);
        a.key(Key::Char('x'));
        assert!(matches!(&a.mode, Mode::Confirm(w) if w.action == Action::State(State::Maint)));
        a.key(Key::Esc);
        a.key(Key::Char('w'));
        for c in "300".chars() {
            a.key(Key::Char(c));
        }
        a.key(Key::Enter);
        assert!(matches!(&a.mode, Mode::Weight { .. }), "300 is refused");
        assert!(matches!(&a.note, Some(Note::Error(m)) if m.contains("0-256")));
        for _ in 0..3 {
            a.key(Key::Backspace);
        }
        for c in "50%".chars() {
            a.key(Key::Char(c));
        }
        a.key(Key::Enter);
        let Mode::Confirm(w) = a.mode.clone() else {
            panic!("not confirming: {:?}", a.mode)
        };
        assert_eq!(w.action, Action::Weight(Weight::Percent(50)));
        assert_eq!(w.describe(), "set weight 50% be_app/app1");
        assert_eq!(a.key(Key::Char('y')), Effect::Send(w));
    }

    #[test]
    fn actions_need_a_server() {
        let mut a = app();
        a.key(Key::Char('b'));
        assert_eq!(a.key(Key::Char('d')), Effect::None);
        assert_eq!(a.mode, Mode::Normal);
        assert!(matches!(&a.note, Some(Note::Error(m)) if m.contains("select a server")));
    }

    #[test]
    fn views_quit_and_dialogs() {
        let mut a = app();
        a.key(Key::Tab);
        assert_eq!(a.view, View::Frontends);
        a.key(Key::Tab);
        assert_eq!(a.view, View::Backends);
        a.key(Key::BackTab);
        assert_eq!(a.view, View::Frontends);
        assert_eq!(selected(&a), "fe_http");
        a.key(Key::Enter);
        assert_eq!(a.mode, Mode::PerProcess);
        a.key(Key::Esc);
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.key(Key::Char('r')), Effect::Refresh);
        assert_eq!(a.key(Key::Char('q')), Effect::Quit);
        // While typing a filter, q is a letter; Ctrl-C always quits.
        a.key(Key::Char('/'));
        assert_eq!(a.key(Key::Char('q')), Effect::None);
        assert_eq!(a.filter, "q");
        assert_eq!(a.key(Key::CtrlC), Effect::Quit);
    }

    #[test]
    fn widths_fit_sixty_columns() {
        // name, then columns of decreasing importance.
        let natural = [30, 5, 6, 4, 12, 4, 4, 6];
        let w = fit_widths(&natural, 60, 12);
        let total: usize = w.iter().sum::<usize>() + w.iter().filter(|&&x| x > 0).count() - 1;
        assert!(total <= 60, "{w:?}");
        assert_eq!(w[1..5], natural[1..5], "the first columns are kept whole");
        // Wide enough: unchanged.
        assert_eq!(fit_widths(&natural, 200, 12), natural);
        // Very narrow: the name alone, cut.
        assert_eq!(fit_widths(&natural, 8, 12), [8, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(elide("be_static/s1", 6), "be_st~");
        assert_eq!(elide("s1", 6), "s1");
    }

    #[test]
    fn text_tables_never_exceed_the_width() {
        let a = app();
        let long = row(
            "be_a_very_long_backend_name_indeed",
            "server_with_a_long_name",
            &[
                "be_a_very_long_backend_name_indeed/server_with_a_long_name",
                "UP",
                "100",
                "123456",
                "L7OK",
                "9999",
                "0",
                "123456789",
            ],
        );
        let mut rows = a.rows();
        rows.push(&long);
        for width in [20, 40, 60, 80, 200] {
            let lines = text_table(&a.header(), &rows, width);
            assert_eq!(lines.len(), rows.len() + 1);
            for l in &lines {
                assert!(l.chars().count() <= width, "{width}: {l:?}");
            }
            assert!(lines[0].starts_with("SERVER"), "{width}: {:?}", lines[0]);
        }
        let at60 = text_table(&a.header(), &rows, 60);
        assert!(
            at60[0].contains("STATUS") && at60[0].contains("WEIGHT"),
            "{at60:?}"
        );
        assert!(at60[5].contains('~'), "the long name is elided: {at60:?}");
    }
}
