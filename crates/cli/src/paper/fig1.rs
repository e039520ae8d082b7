//! The paper's Fig. 1 (right): tracer trajectories at T = 0.1, drawn from the run's snapshot
//! file (`[output] trajectory_every`, [`epm::snapshots`]): long rests in a cage, then jumps
//! when a nearby event passes.

use super::{RunData, find};
use crate::figures::{Figure, Panel, Series, Style, palette};
use crate::model::Model;

/// Tracers drawn: enough to see rests and jumps, few enough to tell apart.
const DRAWN: usize = 12;

pub(super) fn fig1b(runs: &[RunData]) -> Figure {
    let mut main = Panel::new(
        "Fig. 1 (right): tracer trajectories, T = 0.1",
        "x - x(0) [lattice]",
        "y - y(0) [lattice]",
        false,
        false,
    );
    let trajectories = find(runs, Model::Thermal, 0.1)
        .and_then(|r| epm::snapshots::read_trajectories(&r.dir.join(epm::snapshots::FILE)).ok());
    if let Some(t) = trajectories
        && let Some(first) = t.positions.first()
    {
        // On a 4 x 3 grid, each from its own start, cells wide enough for the largest
        // excursion: x and y keep about the same scale, so the paths are not distorted.
        let spread = t
            .positions
            .last()
            .map(|last| {
                let n = first.len().min(DRAWN);
                (0..n)
                    .map(|i| (last[i].0 - first[i].0).hypot(last[i].1 - first[i].1))
                    .fold(0.0, f64::max)
            })
            .unwrap_or(1.0)
            .max(0.1);
        for i in 0..first.len().min(DRAWN) {
            let cell = 1.5 * spread;
            let (ox, oy) = ((i % 4) as f64 * cell, -((i / 4) as f64) * cell);
            main.series.push(Series {
                label: None,
                points: t
                    .positions
                    .iter()
                    .map(|p| (p[i].0 - first[i].0 + ox, p[i].1 - first[i].1 + oy))
                    .collect(),
                color: palette(i),
                style: Style::Line,
            });
        }
    }
    Figure { main, inset: None }
}
