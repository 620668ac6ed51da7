//! Bulk changes: many commands sent to every process over one session per
//! process (not one connection per command), processes in parallel.

use crate::haproxy::{collect, HAProxy, PerProcess};
use crate::Result;
use haproxy_proto::command::Command;
use haproxy_proto::ArgError;

impl HAProxy {
    /// A [`Batch`] of commands for every process, sent over one
    /// session per process.
    pub fn batch(&self) -> Batch<'_> {
        Batch::new(self)
    }
}

/// Commands queued for every process; [`Batch::run`] sends them in order
/// over one session per process. Arguments are checked as they are queued.
///
/// ```no_run
/// # fn main() -> haproxy_admin::Result<()> {
/// use haproxy_admin::{Command, HAProxy, State, Weight};
/// let hap = HAProxy::from_dir("/run/haproxy")?;
/// let mut batch = hap.batch();
/// for server in ["app1", "app2", "app3"] {
///     batch.push(Weight::Absolute(0).command("be_app", server)?);
///     batch.push(Command::set_server_state("be_app", server, State::Drain)?);
/// }
/// let report = batch.run()?;
/// assert!(report.iter().all(|(_, replies)| replies.len() == 6));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Batch<'h> {
    hap: &'h HAProxy,
    lines: Vec<Command>,
}

impl<'h> Batch<'h> {
    pub(crate) fn new(hap: &'h HAProxy) -> Batch<'h> {
        Batch {
            hap,
            lines: Vec::new(),
        }
    }

    /// Number of queued commands.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// The queued command lines, in order, as they will be sent (for a
    /// dry run).
    pub fn commands(&self) -> &[Command] {
        &self.lines
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Queues `command` (from `haproxy-proto`'s builder, re-exported as
    /// [`crate::Command`]: every argument already checked there).
    pub fn push(&mut self, command: Command) -> &mut Self {
        self.lines.push(command);
        self
    }

    /// Sends every queued command to every process, in order, over one
    /// session per process, pipelined (many commands in flight, no round
    /// trip per command). Each process's replies, in order.
    ///
    /// A batch is not a transaction: every command is sent to every
    /// process even when an earlier one failed, and what succeeded stands.
    ///
    /// # Errors
    ///
    /// [`crate::Error::BatchFailed`] naming every command HAProxy refused
    /// and how many were applied (for a batch of one command,
    /// [`crate::Error::CommandFailed`]), or [`crate::Error::Partial`]
    /// when only some processes failed.
    pub fn run(self) -> Result<PerProcess<Vec<String>>> {
        let settings = &self.hap.shared.settings;
        let lines = &self.lines;
        let processes = self.hap.writable();
        let results = crate::fanout::fan_out(
            &processes,
            processes.len(),
            "batch",
            |p| p.endpoint().to_string(),
            |p| settings.session(p.endpoint())?.pipeline(lines),
        );
        collect(&processes, &self.what(), results)
    }

    /// What the batch is, for an error: the command when there is one
    /// (each failure names its own).
    pub(crate) fn what(&self) -> String {
        match self.lines.as_slice() {
            [one] => one.line().to_owned(),
            [first, ..] => format!(
                "batch of {} commands from `{}`",
                self.lines.len(),
                first.line()
            ),
            [] => "empty batch".to_owned(),
        }
    }
}

/// Enable or disable: `enable`/`disable` `server`, `health` or
/// `frontend`, as one value (the CLI's `server enable|disable`, a write
/// chosen at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enable {
    /// `enable server` (`enable health`, `enable frontend`).
    Enable,
    /// `disable server` (`disable health`, `disable frontend`).
    Disable,
}

impl Enable {
    /// `enable server` / `disable server <backend>/<server>`.
    ///
    /// # Errors
    ///
    /// [`ArgError`] for a name the builder refuses.
    pub fn server(self, backend: &str, server: &str) -> Result<Command, ArgError> {
        match self {
            Enable::Enable => Command::enable_server(backend, server),
            Enable::Disable => Command::disable_server(backend, server),
        }
    }

    /// `enable health` / `disable health <backend>/<server>`: start or
    /// stop the server's health checks (a dynamic server added with
    /// `check` needs `enable health` for them to run).
    ///
    /// # Errors
    ///
    /// As [`Enable::server`].
    pub fn health(self, backend: &str, server: &str) -> Result<Command, ArgError> {
        match self {
            Enable::Enable => Command::enable_health(backend, server),
            Enable::Disable => Command::disable_health(backend, server),
        }
    }

    /// `enable frontend` / `disable frontend <name>`.
    ///
    /// # Errors
    ///
    /// As [`Enable::server`].
    pub fn frontend(self, name: &str) -> Result<Command, ArgError> {
        match self {
            Enable::Enable => Command::enable_frontend(name),
            Enable::Disable => Command::disable_frontend(name),
        }
    }
}
