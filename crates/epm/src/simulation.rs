//! The simulation: configuration in, fields on the device, steps, observers out.
//!
//! One step of length `dt` (model notes, section 1), in this order:
//! 1. active sites deactivate with probability `dt / tau_res`;
//! 2. inactive sites activate with probability `rate(sigma) dt` and take `s = sign(sigma)`;
//! 3. plastic strain rate `n s eps0 / (2 tau)` (1 to 3: [`crate::activation`], one kernel);
//! 4. `sigma += 2 mu dt G * strain_rate` and
//! 5. the displacement increment `du = dt U * strain_rate`, both from one forward FFT and one
//!    batched inverse FFT ([`crate::propagator`]);
//! 6. every tracer moves by `du` interpolated at its position ([`crate::tracers`]).
//!
//! When no site is active in a step, 4 to 6 change nothing and are skipped. With few active
//! sites, 4 to 6 run in real space without transforms ([`crate::sparse`]). Every
//! `resync_every` steps the stress is recomputed exactly as `sigma_0 + 2 mu G * eps_p` from the
//! integer count of active steps, so rounding in the increments cannot accumulate.

use std::path::Path;
use std::sync::Arc;

use burn::backend::{Dispatch, DispatchTensor};
use burn::tensor::{DType, Device as BurnDevice, Int, Tensor, TensorData};
use cubecl::prelude::*;

use crate::activation::{Activation, Random, Thermal, replica_keys};
use crate::backend::{DynActivation, ModelBackend, ModelFields, Propagation, StepTraffic, Update};
use crate::config::{ActivationConfig, Config};
use crate::count_ring::{self, DENSE, RING};
use crate::driver::{self, Ledger};
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::profile::Profile;
use crate::propagator::{INCREMENT_FIELDS, StepTables};
use crate::sparse::WINDOW;
use crate::tracers::TracerPositions;
use crate::view::View;

pub use crate::checkpoint::{Checkpoint, State};

/// Longest batch of steps run ahead while no site is active (see [`Simulation::advance`]).
const MAX_BATCH: u64 = RING as u64;
/// A thermally activated elastoplastic model on one device.
///
/// ```no_run
/// use epm::{Config, Simulation};
/// let device = epm::device::default_device().expect("a device");
/// let config = Config::from_toml("l = 64\n[activation]\nrule = \"thermal\"\ntemperature = 0.1")?;
/// let mut sim = Simulation::new(config, &device)?;
/// sim.advance(1000, &mut [])?;
/// println!("t = {}, mean stress {}", sim.time(), sim.stress().mean().into_scalar::<f32>());
/// # Ok::<(), epm::SimError>(())
/// ```
pub struct Simulation {
    config: Config,
    device: BurnDevice,
    client: Client,
    rule: Arc<dyn DynActivation>,
    rule_name: String,
    /// The step's plans and launches, under the run's profile.
    propagation: Propagation,
    fields: Option<ModelFields<Dispatch>>,
    tracers: usize,
    /// Steps done, counts handed over, the ring's clearing, a fault found.
    ledger: Ledger,
    /// Active sites at the last step whose count was read.
    last_count: u32,
    /// Length of the next batch of steps run ahead without active sites.
    batch: u64,
    /// The most active sites at a window's start for the sparse update (0: never).
    sparse_limit: u32,
    /// Active sites at the start of the current window (see [`State::window_active`]).
    window_active: u32,
    /// `(window start, active sites after the step before it)` for windows whose count was
    /// read ahead of their start.
    window_counts: Vec<(u64, u32)>,
    /// The last step with events was sparse and its increments are not written yet.
    increments_stale: bool,
}

impl Simulation {
    /// A new run of `config` on `device` (see [`crate::device::default_device`]), with the
    /// activation rule the configuration names. The configuration is checked first.
    pub fn new(config: Config, device: &cubecl::Device) -> Result<Self, SimError> {
        config.validate()?;
        crate::resources::ensure(&config, 1, false, device)?;
        let state = State::initial(&config);
        Self::from_checked_state(config, None, state, device, None)
    }

    /// A new run with a rule of your own instead of `config.activation` (which is then unused).
    pub fn with_rule<A: Activation + Send + Sync + 'static>(
        config: Config,
        rule: A,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        config.validate()?;
        crate::resources::ensure(&config, 1, false, device)?;
        let state = State::initial(&config);
        Self::from_checked_state(config, Some(Arc::new(rule)), state, device, None)
    }

    /// A run that starts from `state` (for example a prepared stress field, or a single
    /// active site). `rule`: `None` for the configuration's.
    pub fn from_state(
        config: Config,
        rule: Option<Arc<dyn DynActivation>>,
        state: State,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        Self::from_state_with_profile(config, rule, state, device, None)
    }

    /// [`Simulation::from_state`] with the execution profile `profile` ([`crate::profile`]);
    /// `None`: [`Profile::default_for`] the device (what the other constructors take).
    pub fn from_state_with_profile(
        config: Config,
        rule: Option<Arc<dyn DynActivation>>,
        state: State,
        device: &cubecl::Device,
        profile: Option<Profile>,
    ) -> Result<Self, SimError> {
        config.validate()?;
        crate::resources::ensure(&config, 1, false, device)?;
        Self::from_checked_state(config, rule, state, device, profile)
    }

    /// [`Simulation::from_state_with_profile`] of a configuration already validated and
    /// found to fit.
    fn from_checked_state(
        config: Config,
        rule: Option<Arc<dyn DynActivation>>,
        state: State,
        device: &cubecl::Device,
        profile: Option<Profile>,
    ) -> Result<Self, SimError> {
        state
            .check(&config)
            .map_err(|reason| SimError::InvalidArgument {
                argument: "state",
                value: format!("step {}", state.step),
                reason,
            })?;
        let rule = rule.unwrap_or_else(|| configured_rule(&config));
        let rule_name = format!("{rule:?}");
        let l = config.l;
        let client = device.client();
        let profile = match profile {
            Some(p) => p,
            None => Profile::default_for(&client)?,
        };
        profile.validate()?;
        let tables = StepTables::new(l, &config.propagator, config.mu, config.dt);
        let sparse_limit =
            profile.sparse_limit(config.sites(), f64::from(rule.rate_cpu(0.0)), config.dt);
        let propagation = Propagation::new(&client, l, 1, &tables, profile, sparse_limit > 0)?;
        let burn_device = BurnDevice::new(device.clone());
        let tracers = state.tracers.len();
        let last_count = state.active.iter().sum::<u32>();
        let mut sim = Self {
            config,
            device: burn_device,
            client,
            rule,
            rule_name,
            propagation,
            fields: None,
            tracers,
            ledger: Ledger::at(state.step),
            last_count,
            batch: 4,
            sparse_limit,
            window_active: state.window_active,
            window_counts: Vec::new(),
            increments_stale: false,
        };
        let (seeds, parameters) = ([sim.config.seed], [sim.rule.parameter()]);
        let fields = upload_replicas(&sim.device, &sim.config, &[state], &seeds, &parameters);
        sim.fields = Some(fields);
        Ok(sim)
    }

    /// Restores a run from a checkpoint written by [`Simulation::checkpoint`], with the rule its
    /// configuration names. It continues bit for bit as the original would on the same backend.
    /// A checkpoint made with another rule (your own) is refused: use
    /// [`Simulation::restore_with_rule`].
    pub fn restore(path: &Path, device: &cubecl::Device) -> Result<Self, SimError> {
        Self::from_checkpoint(Self::read_checkpoint(path)?, None, device)
            .map_err(|e| e.in_checkpoint(path))
    }

    /// [`Simulation::restore`] of a run made with a rule of your own ([`Simulation::with_rule`]):
    /// `rule` must be the one the checkpoint was made with (its `Debug` text is checked).
    pub fn restore_with_rule<A: Activation + Send + Sync + 'static>(
        path: &Path,
        rule: A,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        Self::from_checkpoint(Self::read_checkpoint(path)?, Some(Arc::new(rule)), device)
            .map_err(|e| e.in_checkpoint(path))
    }

    /// A run from a decoded checkpoint, with `rule` (`None`: the configuration's), which must
    /// be the rule the checkpoint was made with.
    pub fn from_checkpoint(
        checkpoint: Checkpoint,
        rule: Option<Arc<dyn DynActivation>>,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        let Checkpoint {
            config,
            rule: saved,
            profile,
            state,
            legacy,
        } = checkpoint;
        let profile = match profile {
            Some(p) => p,
            None => legacy.resolve(&device.client(), None)?,
        };
        let rule = rule.unwrap_or_else(|| configured_rule(&config));
        let name = format!("{rule:?}");
        if name != saved {
            return Err(SimError::Checkpoint {
                path: "<bytes>".into(),
                message: format!(
                    "made with the rule `{saved}`, not `{name}` (restore a run of your own rule with that rule)"
                ),
            });
        }
        Self::from_state_with_profile(config, Some(rule), state, device, Some(profile))
    }

    /// What a checkpoint file holds.
    pub fn read_checkpoint(path: &Path) -> Result<Checkpoint, SimError> {
        let bytes = std::fs::read(path).map_err(|e| SimError::io(path, e))?;
        Self::decode_checkpoint(&bytes).map_err(|e| e.in_checkpoint(path))
    }

    /// What checkpoint bytes ([`Simulation::checkpoint_bytes`]) hold. Their digest is checked
    /// first: damaged or truncated bytes are refused, never restored.
    pub fn decode_checkpoint(bytes: &[u8]) -> Result<Checkpoint, SimError> {
        crate::checkpoint::decode(bytes)
    }

    /// Writes the whole state to `path`, atomically (a temporary file, then a rename): an
    /// interrupted write leaves the previous checkpoint intact.
    pub fn checkpoint(&self, path: &Path) -> Result<(), SimError> {
        crate::output::write_atomic(path, &self.checkpoint_bytes()?)
    }

    /// The whole state as bytes (what [`Simulation::checkpoint`] writes).
    pub fn checkpoint_bytes(&self) -> Result<Vec<u8>, SimError> {
        crate::checkpoint::encode(&self.config, &self.rule_name, self.profile(), self.state()?)
    }

    /// The whole state, read back from the device.
    pub fn state(&self) -> Result<State, SimError> {
        self.view().state()
    }

    /// Waits until the device has done every launch queued so far (what a read-back waits
    /// for), so that what follows takes only its own time.
    pub fn settle(&self) -> Result<(), SimError> {
        crate::pacing::settle(&self.client)
    }

    /// What observers see of this run ([`View`]).
    pub fn view(&self) -> View<'_> {
        View {
            config: &self.config,
            device: &self.device,
            client: &self.client,
            profile: self.propagation.profile(),
            fields: self.fields(),
            replica: 0,
            tracers: self.tracers,
            step: self.ledger.step,
            window_active: self.window_active,
        }
    }

    /// Runs `steps` steps, calling `observers` after each (see [`Observer`]). On return every
    /// step's active-site count has been handed to the observers.
    ///
    /// While no site is active the stress cannot change, so the activation of several steps is
    /// launched at once and their counts read back together; the first step in which a site
    /// activates stops the batch on the device, and the run resumes from there. Batches end
    /// at resynchronisations and count-ring boundaries: the results are the same, bit for bit,
    /// as one step at a time.
    pub fn advance(
        &mut self,
        steps: u64,
        observers: &mut [&mut dyn Observer],
    ) -> Result<(), SimError> {
        if let Some(fault) = self.ledger.failed {
            return Err(fault.error(self.config.l, false));
        }
        let end = self.ledger.step + steps;
        while self.ledger.step < end {
            let step = self.ledger.step;
            let boundary = count_ring::steps_to_boundary(step, end, self.config.resync_every);
            let batch = boundary.min(self.batch);
            if self.last_count == 0 && self.ledger.delivered == step && batch >= 2 {
                self.empty_batch(batch, observers)?;
            } else if self.last_count >= DENSE
                && self.update() == Update::Dense
                && self.propagation.whole_steps()
            {
                // Dense steps whose count the host need not read first: one launch for every
                // step to the next boundary or the next step an observer looks at
                // (`Observer::every`); the kernel stops at a window start whose count chooses
                // the sparse update, and the counts read after the launch say where.
                let steps = crate::observer::steps_to_next_look(
                    step,
                    boundary,
                    observers.iter().map(|o| (o.every(), o.first_look())),
                );
                self.whole_steps(step, steps);
                let ran = if steps > 1 && self.sparse_limit > 0 {
                    self.whole_steps_ran(step, steps, observers)?
                } else {
                    steps
                };
                for _ in 0..ran {
                    self.end_step(true, observers)?;
                }
            } else {
                self.activate(step, None);
                let moved = if self.last_count < DENSE {
                    // Few events: read this step's count and skip the transforms if it is zero.
                    self.collect(step + 1, observers)?;
                    self.last_count > 0
                } else {
                    true
                };
                self.finish_step(moved, observers)?;
            }
            self.propagation.pace(&self.client)?;
        }
        self.collect(self.ledger.step, observers)
    }

    /// The activation (model notes steps 1 to 3) of `step`.
    fn activate(&mut self, step: u64, batch_start: Option<u64>) {
        let params = self.config.step_params(step);
        let slot = (step % RING as u64) as u32;
        let fields = self.take_fields();
        let p = &self.propagation;
        self.fields = Some(self.rule.activate(fields, p, params, slot, batch_start));
    }

    /// `steps` dense steps from `step` in one launch ([`crate::whole_step`]), stopping before a
    /// window start whose count chooses the sparse update ([`Simulation::whole_steps_ran`]).
    fn whole_steps(&mut self, step: u64, steps: u64) {
        let params = self.config.step_params(step);
        let slot = (step % RING as u64) as u32;
        let fields = self.take_fields();
        self.fields = Some(self.rule.whole_steps(
            fields,
            &self.propagation,
            params,
            slot,
            steps as u32,
            self.sparse_limit,
            self.tracers,
        ));
        self.increments_stale = false;
    }

    /// After a launch of `steps` whole steps from `step`: reads their counts and hands over
    /// those of the steps that ran, which end before the first window start `w` in the launch
    /// whose count (of step `w - 1`) is at most the sparse limit, where the kernel stopped.
    /// Returns how many ran. One read-back per launch, where stopping the launch at every
    /// window start took one per window (16 steps).
    fn whole_steps_ran(
        &mut self,
        step: u64,
        steps: u64,
        observers: &mut [&mut dyn Observer],
    ) -> Result<u64, SimError> {
        let first = self.ledger.delivered;
        let counts = self.read_counts(step + steps)?;
        let mut end = step + steps;
        let mut w = (step / WINDOW + 1) * WINDOW;
        while w < end {
            if counts[(w - 1 - first) as usize] <= self.sparse_limit {
                end = w;
            }
            w += WINDOW;
        }
        self.deliver(&counts[..(end - first) as usize], observers)?;
        Ok(end - step)
    }

    /// `batch` steps from a state without active sites, activations only; then the steps
    /// up to the first with an event are finished (see [`Simulation::advance`]).
    fn empty_batch(
        &mut self,
        batch: u64,
        observers: &mut [&mut dyn Observer],
    ) -> Result<(), SimError> {
        let start = self.ledger.step;
        for step in start..start + batch {
            self.activate(step, Some(start));
        }
        let counts = self.read_counts(start + batch)?;
        // Steps after the first event did nothing on the device: they are run again later.
        let ran = counts
            .iter()
            .position(|&c| c > 0)
            .map_or(batch as usize, |e| e + 1);
        self.deliver(&counts[..ran], observers)?;
        let event = ran < batch as usize || counts[ran - 1] > 0;
        self.batch = if event {
            4
        } else {
            (2 * self.batch).min(MAX_BATCH)
        };
        for i in 0..ran {
            self.finish_step(event && i + 1 == ran, observers)?;
        }
        Ok(())
    }

    /// Model notes steps 4 to 6 of the step whose activation is done (skipped when `moved` is
    /// false: nothing was active), the resynchronisation when due, and the observers.
    fn finish_step(
        &mut self,
        moved: bool,
        observers: &mut [&mut dyn Observer],
    ) -> Result<(), SimError> {
        let step = self.ledger.step;
        if moved {
            let update = self.update();
            let fields = self.take_fields();
            let p = &self.propagation;
            let fields = <Dispatch as ModelBackend>::propagate(fields, p, update, step);
            let fields = <Dispatch as ModelBackend>::advect(fields, p, update, self.tracers);
            self.fields = Some(fields);
            self.increments_stale = update == Update::Sparse;
        }
        self.end_step(moved, observers)
    }

    /// The end of a step whose fields are made: the step count, the window's update, the
    /// resynchronisation when due, the observers, the counts at the ring's end.
    fn end_step(
        &mut self,
        moved: bool,
        observers: &mut [&mut dyn Observer],
    ) -> Result<(), SimError> {
        self.ledger.step += 1;
        if self.sparse_limit > 0 && self.ledger.step.is_multiple_of(WINDOW) {
            self.start_window(observers)?;
        }
        let fields = self.take_fields();
        let step = self.ledger.step;
        let fields = driver::resynchronised(fields, &self.propagation, &self.config, step);
        self.fields = Some(fields);
        let info = StepInfo {
            step,
            time: self.time(),
            moved,
        };
        let looked = driver::notify(&mut [observers], |_| self.view(), &info, false)?;
        self.propagation.queued(looked);
        if self.ledger.step.is_multiple_of(RING as u64) {
            self.collect(self.ledger.step, observers)?;
        }
        Ok(())
    }

    /// The update of the current window: sparse when few sites were active at its start.
    fn update(&self) -> Update {
        if self.sparse_limit > 0 && self.window_active <= self.sparse_limit {
            Update::Sparse
        } else {
            Update::Dense
        }
    }

    /// At a window's start (the step count a multiple of [`WINDOW`]): its count, the active
    /// sites after the step before, read back if it was not yet.
    fn start_window(&mut self, observers: &mut [&mut dyn Observer]) -> Result<(), SimError> {
        let start = self.ledger.step;
        if self.ledger.delivered < start {
            self.collect(start, observers)?;
        }
        let (_, count) = self
            .window_counts
            .iter()
            .copied()
            .find(|&(w, _)| w == start)
            .expect("deliver records the count of every window start it passes");
        self.window_counts.retain(|&(w, _)| w > start);
        self.window_active = count;
        Ok(())
    }

    /// Hands the active-site counts of steps up to `upto` (exclusive) to the observers, and
    /// clears the ring once all its slots are read.
    fn collect(&mut self, upto: u64, observers: &mut [&mut dyn Observer]) -> Result<(), SimError> {
        if upto > self.ledger.delivered {
            let counts = self.read_counts(upto)?;
            self.deliver(&counts, observers)?;
        }
        let fields = self.fields.as_mut().expect("fields are present");
        self.ledger.clear_if_due(fields, 1, &self.device, upto);
        Ok(())
    }

    /// The active-site counts of the steps from the first not handed over to `to` (within
    /// one ring), after checking the fault status: a non-finite stress is an error naming its
    /// step.
    fn read_counts(&mut self, to: u64) -> Result<Vec<u32>, SimError> {
        let fields = self.fields.as_ref().expect("fields are present");
        let sites = self.config.sites();
        match self
            .ledger
            .read_counts(fields, &self.propagation, (1, sites), to)?
        {
            Ok(mut counts) => Ok(counts.swap_remove(0)),
            Err(fault) => Err(fault.error(self.config.l, false)),
        }
    }

    /// Hands `counts`, of the steps from the first not handed over on, to the observers.
    fn deliver(
        &mut self,
        counts: &[u32],
        observers: &mut [&mut dyn Observer],
    ) -> Result<(), SimError> {
        let Some(&last) = counts.last() else {
            return Ok(());
        };
        let first = self.ledger.delivered;
        self.ledger.delivered += counts.len() as u64;
        self.last_count = last;
        if self.sparse_limit > 0 {
            // Window starts w in (first, delivered]: the count of step w - 1.
            let mut w = (first / WINDOW + 1) * WINDOW;
            while w <= self.ledger.delivered {
                self.window_counts
                    .push((w, counts[(w - 1 - first) as usize]));
                w += WINDOW;
            }
        }
        let sites = self.config.sites();
        for o in observers.iter_mut() {
            o.on_activity(first, counts, sites)?;
        }
        Ok(())
    }

    fn take_fields(&mut self) -> ModelFields<Dispatch> {
        self.fields
            .take()
            .expect("fields are present between operations")
    }

    fn fields(&self) -> &ModelFields<Dispatch> {
        self.fields
            .as_ref()
            .expect("fields are present between operations")
    }

    /// The configuration of the run.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The rule, as its `Debug` text (what a manifest records).
    pub fn rule_name(&self) -> &str {
        &self.rule_name
    }

    /// The execution profile the run follows ([`crate::profile`]).
    pub fn profile(&self) -> &Profile {
        self.propagation.profile()
    }

    /// The most active sites at a window's start for which steps take the sparse update
    /// ([`crate::sparse`]): the profile's ([`Profile::sparse_limit`]): measured or set by hand,
    /// less what a window activates at zero stress unless set by hand.
    pub fn sparse_max_active(&self) -> u32 {
        self.sparse_limit
    }

    /// Launches and bytes of one step with events through the transforms (the dense update),
    /// with this run's tracers: what the step costs any device, counted.
    pub fn step_traffic(&self) -> StepTraffic {
        self.propagation.dense_step_traffic(self.tracers)
    }

    /// Steps completed.
    pub fn step(&self) -> u64 {
        self.ledger.step
    }

    /// Time `step * dt`, in units of `tau`.
    pub fn time(&self) -> f64 {
        self.ledger.step as f64 * self.config.dt
    }

    /// Number of tracers.
    pub fn tracer_count(&self) -> usize {
        self.tracers
    }

    /// The Burn device the fields live on.
    pub fn device(&self) -> &BurnDevice {
        &self.device
    }

    /// The CubeCL client of the fields (for observers' own kernels).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Active sites at the last step whose count was read back (all steps, after `advance`).
    pub fn active_sites(&self) -> u32 {
        self.last_count
    }

    /// The stress field `sigma`, `[L, L]` (row `y`, column `x`).
    pub fn stress(&self) -> Tensor<2> {
        self.view().stress()
    }

    /// The activity `n` (0 or 1), `[L, L]`.
    pub fn activity(&self) -> Tensor<2, Int> {
        self.view().activity()
    }

    /// The signs of the thresholds of the last activations, `[L, L]`.
    pub fn sign(&self) -> Tensor<2> {
        self.view().sign()
    }

    /// The accumulated plastic strain `eps_p`, `[L, L]`.
    pub fn plastic_strain(&self) -> Tensor<2> {
        self.view().plastic_strain()
    }

    /// The plastic strain rate of the last step, `[L, L]`.
    pub fn strain_rate(&self) -> Tensor<2> {
        self.view().strain_rate()
    }

    /// The displacement increment of the last step that moved, `[2, L, L]` (`du_x`, `du_y`,
    /// lattice spacings). After a sparse step ([`crate::sparse`]) the field is computed here,
    /// from that step's list of active sites.
    pub fn displacement(&mut self) -> Tensor<3> {
        if self.increments_stale {
            let fields = self.take_fields();
            let fields = <Dispatch as ModelBackend>::sparse_increments(fields, &self.propagation);
            self.fields = Some(fields);
            self.increments_stale = false;
        }
        let l = self.config.l;
        let f = self.fields();
        // Fields 1 and 2 of the increments, in row pairs (`increment_index`): the real plane
        // holds the even rows, the imaginary plane the odd ones.
        let rows = |plane| {
            Tensor::<1>::from_dispatch(plane)
                .reshape([INCREMENT_FIELDS, l / 2, 1, l])
                .slice(1..3)
        };
        let (even, odd) = (f.increments_re.clone(), f.increments_im.clone());
        Tensor::cat(vec![rows(even), rows(odd)], 2).reshape([2, l, l])
    }

    /// Tracer cells `[M, 2]` and fractions `[M, 4]` on the device ([`View::tracer_tensors`]).
    pub fn tracer_tensors(&self) -> (Tensor<2, Int>, Tensor<2, Int>) {
        self.view().tracer_tensors()
    }

    /// Tracer positions (unwrapped), read back from the device: only the tracers' buffers.
    pub fn tracer_positions(&self) -> Result<TracerPositions, SimError> {
        self.view().tracer_positions()
    }

    /// Replaces the stress at one site (tests of the fault path; preparing states).
    pub fn set_stress(&mut self, site: usize, value: f32) -> Result<(), SimError> {
        if site >= self.config.sites() {
            return Err(SimError::InvalidArgument {
                argument: "site",
                value: site.to_string(),
                reason: format!("the lattice has {} sites", self.config.sites()),
            });
        }
        let mut stress = read_f32(&self.fields().stress)?;
        stress[site] = value;
        let len = stress.len();
        let t = Tensor::<1>::from_data(TensorData::new(stress, [len]), (&self.device, DType::F32));
        let mut fields = self.take_fields();
        fields.stress = t.into_dispatch();
        self.fields = Some(fields);
        Ok(())
    }
}

/// The device fields of one lattice per state, one after another (the replicas of an
/// ensemble; a single run is one), replica `r` with seed `seeds[r]` and rule parameter
/// `parameters[r]`; `config` gives what the replicas share.
pub(crate) fn upload_replicas(
    d: &BurnDevice,
    config: &Config,
    states: &[State],
    seeds: &[u64],
    parameters: &[f32],
) -> ModelFields<Dispatch> {
    let amplitude = config.strain_rate_amplitude() as f32;
    let float = |v: Vec<f32>| {
        let len = v.len();
        Tensor::<1>::from_data(TensorData::new(v, [len]), (d, DType::F32)).into_dispatch()
    };
    let int = |v: Vec<i32>| {
        let len = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [len]), (d, DType::I32)).into_dispatch()
    };
    let bits = |v: &[u32]| v.iter().map(|&x| x as i32).collect::<Vec<_>>();
    let all = |part: &dyn Fn(&State) -> Vec<f32>| states.iter().flat_map(part).collect::<Vec<_>>();
    let all_int =
        |part: &dyn Fn(&State) -> Vec<i32>| states.iter().flat_map(part).collect::<Vec<_>>();
    let n = config.sites() * states.len();
    // One dummy tracer per replica keeps the buffers non-empty when there are none.
    let tracers = states[0].tracers.len();
    let (cells, fractions) = if tracers == 0 {
        (vec![0; 2 * states.len()], vec![0; 4 * states.len()])
    } else {
        (
            all_int(&|s| s.tracers.cells.clone()),
            all_int(&|s| bits(&s.tracers.fraction_words())),
        )
    };
    ModelFields {
        stress: float(all(&|s| s.stress.clone())),
        initial_stress: float(all(&|s| s.initial_stress.clone())),
        active: int(all_int(&|s| bits(&s.active))),
        sign: float(all(&|s| s.sign.clone())),
        plastic: int(all_int(&|s| s.plastic.clone())),
        // Consistent with the activity and signs, as the activation kernel expects.
        strain_rate: float(all(&|s| {
            s.active
                .iter()
                .zip(&s.sign)
                .map(|(&a, &sign)| a as f32 * sign * amplitude)
                .collect()
        })),
        increments_re: float(vec![0.0; crate::launch::increments_len(n, 1)]),
        increments_im: float(vec![0.0; crate::launch::increments_len(n, 1)]),
        tracer_cells: int(cells),
        tracer_fractions: int(fractions),
        active_count: int(vec![0; count_ring::words(states.len())]),
        status: int(vec![-1, 0]),
        event: int(vec![0]),
        keys: int(bits(&replica_keys(seeds))),
        parameters: float(parameters.to_vec()),
    }
}

pub(crate) fn configured_rule(config: &Config) -> Arc<dyn DynActivation> {
    match config.activation {
        ActivationConfig::Thermal { temperature } => Arc::new(Thermal {
            temperature: temperature as f32,
            gamma0: config.gamma0 as f32,
            sigma_y: config.sigma_y as f32,
        }),
        ActivationConfig::Random { activity } => {
            Arc::new(Random::with_activity(activity, config.tau_res))
        }
    }
}

fn read_f32(t: &DispatchTensor) -> Result<Vec<f32>, SimError> {
    crate::view::read_f32(Tensor::<1>::from_dispatch(t.clone()))
}
