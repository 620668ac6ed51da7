//! Draws an [`App`] with ratatui. Every line is cut to the terminal's
//! width, never wrapped: the table's columns are fitted by
//! [`fit_widths`] (the name elided, the least important columns
//! dropped), and the other lines are clipped. Text is ASCII only, so a
//! terminal's idea of a character's width cannot push a line over.

use super::app::{elide, fit_widths, natural_widths, App, Mode, Note, View};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap,
};
use ratatui::Frame;
use std::time::Duration;

/// How fresh the data is, for the top line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Since when a fetch is in flight, if one is.
    pub(crate) fetching_for: Option<Duration>,
    /// Age of the data shown (`None`: nothing fetched yet).
    pub(crate) age: Option<Duration>,
}

/// Box borders in ASCII (line-drawing characters are "ambiguous width":
/// some terminals draw them two cells wide).
const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// The keys, for the footer and the help box.
/// Help first: on a narrow terminal the rest is clipped.
const KEYS: &str =
    "?:help q:quit Tab:view s:sort /:filter d:drain e:enable x:disable w:weight p:procs";

/// Draws the whole screen.
pub(crate) fn draw(f: &mut Frame<'_>, app: &mut App, table: &mut TableState, clock: Clock) {
    let area = f.area();
    // The last fetch's error and the processes that failed, in red.
    let mut fail_lines: Vec<String> = Vec::new();
    if let Some(e) = &app.fetch_error {
        fail_lines.push(format!("refresh failed: {e}"));
    }
    fail_lines.extend(app.data.failures.iter().map(|l| format!("failed: {l}")));
    fail_lines.truncate(3);
    let failures = fail_lines.len() as u16;
    let [top, tabs, fails, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(failures),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);

    // Top line: how fresh (first, so a narrow terminal keeps it), then
    // the summary.
    let fresh = match (clock.fetching_for, clock.age) {
        (Some(t), _) if t >= Duration::from_secs(1) => {
            format!("[fetching for {}s]", t.as_secs())
        }
        (_, Some(age)) => format!("[{}s ago]", age.as_secs()),
        (_, None) => "[fetching]".to_owned(),
    };
    f.render_widget(
        Paragraph::new(format!("haproxy-cli top {fresh} {}", app.data.summary)),
        top,
    );

    // Views, filter, sort.
    let mut spans = Vec::new();
    for v in View::ALL {
        let label = format!(" {} ", v.title());
        spans.push(if v == app.view {
            Span::styled(label, Style::default().add_modifier(Modifier::REVERSED))
        } else {
            Span::raw(label)
        });
    }
    let header = app.header();
    if let (Some(col), desc) = app.sort() {
        let name = header.get(col).copied().unwrap_or("?");
        spans.push(Span::raw(format!(
            " sort:{name}{}",
            if desc { "-desc" } else { "" }
        )));
    }
    if !app.filter.is_empty() || app.mode == Mode::Filter {
        let cursor = if app.mode == Mode::Filter { "_" } else { "" };
        spans.push(Span::raw(format!(" filter:{}{cursor}", app.filter)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), tabs);

    if failures > 0 {
        let lines: Vec<Line<'_>> = fail_lines
            .into_iter()
            .map(|l| Line::styled(l, Style::default().fg(Color::Red)))
            .collect();
        f.render_widget(Paragraph::new(lines), fails);
    }

    draw_table(f, app, table, body);

    // Footer: the last outcome, else the keys.
    let foot_line = match &app.note {
        Some(Note::Error(m)) => {
            Line::styled(m.clone(), Style::default().fg(Color::White).bg(Color::Red))
        }
        Some(Note::Info(m)) => Line::raw(m.clone()),
        None => Line::raw(KEYS),
    };
    f.render_widget(Paragraph::new(foot_line), foot);

    match app.mode.clone() {
        Mode::Confirm(w) => {
            let text = vec![
                Line::raw(format!(
                    "{} on every process ({})?",
                    w.describe(),
                    app.data.processes
                )),
                Line::raw(""),
                Line::raw("y: yes   any other key: no"),
            ];
            popup(f, area, "Confirm", text);
        }
        Mode::Weight { input } => {
            let who = app
                .selected_row()
                .map(|r| r.cells[0].clone())
                .unwrap_or_default();
            let text = vec![
                Line::raw(format!("New weight for {who}")),
                Line::raw("(0-256, or N% of the configured weight)"),
                Line::raw(format!("> {input}_")),
                Line::raw("Enter: next   Esc: cancel"),
            ];
            popup(f, area, "Weight", text);
        }
        Mode::PerProcess => per_process(f, app, area),
        Mode::Help => {
            let text: Vec<Line<'_>> = [
                "q, Ctrl-C   quit",
                "Tab, S-Tab  next / previous view",
                "f b v       frontends / backends / servers",
                "arrows j k  select; PgUp PgDn Home End",
                "s           sort by the next column",
                "S           reverse the sort",
                "/           filter (Enter keeps, Esc clears)",
                "p, Enter    the selected object per process",
                "e           enable server (state ready)",
                "x           disable server (state maint)",
                "d           drain server (state drain)",
                "w           set the server's weight",
                "r           refresh now",
                "",
                "Every write asks first and goes to every process.",
            ]
            .into_iter()
            .map(Line::raw)
            .collect();
            popup(f, area, "Keys", text);
        }
        Mode::Normal | Mode::Filter => {}
    }
}

fn draw_table(f: &mut Frame<'_>, app: &mut App, state: &mut TableState, area: Rect) {
    let header = app.header();
    let rows = app.rows();
    // One column is the selection marker.
    let width = usize::from(area.width.saturating_sub(1));
    let widths = fit_widths(&natural_widths(&header, &rows), width, 12);
    let shown: Vec<usize> = (0..widths.len()).filter(|&i| widths[i] > 0).collect();
    let cells = |texts: &[String]| -> Vec<Cell<'static>> {
        shown
            .iter()
            .map(|&i| Cell::from(elide(texts.get(i).map_or("", String::as_str), widths[i])))
            .collect()
    };
    let head: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    let table_rows: Vec<Row<'static>> = rows
        .iter()
        .map(|r| {
            let row = Row::new(cells(&r.cells));
            if r.disagreements.is_empty() {
                row
            } else {
                row.style(Style::default().fg(Color::Yellow))
            }
        })
        .collect();
    let empty = table_rows.is_empty();
    let selected = app.selected_index();
    let constraints: Vec<Constraint> = shown
        .iter()
        .map(|&i| Constraint::Length(widths[i] as u16))
        .collect();
    let table = Table::new(table_rows, constraints)
        .header(Row::new(cells(&head)).style(Style::default().add_modifier(Modifier::BOLD)))
        .column_spacing(1)
        .highlight_symbol(">")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
    state.select(selected);
    app.page = usize::from(area.height.saturating_sub(1)).max(1);
    f.render_stateful_widget(table, area, state);
    if empty && area.height > 1 {
        let msg = if app.filter.is_empty() {
            "(none)"
        } else {
            "(nothing matches the filter)"
        };
        let at = Rect {
            y: area.y + 1,
            height: 1,
            ..area
        };
        f.render_widget(Paragraph::new(msg), at);
    }
}

/// The selected object, process by process.
fn per_process(f: &mut Frame<'_>, app: &App, area: Rect) {
    let Some(row) = app.selected_row() else {
        return;
    };
    let mut text = Vec::new();
    if row.per_process.is_empty() {
        text.push(Line::raw(format!(
            "The {} process(es) agree on {}.",
            app.data.processes, row.cells[0]
        )));
        for (h, c) in app.header().iter().zip(&row.cells).skip(1) {
            text.push(Line::raw(format!("  {h}: {c}")));
        }
    } else {
        text.push(Line::styled(
            format!("{}: the processes disagree", row.cells[0]),
            Style::default().fg(Color::Yellow),
        ));
        for (col, values) in &row.disagreements {
            text.push(Line::raw(format!("{col}:")));
            for (p, v) in values {
                text.push(Line::raw(format!("  {p}: {v}")));
            }
        }
        text.push(Line::raw(""));
        let cols = app.view.columns();
        for (p, cells) in &row.per_process {
            text.push(Line::raw(format!("{p}:")));
            let parts: Vec<String> = cols
                .iter()
                .zip(cells)
                .map(|(c, v)| format!("{c}={v}"))
                .collect();
            text.push(Line::raw(format!("  {}", parts.join(" "))));
        }
    }
    text.push(Line::raw(""));
    text.push(Line::raw("any key: close"));
    popup(f, area, "Per process", text);
}

/// A bordered box in the middle of the screen, no wider than it.
fn popup(f: &mut Frame<'_>, area: Rect, title: &str, text: Vec<Line<'_>>) {
    let want_w = text.iter().map(Line::width).max().unwrap_or(0) + 4;
    let w = (want_w as u16).clamp(20.min(area.width), area.width.min(76));
    let h = (text.len() as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_set(ASCII_BORDER)
                .title(title.to_owned()),
        ),
        r,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::app::{sample, Key, Row as AppRow};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    /// The screen as lines of text.
    fn screen(app: &mut App, width: u16, height: u16) -> Vec<String> {
        let mut term = Terminal::new(TestBackend::new(width, height)).expect("test backend");
        let mut table = TableState::default();
        let clock = Clock {
            fetching_for: None,
            age: Some(Duration::from_secs(1)),
        };
        term.draw(|f| draw(f, app, &mut table, clock))
            .expect("draw");
        let buf = term.backend().buffer();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn sixty_columns_keep_the_header_and_elide_the_name() {
        let mut app = sample();
        let long = "be_a_very_long_backend_name/server_with_a_long_name";
        app.data.tables[2].push(AppRow {
            proxy: "be_a_very_long_backend_name".into(),
            name: "server_with_a_long_name".into(),
            cells: [
                long,
                "UP",
                "100",
                "123456",
                "L7OK",
                "9999",
                "0",
                "123456789",
            ]
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
            disagreements: Vec::new(),
            per_process: Vec::new(),
        });
        let lines = screen(&mut app, 60, 12);
        assert!(
            lines[0].starts_with("haproxy-cli top [1s ago] 3 process(es)"),
            "{lines:#?}"
        );
        assert!(lines[1].ends_with(" Servers"), "{lines:#?}");
        let head = &lines[2];
        assert!(
            head.starts_with(" SERVER") && head.contains("STATUS") && head.contains("WEIGHT"),
            "{lines:#?}"
        );
        assert!(
            lines[3].starts_with(">be_app/app1"),
            "the selection: {lines:#?}"
        );
        let cut = lines
            .iter()
            .find(|l| l.contains("be_a_very"))
            .expect("the long row");
        assert!(cut.contains('~') && !cut.contains(long), "{cut:?}");
        assert!(lines.iter().all(|l| l.is_ascii()), "{lines:#?}");
    }

    #[test]
    fn the_confirmation_names_the_write_and_the_processes() {
        let mut app = sample();
        app.key(Key::Char('d'));
        let lines = screen(&mut app, 60, 16).join("\n");
        assert!(lines.contains("+Confirm"), "{lines}");
        assert!(
            lines.contains("drain be_app/app1 on every process (3)?"),
            "{lines}"
        );
        app.key(Key::Char('y'));
        app.written(
            &crate::top::app::Write {
                backend: "be_app".into(),
                server: "app1".into(),
                action: crate::top::app::Action::State(haproxy_admin::State::Drain),
            },
            Err("No such server.".into()),
        );
        let lines = screen(&mut app, 60, 16);
        assert!(
            lines[15].starts_with("FAILED: drain be_app/app1: No such server."),
            "{lines:#?}"
        );
    }
}
