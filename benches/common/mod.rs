//! What the benches share beside criterion.

use std::path::PathBuf;

/// Where criterion writes its results, so that the files a bench writes beside them
/// (`adapter.txt`, `step-traffic.jsonl`) land there too: `CRITERION_HOME`, else
/// `CARGO_TARGET_DIR/criterion` (criterion's own order), else this build's target directory's
/// `criterion`. A bench executable carried to another machine (`cargo xtask device-bundle`)
/// runs with `CRITERION_HOME` set.
pub fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("criterion"))
        })
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../criterion"))
}
