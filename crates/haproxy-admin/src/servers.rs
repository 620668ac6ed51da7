//! Dynamic servers (HAProxy 2.4+): `add server` and `del server` on every
//! process, with no snapshot needed.

use crate::haproxy::HAProxy;
use crate::Result;
use haproxy_proto::command::Command;

impl HAProxy {
    /// `add server <backend>/<name> <address> [<options>…]` (dynamic
    /// servers, HAProxy 2.4+) on every process. The server starts in
    /// maintenance, as HAProxy adds it.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn add_server(
        &self,
        backend: &str,
        name: &str,
        address: &str,
        options: &[&str],
    ) -> Result<()> {
        self.run(&Command::add_server(backend, name, address, options)?)
            .map(drop)
    }

    /// `del server <backend>/<name>` on every process (the server must be
    /// in maintenance without sessions).
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn del_server(&self, backend: &str, name: &str) -> Result<()> {
        self.run(&Command::del_server(backend, name)?).map(drop)
    }
}
