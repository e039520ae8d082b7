//! The device FFT against rustfft, the naive DFT and the transform's identities, on whatever
//! adapter the build's backend finds (lavapipe in CI).

use std::sync::OnceLock;

use cubecl::prelude::*;
use epm_fft::reference::{dft2d, relative_l2, rustfft2d};
use epm_fft::{
    ComplexBuffers, ComplexField, Fft2d, FftError, PlanOptions, Shape2d, Strategy, Transform,
};
use rand::{Rng, SeedableRng, rngs::StdRng};

fn client() -> Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let device = epm_fft::device::default_device()
                .expect("no device: on Linux install mesa-vulkan-drivers (see README)");
            let client = device.client();
            eprintln!("{}", epm_fft::device::describe(&client));
            client
        })
        .clone()
}

/// The options of the execution profile this run of the tests stands for: `EPM_PROFILE=gpu`
/// takes `Auto` (lines in shared memory where they fit, the GPU profile's choice), anything
/// else radix passes (the CPU profile's). CI runs the tests once under each.
fn profile_options() -> PlanOptions {
    let gpu = std::env::var("EPM_PROFILE").is_ok_and(|p| p.trim().eq_ignore_ascii_case("gpu"));
    PlanOptions {
        strategy: if gpu {
            Strategy::Auto
        } else {
            Strategy::RadixPasses
        },
        ..PlanOptions::default()
    }
}

fn plan<F: epm_fft::FftFloat>(
    batch: usize,
    ly: usize,
    lx: usize,
    options: PlanOptions,
) -> Fft2d<F> {
    Fft2d::new(&client(), Shape2d::new(batch, ly, lx).unwrap(), options).unwrap()
}

fn random_field(rng: &mut StdRng, ly: usize, lx: usize) -> ComplexField<f32> {
    ComplexField {
        ly,
        lx,
        re: (0..ly * lx).map(|_| rng.random_range(-1.0..1.0)).collect(),
        im: (0..ly * lx).map(|_| rng.random_range(-1.0..1.0)).collect(),
    }
}

fn error_vs(ours: &ComplexField<f32>, truth: &ComplexField<f64>) -> f64 {
    let o = ours.to_f64();
    relative_l2(&o.re, &o.im, &truth.re, &truth.im)
}

const POWERS: [usize; 10] = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/// Every shape forward; the inverse, whose kernels are the forward's with conjugate twiddles
/// (a comptime flag: each a compile of its own, and all 100 took four minutes on lavapipe), on
/// the square shapes and the two most elongated ones, which give it every row and column length.
#[test]
fn matches_rustfft_for_every_shape_up_to_1024() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut worst = (0.0f64, 0, 0);
    let mut inverses = 0;
    for &ly in &POWERS {
        for &lx in &POWERS {
            let fft = plan::<f32>(1, ly, lx, profile_options());
            let x = random_field(&mut rng, ly, lx);
            let truth = rustfft2d(&x.to_f64(), false);
            let ours = fft.forward_host(std::slice::from_ref(&x)).unwrap();
            let mut err = error_vs(&ours[0], &truth);
            assert!(
                err <= 1e-5,
                "forward {ly} x {lx}: relative L2 error {err:e}"
            );
            if ly == lx || (ly, lx) == (2, 1024) || (ly, lx) == (1024, 2) {
                let truth_inv = rustfft2d(&x.to_f64(), true);
                let err_inv = error_vs(&fft.inverse_host(&[x]).unwrap()[0], &truth_inv);
                assert!(
                    err_inv <= 1e-5,
                    "inverse {ly} x {lx}: relative L2 error {err_inv:e}"
                );
                err = err.max(err_inv);
                inverses += 1;
            }
            if err > worst.0 {
                worst = (err, ly, lx);
            }
        }
    }
    assert_eq!(inverses, POWERS.len() + 2);
    eprintln!(
        "worst relative L2 error {:e} at {} x {}",
        worst.0, worst.1, worst.2
    );
}

#[test]
fn every_strategy_and_radix_matches_the_naive_dft() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut options = vec![];
    for max_radix_log2 in 1..=5 {
        for (strategy, lanes_log2) in [
            (Strategy::RadixPasses, 0),
            (Strategy::RadixPasses, 2),
            (Strategy::SharedLines, 0),
        ] {
            options.push(PlanOptions {
                strategy,
                max_radix_log2,
                lanes_log2,
            });
        }
    }
    for option in options {
        for (ly, lx) in [(2, 2), (2, 64), (32, 4), (16, 16), (8, 128), (64, 32)] {
            let fft = plan::<f32>(2, ly, lx, option);
            let fields = [
                random_field(&mut rng, ly, lx),
                random_field(&mut rng, ly, lx),
            ];
            let ours = fft.forward_host(&fields).unwrap();
            let back = fft.inverse_host(&ours).unwrap();
            for b in 0..2 {
                let truth = dft2d(&fields[b].to_f64(), false);
                let err = error_vs(&ours[b], &truth);
                assert!(err <= 1e-5, "{option:?} {ly} x {lx} field {b}: {err:e}");
                let err_back = error_vs(&back[b], &fields[b].to_f64());
                assert!(
                    err_back <= 1e-5,
                    "{option:?} {ly} x {lx} round trip: {err_back:e}"
                );
            }
        }
    }
}

#[test]
fn shared_line_matches_rustfft_at_large_sizes() {
    let mut rng = StdRng::seed_from_u64(3);
    let shared = PlanOptions {
        strategy: Strategy::SharedLines,
        ..PlanOptions::default()
    };
    for (ly, lx) in [(256, 1024), (1024, 128), (4096, 4), (8, 4096)] {
        let fft = plan::<f32>(1, ly, lx, shared);
        let x = random_field(&mut rng, ly, lx);
        let err = error_vs(
            &fft.forward_host(std::slice::from_ref(&x)).unwrap()[0],
            &rustfft2d(&x.to_f64(), false),
        );
        assert!(err <= 1e-5, "shared {ly} x {lx}: {err:e}");
    }
}

#[test]
fn longest_lines_4096() {
    let mut rng = StdRng::seed_from_u64(4);
    for (ly, lx) in [(4, 4096), (4096, 2)] {
        let fft = plan::<f32>(1, ly, lx, profile_options());
        let x = random_field(&mut rng, ly, lx);
        let err = error_vs(
            &fft.forward_host(std::slice::from_ref(&x)).unwrap()[0],
            &rustfft2d(&x.to_f64(), false),
        );
        assert!(err <= 1e-5, "{ly} x {lx}: {err:e}");
    }
}

#[test]
fn round_trip_and_parseval() {
    let mut rng = StdRng::seed_from_u64(5);
    for (ly, lx) in [(64, 64), (128, 32), (256, 256)] {
        let fft = plan::<f32>(1, ly, lx, profile_options());
        let x = random_field(&mut rng, ly, lx);
        let spec = fft.forward_host(std::slice::from_ref(&x)).unwrap();
        let back = fft.inverse_host(&spec).unwrap();
        let err = error_vs(&back[0], &x.to_f64());
        assert!(err <= 1e-6, "round trip {ly} x {lx}: {err:e}");
        // Parseval: sum |x|^2 = (1/N) sum |X|^2.
        let energy = |f: &ComplexField<f32>| -> f64 {
            f.re.iter()
                .zip(&f.im)
                .map(|(&a, &b)| (a as f64).powi(2) + (b as f64).powi(2))
                .sum()
        };
        let (ex, es) = (energy(&x), energy(&spec[0]) / (ly * lx) as f64);
        assert!(
            ((ex - es) / ex).abs() < 1e-5,
            "Parseval {ly} x {lx}: {ex} vs {es}"
        );
    }
}

#[test]
fn impulse_gives_flat_spectrum_and_plane_wave_one_bin() {
    let (ly, lx) = (32, 64);
    let fft = plan::<f32>(1, ly, lx, profile_options());
    // Impulse at (y0, x0): X(k) = exp(-i q.r0), modulus 1 everywhere.
    let (y0, x0) = (3, 5);
    let mut impulse = ComplexField::zeros(ly, lx);
    impulse.re[y0 * lx + x0] = 1.0;
    let spec = &fft.forward_host(&[impulse]).unwrap()[0];
    for ky in 0..ly {
        for kx in 0..lx {
            let i = ky * lx + kx;
            let phase = -2.0
                * std::f64::consts::PI
                * ((ky * y0) as f64 / ly as f64 + (kx * x0) as f64 / lx as f64);
            assert!(
                (spec.re[i] as f64 - phase.cos()).abs() < 1e-5,
                "bin ({ky}, {kx})"
            );
            assert!(
                (spec.im[i] as f64 - phase.sin()).abs() < 1e-5,
                "bin ({ky}, {kx})"
            );
        }
    }
    // exp(+i q0.r) with q0 = 2 pi (kx0 / lx, ky0 / ly) puts N into bin (ky0, kx0) and 0 elsewhere.
    let (ky0, kx0) = (7, 50);
    let mut wave = ComplexField::zeros(ly, lx);
    for y in 0..ly {
        for x in 0..lx {
            let phase = 2.0
                * std::f64::consts::PI
                * ((ky0 * y) as f64 / ly as f64 + (kx0 * x) as f64 / lx as f64);
            wave.re[y * lx + x] = phase.cos() as f32;
            wave.im[y * lx + x] = phase.sin() as f32;
        }
    }
    let spec = &fft.forward_host(&[wave]).unwrap()[0];
    let n = (ly * lx) as f32;
    for i in 0..ly * lx {
        let expected = if i == ky0 * lx + kx0 { n } else { 0.0 };
        assert!(
            (spec.re[i] - expected).abs() < 2e-3 && spec.im[i].abs() < 2e-3,
            "bin {i}: {} {}",
            spec.re[i],
            spec.im[i]
        );
    }
}

#[test]
fn linearity_and_batch_independence() {
    let mut rng = StdRng::seed_from_u64(6);
    let (ly, lx, batch) = (64, 128, 3);
    let fields: Vec<_> = (0..batch).map(|_| random_field(&mut rng, ly, lx)).collect();
    let batched = plan::<f32>(batch, ly, lx, profile_options())
        .forward_host(&fields)
        .unwrap();
    let single = plan::<f32>(1, ly, lx, profile_options());
    for (b, f) in fields.iter().enumerate() {
        let alone = &single.forward_host(std::slice::from_ref(f)).unwrap()[0];
        assert_eq!(
            alone, &batched[b],
            "field {b} of the batch differs from its own transform"
        );
    }
    // F(2 a + 3 b) = 2 F(a) + 3 F(b).
    let (a, b) = (&fields[0], &fields[1]);
    let mix = ComplexField {
        ly,
        lx,
        re: a
            .re
            .iter()
            .zip(&b.re)
            .map(|(x, y)| 2.0 * x + 3.0 * y)
            .collect(),
        im: a
            .im
            .iter()
            .zip(&b.im)
            .map(|(x, y)| 2.0 * x + 3.0 * y)
            .collect(),
    };
    let f_mix = single.forward_host(&[mix]).unwrap()[0].to_f64();
    let (fa, fb) = (batched[0].to_f64(), batched[1].to_f64());
    let expect_re: Vec<f64> = fa
        .re
        .iter()
        .zip(&fb.re)
        .map(|(x, y)| 2.0 * x + 3.0 * y)
        .collect();
    let expect_im: Vec<f64> = fa
        .im
        .iter()
        .zip(&fb.im)
        .map(|(x, y)| 2.0 * x + 3.0 * y)
        .collect();
    assert!(relative_l2(&f_mix.re, &f_mix.im, &expect_re, &expect_im) < 1e-6);
}

#[test]
fn real_pair_spectra_match_rustfft_of_each_field() {
    let mut rng = StdRng::seed_from_u64(7);
    for (ly, lx, batch) in [(64, 64, 1), (16, 256, 2), (2, 2, 1)] {
        let fft = plan::<f32>(batch, ly, lx, profile_options());
        let client = client();
        let len = batch * ly * lx;
        let a: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
        let b: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
        let (ha, hb) = (
            client.create_from_slice(f32::as_bytes(&a)),
            client.create_from_slice(f32::as_bytes(&b)),
        );
        let (sa, sb) = (
            ComplexBuffers::empty::<f32>(&client, len),
            ComplexBuffers::empty::<f32>(&client, len),
        );
        fft.forward_real_pair(&ha, &hb, &sa, &sb).unwrap();
        let (ga, gb) = (fft.download(&sa).unwrap(), fft.download(&sb).unwrap());
        // forward_real agrees too.
        let sr = ComplexBuffers::empty::<f32>(&client, len);
        fft.forward_real(&ha, &sr).unwrap();
        let gr = fft.download(&sr).unwrap();
        let n = ly * lx;
        for k in 0..batch {
            let field = |v: &[f32]| {
                ComplexField::from_real(
                    ly,
                    lx,
                    v[k * n..(k + 1) * n].iter().map(|&x| x as f64).collect(),
                )
            };
            let (ta, tb) = (rustfft2d(&field(&a), false), rustfft2d(&field(&b), false));
            for (name, ours, truth) in [
                ("a", &ga[k], &ta),
                ("b", &gb[k], &tb),
                ("real", &gr[k], &ta),
            ] {
                let err = error_vs(ours, truth);
                assert!(err <= 1e-5, "{name} {ly} x {lx} field {k}: {err:e}");
            }
        }
        // And back: the inverse of the pair returns both real fields.
        let (ra, rb) = (client.empty(len * 4), client.empty(len * 4));
        fft.inverse_real_pair(&sa, &sb, &ra, &rb).unwrap();
        let (ba, bb) = (fft.read_plane(&ra).unwrap(), fft.read_plane(&rb).unwrap());
        for i in 0..len {
            assert!(
                (ba[i] - a[i]).abs() < 1e-5 && (bb[i] - b[i]).abs() < 1e-5,
                "element {i}"
            );
        }
    }
}

/// `inverse_filtered` (filter fused into the first load, accumulation into the last store)
/// against rustfft of the products, for one-pass and many-pass axes and both strategies; the
/// accumulation is the stored real part added in `f32`, and a non-finite sum is recorded.
#[test]
fn filtered_inverse_with_accumulation_matches_separate_steps() {
    let mut rng = StdRng::seed_from_u64(11);
    let client = client();
    // (strategy, radix, batch, filters, ly, lx): `batch / filters` spectra (replicas).
    let cases = [
        (Strategy::RadixPasses, 4, 3, 3, 16, 16), // one pass per axis: the first is the last
        (Strategy::RadixPasses, 2, 2, 2, 8, 64),  // several passes per axis, rectangular
        (Strategy::SharedLines, 3, 3, 3, 16, 256),
        (Strategy::RadixPasses, 2, 6, 2, 16, 32), // three replicas of two filters
        (Strategy::SharedLines, 3, 4, 1, 8, 64),  // one filter per spectrum
    ];
    // Radix passes with and without lanes (the accumulating pass is one of them).
    let runs = cases.into_iter().flat_map(|c| [(c, 0), (c, 2)]);
    for ((strategy, max_radix_log2, batch, filters, ly, lx), lanes_log2) in runs {
        let options = PlanOptions {
            strategy,
            max_radix_log2,
            lanes_log2,
        };
        let fft = plan::<f32>(batch, ly, lx, options);
        let (n, len) = (ly * lx, batch * ly * lx);
        let spectra = batch / filters;
        let x: Vec<ComplexField<f32>> = (0..spectra)
            .map(|_| random_field(&mut rng, ly, lx))
            .collect();
        let h: Vec<ComplexField<f32>> = (0..filters)
            .map(|_| random_field(&mut rng, ly, lx))
            .collect();
        let flat = |fields: &[ComplexField<f32>]| {
            let re: Vec<f32> = fields.iter().flat_map(|f| f.re.clone()).collect();
            let im: Vec<f32> = fields.iter().flat_map(|f| f.im.clone()).collect();
            ComplexBuffers {
                re: client.create_from_slice(f32::as_bytes(&re)),
                im: client.create_from_slice(f32::as_bytes(&im)),
            }
        };
        let spectrum = flat(&x);
        let filter_buffers = flat(&h);
        let output = ComplexBuffers::empty::<f32>(&client, len);
        let target0: Vec<f32> = (0..spectra * n)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let target = client.create_from_slice(f32::as_bytes(&target0));
        let status = client.create_from_slice(u32::as_bytes(&[u32::MAX, 0]));
        let acc = epm_fft::Accumulate {
            target: &target,
            status: &status,
            tag: 9,
        };
        fft.inverse_filtered(&spectrum, &filter_buffers, &output, Some(acc))
            .unwrap();
        let out = fft.download(&output).unwrap();
        assert_eq!(out.len(), batch);
        for (b, field) in out.iter().enumerate() {
            let (r, f) = (b / filters, b % filters);
            let (xr, hf) = (x[r].to_f64(), h[f].to_f64());
            let product = ComplexField {
                ly,
                lx,
                re: (0..n)
                    .map(|i| hf.re[i] * xr.re[i] - hf.im[i] * xr.im[i])
                    .collect(),
                im: (0..n)
                    .map(|i| hf.re[i] * xr.im[i] + hf.im[i] * xr.re[i])
                    .collect(),
            };
            let truth = rustfft2d(&product, true);
            let err = error_vs(field, &truth);
            assert!(err <= 1e-5, "{options:?} {ly} x {lx} field {b}: {err:e}");
        }
        let summed = f32::from_bytes(&client.read_one(target.clone()).unwrap()).to_vec();
        for r in 0..spectra {
            for i in 0..n {
                let got = summed[r * n + i];
                let want = target0[r * n + i] + out[r * filters].re[i];
                assert_eq!(got, want, "{options:?} replica {r} site {i}");
            }
        }
        let recorded = u32::from_bytes(&client.read_one(status.clone()).unwrap()).to_vec();
        assert_eq!(recorded, [u32::MAX, 0], "{options:?}: all sums finite");
        // A target that is not finite is recorded with its tag and target address.
        let mut bad = target0.clone();
        let bad_at = (spectra - 1) * n + 5;
        bad[bad_at] = f32::INFINITY;
        let target = client.create_from_slice(f32::as_bytes(&bad));
        let acc = epm_fft::Accumulate {
            target: &target,
            status: &status,
            tag: 4,
        };
        fft.inverse_filtered(&spectrum, &filter_buffers, &output, Some(acc))
            .unwrap();
        let recorded = u32::from_bytes(&client.read_one(status.clone()).unwrap()).to_vec();
        assert_eq!(recorded, [4, bad_at as u32], "{options:?}");
    }
    // Lengths are checked and named.
    let fft = plan::<f32>(2, 8, 16, profile_options());
    let field = ComplexBuffers::empty::<f32>(&client, 8 * 16);
    let batch = ComplexBuffers::empty::<f32>(&client, 2 * 8 * 16);
    let status = client.empty(8);
    let short = client.empty(4 * 100);
    let named = |r: Result<(), FftError>| match r {
        Err(FftError::BufferLength { buffer, .. }) => buffer,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        named(fft.inverse_filtered(&batch, &batch, &batch, None)),
        "spectrum.re"
    );
    let three = ComplexBuffers::empty::<f32>(&client, 3 * 8 * 16);
    assert_eq!(
        named(fft.inverse_filtered(&field, &three, &batch, None)),
        "filters.re"
    );
    let acc = epm_fft::Accumulate {
        target: &short,
        status: &status,
        tag: 0,
    };
    assert_eq!(
        named(fft.inverse_filtered(&field, &batch, &batch, Some(acc))),
        "accumulate.target"
    );
}

/// Real fields in row pairs ([`epm_fft::real_rows`]): the half-size forward is the transform
/// of `even rows + i odd rows`, and the filtered inverse returns the real inverse of `H_f E_r`
/// (even rows in the real plane, odd rows in the imaginary plane), against rustfft in `f64`;
/// the accumulation adds both rows in `f32` and records a non-finite sum; the same transforms
/// made in one cube per replica are the launches' bit for bit.
#[test]
fn real_fields_in_row_pairs_match_full_transforms() {
    let mut rng = StdRng::seed_from_u64(13);
    let client = client();
    let upload = |v: &[f32]| client.create_from_slice(f32::as_bytes(v));
    let read =
        |h: &cubecl::server::Handle| f32::from_bytes(&client.read_one(h.clone()).unwrap()).to_vec();
    // (strategy, max radix, replicas, filters, rows l, lx): one and several passes per axis,
    // square and rectangular, rows' first pass in lanes or not.
    let cases = [
        (Strategy::RadixPasses, 4, 1, 3, 16, 16),
        (Strategy::RadixPasses, 2, 2, 3, 32, 64),
        (Strategy::RadixPasses, 5, 3, 2, 64, 64),
        (Strategy::SharedLines, 3, 2, 3, 16, 256),
    ];
    let runs = cases.into_iter().flat_map(|c| [(c, 0), (c, 2)]);
    for ((strategy, max_radix_log2, replicas, filters, l, lx), lanes_log2) in runs {
        let options = PlanOptions {
            strategy,
            max_radix_log2,
            lanes_log2,
        };
        let case = format!("{options:?}, {replicas} x {l} x {lx}, {filters} filters");
        let (ly, n) = (l / 2, l * lx);
        let half = ly * lx;
        let forward = plan::<f32>(replicas, ly, lx, options);
        let inverse = plan::<f32>(replicas * filters, ly, lx, options);
        let e: Vec<f32> = (0..replicas * n)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        // Hermitian filters: spectra of real kernels.
        let h: Vec<Vec<(f64, f64)>> = (0..filters)
            .map(|_| {
                let kernel: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
                let s = rustfft2d(&ComplexField::from_real(l, lx, kernel).to_f64(), false);
                s.re.into_iter().zip(s.im).collect()
            })
            .collect();
        let (table_re, table_im) = epm_fft::real_rows::filter_tables::<f32>(&h, l, lx);
        let z = ComplexBuffers::empty::<f32>(&client, replicas * half);
        forward.forward_real_rows(&upload(&e), &z).unwrap();
        let (z_re, z_im) = (read(&z.re), read(&z.im));
        for r in 0..replicas {
            let field = &e[r * n..(r + 1) * n];
            let paired = ComplexField {
                ly,
                lx,
                re: (0..half)
                    .map(|i| field[(i / lx) * 2 * lx + i % lx])
                    .collect(),
                im: (0..half)
                    .map(|i| field[(i / lx) * 2 * lx + lx + i % lx])
                    .collect(),
            };
            let truth = rustfft2d(&paired.to_f64(), false);
            let ours = ComplexField {
                ly,
                lx,
                re: z_re[r * half..(r + 1) * half].to_vec(),
                im: z_im[r * half..(r + 1) * half].to_vec(),
            };
            let err = error_vs(&ours, &truth);
            assert!(err <= 1e-5, "{case}: forward of replica {r}: {err:e}");
        }
        let tables = ComplexBuffers {
            re: upload(&table_re),
            im: upload(&table_im),
        };
        let output = ComplexBuffers::empty::<f32>(&client, replicas * filters * half);
        let mut target0: Vec<f32> = (0..replicas * n)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let target = upload(&target0);
        let status = client.create_from_slice(u32::as_bytes(&[u32::MAX, 0]));
        let acc = epm_fft::Accumulate {
            target: &target,
            status: &status,
            tag: 6,
        };
        inverse
            .inverse_filtered_rows(&z, &tables, &output, Some(acc))
            .unwrap();
        let out = inverse.download(&output).unwrap();
        for (b, field) in out.iter().enumerate() {
            let (r, f) = (b / filters, b % filters);
            let spectrum = rustfft2d(
                &ComplexField::from_real(l, lx, e[r * n..(r + 1) * n].to_vec()).to_f64(),
                false,
            );
            let product = ComplexField {
                ly: l,
                lx,
                re: (0..n)
                    .map(|i| h[f][i].0 * spectrum.re[i] - h[f][i].1 * spectrum.im[i])
                    .collect(),
                im: (0..n)
                    .map(|i| h[f][i].0 * spectrum.im[i] + h[f][i].1 * spectrum.re[i])
                    .collect(),
            };
            let a = rustfft2d(&product, true);
            let rows = |parity: usize| -> Vec<f64> {
                (0..half)
                    .map(|i| a.re[(i / lx) * 2 * lx + parity * lx + i % lx])
                    .collect()
            };
            let truth = ComplexField {
                ly,
                lx,
                re: rows(0),
                im: rows(1),
            };
            let err = error_vs(field, &truth);
            assert!(err <= 1e-5, "{case}: inverse of field {b}: {err:e}");
        }
        let summed = read(&target);
        for r in 0..replicas {
            for i in 0..half {
                let even = r * n + (i / lx) * 2 * lx + i % lx;
                let own = &out[r * filters];
                assert_eq!(
                    summed[even],
                    target0[even] + own.re[i],
                    "{case}: even row {i}"
                );
                assert_eq!(
                    summed[even + lx],
                    target0[even + lx] + own.im[i],
                    "{case}: odd row {i}"
                );
            }
        }
        let recorded = u32::from_bytes(&client.read_one(status.clone()).unwrap()).to_vec();
        assert_eq!(recorded, [u32::MAX, 0], "{case}: all sums finite");
        // A non-finite sum in an odd row of the last replica is recorded at its address.
        let bad_at = (replicas - 1) * n + lx + 3;
        target0[bad_at] = f32::NAN;
        let run = |in_cubes: bool| {
            let output = ComplexBuffers::empty::<f32>(&client, replicas * filters * half);
            let z = ComplexBuffers::empty::<f32>(&client, replicas * half);
            let target = upload(&target0);
            let status = client.create_from_slice(u32::as_bytes(&[u32::MAX, 0]));
            let acc = epm_fft::Accumulate {
                target: &target,
                status: &status,
                tag: 2,
            };
            let input = upload(&e);
            if in_cubes {
                forward
                    .forward_real_rows_in_cubes(&input, &z, replicas, 128)
                    .unwrap();
                inverse
                    .inverse_filtered_rows_in_cubes(&z, &tables, &output, Some(acc), replicas, 128)
                    .unwrap();
            } else {
                forward.forward_real_rows(&input, &z).unwrap();
                inverse
                    .inverse_filtered_rows(&z, &tables, &output, Some(acc))
                    .unwrap();
            }
            let status = u32::from_bytes(&client.read_one(status).unwrap()).to_vec();
            let bits = |h: &cubecl::server::Handle| {
                read(h).iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            (
                bits(&z.re),
                bits(&output.re),
                bits(&output.im),
                bits(&target),
                status,
            )
        };
        let launches = run(false);
        assert_eq!(launches.4, [2, bad_at as u32], "{case}: fault");
        if strategy == Strategy::RadixPasses && lanes_log2 == 2 {
            assert_eq!(launches, run(true), "{case}: in cubes");
        }
    }
    // Lengths are checked and named: the input holds two rows per row of the plan, the target
    // too, the filters two tables each.
    let fft = plan::<f32>(1, 8, 16, profile_options());
    let half = ComplexBuffers::empty::<f32>(&client, 8 * 16);
    let named = |r: Result<(), FftError>| match r {
        Err(FftError::BufferLength { buffer, .. }) => buffer,
        other => panic!("{other:?}"),
    };
    assert_eq!(named(fft.forward_real_rows(&half.re, &half)), "input");
    let status = client.empty(8);
    let acc = epm_fft::Accumulate {
        target: &half.re,
        status: &status,
        tag: 0,
    };
    let tables = ComplexBuffers::empty::<f32>(&client, 2 * 8 * 16);
    assert_eq!(
        named(fft.inverse_filtered_rows(&half, &tables, &half, Some(acc))),
        "accumulate.target"
    );
    assert_eq!(
        named(fft.inverse_filtered_rows(&half, &half, &half, None)),
        "filters.re"
    );
}

#[test]
fn transforms_in_one_cube_per_group_are_the_plans_bit_for_bit() {
    let mut rng = StdRng::seed_from_u64(12);
    let client = client();
    let bits = |h: &cubecl::server::Handle| {
        f32::from_bytes(&client.read_one(h.clone()).unwrap())
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    let upload = |v: &[f32]| client.create_from_slice(f32::as_bytes(v));
    let random = |rng: &mut StdRng, len: usize| -> Vec<f32> {
        (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
    };
    // (max radix, spectra, filters, l, groups, units per cube): one and two passes per axis,
    // one and two spectra per group, fewer and more units than a pass has blocks.
    let cases = [
        (5, 2, 2, 32, 2, 64),
        (3, 4, 2, 64, 2, 256),
        (3, 1, 2, 16, 1, 32),
        (4, 3, 1, 64, 3, 1024),
    ];
    for (max_radix_log2, spectra, filters, l, groups, units) in cases {
        let options = PlanOptions {
            strategy: Strategy::RadixPasses,
            max_radix_log2,
            ..PlanOptions::default()
        };
        let n = l * l;
        let case = format!("radix 2^{max_radix_log2}, {spectra} x {l}^2, {groups} groups");
        // Forward transform of real fields.
        let forward = plan::<f32>(spectra, l, l, options);
        let input = upload(&random(&mut rng, spectra * n));
        let (a, b) = (
            ComplexBuffers::empty::<f32>(&client, spectra * n),
            ComplexBuffers::empty::<f32>(&client, spectra * n),
        );
        forward.forward_real(&input, &a).unwrap();
        forward
            .forward_real_in_cubes(&input, &b, groups, units)
            .unwrap();
        assert_eq!(bits(&a.re), bits(&b.re), "{case}: forward, real part");
        assert_eq!(bits(&a.im), bits(&b.im), "{case}: forward, imaginary part");
        // Filtered inverse with its accumulation, and a non-finite sum recorded alike.
        let inverse = plan::<f32>(spectra * filters, l, l, options);
        let len = spectra * filters * n;
        let filter_buffers = ComplexBuffers {
            re: upload(&random(&mut rng, filters * n)),
            im: upload(&random(&mut rng, filters * n)),
        };
        let mut target0 = random(&mut rng, spectra * n);
        target0[(spectra - 1) * n + 7] = f32::INFINITY;
        let run = |in_cubes: bool| {
            let output = ComplexBuffers::empty::<f32>(&client, len);
            let target = upload(&target0);
            let status = client.create_from_slice(u32::as_bytes(&[u32::MAX, 0]));
            let acc = epm_fft::Accumulate {
                target: &target,
                status: &status,
                tag: 3,
            };
            if in_cubes {
                inverse
                    .inverse_filtered_in_cubes(
                        &a,
                        &filter_buffers,
                        &output,
                        Some(acc),
                        groups,
                        units,
                    )
                    .unwrap();
            } else {
                inverse
                    .inverse_filtered(&a, &filter_buffers, &output, Some(acc))
                    .unwrap();
            }
            let status = u32::from_bytes(&client.read_one(status).unwrap()).to_vec();
            (bits(&output.re), bits(&output.im), bits(&target), status)
        };
        let (launches, one) = (run(false), run(true));
        assert_eq!(launches.0, one.0, "{case}: inverse, real part");
        assert_eq!(launches.1, one.1, "{case}: inverse, imaginary part");
        assert_eq!(launches.2, one.2, "{case}: accumulated target");
        assert_eq!(one.3, [3, ((spectra - 1) * n + 7) as u32], "{case}: fault");
    }
    // Plans the cubes cannot run are typed errors, not launches.
    let radix = PlanOptions {
        strategy: Strategy::RadixPasses,
        ..PlanOptions::default()
    };
    let fft = plan::<f32>(2, 32, 16, radix);
    let (input, out) = (
        client.empty(4 * 2 * 16 * 32),
        ComplexBuffers::empty::<f32>(&client, 1024),
    );
    assert!(matches!(
        fft.forward_real_in_cubes(&input, &out, 2, 64),
        Err(FftError::StrategyUnsupported { .. })
    ));
    let fft = plan::<f32>(2, 16, 16, radix);
    assert!(fft.in_cube(Transform::ForwardReal, 3).is_none());
    assert!(fft.in_cube(Transform::ForwardReal, 2).is_some());
    // The description is one group's: one kernel for any number of groups of a size.
    let one_group = |batch, groups| {
        plan::<f32>(batch, 16, 16, radix)
            .in_cube(Transform::ForwardReal, groups)
            .unwrap()
    };
    assert_eq!(one_group(2, 2), one_group(16, 16), "one field per group");
    assert_eq!(one_group(4, 2), one_group(6, 3), "two fields per group");
    assert_ne!(one_group(2, 2), one_group(4, 2));
}

#[test]
fn separate_launches_compile_once_for_every_batch() {
    // The kernels' comptime descriptions hold the shape and the transform, not the batch: an
    // ensemble of any size runs the kernels compiled for the first (each stops at the fields
    // its destination holds; the batches of 3 and 6 above check that it stops right).
    let transforms = [
        Transform::ForwardReal,
        Transform::ForwardRealRows,
        Transform::InverseFiltered {
            filters: 3,
            accumulate: true,
        },
        Transform::InverseFilteredRows {
            filters: 3,
            accumulate: false,
        },
    ];
    for (strategy, lanes_log2) in [
        (Strategy::RadixPasses, 0),
        (Strategy::RadixPasses, 2),
        (Strategy::SharedLines, 0),
    ] {
        let options = PlanOptions {
            strategy,
            lanes_log2,
            ..PlanOptions::default()
        };
        for transform in transforms {
            let kernels = |batch, l| plan::<f32>(batch, l, l, options).kernels(transform);
            let one = kernels(3, 64);
            let case = format!("{strategy:?}, lanes 2^{lanes_log2}, {transform:?}");
            assert!(!one.is_empty(), "{case}");
            for batch in [6, 9, 48] {
                assert_eq!(kernels(batch, 64), one, "{case}: batch {batch}");
            }
            assert_ne!(kernels(3, 32), one, "{case}: another shape");
        }
    }
}

#[test]
fn f64_matches_the_naive_dft() {
    let mut rng = StdRng::seed_from_u64(8);
    for (ly, lx) in [(8, 16), (64, 32)] {
        let fft = plan::<f64>(1, ly, lx, profile_options());
        let x = random_field(&mut rng, ly, lx).to_f64();
        let ours = &fft.forward_host(std::slice::from_ref(&x)).unwrap()[0];
        let truth = dft2d(&x, false);
        let err = relative_l2(&ours.re, &ours.im, &truth.re, &truth.im);
        assert!(err <= 1e-12, "f64 {ly} x {lx}: {err:e}");
    }
}

#[test]
fn bad_buffers_and_batches_are_typed_errors() {
    let client = client();
    let fft = plan::<f32>(2, 8, 16, profile_options());
    let good = ComplexBuffers::empty::<f32>(&client, 2 * 8 * 16);
    let short = ComplexBuffers {
        re: client.empty(100 * 4),
        im: good.im.clone(),
    };
    match fft.forward(&short, &good) {
        Err(FftError::BufferLength {
            buffer,
            expected,
            actual,
            ..
        }) => {
            assert_eq!((buffer, expected, actual), ("input.re", 256, 100))
        }
        other => panic!("{other:?}"),
    }
    let fields = [ComplexField::zeros(8, 16), ComplexField::zeros(16, 8)];
    match fft.upload(&fields) {
        Err(e @ FftError::ShapeMismatch { index: 1, .. }) => {
            assert!(e.to_string().contains("1 x 16 x 8"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Fft2d::<f32>::new(
            &client,
            Shape2d {
                batch: 1,
                ly: 8,
                lx: 24
            },
            profile_options()
        ),
        Err(FftError::InvalidLength {
            axis: "lx",
            value: 24,
            ..
        })
    ));
    let budget = client.properties().hardware.max_shared_memory_size;
    let too_long = Shape2d::new(1, 2, 4096).unwrap();
    assert_eq!(fft.strategies().0, fft.strategies().1);
    let forced = PlanOptions {
        strategy: Strategy::SharedLines,
        ..PlanOptions::default()
    };
    let result = Fft2d::<f64>::new(&client, too_long, forced);
    if 2 * 4096 * 8 > budget {
        assert!(matches!(result, Err(FftError::StrategyUnsupported { .. })));
    }
    // Options out of range are typed errors naming the option and its value.
    let out_of_range = [
        (
            PlanOptions {
                lanes_log2: 1,
                ..PlanOptions::default()
            },
            "lanes_log2 = 1",
        ),
        (
            PlanOptions {
                max_radix_log2: 6,
                ..PlanOptions::default()
            },
            "max_radix_log2 = 6",
        ),
    ];
    for (options, named) in out_of_range {
        match Fft2d::<f32>::new(&client, Shape2d::new(1, 16, 16).unwrap(), options) {
            Err(FftError::StrategyUnsupported { reason, .. }) => {
                assert!(reason.contains(named), "{reason}")
            }
            other => panic!("{options:?}: {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn planner_caches_plans() {
    let planner = epm_fft::Fft2dPlanner::<f32>::new(&client());
    let a = planner.plan(1, 16, 32).unwrap();
    let b = planner.plan(1, 16, 32).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    assert!(planner.plan(1, 0, 32).is_err());
}
