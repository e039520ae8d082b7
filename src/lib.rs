//! Shared pieces of the top-level examples, integration tests and benchmarks.

pub mod baseline {
    //! rustfft on the CPU, the baseline every FFT number is compared with.

    use std::sync::Arc;

    use rustfft::{Fft, FftPlanner, num_complex::Complex};

    /// A square 2D complex FFT on one CPU thread: rows, transpose, rows, transpose back.
    pub struct RustFft2d {
        l: usize,
        forward: Arc<dyn Fft<f32>>,
        inverse: Arc<dyn Fft<f32>>,
        tmp: Vec<Complex<f32>>,
        scratch: Vec<Complex<f32>>,
    }

    impl RustFft2d {
        /// Plans an `l x l` transform.
        pub fn new(l: usize) -> Self {
            let mut planner = FftPlanner::<f32>::new();
            let forward = planner.plan_fft_forward(l);
            let inverse = planner.plan_fft_inverse(l);
            let scratch = vec![Complex::default(); forward.get_inplace_scratch_len()];
            Self {
                l,
                forward,
                inverse,
                tmp: vec![Complex::default(); l * l],
                scratch,
            }
        }

        /// Unnormalised forward transform, in place.
        pub fn forward(&mut self, data: &mut [Complex<f32>]) {
            let plan = self.forward.clone();
            self.apply(plan.as_ref(), data);
        }

        /// Inverse transform divided by `l * l`, in place.
        pub fn inverse(&mut self, data: &mut [Complex<f32>]) {
            let plan = self.inverse.clone();
            self.apply(plan.as_ref(), data);
            let s = 1.0 / (self.l * self.l) as f32;
            data.iter_mut().for_each(|v| *v *= s);
        }

        fn apply(&mut self, plan: &dyn Fft<f32>, data: &mut [Complex<f32>]) {
            let l = self.l;
            plan.process_with_scratch(data, &mut self.scratch);
            transpose::transpose(data, &mut self.tmp, l, l);
            plan.process_with_scratch(&mut self.tmp, &mut self.scratch);
            transpose::transpose(&self.tmp, data, l, l);
        }
    }
}
