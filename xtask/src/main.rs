//! `cargo xtask <command>`: the project's automation (as burn and cubecl do it).
//!
//! - `demo`: the main job: the thermal model at T = 0.1 and its random-model twin, with the
//!   D(t) and S(q,t) figures and the report (`epm reproduce demo`).
//! - `test`: everything CI checks: fmt, the whole test suite, the examples, the book, and
//!   clippy with the `vulkan` and `cuda` builds type-checked in the same pass.
//! - `bench`: the criterion benchmarks, then the markdown table of their results.
//! - `gpu-check`: on a GPU machine, whether the project works there and how fast, in one
//!   report.
//! - `device-bundle`, `device-table`: the same measurements on a lent GPU machine without a
//!   Rust toolchain: executables built here, run there by `xtask/device/run.sh`, the table made
//!   here from what came back (see `device`).
//!
//! Each first makes sure a compute adapter exists and prints it (`epm info`): on Linux with
//! none it installs Mesa's software Vulkan driver (lavapipe) when running as root with apt,
//! or prints the command.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench_table;
mod book_links;
mod device;
mod gpu_check;

/// The project's automation. Cargo flags after the command go to every cargo it runs
/// (e.g. `cargo xtask test --no-default-features --features vulkan`).
#[derive(clap::Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
enum Task {
    /// The main job: T = 0.1 and its random twin, D(t) and S(q,t) figures, report.
    Demo(CargoFlags),
    /// Everything CI checks: fmt --check, clippy -D warnings, the tests, the examples, the book.
    Test(CargoFlags),
    /// The criterion benchmarks, then target/bench-table.md.
    Bench(CargoFlags),
    /// Only the table, from the last benchmark results.
    BenchTable,
    /// On a GPU machine: the device tests, a short model run, the fft2d and step benchmarks,
    /// as one markdown report (target/gpu-check/report.md).
    GpuCheck(CargoFlags),
    /// For a GPU machine without Rust: the release `epm`, the bench and device-test
    /// executables, the JAX anchor and the Vulkan loader, packed into .device/ to carry there
    /// and run with xtask/device/run.sh.
    DeviceBundle(CargoFlags),
    /// The benchmark tables of a run of xtask/device/run.sh, from the folder its files came
    /// back to (target/device-table.md).
    DeviceTable {
        /// The folder holding the run's criterion.tar.xz.
        dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct CargoFlags {
    /// Passed to cargo, e.g. `--features cuda`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    cargo: Vec<String>,
}

fn main() -> ExitCode {
    quiet_vulkan_loader();
    let result = match <Task as clap::Parser>::parse() {
        Task::Demo(f) => demo(&f.cargo),
        Task::Test(f) => test(&f.cargo),
        Task::Bench(f) => bench(&f.cargo),
        Task::BenchTable => bench_table(),
        Task::GpuCheck(f) => gpu_check::run(&f.cargo),
        Task::DeviceBundle(f) => device::bundle(&f.cargo),
        Task::DeviceTable { dir } => device::table(&dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

/// Without `XDG_RUNTIME_DIR` (CI, containers) Mesa's Vulkan loader prints
/// `error: XDG_RUNTIME_DIR is invalid` on every device creation; it is harmless. Give it a
/// private directory so that real errors stand out. Inherited by every command we run.
fn quiet_vulkan_loader() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let dir = std::env::temp_dir().join("epm-xdg-runtime");
    if std::fs::create_dir_all(&dir).is_ok() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn cargo(args: &[&str], extra: &[String]) -> Result {
    cargo_with_env(args, extra, &[])
}

/// [`cargo`] with environment variables set for it (printed before the command).
fn cargo_with_env(args: &[&str], extra: &[String], env: &[(&str, &str)]) -> Result {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let vars: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    eprintln!("+ {vars}cargo {} {}", args.join(" "), extra.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .args(extra)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{vars}cargo {}` failed ({status})",
            args.join(" ")
        ))
    }
}

fn demo(extra: &[String]) -> Result {
    ensure_hdf5()?;
    ensure_compute_driver(extra, Info::Release)?;
    let out = target_dir().join("demo");
    let out = out.to_string_lossy().to_string();
    // Release: what a user runs. Finished runs are kept, so a second demo only redraws.
    // Cargo's flags (a backend feature) go before `--`, the command's after.
    let with_command: Vec<String> = extra
        .iter()
        .cloned()
        .chain(["--", "reproduce", "demo", "--out", &out].map(String::from))
        .collect();
    cargo(&["run", "--release", "--package", "epm-cli"], &with_command)?;
    println!(
        "xtask: the demo is in {out}: figures/ (D(t): fig2a, S(q,t): sq_ballistic, sq_crossover, C_u: fig3c), report.md, runs/"
    );
    Ok(())
}

fn test(extra: &[String]) -> Result {
    let mut phases = Phases::default();
    let outcome = test_phases(extra, &mut phases);
    // Where CI's minutes went (it has 45 to stay under), also when a phase failed.
    println!("{}", phases.summary());
    let (passed, skipped, failed) = outcome?;
    for (test, why) in &skipped {
        println!("skipped {test}: {why}");
    }
    // One closing line for the whole suite (cargo's own last line is a doc-test group's).
    println!(
        "{passed} passed, {} skipped, {failed} failed (tests, {} examples, the book)",
        skipped.len(),
        EXAMPLES.len()
    );
    Ok(())
}

/// The phases of `test`, each timed: tests passed, skipped (with why) and failed.
fn test_phases(extra: &[String], phases: &mut Phases) -> Result<(usize, Skipped, usize)> {
    phases.time("fmt", || cargo(&["fmt", "--all", "--check"], &[]))?;
    ensure_hdf5()?;
    // The workspace in one build, which the tests and examples then reuse; `epm info` from it.
    // Not the benches: clippy type-checks them, and linking four more binaries cost minutes.
    let targets = [
        "build",
        "--workspace",
        "--lib",
        "--bins",
        "--tests",
        "--examples",
    ];
    phases.time("build", || cargo(&targets, extra))?;
    ensure_compute_driver(extra, Info::WorkspaceBuild)?;
    let skipped_dir = target_dir().join("tmp").join("skipped");
    let _ = std::fs::remove_dir_all(&skipped_dir);
    // Every test under the CPU execution profile, then the device tests again under the GPU
    // profile: the code a GPU runs is run here too (on lavapipe in CI).
    let (mut passed, mut failed) = phases.time("tests (profile cpu)", || cargo_test(extra))?;
    let (gpu_passed, gpu_failed) =
        phases.time("device tests (profile gpu)", || device_tests_gpu(extra))?;
    passed += gpu_passed;
    failed += gpu_failed;
    // Tests that could not run here (a SLURM needs root) recorded why; they did not pass.
    let skipped = skipped_tests(&skipped_dir);
    passed -= skipped.len().min(passed);
    passed += phases.time("examples", || run_examples(extra))?;
    phases.time("book", book)?;
    phases.time("clippy", || clippy(extra))?;
    Ok((passed + 1, skipped, failed))
}

/// The wall time of each phase of a task, in order.
#[derive(Default)]
struct Phases(Vec<(&'static str, std::time::Duration)>);

impl Phases {
    fn time<T>(&mut self, name: &'static str, phase: impl FnOnce() -> Result<T>) -> Result<T> {
        let start = std::time::Instant::now();
        let out = phase();
        self.0.push((name, start.elapsed()));
        out
    }

    /// `phases: fmt 1 s, build 1020 s, ... (total 2400 s)`.
    fn summary(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(name, d)| format!("{name} {} s", d.as_secs()))
            .collect();
        let total: std::time::Duration = self.0.iter().map(|(_, d)| *d).sum();
        format!("phases: {} (total {} s)", parts.join(", "), total.as_secs())
    }
}

/// clippy -D warnings over every target. Without cargo flags it also type-checks the backends
/// CI cannot run, in the same pass: `vulkan` (SPIR-V through wgpu) and `cuda`, whose LLVM
/// bundle cannot be downloaded here: with `DOCS_RS=1` its build script (cubecl-llvm's, the
/// only one that reads it) returns early, as on docs.rs, and nothing is linked. `metal`
/// compiles only on macOS. One check of the dependencies with every backend on, rather than
/// one per backend: each pass re-checked burn and cubecl, minutes CI could not spare.
fn clippy(extra: &[String]) -> Result {
    let deny = ["--".to_string(), "-D".into(), "warnings".into()];
    let args = ["clippy", "--workspace", "--all-targets"];
    if extra.is_empty() {
        let backends = ["--features".to_string(), "vulkan,cuda".into()];
        cargo_with_env(&args, &[&backends[..], &deny].concat(), &[("DOCS_RS", "1")])
    } else {
        cargo(&args, &[extra, &deny].concat())
    }
}

/// Tests that could not run here: name, why.
type Skipped = Vec<(String, String)>;

/// The tests that recorded themselves as skipped (`<test>.txt` holding the reason).
fn skipped_tests(dir: &Path) -> Skipped {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let name = e
                .path()
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into();
            (name, std::fs::read_to_string(e.path()).unwrap_or_default())
        })
        .collect();
    v.sort();
    v
}

/// The examples, each at a size that runs in seconds: CI runs them all.
const EXAMPLES: [(&str, &[&str]); 8] = [
    ("quickstart", &["16", "300"]),
    ("custom_activation", &["16", "300"]),
    ("custom_observer", &["16", "400"]),
    ("random_vs_thermal", &["16", "600", "0.2"]),
    ("single_event", &["target/single_event.png", "32"]),
    ("activity_vs_temperature", &["16", "800", "0.1", "0.2"]),
    ("fft2d", &["64", "3"]),
    (
        "ensemble",
        &[
            "target/ensemble_arrhenius.png",
            "16",
            "800",
            "0.1",
            "0.2",
            "0.3",
        ],
    ),
];

/// Runs every example of [`EXAMPLES`]; returns how many ran.
fn run_examples(extra: &[String]) -> Result<usize> {
    for (name, args) in EXAMPLES {
        if extra.is_empty() {
            // The binaries the workspace build made. `cargo run --example` selects the root
            // package alone, whose dependencies' features then differ from the workspace's
            // (xtask's among them): it rebuilt epm-cli and relinked the examples.
            let exe = target_dir().join("debug").join("examples").join(name);
            eprintln!("+ {} {}", exe.display(), args.join(" "));
            let status = Command::new(&exe)
                .args(args.iter())
                .current_dir(root())
                .status()
                .map_err(|e| format!("could not run {}: {e}", exe.display()))?;
            if !status.success() {
                return Err(format!("example {name} failed ({status})"));
            }
            continue;
        }
        let with_args: Vec<String> = extra
            .iter()
            .cloned()
            .chain(std::iter::once("--".to_string()))
            .chain(args.iter().map(|a| a.to_string()))
            .collect();
        cargo(&["run", "--quiet", "--example", name], &with_args)?;
    }
    Ok(EXAMPLES.len())
}

/// Builds the book with mdbook (installed from crates.io when missing): a missing include
/// fails the build; then every relative link of the book must lead to a file.
fn book() -> Result {
    let has_mdbook = Command::new("mdbook")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_mdbook {
        eprintln!("xtask: installing mdbook from crates.io (once)");
        cargo(
            &[
                "install",
                "mdbook",
                "--locked",
                "--version",
                "^0.5",
                "--no-default-features",
            ],
            &[],
        )?;
    }
    eprintln!("+ mdbook build book");
    let status = Command::new("mdbook")
        .args(["build", "book"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not run mdbook: {e}"))?;
    if !status.success() {
        return Err("`mdbook build book` failed".into());
    }
    let broken = book_links::broken(&root().join("book/src"))?;
    if !broken.is_empty() {
        return Err(format!("broken links in the book:\n{}", broken.join("\n")));
    }
    Ok(())
}

/// `cargo test --workspace`, its output passed through, its `test result:` lines summed.
/// The execution profile the tests run under (`epm::profile::ENV`).
const PROFILE_ENV: &str = "EPM_PROFILE";

/// The test executables that run kernels on the device: the `epm` library's device tests and
/// the FFT's.
const DEVICE_TESTS: [(&str, &str); 2] = [("lib", "epm"), ("test", "fft2d")];

/// Every test of the workspace, under the CPU execution profile.
fn cargo_test(extra: &[String]) -> Result<(usize, usize)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "+ {PROFILE_ENV}=cpu cargo test --workspace {}",
        extra.join(" ")
    );
    let mut command = Command::new(cargo);
    command
        .args(["test", "--workspace"])
        .args(extra)
        .env(PROFILE_ENV, "cpu");
    counted_tests(command, "`cargo test --workspace`")
}

/// The device tests ([`DEVICE_TESTS`]) again, under the GPU execution profile: the executables
/// `cargo test` built, run as they are.
fn device_tests_gpu(extra: &[String]) -> Result<(usize, usize)> {
    let built = device::built(&["test", "--workspace", "--no-run"], extra)?;
    let (mut passed, mut failed) = (0, 0);
    for (kind, target) in DEVICE_TESTS {
        let exe = built
            .iter()
            .find(|a| a.kind == kind && a.target == target)
            .ok_or_else(|| format!("cargo built no {kind} test executable `{target}`"))?;
        eprintln!("+ {PROFILE_ENV}=gpu {}", exe.path.display());
        let mut command = Command::new(&exe.path);
        command.env(PROFILE_ENV, "gpu");
        let (p, f) = counted_tests(command, &format!("{target} under the GPU profile"))?;
        passed += p;
        failed += f;
    }
    Ok((passed, failed))
}

/// Runs `command` (a libtest run) in the repository, echoing its output: tests passed and
/// failed, or an error naming `what` when it fails.
fn counted_tests(mut command: Command, what: &str) -> Result<(usize, usize)> {
    use std::io::{BufRead, BufReader};
    let mut child = command
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {what}: {e}"))?;
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let line = line.map_err(|e| format!("reading cargo test output: {e}"))?;
        println!("{line}");
        if let Some((p, f)) = parse_test_result(&line) {
            passed += p;
            failed += f;
        }
    }
    let status = child.wait().map_err(|e| format!("{what}: {e}"))?;
    if !status.success() {
        println!("{passed} passed, {failed} failed");
        return Err(format!("{what} failed ({status})"));
    }
    Ok((passed, failed))
}

/// `(passed, failed)` from a libtest summary line `test result: ok. 3 passed; 0 failed; ...`.
fn parse_test_result(line: &str) -> Option<(usize, usize)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |word: &str| -> Option<usize> {
        rest.split(';')
            .find_map(|part| {
                part.trim()
                    .trim_start_matches("ok. ")
                    .trim_start_matches("FAILED. ")
                    .strip_suffix(word)
            })
            .and_then(|n| n.trim().parse().ok())
    };
    Some((count(" passed")?, count(" failed")?))
}

fn bench(extra: &[String]) -> Result {
    ensure_hdf5()?;
    ensure_compute_driver(extra, Info::Release)?;
    let criterion = fresh_criterion_dir()?;
    for bench in ["fft2d", "step", "observers", "ensemble"] {
        cargo(&["bench", "--bench", bench], extra)?;
    }
    jax_anchor(&criterion);
    bench_table()
}

/// The JAX script a physicist would write (`../shared/anchors/jax_epm.py`, beside the
/// checkout), timed in the same run as the `step` group: thermal T = 0.1, the same sizes and
/// tracers. Its JSON lines go to `jax-anchor.jsonl` for the table; without the script or a
/// Python with `jax`, the table shows no ratio and says why here.
fn jax_anchor(criterion: &std::path::Path) {
    let script = root().join("../shared/anchors/jax_epm.py");
    if !script.exists() {
        println!(
            "JAX anchor: {} not found; no epm / JAX ratio",
            script.display()
        );
        return;
    }
    // Steps per timed repetition: a few seconds each on a 2-core CPU.
    let single = bench_table::ANCHOR_RUNS.map(|(l, steps)| (l, steps, 1));
    for (runs, file) in [
        (&single[..], "jax-anchor.jsonl"),
        (
            &bench_table::ANCHOR_ENSEMBLE_RUNS[..],
            "jax-anchor-ensemble.jsonl",
        ),
    ] {
        let mut lines = String::new();
        for &(l, steps, b) in runs {
            let mut args = vec![l.to_string(), steps.to_string(), "0.1".into()];
            if b > 1 {
                args.push(b.to_string());
            }
            let out = Command::new("python3").arg(&script).args(&args).output();
            match out {
                Ok(o) if o.status.success() => {
                    let text = String::from_utf8_lossy(&o.stdout);
                    if let Some(line) = text.lines().rev().find(|l| l.starts_with('{')) {
                        println!("JAX anchor: {line}");
                        lines += line;
                        lines.push('\n');
                    }
                }
                Ok(o) => {
                    let err = String::from_utf8_lossy(&o.stderr);
                    let last = err.lines().last().unwrap_or("").to_string();
                    println!(
                        "JAX anchor at L = {l}, B = {b} failed (pip install 'jax[cpu]'?): {last}"
                    );
                }
                Err(e) => println!("JAX anchor: python3 not run: {e}"),
            }
        }
        let path = criterion.join(file);
        if let Err(e) = std::fs::write(&path, lines) {
            println!("JAX anchor: writing {}: {e}", path.display());
        }
    }
}

/// An empty `target/criterion` with this machine's description (`host.txt`): one run, one
/// table, since results of an earlier run (other sizes, removed ids) would mix in.
fn fresh_criterion_dir() -> Result<PathBuf> {
    let criterion = target_dir().join("criterion");
    if criterion.exists() {
        std::fs::remove_dir_all(&criterion)
            .map_err(|e| format!("removing {}: {e}", criterion.display()))?;
    }
    std::fs::create_dir_all(&criterion)
        .map_err(|e| format!("creating {}: {e}", criterion.display()))?;
    std::fs::write(criterion.join("host.txt"), bench_table::host())
        .map_err(|e| format!("writing host.txt: {e}"))?;
    Ok(criterion)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// `target/bench-table.md` from criterion's results under `target/criterion`.
fn bench_table() -> Result {
    let target = target_dir();
    let table = bench_table::render(&target.join("criterion"))?;
    // The book's performance chapter includes the table: it lives in the book's sources.
    for out in [
        target.join("bench-table.md"),
        root().join("book/src/bench-table.md"),
    ] {
        std::fs::write(&out, &table).map_err(|e| format!("writing {}: {e}", out.display()))?;
        println!("written to {}", out.display());
    }
    println!("{table}");
    Ok(())
}

/// Asks `epm info` for the adapter a run would use, which also prints it. When there is none
/// (on Linux: no Vulkan driver), installs Mesa's software Vulkan driver (lavapipe) if we are root with apt, and asks
/// again; otherwise says exactly what to run.
/// Which `epm` prints the adapter: the one a release build runs (demo, bench), or the one
/// `cargo build --workspace --all-targets` made (test). Running `cargo run -p epm-cli` in a
/// test would build burn and cubecl a second time: alone, the package resolves other features.
#[derive(Clone, Copy)]
enum Info {
    Release,
    WorkspaceBuild,
}

fn ensure_compute_driver(extra: &[String], which: Info) -> Result {
    let info = || match which {
        Info::Release => cargo(
            &[
                "run",
                "--quiet",
                "--release",
                "--package",
                "epm-cli",
                "--",
                "info",
            ],
            extra,
        ),
        Info::WorkspaceBuild => {
            let epm = target_dir().join("debug").join("epm");
            eprintln!("+ {} info", epm.display());
            let status = Command::new(&epm)
                .arg("info")
                .status()
                .map_err(|e| format!("could not run {}: {e}", epm.display()))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("`epm info` failed ({status})"))
            }
        }
    };
    // On Linux the wgpu and vulkan builds run on Vulkan: an OpenGL software renderer that
    // wgpu would also accept is not what the tests are meant for.
    let wants_vulkan = cfg!(target_os = "linux")
        && !extra
            .iter()
            .any(|a| a.contains("cuda") || a.contains("metal"));
    if (!wants_vulkan || has_vulkan_icd()) && info().is_ok() {
        return Ok(());
    }
    let cmd = "apt-get update && apt-get install -y mesa-vulkan-drivers libvulkan1";
    if !cfg!(target_os = "linux") {
        return Err("no compute adapter found for this backend (see `epm info` above)".into());
    }
    if !can_apt_install() {
        return Err(format!(
            "no compute adapter found: install Mesa's software Vulkan driver with\n    sudo sh -c '{cmd}'"
        ));
    }
    eprintln!(
        "xtask: no Vulkan driver or no compute adapter found; installing Mesa's software Vulkan driver (lavapipe)"
    );
    if !apt_install(cmd)? || !has_vulkan_icd() {
        return Err(format!(
            "installing the software Vulkan driver failed; run: {cmd}"
        ));
    }
    info().map_err(|e| format!("still no compute adapter after installing lavapipe: {e}"))
}

/// Whether this is Linux, we are root and apt-get exists: what installing a missing system
/// library here needs.
fn can_apt_install() -> bool {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    cfg!(target_os = "linux") && is_root && Path::new("/usr/bin/apt-get").exists()
}

/// Runs `cmd` (apt-get lines) quietly; whether it succeeded.
fn apt_install(cmd: &str) -> Result<bool> {
    let status = Command::new("sh")
        .args([
            "-c",
            &format!("export DEBIAN_FRONTEND=noninteractive; ({cmd}) >/dev/null"),
        ])
        .status()
        .map_err(|e| format!("could not run apt-get: {e}"))?;
    Ok(status.success())
}

/// The HDF5 C library that snapshot files need (`hdf5-metno` links it): found, or installed
/// as lavapipe is (Debian's `libhdf5-dev`, as root with apt), or the command to run.
fn ensure_hdf5() -> Result {
    let found = || {
        std::env::var_os("HDF5_DIR").is_some()
            || [
                "/usr/include/hdf5.h",
                "/usr/include/hdf5/serial/hdf5.h",
                "/usr/local/include/hdf5.h",
                "/opt/homebrew/include/hdf5.h",
            ]
            .iter()
            .any(|p| Path::new(p).exists())
    };
    if found() {
        return Ok(());
    }
    let cmd = "apt-get update && apt-get install -y libhdf5-dev";
    if !can_apt_install() {
        return Err(format!(
            "the HDF5 library is missing: install it (Debian: sudo sh -c '{cmd}'; macOS: brew \
             install hdf5), or set HDF5_DIR to where it is"
        ));
    }
    eprintln!("xtask: the HDF5 library is missing; installing Debian's libhdf5-dev");
    if !apt_install(cmd)? || !found() {
        return Err(format!("installing HDF5 failed; run: {cmd}"));
    }
    Ok(())
}

fn has_vulkan_icd() -> bool {
    [
        "/usr/share/vulkan/icd.d",
        "/etc/vulkan/icd.d",
        "/usr/local/share/vulkan/icd.d",
    ]
    .iter()
    .filter_map(|d| std::fs::read_dir(d).ok())
    .flatten()
    .flatten()
    .any(|e| e.path().extension().is_some_and(|x| x == "json"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn phases_are_timed_in_order_a_failed_one_too() {
        let mut phases = super::Phases::default();
        assert_eq!(phases.time("fmt", || Ok(3)), Ok(3));
        let failed: super::Result = phases.time("build", || Err("broken".into()));
        assert!(failed.is_err());
        phases.0[0].1 = std::time::Duration::from_millis(1500);
        phases.0[1].1 = std::time::Duration::from_secs(1020);
        assert_eq!(
            phases.summary(),
            "phases: fmt 1 s, build 1020 s (total 1021 s)"
        );
    }

    #[test]
    fn sums_libtest_summaries() {
        let ok = "test result: ok. 11 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 90.19s";
        assert_eq!(super::parse_test_result(ok), Some((11, 0)));
        let bad = "test result: FAILED. 5 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(super::parse_test_result(bad), Some((5, 1)));
        assert_eq!(super::parse_test_result("running 4 tests"), None);
    }
}
