//! Sockets with deadlines: connect without a helper thread (a non-blocking
//! connect, polled), and every write and read bounded by what is left of
//! the command's deadline, so that a peer trickling one byte at a time
//! ends at the deadline like a silent one.

use crate::endpoint::{Endpoint, Family};
use crate::error::{Error, Phase, Result};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Below this, what is left of a deadline counts as nothing (a socket
/// timeout of zero would mean "none").
const TICK: Duration = Duration::from_millis(1);

/// A point in time a step must end by, and the bound it came from (for
/// the error). `None`: no bound.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Option<Instant>,
    after: Duration,
}

impl Deadline {
    /// `d` from now; zero: none.
    pub(crate) fn after(d: Duration) -> Deadline {
        Deadline {
            at: (!d.is_zero()).then(|| Instant::now() + d),
            after: d,
        }
    }

    /// The earlier of this deadline and `d` from now (zero `d`: this one).
    pub(crate) fn within(self, d: Duration) -> Deadline {
        let other = Deadline::after(d);
        match (self.at, other.at) {
            (Some(a), Some(b)) if b < a => other,
            (None, Some(_)) => other,
            _ => self,
        }
    }

    pub(crate) fn at(&self) -> Option<Instant> {
        self.at
    }

    pub(crate) fn bound(&self) -> Duration {
        self.after
    }

    /// What is left, or the timeout error for `phase` when nothing is.
    pub(crate) fn left(&self, endpoint: &Endpoint, phase: Phase) -> Result<Option<Duration>> {
        match self.at {
            None => Ok(None),
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                if left < TICK {
                    Err(self.expired(endpoint, phase))
                } else {
                    Ok(Some(left))
                }
            }
        }
    }

    pub(crate) fn expired(&self, endpoint: &Endpoint, phase: Phase) -> Error {
        Error::Timeout {
            endpoint: endpoint.clone(),
            phase,
            after: self.after,
        }
    }
}

/// One open connection.
#[derive(Debug)]
pub(crate) enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    /// Writes all of `bytes` before the deadline.
    pub(crate) fn write_all(
        &mut self,
        endpoint: &Endpoint,
        mut bytes: &[u8],
        deadline: &Deadline,
    ) -> Result<()> {
        while !bytes.is_empty() {
            let left = deadline.left(endpoint, Phase::Write)?;
            let r = match self {
                Conn::Unix(s) => s.set_write_timeout(left).and_then(|()| s.write(bytes)),
                Conn::Tcp(s) => s.set_write_timeout(left).and_then(|()| s.write(bytes)),
            };
            match r {
                Ok(0) => {
                    return Err(Error::Write {
                        endpoint: endpoint.clone(),
                        source: io::Error::new(io::ErrorKind::WriteZero, "the peer took nothing"),
                    })
                }
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if timed_out(&e) => return Err(deadline.expired(endpoint, Phase::Write)),
                Err(source) => {
                    return Err(Error::Write {
                        endpoint: endpoint.clone(),
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Closes the write side (the master CLI answers only then).
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.shutdown(Shutdown::Write),
            Conn::Tcp(s) => s.shutdown(Shutdown::Write),
        }
    }

    /// Reads what is available into `buf` before the deadline; 0 at EOF.
    /// `received` is what the reply had so far (for the error).
    pub(crate) fn read(
        &mut self,
        endpoint: &Endpoint,
        buf: &mut [u8],
        deadline: &Deadline,
        received: usize,
    ) -> Result<usize> {
        loop {
            let left = deadline.left(endpoint, Phase::Read)?;
            let r = match self {
                Conn::Unix(s) => s.set_read_timeout(left).and_then(|()| s.read(buf)),
                Conn::Tcp(s) => s.set_read_timeout(left).and_then(|()| s.read(buf)),
            };
            match r {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if timed_out(&e) => return Err(deadline.expired(endpoint, Phase::Read)),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(Error::ClosedMidReply {
                        endpoint: endpoint.clone(),
                        received,
                    })
                }
                Err(source) => {
                    return Err(Error::Read {
                        endpoint: endpoint.clone(),
                        source,
                    })
                }
            }
        }
    }
}

pub(crate) fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Connects to `endpoint` before `deadline`, in the calling thread.
pub(crate) fn connect(endpoint: &Endpoint, deadline: &Deadline) -> Result<Conn> {
    match endpoint.connect_target() {
        Endpoint::Unix(path) => Ok(Conn::Unix(connect_unix(endpoint, path, deadline)?)),
        Endpoint::Tcp { host, port, family } => Ok(Conn::Tcp(connect_tcp(
            endpoint, host, *port, *family, deadline,
        )?)),
        // connect_target() never returns a master endpoint.
        _ => Err(Error::InvalidEndpoint {
            input: endpoint.to_string(),
            reason: "nested master selectors".into(),
        }),
    }
}

pub(crate) fn map_connect_error(endpoint: &Endpoint, path: Option<&Path>, e: io::Error) -> Error {
    let endpoint = endpoint.clone();
    match e.kind() {
        io::ErrorKind::NotFound => Error::NoSuchSocket { endpoint },
        io::ErrorKind::PermissionDenied => Error::PermissionDenied { endpoint },
        io::ErrorKind::ConnectionRefused => {
            let not_socket = path
                .and_then(|p| std::fs::metadata(p).ok())
                .is_some_and(|m| !m.file_type().is_socket());
            if not_socket {
                Error::NotASocket { endpoint }
            } else {
                Error::ConnectRefused { endpoint }
            }
        }
        _ => Error::Connect {
            endpoint,
            source: e,
        },
    }
}

/// A non-blocking UNIX connect. Linux answers `EAGAIN` at once when the
/// listener's backlog is full (a frozen or overloaded process) and offers
/// nothing to wait on, so the connect is tried again every few
/// milliseconds until the deadline — no helper thread, none left behind.
fn connect_unix(endpoint: &Endpoint, path: &Path, deadline: &Deadline) -> Result<UnixStream> {
    if let Ok(m) = std::fs::metadata(path) {
        if !m.file_type().is_socket() {
            return Err(Error::NotASocket {
                endpoint: endpoint.clone(),
            });
        }
    }
    let addr = SockAddr::unix(path).map_err(|e| map_connect_error(endpoint, Some(path), e))?;
    let mut pause = Duration::from_millis(1);
    loop {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)
            .map_err(|e| map_connect_error(endpoint, Some(path), e))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| map_connect_error(endpoint, Some(path), e))?;
        match socket.connect(&addr) {
            Ok(()) => {
                socket
                    .set_nonblocking(false)
                    .map_err(|e| map_connect_error(endpoint, Some(path), e))?;
                return Ok(socket.into());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.left(endpoint, Phase::Connect)?;
                std::thread::sleep(left.map_or(pause, |l| l.min(pause)));
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(map_connect_error(endpoint, Some(path), e)),
        }
    }
}

/// A TCP connect to each address in turn, bounded by the deadline
/// (`socket2`'s non-blocking connect and poll).
fn connect_tcp(
    endpoint: &Endpoint,
    host: &str,
    port: u16,
    family: Family,
    deadline: &Deadline,
) -> Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::Connect {
            endpoint: endpoint.clone(),
            source: e,
        })?
        .filter(|a| family.admits(a))
        .collect();
    let mut last = None;
    for a in addrs {
        let left = deadline.left(endpoint, Phase::Connect)?;
        let socket = Socket::new(Domain::for_address(a), Type::STREAM, Some(Protocol::TCP))
            .map_err(|e| map_connect_error(endpoint, None, e))?;
        let r = match left {
            Some(left) => socket.connect_timeout(&a.into(), left),
            None => socket.connect(&a.into()),
        };
        match r {
            Ok(()) => {
                socket
                    .set_nonblocking(false)
                    .map_err(|e| map_connect_error(endpoint, None, e))?;
                let s: TcpStream = socket.into();
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if timed_out(&e) => last = Some(deadline.expired(endpoint, Phase::Connect)),
            Err(e) => last = Some(map_connect_error(endpoint, None, e)),
        }
    }
    Err(last.unwrap_or_else(|| Error::Connect {
        endpoint: endpoint.clone(),
        source: io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} has no address of the requested family"),
        ),
    }))
}
