//! The FFT crate on its own: transform a field on the device, check it against rustfft and
//! time both. `cargo run --example fft2d -- [L] [repeats]` (default 512, 20).

use std::time::Instant;

use epm_fft::cubecl::future::block_on;
use epm_fft::reference::RustFft2d;
use epm_fft::reference::relative_l2;
use epm_fft::{ComplexField, Fft2dPlanner};
use rustfft::num_complex::Complex;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let l: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(512);
    let repeats: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);

    // ANCHOR: plan
    let client = epm_fft::device::default_device()?.client();
    println!("{}", epm_fft::device::describe(&client));
    let planner = Fft2dPlanner::<f32>::new(&client);
    let fft = planner.plan(1, l, l)?; // batch, ly, lx
    // ANCHOR_END: plan

    // A smooth field plus a little structure: two plane waves on a ramp.
    let mut field = ComplexField::zeros(l, l);
    for y in 0..l {
        for x in 0..l {
            let (fx, fy) = (x as f32 / l as f32, y as f32 / l as f32);
            field.re[y * l + x] = (2.0 * std::f32::consts::PI * (3.0 * fx + 5.0 * fy)).cos() + fx;
            field.im[y * l + x] = (2.0 * std::f32::consts::PI * 7.0 * fy).sin();
        }
    }

    // ANCHOR: transform
    let buffers = fft.upload(std::slice::from_ref(&field))?;
    fft.forward(&buffers, &buffers)?; // in place; the inverse divides by L * L
    let spectrum = fft.download(&buffers)?;
    // ANCHOR_END: transform

    // The same with rustfft on the CPU.
    let mut cpu = RustFft2d::new(l, l);
    let mut data: Vec<Complex<f32>> = field
        .re
        .iter()
        .zip(&field.im)
        .map(|(&r, &i)| Complex::new(r, i))
        .collect();
    cpu.forward(&mut data);
    let to64 = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
    let err = relative_l2(
        &to64(&spectrum[0].re),
        &to64(&spectrum[0].im),
        &data.iter().map(|c| c.re as f64).collect::<Vec<_>>(),
        &data.iter().map(|c| c.im as f64).collect::<Vec<_>>(),
    );
    println!("{l} x {l}: relative L2 difference from rustfft {err:.2e}");

    // Timing: forward + inverse pairs, synced with the device.
    fft.inverse(&buffers, &buffers)?;
    block_on(client.sync())?;
    let start = Instant::now();
    for _ in 0..repeats {
        fft.forward(&buffers, &buffers)?;
        fft.inverse(&buffers, &buffers)?;
    }
    block_on(client.sync())?;
    let ours = start.elapsed().as_secs_f64() * 1e3 / repeats as f64;
    let start = Instant::now();
    for _ in 0..repeats {
        cpu.forward(&mut data);
        cpu.inverse(&mut data);
    }
    let cpu = start.elapsed().as_secs_f64() * 1e3 / repeats as f64;
    println!("forward + inverse pair, mean of {repeats}:");
    println!("  epm-fft ({:?}): {ours:8.3} ms", fft.strategies());
    println!("  rustfft (CPU, 1 thread): {cpu:8.3} ms");
    println!("  ratio ours / rustfft: {:.2}", ours / cpu);
    let back = fft.download(&buffers)?;
    let drift = relative_l2(
        &to64(&back[0].re),
        &to64(&back[0].im),
        &to64(&field.re),
        &to64(&field.im),
    );
    println!("after {repeats} round trips the field is within {drift:.2e} of the original");
    Ok(())
}
