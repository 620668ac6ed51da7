//! Replies kept as text and parsed on demand with `haproxy-proto`: `show
//! errors` and `show servers state`, per process.

use crate::haproxy::{HAProxy, PerProcess};
use crate::Result;
use haproxy_proto::command::Command;
use serde::Serialize;

/// A reply kept as text, parsed on demand with `haproxy-proto` (`show
/// errors`, `show servers state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Text {
    /// `show errors`, parsed.
    ///
    /// # Errors
    ///
    /// A positioned parse error if the text is not `show errors` output.
    pub fn errors(
        &self,
    ) -> Result<haproxy_proto::show_errors::ErrorsReport<'_>, haproxy_proto::ParseError> {
        haproxy_proto::show_errors::parse_errors(&self.0)
    }

    /// `show servers state`, parsed.
    ///
    /// # Errors
    ///
    /// A positioned parse error if the text is not `show servers state`
    /// output.
    pub fn servers_state(
        &self,
    ) -> Result<haproxy_proto::servers_state::ServersState<'_>, haproxy_proto::ParseError> {
        haproxy_proto::servers_state::parse_servers_state(&self.0)
    }
}

impl HAProxy {
    /// `show errors [<proxy id>]` per process (parse with
    /// [`Text::errors`]).
    ///
    /// # Errors
    ///
    /// As [`HAProxy::maps`].
    pub fn errors(&self, proxy_id: Option<i64>) -> Result<PerProcess<Text>> {
        Ok(self
            .run(&Command::show_errors(proxy_id)?)?
            .into_iter()
            .map(|(p, t)| (p, Text(t)))
            .collect())
    }

    /// `show servers state [<backend>]` per process (parse with
    /// [`Text::servers_state`]).
    ///
    /// # Errors
    ///
    /// As [`HAProxy::maps`].
    pub fn servers_state(&self, backend: Option<&str>) -> Result<PerProcess<Text>> {
        Ok(self
            .run(&Command::show_servers_state(backend)?)?
            .into_iter()
            .map(|(p, t)| (p, Text(t)))
            .collect())
    }
}
