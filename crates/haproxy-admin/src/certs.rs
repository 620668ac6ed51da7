//! TLS certificates on every process: read (`show ssl cert`), and updated
//! as one transaction per process that is committed only when every
//! process took the new certificate, then read back.
//!
//! Written once against [`Exchange`]: [`HAProxy`] and the async driver
//! run the same rounds.

use crate::exchange::{each, ready, Exchange};
use crate::haproxy::{collect, HAProxy, PerProcess};
use crate::{Error, Process, ProcessFailure, ProcessId, Result};
use haproxy_proto::command::Command;
use haproxy_proto::ssl::{parse_cert, parse_cert_list, parse_cert_time, Pem};

/// One certificate as a process serves it (`show ssl cert <file>`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cert {
    /// The certificate file, as HAProxy names it.
    pub file: String,
    /// `Used`, `Unused` (loaded, not referenced by any bind line), …
    pub status: Option<String>,
    /// Serial number, hex.
    pub serial: Option<String>,
    /// Subject (`/CN=a.example.com`).
    pub subject: Option<String>,
    /// Issuer.
    pub issuer: Option<String>,
    /// Subject alternative names (`DNS:a.example.com`).
    pub sans: Vec<String>,
    /// Key algorithm and size (`RSA2048`, `EC256`).
    pub algorithm: Option<String>,
    /// Not valid before, as HAProxy prints it.
    pub not_before: Option<String>,
    /// Not valid after, as HAProxy prints it.
    pub not_after: Option<String>,
    /// Not valid after, in seconds since the Unix epoch.
    pub not_after_unix: Option<i64>,
    /// SHA-1 fingerprint of the certificate, upper-case hex.
    pub sha1: Option<String>,
}

/// What [`HAProxy::update_cert`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertUpdate {
    /// The certificate file.
    pub file: String,
    /// The fingerprint every process now serves.
    pub sha1: String,
    /// The processes that committed it, each read back.
    pub processes: Vec<ProcessId>,
}

impl Cert {
    fn of(reply: &str) -> std::result::Result<Cert, haproxy_proto::ParseError> {
        let d = parse_cert(reply)?;
        let own = |s: Option<&str>| s.map(str::to_owned);
        Ok(Cert {
            file: d.file.to_owned(),
            status: own(d.status),
            serial: own(d.serial),
            subject: own(d.subject),
            issuer: own(d.issuer),
            sans: d.sans.iter().map(|s| (*s).to_owned()).collect(),
            algorithm: own(d.algorithm),
            not_before: own(d.not_before),
            not_after: own(d.not_after),
            not_after_unix: d.not_after.and_then(parse_cert_time),
            sha1: own(d.sha1),
        })
    }
}

fn parse_error(p: &Process, command: &str, source: haproxy_proto::ParseError) -> Error {
    Error::Parse {
        endpoint: p.endpoint().to_string(),
        command: command.to_owned(),
        source: Box::new(source),
    }
}

/// The files of `show ssl cert` and the open transaction, per process.
struct Listing {
    transaction: Option<String>,
    files: Vec<String>,
}

async fn listings<E: Exchange>(x: &E, processes: &[&Process]) -> Vec<Result<Listing>> {
    each(x, processes, &Command::show_ssl_certs(), |reply| {
        let l = parse_cert_list(reply)?;
        Ok(Listing {
            transaction: l.transaction.map(str::to_owned),
            files: l.files.iter().map(|f| (*f).to_owned()).collect(),
        })
    })
    .await
}

/// `show ssl cert <file>` for each process's `files`.
async fn details<E: Exchange>(
    x: &E,
    processes: &[&Process],
    files: Vec<Vec<String>>,
) -> Vec<Result<Vec<Cert>>> {
    let mut commands = Vec::with_capacity(files.len());
    for fs in &files {
        let built: std::result::Result<Vec<Command>, _> =
            fs.iter().map(|f| Command::show_ssl_cert(f)).collect();
        match built {
            Ok(c) => commands.push(c),
            // A name HAProxy listed but the builder refuses (a leading
            // `*`, a control character): said, not sent.
            Err(e) => return processes.iter().map(|_| Err(e.clone().into())).collect(),
        }
    }
    let replies = x.exchange(processes, commands).await;
    processes
        .iter()
        .zip(replies)
        .map(|(p, r)| {
            r?.iter()
                .map(|reply| Cert::of(reply).map_err(|e| parse_error(p, "show ssl cert", e)))
                .collect()
        })
        .collect()
}

pub(crate) async fn certs<E: Exchange>(x: &E) -> Result<PerProcess<Vec<Cert>>> {
    let all = x.all();
    let lists = listings(x, &all).await;
    // A process whose list failed is asked for no file; its error stands.
    let files = lists
        .iter()
        .map(|l| l.as_ref().map_or_else(|_| Vec::new(), |l| l.files.clone()))
        .collect();
    let details = details(x, &all, files).await;
    let results = lists
        .into_iter()
        .zip(details)
        .map(|(l, d)| l.and(d))
        .collect();
    collect(&all, "show ssl cert", results)
}

pub(crate) async fn cert<E: Exchange>(x: &E, file: &str) -> Result<PerProcess<Cert>> {
    let all = x.all();
    let results = details(x, &all, vec![vec![file.to_owned()]; all.len()]).await;
    let one = results
        .into_iter()
        .map(|r| r.and_then(|mut v| v.pop().ok_or_else(|| not_held(file))))
        .collect();
    collect(&all, &format!("show ssl cert {file}"), one)
}

fn not_held(file: &str) -> Error {
    Error::NotFound {
        kind: "certificate",
        name: file.to_owned(),
    }
}

/// The file a `set ssl cert` reply says its transaction is about, and
/// whether it was created by this command (`Transaction created for
/// certificate <file>!`) or was open before (`… updated …`).
fn transaction_of(reply: &str) -> Option<(bool, &str)> {
    let line = reply.lines().find(|l| !l.trim().is_empty())?.trim_end();
    let (created, rest) = if let Some(r) = line.strip_prefix("Transaction created for certificate ")
    {
        (true, r)
    } else {
        (
            false,
            line.strip_prefix("Transaction updated for certificate ")?,
        )
    };
    Some((created, rest.strip_suffix('!')?))
}

pub(crate) async fn update_cert<E: Exchange>(x: &E, file: &str, pem: &Pem) -> Result<CertUpdate> {
    let set = Command::set_ssl_cert(file, pem)?;
    let commit = Command::commit_ssl_cert(file)?;
    let procs = x.writable();
    let n = procs.len();
    let failure = |p: &Process, error: Error| ProcessFailure {
        process: p.id().clone(),
        endpoint: p.endpoint().to_string(),
        error: Box::new(error),
    };
    // 1. Every process holds the file and has no transaction open: on
    //    2.6 a `set ssl cert` for one file lands in another file's open
    //    transaction, and anyone's would be committed with ours.
    let mut checks = Vec::with_capacity(n);
    for (p, l) in procs.iter().zip(listings(x, &procs).await) {
        checks.push(l.and_then(|l| match l.transaction {
            Some(open) => Err(Error::CertBusy {
                endpoint: p.endpoint().to_string(),
                transaction: open,
            }),
            None if !l.files.iter().any(|f| f == file) => Err(not_held(file)),
            None => Ok(()),
        }));
    }
    collect(&procs, &format!("set ssl cert {file}"), checks)?;
    // 2. The transaction on every process.
    let replies = x.exchange(&procs, vec![vec![set.clone()]; n]).await;
    let mut opened = Vec::new();
    let mut failures = Vec::new();
    for (p, r) in procs.iter().zip(replies) {
        match r.map(|r| r.concat()) {
            Ok(reply) => match transaction_of(&reply) {
                Some((true, f)) if f == file => opened.push((*p, f.to_owned())),
                other => {
                    // Someone else's transaction took our payload: it
                    // must not be committed with it.
                    if let Some((_, f)) = other {
                        opened.push((*p, f.to_owned()));
                    }
                    failures.push(failure(
                        p,
                        Error::CertBusy {
                            endpoint: p.endpoint().to_string(),
                            transaction: other.map_or_else(String::new, |(_, f)| f.to_owned()),
                        },
                    ));
                }
            },
            Err(e) => failures.push(failure(p, e)),
        }
    }
    if !failures.is_empty() {
        let (aborted, abort_failures) = abort(x, &opened).await;
        failures.extend(abort_failures);
        return Err(Error::CertUpdate {
            file: file.to_owned(),
            committed: Vec::new(),
            aborted,
            failures,
        });
    }
    // 3. Commit everywhere; a process that refused is aborted, the others
    //    serve the new certificate now.
    let replies = x.exchange(&procs, vec![vec![commit]; n]).await;
    let mut committed = Vec::new();
    let mut refused = Vec::new();
    for (p, r) in procs.iter().zip(replies) {
        match r {
            Ok(_) => committed.push(*p),
            Err(e) => {
                refused.push((*p, file.to_owned()));
                failures.push(failure(p, e));
            }
        }
    }
    if !failures.is_empty() {
        let (aborted, abort_failures) = abort(x, &refused).await;
        failures.extend(abort_failures);
        return Err(Error::CertUpdate {
            file: file.to_owned(),
            committed: committed.iter().map(|p| p.id().clone()).collect(),
            aborted,
            failures,
        });
    }
    // 4. Read back: every process serves the file's certificate.
    let sha1 = pem.sha1();
    let served = details(x, &procs, vec![vec![file.to_owned()]; n]).await;
    for (p, r) in procs.iter().zip(served) {
        let found = r.map(|mut v| v.pop().and_then(|c| c.sha1));
        match found {
            Ok(Some(s)) if s == sha1 => {}
            Ok(found) => failures.push(failure(
                p,
                Error::CertNotServed {
                    endpoint: p.endpoint().to_string(),
                    expected: sha1.clone(),
                    found,
                },
            )),
            Err(e) => failures.push(failure(p, e)),
        }
    }
    if !failures.is_empty() {
        return Err(Error::CertUpdate {
            file: file.to_owned(),
            committed: committed.iter().map(|p| p.id().clone()).collect(),
            aborted: Vec::new(),
            failures,
        });
    }
    Ok(CertUpdate {
        file: file.to_owned(),
        sha1,
        processes: committed.iter().map(|p| p.id().clone()).collect(),
    })
}

/// `abort ssl cert` of each process's open transaction: the processes
/// aborted, and those where the abort failed.
async fn abort<E: Exchange>(
    x: &E,
    open: &[(&Process, String)],
) -> (Vec<ProcessId>, Vec<ProcessFailure>) {
    let (mut aborted, mut failed) = (Vec::new(), Vec::new());
    let mut procs = Vec::with_capacity(open.len());
    let mut commands = Vec::with_capacity(open.len());
    for (p, f) in open {
        match Command::abort_ssl_cert(f) {
            Ok(c) => {
                procs.push(*p);
                commands.push(vec![c]);
            }
            Err(e) => failed.push(ProcessFailure {
                process: p.id().clone(),
                endpoint: p.endpoint().to_string(),
                error: Box::new(e.into()),
            }),
        }
    }
    let replies = x.exchange(&procs, commands).await;
    for (p, r) in procs.iter().zip(replies) {
        match r {
            Ok(_) => aborted.push(p.id().clone()),
            Err(e) => failed.push(ProcessFailure {
                process: p.id().clone(),
                endpoint: p.endpoint().to_string(),
                error: Box::new(e),
            }),
        }
    }
    (aborted, failed)
}

impl HAProxy {
    /// Every certificate of every process (`show ssl cert`, then each
    /// file's details over the same session, pipelined).
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] / [`Error::Parse`] naming the process, or
    /// [`Error::Partial`].
    pub fn certs(&self) -> Result<PerProcess<Vec<Cert>>> {
        ready(certs(self))
    }

    /// One certificate file, as every process serves it.
    ///
    /// # Errors
    ///
    /// [`Error::CommandFailed`] with HAProxy's words where a process does
    /// not hold it; [`Error::Partial`] when only some processes failed.
    pub fn cert(&self, file: &str) -> Result<PerProcess<Cert>> {
        ready(cert(self, file))
    }

    /// Replaces the certificate (and key) of `file` on every process the
    /// way HAProxy makes it safe, and says so only when it is served
    /// everywhere:
    ///
    /// 1. every process must hold `file` and have no `set ssl cert`
    ///    transaction open (someone else's would be committed with ours;
    ///    on 2.6 a `set` even lands in another file's open transaction);
    /// 2. `set ssl cert <file> <<` with the PEM on every process; if any
    ///    refuses, the transactions opened are aborted and nothing is
    ///    committed anywhere;
    /// 3. `commit ssl cert` on every process; a process that refuses is
    ///    aborted (the others serve the new certificate: the error says
    ///    which);
    /// 4. `show ssl cert <file>` on every process: each must serve the
    ///    PEM's fingerprint.
    ///
    /// `pem` was checked when read ([`Pem::parse`]: a certificate and its
    /// key). Old workers are skipped, as by every write.
    ///
    /// # Errors
    ///
    /// [`Error::CertBusy`] / [`Error::NotFound`] (or [`Error::Partial`])
    /// before anything was sent; [`Error::CertUpdate`] naming what was
    /// committed, aborted and failed, per process.
    pub fn update_cert(&self, file: &str, pem: &Pem) -> Result<CertUpdate> {
        ready(update_cert(self, file, pem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replies_name_their_transaction() {
        assert_eq!(
            transaction_of("Transaction created for certificate /a.pem!\n\n"),
            Some((true, "/a.pem"))
        );
        assert_eq!(
            transaction_of("Transaction updated for certificate /b c.pem!\n"),
            Some((false, "/b c.pem"))
        );
        assert_eq!(transaction_of("Can't update /a.pem!\n"), None);
        assert_eq!(transaction_of(""), None);
    }
}
