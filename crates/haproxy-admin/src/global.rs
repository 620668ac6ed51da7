//! The process-wide settings of the set: `set maxconn global`, the global
//! rate limits and `clear counters`, on every process.

use crate::haproxy::HAProxy;
use crate::Result;
use haproxy_proto::command::Command;

impl HAProxy {
    /// `set maxconn global` on every process.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn set_maxconn(&self, maxconn: u32) -> Result<()> {
        self.run(&Command::set_maxconn_global(maxconn)?).map(drop)
    }

    /// `set rate-limit connections global`.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn set_rate_limit_conn(&self, limit: u32) -> Result<()> {
        self.run(&Command::set_rate_limit_connections(limit)?)
            .map(drop)
    }

    /// `set rate-limit sessions global`.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn set_rate_limit_sess(&self, limit: u32) -> Result<()> {
        self.run(&Command::set_rate_limit_sessions(limit)?)
            .map(drop)
    }

    /// `set rate-limit ssl-sessions global`.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn set_rate_limit_ssl_sess(&self, limit: u32) -> Result<()> {
        self.run(&Command::set_rate_limit_ssl_sessions(limit)?)
            .map(drop)
    }

    /// `clear counters`: the maxima and rates.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn clear_counters(&self) -> Result<()> {
        self.run(&Command::clear_counters()).map(drop)
    }

    /// `clear counters all`: every counter, as after a restart.
    ///
    /// # Errors
    ///
    /// As [`HAProxy::add_map`].
    pub fn clear_all_counters(&self) -> Result<()> {
        self.run(&Command::clear_counters_all()).map(drop)
    }
}
