//! `cargo xtask package`: the crates as crates.io would get them;
//! `cargo xtask deb [--install]`: the Debian package of `haproxy-cli`.

use crate::{cargo, report, root, run, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The crates that are published, lowest layer first.
const PUBLISHED: [&str; 4] = [
    "haproxy-proto",
    "haproxy-transport",
    "haproxy-admin",
    "haproxy-cli",
];

/// Packs and verifies every published crate with `cargo package`, then
/// checks what each ships: sources, README and LICENSE, never the
/// third-party fixtures.
///
/// The crates are packed in one `cargo package` so that cargo verifies
/// each against the others through a temporary local registry: no
/// `--no-verify` is needed although none of them is on crates.io yet.
/// `--offline` first (CI has every dependency cached by then), then once
/// online if that fails for want of a download. `--allow-dirty`: what is
/// checked is the packaging, not whether the tree is committed.
pub(crate) fn package() -> Result {
    forget_earlier_packages();
    let verify_dir = crate::root().join("target").join("package-verify");
    forget_earlier_builds(&verify_dir);
    let verify_dir = verify_dir.to_string_lossy().into_owned();
    let mut args = vec![
        "package",
        "--allow-dirty",
        "--quiet",
        "--target-dir",
        verify_dir.as_str(),
    ];
    for c in PUBLISHED {
        args.extend(["-p", c]);
    }
    let offline = run(
        "cargo package --offline (every published crate, verified)",
        cargo().args(&args).arg("--offline"),
    );
    if let Err(e) = offline {
        eprintln!("xtask: {e}; trying once more with the network");
        run(
            "cargo package (every published crate, verified)",
            cargo().args(&args),
        )?;
    }
    for c in PUBLISHED {
        let out = cargo()
            .args(["package", "--list", "--allow-dirty", "--offline", "-p", c])
            .output()
            .map_err(|e| format!("cargo package --list -p {c}: cannot start: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo package --list -p {c} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let list = String::from_utf8_lossy(&out.stdout);
        check_list(c, &list)?;
        println!("{c}: {} files packaged", list.lines().count());
    }
    async_dependencies()?;
    println!("xtask package: every published crate packs, verifies and ships README and LICENSE");
    Ok(())
}

/// Removes the copies of our crates that earlier `cargo package` runs
/// unpacked into cargo's registry sources. Verifying a crate builds it
/// against the others through a local registry whose sources cargo
/// unpacks once per version and checkout path: without this, a second run
/// in the same checkout verified `haproxy-admin` against the
/// `haproxy-proto` of the first (same version, older code) and failed.
/// Only local registries are touched (their folder names start with
/// `-`, crates.io's with its host), and only our crates in them.
fn forget_earlier_packages() {
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        std::path::PathBuf::from,
    );
    let Ok(registries) = std::fs::read_dir(home.join("registry").join("src")) else {
        return;
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for c in crates.flatten() {
            let name = c.file_name().to_string_lossy().into_owned();
            if PUBLISHED.iter().any(|p| name.starts_with(&format!("{p}-"))) {
                if let Err(e) = std::fs::remove_dir_all(c.path()) {
                    eprintln!("xtask: cannot remove {}: {e}", c.path().display());
                }
            }
        }
    }
}

/// Removes what an earlier verification compiled of our crates. Cargo
/// takes a registry crate of a given version to be immutable and reuses
/// its build: the second run in one checkout verified `haproxy-cli`
/// against the `haproxy-admin` compiled by the first (same version,
/// older code) and failed. Verification builds in a target directory of
/// its own (`target/package-verify`), so that only its copies of our
/// crates are removed, the third-party ones kept, and the workspace's
/// own builds untouched.
fn forget_earlier_builds(dir: &std::path::Path) {
    let ours = |name: &str| {
        PUBLISHED
            .iter()
            .any(|p| name.starts_with(&format!("{p}-")) || name.contains(&p.replace('-', "_")))
    };
    for sub in [".fingerprint", "deps", "build"] {
        let Ok(entries) = std::fs::read_dir(dir.join("debug").join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if ours(&name) {
                let path = e.path();
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                if let Err(err) = removed {
                    eprintln!("xtask: cannot remove {}: {err}", path.display());
                }
            }
        }
    }
}

/// What the `tokio` feature may bring into `haproxy-admin`'s normal
/// dependencies: tokio and what tokio itself needs for `net`, `time`,
/// `io-util`, `sync` and `rt` — nothing heavier (no tokio-macros, no
/// futures, no signal or process support).
const ASYNC_EXTRA: &[&str] = &[
    "tokio",
    "mio",
    "bytes",
    "pin-project-lite",
    "socket2",
    "libc",
];

/// The crate names of `cargo tree -p haproxy-admin -e normal` with
/// `features`.
fn admin_tree(
    features: &[&str],
) -> std::result::Result<std::collections::BTreeSet<String>, String> {
    let mut c = cargo();
    c.args([
        "tree",
        "-p",
        "haproxy-admin",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]);
    if !features.is_empty() {
        c.args(["--features", &features.join(",")]);
    }
    let out = c
        .output()
        .map_err(|e| format!("cargo tree -p haproxy-admin: cannot start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo tree -p haproxy-admin {features:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// `cargo tree -p haproxy-admin -e normal` shows no tokio without the
/// feature, and with it tokio and nothing heavier.
fn async_dependencies() -> Result {
    let plain = admin_tree(&[])?;
    if let Some(t) = plain.iter().find(|c| c.starts_with("tokio")) {
        return Err(format!(
            "haproxy-admin's default build depends on {t}: tokio must stay behind the `tokio` feature"
        ));
    }
    let with = admin_tree(&["tokio"])?;
    if !with.contains("tokio") {
        return Err("haproxy-admin --features tokio does not depend on tokio".into());
    }
    let extra: Vec<&String> = with
        .difference(&plain)
        .filter(|c| !ASYNC_EXTRA.contains(&c.as_str()))
        .collect();
    if !extra.is_empty() {
        return Err(format!(
            "haproxy-admin's `tokio` feature brings in more than tokio needs: {extra:?}"
        ));
    }
    println!(
        "haproxy-admin: no tokio by default; with `tokio`: {:?}",
        with.difference(&plain).collect::<Vec<_>>()
    );
    Ok(())
}

/// What `cargo package --list` must show for one crate.
fn check_list(krate: &str, list: &str) -> Result {
    let files: Vec<&str> = list.lines().map(str::trim).collect();
    for needed in ["Cargo.toml", "README.md", "LICENSE", "src/lib.rs"] {
        let needed = if krate == "haproxy-cli" && needed == "src/lib.rs" {
            "src/main.rs"
        } else {
            needed
        };
        if !files.contains(&needed) {
            return Err(format!("{krate}: the package lacks {needed}"));
        }
    }
    if let Some(bad) = files
        .iter()
        .find(|f| f.contains("fixtures") || f.starts_with("tests/") || f.starts_with("benches/"))
    {
        return Err(format!(
            "{krate}: the package ships {bad}; the third-party fixtures (and the tests \
             that read them) stay in the repository"
        ));
    }
    Ok(())
}

/// Builds `target/debian/haproxy-cli_<version>_<arch>.deb` with cargo-deb
/// (installed with `cargo install cargo-deb --locked` when missing): one
/// release build of the CLI, whose `man` and `completions bash` output
/// become the package's man page and bash completion. With `install`,
/// also installs it with `dpkg -i` (root only) and shows that it works:
/// `haproxy-cli --version` runs, `man haproxy-cli` shows the page, the
/// bash completion file is in place; then removes it again unless it was
/// installed before.
pub(crate) fn deb(install: bool) -> Result {
    ensure_cargo_deb()?;
    run(
        "cargo build --release -p haproxy-cli",
        cargo().args(["build", "--release", "--quiet", "-p", "haproxy-cli"]),
    )?;
    let target = report::target_dir(&root());
    let bin = target.join("release").join("haproxy-cli");
    // Under release/: cargo-deb maps `target/release/…` asset paths to the
    // real target directory (CARGO_TARGET_DIR included), no other.
    let assets = target.join("release").join("deb-assets");
    std::fs::create_dir_all(&assets).map_err(|e| format!("{}: {e}", assets.display()))?;
    // Every page: haproxy-cli(1) and one per subcommand, which the main
    // page lists (haproxy-cli-server(1), haproxy-cli-server-list(1), …).
    let pages = assets.join("man");
    let _ = std::fs::remove_dir_all(&pages);
    std::fs::create_dir_all(&pages).map_err(|e| format!("{}: {e}", pages.display()))?;
    run(
        "haproxy-cli man --all",
        Command::new(&bin).args(["man", "--all"]).arg(&pages),
    )?;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&pages).map_err(|e| format!("{}: {e}", pages.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        gzip(&text, &pages.join(format!("{name}.gz")))?;
        std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        names.push(name);
    }
    if names.len() < 20 {
        return Err(format!("haproxy-cli man --all wrote only {names:?}"));
    }
    let completion = output_of(Command::new(&bin).args(["completions", "bash"]))?;
    std::fs::write(assets.join("haproxy-cli.bash"), &completion)
        .map_err(|e| format!("{}: {e}", assets.display()))?;

    eprintln!("xtask: cargo deb -p haproxy-cli --no-build");
    let out = cargo()
        .args(["deb", "-p", "haproxy-cli", "--no-build"])
        .output()
        .map_err(|e| format!("cargo deb: cannot start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo deb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let deb = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.ends_with(".deb"))
        .map(PathBuf::from)
        .ok_or("cargo deb did not say where it wrote the package")?;
    let contents = output_of(Command::new("dpkg-deb").arg("--contents").arg(&deb))?;
    let contents = String::from_utf8_lossy(&contents);
    let man_paths: Vec<String> = names
        .iter()
        .map(|n| format!("./usr/share/man/man1/{n}.gz"))
        .collect();
    for path in [
        "./usr/bin/haproxy-cli",
        "./usr/share/bash-completion/completions/haproxy-cli",
    ]
    .into_iter()
    .chain(man_paths.iter().map(String::as_str))
    {
        if !contents.lines().any(|l| l.ends_with(path)) {
            return Err(format!("{} lacks {path}:\n{contents}", deb.display()));
        }
    }
    println!(
        "xtask deb: {} man pages (haproxy-cli.1 and one per subcommand)",
        man_paths.len()
    );
    println!("xtask deb: {}", deb.display());
    if install {
        install_and_check(&deb)?;
    }
    Ok(())
}

/// `cargo deb --version`, or installs cargo-deb.
fn ensure_cargo_deb() -> Result {
    let present = cargo()
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    run(
        "cargo-deb is missing; cargo install cargo-deb --locked",
        cargo().args(["install", "cargo-deb", "--locked", "--quiet"]),
    )
}

/// Installs `deb`, checks the binary, the man page and the completion,
/// and removes the package again unless it was installed before.
fn install_and_check(deb: &Path) -> Result {
    if !crate::is_root() {
        return Err(format!(
            "installing needs root; run: sudo dpkg -i {}",
            deb.display()
        ));
    }
    let was_installed = Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", "haproxy-cli"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"));
    run(
        &format!("dpkg -i {}", deb.display()),
        Command::new("dpkg").arg("-i").arg(deb),
    )?;
    let checked = check_installed();
    if !was_installed {
        run(
            "dpkg -r haproxy-cli (it was not installed before)",
            Command::new("dpkg").args(["-r", "haproxy-cli"]),
        )?;
    }
    checked
}

/// What an installed package must give.
fn check_installed() -> Result {
    let version = output_of(Command::new("/usr/bin/haproxy-cli").arg("--version"))?;
    let version = String::from_utf8_lossy(&version);
    let want = format!("haproxy-cli {}", env!("CARGO_PKG_VERSION"));
    if !version.contains(&want) {
        return Err(format!(
            "haproxy-cli --version said {version:?}, not {want:?}"
        ));
    }
    println!("$ haproxy-cli --version\n{}", version.trim());
    crate::ensure_apt_package("man-db", || {
        Command::new("man")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    for name in ["haproxy-cli-server", "haproxy-cli-server-set-weight"] {
        let page = output_of(
            Command::new("man")
                .arg(name)
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "80"),
        )?;
        let page = String::from_utf8_lossy(&page);
        if !(page.contains("NAME") && page.contains(name)) {
            return Err(format!("man {name} did not show the page:\n{page}"));
        }
        println!("$ man {name}: {} lines", page.lines().count());
    }
    let page = output_of(
        Command::new("man")
            .arg("haproxy-cli")
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80"),
    )?;
    let page = String::from_utf8_lossy(&page);
    if !(page.contains("NAME") && page.contains("haproxy-cli") && page.contains("SYNOPSIS")) {
        return Err(format!("man haproxy-cli did not show the page:\n{page}"));
    }
    println!("$ MANPAGER=cat man haproxy-cli | head -8");
    for line in page.lines().take(8) {
        println!("{line}");
    }
    let completion = Path::new("/usr/share/bash-completion/completions/haproxy-cli");
    let text = std::fs::read_to_string(completion)
        .map_err(|e| format!("{}: {e}", completion.display()))?;
    if !text.contains("complete") || !text.contains("haproxy-cli") {
        return Err(format!(
            "{} is not a bash completion for haproxy-cli",
            completion.display()
        ));
    }
    println!(
        "{}: {} lines of bash completion",
        completion.display(),
        text.lines().count()
    );
    println!("xtask deb: dpkg -i installed haproxy-cli with its man page and bash completion");
    Ok(())
}

/// Runs `cmd` and returns its stdout, or an error with its stderr.
fn output_of(cmd: &mut Command) -> Result<Vec<u8>> {
    let what = format!("{:?}", cmd.get_program());
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} {:?} failed ({}): {}",
            cmd.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// `gzip -9n` (Debian policy: no name, no timestamp) of `data` into `to`.
fn gzip(data: &[u8], to: &Path) -> Result {
    use std::io::Write;
    use std::process::Stdio;
    let file = std::fs::File::create(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let mut child = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(Stdio::piped())
        .stdout(file)
        .spawn()
        .map_err(|e| format!("gzip: cannot start: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(data)
            .map_err(|e| format!("gzip: write: {e}"))?;
    }
    let status = child.wait().map_err(|e| format!("gzip: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("gzip failed ({status})"))
    }
}
