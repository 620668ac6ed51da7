//! Bulk changes: many commands sent to every process over one session per
//! process (not one connection per command), processes in parallel.

use crate::haproxy::{collect, HAProxy, PerProcess};
use crate::{Health, Result, State, Weight};
use haproxy_proto::command::Command;

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
/// use haproxy_admin::{HAProxy, State, Weight};
/// let hap = HAProxy::from_dir("/run/haproxy")?;
/// let mut batch = hap.batch();
/// for server in ["app1", "app2", "app3"] {
///     batch.set_weight("be_app", server, Weight::Absolute(0))?;
///     batch.set_state("be_app", server, State::Drain)?;
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

    /// Queues `set weight <backend>/<server>`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Proto`] for an argument the builder refuses.
    pub fn set_weight(&mut self, backend: &str, server: &str, weight: Weight) -> Result<&mut Self> {
        self.lines.push(weight.command(backend, server)?);
        Ok(self)
    }

    /// Queues `set server <backend>/<server> state …`.
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn set_state(&mut self, backend: &str, server: &str, state: State) -> Result<&mut Self> {
        self.lines
            .push(Command::set_server_state(backend, server, state)?);
        Ok(self)
    }

    /// Queues `set server <backend>/<server> health …`.
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn set_health(&mut self, backend: &str, server: &str, health: Health) -> Result<&mut Self> {
        self.lines
            .push(Command::set_server_health(backend, server, health)?);
        Ok(self)
    }

    /// Queues `enable server` / `disable server`.
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn enable_server(
        &mut self,
        backend: &str,
        server: &str,
        enable: Enable,
    ) -> Result<&mut Self> {
        self.lines.push(match enable {
            Enable::Enable => Command::enable_server(backend, server)?,
            Enable::Disable => Command::disable_server(backend, server)?,
        });
        Ok(self)
    }

    /// Queues `enable health` / `disable health` (start or stop the
    /// server's health checks; a dynamic server added with `check` needs
    /// `enable health` for them to run).
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn enable_health(
        &mut self,
        backend: &str,
        server: &str,
        enable: Enable,
    ) -> Result<&mut Self> {
        self.lines.push(match enable {
            Enable::Enable => Command::enable_health(backend, server)?,
            Enable::Disable => Command::disable_health(backend, server)?,
        });
        Ok(self)
    }

    /// Queues `set server <backend>/<server> addr <addr> [port <port>]`.
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn set_address(
        &mut self,
        backend: &str,
        server: &str,
        addr: &str,
        port: Option<u16>,
    ) -> Result<&mut Self> {
        self.lines
            .push(Command::set_server_addr(backend, server, addr, port)?);
        Ok(self)
    }

    /// Queues `set server <backend>/<server> agent …`.
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn set_agent(&mut self, backend: &str, server: &str, health: Health) -> Result<&mut Self> {
        self.lines
            .push(Command::set_server_agent(backend, server, health)?);
        Ok(self)
    }

    /// Queues `shutdown sessions server <backend>/<server>`.
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn shutdown_sessions(&mut self, backend: &str, server: &str) -> Result<&mut Self> {
        self.lines
            .push(Command::shutdown_sessions_server(backend, server)?);
        Ok(self)
    }

    /// Queues `enable frontend` / `disable frontend`.
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn enable_frontend(&mut self, name: &str, enable: Enable) -> Result<&mut Self> {
        self.lines.push(match enable {
            Enable::Enable => Command::enable_frontend(name)?,
            Enable::Disable => Command::disable_frontend(name)?,
        });
        Ok(self)
    }

    /// Queues `shutdown frontend` (final: a stopped frontend cannot be
    /// enabled again without a reload).
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn shutdown_frontend(&mut self, name: &str) -> Result<&mut Self> {
        self.lines.push(Command::shutdown_frontend(name)?);
        Ok(self)
    }

    /// Queues `set maxconn frontend`.
    ///
    /// # Errors
    ///
    /// As [`Batch::set_weight`].
    pub fn set_maxconn_frontend(&mut self, name: &str, maxconn: u32) -> Result<&mut Self> {
        self.lines
            .push(Command::set_maxconn_frontend(name, maxconn)?);
        Ok(self)
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
    /// [`crate::Error::CommandFailed`] with HAProxy's text for the first
    /// command that failed (naming the endpoint and the command), or
    /// [`crate::Error::Partial`] when only some processes failed.
    pub fn run(self) -> Result<PerProcess<Vec<String>>> {
        let settings = &self.hap.shared.settings;
        let lines = &self.lines;
        let processes = self.hap.processes();
        let results = crate::fanout::fan_out(
            processes,
            processes.len(),
            "batch",
            |p| p.endpoint().to_string(),
            |p| settings.session(p.endpoint())?.pipeline(lines),
        );
        collect(&self.hap.all(), &self.what(), results)
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

/// Enable or disable, for [`Batch::enable_server`],
/// [`Batch::enable_health`] and [`Batch::enable_frontend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enable {
    /// `enable server` (`enable health`, `enable frontend`).
    Enable,
    /// `disable server` (`disable health`, `disable frontend`).
    Disable,
}
