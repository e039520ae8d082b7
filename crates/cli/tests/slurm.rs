//! The SLURM job array `epm sweep --emit-slurm` writes, under a real single-node SLURM that
//! `tests/slurm/start.sh` configures and starts on this machine (Debian's slurm-wlm and munge,
//! as root). Where that is impossible the tests say why and record themselves as skipped in
//! `target/tmp/skipped/` (which `cargo xtask test` counts as skipped, not passed).

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{check, epm, manifest, scratch, tables};

/// One SLURM, one test at a time: their jobs would share its two CPUs.
static SLURM: Mutex<()> = Mutex::new(());

/// Starts SLURM; `false` (after recording the test as skipped, with the reason) when it
/// cannot run here.
fn slurm_up(test: &str) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm/start.sh");
    let out = Command::new("bash").arg(&script).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() {
        eprintln!("{said}");
        return true;
    }
    let why = said.lines().last().unwrap_or("start.sh failed").to_string();
    assert_eq!(
        out.status.code(),
        Some(3),
        "start.sh failed unexpectedly: {said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let skipped = Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped");
    std::fs::create_dir_all(&skipped).unwrap();
    std::fs::write(skipped.join(format!("{test}.txt")), &why).unwrap();
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// `sbatch --parsable` of `script` from `dir`: the job id.
fn submit(script: &Path, dir: &Path) -> String {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    check(&out, "sbatch").trim().to_string()
}

/// `JobState=` and `ExitCode=` of every task of `job`, from `scontrol show job`.
fn states(job: &str) -> Vec<(String, String)> {
    let out = Command::new("scontrol")
        .args(["show", "job", job])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |record: &str, key: &str| {
        record
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or("")
            .to_string()
    };
    text.split("\n\n")
        .filter(|r| r.contains("JobState="))
        .map(|r| (field(r, "JobState="), field(r, "ExitCode=")))
        .collect()
}

/// Waits until no task of `job` is pending, running or finishing; their final states.
fn wait_done(job: &str, limit: Duration) -> Vec<(String, String)> {
    let start = Instant::now();
    loop {
        let s = states(job);
        let busy = s.iter().any(|(state, _)| {
            matches!(
                state.as_str(),
                "PENDING" | "RUNNING" | "COMPLETING" | "REQUEUED"
            )
        });
        if !s.is_empty() && !busy {
            return s;
        }
        assert!(start.elapsed() < limit, "job {job} still busy: {s:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn emit(sweep: &Path, out: &Path, script: &Path) {
    let emitted = epm()
        .args(["sweep"])
        .arg(sweep)
        .arg("--out")
        .arg(out)
        .arg("--emit-slurm")
        .arg(script)
        .output()
        .unwrap();
    check(&emitted, "--emit-slurm");
}

#[test]
fn a_sweep_runs_as_a_slurm_job_array_and_collects() {
    let _one = SLURM.lock().unwrap_or_else(|e| e.into_inner());
    if !slurm_up("a_sweep_runs_as_a_slurm_job_array_and_collects") {
        return;
    }
    let dir = scratch("array");
    let sweep = dir.join("sweep.toml");
    std::fs::write(&sweep, common::TINY_SWEEP).unwrap();
    let (out, script) = (dir.join("runs"), dir.join("sweep.sh"));
    emit(&sweep, &out, &script);
    let job = submit(&script, &dir);
    let done = wait_done(&job, Duration::from_secs(300));
    assert_eq!(done.len(), 4, "{done:?}");
    assert!(
        done.iter()
            .all(|(s, code)| s == "COMPLETED" && code == "0:0"),
        "{done:?}"
    );
    for (name, t) in [
        ("T0.2_thermal_seed1", None),
        ("T0.3_thermal_seed1", None),
        ("T0.2_random_seed1", Some(0.2)),
        ("T0.3_random_seed1", Some(0.3)),
    ] {
        let m = manifest(&out.join(name));
        assert_eq!(m["completed"], true, "{name}");
        assert_eq!(m["twin_temperature"].as_f64(), t, "{name}");
    }
    check(
        &epm().args(["collect"]).arg(&out).output().unwrap(),
        "collect",
    );
    let activity = std::fs::read_to_string(out.join("collected/activity.csv")).unwrap();
    // A header and one row per model and temperature, the random twins at their twins' T.
    assert_eq!(activity.lines().count(), 5, "{activity}");
    assert!(
        activity.lines().any(|l| l.starts_with("0.3,1,")),
        "{activity}"
    );
    let msd = std::fs::read_to_string(out.join("collected/thermal/msd.csv")).unwrap();
    assert!(msd.starts_with("T [sigma_Y^2],lag [steps]"), "{msd}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_preempted_task_is_requeued_and_ends_with_the_tables_of_an_uninterrupted_run() {
    let _one = SLURM.lock().unwrap_or_else(|e| e.into_inner());
    let test = "a_preempted_task_is_requeued_and_ends_with_the_tables_of_an_uninterrupted_run";
    if !slurm_up(test) {
        return;
    }
    let dir = scratch("preempt");
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        r#"
[base]
l = 16
steps = 20000
[base.observables]
warm_up = 500
points_per_level = 8
shells = 4

[sweep]
temperatures = [0.15]
seeds = [3]
"#,
    )
    .unwrap();
    let reference = dir.join("reference");
    check(
        &epm()
            .args(["sweep"])
            .arg(&sweep)
            .arg("--out")
            .arg(&reference)
            .args(["--only", "0", "--quiet"])
            .output()
            .unwrap(),
        "the uninterrupted run",
    );

    let (out, script) = (dir.join("runs"), dir.join("sweep.sh"));
    emit(&sweep, &out, &script);
    let job = submit(&script, &dir);
    let run = out.join("T0.15_thermal_seed3");
    // Under way: running, its directory made, a few seconds in.
    let start = Instant::now();
    while !(states(&job).iter().any(|(s, _)| s == "RUNNING") && run.exists()) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{:?}",
            states(&job)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    // What SLURM does before a time limit or a preemption: SIGTERM to the batch shell (epm).
    check(
        &Command::new("scancel")
            .args(["--signal=TERM", "--batch", &job])
            .output()
            .unwrap(),
        "scancel --signal=TERM",
    );
    let stopped = wait_done(&job, Duration::from_secs(120));
    assert_eq!(stopped, [("FAILED".to_string(), "143:0".to_string())]);
    let m = manifest(&run);
    assert_eq!(m["completed"], false, "the stop wrote partial outputs");
    let at = m["steps"].as_u64().unwrap();
    assert!(at > 0 && at < 20_000, "stopped at step {at}");
    assert!(run.join("checkpoint.epm").exists());

    check(
        &Command::new("scontrol")
            .args(["requeue", &job])
            .output()
            .unwrap(),
        "scontrol requeue",
    );
    let done = wait_done(&job, Duration::from_secs(300));
    assert_eq!(done, [("COMPLETED".to_string(), "0:0".to_string())]);
    assert_eq!(manifest(&run)["completed"], true);
    let (a, b) = (tables(&reference.join("T0.15_thermal_seed3")), tables(&run));
    assert!(a.len() >= 9, "{} tables", a.len());
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{name} differs after the preemption and the requeue"
        );
    }
    let log = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("epm-sweep-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap_or_default();
    assert!(log.contains("interrupted in T0.15_thermal_seed3"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}
