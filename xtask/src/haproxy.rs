//! `cargo xtask haproxy [VERSION…|all]`: every HAProxy release line the
//! e2e suite runs against, on this machine.
//!
//! 2.6 is the system's own (Debian 12, `apt-get install haproxy`, see
//! [`crate::ensure_haproxy`]). 3.0, 3.2 and 3.4 are Debian's own builds from
//! `trixie`, `sid` and `experimental`, fetched from the same Debian archive,
//! with the same keyring, that the system's apt sources name:
//!
//! 1. a private apt configuration under `target/haproxy/apt/` (its own
//!    sources file, lists and cache directories; nothing of the system's apt
//!    is changed, its update hooks are cleared for these runs), and
//!    `apt-get update` of those three suites;
//! 2. `apt-get download` of `haproxy=<version>` and of every library it
//!    needs, transitively, from the same suite (`sid` for `experimental`,
//!    which holds no libraries of its own for it), into
//!    `target/haproxy/debs/`;
//! 3. `dpkg-deb -x` of each into `target/haproxy/<version>/`;
//! 4. `patchelf --set-interpreter <dir>/…/ld-linux-x86-64.so.2
//!    --force-rpath --set-rpath <dir>/usr/lib/<triplet>:…` on a copy of
//!    `usr/sbin/haproxy`, `target/haproxy/<version>/haproxy`
//!    (`--force-rpath`: the libraries' own dependencies resolve there too;
//!    no wrapper script, so the master's re-exec in master-worker mode runs
//!    the same binary).
//!
//! A version whose directory is complete is used as is, without the
//! network: only the first run needs the archive. When the archive no
//! longer serves the pinned version of a line, the version its suite serves
//! now for that line is used instead, and said. Every version ready is
//! listed in `target/haproxy/READY` (`<version> <absolute binary path>`, one
//! line each) and printed.

use crate::{ensure_haproxy, Result};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A release line fetched from Debian's archive.
#[derive(Debug, Clone, Copy)]
struct Line {
    /// `3.0`, `3.2`, `3.4`.
    line: &'static str,
    /// The suite that serves HAProxy of this line.
    suite: &'static str,
    /// The suite its libraries come from.
    lib_suite: &'static str,
    /// The Debian version pinned (what was tested).
    pinned: &'static str,
}

const LINES: [Line; 3] = [
    Line {
        line: "3.0",
        suite: "trixie",
        lib_suite: "trixie",
        pinned: "3.0.11-1+deb13u4",
    },
    Line {
        line: "3.2",
        suite: "sid",
        lib_suite: "sid",
        pinned: "3.2.26-1",
    },
    Line {
        line: "3.4",
        suite: "experimental",
        lib_suite: "sid",
        pinned: "3.4.7-1",
    },
];

/// The line of the system's own HAProxy.
const SYSTEM_LINE: &str = "2.6";

/// Every line `all` means, in order.
pub(crate) const ALL: [&str; 4] = [SYSTEM_LINE, "3.0", "3.2", "3.4"];

/// A HAProxy binary ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Installed {
    /// Its upstream version, `3.0.11` (what `haproxy -v` says, before the
    /// Debian revision).
    pub version: String,
    /// What `haproxy -v` prints after `version`, `3.0.11-1+deb13u4`.
    pub full: String,
    /// The binary.
    pub binary: PathBuf,
}

/// `cargo xtask haproxy [VERSION…|all]`.
pub(crate) fn cmd(args: &[String]) -> Result {
    let wanted = if args.is_empty() {
        ALL.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args.to_vec()
    };
    let ready = ensure(&wanted)?;
    for i in &ready {
        println!("{} {}", i.version, i.binary.display());
    }
    Ok(())
}

/// The requested versions (`all`, a line `3.2`, a version `3.2.26` or a
/// Debian version `3.2.26-1`; commas separate several), in the order of
/// [`ALL`], each once.
pub(crate) fn parse(selectors: &[String]) -> Result<Vec<(String, Option<String>)>> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut push = |line: &str, exact: Option<String>| {
        if !out.iter().any(|(l, _)| l == line) {
            out.push((line.to_owned(), exact));
        }
    };
    for sel in selectors.iter().flat_map(|s| s.split(',')) {
        let sel = sel.trim();
        if sel.is_empty() {
            continue;
        }
        if sel == "all" {
            for l in ALL {
                push(l, None);
            }
            continue;
        }
        let line: String = sel.split('.').take(2).collect::<Vec<_>>().join(".");
        if !ALL.contains(&line.as_str()) {
            return Err(format!(
                "unknown HAProxy version {sel:?}: the lines are {} (or `all`)",
                ALL.join(", ")
            ));
        }
        let exact = (sel.split('.').count() > 2 && line != SYSTEM_LINE).then(|| sel.to_owned());
        push(&line, exact);
    }
    out.sort_by_key(|(l, _)| ALL.iter().position(|a| a == l));
    Ok(out)
}

/// Makes every requested version ready (fetching what is not cached) and
/// returns them in order; writes `target/haproxy/READY`.
pub(crate) fn ensure(selectors: &[String]) -> Result<Vec<Installed>> {
    let wanted = parse(selectors)?;
    let base = base_dir();
    let mut fetcher = Fetcher::new(&base);
    let mut ready = Vec::new();
    for (line, exact) in &wanted {
        let installed = if line == SYSTEM_LINE {
            system()?
        } else {
            let l = LINES
                .iter()
                .find(|l| l.line == line)
                .ok_or_else(|| format!("no Debian suite known for HAProxy {line}"))?;
            fetcher.ensure(l, exact.as_deref())?
        };
        ready.push(installed);
    }
    write_ready(&base, &ready)?;
    Ok(ready)
}

/// `target/haproxy`.
pub(crate) fn base_dir() -> PathBuf {
    crate::report::target_dir(&crate::root()).join("haproxy")
}

/// The system's HAProxy (installed by apt-get when missing and root).
fn system() -> Result<Installed> {
    ensure_haproxy()?;
    let binary = haproxy_e2e::find_haproxy()
        .ok_or("haproxy is not installed")?
        .canonicalize()
        .map_err(|e| format!("haproxy: {e}"))?;
    let full = run_version(&binary)?;
    if !full.starts_with("2.6.") {
        eprintln!("xtask: note: the system's haproxy is {full}, not 2.6");
    }
    Ok(Installed {
        version: upstream(&full),
        full,
        binary,
    })
}

/// `3.0.11` of `3.0.11-1+deb13u4`.
fn upstream(debian: &str) -> String {
    debian
        .split(['-', '+', '~'])
        .next()
        .unwrap_or(debian)
        .to_owned()
}

/// What `<binary> -v` says after `version`.
fn run_version(binary: &Path) -> Result<String> {
    let out = Command::new(binary)
        .arg("-v")
        .output()
        .map_err(|e| format!("{}: cannot run: {e}", binary.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "`{} -v` failed ({}): {}{}",
            binary.display(),
            out.status,
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    text.split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .map(str::to_owned)
        .ok_or_else(|| format!("`{} -v` printed no version: {text}", binary.display()))
}

/// Merges `ready` into `target/haproxy/READY`, one `<version> <binary>`
/// line per version, sorted by version.
fn write_ready(base: &Path, ready: &[Installed]) -> Result {
    std::fs::create_dir_all(base).map_err(|e| format!("{}: {e}", base.display()))?;
    let path = base.join("READY");
    let mut lines: BTreeMap<Vec<u32>, String> = BTreeMap::new();
    let key = |v: &str| -> Vec<u32> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    for l in std::fs::read_to_string(&path).unwrap_or_default().lines() {
        if let Some((v, bin)) = l.split_once(' ') {
            if Path::new(bin).is_file() {
                lines.insert(key(v), l.to_owned());
            }
        }
    }
    for i in ready {
        lines.insert(
            key(&i.version),
            format!("{} {}", i.version, i.binary.display()),
        );
    }
    let text: String = lines.values().map(|l| format!("{l}\n")).collect();
    let tmp = base.join("READY.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The file, inside a version's directory, that says it is complete:
/// `<debian version>\n<directory>\n`.
const STAMP: &str = ".xtask-complete";

/// Fetches and unpacks, with a private apt configuration set up on first
/// use.
struct Fetcher {
    base: PathBuf,
    apt: Option<Apt>,
}

impl Fetcher {
    fn new(base: &Path) -> Fetcher {
        Fetcher {
            base: base.to_path_buf(),
            apt: None,
        }
    }

    /// A ready binary of `line`: the cached one, or fetched.
    fn ensure(&mut self, line: &Line, exact: Option<&str>) -> Result<Installed> {
        let want = exact.unwrap_or(line.pinned);
        // 1. The wanted version, cached.
        if let Some(i) = self.cached(&upstream(want))? {
            return Ok(i);
        }
        // 2. Another version of the line, cached when the pinned one was
        //    gone from the archive (only when no exact version was asked).
        if exact.is_none() {
            if let Some(i) = self.cached_line(line)? {
                return Ok(i);
            }
        }
        // 3. Fetch.
        let base = self.base.clone();
        let apt = self.apt()?;
        let served = apt.show("haproxy", line.suite)?.ok_or_else(|| {
            format!(
                "the Debian archive's suite `{}` has no package `haproxy` (HAProxy {})",
                line.suite, line.line
            )
        })?;
        let matches = |v: &str| v == want || upstream(v) == want;
        let version = if matches(&served.version) {
            served.version
        } else if exact.is_none() && served.version.starts_with(&format!("{}.", line.line)) {
            eprintln!(
                "xtask: haproxy {} (pinned) is no longer in {}; using {}, which {} serves now",
                line.pinned, line.suite, served.version, line.suite
            );
            served.version
        } else if want.contains('-') && apt.has_version("haproxy", want)? {
            want.to_owned()
        } else {
            return Err(format!(
                "the Debian archive's suite `{}` serves haproxy {}, not {want}{}",
                line.suite,
                served.version,
                if exact.is_none() {
                    format!(" nor any other {} release", line.line)
                } else {
                    String::new()
                }
            ));
        };
        let debs = apt.closure(line, &version)?;
        let files = apt.download(&base.join("debs"), &debs)?;
        install(&base, &upstream(&version), &version, &files)
    }

    /// The version `v` (upstream form) if its directory is complete;
    /// re-patched when the directory moved.
    fn cached(&self, v: &str) -> Result<Option<Installed>> {
        let dir = self.base.join(v);
        let Ok(stamp) = std::fs::read_to_string(dir.join(STAMP)) else {
            return Ok(None);
        };
        let mut lines = stamp.lines();
        let debian = lines.next().unwrap_or_default().to_owned();
        let patched_for = lines.next().unwrap_or_default();
        let abs = absolute(&dir)?;
        if Path::new(patched_for) != abs {
            eprintln!("xtask: {} moved; patching its binary again", abs.display());
            patch(&abs, &debian)?;
        }
        let binary = abs.join("haproxy");
        match run_version(&binary) {
            Ok(full) => Ok(Some(Installed {
                version: upstream(&full),
                full,
                binary,
            })),
            Err(e) => {
                eprintln!(
                    "xtask: cached {} does not run ({e}); fetching it again",
                    binary.display()
                );
                Ok(None)
            }
        }
    }

    /// The newest complete directory of `line` (`3.0.*`).
    fn cached_line(&self, line: &Line) -> Result<Option<Installed>> {
        let Ok(entries) = std::fs::read_dir(&self.base) else {
            return Ok(None);
        };
        let mut versions: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with(&format!("{}.", line.line)))
            .filter(|n| self.base.join(n).join(STAMP).is_file())
            .collect();
        versions.sort_by_key(|v| {
            v.split('.')
                .map(|p| p.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        });
        match versions.last() {
            Some(v) => self.cached(v),
            None => Ok(None),
        }
    }

    fn apt(&mut self) -> Result<&Apt> {
        if self.apt.is_none() {
            self.apt = Some(Apt::setup(&self.base.join("apt"))?);
        }
        self.apt.as_ref().ok_or_else(|| "apt setup".to_owned())
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    p.canonicalize()
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// Unpacks `files` into `base/<version>/` and patches the binary.
fn install(base: &Path, version: &str, debian: &str, files: &[PathBuf]) -> Result<Installed> {
    let dir = base.join(version);
    let tmp = base.join(format!("{version}.partial"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    for f in files {
        let out = Command::new("dpkg-deb")
            .arg("-x")
            .arg(f)
            .arg(&tmp)
            .output()
            .map_err(|e| format!("dpkg-deb: cannot start: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "dpkg-deb -x {} failed: {}",
                f.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let abs = absolute(&dir)?;
    patch(&abs, debian)?;
    let binary = abs.join("haproxy");
    let full = run_version(&binary)?;
    eprintln!("xtask: HAProxy {full} ready: {}", binary.display());
    Ok(Installed {
        version: upstream(&full),
        full,
        binary,
    })
}

/// The multiarch triplet and dynamic loader name of this machine.
fn triplet() -> Result<(&'static str, &'static str)> {
    let out = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .map_err(|e| format!("dpkg --print-architecture: {e}"))?;
    match String::from_utf8_lossy(&out.stdout).trim() {
        "amd64" => Ok(("x86_64-linux-gnu", "ld-linux-x86-64.so.2")),
        "arm64" => Ok(("aarch64-linux-gnu", "ld-linux-aarch64.so.1")),
        other => Err(format!(
            "cargo xtask haproxy knows the loaders of amd64 and arm64, not of {other:?}"
        )),
    }
}

/// Copies `<dir>/usr/sbin/haproxy` to `<dir>/haproxy` and points its
/// loader and library path into `dir`; marks `dir` complete.
fn patch(dir: &Path, debian: &str) -> Result {
    ensure_patchelf()?;
    let (triplet, loader) = triplet()?;
    let libdirs: Vec<PathBuf> = [
        dir.join("usr/lib").join(triplet),
        dir.join("lib").join(triplet),
    ]
    .into_iter()
    .filter(|d| d.is_dir())
    .collect();
    let interp = libdirs
        .iter()
        .map(|d| d.join(loader))
        .find(|p| p.exists())
        .ok_or_else(|| format!("no {loader} under {} (is libc6 unpacked?)", dir.display()))?;
    let rpath = libdirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let src = dir.join("usr/sbin/haproxy");
    let bin = dir.join("haproxy");
    let _ = std::fs::remove_file(dir.join(STAMP));
    std::fs::copy(&src, &bin).map_err(|e| format!("copy {}: {e}", src.display()))?;
    let out = Command::new("patchelf")
        .arg("--set-interpreter")
        .arg(&interp)
        .arg("--force-rpath")
        .arg("--set-rpath")
        .arg(&rpath)
        .arg(&bin)
        .output()
        .map_err(|e| format!("patchelf: cannot start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "patchelf on {} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    run_version(&bin)?;
    std::fs::write(dir.join(STAMP), format!("{debian}\n{}\n", dir.display()))
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Makes sure `patchelf` is installed, like [`crate::ensure_haproxy`].
fn ensure_patchelf() -> Result {
    crate::ensure_apt_package("patchelf", || {
        Command::new("patchelf")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// One package's stanza, as much as the fetcher needs.
#[derive(Debug)]
struct Stanza {
    version: String,
    depends: Vec<String>,
}

/// The private apt configuration: the system's Debian archive and keyring,
/// suites `trixie`, `sid` and `experimental`, own lists and cache.
struct Apt {
    dir: PathBuf,
    uri: String,
}

impl Apt {
    /// Writes the private configuration and runs `apt-get update`.
    fn setup(dir: &Path) -> Result<Apt> {
        for d in ["lists/partial", "cache/archives/partial", "sources.list.d"] {
            std::fs::create_dir_all(dir.join(d))
                .map_err(|e| format!("{}: {e}", dir.join(d).display()))?;
        }
        let dir = absolute(dir)?;
        let (mut uri, keyring) = system_archive();
        if let Some(mirror) = std::env::var_os("HX_DEBIAN_MIRROR") {
            uri = mirror.to_string_lossy().into_owned();
        }
        let (_, _) = triplet()?;
        let suites: BTreeSet<&str> = LINES.iter().flat_map(|l| [l.suite, l.lib_suite]).collect();
        let arch = String::from_utf8_lossy(
            &Command::new("dpkg")
                .arg("--print-architecture")
                .output()
                .map_err(|e| format!("dpkg: {e}"))?
                .stdout,
        )
        .trim()
        .to_owned();
        let sources: String = suites
            .iter()
            .map(|s| format!("deb [arch={arch} signed-by={keyring}] {uri} {s} main\n"))
            .collect();
        std::fs::write(dir.join("sources.list"), sources)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        // Read after the system's configuration: the system's update hooks
        // (cache cleaners, appstream, packagekit) are not ours to run.
        std::fs::write(
            dir.join("apt.conf"),
            "#clear APT::Update::Pre-Invoke;\n\
             #clear APT::Update::Post-Invoke;\n\
             #clear APT::Update::Post-Invoke-Success;\n",
        )
        .map_err(|e| format!("{}: {e}", dir.display()))?;
        let apt = Apt { dir, uri };
        eprintln!(
            "xtask: apt-get update of {} from {} (private lists in {})",
            suites.iter().copied().collect::<Vec<_>>().join(", "),
            apt.uri,
            apt.dir.display()
        );
        let out = apt
            .cmd("apt-get")
            .args(["update", "-q"])
            .output()
            .map_err(|e| format!("apt-get: cannot start: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // apt-get update exits 0 when some indexes failed; check each suite.
        let lists: Vec<String> = std::fs::read_dir(apt.dir.join("lists"))
            .map_err(|e| format!("{}: {e}", apt.dir.display()))?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        for s in &suites {
            let has = |what: &str| {
                lists
                    .iter()
                    .any(|f| f.contains(&format!("_dists_{s}_")) && f.contains(what))
            };
            if !has("Release") || !has("Packages") {
                return Err(format!(
                    "cannot reach the Debian archive's suite `{s}` at {} (needed for HAProxy {}): apt-get update said: {}",
                    apt.uri,
                    LINES
                        .iter()
                        .filter(|l| l.suite == *s || l.lib_suite == *s)
                        .map(|l| l.line)
                        .collect::<Vec<_>>()
                        .join(", "),
                    last_lines(&stderr, 6)
                ));
            }
        }
        if !out.status.success() {
            eprintln!(
                "xtask: apt-get update: {} (every suite needed was fetched)",
                last_lines(&stderr, 4)
            );
        }
        Ok(apt)
    }

    /// `apt-get`/`apt-cache` with the private configuration.
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        let d = &self.dir;
        c.arg("-c").arg(d.join("apt.conf"));
        for (k, v) in [
            ("Dir::Etc::SourceList", d.join("sources.list")),
            ("Dir::Etc::SourceParts", d.join("sources.list.d")),
            ("Dir::State::Lists", d.join("lists")),
            ("Dir::Cache", d.join("cache")),
        ] {
            c.arg("-o").arg(format!("{k}={}", v.display()));
        }
        for o in [
            // The system's configuration may turn the binary caches off
            // (Docker images do); without them every apt-cache call parses
            // every index again, seconds each.
            "Dir::Cache::pkgcache=pkgcache.bin",
            "Dir::Cache::srcpkgcache=",
            "Acquire::Languages=none",
            "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
            "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
            "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
            "Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false",
            "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false",
        ] {
            c.arg("-o").arg(o);
        }
        if crate::is_root() {
            // The private directories belong to root; `_apt` cannot write
            // them.
            c.arg("-o").arg("APT::Sandbox::User=root");
        }
        c.env("LC_ALL", "C");
        c
    }

    /// The stanza of `package` in `suite`, or `None` when the suite has no
    /// such package.
    fn show(&self, package: &str, suite: &str) -> Result<Option<Stanza>> {
        let out = self
            .cmd("apt-cache")
            .args(["show", &format!("{package}/{suite}")])
            .output()
            .map_err(|e| format!("apt-cache: cannot start: {e}"))?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(parse_stanza(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Whether any suite serves `package` at `version`.
    fn has_version(&self, package: &str, version: &str) -> Result<bool> {
        let out = self
            .cmd("apt-cache")
            .args(["show", &format!("{package}={version}")])
            .output()
            .map_err(|e| format!("apt-cache: cannot start: {e}"))?;
        Ok(out.status.success())
    }

    /// `haproxy=<version>` and every library it needs, transitively, from
    /// the line's library suite: `(package, version, suite)`.
    fn closure(&self, line: &Line, version: &str) -> Result<Vec<(String, String, String)>> {
        let out = self
            .cmd("apt-cache")
            .args(["show", &format!("haproxy={version}")])
            .output()
            .map_err(|e| format!("apt-cache: cannot start: {e}"))?;
        let top = parse_stanza(&String::from_utf8_lossy(&out.stdout)).ok_or_else(|| {
            format!(
                "the Debian archive's suite `{}` does not describe haproxy={version}",
                line.suite
            )
        })?;
        let mut debs = vec![(
            "haproxy".to_owned(),
            version.to_owned(),
            line.suite.to_owned(),
        )];
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut queue: VecDeque<String> = top.depends.into_iter().collect();
        while let Some(pkg) = queue.pop_front() {
            if !is_library(&pkg) || !seen.insert(pkg.clone()) {
                continue;
            }
            let stanza = self.show(&pkg, line.lib_suite)?.ok_or_else(|| {
                format!(
                    "the Debian archive's suite `{}` has no package `{pkg}` (a library HAProxy {version} needs)",
                    line.lib_suite
                )
            })?;
            queue.extend(stanza.depends);
            debs.push((pkg, stanza.version, line.lib_suite.to_owned()));
        }
        Ok(debs)
    }

    /// Downloads whatever of `debs` is not in `into` yet; returns every
    /// file.
    fn download(&self, into: &Path, debs: &[(String, String, String)]) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(into).map_err(|e| format!("{}: {e}", into.display()))?;
        let specs: Vec<String> = debs.iter().map(|(p, v, _)| format!("{p}={v}")).collect();
        let out = self
            .cmd("apt-get")
            .args(["download", "--print-uris"])
            .args(&specs)
            .output()
            .map_err(|e| format!("apt-get: cannot start: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        // `'<uri>' <file name> <size> <hash>`, in the order asked.
        let names: Vec<&str> = stdout
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        if !out.status.success() || names.len() != debs.len() {
            let what = debs
                .iter()
                .map(|(p, v, s)| format!("{p}={v} ({s})"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(format!(
                "the Debian archive at {} does not serve all of {what}: {}",
                self.uri,
                last_lines(&String::from_utf8_lossy(&out.stderr), 3)
            ));
        }
        let files: Vec<PathBuf> = names.iter().map(|n| into.join(n)).collect();
        let missing: Vec<usize> = (0..debs.len()).filter(|i| !files[*i].is_file()).collect();
        if !missing.is_empty() {
            let what: Vec<String> = missing
                .iter()
                .map(|i| format!("{} ({})", specs[*i], debs[*i].2))
                .collect();
            eprintln!("xtask: apt-get download {}", what.join(" "));
            let out = self
                .cmd("apt-get")
                .args(["download", "-q"])
                .args(missing.iter().map(|i| &specs[*i]))
                .current_dir(into)
                .output()
                .map_err(|e| format!("apt-get: cannot start: {e}"))?;
            let absent: Vec<&String> = missing
                .iter()
                .filter(|i| !files[**i].is_file())
                .map(|i| &what[missing.iter().position(|m| m == i).unwrap_or(0)])
                .collect();
            if !out.status.success() || !absent.is_empty() {
                return Err(format!(
                    "apt-get download from the Debian archive at {} failed for {}: {}",
                    self.uri,
                    absent
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    last_lines(&String::from_utf8_lossy(&out.stderr), 4)
                ));
            }
        }
        Ok(files)
    }
}

/// Whether a dependency is a shared library HAProxy loads (the rest —
/// `adduser`, `lsb-base`, `init-system-helpers`, `systemd`, `gcc-*-base`,
/// `openssl-provider-legacy` — is not needed to run the binary).
fn is_library(pkg: &str) -> bool {
    (pkg.starts_with("lib") || pkg == "zlib1g") && !pkg.starts_with("libc-gconv-modules")
}

/// The first stanza of an `apt-cache show` reply: its version and the
/// first alternative of each `Depends`/`Pre-Depends`.
fn parse_stanza(text: &str) -> Option<Stanza> {
    let stanza = text.split("\n\n").next()?;
    let mut version = None;
    let mut depends = Vec::new();
    for l in stanza.lines() {
        if let Some(v) = l.strip_prefix("Version: ") {
            version = Some(v.trim().to_owned());
        } else if let Some(d) = l
            .strip_prefix("Depends: ")
            .or_else(|| l.strip_prefix("Pre-Depends: "))
        {
            for alt in d.split(',') {
                let first = alt.split('|').next().unwrap_or_default();
                let name = first
                    .split(['(', ' ', ':'])
                    .find(|w| !w.is_empty())
                    .unwrap_or_default();
                if !name.is_empty() {
                    depends.push(name.to_owned());
                }
            }
        }
    }
    Some(Stanza {
        version: version?,
        depends,
    })
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(n);
    let s = lines[from..].join(" | ");
    if s.is_empty() {
        "(nothing)".to_owned()
    } else {
        s
    }
}

/// The system's Debian archive URI and keyring, from
/// `/etc/apt/sources.list` and `/etc/apt/sources.list.d/*.{list,sources}`:
/// the entry that serves the system's own release (not `-security`).
/// Falls back to `http://deb.debian.org/debian` and the Debian archive
/// keyring. `HX_DEBIAN_MIRROR` overrides the URI.
fn system_archive() -> (String, String) {
    let default = (
        "http://deb.debian.org/debian".to_owned(),
        "/usr/share/keyrings/debian-archive-keyring.gpg".to_owned(),
    );
    let mut texts = Vec::new();
    if let Ok(t) = std::fs::read_to_string("/etc/apt/sources.list") {
        texts.push((false, t));
    }
    if let Ok(rd) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let deb822 = p.extension().is_some_and(|e| e == "sources");
            let list = p.extension().is_some_and(|e| e == "list");
            if deb822 || list {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    texts.push((deb822, t));
                }
            }
        }
    }
    let is_debian = |suites: &[&str], uri: &str| {
        uri.trim_end_matches('/').ends_with("/debian")
            && suites.iter().any(|s| !s.contains('-') && !s.contains('/'))
    };
    for (deb822, text) in &texts {
        if *deb822 {
            for entry in text.split("\n\n") {
                let field = |name: &str| {
                    entry.lines().find_map(|l| {
                        l.strip_prefix(name)
                            .and_then(|r| r.strip_prefix(':'))
                            .map(str::trim)
                    })
                };
                let (Some(types), Some(uris), Some(suites)) =
                    (field("Types"), field("URIs"), field("Suites"))
                else {
                    continue;
                };
                let suites: Vec<&str> = suites.split_whitespace().collect();
                if !types.split_whitespace().any(|t| t == "deb") {
                    continue;
                }
                if let Some(uri) = uris.split_whitespace().find(|u| is_debian(&suites, u)) {
                    let key = field("Signed-By").unwrap_or(&default.1);
                    return (uri.to_owned(), key.to_owned());
                }
            }
        } else {
            for l in text.lines() {
                let l = l.trim();
                let Some(rest) = l.strip_prefix("deb ") else {
                    continue;
                };
                let (opts, rest) = match rest.trim().strip_prefix('[') {
                    Some(r) => r.split_once(']').unwrap_or(("", r)),
                    None => ("", rest),
                };
                let mut words = rest.split_whitespace();
                let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
                    continue;
                };
                if is_debian(&[suite], uri) {
                    let key = opts
                        .split_whitespace()
                        .find_map(|o| o.strip_prefix("signed-by="))
                        .unwrap_or(&default.1);
                    return (uri.to_owned(), key.to_owned());
                }
            }
        }
    }
    default
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let p = parse(&["all".into()]).expect("all");
        assert_eq!(
            p.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
            ALL.to_vec()
        );
        let p = parse(&["3.4,3.0.11".into(), "2.6.12".into()]).expect("list");
        assert_eq!(
            p,
            vec![
                ("2.6".into(), None),
                ("3.0".into(), Some("3.0.11".into())),
                ("3.4".into(), None)
            ]
        );
        assert!(parse(&["2.8".into()]).is_err());
    }

    #[test]
    fn stanza() {
        let s = parse_stanza(
            "Package: haproxy\nVersion: 3.4.7-1\nDepends: libc6 (>= 2.38), systemd | systemd-sysusers, \
             libssl3t64:any (>= 3.5.1)\nPre-Depends: init-system-helpers (>= 1.54~)\n\nPackage: x\n",
        )
        .expect("stanza");
        assert_eq!(s.version, "3.4.7-1");
        assert_eq!(
            s.depends,
            ["libc6", "systemd", "libssl3t64", "init-system-helpers"]
        );
        assert_eq!(upstream("3.0.11-1+deb13u4"), "3.0.11");
    }
}
