//! Criterion results (`target/criterion/<group>/<impl>/<L>/new/estimates.json`) as a markdown
//! table with ratios against the baselines measured in the same run.

use std::collections::BTreeMap;
use std::path::Path;

/// Mean time in ns per benchmark, `size -> id -> ns`, of one criterion group.
type Group = BTreeMap<u64, BTreeMap<String, f64>>;

/// One markdown table per criterion group found under `dir`.
pub fn render(dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    if let Ok(host) = std::fs::read_to_string(dir.join("host.txt")) {
        out += &format!("Host: {}\n\n", host.trim());
    }
    if let Ok(adapter) = std::fs::read_to_string(dir.join("adapter.txt")) {
        out += &format!("Device: {}\n\n", adapter.trim());
    }
    let groups = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut groups: Vec<_> = groups.flatten().filter(|e| e.path().is_dir()).collect();
    groups.sort_by_key(|e| e.file_name());
    // The copy floor of the FFT group, for the kernels' bandwidth.
    let copy: BTreeMap<u64, f64> = read_group(&dir.join("fft2d"))
        .into_iter()
        .filter_map(|(l, m)| Some((l, *m.get("copy-pass")?)))
        .collect();
    for group in groups {
        let name = group.file_name().to_string_lossy().to_string();
        if name == "report" {
            continue;
        }
        let rows = read_group(&group.path());
        if rows.is_empty() {
            continue;
        }
        out += &format!("### {name}\n\n");
        out += &match name.as_str() {
            "step" => {
                let traffic = read_lines(&dir.join("step-traffic.jsonl"));
                let anchor = read_lines(&dir.join("jax-anchor.jsonl"));
                // A table without rows (ids a run skipped, e.g. on a GPU) is left out.
                [
                    steps_table(&rows),
                    updates_table(&rows),
                    whole_table(&rows),
                    traffic_table(&rows, &traffic, &anchor),
                ]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
            }
            "step-kernels" => kernels_table(&rows) + "\n" + &bandwidth_table(&rows, &copy),
            "observers" => observers_table(&rows),
            "ensemble" => ensemble_table(dir),
            _ => comparison_table(&rows),
        };
        out += "\n";
    }
    Ok(out)
}

fn read_group(path: &Path) -> Group {
    let mut rows = Group::new();
    for imp in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let imp_name = imp.file_name().to_string_lossy().to_string();
        for size in std::fs::read_dir(imp.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(l) = size.file_name().to_string_lossy().parse::<u64>() else {
                continue;
            };
            let est = size.path().join("new/estimates.json");
            if let Some(mean) = std::fs::read_to_string(&est).ok().and_then(|s| mean_ns(&s)) {
                rows.entry(l).or_default().insert(imp_name.clone(), mean);
            }
        }
    }
    rows
}

/// The ids of a group, `first` (when present) before the others in name order.
fn ids(rows: &Group, first: &str) -> Vec<String> {
    let mut v: Vec<String> = rows.values().flat_map(|m| m.keys().cloned()).collect();
    v.sort();
    v.dedup();
    v.sort_by_key(|s| s != first);
    v
}

fn header(columns: &[String]) -> String {
    let mut s = String::from("| L |");
    for c in columns {
        s += &format!(" {c} |");
    }
    s += "\n|---|";
    s += &"---|".repeat(columns.len());
    s + "\n"
}

fn ms(ns: Option<&f64>) -> String {
    ns.map_or(" - |".into(), |ns| format!(" {:.3} |", ns / 1e6))
}

/// Times of every id, and `ours / id` for the others when an id is called `ours`.
fn comparison_table(rows: &Group) -> String {
    let imps = ids(rows, "ours");
    let has_ours = imps.first().is_some_and(|i| i == "ours");
    let mut columns: Vec<String> = imps.iter().map(|i| format!("{i} (ms)")).collect();
    if has_ours {
        columns.extend(imps.iter().skip(1).map(|i| format!("ours / {i}")));
    }
    let mut out = header(&columns);
    for (l, m) in rows {
        out += &format!("| {l} |");
        for i in &imps {
            out += &ms(m.get(i));
        }
        if has_ours {
            for i in imps.iter().skip(1) {
                match (m.get("ours"), m.get(i)) {
                    (Some(a), Some(b)) => out += &format!(" {:.2} |", a / b),
                    _ => out += " - |",
                }
            }
        }
        out += "\n";
    }
    out
}

/// The ids of the `step` group that force an update, or time one at another temperature
/// (see [`updates_table`]).
fn is_update_id(id: &str) -> bool {
    id.ends_with("-dense")
        || id.ends_with("-sparse")
        || id.starts_with("thermal-T")
        || is_whole_id(id)
}

/// The ids of the `step` group that compare the whole-step kernel with the separate launches
/// (see [`whole_table`]).
fn is_whole_id(id: &str) -> bool {
    id.starts_with("thermal-whole") || id.starts_with("thermal-launches")
}

/// The whole-step kernel against the separate launches, from the same state: many steps per
/// launch (no observers) and one (an observer that reads every step).
fn whole_table(rows: &Group) -> String {
    let mut out = String::from(
        "The whole-step kernel (one launch, one cube per replica) against the separate \
         launches (ms per step, T = 0.1; `each`: an observer reads every step, so one step per \
         launch):\n\n\
         | L | launches | whole | launches / whole | launches, each | whole, each | launches / whole, each |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let header = out.len();
    for (l, m) in rows {
        let get = |id: &str| m.get(id).copied();
        let pair = |a: Option<f64>, b: Option<f64>| {
            let ratio = match (a, b) {
                (Some(a), Some(b)) => format!(" {:.2} |", a / b),
                _ => " - |".into(),
            };
            format!("{}{}{ratio}", ms(a.as_ref()), ms(b.as_ref()))
        };
        if m.keys().any(|id| is_whole_id(id)) {
            out += &format!(
                "| {l} |{}{}\n",
                pair(get("thermal-launches"), get("thermal-whole")),
                pair(get("thermal-launches-each"), get("thermal-whole-each")),
            );
        }
    }
    if out.len() == header {
        return String::new();
    }
    out
}

/// The temperature of each base id of the update comparison.
const UPDATE_BASES: [(&str, &str); 3] = [
    ("thermal-lowT", "0.05"),
    ("thermal-T0.07", "0.07"),
    ("thermal", "0.1"),
];

/// The sparse and dense updates of the `step` group: each forced, the adapter's choice, and
/// the choice against the better of the two.
fn updates_table(rows: &Group) -> String {
    let mut out = String::from(
        "Sparse and dense updates (ms per step; `auto`: the adapter's choice):\n\n\
         | L | T | auto | dense | sparse | dense / sparse | auto / best |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let header = out.len();
    for (l, m) in rows {
        for (base, t) in UPDATE_BASES {
            let get = |suffix: &str| m.get(&format!("{base}{suffix}")).copied();
            let (Some(dense), Some(sparse)) = (get("-dense"), get("-sparse")) else {
                continue;
            };
            let auto = get("");
            let ratio = auto.map_or("-".into(), |a| format!("{:.2}", a / dense.min(sparse)));
            out += &format!(
                "| {l} | {t} |{}{}{} {:.2} | {ratio} |\n",
                ms(auto.as_ref()),
                ms(Some(&dense)),
                ms(Some(&sparse)),
                dense / sparse
            );
        }
    }
    if out.len() == header {
        return String::new();
    }
    out
}

/// Whole steps: one iteration is one step.
fn steps_table(rows: &Group) -> String {
    let rows: Group = rows
        .iter()
        .map(|(l, m)| {
            let m = m.iter().filter(|(id, _)| !is_update_id(id));
            (*l, m.map(|(id, ns)| (id.clone(), *ns)).collect())
        })
        .filter(|(_, m): &(u64, BTreeMap<String, f64>)| !m.is_empty())
        .collect();
    let rows = &rows;
    let imps = ids(rows, "thermal");
    let mut columns = vec![];
    for i in &imps {
        columns.push(format!("{i} (ms per step)"));
        columns.push(format!("{i} (steps per second)"));
    }
    let mut out = header(&columns);
    for (l, m) in rows {
        out += &format!("| {l} |");
        for i in &imps {
            out += &ms(m.get(i));
            out += &m
                .get(i)
                .map_or(" - |".into(), |ns| format!(" {:.0} |", 1e9 / ns));
        }
        out += "\n";
    }
    out
}

/// Steps with one observer each: milliseconds per step and the cost over bare steps.
fn observers_table(rows: &Group) -> String {
    let imps = ids(rows, "none");
    let mut out =
        String::from("| L | observer | ms per step | added ms per step |\n|---|---|---|---|\n");
    for (l, m) in rows {
        let base = m.get("none").copied();
        for i in &imps {
            let Some(ns) = m.get(i) else { continue };
            let added = base.map_or("-".into(), |b| format!("{:.3}", (ns - b) / 1e6));
            out += &format!("| {l} | {i} | {:.3} | {added} |\n", ns / 1e6);
        }
    }
    out
}

/// The JAX anchor's runs, `(L, steps per timed repetition)`: a few seconds each here.
pub const ANCHOR_RUNS: [(usize, usize); 4] = [(64, 4000), (128, 2000), (256, 400), (512, 100)];

/// The JAX anchor's ensemble runs, `(L, steps per timed repetition, B)`, for the `ensemble`
/// group's sizes.
pub const ANCHOR_ENSEMBLE_RUNS: [(usize, usize, usize); 7] = [
    (64, 4000, 1),
    (64, 1500, 4),
    (64, 500, 16),
    (64, 150, 64),
    (256, 400, 1),
    (256, 120, 4),
    (256, 40, 16),
];

/// The `ensemble` group (ids `thermal/L/B`: criterion's directories `thermal_L/B`) against the
/// JAX anchor with the same `B`, per replica-step.
fn ensemble_table(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("jax-anchor-ensemble.jsonl")).unwrap_or_default();
    let anchor: BTreeMap<(u64, u64), f64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let key = (v["L"].as_u64()?, v["B"].as_u64().unwrap_or(1));
            Some((key, v["ms_per_replica_step"].as_f64()?))
        })
        .collect();
    // `thermal_L` -> B -> ns per ensemble step.
    let rows = read_group(&dir.join("ensemble"));
    let mut by_l: BTreeMap<(u64, u64), f64> = BTreeMap::new();
    // The other way of running the step beside the adapter's choice: `(whole, launches)`.
    let mut other: BTreeMap<(u64, u64), (bool, f64)> = BTreeMap::new();
    for (b, m) in &rows {
        for (id, ns) in m {
            if let Some(l) = id.strip_prefix("thermal_").and_then(|l| l.parse().ok()) {
                by_l.insert((l, *b), *ns);
            }
            for (prefix, whole) in [("thermal-whole_", true), ("thermal-launches_", false)] {
                if let Some(l) = id.strip_prefix(prefix).and_then(|l| l.parse().ok()) {
                    other.insert((l, *b), (whole, *ns));
                }
            }
        }
    }
    let mut out = String::from(
        "One step of `B` replicas through `Ensemble::advance` (thermal T = 0.1, default tracers), \
         against B = 1 and against the JAX anchor with the same `B` (`jax_epm.py L STEPS 0.1 B`, \
         `jax.vmap`), same machine, same run; where the whole-step kernel can run, the step both \
         ways (ms per ensemble step; the adapter's choice is the first columns' time):\n\n\
         | L | B | ms per ensemble step | replica-steps per s | x B = 1 | JAX ms per replica-step | epm ms per replica-step | epm / JAX | whole steps | separate launches |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (&(l, b), &ns) in &by_l {
        let per_replica = ns / 1e6 / b as f64;
        let rate = 1e3 / per_replica;
        let gain = by_l
            .get(&(l, 1))
            .map_or("-".into(), |one| format!("{:.1}", one / 1e6 / per_replica));
        let jax = anchor.get(&(l, b));
        let (whole, launches) = match other.get(&(l, b)) {
            Some(&(true, w)) => (format!("{:.3}", w / 1e6), format!("{:.3}", ns / 1e6)),
            Some(&(false, s)) => (format!("{:.3}", ns / 1e6), format!("{:.3}", s / 1e6)),
            None => ("-".into(), "-".into()),
        };
        out += &format!(
            "| {l} | {b} | {:.3} | {rate:.0} | {gain} | {} | {per_replica:.4} | {} | {whole} | {launches} |\n",
            ns / 1e6,
            jax.map_or("-".into(), |j| format!("{j:.4}")),
            jax.map_or("-".into(), |j| format!("{:.1}", per_replica / j)),
        );
    }
    out
}

/// JSON objects, one per line, by their `"L"`.
fn read_lines(path: &Path) -> BTreeMap<u64, serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| Some((v["L"].as_u64()?, v)))
        .collect()
}

/// Per size: the counted launches and bytes of a step (`Simulation::step_traffic`), and the
/// measured step against the JAX anchor run right after the benchmarks.
fn traffic_table(
    rows: &Group,
    traffic: &BTreeMap<u64, serde_json::Value>,
    anchor: &BTreeMap<u64, serde_json::Value>,
) -> String {
    let mut out = String::from(
        "Launches and bytes of one step with events (counted), and the step against the JAX \
         anchor (`jax_epm.py L STEPS 0.1`, jit + lax.scan, same machine, same run):\n\n\
         | L | launches | MB moved | MB minimum | moved / minimum | epm (ms per step) | JAX (ms per step) | epm / JAX |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    let sizes: std::collections::BTreeSet<u64> =
        traffic.keys().chain(anchor.keys()).copied().collect();
    for l in sizes {
        let t = traffic.get(&l);
        let field = |k: &str| t.and_then(|t| t[k].as_f64());
        let mb = |v: Option<f64>| v.map_or("-".into(), |b| format!("{:.1}", b / 1e6));
        let ratio = match (field("bytes"), field("minimum_bytes")) {
            (Some(b), Some(m)) => format!("{:.1}", b / m),
            _ => "-".into(),
        };
        let ours = rows
            .get(&l)
            .and_then(|m| m.get("thermal"))
            .map(|ns| ns / 1e6);
        let jax = anchor.get(&l).and_then(|a| a["ms_per_step"].as_f64());
        let vs = match (ours, jax) {
            (Some(o), Some(j)) => format!("{:.1}", o / j),
            _ => "-".into(),
        };
        let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
        out += &format!(
            "| {l} | {} | {} | {} | {ratio} | {} | {} | {vs} |\n",
            field("launches").map_or("-".into(), |v| format!("{v:.0}")),
            mb(field("bytes")),
            mb(field("minimum_bytes")),
            ms(ours),
            ms(jax),
        );
    }
    out
}

/// Not a kernel of the step: the inverse transform without its fused work, for what that costs.
const UNFUSED: &str = "inverse-plain";

/// Each kernel of a step alone, and the share of the transforms in their sum.
fn kernels_table(rows: &Group) -> String {
    let order = [
        "activation",
        "forward-fft",
        "inverse-fft",
        "advect",
        UNFUSED,
    ];
    let mut imps: Vec<String> = order.iter().map(|s| s.to_string()).collect();
    for i in ids(rows, "") {
        if !imps.contains(&i) {
            imps.push(i);
        }
    }
    let mut columns: Vec<String> = imps.iter().map(|i| format!("{i} (ms)")).collect();
    columns.extend([
        "sum (ms)".into(),
        "FFT share".into(),
        "other kernels".into(),
    ]);
    let mut out = header(&columns);
    for (l, m) in rows {
        out += &format!("| {l} |");
        for i in &imps {
            out += &ms(m.get(i));
        }
        let step = || m.iter().filter(|(k, _)| k.as_str() != UNFUSED);
        let sum: f64 = step().map(|(_, v)| v).sum();
        let fft: f64 = step()
            .filter(|(k, _)| k.ends_with("-fft"))
            .map(|(_, v)| v)
            .sum();
        out += &format!(
            " {:.3} | {:.0} % | {:.0} % |\n",
            sum / 1e6,
            100.0 * fft / sum,
            100.0 * (sum - fft) / sum
        );
    }
    out
}

/// The bytes each kernel of a step must read and write per site at the least (`f32` fields),
/// as the algorithm stands: what carries over to a GPU, where a 256 x 256 step is bound by
/// memory traffic and launches. The transforms are counted as one ideal pass (in and out once).
/// The same counts as the model's `Simulation::step_traffic` (crates/epm/src/backend.rs, whose
/// test checks them by hand); xtask does not link the model, so they are written here too.
pub const KERNEL_BYTES_PER_SITE: [(&str, f64, &str); 4] = [
    (
        "activation",
        8.0,
        "reads stress and activity; writes only what changes",
    ),
    (
        "forward-fft",
        8.0,
        "reads the real strain rate, writes its Hermitian half spectrum",
    ),
    (
        "inverse-fft",
        26.0,
        "reads the half spectrum and three real tables on half the bins (the propagator \
         multiply, fused), writes du_x and du_y, reads and writes the stress (the update, fused)",
    ),
    (
        "advect",
        5.0,
        "80 bytes per tracer, one tracer per 16 sites",
    ),
];

/// Bytes the copy-pass kernel moves per site: two `f32` planes in, two out.
const COPY_BYTES_PER_SITE: f64 = 16.0;

/// Each kernel's achieved bandwidth (its minimum bytes over its time) against the copy
/// kernel's, measured in the same run: 100 % is as fast as a plain copy moving those bytes.
fn bandwidth_table(kernels: &Group, copy: &BTreeMap<u64, f64>) -> String {
    let mut out = String::from(
        "Bandwidth: each kernel's minimum bytes per site (below) over its time, against the \
         copy-pass kernel of the fft2d group (16 bytes per site) measured in the same run.\n\n\
         | L | kernel | bytes per site | GB/s | copy GB/s | of copy |\n|---|---|---|---|---|---|\n",
    );
    for (l, m) in kernels {
        let sites = (l * l) as f64;
        let copy_gbs = copy.get(l).map(|ns| COPY_BYTES_PER_SITE * sites / ns);
        let mut step_bytes = 0.0;
        for (name, bytes, _) in KERNEL_BYTES_PER_SITE {
            step_bytes += bytes;
            let Some(ns) = m.get(name) else { continue };
            let gbs = bytes * sites / ns;
            let (c, share) = copy_gbs.map_or(("-".into(), "-".into()), |c| {
                (format!("{c:.1}"), format!("{:.0} %", 100.0 * gbs / c))
            });
            out += &format!("| {l} | {name} | {bytes} | {gbs:.1} | {c} | {share} |\n");
        }
        out += &format!(
            "| {l} | whole step (minimum) | {step_bytes} | | | {:.1} MB per step |\n",
            step_bytes * sites / 1e6
        );
    }
    out += "\nWhat the bytes count: ";
    out += &KERNEL_BYTES_PER_SITE
        .iter()
        .map(|(n, _, why)| format!("{n}: {why}"))
        .collect::<Vec<_>>()
        .join("; ");
    out + ".\n"
}

/// The machine the benchmarks run on, in one line: CPU, logical cores, memory, OS, and the
/// date (UTC). On Linux from `/proc`; elsewhere what the standard library knows.
pub fn host() -> String {
    let proc = |file: &str, key: &str| {
        let text = std::fs::read_to_string(file).ok()?;
        let line = text.lines().find(|l| l.starts_with(key))?;
        Some(line.split_once(':')?.1.trim().to_string())
    };
    let cpu = proc("/proc/cpuinfo", "model name").unwrap_or_else(|| "CPU unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = proc("/proc/meminfo", "MemTotal")
        .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(String::new(), |kb| {
            format!(", {:.0} GiB", kb / (1024.0 * 1024.0))
        });
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let (y, m, d) = civil_date(days as i64);
    format!(
        "{cpu}, {cores} logical cores{memory}, {}; {y:04}-{m:02}-{d:02}",
        std::env::consts::OS
    )
}

/// Year, month, day of a count of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`).
fn civil_date(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The point estimate of the mean, in ns, from criterion's estimates.json.
fn mean_ns(json: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_bandwidth_is_bytes_over_time_against_the_copy() {
        // L = 256: the copy moves 16 * 65536 bytes in 0.1 ms (10.5 GB/s); the update reads and
        // writes 12 bytes per site in 0.15 ms (5.2 GB/s, half the copy's).
        let mut kernels = super::Group::new();
        kernels
            .entry(256)
            .or_default()
            .insert("activation".into(), 100_000.0);
        let copy = [(256, 200_000.0)].into_iter().collect();
        let table = super::bandwidth_table(&kernels, &copy);
        assert!(
            table.contains("| 256 | activation | 8 | 5.2 | 5.2 | 100 % |"),
            "{table}"
        );
        assert!(table.contains("whole step (minimum) | 47 |"), "{table}");
    }

    use super::*;

    #[test]
    fn kernel_shares_add_up() {
        let mut rows = Group::new();
        let m = rows.entry(256).or_default();
        m.insert("forward-fft".into(), 3e6);
        m.insert("inverse-fft".into(), 4e6);
        m.insert("activation".into(), 2e6);
        m.insert("advect".into(), 1e6);
        // Not part of the step: shown, left out of the sum.
        m.insert("inverse-plain".into(), 3.5e6);
        let table = kernels_table(&rows);
        assert!(table.contains("| 10.000 | 70 % | 30 % |"), "{table}");
        let steps = {
            let mut r = Group::new();
            r.entry(128).or_default().insert("thermal".into(), 4e6);
            steps_table(&r)
        };
        assert!(steps.contains("| 128 | 4.000 | 250 |"), "{steps}");
    }

    #[test]
    fn updates_compare_the_choice_with_the_better_update() {
        let mut r = Group::new();
        let m = r.entry(256).or_default();
        for (id, ms) in [
            ("thermal-lowT", 1.1),
            ("thermal-lowT-dense", 8.0),
            ("thermal-lowT-sparse", 1.0),
            ("thermal", 8.0),
        ] {
            m.insert(id.into(), ms * 1e6);
        }
        let t = updates_table(&r);
        assert!(
            t.contains("| 256 | 0.05 | 1.100 | 8.000 | 1.000 | 8.00 | 1.10 |"),
            "{t}"
        );
        // T = 0.1 has no forced ids here: no row; the plain table keeps only its own ids.
        assert!(!t.contains("| 0.1 |"), "{t}");
        let plain = steps_table(&r);
        assert!(
            plain.contains("thermal-lowT (ms") && !plain.contains("dense"),
            "{plain}"
        );
    }

    #[test]
    fn a_run_without_the_ids_of_a_table_leaves_the_table_out() {
        // A device run measures `thermal/L` only: no update or whole-step comparison.
        let mut r = Group::new();
        r.entry(64).or_default().insert("thermal".into(), 0.5e6);
        assert_eq!(updates_table(&r), "");
        assert_eq!(whole_table(&r), "");
        assert!(steps_table(&r).contains("| 64 | 0.500 |"));
    }

    #[test]
    fn whole_steps_are_compared_with_the_launches_in_their_own_table() {
        let mut r = Group::new();
        let m = r.entry(64).or_default();
        for (id, ms) in [
            ("thermal", 0.7),
            ("thermal-launches", 0.9),
            ("thermal-whole", 0.6),
            ("thermal-launches-each", 0.8),
            ("thermal-whole-each", 0.8),
        ] {
            m.insert(id.into(), ms * 1e6);
        }
        r.entry(256).or_default().insert("thermal".into(), 9e6);
        r.entry(32)
            .or_default()
            .insert("thermal-whole".into(), 0.3e6);
        let t = whole_table(&r);
        assert!(t.contains("\n| L | launches | whole |"), "{t}");
        assert!(
            t.contains("| 64 | 0.900 | 0.600 | 1.50 | 0.800 | 0.800 | 1.00 |"),
            "{t}"
        );
        assert!(!t.contains("| 256 |"), "{t}");
        let plain = steps_table(&r);
        assert!(
            !plain.contains("whole") && !plain.contains("launches"),
            "{plain}"
        );
        assert!(
            !plain.contains("| 32 |"),
            "a row of whole-step ids only: {plain}"
        );
    }

    #[test]
    fn traffic_and_anchor_ratios() {
        let mut r = Group::new();
        r.entry(64).or_default().insert("thermal".into(), 0.9e6);
        let line = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        let traffic = [(
            64,
            line(r#"{"L": 64, "launches": 10, "bytes": 900000, "minimum_bytes": 300000}"#),
        )]
        .into_iter()
        .collect();
        let anchor = [
            (64, line(r#"{"L": 64, "ms_per_step": 0.3}"#)),
            (256, line(r#"{"L": 256, "ms_per_step": 2.0}"#)),
        ]
        .into_iter()
        .collect();
        let t = traffic_table(&r, &traffic, &anchor);
        assert!(
            t.contains("| 64 | 10 | 0.9 | 0.3 | 3.0 | 0.900 | 0.300 | 3.0 |"),
            "{t}"
        );
        assert!(t.contains("| 256 | - | - | - | - | - | 2.000 | - |"), "{t}");
    }

    #[test]
    fn dates_from_days_since_1970() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_417), (2025, 11, 25));
        assert_eq!(civil_date(-1), (1969, 12, 31));
    }

    #[test]
    fn reads_the_mean_point_estimate() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2500000.0,"standard_error":0.1},"median":{"point_estimate":7.0}}"#;
        assert_eq!(super::mean_ns(json), Some(2_500_000.0));
    }
}
