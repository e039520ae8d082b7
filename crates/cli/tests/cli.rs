//! The `epm` command end to end: the real binary, on the build's device (lavapipe in CI).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{check, epm, scratch, tables};

const TINY: &str = r#"
l = 16
seed = 3
steps = 6000
[activation]
rule = "thermal"
temperature = 0.15
[observables]
warm_up = 500
points_per_level = 8
shells = 4
"#;

#[test]
fn sigint_then_resume_gives_the_tables_of_an_uninterrupted_run() {
    stop_then_resume("INT", 130);
}

#[test]
fn sigterm_then_resume_gives_the_tables_of_an_uninterrupted_run() {
    stop_then_resume("TERM", 143);
}

/// A run stopped by `signal` exits `status` after writing everything, and `--resume` ends it
/// with the tables of a run that never stopped; `--resume` also starts a run that has no
/// checkpoint yet (the uninterrupted one here).
fn stop_then_resume(signal: &str, status: i32) {
    let dir = scratch(&format!("sig{signal}"));
    let config = dir.join("tiny.toml");
    std::fs::write(&config, TINY).unwrap();

    let straight = dir.join("straight");
    let first = epm()
        .args(["run"])
        .arg(&config)
        .arg("--out")
        .arg(&straight)
        .args(["--quiet", "--resume"])
        .output()
        .unwrap();
    check(&first, "the uninterrupted run, started by --resume");
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("holds no checkpoint: starting"),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    let stopped = dir.join("stopped");
    let mut child = epm()
        .args(["run"])
        .arg(&config)
        .arg("--out")
        .arg(&stopped)
        .args(["--quiet", "--checkpoint-minutes", "0.005"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first periodic checkpoint: the run is under way.
    let start = Instant::now();
    while !stopped.join("checkpoint.epm").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be interrupted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(status),
        "SIG{signal}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("interrupted at step"), "{stdout}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stopped.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["completed"], false, "the partial outputs say so");
    let step = manifest["steps"].as_u64().unwrap();
    assert!(step > 0 && step < 6000, "interrupted at step {step}");

    check(
        &epm()
            .args(["run"])
            .arg(&config)
            .arg("--out")
            .arg(&stopped)
            .args(["--resume", "--quiet"])
            .output()
            .unwrap(),
        "the resumed run",
    );
    let (a, b) = (tables(&straight), tables(&stopped));
    assert_eq!(a.len(), b.len());
    assert!(a.len() >= 9, "{} tables", a.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs after SIGINT and --resume");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn configuration_errors_name_the_file_and_key_and_exit_2() {
    let dir = scratch("config-errors");
    let cases = [
        ("l = 100", "`l` = 100"),
        ("dt = 2.0", "`dt` = 2"),
        ("temprature = 0.1", "temprature"),
        ("l = \"big\"", "l"),
        (
            "[activation]\nrule = \"thermal\"\ntemperature = -1.0",
            "`activation.temperature` = -1",
        ),
        (
            "[activation]\nrule = \"random\"\nactivity = 2.0",
            "`activation.activity` = 2",
        ),
        ("[activation]\nrule = \"magic\"", "magic"),
        (
            "[observables]\npoints_per_level = 7",
            "`observables.points_per_level` = 7",
        ),
        ("[observables]\nq = [100.0]", "`observables.q` = 100"),
        ("steps = 0", "`steps` = 0"),
        // A speed choice, not a parameter: a run option now.
        ("sparse_max_active = 0", "--sparse-max-active"),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let file = dir.join(format!("bad{i}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = epm()
            .args(["run"])
            .arg(&file)
            .arg("--out")
            .arg(dir.join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.contains(&format!("bad{i}.toml")),
            "{text}: the file is not named: {stderr}"
        );
        assert!(
            stderr.contains(key),
            "{text}: `{key}` is not named: {stderr}"
        );
        assert!(!dir.join("out").exists(), "{text}: nothing may be written");
    }
    let missing = epm()
        .args(["run", "/nonexistent.toml", "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_ne!(missing.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent.toml"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_checkpoint_is_refused_and_left_as_it_is() {
    let dir = scratch("damaged-checkpoint");
    let short = dir.join("short.toml");
    std::fs::write(&short, TINY.replace("steps = 6000", "steps = 200")).unwrap();
    let longer = dir.join("longer.toml");
    std::fs::write(&longer, TINY.replace("steps = 6000", "steps = 400")).unwrap();
    let out = dir.join("run");
    let run = |config: &Path| {
        epm()
            .args(["run"])
            .arg(config)
            .arg("--out")
            .arg(&out)
            .args(["--quiet", "--resume"])
            .output()
            .unwrap()
    };
    check(&run(&short), "the first 200 steps");
    let checkpoint = out.join("checkpoint.epm");
    let mut bytes = std::fs::read(&checkpoint).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    bytes[middle + 1] ^= 0x40;
    std::fs::write(&checkpoint, &bytes).unwrap();
    let resumed = run(&longer);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("checkpoint.epm"),
        "the file is not named: {stderr}"
    );
    assert!(stderr.contains("damaged or truncated"), "{stderr}");
    assert_eq!(
        std::fs::read(&checkpoint).unwrap(),
        bytes,
        "left for the user to look at"
    );
    std::fs::write(&checkpoint, &bytes[..bytes.len() / 2]).unwrap();
    let truncated = run(&longer);
    let stderr = String::from_utf8_lossy(&truncated.stderr);
    assert_eq!(truncated.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("damaged or truncated"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_too_large_for_the_machine_is_refused_before_it_allocates() {
    let dir = scratch("too-large");
    let config = dir.join("huge.toml");
    std::fs::write(&config, "l = 64\ntracers = 100000000\n").unwrap();
    let out = epm()
        .args(["run"])
        .arg(&config)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("memory"), "{stderr}");
    assert!(stderr.contains("tracer dynamics (tracers"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("memory allocation of"));
    assert!(!dir.join("out").exists(), "nothing may be written");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `epm run CONFIG --out OUT --quiet EXTRA...`, started with its output captured.
fn spawn_run(
    config: &Path,
    out: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Child {
    epm()
        .args(["run"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` to `child` and returns its output and how long it took to exit.
fn stop(child: std::process::Child, signal: &str) -> (std::process::Output, Duration) {
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let sent = Instant::now();
    let out = child.wait_with_output().unwrap();
    (out, sent.elapsed())
}

#[test]
fn a_large_run_stops_promptly_on_sigterm_with_its_files_written() {
    // L = 1024 from rest at T = 0.1: about 700 sites activate a step. The first window used
    // to take the sparse update (no site was active at its start), minutes for the chunk of
    // 16 steps a stop waits for; the window now takes the transforms.
    let dir = scratch("large-stop");
    let config = dir.join("large.toml");
    std::fs::write(&config, "l = 1024\nsteps = 200\ntracers = 4096\n").unwrap();
    let out = dir.join("run");
    let child = spawn_run(&config, &out, &[], &[]);
    // Compiling or in the first window then. The stop waits for the chunk in flight: 16 steps
    // through the transforms now, not 16 sparse ones of seconds each. Under 60 s, the bound
    // past which `epm` would exit without writing (then it does not print the line below).
    std::thread::sleep(Duration::from_secs(15));
    let (stopped, took) = stop(child, "TERM");
    let stdout = String::from_utf8_lossy(&stopped.stdout);
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(143), "{stderr}");
    assert!(stdout.contains("interrupted at step"), "{stdout}{stderr}");
    assert!(
        took < Duration::from_secs(58),
        "{took:?} from SIGTERM to exit: {stderr}"
    );
    assert!(out.join("checkpoint.epm").exists() && out.join("manifest.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn past_the_stop_bound_epm_exits_with_its_last_checkpoint_kept() {
    // A bound of zero: the stop cannot wait for the device, as when a device hangs.
    let dir = scratch("stop-bound");
    let config = dir.join("tiny.toml");
    std::fs::write(&config, TINY.replace("steps = 6000", "steps = 200000")).unwrap();
    let out = dir.join("run");
    let every = ["--checkpoint-minutes", "0.005"];
    let child = spawn_run(&config, &out, &every, &[("EPM_STOP_SECONDS", "0")]);
    let start = Instant::now();
    while !out.join("checkpoint.epm").exists() {
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (stopped, took) = stop(child, "TERM");
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(143), "{stderr}");
    assert!(took < Duration::from_secs(10), "{took:?}: {stderr}");
    // Whichever moment the bound cut, the checkpoint on disk is a whole one.
    let resumed = spawn_run(&config, &out, &["--resume"], &[]);
    std::thread::sleep(Duration::from_secs(3));
    let (again, _) = stop(resumed, "INT");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(
        again.status.code(),
        Some(130),
        "the checkpoint resumed: {stderr}"
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("interrupted at step"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sweeps_skip_finished_runs_resume_broken_ones_and_emit_slurm() {
    let dir = scratch("sweep");
    let file = dir.join("sweep.toml");
    std::fs::write(&file, common::TINY_SWEEP).unwrap();
    let out = dir.join("runs");
    let sweep = || {
        epm()
            .args(["sweep"])
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .output()
            .unwrap()
    };
    let first = sweep();
    check(&first, "the sweep");
    assert!(String::from_utf8_lossy(&first.stdout).contains("4 runs done, 0 already finished"));
    let names = [
        "T0.2_thermal_seed1",
        "T0.3_thermal_seed1",
        "T0.2_random_seed1",
        "T0.3_random_seed1",
    ];
    // The random twins took their thermal twins' measured activity.
    let manifest = |name: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(out.join(name).join("manifest.json")).unwrap(),
        )
        .unwrap()
    };
    let thermal = manifest("T0.2_thermal_seed1");
    let measured = thermal["quantities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "mean_activity")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert_eq!(
        manifest("T0.2_random_seed1")["config"]["activation"]["activity"]
            .as_f64()
            .unwrap(),
        measured
    );

    // Break one run (its manifest gone, its checkpoint kept) and delete another.
    std::fs::remove_file(out.join(names[1]).join("manifest.json")).unwrap();
    std::fs::remove_dir_all(out.join(names[3])).unwrap();
    let second = sweep();
    check(&second, "the second sweep");
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("2 runs done, 2 already finished"),
        "{stdout}"
    );
    for n in names {
        assert_eq!(manifest(n)["completed"], true, "{n}");
    }

    let collected = epm().args(["collect"]).arg(&out).output().unwrap();
    check(&collected, "collect");
    let merged = std::fs::read_to_string(out.join("collected/thermal/msd.csv")).unwrap();
    assert!(merged.starts_with("T [sigma_Y^2],lag [steps]"), "{merged}");
    assert!(out.join("collected/activity.csv").exists());

    let script = dir.join("sweep.sh");
    let emitted = epm()
        .args(["sweep"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--emit-slurm")
        .arg(&script)
        .output()
        .unwrap();
    check(&emitted, "--emit-slurm");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("#SBATCH --array=0-3"), "{text}");
    for (i, n) in [
        "T0.2_thermal_seed1",
        "T0.3_thermal_seed1",
        "T0.2_random_seed1",
        "T0.3_random_seed1",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            text.contains(&format!("#   {i}: {n}")),
            "task {i} is not {n}:\n{text}"
        );
    }
    assert_eq!(text.matches("#   ").count(), 4, "one task per run:\n{text}");
    assert!(text.contains("--only \"$SLURM_ARRAY_TASK_ID\""));
    for directive in ["--requeue", "--signal=B:TERM@", "--open-mode=append"] {
        assert!(
            text.contains(&format!("#SBATCH {directive}")),
            "{directive}:\n{text}"
        );
    }
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    check(&syntax, "bash -n on the SLURM script");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn is_png(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.len() > 1000
        && bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        && &bytes[12..16] == b"IHDR"
        && u32::from_be_bytes(bytes[16..20].try_into().unwrap()) == 900
        && u32::from_be_bytes(bytes[20..24].try_into().unwrap()) == 640
        && bytes.windows(4).any(|w| w == b"IEND")
}

fn is_svg(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    let ok = text.trim_start().starts_with("<svg")
        && text.trim_end().ends_with("</svg>")
        && (text.contains("<path") || text.contains("<polyline"));
    // Python's XML parser, where there is one, checks that it is well-formed.
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])",
        ])
        .arg(path)
        .status()
        .map(|s| s.success())
        .unwrap_or(true);
    ok && parsed
}

#[test]
fn the_figures_are_valid_png_and_svg() {
    let dir = scratch("figures");
    let out = epm()
        .args(["reproduce", "all", "--scale", "test", "--quiet", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    check(&out, "reproduce all --scale test");
    for f in [
        "fig1b", "fig2a", "fig2b", "fig2c", "fig2d", "fig3a", "fig3b", "fig3c", "fig3d",
    ] {
        let base = dir.join("figures").join(f);
        assert!(is_png(&base.with_extension("png")), "{f}.png");
        assert!(is_svg(&base.with_extension("svg")), "{f}.svg");
    }
    // Fig. 1 (right) came from the T = 0.1 run's trajectories.
    let snapshots = dir.join("runs/T0.1_thermal_seed1/snapshots.h5");
    assert!(snapshots.exists(), "no snapshot file for fig1b");
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("| quantity | T | model | measured | paper | tolerance | within |"),
        "{report}"
    );
    assert!(report.contains("arrhenius_E"), "{report}");
    // report.json: the named entries, each with the paper's value where the paper gives one.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let entries = json.as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for name in [
        "mean_activity",
        "arrhenius_E",
        "arrhenius_A",
        "ballistic_n",
        "ballistic_gamma",
        "ballistic_alpha",
        "crossover_n",
        "crossover_gamma",
        "crossover_alpha",
        "diffusive_alpha",
        "regime_II_found",
        "p_u_small_slope",
        "p_u_large_slope",
        "psi_slope",
    ] {
        assert!(names.contains(&name), "{name} missing from report.json");
    }
    for e in entries {
        for key in [
            "temperature",
            "model",
            "measured",
            "error",
            "paper",
            "within",
        ] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
        // `within` is judged exactly when there is both a measurement and a paper value.
        assert_eq!(
            e["within"].is_boolean(),
            !e["measured"].is_null() && !e["paper"].is_null(),
            "{e}"
        );
    }
    let random_regime = entries
        .iter()
        .find(|e| e["name"] == "regime_II_found" && e["model"] == "random")
        .unwrap();
    assert_eq!(random_regime["paper"], 0.0);
    // A second time everything is finished: nothing runs, the figures are redrawn.
    let again = epm()
        .args(["reproduce", "all", "--scale", "test", "--quiet", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    check(&again, "the second reproduce");
    assert!(!String::from_utf8_lossy(&again.stderr).contains("runs to do"));
    // Runs made with other conventions are never reused.
    let other = epm()
        .args(["reproduce", "all", "--scale", "test", "--quiet"])
        .args(["--propagator", "literal", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!other.status.success());
    assert!(
        String::from_utf8_lossy(&other.stderr).contains("give another --out"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    // `epm plot` on one run.
    let one = dir.join("runs/T0.1_thermal_seed1");
    let plotted = epm()
        .args(["plot", "--reanalyse"])
        .arg(&one)
        .output()
        .unwrap();
    check(&plotted, "epm plot --reanalyse");
    assert!(
        is_png(&one.join("figures/fig2a.png")) && is_svg(&one.join("figures/sq_ballistic.svg"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_vulkan_loader_stays_quiet_without_xdg_runtime_dir() {
    let out = Command::new(env!("CARGO_BIN_EXE_epm"))
        .arg("info")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    check(&out, "epm info");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
}

/// A sweep of ensembles stopped by SIGINT while its first ensemble runs, then run again,
/// ends with the tables of a sweep that never stopped, run for run; and an ensemble's replica
/// is its single run (`--ensemble 1`, with the dense update an ensemble takes), table for table.
/// `--together`: the three runs go as one ensemble on any machine (whether they would by the
/// timing depends on the machine: an ensemble of L = 16 is not faster on every CPU).
#[test]
fn an_ensemble_sweep_stopped_and_run_again_gives_the_tables_of_one_that_never_stopped() {
    let dir = scratch("ensemble-sweep");
    let file = dir.join("sweep.toml");
    let sweep_toml = r#"
[base]
l = 16
steps = 2000
[base.observables]
warm_up = 200
points_per_level = 8
shells = 4

[sweep]
temperatures = [0.15, 0.2, 0.3]
seeds = [1]
models = ["thermal"]
"#;
    std::fs::write(&file, sweep_toml).unwrap();
    let sweep = |out: &Path, ensemble: &str| {
        let mut c = epm();
        // Single runs with the dense update, as the replicas take it.
        c.args(["sweep"]).arg(&file).arg("--out").arg(out).args([
            "--quiet",
            "--ensemble",
            ensemble,
            "--sparse-max-active",
            "0",
        ]);
        if ensemble != "1" {
            c.arg("--together");
        }
        c
    };
    let straight = dir.join("straight");
    let went = sweep(&straight, "16").output().unwrap();
    check(&went, "the sweep");
    let said = String::from_utf8_lossy(&went.stderr);
    assert!(said.contains("ensembles of 3 replicas"), "{said}");
    let alone = dir.join("alone");
    check(
        &sweep(&alone, "1").output().unwrap(),
        "the sweep of single runs",
    );

    let stopped = dir.join("stopped");
    let mut child = sweep(&stopped, "16")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The runs' directories appear when the ensemble starts: stop it under way.
    let first = stopped.join("T0.15_thermal_seed1");
    let start = Instant::now();
    while !first.exists() {
        assert!(start.elapsed() < Duration::from_secs(120), "no run started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "the sweep ended first");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check(
        &sweep(&stopped, "16").output().unwrap(),
        "the sweep run again",
    );
    for name in [
        "T0.15_thermal_seed1",
        "T0.2_thermal_seed1",
        "T0.3_thermal_seed1",
    ] {
        let (a, b, c) = (
            tables(&straight.join(name)),
            tables(&stopped.join(name)),
            tables(&alone.join(name)),
        );
        assert!(a.len() >= 9, "{name}: {} tables", a.len());
        assert_eq!(a.len(), b.len());
        for (((table, x), (_, y)), (_, z)) in a.iter().zip(&b).zip(&c) {
            assert!(
                x == y,
                "{name}/{table} differs after SIGINT and a second sweep"
            );
            assert!(
                x == z,
                "{name}/{table}: the replica differs from its single run"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--profile` chooses the execution profile, the manifest records it, a resume keeps the
/// checkpoint's and says so, and `--profile` on resume replaces it.
#[test]
fn the_execution_profile_is_recorded_kept_on_resume_and_replaced_when_asked() {
    let dir = scratch("profile");
    let config = dir.join("short.toml");
    let write = |steps: u64| {
        let text = TINY.replace("steps = 6000", &format!("steps = {steps}"));
        std::fs::write(&config, text.replace("warm_up = 500", "warm_up = 50")).unwrap();
    };
    let out = dir.join("run");
    let run = |extra: &[&str]| {
        let o = epm()
            .args(["run"])
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .args(["--quiet", "--resume"])
            .args(extra)
            .output()
            .unwrap();
        check(&o, &format!("epm run {extra:?}"));
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        (
            manifest["profile"]["name"].as_str().unwrap().to_string(),
            stderr,
        )
    };
    write(300);
    let (name, stderr) = run(&["--profile", "gpu"]);
    assert_eq!(name, "gpu");
    assert!(
        stderr.contains("execution profile gpu (asked for)"),
        "{stderr}"
    );
    write(600);
    let (name, stderr) = run(&[]);
    assert_eq!(name, "gpu", "kept from the checkpoint");
    assert!(
        stderr.contains("execution profile gpu (the checkpoint's)"),
        "{stderr}"
    );
    write(900);
    let (name, stderr) = run(&["--profile", "cpu"]);
    assert_eq!(name, "cpu", "replaced on resume");
    assert!(
        stderr.contains("execution profile cpu (asked for)"),
        "{stderr}"
    );

    let bad = epm()
        .args(["run"])
        .arg(&config)
        .arg("--out")
        .arg(dir.join("bad"))
        .args(["--profile", "fast"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("fast") && stderr.contains("auto, gpu or cpu"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
