//! Sweeps: a grid of temperatures, seeds and models run one after another on this machine
//! (`epm sweep`), one directory per run, or as a SLURM job array (`--emit-slurm`).
//!
//! ```toml
//! [base]                  # any key of a run's configuration
//! l = 64
//! steps = 20000
//! [base.observables]
//! warm_up = 2000
//!
//! [sweep]
//! temperatures = [0.05, 0.07, 0.1]
//! seeds = [1, 2]
//! models = ["thermal", "random"]
//! # The random model's activity at each temperature: "measured" (its thermal twin's, same
//! # temperature and seed), "arrhenius" (the paper's 3.1 exp(-0.48 / T)), or a list.
//! random_activity = "measured"
//! ```
//!
//! A run is `DIR/T<T>_<model>_seed<seed>/`. A finished run (its manifest says `completed`) is
//! skipped; one with a checkpoint is resumed; others start. So a killed sweep resumes.
//!
//! Runs of one model that differ only in temperature (or activity) and seed run together as
//! the replicas of an ensemble ([`epm::Ensemble`], at most `--ensemble` each; random twins
//! after their thermal twins), each still in its own directory with its own checkpoint: a
//! replica of an ensemble is, bit for bit, its single run with a sparse limit of 0
//! (`--sparse-max-active 0`), which its checkpoint's profile records.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use epm::run::{EnsembleRun, Run};
use epm::{ActivationConfig, Config, SimError};
use serde::{Deserialize, Serialize};

use crate::drive::{DriveOptions, Outcome, drive};
use crate::error::CliError;
use crate::model::Model;

/// The activity of the random model at each temperature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RandomActivity {
    /// `"measured"` or `"arrhenius"`.
    Named(String),
    /// One activity per temperature, in order.
    List(Vec<f64>),
}

impl Default for RandomActivity {
    fn default() -> Self {
        RandomActivity::Named("measured".into())
    }
}

/// The `[sweep]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Axes {
    /// Temperatures.
    pub temperatures: Vec<f64>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// `"thermal"` and/or `"random"`.
    pub models: Vec<Model>,
    /// The random model's activity.
    pub random_activity: RandomActivity,
}

impl Default for Axes {
    fn default() -> Self {
        Self {
            temperatures: vec![],
            seeds: vec![0],
            models: vec![Model::Thermal],
            random_activity: RandomActivity::default(),
        }
    }
}

/// A sweep file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// The configuration every run starts from.
    #[serde(default)]
    pub base: Config,
    /// The grid.
    pub sweep: Axes,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Directory name, `T<T>_<model>_seed<seed>`.
    pub name: String,
    /// Temperature (for the random model: its thermal twin's).
    pub temperature: f64,
    /// Seed.
    pub seed: u64,
    /// Model.
    pub model: Model,
    /// The configuration; for a random run with a measured activity, its activation is
    /// settled when the twin has finished.
    pub config: Config,
    /// For a random run with a measured activity: its thermal twin's name.
    pub twin: Option<String>,
}

/// The name of a run.
pub fn run_name(temperature: f64, model: Model, seed: u64) -> String {
    format!("T{temperature}_{model}_seed{seed}")
}

impl SweepFile {
    /// Reads and checks a sweep file; errors name the file and the key.
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| CliError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let file: SweepFile = toml::from_str(&text).map_err(|e| CliError::Config {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        file.runs().map_err(|message| CliError::Config {
            file: path.to_path_buf(),
            message,
        })?;
        Ok(file)
    }

    /// Every run, thermal ones first (random twins may need their activity).
    pub fn runs(&self) -> Result<Vec<RunSpec>, String> {
        let a = &self.sweep;
        if a.temperatures.is_empty() {
            return Err("`sweep.temperatures` is empty: list at least one".into());
        }
        if a.seeds.is_empty() {
            return Err("`sweep.seeds` is empty: list at least one".into());
        }
        if let RandomActivity::Named(n) = &a.random_activity
            && n != "measured"
            && n != "arrhenius"
        {
            return Err(format!(
                "`sweep.random_activity` = \"{n}\": must be \"measured\", \"arrhenius\" or a list of activities"
            ));
        }
        if let RandomActivity::List(l) = &a.random_activity
            && l.len() != a.temperatures.len()
        {
            return Err(format!(
                "`sweep.random_activity` has {} activities for {} temperatures",
                l.len(),
                a.temperatures.len()
            ));
        }
        let mut runs = vec![];
        for model in [Model::Thermal, Model::Random] {
            if !a.models.contains(&model) {
                continue;
            }
            for (i, &t) in a.temperatures.iter().enumerate() {
                for &seed in &a.seeds {
                    let mut config = self.base.clone();
                    config.seed = seed;
                    let mut twin = None;
                    config.activation = match model {
                        Model::Thermal => ActivationConfig::Thermal { temperature: t },
                        Model::Random => {
                            let activity = match &a.random_activity {
                                RandomActivity::List(l) => l[i],
                                RandomActivity::Named(n) if n == "arrhenius" => {
                                    crate::paper::values::activity(t)
                                }
                                _ => {
                                    twin = Some(run_name(t, Model::Thermal, seed));
                                    // Settled from the twin before the run starts.
                                    crate::paper::values::activity(t).min(0.5)
                                }
                            };
                            ActivationConfig::Random { activity }
                        }
                    };
                    config.validate().map_err(|e| {
                        format!("the run at T = {t}, seed {seed}: {e} (from `base` or `sweep`)")
                    })?;
                    runs.push(RunSpec {
                        name: run_name(t, model, seed),
                        temperature: t,
                        seed,
                        model,
                        config,
                        twin,
                    });
                }
            }
        }
        Ok(runs)
    }
}

/// The mean activity a finished run measured.
pub fn measured_activity(dir: &Path) -> Result<f64, CliError> {
    let manifest = epm::output::RunDirectory::open(dir)
        .and_then(|d| d.manifest())
        .map_err(CliError::Sim)?;
    manifest
        .quantity("mean_activity")
        .map(|q| q.value)
        .filter(|a| *a > 0.0 && *a < 1.0)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "{} has no mean activity in (0, 1): is its activity observer on?",
                dir.display()
            ))
        })
}

/// What [`run_one`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    /// Already finished: skipped.
    Skipped,
    /// Ran (or resumed) to its end.
    Completed,
    /// Stopped by a signal.
    Interrupted,
}

/// The configuration `spec` runs with: for a random twin with a measured activity, its
/// thermal twin's activity, waiting up to `wait_for_twin` for the twin to finish (cluster jobs
/// run in any order).
fn resolved_config(
    dir: &Path,
    spec: &RunSpec,
    wait_for_twin: Duration,
) -> Result<Config, CliError> {
    let mut config = spec.config.clone();
    if let Some(twin) = &spec.twin {
        let twin_dir = dir.join(twin);
        let start = std::time::Instant::now();
        while !Run::is_complete(&twin_dir) {
            if start.elapsed() >= wait_for_twin {
                return Err(CliError::Usage(format!(
                    "{} takes the activity of {}, which has not finished: run it first",
                    spec.name,
                    twin_dir.display()
                )));
            }
            std::thread::sleep(Duration::from_secs(2).min(wait_for_twin));
        }
        let activity = match measured_activity(&twin_dir) {
            Ok(a) => a,
            Err(e) => {
                // A twin too short to see an event: the paper's law stands in, said aloud.
                let a = crate::paper::values::activity(spec.temperature).min(0.5);
                eprintln!(
                    "epm: {e}; {} takes the paper's 3.1 exp(-0.48/T) = {a:.3e}",
                    spec.name
                );
                a
            }
        };
        config.activation = ActivationConfig::Random { activity };
    }
    Ok(config)
}

/// Runs (or resumes, or skips) one run of a sweep in `dir/spec.name`. A random run with a
/// measured activity waits up to `wait_for_twin` for its thermal twin to finish (cluster
/// jobs run in any order).
pub fn run_one(
    dir: &Path,
    spec: &RunSpec,
    device: &epm::cubecl::Device,
    interrupt: &AtomicBool,
    options: &DriveOptions,
    wait_for_twin: Duration,
) -> Result<RunResult, CliError> {
    let out = dir.join(&spec.name);
    if Run::is_complete(&out) {
        return Ok(RunResult::Skipped);
    }
    let config = resolved_config(dir, spec, wait_for_twin)?;
    let mut run = if out.join(epm::run::CHECKPOINT).exists() {
        Run::resume_with(&out, Some(&config), device, &options.run)?
    } else {
        Run::start_with(config.clone(), &out, device, &options.run)?
    };
    if spec.model == Model::Random {
        run.set_twin_temperature(Some(spec.temperature));
    }
    // The configuration beside the outputs, for a look or a rerun by hand.
    epm::output::write_atomic(&out.join("config.toml"), config.to_toml().as_bytes())?;
    Ok(match drive(&mut run, interrupt, options)? {
        Outcome::Completed => RunResult::Completed,
        Outcome::Interrupted => RunResult::Interrupted,
    })
}

/// The runs of `specs` in ensembles: consecutive runs of one model whose configurations differ
/// only in what replicas may ([`epm::ensemble::REPLICA_KEYS`]), at most `max` together (1:
/// every run alone).
pub fn ensemble_groups<'a>(specs: &[&'a RunSpec], max: usize) -> Vec<Vec<&'a RunSpec>> {
    let mut groups: Vec<Vec<&RunSpec>> = vec![];
    for &spec in specs {
        let joins = groups.last().is_some_and(|g| {
            let first = g[0];
            g.len() < max.max(1)
                && first.model == spec.model
                && epm::ensemble::replica_configs(vec![first.config.clone(), spec.config.clone()])
                    .is_ok()
        });
        match groups.last_mut() {
            Some(g) if joins => g.push(spec),
            _ => groups.push(vec![spec]),
        }
    }
    groups
}

/// Runs (or resumes, or skips) the runs of `group` ([`ensemble_groups`]) as one ensemble: the
/// unfinished ones that start together, and those whose checkpoints are at one step together
/// (a sweep killed while it wrote its checkpoints may have left them at two). A lone run, and
/// one whose checkpoint a single run wrote, runs as [`run_one`] does.
pub fn run_group(
    dir: &Path,
    group: &[&RunSpec],
    device: &epm::cubecl::Device,
    interrupt: &AtomicBool,
    options: &DriveOptions,
    wait_for_twin: Duration,
) -> Result<RunResult, CliError> {
    let pending: Vec<&RunSpec> = group
        .iter()
        .copied()
        .filter(|s| !Run::is_complete(&dir.join(&s.name)))
        .collect();
    match pending.len() {
        0 => return Ok(RunResult::Skipped),
        1 => return run_one(dir, pending[0], device, interrupt, options, wait_for_twin),
        _ => {}
    }
    // Partitions by the step of their checkpoints (none: a new start). A single run's
    // checkpoint (not made in an ensemble) resumes alone, so that it goes on exactly.
    let mut parts: Vec<(Option<u64>, Vec<&RunSpec>)> = vec![];
    let mut alone = vec![];
    for spec in pending {
        let step = match epm::run::saved_checkpoint(&dir.join(&spec.name))? {
            None => None,
            Some(c) if c.dense_only() => Some(c.state.step),
            Some(_) => {
                alone.push(spec);
                continue;
            }
        };
        match parts.iter_mut().find(|(s, _)| *s == step) {
            Some((_, specs)) => specs.push(spec),
            None => parts.push((step, vec![spec])),
        }
    }
    for spec in alone {
        if run_one(dir, spec, device, interrupt, options, wait_for_twin)? == RunResult::Interrupted
        {
            return Ok(RunResult::Interrupted);
        }
    }
    for (step, specs) in parts {
        let configs = specs
            .iter()
            .map(|s| resolved_config(dir, s, wait_for_twin))
            .collect::<Result<Vec<_>, _>>()?;
        let dirs: Vec<std::path::PathBuf> = specs.iter().map(|s| dir.join(&s.name)).collect();
        let dirs: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
        let mut run = match step {
            Some(_) => EnsembleRun::resume_with(&dirs, Some(&configs), device, &options.run)?,
            None => EnsembleRun::start_with(configs, &dirs, device, &options.run)?,
        };
        for (r, spec) in specs.iter().enumerate() {
            if spec.model == Model::Random {
                run.set_twin_temperature(r, Some(spec.temperature));
            }
            // The replica's configuration, for a look or a rerun by hand (as a single run).
            let toml = run.ensemble().config(r).to_toml();
            epm::output::write_atomic(&dirs[r].join("config.toml"), toml.as_bytes())?;
        }
        let options = DriveOptions {
            label: format!("{} (ensemble of {})", options.label, specs.len()),
            ..options.clone()
        };
        if drive(&mut run, interrupt, &options)? == Outcome::Interrupted {
            return Ok(RunResult::Interrupted);
        }
    }
    Ok(RunResult::Completed)
}

/// Seconds before the time limit at which SLURM asks a task to stop (SIGTERM): time to finish
/// the chunk of steps in flight and write the checkpoint and outputs.
pub const SLURM_STOP_LEAD_SECONDS: u32 = 300;

/// The SLURM job-array script of a sweep: one array task per run, each running
/// `epm sweep SWEEP --out DIR --only <task>`, which resumes its run from its checkpoint when
/// there is one. SLURM sends SIGTERM [`SLURM_STOP_LEAD_SECONDS`] before the time limit
/// (`--signal=B:TERM@...`; `exec` makes `epm` the batch shell that receives it) and requeues
/// a preempted task (`--requeue`); a task stopped so exits 143 after writing everything.
pub fn slurm_script(
    sweep_file: &Path,
    dir: &Path,
    runs: &[RunSpec],
    epm: &Path,
    options: &epm::RunOptions,
) -> String {
    let mut s = String::new();
    s += "#!/usr/bin/env bash\n";
    s += &format!(
        "#SBATCH --job-name=epm-sweep\n#SBATCH --array=0-{}\n",
        runs.len() - 1
    );
    s += "#SBATCH --output=epm-sweep-%A_%a.out\n";
    s += "#SBATCH --open-mode=append\n";
    s += "#SBATCH --requeue\n";
    s += &format!("#SBATCH --signal=B:TERM@{SLURM_STOP_LEAD_SECONDS}\n");
    s += "# One task per run; random runs with a measured activity wait for their thermal twin.\n";
    s += "# A task stopped by SIGTERM (time limit, preemption, scancel --signal=TERM --batch)\n";
    s += "# writes its checkpoint and exits 143; run again (sbatch, or scontrol requeue), it resumes.\n";
    s += "# Tasks:\n";
    for (i, r) in runs.iter().enumerate() {
        s += &format!("#   {i}: {}\n", r.name);
    }
    s += "set -euo pipefail\n";
    s += &format!(
        "exec {} sweep {} --out {} --only \"$SLURM_ARRAY_TASK_ID\" --wait-for-twin 172800{} --quiet\n",
        shell_quote(&epm.display().to_string()),
        shell_quote(&sweep_file.display().to_string()),
        shell_quote(&dir.display().to_string()),
        run_flags(options)
    );
    s
}

/// The command-line flags that ask for `options` (each with a space before it).
pub fn run_flags(options: &epm::RunOptions) -> String {
    let mut s = String::new();
    if let Some(p) = options.profile {
        s += &format!(" --profile {p}");
    }
    if let Some(k) = options.sparse_max_active {
        s += &format!(" --sparse-max-active {k}");
    }
    s
}

/// `s` quoted for bash.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl From<SimError> for CliError {
    fn from(e: SimError) -> Self {
        CliError::Sim(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_names_say_temperature_model_and_seed() {
        assert_eq!(run_name(0.07, Model::Random, 3), "T0.07_random_seed3");
    }

    #[test]
    fn an_unknown_model_is_an_error_naming_it() {
        let e = toml::from_str::<SweepFile>(
            "[sweep]\ntemperatures = [0.1]\nmodels = [\"thermal\", \"athermal\"]",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("athermal") && e.contains("models"), "{e}");
    }
}
