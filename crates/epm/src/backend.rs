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
use epm_fft::{ComplexBuffers, Fft2d, FftError, PlanOptions, Shape2d};

use crate::activation::{Activation, StepParams, activation_step};
use crate::propagator::{
    StepTables, plastic_strain, propagate, resynchronise, scale_spectrum, update_stress,
};
use crate::rng;
use crate::tracers::advect_tracers;

/// Every field of the model on the device, `L x L` unless said otherwise.
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
    /// Real part of the increments of the last step with events, as the batched inverse
    /// transform leaves them (`2 L^2`): the stress increment, then `du_y`.
    pub increments_re: FloatTensor<B>,
    /// Imaginary part (`2 L^2`): the displacement increment `du_x` (lattice spacings), then
    /// rounding noise.
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
}

/// The Fourier side of a step: FFT plans, tables and spectra, on the client of the fields.
pub struct Propagation {
    l: usize,
    forward: Arc<Fft2d<f32>>,
    inverse: Arc<Fft2d<f32>>,
    spectrum: ComplexBuffers,
    table_packed: Handle,
    table_displacement_y: Handle,
    table_stress: Handle,
    strain: Handle,
}

impl Propagation {
    /// Plans and tables for an `l x l` lattice on `client`.
    pub fn new(client: &Client, l: usize, tables: &StepTables) -> Result<Self, FftError> {
        let options = PlanOptions::default();
        let forward = Arc::new(Fft2d::new(client, Shape2d::new(1, l, l)?, options)?);
        let inverse = Arc::new(Fft2d::new(client, Shape2d::new(2, l, l)?, options)?);
        let upload = |v: &[f32]| client.create_from_slice(f32::as_bytes(v));
        Ok(Self {
            l,
            forward,
            inverse,
            spectrum: ComplexBuffers::empty::<f32>(client, l * l),
            table_packed: upload(&tables.packed),
            table_displacement_y: upload(&tables.displacement_y),
            table_stress: upload(&tables.stress),
            strain: client.empty(l * l * size_of::<f32>()),
        })
    }

    /// Lattice size `L`.
    pub fn l(&self) -> usize {
        self.l
    }
}

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
        params: StepParams,
        slot: u32,
        batch_start: Option<u64>,
    ) -> ModelFields<Self>;

    /// Model notes steps 4 and 5 ([`crate::propagator`]): one forward transform of the plastic
    /// strain rate, the propagator and displacement kernels, one batched inverse into the
    /// increments; then `sigma += d_sigma`. Records a non-finite stress.
    fn propagate(
        #[extension_type] fields: ModelFields<Self>,
        propagation: &Propagation,
        step: u64,
    ) -> ModelFields<Self>;

    /// Model notes step 6 ([`crate::tracers`]): the first `tracers` tracers move by the
    /// interpolated displacement increment.
    fn advect(#[extension_type] fields: ModelFields<Self>, tracers: usize) -> ModelFields<Self>;

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

fn elements(t: &CubeTensor) -> usize {
    t.meta.shape().num_elements()
}

/// A kernel argument for the whole buffer of `t`, typed by the kernel.
fn arg(t: &CubeTensor) -> BufferArg {
    // SAFETY: the fields are contiguous (created from host data, checked by the simulation)
    // and every kernel indexes below the element count.
    unsafe { BufferArg::from_raw_parts(t.handle.clone(), elements(t)) }
}

fn plane(h: &Handle, len: usize) -> BufferArg {
    // SAFETY: the propagation's buffers are allocated with at least `len` elements.
    unsafe { BufferArg::from_raw_parts(h.clone(), len) }
}

/// Sites (or wave vectors) each unit of the elementwise step kernels takes. On CPU adapters
/// (lavapipe) fewer, fuller invocations are faster (measured 0.58 to 0.47 ms for the
/// activation at L = 256 with 8); on GPUs one per unit keeps every core busy.
pub fn sites_per_unit(client: &Client, sites: usize) -> usize {
    if crate::device::is_cpu_adapter(client) {
        8.min(sites)
    } else {
        1
    }
}

fn grid(client: &Client, units: usize) -> (CubeCount, CubeDim) {
    let dim = CubeDim::new_1d(256);
    (
        cubecl::calculate_cube_count_elemwise(client, units, dim),
        dim,
    )
}

impl ModelBackend for CubeBackend {
    fn activate<A: Activation>(
        fields: ModelFields<Self>,
        rule: A,
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
        let client = fields.stress.client.clone();
        let sites = elements(&fields.stress);
        let per_unit = sites_per_unit(&client, sites);
        let (count, dim) = grid(&client, sites / per_unit);
        let key = rng::key(params.seed);
        activation_step::launch::<A>(
            &client,
            count,
            dim,
            arg(&fields.stress),
            arg(&fields.active),
            arg(&fields.sign),
            arg(&fields.plastic),
            arg(&fields.strain_rate),
            arg(&fields.active_count),
            arg(&fields.event),
            rule.launch_arg(),
            params.step as u32,
            (params.step >> 32) as u32,
            key[0],
            key[1],
            params.p_off,
            params.dt,
            params.strain_rate_amplitude,
            slot,
            u32::from(batch_start.is_some()),
            batch_start.unwrap_or(0) as u32,
            sites,
            per_unit,
        );
        fields
    }

    fn propagate(
        fields: ModelFields<Self>,
        propagation: &Propagation,
        step: u64,
    ) -> ModelFields<Self> {
        let fields = ModelFields {
            stress: owned(fields.stress),
            increments_re: owned(fields.increments_re),
            increments_im: owned(fields.increments_im),
            status: owned(fields.status),
            ..fields
        };
        let client = fields.stress.client.clone();
        let p = propagation;
        let n = p.l * p.l;
        let per_unit = sites_per_unit(&client, n);
        let (count, dim) = grid(&client, n / per_unit);
        p.forward
            .forward_real(&fields.strain_rate.handle, &p.spectrum)
            .expect("the plans and buffers were made for this lattice");
        propagate::launch(
            &client,
            count.clone(),
            dim,
            plane(&p.spectrum.re, n),
            plane(&p.spectrum.im, n),
            plane(&p.table_packed, n),
            plane(&p.table_displacement_y, n),
            arg(&fields.increments_re),
            arg(&fields.increments_im),
            n,
            per_unit,
        );
        let increments = ComplexBuffers {
            re: fields.increments_re.handle.clone(),
            im: fields.increments_im.handle.clone(),
        };
        p.inverse
            .inverse(&increments, &increments)
            .expect("the plans and buffers were made for this lattice");
        update_stress::launch(
            &client,
            count,
            dim,
            arg(&fields.increments_re),
            arg(&fields.stress),
            arg(&fields.status),
            step as u32,
            n,
            per_unit,
        );
        fields
    }

    fn advect(fields: ModelFields<Self>, tracers: usize) -> ModelFields<Self> {
        if tracers == 0 {
            return fields;
        }
        let fields = ModelFields {
            tracer_cells: owned(fields.tracer_cells),
            tracer_fractions: owned(fields.tracer_fractions),
            ..fields
        };
        let client = fields.stress.client.clone();
        let n = elements(&fields.stress);
        let (count, dim) = grid(&client, tracers);
        advect_tracers::launch(
            &client,
            count,
            dim,
            arg(&fields.tracer_cells),
            arg(&fields.tracer_fractions),
            arg(&fields.increments_im),
            arg(&fields.increments_re),
            n,
            (n.trailing_zeros() / 2) as usize,
            tracers,
        );
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
        let client = fields.stress.client.clone();
        let p = propagation;
        let n = p.l * p.l;
        let (count, dim) = grid(&client, n);
        plastic_strain::launch(
            &client,
            count.clone(),
            dim,
            arg(&fields.plastic),
            plane(&p.strain, n),
            unit,
            n,
        );
        p.forward
            .forward_real(&p.strain, &p.spectrum)
            .expect("the plans and buffers were made for this lattice");
        scale_spectrum::launch(
            &client,
            count.clone(),
            dim,
            plane(&p.spectrum.re, n),
            plane(&p.spectrum.im, n),
            plane(&p.table_stress, n),
            n,
        );
        p.forward
            .inverse(&p.spectrum, &p.spectrum)
            .expect("the plans and buffers were made for this lattice");
        resynchronise::launch(
            &client,
            count,
            dim,
            arg(&fields.initial_stress),
            plane(&p.spectrum.re, n),
            arg(&fields.stress),
            n,
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
        params: StepParams,
        slot: u32,
        batch_start: Option<u64>,
    ) -> ModelFields<Dispatch>;
    /// The rule's rate on the CPU ([`Activation::rate_cpu`]).
    fn rate_cpu(&self, sigma: f32) -> f32;
}

impl<A: Activation + Send + Sync> DynActivation for A {
    fn activate(
        &self,
        fields: ModelFields<Dispatch>,
        params: StepParams,
        slot: u32,
        batch_start: Option<u64>,
    ) -> ModelFields<Dispatch> {
        <Dispatch as ModelBackend>::activate::<A>(fields, self.clone(), params, slot, batch_start)
    }
    fn rate_cpu(&self, sigma: f32) -> f32 {
        Activation::rate_cpu(self, sigma)
    }
}
