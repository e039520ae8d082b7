//! The CPU baseline the benchmarks and the demo compare against computes the same transform
//! as the device FFT: a ratio against a wrong baseline would mean nothing.

use epm_fft::reference::RustFft2d;
use epm_fft::{ComplexField, Fft2d, PlanOptions, Shape2d};
use rustfft::num_complex::Complex;

#[test]
fn rustfft_baseline_agrees_with_the_device_fft() {
    let client = epm_fft::device::default_device()
        .expect("no device: install mesa-vulkan-drivers")
        .client();
    for l in [8, 64, 256] {
        let re: Vec<f32> = (0..l * l)
            .map(|i| ((i * 37) % 101) as f32 / 101.0 - 0.5)
            .collect();
        let im: Vec<f32> = (0..l * l)
            .map(|i| ((i * 53) % 97) as f32 / 97.0 - 0.5)
            .collect();
        let field = ComplexField {
            ly: l,
            lx: l,
            re: re.clone(),
            im: im.clone(),
        };
        let fft = Fft2d::<f32>::new(
            &client,
            Shape2d::new(1, l, l).unwrap(),
            PlanOptions::default(),
        )
        .unwrap();
        let device = &fft.forward_host(&[field]).unwrap()[0];

        let mut cpu = RustFft2d::new(l, l);
        let mut data: Vec<Complex<f32>> = re
            .iter()
            .zip(&im)
            .map(|(&r, &i)| Complex::new(r, i))
            .collect();
        cpu.forward(&mut data);
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for (i, c) in data.iter().enumerate() {
            num += ((c.re - device.re[i]) as f64).powi(2) + ((c.im - device.im[i]) as f64).powi(2);
            den += (c.re as f64).powi(2) + (c.im as f64).powi(2);
        }
        assert!((num / den).sqrt() < 1e-5, "L = {l}: {}", (num / den).sqrt());

        cpu.inverse(&mut data);
        for (i, c) in data.iter().enumerate() {
            assert!(
                (c.re - re[i]).abs() < 1e-5 && (c.im - im[i]).abs() < 1e-5,
                "L = {l}, element {i}"
            );
        }
    }
}
