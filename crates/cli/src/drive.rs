//! Driving one run (or the runs of one ensemble) to its end: chunks of steps, a progress bar, periodic checkpoints, and a
//! clean stop on SIGINT or SIGTERM (checkpoint and outputs written, nothing lost).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use epm::SimError;
use epm::run::{EnsembleRun, Run};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How a drive ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The run reached its planned length; outputs written.
    Completed,
    /// A signal stopped it; checkpoint and outputs written.
    Interrupted,
}

/// The signal that stopped the command (0: none yet).
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// Set while checkpoints and outputs are being written after the device finished its work:
/// the stop bound waits for it, so that the files of one moment are written together.
static WRITING: AtomicBool = AtomicBool::new(false);

/// Seconds from a stop signal to the exit, whatever the device is doing: after it `epm` exits
/// with the signal's status, its last checkpoint intact, even when the work queued on the
/// device has not finished (the time to write files once it has comes on top). A SLURM task
/// gets SIGTERM 300 s before its time limit ([`crate::sweep::SLURM_STOP_LEAD_SECONDS`]).
pub const STOP_BOUND_SECONDS: u64 = 60;

/// Set by SIGINT or SIGTERM. A second signal while it is set ends the process at once, with
/// the exit status of that signal; without one, the process ends [`STOP_BOUND_SECONDS`] after
/// the first unless it has finished by then.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // The second signal exits without waiting; the first sets the flag and says which.
            let status = 128 + signal;
            let _ = signal_hook::flag::register_conditional_shutdown(signal, status, flag.clone());
            let _ = signal_hook::flag::register_usize(signal, &SIGNAL, signal as usize);
            let _ = signal_hook::flag::register(signal, flag.clone());
        }
        let watched = flag.clone();
        let bound = stop_bound();
        let _ = std::thread::Builder::new()
            .name("epm-stop-bound".into())
            .spawn(move || stop_bound_watch(&watched, bound));
        flag
    })
    .clone()
}

/// [`STOP_BOUND_SECONDS`], or `EPM_STOP_SECONDS` where set (tests use a short one).
fn stop_bound() -> Duration {
    let seconds = std::env::var("EPM_STOP_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(STOP_BOUND_SECONDS as f64);
    Duration::from_secs_f64(seconds)
}

/// Waits for the first signal, then for `bound`, then ends the process unless it is writing
/// its files (then it waits for them: a half-written set of replicas' checkpoints would not
/// resume together).
fn stop_bound_watch(flag: &AtomicBool, bound: Duration) {
    let tick = Duration::from_millis(50);
    while !flag.load(Ordering::SeqCst) {
        std::thread::sleep(tick);
    }
    std::thread::sleep(bound);
    while WRITING.load(Ordering::SeqCst) {
        std::thread::sleep(tick);
    }
    eprintln!(
        "epm: the device did not finish its queued work within {:.0} s of the signal; \
         stopping with the last checkpoint kept (run the same command again to continue)",
        bound.as_secs_f64()
    );
    std::process::exit(i32::from(interrupted_status()));
}

/// Writes the checkpoint(s) and outputs of `run`: first the wait for the device, which the
/// stop bound may cut short, then the writes, which it may not (they are written whole).
fn save(run: &mut impl Driven) -> Result<(), SimError> {
    run.settle()?;
    WRITING.store(true, Ordering::SeqCst);
    let written = run.checkpoint().and_then(|()| run.write_outputs());
    WRITING.store(false, Ordering::SeqCst);
    written
}

/// The exit status of a command that a signal stopped after it wrote everything: `128 +` the
/// signal, as a shell reports a process the signal ended (130 for SIGINT, 143 for SIGTERM),
/// so that a batch system sees the run as interrupted, not completed.
pub fn interrupted_status() -> u8 {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => 130,
        s => (128 + s).min(255) as u8,
    }
}

/// Options of [`drive`].
#[derive(Debug, Clone)]
pub struct DriveOptions {
    /// Wall time between checkpoints (and output refreshes).
    pub checkpoint_every: Duration,
    /// Show a progress bar (on stderr).
    pub progress: bool,
    /// Text before the bar (`[2/10] T0.1_thermal_seed1`).
    pub label: String,
    /// The run options runs start (or resume) with: the execution profile and the choices
    /// set by hand.
    pub run: epm::RunOptions,
}

/// What [`drive`] runs to its end: a run, or the runs of an ensemble.
pub trait Driven {
    /// Planned steps.
    fn total(&self) -> u64;
    /// Steps done.
    fn step(&self) -> u64;
    /// Steps still to do.
    fn remaining(&self) -> u64;
    /// Runs `steps` more steps with the measurements.
    fn advance(&mut self, steps: u64) -> Result<(), SimError>;
    /// Waits until the device has done the work queued so far.
    fn settle(&self) -> Result<(), SimError>;
    /// Writes the checkpoint(s).
    fn checkpoint(&self) -> Result<(), SimError>;
    /// Writes the manifest(s) and tables.
    fn write_outputs(&mut self) -> Result<(), SimError>;
    /// A short status for the progress bar.
    fn status(&self) -> String;
}

impl Driven for Run {
    fn total(&self) -> u64 {
        self.simulation().config().steps
    }
    fn step(&self) -> u64 {
        self.simulation().step()
    }
    fn remaining(&self) -> u64 {
        Run::remaining(self)
    }
    fn advance(&mut self, steps: u64) -> Result<(), SimError> {
        Run::advance(self, steps)
    }
    fn settle(&self) -> Result<(), SimError> {
        self.simulation().settle()
    }
    fn checkpoint(&self) -> Result<(), SimError> {
        Run::checkpoint(self)
    }
    fn write_outputs(&mut self) -> Result<(), SimError> {
        Run::write_outputs(self).map(|_| ())
    }
    fn status(&self) -> String {
        let sim = self.simulation();
        let sites = sim.config().sites() as f64;
        format!(
            "t = {:.0}, a = {:.4}",
            sim.time(),
            sim.active_sites() as f64 / sites
        )
    }
}

impl Driven for EnsembleRun {
    fn total(&self) -> u64 {
        self.ensemble().config(0).steps
    }
    fn step(&self) -> u64 {
        self.ensemble().step()
    }
    fn remaining(&self) -> u64 {
        EnsembleRun::remaining(self)
    }
    fn advance(&mut self, steps: u64) -> Result<(), SimError> {
        EnsembleRun::advance(self, steps)
    }
    fn settle(&self) -> Result<(), SimError> {
        self.ensemble().settle()
    }
    fn checkpoint(&self) -> Result<(), SimError> {
        EnsembleRun::checkpoint(self)
    }
    fn write_outputs(&mut self) -> Result<(), SimError> {
        EnsembleRun::write_outputs(self).map(|_| ())
    }
    fn status(&self) -> String {
        let e = self.ensemble();
        let sites = e.config(0).sites() as f64;
        let mean =
            e.active_sites().iter().map(|&a| a as f64).sum::<f64>() / (sites * e.replicas() as f64);
        format!(
            "t = {:.0}, mean a = {mean:.4} over {} replicas",
            e.time(),
            e.replicas()
        )
    }
}

/// Runs `run` (a run or an ensemble of runs) to its end, or until `interrupt` is set.
pub fn drive(
    run: &mut impl Driven,
    interrupt: &AtomicBool,
    options: &DriveOptions,
) -> Result<Outcome, SimError> {
    let total = run.total();
    let bar = if options.progress {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4))
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} steps, {per_sec}, ETA {eta} {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(options.label.clone());
    bar.set_position(run.step());
    bar.reset_eta();
    let mut chunk = 16u64;
    let mut last_checkpoint = Instant::now();
    while run.remaining() > 0 {
        if interrupt.load(Ordering::SeqCst) {
            bar.abandon_with_message("interrupted: writing the checkpoint and the outputs");
            save(run)?;
            return Ok(Outcome::Interrupted);
        }
        let start = Instant::now();
        run.advance(chunk)?;
        // Chunks of about a quarter of a second: responsive to signals, little overhead.
        let seconds = start.elapsed().as_secs_f64().max(1e-6);
        chunk = ((chunk as f64 * 0.25 / seconds) as u64).clamp(1, 100_000);
        bar.set_position(run.step());
        bar.set_message(run.status());
        if last_checkpoint.elapsed() >= options.checkpoint_every && run.remaining() > 0 {
            save(run)?;
            last_checkpoint = Instant::now();
        }
    }
    save(run)?;
    bar.finish_with_message("done");
    Ok(Outcome::Completed)
}
