//! `cargo xtask gpu-check [cargo flags]`: the one command to run on a GPU machine to see that
//! the project works there and how fast. It runs the device test suite, a short model run
//! (`examples/configs/gpu-check.toml`), the `fft2d` and `step` benchmarks and the JAX anchor
//! (on that machine's JAX, CUDA where it has it), and writes one markdown report,
//! `target/gpu-check/report.md` (also printed): the adapter, the tests, the run's time per
//! step, and the benchmark tables with each kernel's bandwidth against a copy kernel and the
//! step against the anchor, measured in the same run. Pick the backend with cargo flags, e.g.
//! `cargo xtask gpu-check --no-default-features --features cuda`.

use std::process::Command;
use std::time::Instant;

use crate::{
    Info, Result, bench_table, cargo, cargo_test, device_tests_gpu, ensure_compute_driver,
    ensure_hdf5, fresh_criterion_dir, jax_anchor, root, target_dir,
};

/// Runs the checks; a failed test suite is reported and the rest still runs, then it fails.
pub fn run(extra: &[String]) -> Result {
    ensure_hdf5()?;
    ensure_compute_driver(extra, Info::Release)?;
    let out = target_dir().join("gpu-check");
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let epm = target_dir().join("release").join("epm");
    let mut report = String::from("# `cargo xtask gpu-check`\n\n");
    report += &format!("Host: {}\n\n", bench_table::host());
    report += &format!(
        "Device (`epm info`):\n\n```text\n{}\n```\n\n",
        capture(&epm, &["info"])?.trim()
    );
    if !extra.is_empty() {
        report += &format!("Cargo flags: `{}`\n\n", extra.join(" "));
    }

    report += "## Device tests\n\n";
    let start = Instant::now();
    // Every test under the CPU execution profile, the device tests under the GPU one.
    let tests = cargo_test(extra)
        .and_then(|(p, f)| device_tests_gpu(extra).map(|(gp, gf)| (p + gp, f + gf)));
    let seconds = start.elapsed().as_secs_f64();
    report += &match &tests {
        Ok((passed, failed)) => format!("{passed} passed, {failed} failed in {seconds:.0} s.\n\n"),
        Err(e) => format!("**Failed** after {seconds:.0} s: {e}.\n\n"),
    };

    report += "## A model run\n\n";
    report += &model_run(&epm, &out.join("run"))?;

    let criterion = fresh_criterion_dir()?;
    for bench in ["fft2d", "step"] {
        cargo(&["bench", "--bench", bench], extra)?;
    }
    jax_anchor(&criterion);
    report += "## Benchmarks\n\n";
    report += &bench_table::render(&criterion)?;

    let path = out.join("report.md");
    std::fs::write(&path, &report).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("{report}");
    println!("written to {}", path.display());
    tests.map(|_| ())
}

/// `examples/configs/gpu-check.toml` run afresh into `dir` by the release `epm`, timed.
fn model_run(epm: &std::path::Path, dir: &std::path::Path) -> Result<String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    let config = root().join("examples/configs/gpu-check.toml");
    let (config, dir_s) = (config.display().to_string(), dir.display().to_string());
    let start = Instant::now();
    capture(epm, &["run", &config, "--out", &dir_s, "--quiet"])?;
    let wall = start.elapsed().as_secs_f64();
    let manifest = std::fs::read_to_string(dir.join("manifest.json"))
        .map_err(|e| format!("reading the run's manifest: {e}"))?;
    run_summary(&manifest, wall)
}

/// One paragraph on a finished run from its `manifest.json` and the wall time of the command.
fn run_summary(manifest: &str, wall: f64) -> Result<String> {
    let manifest: serde_json::Value =
        serde_json::from_str(manifest).map_err(|e| format!("the run's manifest: {e}"))?;
    let steps = manifest["steps"].as_f64().unwrap_or(0.0);
    let simulated = manifest["wall_time_seconds"].as_f64().unwrap_or(f64::NAN);
    let l = manifest["config"]["l"].as_u64().unwrap_or(0);
    let activity = manifest["quantities"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "mean_activity"))
        .and_then(|q| q["value"].as_f64());
    Ok(format!(
        "`epm run examples/configs/gpu-check.toml` (L = {l}, T = 0.1, every observable): \
         {steps:.0} steps in {simulated:.1} s of simulation ({:.3} ms per step), {wall:.1} s \
         with start-up and outputs; mean activity {}.\n\n",
        1e3 * simulated / steps.max(1.0),
        activity.map_or("-".into(), |a| format!("{a:.4}")),
    ))
}

/// Runs `program args`, passing stderr through; its stdout, or why it failed.
fn capture(program: &std::path::Path, args: &[&str]) -> Result<String> {
    eprintln!("+ {} {}", program.display(), args.join(" "));
    let output = Command::new(program)
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run {}: {e}", program.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`{} {}` failed ({})",
            program.display(),
            args.join(" "),
            output.status
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_run_is_summarised_from_its_manifest() {
        let manifest = r#"{"steps": 3000, "wall_time_seconds": 6.0, "config": {"l": 256},
            "quantities": [{"name": "mean_activity", "value": 0.0255}]}"#;
        let s = super::run_summary(manifest, 7.5).unwrap();
        assert!(s.contains("L = 256") && s.contains("3000 steps"), "{s}");
        assert!(
            s.contains("2.000 ms per step") && s.contains("0.0255"),
            "{s}"
        );
    }
}
