//! Classifying command replies as success or HAProxy's own error.

/// HAProxy answered a command with an error; `message` is its text verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HAProxy refused the command: {}", .message.trim_end())]
pub struct CommandFailed {
    /// HAProxy's reply, verbatim (the whole reply, not only its first line).
    pub message: String,
}
