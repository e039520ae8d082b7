//! A lent GPU machine without a Rust toolchain: `cargo xtask device-bundle` builds here what
//! runs there, `xtask/device/run.sh` runs it there, `cargo xtask device-table DIR` makes the
//! book's table from what came back.
//!
//! The bundle (`.device/`, ignored by git, carried to the machine) holds the release `epm`, the
//! `step`, `ensemble` and `fft2d` bench executables, the test executables with the device tests
//! (the `epm` library's and `tests/fft2d.rs`), each stripped and compressed with xz; the JAX
//! anchor script and the anchor runs the bench table compares with; and the Vulkan loader's
//! Debian package, for a machine that lacks it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, bench_table, root, target_dir};

/// The bundle's directory, relative to the repository root (the `carry` path).
pub const BUNDLE: &str = ".device";

/// The executables of the bundle: its name there, and how cargo builds it here.
const EXECUTABLES: [(&str, Build); 6] = [
    ("epm", Build::Release("epm")),
    ("step", Build::Bench("step")),
    ("ensemble", Build::Bench("ensemble")),
    ("fft2d-bench", Build::Bench("fft2d")),
    ("epm-tests", Build::Test("epm", "lib")),
    ("fft2d-tests", Build::Test("fft2d", "test")),
];

#[derive(Clone, Copy)]
enum Build {
    /// `cargo build --release --package epm-cli`, binary of this name.
    Release(&'static str),
    /// `cargo bench --no-run`, bench target of this name.
    Bench(&'static str),
    /// `cargo test --workspace --no-run`, target of this name and kind.
    Test(&'static str, &'static str),
}

/// Builds the executables and packs the bundle; prints the device call that runs it.
pub fn bundle(extra: &[String]) -> Result {
    let dir = root().join(BUNDLE);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("creating {}: {e}", bin.display()))?;

    let release = built(&["build", "--release", "--package", "epm-cli"], extra)?;
    let benches = built(
        &[
            "bench", "--no-run", "--bench", "step", "--bench", "ensemble", "--bench", "fft2d",
        ],
        extra,
    )?;
    let tests = built(&["test", "--workspace", "--no-run"], extra)?;
    for (name, build) in EXECUTABLES {
        let (artifacts, target, kind) = match build {
            Build::Release(target) => (&release, target, "bin"),
            Build::Bench(target) => (&benches, target, "bench"),
            Build::Test(target, kind) => (&tests, target, kind),
        };
        let exe = artifacts
            .iter()
            .find(|a| a.target == target && a.kind == kind)
            .ok_or_else(|| format!("cargo built no {kind} executable `{target}`"))?;
        pack(&exe.path, &bin.join(format!("{name}.xz")))?;
    }

    let anchor = root().join("../shared/anchors/jax_epm.py");
    if let Err(e) = std::fs::copy(&anchor, dir.join("jax_epm.py")) {
        println!(
            "device-bundle: no JAX anchor ({}: {e}); the table will have no epm / JAX ratio",
            anchor.display()
        );
    }
    std::fs::write(dir.join("anchor-runs.txt"), anchor_runs())
        .map_err(|e| format!("writing anchor-runs.txt: {e}"))?;
    if let Err(e) = vulkan_loader(&dir.join("gl")) {
        println!("device-bundle: no Vulkan loader package ({e}); the machine must have one");
    }

    let bytes = tree_bytes(&dir);
    println!(
        "device-bundle: {} ({:.1} MiB; a device call carries 64 MiB with the working tree)",
        dir.display(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    println!(
        "Run on the GPU machine (device tool): command `bash xtask/device/run.sh`, carry \
         [\"{BUNDLE}\"], timeout_s 590; then `cargo xtask device-table <files_at>`."
    );
    Ok(())
}

/// One executable cargo reported building.
pub(crate) struct Artifact {
    pub target: String,
    pub kind: String,
    pub path: PathBuf,
}

/// Runs `cargo args --message-format=json` and returns the executables it built.
pub(crate) fn built(args: &[&str], extra: &[String]) -> Result<Vec<Artifact>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "+ cargo {} --message-format=json {}",
        args.join(" "),
        extra.join(" ")
    );
    let output = Command::new(cargo)
        .args(args)
        .arg("--message-format=json")
        .args(extra)
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo {}` failed ({})",
            args.join(" "),
            output.status
        ));
    }
    Ok(artifacts(&String::from_utf8_lossy(&output.stdout)))
}

/// The executables among cargo's JSON messages (`compiler-artifact` with an `executable`):
/// target name, its first kind (`bin`, `bench`, `test`, `lib` for a library's tests), path.
fn artifacts(messages: &str) -> Vec<Artifact> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter_map(|m| {
            Some(Artifact {
                target: m["target"]["name"].as_str()?.to_string(),
                kind: m["target"]["kind"][0].as_str()?.to_string(),
                path: PathBuf::from(m["executable"].as_str()?),
            })
        })
        .collect()
}

/// `exe` stripped of its symbols (where `strip` exists) and compressed with xz into `to`.
fn pack(exe: &Path, to: &Path) -> Result {
    let tmp = target_dir().join("device-strip");
    std::fs::copy(exe, &tmp).map_err(|e| format!("copying {}: {e}", exe.display()))?;
    // Symbols are most of a release executable's size; without `strip` it is only larger.
    let _ = Command::new("strip").arg(&tmp).status();
    let out = std::fs::File::create(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    let status = Command::new("xz")
        .args(["-6", "-T0", "-c"])
        .arg(&tmp)
        .stdout(out)
        .status()
        .map_err(|e| format!("could not run xz (apt-get install xz-utils): {e}"))?;
    if !status.success() {
        return Err(format!("xz failed on {} ({status})", exe.display()));
    }
    eprintln!("packed {} -> {}", exe.display(), to.display());
    Ok(())
}

/// The JAX anchor runs of the bench table, one per line: `file L steps B`, the file the
/// anchor's JSON line goes to beside criterion's results.
fn anchor_runs() -> String {
    let mut text = String::new();
    for (l, steps) in bench_table::ANCHOR_RUNS {
        text += &format!("jax-anchor.jsonl {l} {steps} 1\n");
    }
    for (l, steps, b) in bench_table::ANCHOR_ENSEMBLE_RUNS {
        text += &format!("jax-anchor-ensemble.jsonl {l} {steps} {b}\n");
    }
    text
}

/// Debian's `libvulkan1` for amd64 in `dir` (the device README's way: a private package list,
/// so that this machine's own stays as it is).
fn vulkan_loader(dir: &Path) -> Result {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let lists = std::env::temp_dir().join("epm-device-apt");
    std::fs::create_dir_all(lists.join("partial"))
        .map_err(|e| format!("creating {}: {e}", lists.display()))?;
    let opts = [
        "-oAPT::Architecture=amd64".to_string(),
        "-oAPT::Architectures=amd64".to_string(),
        format!("-oDir::State::Lists={}", lists.display()),
    ];
    for args in [vec!["update", "-qq"], vec!["download", "libvulkan1"]] {
        let status = Command::new("apt-get")
            .args(&opts)
            .args(&args)
            .current_dir(dir)
            .status()
            .map_err(|e| format!("could not run apt-get: {e}"))?;
        if !status.success() {
            return Err(format!("apt-get {} failed ({status})", args.join(" ")));
        }
    }
    Ok(())
}

/// Bytes of the files under `dir`.
fn tree_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                tree_bytes(&path)
            } else {
                e.metadata().map_or(0, |m| m.len())
            }
        })
        .sum()
}

/// The table of a device run from what it sent back (`dir`: the device tool's `files_at`,
/// holding `criterion.tar.xz`): unpacked into `target/device-criterion`, rendered into
/// `target/device-table.md` and printed.
pub fn table(dir: &Path) -> Result {
    let archive = dir.join("criterion.tar.xz");
    let out = target_dir().join("device-criterion");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("removing {}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let status = Command::new("tar")
        .arg("-xJf")
        .arg(&archive)
        .arg("-C")
        .arg(&out)
        .status()
        .map_err(|e| format!("could not run tar: {e}"))?;
    if !status.success() {
        return Err(format!("unpacking {} failed ({status})", archive.display()));
    }
    let table = bench_table::render(&out)?;
    let path = target_dir().join("device-table.md");
    std::fs::write(&path, &table).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("{table}");
    println!("written to {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_are_found_among_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"epm","kind":["lib"]},"executable":"/t/deps/epm-1"}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"epm","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"step","kind":["bench"]},"executable":"/t/deps/step-2"}"#,
            "\n",
        );
        let found: Vec<_> = artifacts(messages)
            .into_iter()
            .map(|a| (a.target, a.kind, a.path))
            .collect();
        assert_eq!(
            found,
            vec![
                ("epm".into(), "lib".into(), PathBuf::from("/t/deps/epm-1")),
                (
                    "step".into(),
                    "bench".into(),
                    PathBuf::from("/t/deps/step-2")
                ),
            ]
        );
    }

    #[test]
    fn every_anchor_run_of_the_table_is_listed() {
        let runs = anchor_runs();
        let lines: Vec<&str> = runs.lines().collect();
        assert_eq!(
            lines.len(),
            bench_table::ANCHOR_RUNS.len() + bench_table::ANCHOR_ENSEMBLE_RUNS.len()
        );
        assert_eq!(lines[0], "jax-anchor.jsonl 64 4000 1");
        assert!(lines.contains(&"jax-anchor-ensemble.jsonl 64 500 16"));
    }
}
