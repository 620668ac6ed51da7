//! One path for operations of several rounds (certificates): the logic is
//! written once, as async code against [`Exchange`]; the tokio driver
//! ([`crate::asynch::AsyncHAProxy`]) runs each round's processes as
//! tasks, the blocking one ([`HAProxy`]) on threads, its future completed
//! by [`ready`] without an executor (a blocking round never waits on a
//! waker).

use crate::conn::Conn;
use crate::haproxy::HAProxy;
use crate::{fanout, Error, Process, Result};
use haproxy_proto::command::Command;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Commands pipelined at once on one session.
const PIPELINED: usize = 1024;

/// What a driver does for a round.
pub(crate) trait Exchange {
    /// Every process of the set.
    fn all(&self) -> Vec<&Process>;
    /// The processes a write goes to (old workers skipped).
    fn writable(&self) -> Vec<&Process>;
    /// On each of `processes` (concurrently), one session: `commands[i]`
    /// sent in order, each reply judged. Each process's replies, or its
    /// first error, in `processes`' order.
    async fn exchange(
        &self,
        processes: &[&Process],
        commands: Vec<Vec<Command>>,
    ) -> Vec<Result<Vec<String>>>;
}

/// The runs of `commands` a session sends at once: a command with a
/// payload alone, the others pipelined up to [`PIPELINED`].
pub(crate) fn runs(commands: &[Command]) -> Vec<&[Command]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in commands.iter().enumerate() {
        if c.payload().is_some() || i - start == PIPELINED {
            if start < i {
                out.push(&commands[start..i]);
            }
            start = i;
            if c.payload().is_some() {
                out.push(&commands[i..=i]);
                start = i + 1;
            }
        }
    }
    if start < commands.len() {
        out.push(&commands[start..]);
    }
    out
}

fn talk(conn: &mut Conn, commands: &[Command]) -> Result<Vec<String>> {
    let mut replies = Vec::with_capacity(commands.len());
    for run in runs(commands) {
        match run {
            [one] => replies.push(conn.send(one)?),
            more => replies.extend(conn.pipeline(more)?),
        }
    }
    Ok(replies)
}

impl Exchange for HAProxy {
    fn all(&self) -> Vec<&Process> {
        HAProxy::all(self)
    }

    fn writable(&self) -> Vec<&Process> {
        HAProxy::writable(self)
    }

    async fn exchange(
        &self,
        processes: &[&Process],
        commands: Vec<Vec<Command>>,
    ) -> Vec<Result<Vec<String>>> {
        let jobs: Vec<(&Process, Vec<Command>)> = processes.iter().copied().zip(commands).collect();
        fanout::fan_out(
            &jobs,
            jobs.len(),
            "command",
            |(p, _)| p.endpoint().to_string(),
            |(p, commands)| talk(&mut self.settings().session(p.endpoint())?, commands),
        )
    }
}

/// `command` on each of `processes`, each reply parsed by `parse` (a
/// parse error names the process and the command): per process, in
/// order.
pub(crate) async fn each<E: Exchange, T>(
    x: &E,
    processes: &[&Process],
    command: &Command,
    parse: impl Fn(&str) -> std::result::Result<T, haproxy_proto::ParseError>,
) -> Vec<Result<T>> {
    let replies = x
        .exchange(processes, vec![vec![command.clone()]; processes.len()])
        .await;
    processes
        .iter()
        .zip(replies)
        .map(|(p, r)| {
            parse(&r?.concat()).map_err(|source| Error::Parse {
                endpoint: p.endpoint().to_string(),
                command: command.line().to_owned(),
                source: Box::new(source),
            })
        })
        .collect()
}

/// Completes a future that never waits (a blocking driver's): its
/// output, or an internal error should it ever wait.
pub(crate) fn ready<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(out) => out,
        Poll::Pending => Err(Error::WorkerPanicked {
            task: "blocking exchange (it waited on a waker)",
            item: String::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_go_alone_and_pipelines_are_bounded() {
        let show = Command::show_info();
        let pem = haproxy_proto::ssl::Pem::parse(&format!(
            "{}{}",
            include_str!("../../haproxy-proto/src/testdata/ec.crt"),
            include_str!("../../haproxy-proto/src/testdata/ec.key")
        ))
        .expect("a test key pair");
        let set = Command::set_ssl_cert("/a.pem", &pem).expect("a valid name");
        let cs = vec![show.clone(), show.clone(), set.clone(), show.clone()];
        let lens: Vec<usize> = runs(&cs).iter().map(|r| r.len()).collect();
        assert_eq!(lens, [2, 1, 1]);
        let many = vec![show; 2 * PIPELINED + 1];
        let lens: Vec<usize> = runs(&many).iter().map(|r| r.len()).collect();
        assert_eq!(lens, [PIPELINED, PIPELINED, 1]);
        assert!(runs(&[]).is_empty());
        assert_eq!(runs(&[set.clone(), set]).len(), 2);
    }
}
