//! TLS certificates: HAProxy's `show ssl cert` replies, and the PEM files
//! an update sends, read and checked before anything is sent.
//!
//! `show ssl cert` lists the certificate files a process holds (and, while
//! a `set ssl cert` transaction is open, its file under `# transaction`);
//! `show ssl cert <file>` describes one as `Key: value` lines. Both have
//! the same form on 2.6, 3.0, 3.2 and 3.4 (3.x adds lines such as `Crt
//! filename:`, which are skipped).
//!
//! [`Pem`] reads a certificate file as `set ssl cert` would take it: the
//! certificates (leaf first) and one private key. It tells whether the key
//! belongs to the leaf certificate (RSA and EC keys, and any PKCS#8 key
//! that carries its public key) — HAProxy 2.6 accepts a mismatched pair
//! into a transaction, so the check is made before sending — and gives
//! the leaf's SHA-1 fingerprint, the one `show ssl cert <file>` prints, so
//! that what a process serves after a commit can be compared with it.

use crate::error::{Input, ParseError, ParseErrorKind, Position};
use base64::Engine as _;

/// `show ssl cert` without argument: the files, and the open transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertList<'a> {
    /// The file of the `set ssl cert` transaction open on the process, if
    /// any (listed without its leading `*`).
    pub transaction: Option<&'a str>,
    /// Every certificate file the process holds, in its order.
    pub files: Vec<&'a str>,
}

/// Parses `show ssl cert` (without argument).
///
/// # Errors
///
/// [`ParseError`] when the reply has neither a `# filename` nor a
/// `# transaction` section, or a line outside them.
pub fn parse_cert_list(reply: &str) -> Result<CertList<'_>, ParseError> {
    let mut list = CertList::default();
    let mut section = None;
    let mut at = 0;
    for raw in reply.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let start = at;
        at += raw.len();
        match line {
            "" => continue,
            "# transaction" | "# filename" => section = Some(line),
            _ => match section {
                Some("# transaction") => {
                    list.transaction = Some(line.strip_prefix('*').unwrap_or(line));
                }
                Some(_) => list.files.push(line),
                None => return Err(malformed(reply, start, "a `# filename` header", line)),
            },
        }
    }
    if section.is_none() {
        return Err(ParseError::new(
            Input::Ssl,
            ParseErrorKind::MissingHeader,
            Position::at(reply.as_bytes(), 0),
            reply,
        ));
    }
    Ok(list)
}

/// `show ssl cert <file>`: one certificate as a process holds it. Fields a
/// version does not print are `None` (or empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertDetail<'a> {
    /// `Filename:` (with a leading `*` for a transaction's file).
    pub file: &'a str,
    /// `Status:`: `Used`, `Unused`, `Empty`.
    pub status: Option<&'a str>,
    /// `Serial:` in hex.
    pub serial: Option<&'a str>,
    /// `notBefore:` as HAProxy prints it (`Dec  8 05:03:30 2026 GMT`).
    pub not_before: Option<&'a str>,
    /// `notAfter:` as HAProxy prints it.
    pub not_after: Option<&'a str>,
    /// `Subject Alternative Name:`, split at `, ` (`DNS:a.example.com`).
    pub sans: Vec<&'a str>,
    /// `Algorithm:` (`RSA2048`, `EC256`).
    pub algorithm: Option<&'a str>,
    /// `SHA1 FingerPrint:` in upper-case hex.
    pub sha1: Option<&'a str>,
    /// `Subject:` (`/CN=a.example.com`).
    pub subject: Option<&'a str>,
    /// `Issuer:`.
    pub issuer: Option<&'a str>,
}

/// Parses `show ssl cert <file>`. Only the first certificate's lines are
/// read (3.x goes on with the chain's as `Chain Subject:` …, skipped).
///
/// # Errors
///
/// [`ParseError`] when the reply does not start with `Filename:` or holds
/// a line that is not `Key: value`.
pub fn parse_cert(reply: &str) -> Result<CertDetail<'_>, ParseError> {
    let mut d = CertDetail::default();
    let mut at = 0;
    let mut seen_file = false;
    for raw in reply.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let start = at;
        at += raw.len();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(malformed(reply, start, "a `Key: value` line", line));
        };
        let value = value.trim();
        match key {
            "Filename" if !seen_file => {
                seen_file = true;
                d.file = value;
            }
            _ if !seen_file => {
                return Err(malformed(reply, start, "`Filename:` first", line));
            }
            "Status" => set(&mut d.status, value),
            "Serial" => set(&mut d.serial, value),
            "notBefore" => set(&mut d.not_before, value),
            "notAfter" => set(&mut d.not_after, value),
            "Algorithm" => set(&mut d.algorithm, value),
            "SHA1 FingerPrint" => set(&mut d.sha1, value),
            "Subject" => set(&mut d.subject, value),
            "Issuer" => set(&mut d.issuer, value),
            "Subject Alternative Name" if d.sans.is_empty() => {
                d.sans = value
                    .split(", ")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
            }
            _ => {}
        }
    }
    if !seen_file {
        return Err(ParseError::new(
            Input::Ssl,
            ParseErrorKind::MissingHeader,
            Position::at(reply.as_bytes(), 0),
            reply,
        ));
    }
    Ok(d)
}

/// Keeps the first value of a key (3.x repeats some for the chain).
fn set<'a>(slot: &mut Option<&'a str>, v: &'a str) {
    if slot.is_none() {
        *slot = Some(v);
    }
}

fn malformed(reply: &str, at: usize, expected: &'static str, line: &str) -> ParseError {
    ParseError::new(
        Input::Ssl,
        ParseErrorKind::Malformed { expected },
        Position::at(reply.as_bytes(), at),
        line,
    )
}

/// Seconds since the Unix epoch of a time as OpenSSL prints it in
/// `notAfter:` (`Jan  7 05:03:30 2027 GMT`); `None` for anything else.
pub fn parse_cert_time(s: &str) -> Option<i64> {
    let mut words = s.split_ascii_whitespace();
    let month = match words.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let day: i64 = words.next()?.parse().ok()?;
    let mut hms = words.next()?.split(':');
    let mut part = |max: i64| -> Option<i64> {
        let v: i64 = hms.next()?.parse().ok()?;
        (0..=max).contains(&v).then_some(v)
    };
    let (h, m, sec) = (part(23)?, part(59)?, part(60)?);
    let year: i64 = words.next()?.parse().ok()?;
    if words.next()? != "GMT" || words.next().is_some() || !(1..=31).contains(&day) {
        return None;
    }
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---- PEM ----------------------------------------------------------------

/// Why a file cannot be sent as a certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    /// No `-----BEGIN CERTIFICATE-----` block.
    #[error("no certificate (no `-----BEGIN CERTIFICATE-----` block)")]
    NoCertificate,
    /// No private key block.
    #[error("no private key (a `-----BEGIN PRIVATE KEY-----` block, or an RSA or EC one)")]
    NoKey,
    /// More than one private key.
    #[error("{0} private keys; a certificate file holds one")]
    SeveralKeys(usize),
    /// The key is encrypted: HAProxy cannot read it without a passphrase.
    #[error("the private key is encrypted; HAProxy cannot load it at runtime")]
    EncryptedKey,
    /// A block is not closed, or its base64 or DER is broken.
    #[error("line {line}: {what}")]
    Malformed {
        /// 1-based line in the file.
        line: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The key does not belong to the first (leaf) certificate.
    #[error("the private key does not match the certificate (subject public key differs)")]
    KeyMismatch,
    /// A character a payload line cannot carry.
    #[error("line {0}: a control character (a PEM file is text)")]
    ControlCharacter(usize),
}

/// Whether a key belongs to a certificate, as far as the file tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMatch {
    /// The key's public part is the certificate's.
    Matches,
    /// The key does not say its public part (a PKCS#8 key of an algorithm
    /// other than RSA and EC without the optional public key): HAProxy
    /// is left to judge.
    Unknown,
}

/// A certificate file read for `set ssl cert`: certificates (leaf first)
/// and one unencrypted private key, checked to belong together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pem {
    text: String,
    certs: Vec<Vec<u8>>,
    key_match: KeyMatch,
}

struct Block {
    label: String,
    headers: bool,
    der: Vec<u8>,
    line: usize,
}

impl Pem {
    /// Reads `text` (a PEM file: certificates, a key, and anything else
    /// `set ssl cert` takes, e.g. DH parameters) and checks it.
    ///
    /// # Errors
    ///
    /// [`PemError`]: no certificate, no key or several, an encrypted key,
    /// a broken block, a control character, or a key that is not the
    /// leaf certificate's.
    pub fn parse(text: &str) -> Result<Pem, PemError> {
        let blocks = blocks(text)?;
        let certs: Vec<Vec<u8>> = blocks
            .iter()
            .filter(|b| b.label == "CERTIFICATE" || b.label == "TRUSTED CERTIFICATE")
            .map(|b| b.der.clone())
            .collect();
        let keys: Vec<&Block> = blocks
            .iter()
            .filter(|b| b.label.ends_with("PRIVATE KEY"))
            .collect();
        let leaf = certs.first().ok_or(PemError::NoCertificate)?;
        let key = match keys.as_slice() {
            [] => return Err(PemError::NoKey),
            [k] => *k,
            more => return Err(PemError::SeveralKeys(more.len())),
        };
        if key.label == "ENCRYPTED PRIVATE KEY" || key.headers {
            return Err(PemError::EncryptedKey);
        }
        let broken = |what| PemError::Malformed {
            line: key.line,
            what,
        };
        let spki = cert_spki(leaf).ok_or(PemError::Malformed {
            line: blocks
                .iter()
                .find(|b| b.label.ends_with("CERTIFICATE"))
                .map_or(1, |b| b.line),
            what: "not an X.509 certificate",
        })?;
        let public = match key.label.as_str() {
            "PRIVATE KEY" => pkcs8_public(&key.der).ok_or(broken("not a PKCS#8 private key"))?,
            "RSA PRIVATE KEY" => {
                KeyPublic::Rsa(rsa_public(&key.der).ok_or(broken("not an RSA private key"))?)
            }
            "EC PRIVATE KEY" => ec_public(&key.der).ok_or(broken("not an EC private key"))?,
            _ => return Err(broken("an unknown kind of private key")),
        };
        let key_match = match public {
            KeyPublic::Unknown => KeyMatch::Unknown,
            KeyPublic::Rsa((n, e)) => {
                let ok = spki.algorithm == OID_RSA
                    && der_seq(spki.key)
                        .and_then(|s| rsa_pair(s))
                        .is_some_and(|(cn, ce)| {
                            unsigned(cn) == unsigned(n) && unsigned(ce) == unsigned(e)
                        });
                if !ok {
                    return Err(PemError::KeyMismatch);
                }
                KeyMatch::Matches
            }
            KeyPublic::Bits(bits) => {
                if spki.key != bits {
                    return Err(PemError::KeyMismatch);
                }
                KeyMatch::Matches
            }
        };
        Ok(Pem {
            text: text.to_owned(),
            certs,
            key_match,
        })
    }

    /// The SHA-1 fingerprint of the leaf certificate, in upper-case hex:
    /// what `show ssl cert <file>` prints as `SHA1 FingerPrint:`.
    pub fn sha1(&self) -> String {
        let der = self.certs.first().map_or(&[][..], Vec::as_slice);
        sha1_smol::Sha1::from(der)
            .digest()
            .to_string()
            .to_ascii_uppercase()
    }

    /// How many certificates the file holds (the leaf and its chain).
    pub fn certificates(&self) -> usize {
        self.certs.len()
    }

    /// Whether the key was shown to belong to the leaf certificate.
    pub fn key_match(&self) -> KeyMatch {
        self.key_match
    }

    /// The file's text as read.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The payload lines of `set ssl cert`: the file's non-blank lines
    /// (a blank line would end the payload; PEM gives blank lines no
    /// meaning), each ending in `\n`, CRs dropped.
    pub fn payload(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        for line in self.text.lines() {
            let line = line.trim_end_matches('\r');
            if !line.trim().is_empty() {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

fn blocks(text: &str) -> Result<Vec<Block>, PemError> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, String, bool)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim_end_matches('\r');
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err(PemError::ControlCharacter(line_no));
        }
        let line = line.trim();
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            if open.is_some() {
                return Err(PemError::Malformed {
                    line: line_no,
                    what: "a block begins inside another",
                });
            }
            open = Some((label.to_owned(), line_no, String::new(), false));
        } else if let Some(label) = line
            .strip_prefix("-----END ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            let Some((begun, at, body, headers)) = open.take() else {
                return Err(PemError::Malformed {
                    line: line_no,
                    what: "an END line without its BEGIN",
                });
            };
            if begun != label {
                return Err(PemError::Malformed {
                    line: line_no,
                    what: "the END label differs from the BEGIN label",
                });
            }
            let der = base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .map_err(|_| PemError::Malformed {
                    line: at,
                    what: "the block's base64 is broken",
                })?;
            out.push(Block {
                label: begun,
                headers,
                der,
                line: at,
            });
        } else if let Some((_, _, body, headers)) = open.as_mut() {
            if line.contains(':') {
                // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`).
                *headers = true;
            } else {
                body.push_str(line);
            }
        }
    }
    if let Some((_, at, _, _)) = open {
        return Err(PemError::Malformed {
            line: at,
            what: "a block is not closed by its END line",
        });
    }
    Ok(out)
}

// ---- DER, just enough ----------------------------------------------------

const OID_RSA: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];

/// One TLV: its tag, its content, and what follows it.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The content of a SEQUENCE that is the whole of `b`.
fn der_seq(b: &[u8]) -> Option<&[u8]> {
    match tlv(b)? {
        (0x30, c, _) => Some(c),
        _ => None,
    }
}

/// Reads the next TLV of `cur` with tag `tag`, advancing it.
fn next<'a>(cur: &mut &'a [u8], tag: u8) -> Option<&'a [u8]> {
    let (t, c, rest) = tlv(cur)?;
    if t != tag {
        return None;
    }
    *cur = rest;
    Some(c)
}

fn unsigned(int: &[u8]) -> &[u8] {
    let skip = int.iter().take_while(|&&b| b == 0).count();
    &int[skip..]
}

struct Spki<'a> {
    algorithm: &'a [u8],
    /// The public key's bits (BIT STRING content without its first byte).
    key: &'a [u8],
}

/// The SubjectPublicKeyInfo of an X.509 certificate.
fn cert_spki(der: &[u8]) -> Option<Spki<'_>> {
    let mut cert = der_seq(der)?;
    let mut tbs = next(&mut cert, 0x30)?;
    if tbs.first() == Some(&0xA0) {
        next(&mut tbs, 0xA0)?;
    }
    next(&mut tbs, 0x02)?; // serial
    next(&mut tbs, 0x30)?; // signature
    next(&mut tbs, 0x30)?; // issuer
    next(&mut tbs, 0x30)?; // validity
    next(&mut tbs, 0x30)?; // subject
    let mut spki = next(&mut tbs, 0x30)?;
    let mut alg = next(&mut spki, 0x30)?;
    let algorithm = next(&mut alg, 0x06)?;
    let bits = next(&mut spki, 0x03)?;
    Some(Spki {
        algorithm,
        key: bits.get(1..)?,
    })
}

enum KeyPublic<'a> {
    /// An RSA key's modulus and exponent.
    Rsa((&'a [u8], &'a [u8])),
    /// The public key's bits, to compare with the certificate's.
    Bits(&'a [u8]),
    /// The key does not carry its public part.
    Unknown,
}

/// Modulus and exponent of an RSAPublicKey or RSAPrivateKey sequence
/// content (a private key starts with a version).
fn rsa_pair(mut s: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = next(&mut s, 0x02)?;
    let e = next(&mut s, 0x02)?;
    Some((n, e))
}

fn rsa_public(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut s = der_seq(der)?;
    next(&mut s, 0x02)?; // version
    rsa_pair(s)
}

/// An ECPrivateKey's public key (`[1]`), if it carries one.
fn ec_public(der: &[u8]) -> Option<KeyPublic<'_>> {
    let mut s = der_seq(der)?;
    next(&mut s, 0x02)?; // version
    next(&mut s, 0x04)?; // private key
    if s.first() == Some(&0xA0) {
        next(&mut s, 0xA0)?;
    }
    if s.first() != Some(&0xA1) {
        return Some(KeyPublic::Unknown);
    }
    let mut explicit = next(&mut s, 0xA1)?;
    let bits = next(&mut explicit, 0x03)?;
    Some(KeyPublic::Bits(bits.get(1..)?))
}

/// The public part of a PKCS#8 PrivateKeyInfo.
fn pkcs8_public(der: &[u8]) -> Option<KeyPublic<'_>> {
    let mut s = der_seq(der)?;
    next(&mut s, 0x02)?; // version
    let mut alg = next(&mut s, 0x30)?;
    let oid = next(&mut alg, 0x06)?;
    let key = next(&mut s, 0x04)?;
    if oid == OID_RSA {
        return rsa_public(key).map(KeyPublic::Rsa);
    }
    if oid == OID_EC {
        return ec_public(key);
    }
    // PKCS#8 v2 (RFC 5958): attributes `[0]`, then the public key `[1]`.
    if s.first() == Some(&0xA0) {
        next(&mut s, 0xA0)?;
    }
    match s.first() {
        Some(&0x81) => next(&mut s, 0x81)
            .and_then(|b| b.get(1..))
            .map(KeyPublic::Bits),
        _ => Some(KeyPublic::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOW: &str = "Filename: /tmp/ssl/site.pem\nStatus: Used\nSerial: 4C98\nnotBefore: Dec  8 05:03:30 2026 GMT\nnotAfter: Jan  7 05:03:30 2027 GMT\nSubject Alternative Name: DNS:a.example.com, DNS:www.a.example.com\nAlgorithm: RSA2048\nSHA1 FingerPrint: 452FD3500ADEAD03A3869D10A0E4CCB25441FE06\nSubject: /CN=a.example.com\nIssuer: /CN=a.example.com\nOCSP Response Key: \n\n";

    #[test]
    fn a_certificate_is_read_field_by_field() {
        let d = parse_cert(SHOW).expect("test input");
        assert_eq!(d.file, "/tmp/ssl/site.pem");
        assert_eq!(d.sans, ["DNS:a.example.com", "DNS:www.a.example.com"]);
        assert_eq!(d.sha1, Some("452FD3500ADEAD03A3869D10A0E4CCB25441FE06"));
        assert_eq!(d.subject, Some("/CN=a.example.com"));
        assert_eq!(d.status, Some("Used"));
        let at = parse_cert_time(d.not_after.expect("test input")).expect("test input");
        assert_eq!(at, 1_799_298_210); // `date -u -d 2027-01-07T05:03:30Z +%s`
        assert!(parse_cert("Can't display the certificate: Not found\n").is_err());
        assert!(parse_cert("").is_err());
        assert!(parse_cert("Status: Used\nFilename: x\n").is_err());
    }

    #[test]
    fn cert_times_read_as_openssl_prints_them() {
        assert_eq!(parse_cert_time("Jan  1 00:00:00 1970 GMT"), Some(0));
        assert_eq!(
            parse_cert_time("Feb 29 12:00:00 2028 GMT"),
            Some(1_835_438_400)
        );
        assert_eq!(
            parse_cert_time("Dec 31 23:59:59 9999 GMT"),
            Some(253_402_300_799)
        );
        for bad in [
            "",
            "Jan 7 05:03 2027 GMT",
            "Foo  7 05:03:30 2027 GMT",
            "Jan 32 00:00:00 2027 GMT",
            "Jan  7 05:03:30 2027",
            "Jan  7 25:03:30 2027 GMT",
        ] {
            assert_eq!(parse_cert_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_list_names_files_and_the_open_transaction() {
        let l = parse_cert_list("# transaction\n*/a.pem\n# filename\n/a.pem\n/b.pem\n\n")
            .expect("test input");
        assert_eq!(l.transaction, Some("/a.pem"));
        assert_eq!(l.files, ["/a.pem", "/b.pem"]);
        let l = parse_cert_list("# filename\n\n").expect("test input");
        assert!(l.files.is_empty() && l.transaction.is_none());
        assert!(parse_cert_list("Unknown command\n").is_err());
        assert!(parse_cert_list("").is_err());
    }

    // Throwaway test keys, made with `openssl req -x509 -newkey …`
    // (`rsa1.key`: `openssl rsa -traditional`; `ec1.key`: `openssl ec`).
    const RSA_CRT: &str = include_str!("testdata/rsa.crt");
    const RSA_KEY: &str = include_str!("testdata/rsa.key");
    const RSA1_KEY: &str = include_str!("testdata/rsa1.key");
    const EC_CERT: &str = include_str!("testdata/ec.crt");
    const EC_KEY: &str = include_str!("testdata/ec.key");
    const EC1_KEY: &str = include_str!("testdata/ec1.key");
    const ED_CRT: &str = include_str!("testdata/ed.crt");
    const ED_KEY: &str = include_str!("testdata/ed.key");
    const OTHER_KEY: &str = include_str!("testdata/other.key");

    #[test]
    fn keys_are_matched_to_their_certificate() {
        for (crt, key, sha1) in [
            (RSA_CRT, RSA_KEY, "37A90B858A4A8A947ADFF1610125591DBBC770BE"),
            (
                RSA_CRT,
                RSA1_KEY,
                "37A90B858A4A8A947ADFF1610125591DBBC770BE",
            ),
            (EC_CERT, EC_KEY, "B6C91E14BC80CE6977196ECD0639C95B669F56E4"),
            (EC_CERT, EC1_KEY, "B6C91E14BC80CE6977196ECD0639C95B669F56E4"),
        ] {
            // Key first or certificate first, with blank lines and CRLFs.
            for text in [
                format!("{crt}{key}"),
                format!("{key}\n\n{crt}").replace('\n', "\r\n"),
            ] {
                let pem = Pem::parse(&text).expect("test input");
                assert_eq!(pem.key_match(), KeyMatch::Matches);
                assert_eq!(pem.sha1(), sha1);
                assert_eq!(pem.certificates(), 1);
                let payload = pem.payload();
                assert!(!payload.contains("\n\n") && !payload.contains('\r'));
                assert!(payload.ends_with("-----\n"));
            }
        }
        // An Ed25519 PKCS#8 v1 key does not carry its public key.
        let ed = Pem::parse(&format!("{ED_CRT}{ED_KEY}")).expect("test input");
        assert_eq!(ed.key_match(), KeyMatch::Unknown);
        for (crt, key) in [
            (RSA_CRT, OTHER_KEY),
            (RSA_CRT, EC_KEY),
            (EC_CERT, RSA_KEY),
            (EC_CERT, RSA1_KEY),
        ] {
            assert_eq!(
                Pem::parse(&format!("{crt}{key}")),
                Err(PemError::KeyMismatch)
            );
        }
        // The leaf is the first certificate: a chain after it is kept.
        let chain = Pem::parse(&format!("{RSA_CRT}{EC_CERT}{RSA_KEY}")).expect("test input");
        assert_eq!(chain.certificates(), 2);
        assert_eq!(
            Pem::parse(&format!("{EC_CERT}{RSA_CRT}{RSA_KEY}")),
            Err(PemError::KeyMismatch)
        );
    }

    #[test]
    fn pem_refusals_say_what_is_wrong() {
        assert_eq!(Pem::parse("hello\n"), Err(PemError::NoCertificate));
        assert_eq!(Pem::parse(EC_CERT), Err(PemError::NoKey));
        let enc = format!("{EC_CERT}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assert_eq!(Pem::parse(&enc), Err(PemError::EncryptedKey));
        let two = format!("{EC_CERT}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assert_eq!(Pem::parse(&two), Err(PemError::SeveralKeys(2)));
        let open = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        assert!(matches!(
            Pem::parse(open),
            Err(PemError::Malformed { line: 1, .. })
        ));
        let nul = "-----BEGIN CERTIFICATE-----\nAA\0AA\n-----END CERTIFICATE-----\n";
        assert_eq!(Pem::parse(nul), Err(PemError::ControlCharacter(2)));
        let b64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(Pem::parse(b64), Err(PemError::Malformed { .. })));
    }

    #[test]
    fn der_never_panics_on_truncated_input() {
        let der = |pem: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(
                    pem.lines()
                        .filter(|l| !l.starts_with("-----"))
                        .collect::<String>(),
                )
                .expect("test input")
        };
        let (crt, key, key1) = (der(RSA_CRT), der(RSA_KEY), der(EC1_KEY));
        for n in 0..crt.len() {
            assert!(cert_spki(&crt[..n]).is_none());
        }
        for n in 0..key.len() {
            assert!(pkcs8_public(&key[..n]).is_none());
        }
        for n in 0..key1.len() {
            assert!(ec_public(&key1[..n]).is_none());
        }
        assert!(cert_spki(&crt).is_some() && pkcs8_public(&key).is_some());
    }
}
