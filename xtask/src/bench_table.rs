//! Criterion results (`target/criterion/<group>/<impl>/<L>/new/estimates.json`) as a markdown
//! table with ratios against the baselines measured in the same run.

use std::collections::BTreeMap;
use std::path::Path;

/// One markdown table per criterion group found under `dir`.
pub fn render(dir: &Path) -> Result<String, String> {
    let mut out = String::new();
    if let Ok(adapter) = std::fs::read_to_string(dir.join("adapter.txt")) {
        out += &format!("Device: {}\n\n", adapter.trim());
    }
    let groups = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut groups: Vec<_> = groups.flatten().filter(|e| e.path().is_dir()).collect();
    groups.sort_by_key(|e| e.file_name());
    for group in groups {
        let name = group.file_name().to_string_lossy().to_string();
        if name == "report" {
            continue;
        }
        // size -> implementation -> mean ns
        let mut rows: BTreeMap<u64, BTreeMap<String, f64>> = BTreeMap::new();
        for imp in std::fs::read_dir(group.path())
            .into_iter()
            .flatten()
            .flatten()
        {
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
        let imps: Vec<String> = {
            let mut v: Vec<String> = rows.values().flat_map(|m| m.keys().cloned()).collect();
            v.sort();
            v.dedup();
            // ours first
            v.sort_by_key(|s| s != "ours");
            v
        };
        out += &format!("### {name}\n\n| L |");
        for i in &imps {
            out += &format!(" {i} (ms) |");
        }
        for i in imps.iter().skip(1) {
            out += &format!(" ours / {i} |");
        }
        out += "\n|---|";
        for _ in 0..(2 * imps.len()).saturating_sub(1) {
            out += "---|";
        }
        out += "\n";
        for (l, m) in &rows {
            out += &format!("| {l} |");
            for i in &imps {
                match m.get(i) {
                    Some(ns) => out += &format!(" {:.3} |", ns / 1e6),
                    None => out += " - |",
                }
            }
            for i in imps.iter().skip(1) {
                match (m.get(&imps[0]), m.get(i)) {
                    (Some(a), Some(b)) => out += &format!(" {:.2} |", a / b),
                    _ => out += " - |",
                }
            }
            out += "\n";
        }
        out += "\n";
    }
    Ok(out)
}

/// The point estimate of the mean, in ns, from criterion's estimates.json.
fn mean_ns(json: &str) -> Option<f64> {
    let at = json.find("\"mean\"")?;
    let rest = &json[at..];
    let pe = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let tail = rest[pe..].trim_start();
    let end = tail.find([',', '}'])?;
    tail[..end].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_mean_point_estimate() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2500000.0,"standard_error":0.1},"median":{"point_estimate":7.0}}"#;
        assert_eq!(super::mean_ns(json), Some(2_500_000.0));
    }
}
