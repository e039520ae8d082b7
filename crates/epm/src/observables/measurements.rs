//! The observers a run's `[observables]` table asks for, as one bundle.

use super::activity::{Activity, ActivityOptions};
use super::displacements::{DisplacementOptions, Displacements};
use super::log_histogram::LogBins;
use super::stress_correlation::{StressCorrelation, StressCorrelationOptions};
use super::structure_factor::{log_spaced_moduli, shells_near};
use super::tracer_dynamics::{TracerDynamics, TracerDynamicsOptions};
use super::waiting_times::{WaitingTimeOptions, WaitingTimes};
use super::{Measurement, Persist, Quantity, Table};
use crate::error::SimError;
use crate::observer::Observer;
use crate::view::View;

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedMeasurements {
    activity: Option<Vec<u8>>,
    tracer_dynamics: Option<Vec<u8>>,
    displacements: Option<Vec<u8>>,
    waiting_times: Option<Vec<u8>>,
    stress_correlation: Option<Vec<u8>>,
}

/// Every observer of a run, as configured.
pub struct Measurements {
    /// `a(t)` and the stress histogram.
    pub activity: Option<Activity>,
    /// MSD, `S(q, t)`, `C_u(t)`.
    pub tracer_dynamics: Option<TracerDynamics>,
    /// `P(u)`.
    pub displacements: Option<Displacements>,
    /// `Psi(tau_ev)`.
    pub waiting_times: Option<WaitingTimes>,
    /// `C_sigma(t)`.
    pub stress_correlation: Option<StressCorrelation>,
}

impl Measurements {
    /// The observers `sim.config().observables` asks for. Tracer dynamics need tracers:
    /// with none they are left out.
    pub fn new(sim: &View<'_>) -> Result<Self, SimError> {
        let c = sim.config();
        let o = &c.observables;
        let warm_up = o.warm_up;
        let l = c.l;
        let moduli = if o.q.is_empty() {
            log_spaced_moduli(l, o.shells, o.q_max)
        } else {
            o.q.clone()
        };
        Ok(Self {
            activity: o.activity.then(|| {
                Activity::new(
                    ActivityOptions {
                        warm_up,
                        stress_every: o.stress_every,
                        ..Default::default()
                    },
                    c.dt,
                )
            }),
            tracer_dynamics: match o.tracer_dynamics && sim.tracer_count() > 0 {
                true => Some(TracerDynamics::new(
                    sim.client(),
                    l,
                    c.dt,
                    sim.tracer_count(),
                    TracerDynamicsOptions {
                        points_per_level: o.points_per_level,
                        shells: shells_near(l, &moduli),
                        warm_up,
                    },
                )?),
                false => None,
            },
            displacements: (o.displacements && sim.tracer_count() > 0).then(|| {
                Displacements::new(
                    DisplacementOptions {
                        warm_up,
                        window: o.displacement_window,
                        bins: LogBins {
                            min: 1e-7,
                            per_decade: 10,
                            decades: 10,
                        },
                    },
                    c.dt,
                )
            }),
            waiting_times: o.waiting_times.then(|| {
                WaitingTimes::new(
                    WaitingTimeOptions {
                        warm_up,
                        ..Default::default()
                    },
                    c.dt,
                )
            }),
            stress_correlation: match o.stress_correlation {
                true => Some(StressCorrelation::new(
                    StressCorrelationOptions {
                        warm_up,
                        points_per_level: o.points_per_level,
                        site_stride: c.sites().div_ceil(o.stress_correlation_sites),
                    },
                    c.dt,
                )?),
                false => None,
            },
        })
    }

    /// The observers, for [`crate::Simulation::advance`].
    pub fn observers(&mut self) -> Vec<&mut dyn Observer> {
        let mut v: Vec<&mut dyn Observer> = vec![];
        if let Some(o) = &mut self.activity {
            v.push(o);
        }
        if let Some(o) = &mut self.tracer_dynamics {
            v.push(o);
        }
        if let Some(o) = &mut self.displacements {
            v.push(o);
        }
        if let Some(o) = &mut self.waiting_times {
            v.push(o);
        }
        if let Some(o) = &mut self.stress_correlation {
            v.push(o);
        }
        v
    }

    fn measurements(&mut self) -> Vec<&mut dyn Measurement> {
        let mut v: Vec<&mut dyn Measurement> = vec![];
        if let Some(o) = &mut self.activity {
            v.push(o);
        }
        if let Some(o) = &mut self.tracer_dynamics {
            v.push(o);
        }
        if let Some(o) = &mut self.displacements {
            v.push(o);
        }
        if let Some(o) = &mut self.waiting_times {
            v.push(o);
        }
        if let Some(o) = &mut self.stress_correlation {
            v.push(o);
        }
        v
    }

    /// Every observer's state (see [`Persist`]).
    pub fn save(&self) -> Result<Vec<u8>, SimError> {
        let state = SavedMeasurements {
            activity: self.activity.as_ref().map(Persist::save).transpose()?,
            tracer_dynamics: self
                .tracer_dynamics
                .as_ref()
                .map(Persist::save)
                .transpose()?,
            displacements: self.displacements.as_ref().map(Persist::save).transpose()?,
            waiting_times: self.waiting_times.as_ref().map(Persist::save).transpose()?,
            stress_correlation: self
                .stress_correlation
                .as_ref()
                .map(Persist::save)
                .transpose()?,
        };
        super::encode(&state)
    }

    /// Restores the states of [`Measurements::save`] into observers made for the same
    /// configuration.
    pub fn load(&mut self, bytes: &[u8], client: &cubecl::prelude::Client) -> Result<(), SimError> {
        let s: SavedMeasurements = super::decode(bytes)?;
        fn one<P: Persist>(
            o: &mut Option<P>,
            saved: Option<Vec<u8>>,
            client: &cubecl::prelude::Client,
            name: &str,
        ) -> Result<(), SimError> {
            match (o, saved) {
                (Some(o), Some(bytes)) => o.load(&bytes, client),
                (None, None) => Ok(()),
                _ => Err(SimError::ObserverState {
                    action: "restoring",
                    what: name.into(),
                    message: "the checkpoint's observers do not match the configuration".into(),
                }),
            }
        }
        one(&mut self.activity, s.activity, client, "activity")?;
        one(
            &mut self.tracer_dynamics,
            s.tracer_dynamics,
            client,
            "tracer dynamics",
        )?;
        one(
            &mut self.displacements,
            s.displacements,
            client,
            "displacements",
        )?;
        one(
            &mut self.waiting_times,
            s.waiting_times,
            client,
            "waiting times",
        )?;
        one(
            &mut self.stress_correlation,
            s.stress_correlation,
            client,
            "stress correlation",
        )
    }

    /// Every table and number measured so far.
    pub fn results(&mut self) -> Result<(Vec<Table>, Vec<Quantity>), SimError> {
        let mut tables = vec![];
        let mut quantities = vec![];
        for m in self.measurements() {
            tables.extend(m.tables()?);
            quantities.extend(m.summary()?);
        }
        Ok((tables, quantities))
    }
}
