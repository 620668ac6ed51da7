//! Certificates on every process (issue 30): three instances serving one
//! certificate file on a TLS listener each; what `cert list` says is
//! compared with what a real TLS client (`openssl s_client`) receives from
//! each process, before and after `cert update`, and after refusals.

use crate::cli::{run, Out};
use haproxy_e2e::{Fleet, Options};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory for generated keys.
fn key_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hx-certs-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the key dir");
    dir
}

fn openssl(args: &[&str]) -> String {
    let o = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl (the openssl package)");
    assert!(o.status.success(), "openssl {args:?}: {o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A self-signed certificate for `cn` valid `days`, as `<name>.crt` and
/// `<name>.key` in `dir`; `algo` is `rsa:2048` or `ed25519`.
fn make_cert(dir: &Path, name: &str, cn: &str, days: u32, algo: &str) -> (PathBuf, PathBuf) {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let (crt_s, key_s) = (crt.to_string_lossy(), key.to_string_lossy());
    let days = days.to_string();
    let subj = format!("/CN={cn}");
    if algo == "ed25519" {
        openssl(&["genpkey", "-algorithm", "ed25519", "-out", &key_s]);
        openssl(&[
            "req", "-x509", "-key", &key_s, "-out", &crt_s, "-days", &days, "-subj", &subj,
        ]);
    } else {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            algo,
            "-nodes",
            "-keyout",
            &key_s,
            "-out",
            &crt_s,
            "-days",
            &days,
            "-subj",
            &subj,
            "-addext",
            &format!("subjectAltName=DNS:{cn}"),
        ]);
    }
    (crt, key)
}

fn concat(out: &Path, parts: &[&Path]) {
    let text: String = parts
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read a PEM part"))
        .collect();
    std::fs::write(out, text).expect("write a PEM file");
}

/// The SHA-1 fingerprint of a certificate file, by openssl (upper hex).
fn fingerprint(crt: &Path) -> String {
    let out = openssl(&[
        "x509",
        "-in",
        &crt.to_string_lossy(),
        "-noout",
        "-fingerprint",
        "-sha1",
    ]);
    out.trim()
        .rsplit('=')
        .next()
        .expect("a fingerprint")
        .replace(':', "")
}

/// The fingerprint of the certificate a TLS client receives from `addr`.
fn served(addr: std::net::SocketAddr) -> String {
    let o = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-servername",
            "svc.test",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run openssl s_client");
    let pem = String::from_utf8_lossy(&o.stdout);
    let begin = pem.find("-----BEGIN CERTIFICATE-----");
    let end = pem.find("-----END CERTIFICATE-----");
    let (Some(b), Some(e)) = (begin, end) else {
        panic!("no certificate from {addr}: {o:?}");
    };
    let dir = key_dir();
    let path = dir.join("peer.crt");
    std::fs::write(&path, &pem[b..e + "-----END CERTIFICATE-----\n".len()]).expect("write");
    let f = fingerprint(&path);
    let _ = std::fs::remove_dir_all(dir);
    f
}

/// What every process serves, by a TLS client and by `show ssl cert`
/// read raw.
fn served_everywhere(f: &Fleet, file: &Path) -> Vec<(String, String)> {
    f.instances()
        .iter()
        .map(|i| {
            let tls = served(i.tls.expect("a TLS listener"));
            let raw = i.raw(&format!("show ssl cert {}", file.display()));
            let sha1 = raw
                .lines()
                .find_map(|l| l.strip_prefix("SHA1 FingerPrint: "))
                .unwrap_or_else(|| panic!("no fingerprint in {raw}"))
                .trim()
                .to_owned();
            (tls, sha1)
        })
        .collect()
}

/// `haproxy-cli --socket-dir <the fleet's> ARGS`, whatever its outcome.
pub(crate) fn cli(f: &Fleet, args: &[&str]) -> Out {
    let dir = f.socket_dir();
    let dir = dir.to_string_lossy();
    let mut all = vec!["--socket-dir", &dir];
    all.extend_from_slice(args);
    run(&all)
}

/// Instances serving `site.pem` (an RSA certificate for `old.test`, 20
/// days) on a TLS listener each, and a second pair (`new.test`, 400 days)
/// to update to, in a fresh key directory.
struct TlsFleet {
    keys: PathBuf,
    old_crt: PathBuf,
    old_key: PathBuf,
    new_crt: PathBuf,
    new_key: PathBuf,
    site: PathBuf,
    f: Fleet,
}

fn tls_fleet(instances: usize) -> TlsFleet {
    let keys = key_dir();
    let (old_crt, old_key) = make_cert(&keys, "old", "old.test", 20, "rsa:2048");
    let (new_crt, new_key) = make_cert(&keys, "new", "new.test", 400, "rsa:2048");
    let site = keys.join("site.pem");
    concat(&site, &[&old_crt, &old_key]);
    let f = Fleet::start(Options {
        instances,
        tls_cert: Some(site.clone()),
        ..Options::default()
    });
    TlsFleet {
        keys,
        old_crt,
        old_key,
        new_crt,
        new_key,
        site,
        f,
    }
}

fn no_transaction_anywhere(f: &Fleet) {
    for i in f.instances() {
        let list = i.raw("show ssl cert");
        assert!(!list.contains("# transaction"), "left open: {list}");
    }
}

#[test]
fn a_certificate_update_reaches_every_process_or_none() {
    let TlsFleet {
        keys,
        old_crt,
        old_key,
        new_crt,
        new_key,
        site,
        f,
    } = tls_fleet(3);
    let old = fingerprint(&old_crt);
    let new = fingerprint(&new_crt);
    assert_ne!(old, new);
    let file = site.to_string_lossy().into_owned();

    // The list says what a TLS client receives from each process.
    assert!(served_everywhere(&f, &site)
        .iter()
        .all(|(t, r)| *t == old && *r == old));
    let o = cli(&f, &["cert", "list", "-o", "json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let rows: Json = serde_json::from_str(&o.stdout).expect("JSON");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["file"], file.as_str());
    assert_eq!(rows[0]["sha1"], old.as_str());
    assert_eq!(rows[0]["everywhere"], true);
    assert_eq!(rows[0]["pids"].as_array().map(Vec::len), Some(3));
    assert_eq!(rows[0]["subject"], "/CN=old.test");
    assert_eq!(rows[0]["sans"][0], "DNS:old.test");
    let days = rows[0]["expires_in"].as_i64().expect("expires_in") / 86_400;
    assert!((19..=20).contains(&days), "{days}");

    // --expiring: exit 1 naming the file within the window, 0 outside.
    let o = cli(&f, &["cert", "list", "--expiring", "30d"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains(&file) && o.stderr.contains("within 30d"),
        "{o:?}"
    );
    let o = cli(&f, &["cert", "list", "--expiring", "10d"]);
    assert_eq!(o.code, 0, "{o:?}");

    // A key that is not the certificate's: refused before sending.
    let mismatched = keys.join("mismatched.pem");
    concat(&mismatched, &[&new_crt, &old_key]);
    let o = cli(
        &f,
        &["cert", "update", &file, &mismatched.to_string_lossy()],
    );
    assert_eq!(o.code, 2, "{o:?}");
    assert!(o.stderr.contains("does not match"), "{o:?}");
    // An Ed25519 pair whose mismatch the file cannot show: HAProxy
    // refuses the commit on every process, every transaction is aborted.
    let (ed_crt, _) = make_cert(&keys, "ed", "ed.test", 30, "ed25519");
    let (_, ed_other) = make_cert(&keys, "ed2", "ed2.test", 30, "ed25519");
    let ed_bad = keys.join("ed-bad.pem");
    concat(&ed_bad, &[&ed_crt, &ed_other]);
    let o = cli(&f, &["cert", "update", &file, &ed_bad.to_string_lossy()]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr
            .contains("inconsistencies between private key and certificate")
            && o.stderr.contains("committed nowhere")
            && o.stderr.contains("aborted (serving the old one)"),
        "{o:?}"
    );
    no_transaction_anywhere(&f);
    // Someone else's transaction on one process: nothing sent anywhere.
    let other = f.instances()[1].raw(&format!("show ssl cert {file}"));
    assert!(other.contains(&old), "{other}");
    let good = keys.join("good.pem");
    concat(&good, &[&new_crt, &new_key]);
    let payload = std::fs::read_to_string(&good).expect("read");
    let opened = haproxy_e2e::raw_unix(
        &f.instances()[1].socket,
        &format!("set ssl cert {file} <<\n{payload}"),
    )
    .expect("open a transaction");
    assert!(opened.starts_with("Transaction created"), "{opened}");
    let o = cli(&f, &["cert", "update", &file, &good.to_string_lossy()]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains("a certificate transaction is open"),
        "{o:?}"
    );
    let aborted = f.instances()[1].raw(&format!("abort ssl cert {file}"));
    assert!(aborted.starts_with("Transaction aborted"), "{aborted}");
    // After every refusal, every process still serves the old one.
    assert!(served_everywhere(&f, &site)
        .iter()
        .all(|(t, r)| *t == old && *r == old));

    // The dry run prints what is sent, the key's lines hidden, and sends
    // nothing.
    let o = cli(
        &f,
        &[
            "cert",
            "update",
            &file,
            &good.to_string_lossy(),
            "--dry-run",
        ],
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(
        o.stdout.matches(&format!("set ssl cert {file} <<")).count(),
        3,
        "{o:?}"
    );
    assert_eq!(
        o.stdout.matches(&format!("commit ssl cert {file}")).count(),
        3
    );
    assert!(
        o.stdout.contains("lines of the private key, not shown"),
        "{o:?}"
    );
    let key_line = std::fs::read_to_string(&new_key).expect("key");
    let key_line = key_line.lines().nth(1).expect("a key line");
    assert!(!o.stdout.contains(key_line), "the key was printed");
    no_transaction_anywhere(&f);

    // The update: exit 0, and every process serves the new certificate
    // to a TLS client.
    let o = cli(&f, &["cert", "update", &file, &good.to_string_lossy()]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stdout.contains(&new) && o.stdout.contains("on 3 processes"),
        "{o:?}"
    );
    for (tls, raw) in served_everywhere(&f, &site) {
        assert_eq!((tls.as_str(), raw.as_str()), (new.as_str(), new.as_str()));
    }
    no_transaction_anywhere(&f);
    let o = cli(&f, &["cert", "show", &file, "-o", "json"]);
    let rows: Json = serde_json::from_str(&o.stdout).expect("JSON");
    assert_eq!(rows[0]["sha1"], new.as_str(), "{o:?}");
    assert_eq!(rows[0]["everywhere"], true);
    let o = cli(&f, &["cert", "list", "--expiring", "30d"]);
    assert_eq!(o.code, 0, "{o:?}");

    // A process that serves another certificate is a row of its own.
    let back = keys.join("back.pem");
    concat(&back, &[&old_crt, &old_key]);
    let payload = std::fs::read_to_string(&back).expect("read");
    let i0 = &f.instances()[0];
    let set = haproxy_e2e::raw_unix(&i0.socket, &format!("set ssl cert {file} <<\n{payload}"))
        .expect("set");
    assert!(set.starts_with("Transaction created"), "{set}");
    let commit = i0.raw(&format!("commit ssl cert {file}"));
    assert!(commit.contains("Success!"), "{commit}");
    let o = cli(&f, &["cert", "list", "-o", "json"]);
    let rows: Json = serde_json::from_str(&o.stdout).expect("JSON");
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let pids = |sha: &str| {
        rows.iter()
            .find(|r| r["sha1"] == sha)
            .map(|r| r["pids"].as_array().map_or(0, Vec::len))
    };
    assert_eq!((pids(&old), pids(&new)), (Some(1), Some(2)), "{rows:?}");
    assert!(rows.iter().all(|r| r["everywhere"] == false));
    let _ = std::fs::remove_dir_all(keys);
}

#[test]
fn a_pem_file_is_checked_before_any_socket_is_opened() {
    let keys = key_dir();
    let (crt, _) = make_cert(&keys, "a", "a.test", 10, "rsa:2048");
    // A directory without a socket: only the file is read.
    let empty = key_dir();
    for (name, text, says) in [
        ("nocert.pem", "hello\n".to_owned(), "no certificate"),
        (
            "nokey.pem",
            std::fs::read_to_string(&crt).expect("crt"),
            "no private key",
        ),
    ] {
        let path = keys.join(name);
        std::fs::write(&path, text).expect("write");
        let o = run(&[
            "--socket-dir",
            &empty.to_string_lossy(),
            "cert",
            "update",
            "/x.pem",
            &path.to_string_lossy(),
        ]);
        assert_eq!(o.code, 2, "{o:?}");
        assert!(
            o.stderr.contains(says) && o.stderr.contains("nothing sent"),
            "{o:?}"
        );
    }
    let _ = std::fs::remove_dir_all(keys);
    let _ = std::fs::remove_dir_all(empty);
}

/// `notAfter` of a certificate file in seconds since the epoch, by
/// openssl and date(1).
fn not_after(crt: &Path) -> f64 {
    let out = openssl(&["x509", "-in", &crt.to_string_lossy(), "-noout", "-enddate"]);
    let when = out.trim().trim_start_matches("notAfter=");
    let o = Command::new("date")
        .args(["-u", "-d", when, "+%s"])
        .output()
        .expect("run date");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("date said {o:?}: {e}"))
}

/// The `haproxy_ssl_cert_not_after_seconds` samples of a scrape.
fn expiry_samples(addr: std::net::SocketAddr) -> Vec<(String, f64)> {
    let (head, body) = crate::prometheus::exchange(addr, "GET /metrics HTTP/1.0", "");
    assert!(head.contains(" 200 "), "{head}");
    crate::prometheus::promtool_check(&body);
    String::from_utf8_lossy(&body)
        .lines()
        .filter_map(|l| l.strip_prefix("haproxy_ssl_cert_not_after_seconds{"))
        .map(|l| {
            let (labels, v) = l.rsplit_once("} ").expect("a sample");
            (labels.to_owned(), v.parse().expect("a number"))
        })
        .collect()
}

/// The samples once `ready` holds of them: certificates are read in the
/// background, so a scrape serves the previous read (none at first).
fn expiry_once(
    addr: std::net::SocketAddr,
    ready: impl Fn(&[(String, f64)]) -> bool,
) -> Vec<(String, f64)> {
    let mut last = Vec::new();
    haproxy_e2e::wait_until(
        std::time::Duration::from_secs(10),
        "the certificates read",
        || {
            last = expiry_samples(addr);
            ready(&last)
        },
    );
    last
}

#[test]
fn the_exporter_says_when_each_certificate_expires() {
    let TlsFleet {
        keys,
        old_crt,
        new_crt,
        new_key,
        site,
        f,
        ..
    } = tls_fleet(2);
    let dir = f.socket_dir();
    let source = ["--socket-dir".as_ref(), dir.as_os_str()];
    let (_combined, combined) = crate::prometheus::exporter_of(&source, &["--cert-refresh", "0"]);
    let (_per, per) =
        crate::prometheus::exporter_of(&source, &["--per-process", "--cert-refresh", "0"]);
    let file = site.to_string_lossy().into_owned();
    let label = format!("file=\"{file}\"");
    let old = not_after(&old_crt);
    let want = [(label.clone(), old)];
    expiry_once(combined, |s| s == want);
    let samples = expiry_once(per, |s| s.len() == 2);
    for i in f.instances() {
        let pid = format!("pid=\"{}\"", i.pid);
        assert!(
            samples
                .iter()
                .any(|(l, v)| l.contains(&pid) && l.contains(&label) && *v == not_after(&old_crt)),
            "{samples:?}"
        );
    }
    // One process renewed: combined says the earliest, per process each.
    let good = keys.join("good.pem");
    concat(&good, &[&new_crt, &new_key]);
    let payload = std::fs::read_to_string(&good).expect("read");
    let i1 = &f.instances()[1];
    let set = haproxy_e2e::raw_unix(&i1.socket, &format!("set ssl cert {file} <<\n{payload}"))
        .expect("set");
    assert!(set.starts_with("Transaction created"), "{set}");
    assert!(i1
        .raw(&format!("commit ssl cert {file}"))
        .contains("Success!"));
    let new = not_after(&new_crt);
    let pid_of = |s: &[(String, f64)], pid: u32| {
        s.iter()
            .find(|(l, _)| l.contains(&format!("pid=\"{pid}\"")))
            .map(|(_, v)| *v)
    };
    let samples = expiry_once(per, |s| pid_of(s, i1.pid) == Some(new));
    // The earliest of the processes: still the old one.
    assert_eq!(expiry_samples(combined), want);
    let of = |pid: u32| {
        samples
            .iter()
            .find(|(l, _)| l.contains(&format!("pid=\"{pid}\"")))
            .map(|(_, v)| *v)
    };
    assert_eq!(
        of(f.instances()[0].pid),
        Some(not_after(&old_crt)),
        "{samples:?}"
    );
    assert_eq!(of(i1.pid), Some(not_after(&new_crt)), "{samples:?}");
    // Renewed everywhere: the combined series moves.
    let o = cli(&f, &["cert", "update", &file, &good.to_string_lossy()]);
    assert_eq!(o.code, 0, "{o:?}");
    let want = [(label, new)];
    expiry_once(combined, |s| s == want);
    let _ = std::fs::remove_dir_all(keys);
}

#[test]
fn the_async_api_reads_and_updates_certificates_as_the_blocking_one() {
    let TlsFleet {
        keys,
        new_crt,
        new_key,
        site,
        f,
        ..
    } = tls_fleet(2);
    let file = site.to_string_lossy().into_owned();
    let hap = haproxy_admin::HAProxy::from_dir(f.socket_dir()).expect("discover");
    let blocking = hap.certs().expect("certs");
    assert_eq!(blocking.len(), 2);
    let good = keys.join("good.pem");
    concat(&good, &[&new_crt, &new_key]);
    let pem = haproxy_admin::Pem::parse(&std::fs::read_to_string(&good).expect("read"))
        .expect("a good pair");
    // Spawned: the futures are Send, as a server's handlers need.
    let (read, done) = crate::asynch::multi_thread().block_on(async {
        let a = haproxy_admin::asynch::AsyncHAProxy::from(hap.clone());
        let read = tokio::spawn({
            let a = haproxy_admin::asynch::AsyncHAProxy::from(hap.clone());
            async move { a.certs().await }
        })
        .await
        .expect("join")
        .expect("certs");
        (read, a.update_cert(&file, &pem).await.expect("update"))
    });
    assert_eq!(read, blocking);
    assert_eq!(done.sha1, fingerprint(&new_crt));
    assert_eq!(done.processes.len(), 2);
    for (tls, raw) in served_everywhere(&f, &site) {
        assert_eq!(
            (tls.as_str(), raw.as_str()),
            (done.sha1.as_str(), done.sha1.as_str())
        );
    }
    let _ = std::fs::remove_dir_all(keys);
}
