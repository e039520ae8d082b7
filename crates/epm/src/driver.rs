//! What a single run ([`crate::Simulation`], one replica) and an ensemble ([`crate::Ensemble`],
//! `B` replicas) do alike around the kernels of their steps, written once: where the run
//! stands ([`Ledger`]), the count ring's read-back with its fault check and its clearing, the
//! resynchronisation, and the observers' calls at the end of a step.

use burn::backend::Dispatch;
use burn::tensor::{Device as BurnDevice, Int, Tensor};

use crate::backend::{ModelBackend, ModelFields, Propagation};
use crate::config::Config;
use crate::count_ring;
use crate::error::SimError;
use crate::observer::{Observer, StepInfo};
use crate::view::{View, read_i32};

/// A non-finite stress: in which replica, after which step, at which site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault {
    pub replica: usize,
    pub step: u64,
    pub site: usize,
}

impl Fault {
    /// The error naming the step and the site of a lattice of side `l`, inside
    /// [`SimError::InReplica`] for a replica of an ensemble (`ensemble`).
    pub fn error(self, l: usize, ensemble: bool) -> SimError {
        let e = SimError::NonFiniteStress {
            step: self.step,
            site: self.site,
            x: self.site % l,
            y: self.site / l,
        };
        if ensemble {
            SimError::InReplica {
                replica: self.replica,
                source: Box::new(e),
            }
        } else {
            e
        }
    }
}

/// Where a run of one or more replicas stands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ledger {
    /// Steps completed.
    pub step: u64,
    /// First step whose counts were not yet handed to observers.
    pub delivered: u64,
    /// The ring was last cleared when this many steps were complete.
    pub cleared: u64,
    /// Set once a stress went non-finite: the run cannot go on.
    pub failed: Option<Fault>,
}

impl Ledger {
    /// A run at `step`, every count before it handed over.
    pub fn at(step: u64) -> Self {
        Self {
            step,
            delivered: step,
            cleared: step,
            failed: None,
        }
    }

    /// The active-site counts of steps `self.delivered..to` (within one ring) of each of
    /// `replicas` replicas of `sites` sites, after checking the fault status: a non-finite
    /// stress is recorded and returned as a [`Fault`]. A read-back: the host waited for every
    /// launch before it.
    pub fn read_counts(
        &mut self,
        fields: &ModelFields<Dispatch>,
        propagation: &Propagation,
        (replicas, sites): (usize, usize),
        to: u64,
    ) -> Result<Result<Vec<Vec<u32>>, Fault>, SimError> {
        let status = read_i32(Tensor::<1, Int>::from_dispatch(fields.status.clone()))?;
        propagation.waited();
        if let Some((step, at)) = count_ring::fault(&status, self.delivered, to) {
            let fault = Fault {
                replica: at / sites,
                step,
                site: at % sites,
            };
            self.failed = Some(fault);
            return Ok(Err(fault));
        }
        let ring = read_i32(Tensor::<1, Int>::from_dispatch(fields.active_count.clone()))?;
        Ok(Ok((0..replicas)
            .map(|r| count_ring::step_counts(&ring, r, self.delivered, to))
            .collect()))
    }

    /// Zeroes the count ring of `replicas` replicas once every slot was read (counts handed
    /// over up to `upto`).
    pub fn clear_if_due(
        &mut self,
        fields: &mut ModelFields<Dispatch>,
        replicas: usize,
        device: &BurnDevice,
        upto: u64,
    ) {
        if count_ring::clear_due(upto, self.delivered, self.cleared) {
            fields.active_count = count_ring::zeroed(replicas, device);
            self.cleared = upto;
        }
    }
}

/// The fields after `step` steps: resynchronised (`sigma = sigma_0 + 2 mu G * eps_p`,
/// exactly) when `step` is a multiple of `config.resync_every`.
pub(crate) fn resynchronised(
    fields: ModelFields<Dispatch>,
    propagation: &Propagation,
    config: &Config,
    step: u64,
) -> ModelFields<Dispatch> {
    if step.is_multiple_of(config.resync_every) {
        let unit = config.plastic_strain_unit() as f32;
        <Dispatch as ModelBackend>::resynchronise(fields, propagation, unit)
    } else {
        fields
    }
}

/// Calls the observers that look at `info.step` ([`crate::observer::looks_at`]) with their
/// replica's view: `observers[r]` sees `view(r)`. Errors name the replica when `ensemble`.
/// Returns how many looked: most launch one kernel when they do (the built-in ones do).
pub(crate) fn notify<'v>(
    observers: &mut [&mut [&mut dyn Observer]],
    view: impl Fn(usize) -> View<'v>,
    info: &StepInfo,
    ensemble: bool,
) -> Result<usize, SimError> {
    let mut looked = 0;
    for (r, list) in observers.iter_mut().enumerate() {
        if list.is_empty() {
            continue;
        }
        let view = view(r);
        for o in list
            .iter_mut()
            .filter(|o| crate::observer::looks_at(&***o, info.step))
        {
            o.on_step(&view, info).map_err(|e| {
                if ensemble {
                    SimError::InReplica {
                        replica: r,
                        source: Box::new(e),
                    }
                } else {
                    e
                }
            })?;
            looked += 1;
        }
    }
    Ok(looked)
}
