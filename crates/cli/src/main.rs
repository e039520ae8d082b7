//! The `epm` command: see `epm --help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use epm::Config;
use epm::run::Run;
use epm_cli::drive::{DriveOptions, Outcome, drive, interrupt_flag, interrupted_status};
use epm_cli::paper::{PaperFigure, draw, load_runs, report};
use epm_cli::reproduce::{Running, Scale, Target, reproduce};
use epm_cli::sweep::{RunResult, SweepFile, ensemble_groups, run_group, slurm_script};
use epm_cli::{CliError, collect, figures, paper};

/// Thermally activated elastoplastic models on any GPU (Ferrero, Martens & Barrat, PRL 2014).
#[derive(Parser)]
#[command(name = "epm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Speed choices of the runs a command starts or resumes (the numbers agree to `f32`
/// rounding whatever they are).
#[derive(Args, Clone, Copy)]
struct RunArgs {
    /// The execution profile: `auto` (the adapter's), `gpu` or `cpu`. Default: `EPM_PROFILE`,
    /// else `auto`; a resumed run keeps its checkpoint's unless this is given.
    #[arg(long)]
    profile: Option<epm::ProfileChoice>,
    /// Steps take the sparse real-space update when at most this many sites were active at
    /// the start of their window of 16 steps (0: always the transforms). Default: the
    /// profile's.
    #[arg(long, value_name = "SITES")]
    sparse_max_active: Option<u32>,
}

impl RunArgs {
    fn options(self) -> epm::RunOptions {
        epm::RunOptions {
            profile: self.profile,
            sparse_max_active: self.sparse_max_active,
            whole_steps: None,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// One simulation with its observables; Ctrl-C writes a checkpoint and the outputs.
    Run {
        /// The configuration (TOML; every key has the paper's default).
        config: PathBuf,
        /// The run's directory (manifest.json, one CSV per table, checkpoint.epm).
        #[arg(long)]
        out: PathBuf,
        /// Continue the run in --out from its checkpoint, or start it when there is none: one
        /// command line for the first start and every requeue.
        #[arg(long)]
        resume: bool,
        /// Minutes between checkpoints.
        #[arg(long, default_value_t = 10.0)]
        checkpoint_minutes: f64,
        #[command(flatten)]
        speed: RunArgs,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// A grid of temperatures, seeds and models, one run after another; finished runs are
    /// skipped, so a killed sweep resumes.
    Sweep {
        /// The sweep file: `[base]` (a run's configuration) and `[sweep]` (the grid).
        sweep: PathBuf,
        /// Where the runs go, one directory each.
        #[arg(long)]
        out: PathBuf,
        /// Write a SLURM job-array script (one task per run) to this file instead of running.
        #[arg(long)]
        emit_slurm: Option<PathBuf>,
        /// Only the run with this index (what each SLURM task does).
        #[arg(long)]
        only: Option<usize>,
        /// Seconds a random run waits for its thermal twin to finish (cluster tasks).
        #[arg(long, default_value_t = 0)]
        wait_for_twin: u64,
        /// Runs of one model that differ only in temperature (or activity) and seed may run
        /// together as one ensemble of at most this many replicas (1: one at a time); which do
        /// is decided from their step costs timed on this device, printed before the runs.
        #[arg(long, default_value_t = DEFAULT_ENSEMBLE)]
        ensemble: usize,
        /// Runs that may go together do, whatever the timing says (on a GPU, where an
        /// ensemble costs about one run, or to make the grouping independent of the machine).
        #[arg(long)]
        together: bool,
        #[command(flatten)]
        speed: RunArgs,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Merge the finished runs in DIR into per-temperature tables (DIR/collected).
    Collect {
        /// A sweep's directory.
        dir: PathBuf,
    },
    /// Run what a figure of the paper needs and draw it, with report.md.
    Reproduce {
        /// A figure of the paper, all of them, or the demo.
        #[arg(value_enum)]
        figure: Target,
        /// quick (5 to 11 minutes on a 2-core CPU for all), paper (a GPU), demo, test (tiny).
        #[arg(long, value_enum, default_value_t = Scale::Quick)]
        scale: Scale,
        /// The propagator's conventions: paper (the default: lattice form, G(0,0) = -1, the
        /// displacement alike), literal (the model notes' closed form, unnormalised), or keys
        /// of the `[propagator]` table separated by commas, e.g.
        /// 'form = "continuum", normalisation = "self-term"'.
        #[arg(long, default_value = "paper")]
        propagator: String,
        /// Runs, figures and report go here.
        #[arg(long)]
        out: PathBuf,
        /// Runs that differ only in temperature (or activity) and seed may run together as one
        /// ensemble of at most this many replicas (1: one at a time); which do is decided
        /// from their step costs timed on this device, printed before the runs.
        #[arg(long, default_value_t = DEFAULT_ENSEMBLE)]
        ensemble: usize,
        /// Runs that may go together do, whatever the timing says (on a GPU, where an
        /// ensemble costs about one run, or to make the grouping independent of the machine).
        #[arg(long)]
        together: bool,
        #[command(flatten)]
        speed: RunArgs,
        /// No progress bars.
        #[arg(long)]
        quiet: bool,
    },
    /// Redraw the figures of finished runs (a run, a sweep or a reproduction) into DIR/figures.
    Plot {
        /// The directory.
        dir: PathBuf,
        /// First analyse every finished run again from its tables with this version of epm
        /// (regimes, master curves, ...), rewriting its derived numbers and tables.
        #[arg(long)]
        reanalyse: bool,
    },
    /// The backend of this build and the adapters it can use.
    Info,
}

/// Replicas of an ensemble at most, by default (`--ensemble`).
const DEFAULT_ENSEMBLE: usize = 16;

/// How a command ended without an error.
enum Ended {
    /// Everything asked for is done.
    Complete,
    /// SIGINT or SIGTERM stopped it after it wrote its checkpoints and outputs.
    Interrupted,
}

fn main() -> ExitCode {
    quiet_vulkan_loader();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info => info().map(|()| Ended::Complete),
        Command::Run {
            config,
            out,
            resume,
            checkpoint_minutes,
            speed,
            quiet,
        } => run(
            &config,
            &out,
            resume,
            checkpoint_minutes,
            speed.options(),
            quiet,
        ),
        Command::Sweep {
            sweep,
            out,
            emit_slurm,
            only,
            wait_for_twin,
            ensemble,
            together,
            speed,
            quiet,
        } => sweep_command(
            &sweep,
            &out,
            emit_slurm,
            only,
            wait_for_twin,
            Running {
                ensemble,
                together,
                progress: !quiet,
                run: speed.options(),
            },
        ),
        Command::Collect { dir } => collect::collect(&dir).map(|out| {
            println!("epm: merged tables in {}", out.display());
            Ended::Complete
        }),
        Command::Reproduce {
            figure,
            scale,
            propagator,
            out,
            ensemble,
            together,
            speed,
            quiet,
        } => reproduce_command(
            figure,
            scale,
            &propagator,
            &out,
            Running {
                ensemble,
                together,
                progress: !quiet,
                run: speed.options(),
            },
        ),
        Command::Plot { dir, reanalyse } => plot(&dir, reanalyse).map(|()| Ended::Complete),
    };
    match result {
        Ok(Ended::Complete) => ExitCode::SUCCESS,
        Ok(Ended::Interrupted) => ExitCode::from(interrupted_status()),
        Err(e) => {
            eprintln!("epm: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Without `XDG_RUNTIME_DIR` (batch jobs, containers) the Vulkan loader prints
/// `error: XDG_RUNTIME_DIR is invalid` whenever a device opens; it is harmless. A private
/// directory silences it, so that real errors stand out.
fn quiet_vulkan_loader() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("epm-xdg-runtime-{}", user_id()));
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

/// The user, for a per-user directory name (the owner of the home directory on Unix).
fn user_id() -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Some(home) = std::env::var_os("HOME")
            && let Ok(meta) = std::fs::metadata(home)
        {
            return meta.uid().to_string();
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "user".into())
}

/// The compute device. (Lavapipe's worker threads are left as Mesa sets them: one thread for
/// lattices of at most 64 a side was faster while a step was ten launches, and is slower since
/// such steps are one launch of the whole-step kernel: book, "Performance".)
fn device() -> Result<epm::cubecl::Device, CliError> {
    epm::device::default_device().map_err(|e| {
        CliError::Usage(format!(
            "no compute device: {e}; on Linux without a GPU install Mesa's software Vulkan driver \
             (apt-get install mesa-vulkan-drivers), see `epm info`"
        ))
    })
}

fn load_config(path: &Path) -> Result<Config, CliError> {
    Config::load(path).map_err(|e| CliError::config(path, e))
}

fn run(
    config_path: &Path,
    out: &Path,
    resume: bool,
    minutes: f64,
    options: epm::RunOptions,
    quiet: bool,
) -> Result<Ended, CliError> {
    let config = load_config(config_path)?;
    if minutes.is_nan() || minutes <= 0.0 {
        return Err(CliError::Usage(format!(
            "--checkpoint-minutes {minutes}: must be > 0"
        )));
    }
    let device = device()?;
    let interrupt = interrupt_flag();
    let resuming = resume && out.join(epm::run::CHECKPOINT).exists();
    let mut run = if resuming {
        Run::resume_with(out, Some(&config), &device, &options)?
    } else {
        if resume {
            eprintln!(
                "epm: {} holds no checkpoint: starting the run",
                out.display()
            );
        }
        Run::start_with(config.clone(), out, &device, &options)?
    };
    epm::output::write_atomic(
        &out.join("config.toml"),
        run.simulation().config().to_toml().as_bytes(),
    )?;
    eprintln!("epm: {}", epm::device::describe(run.simulation().client()));
    eprintln!(
        "epm: execution profile {} ({})",
        run.simulation().profile(),
        run.profile_source()
    );
    let options = DriveOptions {
        checkpoint_every: Duration::from_secs_f64(minutes * 60.0),
        progress: !quiet,
        label: out.display().to_string(),
        run: options,
    };
    Ok(match drive(&mut run, &interrupt, &options)? {
        Outcome::Completed => {
            println!("epm: done: {}", out.display());
            Ended::Complete
        }
        Outcome::Interrupted => {
            println!(
                "epm: interrupted at step {}: checkpoint and outputs written in {}; continue with \
                 `epm run {} --out {} --resume`",
                run.simulation().step(),
                out.display(),
                config_path.display(),
                out.display()
            );
            Ended::Interrupted
        }
    })
}

fn sweep_command(
    path: &Path,
    out: &Path,
    emit_slurm: Option<PathBuf>,
    only: Option<usize>,
    wait_for_twin: u64,
    running: Running,
) -> Result<Ended, CliError> {
    let file = SweepFile::load(path)?;
    let runs = file.runs().map_err(|message| CliError::Config {
        file: path.to_path_buf(),
        message,
    })?;
    if let Some(script) = emit_slurm {
        let epm = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("epm"));
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let text = slurm_script(&absolute(path), &absolute(out), &runs, &epm, &running.run);
        epm::output::write_atomic(&script, text.as_bytes())?;
        println!(
            "epm: SLURM script for {} runs: {} (sbatch {})",
            runs.len(),
            script.display(),
            script.display()
        );
        return Ok(Ended::Complete);
    }
    let selected: Vec<(usize, &epm_cli::sweep::RunSpec)> = match only {
        Some(i) if i < runs.len() => vec![(i, &runs[i])],
        Some(i) => {
            return Err(CliError::Usage(format!(
                "--only {i}: the sweep has {} runs (0 to {})",
                runs.len(),
                runs.len() - 1
            )));
        }
        None => runs.iter().enumerate().collect(),
    };
    std::fs::create_dir_all(out).map_err(|e| CliError::Io {
        path: out.to_path_buf(),
        source: e,
    })?;
    // `--only` (a SLURM task) runs its run alone; otherwise runs share ensembles.
    let specs: Vec<&epm_cli::sweep::RunSpec> = selected.iter().map(|(_, s)| *s).collect();
    let groups: Vec<Vec<&epm_cli::sweep::RunSpec>> = match only {
        Some(_) => specs.iter().map(|s| vec![*s]).collect(),
        None => ensemble_groups(&specs, running.ensemble),
    };
    let device = device()?;
    // Which runs do go together: timed on this device (epm_cli::schedule). Finished runs
    // first, each alone: they are skipped.
    let pending = |s: &&epm_cli::sweep::RunSpec| !Run::is_complete(&out.join(&s.name));
    let groups = if only.is_none() && specs.iter().any(pending) {
        let eta =
            epm_cli::schedule::estimate(&runs, out, running.ensemble, running.together, &device)?;
        eprintln!("{}", eta.line(runs.len(), &device));
        let finished = specs.iter().filter(|s| !pending(s)).map(|s| vec![*s]);
        let chosen = eta
            .groups
            .iter()
            .map(|g| g.iter().map(|&i| &runs[i]).collect());
        finished.chain(chosen).collect()
    } else {
        groups
    };
    let interrupt = interrupt_flag();
    let (mut done, mut skipped) = (0, 0);
    for group in groups {
        let index = runs
            .iter()
            .position(|r| r.name == group[0].name)
            .expect("the group's runs are the sweep's");
        let options = DriveOptions {
            checkpoint_every: Duration::from_secs(600),
            progress: running.progress,
            label: format!("[{}/{}] {}", index + 1, runs.len(), group[0].name),
            run: running.run,
        };
        let finished: Vec<&str> = group
            .iter()
            .filter(|s| Run::is_complete(&out.join(&s.name)))
            .map(|s| s.name.as_str())
            .collect();
        for name in &finished {
            eprintln!("epm: {name} is finished: skipped");
        }
        skipped += finished.len();
        let wait = Duration::from_secs(wait_for_twin);
        match run_group(out, &group, &device, &interrupt, &options, wait)? {
            RunResult::Skipped => {}
            RunResult::Completed => done += group.len() - finished.len(),
            RunResult::Interrupted => {
                println!(
                    "epm: interrupted in {}: run the same command again to resume",
                    group[0].name
                );
                return Ok(Ended::Interrupted);
            }
        }
    }
    println!(
        "epm: sweep in {}: {done} runs done, {skipped} already finished",
        out.display()
    );
    Ok(Ended::Complete)
}

/// `paper`, `literal`, or the keys of a `[propagator]` table separated by commas.
fn propagator_spec(text: &str) -> Result<epm::propagator::PropagatorSpec, CliError> {
    let table = match text {
        "paper" | "literal" => format!("preset = \"{text}\""),
        keys => keys.replace(',', "\n"),
    };
    toml::from_str(&table).map_err(|e| {
        CliError::Usage(format!(
            "--propagator {text}: must be paper, literal or keys of [propagator] ({e})"
        ))
    })
}

fn reproduce_command(
    target: Target,
    scale: Scale,
    propagator: &str,
    out: &Path,
    running: Running,
) -> Result<Ended, CliError> {
    let propagator = propagator_spec(propagator)?;
    let (figures, scale) = match target {
        Target::All => (PaperFigure::ALL.to_vec(), scale),
        Target::Demo => (vec![], Scale::Demo),
        Target::Figure(f) => (vec![f], scale),
    };
    let device = device()?;
    let interrupt = interrupt_flag();
    match reproduce(
        &figures, scale, propagator, out, &device, &interrupt, running,
    )? {
        Some(report) => {
            println!("epm: report: {}", report.display());
            println!("epm: figures: {}", out.join("figures").display());
            Ok(Ended::Complete)
        }
        None => Ok(Ended::Interrupted),
    }
}

fn plot(dir: &Path, reanalyse: bool) -> Result<(), CliError> {
    if reanalyse {
        let runs = if dir.join("manifest.json").exists() {
            vec![dir.to_path_buf()]
        } else {
            load_runs(dir)?.into_iter().map(|r| r.dir).collect()
        };
        for run in runs {
            epm::output::RunDirectory::open(&run)?.reanalyse()?;
        }
    }
    let out = dir.join("figures");
    let files = if dir.join("manifest.json").exists() {
        // One run: its own curves.
        let parent = dir.parent().unwrap_or(Path::new("."));
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let data: Vec<paper::RunData> = load_runs(parent)?
            .into_iter()
            .filter(|r| {
                r.dir
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy() == name)
            })
            .collect();
        if data.is_empty() {
            return Err(CliError::Usage(format!(
                "{}: the run is not finished",
                dir.display()
            )));
        }
        let mut files = draw(
            &[
                PaperFigure::Fig2a,
                PaperFigure::Fig3a,
                PaperFigure::Fig3b,
                PaperFigure::Fig3c,
                PaperFigure::Fig3d,
            ],
            &data,
            &out,
            false,
        )?;
        for (regime, file) in [
            ("ballistic", "sq_ballistic"),
            ("subdiffusive", "sq_crossover"),
            ("diffusive", "sq_diffusive"),
        ] {
            let (f, _) = paper::collapse(&format!("S(q,t), {regime} regime"), data.first(), regime);
            files.extend(figures::save(&f, &out.join(file))?);
        }
        files
    } else {
        let data = load_runs(dir)?;
        if data.is_empty() {
            return Err(CliError::Usage(format!(
                "{} holds no finished run",
                dir.display()
            )));
        }
        let files = draw(&PaperFigure::ALL, &data, &out, true)?;
        let header = format!("Redrawn by `epm plot` from {}.", dir.display());
        let (markdown, json) = report(&data, &header);
        epm::output::write_atomic(&dir.join("report.md"), markdown.as_bytes())?;
        epm::output::write_atomic(&dir.join("report.json"), json.as_bytes())?;
        println!("epm: report: {}", dir.join("report.md").display());
        files
    };
    for f in &files {
        println!("epm: wrote {}", f.display());
    }
    Ok(())
}

/// Lists the devices of the compiled backend and the one a run would use.
fn info() -> Result<(), CliError> {
    println!(
        "epm {} built for backend `{}`",
        env!("CARGO_PKG_VERSION"),
        epm::device::BACKEND
    );
    let all = epm::cubecl::Device::enumerate_all();
    println!("devices this build can use: {}", all.len());
    for d in &all {
        println!("  {d:?}");
    }
    let device = device()?;
    println!("a run would use: {device:?}");
    let client = device.client();
    println!("  {}", epm::device::describe(&client));
    let profile = epm::Profile::default_for(&client)?;
    println!(
        "  execution profile {profile} (adapter's: {}; `--profile` or EPM_PROFILE to choose)",
        epm::Profile::for_client(&client).name
    );
    println!("  {}", profile.to_json());
    Ok(())
}
