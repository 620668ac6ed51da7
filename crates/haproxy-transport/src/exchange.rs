//! The exchange of one command, without I/O: the bytes a command is sent
//! as, a payload's chunks, and the verdicts on a reply every driver
//! (the blocking client and session, the tokio ones) shares.

use crate::codec::{self, PayloadError};
use crate::endpoint::{Endpoint, Target};
use crate::error::{Error, Result};

/// Splits a payload into chunks, with the transport's errors.
pub(crate) fn chunks<'p>(
    endpoint: &Endpoint,
    line: &str,
    payload: &'p str,
    limit: usize,
) -> Result<Vec<&'p str>> {
    codec::chunk_payload(line, payload, limit).map_err(|e| match e {
        PayloadError::LineTooLarge { line, len, limit } => Error::PayloadTooLarge {
            endpoint: endpoint.clone(),
            line,
            len,
            limit,
        },
        PayloadError::Invalid(reason) => Error::InvalidCommand {
            endpoint: endpoint.clone(),
            line: line.to_owned(),
            reason,
        },
    })
}

/// HAProxy's `Permission denied` (the socket's level is below the
/// command's) becomes a typed error.
pub(crate) fn judge_level(endpoint: &Endpoint, line: &str, text: String) -> Result<String> {
    if text.trim() == "Permission denied" {
        return Err(Error::LevelTooLow {
            endpoint: endpoint.clone(),
            command: line.to_owned(),
            message: text.trim().to_owned(),
        });
    }
    Ok(text)
}

/// One command as sent: the master-CLI route, the line, and the payload
/// chunk (if any), each ended by a newline.
pub(crate) fn message(prefix: &str, line: &str, payload: Option<&str>) -> String {
    let mut msg =
        String::with_capacity(prefix.len() + line.len() + payload.map_or(0, str::len) + 2);
    msg.push_str(prefix);
    msg.push_str(line);
    msg.push('\n');
    if let Some(p) = payload {
        msg.push_str(p);
        msg.push('\n');
    }
    msg
}

/// What `check_haproxy` sends to `endpoint`, and what its reply must hold.
pub(crate) fn probe_of(endpoint: &Endpoint) -> (&'static str, &'static str) {
    match endpoint.target() {
        Some(Target::Master) => ("show proc", "#<PID>"),
        _ => ("show info", "Name: HAProxy"),
    }
}

/// `check_haproxy`'s verdict on the probe's reply.
pub(crate) fn judge_probe(endpoint: &Endpoint, reply: Result<String>) -> Result<()> {
    let (_, needle) = probe_of(endpoint);
    let found = match reply {
        Ok(text) => text,
        Err(Error::ClosedMidReply { .. }) | Err(Error::InvalidUtf8 { .. }) => String::new(),
        Err(e) => return Err(e),
    };
    if found
        .lines()
        .any(|l| l.trim_end() == needle || l.starts_with(needle))
    {
        Ok(())
    } else {
        Err(Error::NotHAProxy {
            endpoint: endpoint.clone(),
            found: found.chars().take(80).collect(),
        })
    }
}
