//! A temperature sweep in one launch: the thermal model at several temperatures as the
//! replicas of one ensemble (`epm::Ensemble`), every kernel launched once per step for all of
//! them. Each replica's mean activity (blocking error bars), the Arrhenius fit `a = A exp(-E/T)`
//! through them beside the paper's `3.1 exp(-0.48 / T)`, and the Arrhenius plot.
//!
//! `cargo run --release --example ensemble -- [OUT.png] [L] [steps] [T ...]`
//! (default: target/ensemble_arrhenius.png, L = 64, 20000 steps, T = 0.07 0.08 0.1 0.12 0.15
//! 0.2). The first quarter of the steps is warm-up.

use epm::observables::activity::{Activity, ActivityOptions};
use epm::{ActivationConfig, Config, Ensemble, Observer};
use plotters::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).peekable();
    let out = args
        .next_if(|a| a.ends_with(".png"))
        .unwrap_or_else(|| "target/ensemble_arrhenius.png".into());
    let l: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);
    let steps: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20_000);
    let mut temperatures: Vec<f64> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    if temperatures.is_empty() {
        temperatures = vec![0.07, 0.08, 0.1, 0.12, 0.15, 0.2];
    }
    if steps < 64 {
        return Err(format!("steps = {steps}: too few to measure (at least 64)").into());
    }
    let device = epm::device::default_device()?;
    println!("{}", epm::device::describe(&device.client()));

    // ANCHOR: ensemble
    // One configuration per replica: they may differ in temperature and seed only.
    let configs: Vec<Config> = temperatures
        .iter()
        .enumerate()
        .map(|(i, &temperature)| Config {
            l,
            steps,
            seed: 1 + i as u64,
            tracers: Some(0),
            activation: ActivationConfig::Thermal { temperature },
            ..Config::default()
        })
        .collect();
    let dt = configs[0].dt;
    let mut ensemble = Ensemble::new(configs, &device)?;
    // Each replica has its own observers: here the library's activity observer (blocking
    // error bars, as in `epm run`'s manifest), without stress histograms.
    let mut activities: Vec<Activity> = temperatures
        .iter()
        .map(|_| {
            let options = ActivityOptions {
                warm_up: steps / 4,
                stress_every: 0,
                ..Default::default()
            };
            Activity::new(options, dt)
        })
        .collect();
    let mut observers: Vec<Vec<&mut dyn Observer>> = activities
        .iter_mut()
        .map(|a| vec![a as &mut dyn Observer])
        .collect();
    let start = std::time::Instant::now();
    ensemble.advance(steps, &mut observers)?;
    // ANCHOR_END: ensemble
    let seconds = start.elapsed().as_secs_f64();
    let traffic = ensemble.step_traffic();
    println!(
        "L = {l}, {} replicas, {steps} steps in {seconds:.1} s: {:.0} replica-steps per second, \
         {} launches per step for all replicas\n",
        ensemble.replicas(),
        (steps as f64 * ensemble.replicas() as f64) / seconds,
        traffic.launches
    );

    println!("| T | a (measured) | standard error | paper 3.1 exp(-0.48/T) |");
    println!("|---|---|---|---|");
    let mut points = vec![];
    for (t, activity) in temperatures.iter().zip(&activities) {
        let (a, err) = activity.mean_activity();
        println!(
            "| {t} | {a:.4e} | {err:.1e} | {:.4e} |",
            3.1 * (-0.48 / t).exp()
        );
        if a > 0.0 && err > 0.0 {
            points.push((*t, a, err));
        }
    }
    let fit = epm::fit::arrhenius(&points)?;
    let (prefactor, energy) = (fit.params[0], fit.params[1]);
    println!(
        "\nArrhenius fit: A = {prefactor:.2} +- {:.2}, E = {energy:.3} +- {:.3} \
         (paper: A ~ 3.1, E ~ 0.48), chi2 / dof = {:.2}",
        fit.errors[0],
        fit.errors[1],
        fit.chi2 / fit.dof.max(1) as f64
    );

    if !epm_cli::figures::font_ready() {
        return Err("no TrueType font found: set EPM_FONT=/path/to/font.ttf".into());
    }
    // ln a against 1 / T: a straight line of slope -E.
    let x: Vec<f64> = points.iter().map(|p| 1.0 / p.0).collect();
    let y: Vec<f64> = points.iter().map(|p| p.1.ln()).collect();
    let pad = |lo: f64, hi: f64| (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
    let range = |v: &[f64]| {
        v.iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)))
    };
    let ((x0, x1), (y0, y1)) = (range(&x), range(&y));
    let ((x0, x1), (y0, y1)) = (pad(x0, x1), pad(y0 - 0.5, y1 + 0.5));
    let root = BitMapBackend::new(&out, (640, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Arrhenius plot, one ensemble of {} replicas", points.len()),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(52)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("1 / T")
        .y_desc("ln a")
        .draw()?;
    let line = |a: f64, e: f64, colour: RGBColor| {
        LineSeries::new(
            [x0, x1].map(|u| (u, a.ln() - e * u)),
            colour.stroke_width(2),
        )
    };
    chart
        .draw_series(line(prefactor, energy, BLUE))?
        .label(format!("fit: E = {energy:.3}"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
    chart
        .draw_series(line(3.1, 0.48, RGBColor(150, 150, 150)))?
        .label("paper: 3.1 exp(-0.48 / T)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RGBColor(150, 150, 150)));
    // ln a +- err / a: a bar and a dot per replica.
    let marks = points.iter().map(|&(t, a, err)| (1.0 / t, a.ln(), err / a));
    chart.draw_series(marks.clone().map(|(u, v, dv)| {
        PathElement::new(vec![(u, v - dv), (u, v + dv)], BLACK.stroke_width(1))
    }))?;
    chart.draw_series(marks.map(|(u, v, _)| Circle::new((u, v), 3, BLACK.filled())))?;
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    println!("wrote {out}");
    Ok(())
}
