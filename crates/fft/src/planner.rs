//! A planner that caches plans per shape, as rustfft's `FftPlanner` does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cubecl::prelude::*;

use crate::error::FftError;
use crate::plan::{Fft2d, FftFloat, PlanOptions};
use crate::shape::Shape2d;

type PlanCache<F> = HashMap<(Shape2d, PlanOptions), Arc<Fft2d<F>>>;

/// Hands out one shared [`Fft2d`] per (shape, options): twiddles and scratch are made once.
pub struct Fft2dPlanner<F: FftFloat> {
    client: Client,
    plans: Mutex<PlanCache<F>>,
}

impl<F: FftFloat> Fft2dPlanner<F> {
    /// A planner for plans on `client`.
    pub fn new(client: &Client) -> Self {
        Self {
            client: client.clone(),
            plans: Mutex::new(HashMap::new()),
        }
    }

    /// The plan for `batch` fields of `ly x lx` with default options, made on first request.
    pub fn plan(&self, batch: usize, ly: usize, lx: usize) -> Result<Arc<Fft2d<F>>, FftError> {
        self.plan_with(Shape2d::new(batch, ly, lx)?, PlanOptions::default())
    }

    /// The plan for `shape` with `options`, made on first request.
    pub fn plan_with(
        &self,
        shape: Shape2d,
        options: PlanOptions,
    ) -> Result<Arc<Fft2d<F>>, FftError> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(plan) = plans.get(&(shape, options)) {
            return Ok(plan.clone());
        }
        let plan = Arc::new(Fft2d::new(&self.client, shape, options)?);
        plans.insert((shape, options), plan.clone());
        Ok(plan)
    }
}
