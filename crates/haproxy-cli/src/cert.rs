//! `cert list|show|update`: certificates of every process, and their
//! update as one verified transaction per process.

use crate::args::CertCmd;
use crate::Cli;
use haproxy_admin::Error;
use haproxy_admin::Pem;
use haproxy_cli::{output, Failure};
use std::io::Write;
use std::path::Path;

type Result<T = ()> = std::result::Result<T, Failure>;

/// Runs a `cert` subcommand: a PEM file is read and checked before any
/// socket is opened.
pub(crate) fn run(cli: &Cli, c: &CertCmd) -> Result {
    let pem = match c {
        CertCmd::Update { pemfile, .. } => Some(read_pem(pemfile)?),
        _ => None,
    };
    let hap = crate::connect(cli)?;
    let out = &mut std::io::BufWriter::new(std::io::stdout().lock());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    match (c, pem) {
        (CertCmd::List { expiring }, _) => {
            let per = hap.certs()?;
            let rows = output::cert_rows(&per, now);
            output::certs(out, cli.format, &rows)?;
            out.flush()?;
            if let Some(within) = expiring {
                let within = i64::try_from(within.as_secs()).unwrap_or(i64::MAX);
                let soon: Vec<String> = rows
                    .iter()
                    .filter(|r| r.expires_in.is_some_and(|s| s <= within))
                    .map(|r| {
                        format!(
                            "{} ({}, pids {})",
                            r.cert.file,
                            r.cert.not_after.as_deref().unwrap_or("?"),
                            r.pids
                                .iter()
                                .map(u32::to_string)
                                .collect::<Vec<_>>()
                                .join(",")
                        )
                    })
                    .collect();
                if !soon.is_empty() {
                    return Err(Failure::Checked(format!(
                        "{} certificate{} expire{} within {}: {}",
                        soon.len(),
                        if soon.len() == 1 { "" } else { "s" },
                        if soon.len() == 1 { "s" } else { "" },
                        span(within),
                        soon.join("; ")
                    )));
                }
            }
        }
        (CertCmd::Show { cert }, _) => {
            let per: Vec<_> = hap
                .cert(cert)?
                .into_iter()
                .map(|(p, c)| (p, vec![c]))
                .collect();
            output::certs(out, cli.format, &output::cert_rows(&per, now))?;
        }
        (CertCmd::Update { cert, dry_run, .. }, Some(pem)) => {
            let set = haproxy_admin::Command::set_ssl_cert(cert, &pem).map_err(Error::from)?;
            let commit = haproxy_admin::Command::commit_ssl_cert(cert).map_err(Error::from)?;
            if *dry_run {
                // Old workers are skipped, as by the update.
                crate::sets::print_plan(out, &hap.current(), [&set, &commit])?;
            } else {
                let done = hap.update_cert(cert, &pem)?;
                writeln!(
                    out,
                    "{}: serving SHA-1 {} on {} process{} (read back)",
                    done.file,
                    done.sha1,
                    done.processes.len(),
                    if done.processes.len() == 1 { "" } else { "es" }
                )?;
            }
        }
        (CertCmd::Update { .. }, None) => {}
    }
    out.flush()?;
    Ok(())
}

/// `86400` → `1d`, `7200` → `2h`, else seconds.
fn span(secs: i64) -> String {
    match secs {
        s if s != 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s != 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{s}s"),
    }
}

/// Reads and checks a PEM file: a usage error (nothing sent) names the
/// file and what is wrong.
fn read_pem(path: &Path) -> Result<Pem> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    Pem::parse(&text).map_err(|e| Failure::Usage(format!("{}: {e}; nothing sent", path.display())))
}
