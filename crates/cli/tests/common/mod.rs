//! What the `epm` command's test files share: the binary, scratch directories, output checks,
//! a run's tables, and the tiny sweep both the CLI and the SLURM tests run.

#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `epm` binary of this build.
pub fn epm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_epm"))
}

/// An empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("epm-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts that a command succeeded, showing its output if not; its stdout.
pub fn check(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every CSV file of a run directory, by name.
pub fn tables(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "csv"))
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// A run's manifest.
pub fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Four runs of a few hundred steps on an 8 x 8 lattice: two temperatures, both models.
pub const TINY_SWEEP: &str = r#"
[base]
l = 8
steps = 300
[base.observables]
warm_up = 50
points_per_level = 8
shells = 2

[sweep]
temperatures = [0.2, 0.3]
seeds = [1]
models = ["thermal", "random"]
random_activity = "measured"
"#;
