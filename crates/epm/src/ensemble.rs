//! Ensembles: `B` replicas of one lattice advanced together, every kernel of the step launched
//! once for all of them.
//!
//! The replicas may differ in their seed and their rule's parameter (the temperature of the
//! thermal rule, the activity of the random one; a rule of your own names its parameter,
//! [`crate::Activation::parameter`]), and in what only their observers read (`steps`,
//! `[observables]`, `[output]`): nothing that changes the dynamics. Their fields lie one after another in the
//! same tensors (`B L^2` sites, `B M` tracers), and:
//! - the activation draws with each replica's key and reads its parameter
//!   ([`crate::activation::activation_step()`]);
//! - one forward transform of batch `B` and one filtered inverse of batch `3 B` (half-size
//!   fields in row pairs) make every replica's increments and stress update
//!   ([`epm_fft::Fft2d::inverse_filtered_rows`]);
//! - the advection moves each replica's tracers by its own increments; the resynchronisation
//!   runs on the batch.
//!
//! Replica `r` makes, bit for bit, the run a single [`Simulation`] makes with its
//! configuration and seed and a sparse limit of 0 ([`crate::Profile::with_sparse_max_active`]):
//! an ensemble always takes the dense update (a replica's step without events adds zeros; a
//! single run skips it, which changes nothing), so its profile, which each replica's checkpoint
//! records, has that limit. Its checkpoint ([`Ensemble::replica_checkpoint_bytes`]) is a
//! single run's.

use std::path::Path;
use std::sync::Arc;

use burn::backend::Dispatch;
use burn::tensor::{DType, Device as BurnDevice, Tensor, TensorData};
use cubecl::prelude::*;
use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::backend::{DynActivation, ModelBackend, ModelFields, Propagation, StepTraffic, Update};
use crate::config::Config;
use crate::count_ring::{self, DENSE, RING};
use crate::driver::{self, Ledger};
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::profile::{Profile, SparseLimit};
use crate::propagator::StepTables;
use crate::run::differing_keys;
use crate::simulation::{Checkpoint, Simulation, State, configured_rule, upload_replicas};
use crate::view::View;

/// The keys in which the replicas of one ensemble may differ: the seed, the rule's parameter,
/// and (prefixes ending in `.`, and `steps`) what only the replica's observers and its run read.
pub const REPLICA_KEYS: [&str; 6] = [
    "seed",
    "activation.temperature",
    "activation.activity",
    "steps",
    "observables.",
    "output.",
];

/// Whether replicas may differ in `key` ([`REPLICA_KEYS`]).
fn replica_key(key: &str) -> bool {
    REPLICA_KEYS
        .iter()
        .any(|k| key == *k || (k.ends_with('.') && key.starts_with(k)))
}
/// Ensemble checkpoint format: 2 ends with a digest ([`crate::sealed`]); 1 is still read.
const FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
struct EnsembleFile {
    format: u32,
    /// Each replica's single-run checkpoint bytes.
    replicas: Vec<Vec<u8>>,
}

/// Replicas of one lattice on one device, advanced by one launch per kernel.
///
/// ```no_run
/// use epm::{ActivationConfig, Config, Ensemble};
/// let device = epm::device::default_device().expect("a device");
/// let configs: Vec<Config> = [0.05, 0.1, 0.2]
///     .map(|temperature| Config {
///         l: 64,
///         activation: ActivationConfig::Thermal { temperature },
///         ..Config::default()
///     })
///     .into();
/// let mut ensemble = Ensemble::new(configs, &device)?;
/// ensemble.advance(1000, &mut [vec![], vec![], vec![]])?;
/// println!("active sites: {:?}", ensemble.active_sites());
/// # Ok::<(), epm::SimError>(())
/// ```
pub struct Ensemble {
    configs: Vec<Config>,
    /// Each replica's rule; the launch takes replica 0's, the others differ from it in their
    /// parameter only.
    rules: Vec<Arc<dyn DynActivation>>,
    rule_names: Vec<String>,
    cube_device: cubecl::Device,
    device: BurnDevice,
    client: Client,
    propagation: Propagation,
    fields: Option<ModelFields<Dispatch>>,
    /// Tracers per replica.
    tracers: usize,
    /// Steps done, counts handed over, the ring's clearing, a fault found.
    ledger: Ledger,
    /// Active sites of each replica at the last step whose counts were read.
    last_counts: Vec<u32>,
}

impl Ensemble {
    /// Replicas of `configs`, each with the rule its configuration names. The configurations
    /// may differ only in [`REPLICA_KEYS`]; `sparse_max_active` must be absent or 0. (`steps`
    /// is not the ensemble's business: [`Ensemble::advance`] says how far to go.)
    pub fn new(configs: Vec<Config>, device: &cubecl::Device) -> Result<Self, SimError> {
        let configs = replica_configs(configs)?;
        crate::resources::ensure(&configs[0], configs.len(), false, device)?;
        let states = configs.iter().map(State::initial).collect();
        Self::from_checked_states(configs, None, states, device, None)
    }

    /// Replicas with rules of your own (one per configuration, which differ only in their
    /// [`Activation::parameter`]) instead of the configurations' `activation`.
    pub fn with_rules<A: Activation + Send + Sync + 'static>(
        configs: Vec<Config>,
        rules: Vec<A>,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        let configs = replica_configs(configs)?;
        crate::resources::ensure(&configs[0], configs.len(), false, device)?;
        let states = configs.iter().map(State::initial).collect();
        let rules = rules
            .into_iter()
            .map(|r| Arc::new(r) as Arc<dyn DynActivation>)
            .collect();
        Self::from_checked_states(configs, Some(rules), states, device, None)
    }

    /// Replicas that start from `states` (one per configuration); `rules`: `None` for the
    /// configurations'.
    pub fn from_states(
        configs: Vec<Config>,
        rules: Option<Vec<Arc<dyn DynActivation>>>,
        states: Vec<State>,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        Self::from_states_with_profile(configs, rules, states, device, None)
    }

    /// [`Ensemble::from_states`] with the execution profile `profile` ([`crate::profile`]);
    /// `None`: [`Profile::default_for`] the device (what the other constructors take).
    pub fn from_states_with_profile(
        configs: Vec<Config>,
        rules: Option<Vec<Arc<dyn DynActivation>>>,
        states: Vec<State>,
        device: &cubecl::Device,
        profile: Option<Profile>,
    ) -> Result<Self, SimError> {
        let configs = replica_configs(configs)?;
        crate::resources::ensure(&configs[0], configs.len(), false, device)?;
        Self::from_checked_states(configs, rules, states, device, profile)
    }

    /// [`Ensemble::from_states_with_profile`] of configurations already checked as replicas
    /// ([`replica_configs`]) and found to fit.
    fn from_checked_states(
        configs: Vec<Config>,
        rules: Option<Vec<Arc<dyn DynActivation>>>,
        states: Vec<State>,
        device: &cubecl::Device,
        profile: Option<Profile>,
    ) -> Result<Self, SimError> {
        let b = configs.len();
        let invalid =
            |argument: &'static str, value: String, reason: String| SimError::InvalidArgument {
                argument,
                value,
                reason,
            };
        if states.len() != b {
            let reason = format!("one per replica, and there are {b}");
            return Err(invalid("states", states.len().to_string(), reason));
        }
        let rules = rules.unwrap_or_else(|| configs.iter().map(configured_rule).collect());
        if rules.len() != b {
            let reason = format!("one per replica, and there are {b}");
            return Err(invalid("rules", rules.len().to_string(), reason));
        }
        for (r, (state, config)) in states.iter().zip(&configs).enumerate() {
            state.check(config).map_err(|reason| {
                invalid(
                    "states",
                    format!("replica {r}, step {}", state.step),
                    reason,
                )
            })?;
            if state.step != states[0].step || state.tracers.len() != states[0].tracers.len() {
                let reason = "replicas start at the same step with as many tracers".into();
                return Err(invalid("states", format!("replica {r}"), reason));
            }
            if !rules[0].differs_only_in_parameter(rules[r].as_ref()) {
                let reason = format!(
                    "differs from replica 0's `{:?}` in more than its parameter",
                    rules[0]
                );
                return Err(invalid(
                    "rules",
                    format!("replica {r}: {:?}", rules[r]),
                    reason,
                ));
            }
        }
        let config = &configs[0];
        let client = device.client();
        let profile = match profile {
            Some(p) => p,
            None => Profile::default_for(&client)?.with_sparse_max_active(0),
        };
        profile.validate()?;
        if profile.sparse != (SparseLimit::Fixed { active: 0 }) {
            return Err(invalid(
                "profile",
                format!("sparse {:?}", profile.sparse),
                "an ensemble takes the dense update: set its sparse limit to 0 \
                 (Profile::with_sparse_max_active(0))"
                    .into(),
            ));
        }
        let tables = StepTables::new(config.l, &config.propagator, config.mu, config.dt);
        let propagation = Propagation::new(&client, config.l, b, &tables, profile, false)?;
        let burn_device = BurnDevice::new(device.clone());
        let seeds: Vec<u64> = configs.iter().map(|c| c.seed).collect();
        let parameters: Vec<f32> = rules.iter().map(|r| r.parameter()).collect();
        let fields = upload_replicas(&burn_device, config, &states, &seeds, &parameters);
        let step = states[0].step;
        Ok(Self {
            rule_names: rules.iter().map(|r| format!("{r:?}")).collect(),
            rules,
            cube_device: device.clone(),
            tracers: states[0].tracers.len(),
            last_counts: states.iter().map(|s| s.active.iter().sum()).collect(),
            configs,
            device: burn_device,
            client,
            propagation,
            fields: Some(fields),
            ledger: Ledger::at(step),
        })
    }

    /// Replicas restored from their single-run checkpoints (all at the same step), with the
    /// rules their configurations name (`rules: None`) or those given.
    pub fn from_checkpoints(
        checkpoints: Vec<Checkpoint>,
        rules: Option<Vec<Arc<dyn DynActivation>>>,
        device: &cubecl::Device,
    ) -> Result<Self, SimError> {
        let rules = rules.unwrap_or_else(|| {
            checkpoints
                .iter()
                .map(|c| configured_rule(&c.config))
                .collect()
        });
        for (r, (c, rule)) in checkpoints.iter().zip(&rules).enumerate() {
            let name = format!("{rule:?}");
            if name != c.rule {
                return Err(SimError::InReplica {
                    replica: r,
                    source: Box::new(SimError::Checkpoint {
                        path: "<bytes>".into(),
                        message: format!("made with the rule `{}`, not `{name}`", c.rule),
                    }),
                });
            }
        }
        // The first replica's profile: all were written by one ensemble.
        let profile = match checkpoints.first() {
            Some(Checkpoint {
                profile: Some(p), ..
            }) => Some(p.with_sparse_max_active(0)),
            _ => None,
        };
        let (configs, states) = checkpoints.into_iter().map(|c| (c.config, c.state)).unzip();
        Self::from_states_with_profile(configs, Some(rules), states, device, profile)
    }

    /// Writes the whole ensemble to `path`, atomically.
    pub fn checkpoint(&self, path: &Path) -> Result<(), SimError> {
        let file = EnsembleFile {
            format: FORMAT,
            replicas: (0..self.replicas())
                .map(|r| self.replica_checkpoint_bytes(r))
                .collect::<Result<_, _>>()?,
        };
        let bytes = crate::sealed::encode(&file).map_err(|message| SimError::Checkpoint {
            path: path.to_path_buf(),
            message,
        })?;
        crate::output::write_atomic(path, &bytes)
    }

    /// An ensemble from [`Ensemble::checkpoint`]'s file; it continues bit for bit.
    pub fn restore(path: &Path, device: &cubecl::Device) -> Result<Self, SimError> {
        let bytes = std::fs::read(path).map_err(|e| SimError::io(path, e))?;
        let bad = |message: String| SimError::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        const WHAT: &str = "an ensemble checkpoint";
        let opened = crate::sealed::open(&bytes, FORMAT..=FORMAT, 1..=1, WHAT).map_err(bad)?;
        let file: EnsembleFile = crate::sealed::decode(opened.payload, WHAT).map_err(bad)?;
        let checkpoints = file
            .replicas
            .iter()
            .enumerate()
            .map(|(r, b)| {
                Simulation::decode_checkpoint(b).map_err(|e| SimError::InReplica {
                    replica: r,
                    source: Box::new(e.in_checkpoint(path)),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_checkpoints(checkpoints, None, device)
    }

    /// Replica `r`'s state as a single run's checkpoint bytes: [`Simulation::restore`] and
    /// [`Simulation::decode_checkpoint`] read them.
    pub fn replica_checkpoint_bytes(&self, r: usize) -> Result<Vec<u8>, SimError> {
        let (config, rule) = (&self.configs[r], &self.rule_names[r]);
        crate::checkpoint::encode(config, rule, self.profile(), self.view(r).state()?)
    }

    /// Runs `steps` steps of every replica, calling replica `r`'s `observers[r]` after each
    /// step (see [`Observer`]). On return every step's active-site counts have been handed to
    /// the observers. A non-finite stress stops the ensemble with
    /// [`SimError::InReplica`] naming the replica, around the step and site.
    ///
    /// A replica's step without an active site skips the transforms and the advection, as a
    /// single run's does: in whole steps (CPU adapters, small lattices) each replica's own,
    /// inside the launch; with separate launches the steps in which no replica has one, seen
    /// when every replica's last count was below three.
    pub fn advance(
        &mut self,
        steps: u64,
        observers: &mut [Vec<&mut dyn Observer>],
    ) -> Result<(), SimError> {
        if observers.len() != self.replicas() {
            return Err(SimError::InvalidArgument {
                argument: "observers",
                value: observers.len().to_string(),
                reason: format!("one list per replica, and there are {}", self.replicas()),
            });
        }
        if let Some(fault) = self.ledger.failed {
            return Err(fault.error(self.configs[0].l, true));
        }
        let end = self.ledger.step + steps;
        let resync = self.configs[0].resync_every;
        while self.ledger.step < end {
            let step = self.ledger.step;
            let params = self.configs[0].step_params(step);
            let slot = (step % RING as u64) as u32;
            let fields = self
                .fields
                .take()
                .expect("fields are present between steps");
            let (moved, steps) = if self.propagation.whole_steps() {
                // One launch for every step to the next boundary or the next step an observer
                // looks at: the same fields as the launches below, bit for bit. The kernel
                // skips each replica's steps without events, so cold replicas need no count
                // read first, and observers are told every step may have moved.
                let steps = crate::observer::steps_to_next_look(
                    step,
                    count_ring::steps_to_boundary(step, end, resync),
                    observers
                        .iter()
                        .flatten()
                        .map(|o| (o.every(), o.first_look())),
                );
                self.fields = Some(self.rules[0].whole_steps(
                    fields,
                    &self.propagation,
                    params,
                    slot,
                    steps as u32,
                    0,
                    self.tracers,
                ));
                (true, steps)
            } else {
                let low = self.last_counts.iter().all(|&c| c < DENSE);
                let p = &self.propagation;
                self.fields = Some(self.rules[0].activate(fields, p, params, slot, None));
                // Few active sites in every replica: this step's counts are read, and when no
                // replica has any, the transforms and the advection are skipped (as a single
                // run skips them: they would add zeros, the same numbers bit for bit).
                let moved = if low {
                    self.collect(step + 1, observers)?;
                    self.last_counts.iter().any(|&c| c > 0)
                } else {
                    true
                };
                if moved {
                    let p = &self.propagation;
                    let mut fields = self
                        .fields
                        .take()
                        .expect("fields are present between steps");
                    fields = <Dispatch as ModelBackend>::propagate(fields, p, Update::Dense, step);
                    fields =
                        <Dispatch as ModelBackend>::advect(fields, p, Update::Dense, self.tracers);
                    self.fields = Some(fields);
                }
                (moved, 1)
            };
            for _ in 0..steps {
                self.end_step(moved, observers)?;
            }
            self.propagation.pace(&self.client)?;
        }
        self.collect(self.ledger.step, observers)
    }

    /// The end of a step whose fields are made: the resynchronisation when due, the observers,
    /// the counts at the ring's end.
    fn end_step(
        &mut self,
        moved: bool,
        observers: &mut [Vec<&mut dyn Observer>],
    ) -> Result<(), SimError> {
        self.ledger.step += 1;
        let step = self.ledger.step;
        let fields = self
            .fields
            .take()
            .expect("fields are present between steps");
        let fields = driver::resynchronised(fields, &self.propagation, &self.configs[0], step);
        self.fields = Some(fields);
        let info = StepInfo {
            step,
            time: self.time(),
            moved,
        };
        let mut lists: Vec<&mut [&mut dyn Observer]> =
            observers.iter_mut().map(|l| l.as_mut_slice()).collect();
        let looked = driver::notify(&mut lists, |r| self.view(r), &info, true)?;
        self.propagation.queued(looked);
        if step.is_multiple_of(RING as u64) {
            self.collect(step, observers)?;
        }
        Ok(())
    }

    /// Hands the counts of steps up to `upto` (exclusive) to each replica's observers, and
    /// clears the rings once all their slots are read.
    fn collect(
        &mut self,
        upto: u64,
        observers: &mut [Vec<&mut dyn Observer>],
    ) -> Result<(), SimError> {
        if upto > self.ledger.delivered {
            let fields = self.fields.as_ref().expect("fields are present");
            let sites = self.configs[0].sites();
            let shape = (self.replicas(), sites);
            let counts = match self
                .ledger
                .read_counts(fields, &self.propagation, shape, upto)?
            {
                Ok(counts) => counts,
                Err(fault) => return Err(fault.error(self.configs[0].l, true)),
            };
            for (r, (list, counts)) in observers.iter_mut().zip(counts).enumerate() {
                self.last_counts[r] = *counts.last().expect("at least one step");
                for o in list.iter_mut() {
                    o.on_activity(self.ledger.delivered, &counts, sites)
                        .map_err(|e| SimError::InReplica {
                            replica: r,
                            source: Box::new(e),
                        })?;
                }
            }
            self.ledger.delivered = upto;
        }
        let replicas = self.replicas();
        let fields = self.fields.as_mut().expect("fields are present");
        self.ledger
            .clear_if_due(fields, replicas, &self.device, upto);
        Ok(())
    }

    /// Keeps the replicas `keep` (indices, in order) and lets the others go: the ensemble goes
    /// on with fewer, from their states as they are (each still its single run, bit for bit).
    /// For replicas that have done their `steps` while others go on.
    pub fn retain(&mut self, keep: &[usize]) -> Result<(), SimError> {
        if let Some(&bad) = keep.iter().find(|&&r| r >= self.replicas()) {
            return Err(SimError::InvalidArgument {
                argument: "keep",
                value: bad.to_string(),
                reason: format!("there are {} replicas", self.replicas()),
            });
        }
        let states = keep
            .iter()
            .map(|&r| self.view(r).state())
            .collect::<Result<Vec<_>, _>>()?;
        let configs = keep.iter().map(|&r| self.configs[r].clone()).collect();
        let rules = keep.iter().map(|&r| self.rules[r].clone()).collect();
        let profile = Some(*self.profile());
        *self = Self::from_states_with_profile(
            configs,
            Some(rules),
            states,
            &self.cube_device,
            profile,
        )?;
        Ok(())
    }

    /// Replaces the stress of replica `replica` at one site (tests of the fault path;
    /// preparing states).
    pub fn set_stress(&mut self, replica: usize, site: usize, value: f32) -> Result<(), SimError> {
        let n = self.configs[0].sites();
        if replica >= self.replicas() || site >= n {
            return Err(SimError::InvalidArgument {
                argument: "site",
                value: format!("replica {replica}, site {site}"),
                reason: format!("{} replicas of {n} sites", self.replicas()),
            });
        }
        let fields = self.fields.as_mut().expect("fields are present");
        let stress = Tensor::<1>::from_dispatch(fields.stress.clone());
        let mut values = crate::view::read_f32(stress)?;
        values[replica * n + site] = value;
        let len = values.len();
        let t = Tensor::<1>::from_data(TensorData::new(values, [len]), (&self.device, DType::F32));
        fields.stress = t.into_dispatch();
        Ok(())
    }

    /// Waits until the device has done every launch queued so far (what a read-back waits
    /// for), so that what follows takes only its own time.
    pub fn settle(&self) -> Result<(), SimError> {
        crate::pacing::settle(&self.client)
    }

    /// What observers see of replica `r` ([`View`]).
    pub fn view(&self, r: usize) -> View<'_> {
        View {
            config: &self.configs[r],
            device: &self.device,
            client: &self.client,
            profile: self.propagation.profile(),
            fields: self.fields.as_ref().expect("fields are present"),
            replica: r,
            tracers: self.tracers,
            step: self.ledger.step,
            window_active: 0,
        }
    }

    /// The execution profile the ensemble follows ([`crate::profile`]).
    pub fn profile(&self) -> &Profile {
        self.propagation.profile()
    }

    /// Number of replicas `B`.
    pub fn replicas(&self) -> usize {
        self.configs.len()
    }

    /// Replica `r`'s configuration.
    pub fn config(&self, r: usize) -> &Config {
        &self.configs[r]
    }

    /// Replica `r`'s rule, as its `Debug` text (what a manifest records).
    pub fn rule_name(&self, r: usize) -> &str {
        &self.rule_names[r]
    }

    /// Steps completed (by every replica).
    pub fn step(&self) -> u64 {
        self.ledger.step
    }

    /// Time `step * dt`.
    pub fn time(&self) -> f64 {
        self.ledger.step as f64 * self.configs[0].dt
    }

    /// Active sites of each replica at the last step whose counts were read (all steps, after
    /// `advance`).
    pub fn active_sites(&self) -> &[u32] {
        &self.last_counts
    }

    /// Launches and bytes of one step of the whole ensemble: the launches of one replica's
    /// step, the bytes of all.
    pub fn step_traffic(&self) -> StepTraffic {
        self.propagation.dense_step_traffic(self.tracers)
    }

    /// The CubeCL client of the fields.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The Burn device the fields live on.
    pub fn device(&self) -> &BurnDevice {
        &self.device
    }
}

/// Checks that `configs` can be replicas of one ensemble and returns them; the first
/// difference outside [`REPLICA_KEYS`] is an error that names it.
pub fn replica_configs(configs: Vec<Config>) -> Result<Vec<Config>, SimError> {
    let Some(first) = configs.first() else {
        return Err(SimError::InvalidArgument {
            argument: "configs",
            value: "[]".into(),
            reason: "an ensemble needs at least one replica".into(),
        });
    };
    let first = first.clone();
    configs
        .into_iter()
        .enumerate()
        .map(|(r, c)| {
            c.validate()?;
            let replica = |key: String, reason: String| SimError::InvalidArgument {
                argument: "configs",
                value: format!("replica {r}: {key}"),
                reason,
            };
            if let Some(key) = differing_keys(&first, &c)
                .into_iter()
                .find(|k| !replica_key(k))
            {
                let reason = format!(
                    "replicas differ only in {}",
                    REPLICA_KEYS.map(|k| format!("`{k}`")).join(", ")
                );
                return Err(replica(key, reason));
            }
            Ok(c)
        })
        .collect()
}
