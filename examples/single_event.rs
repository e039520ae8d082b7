//! The elastic answer to plastic events (the paper's Fig. 1, left): three sites switched on
//! at once, one step later the stress change (colour) and the displacement field (arrows).
//!
//! `cargo run --release --example single_event -- [OUT.png] [L]` (default
//! `target/single_event.png`, L = 64).

use std::sync::Arc;

use epm::activation::Random;
use epm::{Config, Simulation, State};
use plotters::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .unwrap_or_else(|| "target/single_event.png".into());
    let l: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(64);

    // ANCHOR: events
    let config = Config {
        l,
        tracers: Some(0),
        tau_res: 1e9, // the events last through the step
        ..Config::default()
    };
    let mut state = State::initial(&config);
    for (x, y, sign) in [
        (l / 4, l / 3, 1.0),
        (l / 2, l / 2, 1.0),
        (3 * l / 4, 2 * l / 3, -1.0),
    ] {
        state.active[y * l + x] = 1;
        state.sign[y * l + x] = sign;
    }
    let device = epm::device::default_device()?;
    let rule = Arc::new(Random { rate: 0.0 }); // nothing new activates: only these three
    let mut sim = Simulation::from_state(config, Some(rule), state, &device)?;
    sim.advance(1, &mut [])?;
    let stress = sim.stress().into_data().try_to_vec::<f32>()?; // the change: it started at zero
    let displacement = sim.displacement().into_data().try_to_vec::<f32>()?; // [du_x; du_y]
    // ANCHOR_END: events

    if !epm_cli::figures::font_ready() {
        return Err("no TrueType font found: set EPM_FONT=/path/to/font.ttf".into());
    }
    let root = BitMapBackend::new(&out, (760, 720)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Stress change and displacement of three plastic events",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..l as f64, 0f64..l as f64)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x")
        .y_desc("y")
        .draw()?;
    // Colour: the stress change, clipped at a tenth of its largest value to show the far field.
    let scale = stress.iter().fold(0.0f32, |m, s| m.max(s.abs())) as f64 * 0.1;
    chart.draw_series((0..l * l).map(|i| {
        let (x, y) = ((i % l) as f64, (i / l) as f64);
        let v = (stress[i] as f64 / scale).clamp(-1.0, 1.0);
        let color = if v >= 0.0 {
            RGBColor(255, (255.0 * (1.0 - v)) as u8, (255.0 * (1.0 - v)) as u8)
        } else {
            RGBColor((255.0 * (1.0 + v)) as u8, (255.0 * (1.0 + v)) as u8, 255)
        };
        Rectangle::new([(x, y), (x + 1.0, y + 1.0)], color.filled())
    }))?;
    // Arrows: the displacement every 4 sites, scaled so the longest is 3 lattice spacings.
    let n = l * l;
    let longest = (0..n)
        .map(|i| (displacement[i].hypot(displacement[n + i])) as f64)
        .fold(0.0, f64::max);
    let k = 3.0 / longest;
    for i in (0..n).filter(|i| (i % l) % 4 == 2 && (i / l) % 4 == 2) {
        let (x, y) = ((i % l) as f64 + 0.5, (i / l) as f64 + 0.5);
        let (dx, dy) = (displacement[i] as f64 * k, displacement[n + i] as f64 * k);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, y), (x + dx, y + dy)],
            BLACK.stroke_width(1),
        )))?;
        chart.draw_series(std::iter::once(Circle::new(
            (x + dx, y + dy),
            1,
            BLACK.filled(),
        )))?;
    }
    root.present()?;
    println!(
        "wrote {out}: stress change at the events {:.3} {:.3} {:.3}",
        stress[l / 3 * l + l / 4],
        stress[l / 2 * l + l / 2],
        stress[2 * l / 3 * l + 3 * l / 4]
    );
    Ok(())
}
