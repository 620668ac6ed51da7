//! Harness that starts real HAProxy instances for end-to-end tests.
