//! The model's device operations as a Burn backend extension: Burn tensors hold the fields,
//! and these operations reach their CubeCL buffers to run the kernels of [`crate::activation`],
//! [`crate::propagator`] and [`crate::tracers`] on them, in place.
//!
//! Only the CubeCL backend (`Cube`: CUDA, Vulkan, Metal, WebGPU through wgpu) implements them.
//! A tensor that something else still holds (an observer's clone) is copied before it is
//! written, so nobody sees a field change under them.

use std::sync::Arc;

use burn::backend::{
    Backend, Dispatch, ExtensionType, backend_extension,
    tensor::{FloatTensor, IntTensor},
};
use burn_cubecl::{CubeBackend, tensor::CubeTensor};
use cubecl::prelude::*;
use cubecl::server::Handle;
use epm_fft::kernels::in_cube::CubeTransform;
use epm_fft::{Accumulate, ComplexBuffers, Fft2d, FftError, Input, Kernel, Shape2d, Transform};

use crate::activation::{Activation, StepParams};
use crate::launch;
use crate::pacing::Pacer;
use crate::profile::Profile;
use crate::propagator::{INCREMENT_FIELDS, StepTables};
use crate::sparse::RealSpaceTables;
use crate::whole_step::WholeStep;

/// Every field of the model on the device, `L x L` unless said otherwise; for an ensemble of
/// `B` replicas ([`crate::Ensemble`]) every per-site and per-tracer field holds the replicas
/// one after another (`B L^2` sites, `B M` tracers), and the ring one ring per replica.
#[derive(ExtensionType)]
pub struct ModelFields<B: Backend> {
    /// Local stress `sigma` (units of `sigma_Y`).
    pub stress: FloatTensor<B>,
    /// The stress at step 0, from which the stress is resynchronised.
    pub initial_stress: FloatTensor<B>,
    /// Activity `n`, 0 or 1 (`i32`).
    pub active: IntTensor<B>,
    /// Sign `s` of the threshold at the last activation, +-1.
    pub sign: FloatTensor<B>,
    /// Signed count of each site's active steps (`i32`): the accumulated plastic strain is
    /// `dt eps0 / (2 tau)` times this, exactly.
    pub plastic: IntTensor<B>,
    /// Plastic strain rate `n s eps0 / (2 tau)` of the last step.
    pub strain_rate: FloatTensor<B>,
    /// Real plane of the increments of the last step with events, as the step's inverse leaves
    /// them (`3 L^2 / 2` per replica): the even rows of the stress increment, `du_x` and `du_y`
    /// (lattice spacings), see [`crate::propagator::increment_index`].
    pub increments_re: FloatTensor<B>,
    /// Imaginary plane (`3 L^2 / 2` per replica): their odd rows.
    pub increments_im: FloatTensor<B>,
    /// Tracer cells `[M, 2]` (`i32`, unwrapped); see [`crate::tracers`].
    pub tracer_cells: IntTensor<B>,
    /// Tracer fractions `[M, 4]`: per axis the high and low `u32` words (bits in an `i32`
    /// tensor) of a fraction in units of `2^-64`.
    pub tracer_fractions: IntTensor<B>,
    /// Active-site counters: a ring of per-step sub-counters (`u32` bits), see
    /// [`crate::activation::count_index`].
    pub active_count: IntTensor<B>,
    /// `[first non-finite step (low 32 bits, u32::MAX if none), its site]` (`u32` bits).
    pub status: IntTensor<B>,
    /// `[1 + the last step of a batch of empty steps in which a site became active]` (`u32`
    /// bits, low 32 bits of the step): see [`crate::activation::activation_step`].
    pub event: IntTensor<B>,
    /// Each replica's Philox key, two `u32` words ([`crate::activation::replica_keys`]).
    pub keys: IntTensor<B>,
    /// Each replica's rule parameter ([`Activation::parameter`]).
    pub parameters: FloatTensor<B>,
}

/// How a step with events computes its increments (model notes steps 4 to 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Through the transforms ([`crate::propagator`]).
    Dense,
    /// In real space from the list of active sites ([`crate::sparse`]).
    Sparse,
}

/// The propagation side of a step, on the client of the fields: FFT plans, Fourier tables
/// and spectra for the dense update of `replicas` lattices; for the sparse one (single runs),
/// when enabled, [`SparseSide`].
pub struct Propagation {
    l: usize,
    replicas: usize,
    /// The speed choices every launch of the step follows.
    profile: Profile,
    /// Launches queued since the host last waited ([`crate::pacing`]): each operation below
    /// counts its own.
    pacer: Pacer,
    /// The strain rates in row pairs ([`epm_fft::real_rows`]): `B` fields of `L / 2 x L`.
    forward: Arc<Fft2d<f32>>,
    /// The increments in row pairs: `3 B` fields of `L / 2 x L`.
    inverse: Arc<Fft2d<f32>>,
    /// The strain rates' half-size spectra, `B L^2 / 2`.
    spectrum: ComplexBuffers,
    /// [`StepTables::filters`].
    filters: ComplexBuffers,
    /// The resynchronisation's full transforms (`B` fields of `L x L`) and spectra.
    resync: Arc<Fft2d<f32>>,
    resync_spectrum: ComplexBuffers,
    table_stress: Handle,
    strain: Handle,
    sparse: Option<SparseSide>,
    whole: Option<WholeSide>,
}

/// The whole-step kernel's plans and scratch ([`crate::whole_step`]).
struct WholeSide {
    forward: CubeTransform,
    inverse: CubeTransform,
    forward_scratch: ComplexBuffers,
    inverse_scratch: ComplexBuffers,
}

/// The sparse update's real-space tables and list of active sites.
struct SparseSide {
    real_stress: Handle,
    real_x: Handle,
    real_y: Handle,
    list_site: Handle,
    list_rate: Handle,
    list_count: Handle,
}

impl Propagation {
    /// Plans and tables for `replicas` lattices of `l x l` on `client`, as `profile` chooses;
    /// the sparse update's only with `sparse` (they cost three `f64` transforms on the host
    /// and five fields on the device), which a single run (`replicas = 1`) alone may ask for;
    /// the whole-step kernel's where the profile asks for it and the plans allow it
    /// ([`Propagation::whole_steps`]).
    pub fn new(
        client: &Client,
        l: usize,
        replicas: usize,
        tables: &StepTables,
        profile: Profile,
        sparse: bool,
    ) -> Result<Self, FftError> {
        assert!(
            replicas == 1 || !sparse,
            "the sparse update serves single runs only"
        );
        let whole = profile.whole_steps_for(l, replicas);
        let options = profile.plan_options();
        let half = |batch: usize| Fft2d::new(client, Shape2d::new(batch, l / 2, l)?, options);
        let forward = Arc::new(half(replicas)?);
        let inverse = Arc::new(half(INCREMENT_FIELDS * replicas)?);
        let resync = Arc::new(Fft2d::new(client, Shape2d::new(replicas, l, l)?, options)?);
        let upload = |v: &[f32]| client.create_from_slice(f32::as_bytes(v));
        let n = l * l;
        let sparse = sparse.then(|| {
            let real = RealSpaceTables::new(l, tables);
            SparseSide {
                real_stress: upload(&real.stress),
                real_x: upload(&real.displacement_x),
                real_y: upload(&real.displacement_y),
                // Written by the compaction before anything reads them.
                list_site: client.empty(n * size_of::<u32>()),
                list_rate: client.empty(n * size_of::<f32>()),
                list_count: client.create_from_slice(u32::as_bytes(&[0])),
            }
        });
        let whole = if whole {
            let plans = (
                forward.in_cube(Transform::ForwardRealRows, replicas),
                inverse.in_cube(
                    Transform::InverseFilteredRows {
                        filters: INCREMENT_FIELDS,
                        accumulate: true,
                    },
                    replicas,
                ),
            );
            // One vector width for the whole kernel: the transforms' lanes where both have
            // the same and the activation's units hold whole vectors.
            let per_unit = profile.sites_per_unit(n);
            let plans = match plans {
                (Some(f), Some(i))
                    if f.lanes_log2 == i.lanes_log2
                        && per_unit.is_multiple_of(1 << f.lanes_log2) =>
                {
                    (Some(f), Some(i))
                }
                (Some(f), Some(i)) => (Some(f.in_lanes(0)), Some(i.in_lanes(0))),
                other => other,
            };
            match plans {
                (Some(forward), Some(inverse)) => Some(WholeSide {
                    forward,
                    inverse,
                    forward_scratch: ComplexBuffers::empty::<f32>(client, replicas * n / 2),
                    inverse_scratch: ComplexBuffers::empty::<f32>(
                        client,
                        launch::increments_len(n, replicas),
                    ),
                }),
                _ => None,
            }
        } else {
            None
        };
        Ok(Self {
            l,
            replicas,
            profile,
            pacer: Pacer::with_limit(profile.launches_ahead),
            forward,
            inverse,
            spectrum: ComplexBuffers::empty::<f32>(client, replicas * n / 2),
            filters: {
                let (re, im) = tables.filters(l);
                ComplexBuffers {
                    re: upload(&re),
                    im: upload(&im),
                }
            },
            resync,
            resync_spectrum: ComplexBuffers::empty::<f32>(client, replicas * n),
            table_stress: upload(&tables.stress),
            strain: client.empty(replicas * n * size_of::<f32>()),
            sparse,
            whole,
        })
    }

    /// The profile these plans follow.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Counts `launches` queued outside the step's operations (observers' kernels).
    pub fn queued(&self, launches: usize) {
        self.pacer.count(launches);
    }

    /// Waits for the device where the profile paces the host and enough launches are queued
    /// ([`crate::pacing`]); nothing in the GPU profile.
    pub fn pace(&self, client: &Client) -> Result<(), crate::SimError> {
        self.pacer.wait_if_due(client)
    }

    /// The host has just waited for the device (a read-back): nothing is queued.
    pub fn waited(&self) {
        self.pacer.waited();
    }

    /// Whether dense steps run as one launch of the whole-step kernel ([`crate::whole_step`]):
    /// asked for, and both plans run radix passes that one cube per replica can make.
    pub fn whole_steps(&self) -> bool {
        self.whole.is_some()
    }

    /// The transforms' kernels of a dense step through separate launches (the strain rates'
    /// forward transform, then the filtered inverse), as they are compiled
    /// ([`Fft2d::kernels`]): the same for every number of replicas, so the separate launches
    /// too compile once per lattice for every ensemble size.
    pub fn step_kernels(&self) -> Vec<Kernel> {
        let mut kernels = self.forward.kernels(Transform::ForwardRealRows);
        kernels.extend(self.inverse.kernels(Transform::InverseFilteredRows {
            filters: INCREMENT_FIELDS,
            accumulate: true,
        }));
        kernels
    }

    /// The whole-step kernel's comptime shape for `tracers` tracers per replica (`None` where
    /// [`Propagation::whole_steps`] is false). One replica's: the same for every number of
    /// replicas, so one compiled kernel serves every ensemble size of a lattice.
    pub fn whole_step(&self, tracers: usize) -> Option<WholeStep> {
        let whole = self.whole.as_ref()?;
        let n = self.l * self.l;
        Some(WholeStep {
            sites: n,
            per_unit: self.profile.sites_per_unit(n),
            tracers,
            forward: whole.forward,
            inverse: whole.inverse,
        })
    }

    /// Launches of model notes steps 4 to 6 (after the activation) through `update`, with
    /// `tracers` tracers per replica: the transforms' passes or the sparse list and stress
    /// sums, then the advection.
    pub fn update_launches(&self, update: Update, tracers: usize) -> usize {
        let advect = usize::from(tracers > 0);
        match update {
            Update::Dense => self.forward.launches() + self.inverse.launches() + advect,
            Update::Sparse => 2 + advect,
        }
    }

    /// Launches and global-memory bytes of one dense step with events of every replica,
    /// activation to advection of `tracers` tracers per replica, as these plans run it on this
    /// device.
    pub fn dense_step_traffic(&self, tracers: usize) -> StepTraffic {
        let b = self.replicas as u64;
        let n = (self.l * self.l) as u64 * b;
        let tracers = tracers as u64 * b;
        let inverse = Input::FilteredRows {
            filters: INCREMENT_FIELDS,
            accumulate: true,
        };
        let launches = if self.whole.is_some() {
            1
        } else {
            // The activation, then the transforms' passes and the advection.
            1 + self.update_launches(Update::Dense, tracers as usize)
        };
        StepTraffic {
            launches,
            bytes: ACTIVATION_BYTES * n
                + self.forward.bytes_moved(Input::RealRows)
                + self.inverse.bytes_moved(inverse)
                + TRACER_BYTES * tracers,
            minimum_bytes: (ACTIVATION_BYTES + MIN_TRANSFORM_BYTES) * n + TRACER_BYTES * tracers,
        }
    }

    fn sparse(&self) -> launch::sparse::SparseBuffers<'_> {
        let s = self
            .sparse
            .as_ref()
            .expect("the sparse update runs only when it was enabled");
        launch::sparse::SparseBuffers {
            list_site: &s.list_site,
            list_rate: &s.list_rate,
            list_count: &s.list_count,
            table_stress: &s.real_stress,
            table_x: &s.real_x,
            table_y: &s.real_y,
        }
    }
}

/// What one step costs a device, counted rather than timed: the figures that carry over from
/// one device to another (`Propagation::dense_step_traffic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepTraffic {
    /// Kernel launches.
    pub launches: usize,
    /// Bytes read and written in global memory by those launches.
    pub bytes: u64,
    /// The least the step can move: each field read or written once, every transform one ideal
    /// pass (the strain rate in, its Hermitian half spectrum out and back in; three real tables
    /// on half the bins; `du_x`, `du_y` out; the stress in and out).
    pub minimum_bytes: u64,
}

/// The activation reads the stress and the activity of each site (`f32`, `u32`); what it writes
/// changes at a few sites only.
const ACTIVATION_BYTES: u64 = 8;
/// Per tracer: cell and fraction words in and out (48 bytes), `du_x` and `du_y` at four corners.
const TRACER_BYTES: u64 = 80;
/// Per site, the transforms and their fused work at one ideal pass each: the real strain rate
/// in (4), its half spectrum (Hermitian) out and in again (8), three real tables on half the
/// bins (6), `du_x` and `du_y` out (8), the stress in and out (8).
const MIN_TRANSFORM_BYTES: u64 = 34;

/// The model's device operations. Each takes the fields and returns them updated.
#[backend_extension(Cube: cfg(any(
    feature = "wgpu",
    feature = "vulkan",
    feature = "metal",
    feature = "cuda"
)))]
pub trait ModelBackend: Backend {
    /// Model notes steps 1 to 3 ([`crate::activation`]): deactivation, activation with `rule`,
    /// plastic strain rate; counts the active sites into ring slot `slot`. `batch_start`: the
    /// first step of the batch of empty steps this one belongs to, if any.
    fn activate<A: Activation>(
        #[extension_type] fields: ModelFields<Self>,
        rule: A,
        propagation: &Propagation,
        params: StepParams,
        slot: u32,
        batch_start: Option<u64>,
    ) -> ModelFields<Self>;

    /// Model notes steps 4 and 5. Dense ([`crate::propagator`]): one forward transform of the
    /// plastic strain rate, the propagator and displacement kernels, one batched inverse into
    /// the increments; then `sigma += d_sigma`. Sparse ([`crate::sparse`]): the list of active
    /// sites, then `sigma += sum_a S(r - a) e_a`; the increments are not written. Records a
    /// non-finite stress.
    fn propagate(
        #[extension_type] fields: ModelFields<Self>,
        propagation: &Propagation,
        update: Update,
        step: u64,
    ) -> ModelFields<Self>;

    /// Model notes step 6 ([`crate::tracers`]): `tracers` tracers per replica move by the
    /// interpolated displacement increment of the last [`ModelBackend::propagate`] with the
    /// same `update`.
    fn advect(
        #[extension_type] fields: ModelFields<Self>,
        propagation: &Propagation,
        update: Update,
        tracers: usize,
    ) -> ModelFields<Self>;

    /// `steps` dense steps (model notes steps 1 to 6) from `params.step`, ring slot `slot` for
    /// the first, in one launch of the whole-step kernel ([`crate::whole_step`]): the fields
    /// [`ModelBackend::activate`], [`ModelBackend::propagate`] (dense) and
    /// [`ModelBackend::advect`] make, bit for bit. Only where
    /// [`Propagation::whole_steps`]; the steps stay inside one count ring. With
    /// `window_limit > 0` the launch stops before a window start of the sparse update whose
    /// count is at most `window_limit` ([`crate::whole_step::whole_steps`]).
    #[allow(clippy::too_many_arguments)]
    fn whole_steps<A: Activation>(
        #[extension_type] fields: ModelFields<Self>,
        rule: A,
        propagation: &Propagation,
        params: StepParams,
        slot: u32,
        steps: u32,
        window_limit: u32,
        tracers: usize,
    ) -> ModelFields<Self>;

    /// Writes the increments of the last sparse step (still listed) into `increments_re` and
    /// `increments_im`, in the dense path's layout.
    fn sparse_increments(
        #[extension_type] fields: ModelFields<Self>,
        propagation: &Propagation,
    ) -> ModelFields<Self>;

    /// `sigma = sigma_0 + 2 mu G * eps_p`, exactly from the plastic strain count; `unit` is
    /// the plastic strain of one active step, `dt eps0 / (2 tau)`.
    fn resynchronise(
        #[extension_type] fields: ModelFields<Self>,
        propagation: &Propagation,
        unit: f32,
    ) -> ModelFields<Self>;
}

/// The same tensor if nothing else holds it, else a copy: safe to write in place.
fn owned(t: CubeTensor) -> CubeTensor {
    if t.can_mut() { t } else { t.copy() }
}

fn sites(t: &CubeTensor) -> usize {
    t.meta.shape().num_elements()
}

/// What the activation reads and writes, in the fields' buffers.
fn activation_buffers(fields: &ModelFields<CubeBackend>) -> launch::ActivationBuffers<'_> {
    launch::ActivationBuffers {
        stress: &fields.stress.handle,
        active: &fields.active.handle,
        sign: &fields.sign.handle,
        plastic: &fields.plastic.handle,
        strain_rate: &fields.strain_rate.handle,
        active_count: &fields.active_count.handle,
        event: &fields.event.handle,
        keys: &fields.keys.handle,
        parameters: &fields.parameters.handle,
    }
}

fn increments(fields: &ModelFields<CubeBackend>) -> ComplexBuffers {
    ComplexBuffers {
        re: fields.increments_re.handle.clone(),
        im: fields.increments_im.handle.clone(),
    }
}

impl ModelBackend for CubeBackend {
    fn activate<A: Activation>(
        fields: ModelFields<Self>,
        rule: A,
        propagation: &Propagation,
        params: StepParams,
        slot: u32,
        batch_start: Option<u64>,
    ) -> ModelFields<Self> {
        let fields = ModelFields {
            active: owned(fields.active),
            sign: owned(fields.sign),
            plastic: owned(fields.plastic),
            strain_rate: owned(fields.strain_rate),
            active_count: owned(fields.active_count),
            event: owned(fields.event),
            ..fields
        };
        let buffers = activation_buffers(&fields);
        let client = &fields.stress.client;
        let replicas = sites(&fields.parameters);
        let n = sites(&fields.stress) / replicas;
        launch::activation(
            client,
            (n, propagation.profile.sites_per_unit(n), replicas),
            &buffers,
            &rule,
            &params,
            slot,
            batch_start,
        );
        propagation.pacer.count(1);
        fields
    }

    fn propagate(
        fields: ModelFields<Self>,
        propagation: &Propagation,
        update: Update,
        step: u64,
    ) -> ModelFields<Self> {
        let p = propagation;
        let n = p.l * p.l;
        if update == Update::Sparse {
            let fields = ModelFields {
                stress: owned(fields.stress),
                status: owned(fields.status),
                ..fields
            };
            let client = &fields.stress.client;
            let sparse = p.sparse();
            let (active, rate) = (&fields.active.handle, &fields.strain_rate.handle);
            launch::sparse::compaction(client, n, active, rate, &sparse);
            let (stress, status) = (&fields.stress.handle, &fields.status.handle);
            let per_unit = p.profile.sites_per_unit(n);
            launch::sparse::stress(client, (n, per_unit), &sparse, stress, status, step);
            p.pacer.count(p.update_launches(update, 0));
            return fields;
        }
        let fields = ModelFields {
            stress: owned(fields.stress),
            increments_re: owned(fields.increments_re),
            increments_im: owned(fields.increments_im),
            status: owned(fields.status),
            ..fields
        };
        let increments = increments(&fields);
        p.forward
            .forward_real_rows(&fields.strain_rate.handle, &p.spectrum)
            .expect("the plans and buffers were made for this lattice");
        // The propagator multiply and the stress update ride on the inverse's first and last
        // passes (see `StepTables`); the increments come out in row pairs.
        let stress = Accumulate {
            target: &fields.stress.handle,
            status: &fields.status.handle,
            tag: step as u32,
        };
        p.inverse
            .inverse_filtered_rows(&p.spectrum, &p.filters, &increments, Some(stress))
            .expect("the plans and buffers were made for this lattice");
        p.pacer.count(p.update_launches(update, 0));
        fields
    }

    fn advect(
        fields: ModelFields<Self>,
        propagation: &Propagation,
        update: Update,
        tracers: usize,
    ) -> ModelFields<Self> {
        if tracers == 0 {
            return fields;
        }
        let fields = ModelFields {
            tracer_cells: owned(fields.tracer_cells),
            tracer_fractions: owned(fields.tracer_fractions),
            ..fields
        };
        let client = &fields.stress.client;
        let (n, replicas) = (propagation.l * propagation.l, propagation.replicas);
        let (cells, fractions) = (&fields.tracer_cells.handle, &fields.tracer_fractions.handle);
        match update {
            Update::Dense => {
                let increments = increments(&fields);
                launch::advection(client, n, replicas, tracers, cells, fractions, &increments)
            }
            Update::Sparse => {
                let sparse = propagation.sparse();
                launch::sparse::advection(client, n, tracers, cells, fractions, &sparse)
            }
        }
        propagation.pacer.count(1);
        fields
    }

    fn whole_steps<A: Activation>(
        fields: ModelFields<Self>,
        rule: A,
        propagation: &Propagation,
        params: StepParams,
        slot: u32,
        steps: u32,
        window_limit: u32,
        tracers: usize,
    ) -> ModelFields<Self> {
        let p = propagation;
        let whole = p
            .whole
            .as_ref()
            .expect("whole steps run only where Propagation::whole_steps");
        let fields = ModelFields {
            stress: owned(fields.stress),
            active: owned(fields.active),
            sign: owned(fields.sign),
            plastic: owned(fields.plastic),
            strain_rate: owned(fields.strain_rate),
            increments_re: owned(fields.increments_re),
            increments_im: owned(fields.increments_im),
            tracer_cells: owned(fields.tracer_cells),
            tracer_fractions: owned(fields.tracer_fractions),
            active_count: owned(fields.active_count),
            status: owned(fields.status),
            ..fields
        };
        let client = &fields.stress.client;
        let plan = p
            .whole_step(tracers)
            .expect("whole steps run only where Propagation::whole_steps");
        let increments = increments(&fields);
        let buffers = launch::WholeStepBuffers {
            activation: activation_buffers(&fields),
            spectrum: &p.spectrum,
            forward_scratch: &whole.forward_scratch,
            filters: &p.filters,
            inverse_scratch: &whole.inverse_scratch,
            increments: &increments,
            status: &fields.status.handle,
            twiddles: p.forward.twiddles(),
            cells: &fields.tracer_cells.handle,
            fractions: &fields.tracer_fractions.handle,
        };
        let units = p.profile.whole_step_units(client);
        let run = (slot, steps, window_limit);
        launch::whole_steps(
            client, plan, p.replicas, units, &buffers, &rule, &params, run,
        );
        p.pacer.count(1);
        fields
    }

    fn sparse_increments(
        fields: ModelFields<Self>,
        propagation: &Propagation,
    ) -> ModelFields<Self> {
        let fields = ModelFields {
            increments_re: owned(fields.increments_re),
            increments_im: owned(fields.increments_im),
            ..fields
        };
        let n = sites(&fields.stress);
        let sparse = propagation.sparse();
        launch::sparse::increments(&fields.stress.client, n, &sparse, &increments(&fields));
        fields
    }

    fn resynchronise(
        fields: ModelFields<Self>,
        propagation: &Propagation,
        unit: f32,
    ) -> ModelFields<Self> {
        let fields = ModelFields {
            stress: owned(fields.stress),
            ..fields
        };
        let client = &fields.stress.client;
        let p = propagation;
        let (field, n) = (p.l * p.l, p.l * p.l * p.replicas);
        launch::resync::strain(client, n, &fields.plastic.handle, &p.strain, unit);
        let spectrum = &p.resync_spectrum;
        p.resync
            .forward_real(&p.strain, spectrum)
            .expect("the plans and buffers were made for this lattice");
        launch::resync::scale(client, n, spectrum, &p.table_stress, field);
        p.resync
            .inverse(spectrum, spectrum)
            .expect("the plans and buffers were made for this lattice");
        launch::resync::stress(
            client,
            n,
            &fields.initial_stress.handle,
            &spectrum.re,
            &fields.stress.handle,
        );
        fields
    }
}

/// An activation rule behind a pointer: the simulation holds any [`Activation`] this way.
pub trait DynActivation: Send + Sync + core::fmt::Debug {
    /// [`ModelBackend::activate`] with this rule.
    fn activate(
        &self,
        fields: ModelFields<Dispatch>,
        propagation: &Propagation,
        params: StepParams,
        slot: u32,
        batch_start: Option<u64>,
    ) -> ModelFields<Dispatch>;
    /// [`ModelBackend::whole_steps`] with this rule.
    #[allow(clippy::too_many_arguments)]
    fn whole_steps(
        &self,
        fields: ModelFields<Dispatch>,
        propagation: &Propagation,
        params: StepParams,
        slot: u32,
        steps: u32,
        window_limit: u32,
        tracers: usize,
    ) -> ModelFields<Dispatch>;
    /// The rule's rate on the CPU ([`Activation::rate_cpu`]).
    fn rate_cpu(&self, sigma: f32) -> f32;
    /// [`Activation::parameter`].
    fn parameter(&self) -> f32;
    /// Whether `other` is this rule with another parameter ([`Activation::with_parameter`]),
    /// as their `Debug` texts say: such rules can share an ensemble's launch.
    fn differs_only_in_parameter(&self, other: &dyn DynActivation) -> bool;
}

impl<A: Activation + Send + Sync> DynActivation for A {
    fn activate(
        &self,
        fields: ModelFields<Dispatch>,
        propagation: &Propagation,
        params: StepParams,
        slot: u32,
        batch_start: Option<u64>,
    ) -> ModelFields<Dispatch> {
        let rule = self.clone();
        <Dispatch as ModelBackend>::activate::<A>(
            fields,
            rule,
            propagation,
            params,
            slot,
            batch_start,
        )
    }
    fn whole_steps(
        &self,
        fields: ModelFields<Dispatch>,
        propagation: &Propagation,
        params: StepParams,
        slot: u32,
        steps: u32,
        window_limit: u32,
        tracers: usize,
    ) -> ModelFields<Dispatch> {
        <Dispatch as ModelBackend>::whole_steps::<A>(
            fields,
            self.clone(),
            propagation,
            params,
            slot,
            steps,
            window_limit,
            tracers,
        )
    }
    fn rate_cpu(&self, sigma: f32) -> f32 {
        Activation::rate_cpu(self, sigma)
    }
    fn parameter(&self) -> f32 {
        Activation::parameter(self)
    }
    fn differs_only_in_parameter(&self, other: &dyn DynActivation) -> bool {
        format!("{:?}", self.with_parameter(other.parameter())) == format!("{other:?}")
    }
}
