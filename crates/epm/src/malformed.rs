//! Every input `epm` reads from a file, mutated many times over: none may panic, abort or hang.
//!
//! The seeds are real inputs kept in `tests/corpus/` (configurations, and the tables and
//! manifest of a short run) and checkpoints made here. Each round applies a few random
//! mutations (bytes flipped, ranges cut, copied or truncated, numbers replaced by `nan`,
//! `inf`, huge or negative ones) from a fixed-seed generator, so a failure is repeated by
//! running the test again; the round number and the input are in the message. What the
//! readers must do with such input is return an error or a value, never panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::checkpoint::{State, encode as encode_checkpoint};
use crate::config::Config;
use crate::observables::Table;
use crate::output::{Manifest, RunDirectory};
use crate::simulation::Simulation;

/// xorshift64*: a fixed sequence, so every failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Text that readers of numbers and TOML trip over.
const TOKENS: [&str; 16] = [
    "nan",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "0",
    "-1",
    "4294967296",
    "18446744073709551616",
    "",
    ",",
    "\n",
    "\"",
    "[",
    "]]",
    "=",
];

/// One to four mutations of `input`.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at..end);
            }
            2 => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let copy = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, copy);
            }
            3 => v.truncate(at),
            _ => {
                // A number or a token in place of what stands there.
                let end = (at + rng.below(8)).min(v.len());
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                v.splice(at..end, token.iter().copied());
            }
        }
    }
    v
}

/// Runs `read` on `rounds` mutations of each seed; a panic fails with the round and input.
fn survive(name: &str, seeds: &[Vec<u8>], rounds: usize, mut read: impl FnMut(&[u8])) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
    for round in 0..rounds {
        let seed = &seeds[round % seeds.len()];
        let input = mutate(&mut rng, seed);
        if catch_unwind(AssertUnwindSafe(|| read(&input))).is_err() {
            panic!(
                "{name}: round {round} panicked on {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

fn corpus(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(folder)
}

fn files(folder: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn configurations_never_panic() {
    let mut seeds: Vec<Vec<u8>> = files("config").into_iter().map(|(_, b)| b).collect();
    seeds.push(Config::default().to_toml().into_bytes());
    survive("configuration", &seeds, 4000, |bytes| {
        if let Ok(config) = Config::from_toml(&String::from_utf8_lossy(bytes))
            && config.validate().is_ok()
        {
            let _ = Config::from_toml(&config.to_toml());
            let _ = crate::resources::estimate(&config, 4, true);
        }
    });
}

#[test]
fn checkpoints_never_panic_damaged_or_resealed() {
    let config = Config {
        l: 8,
        tracers: Some(5),
        ..Config::default()
    };
    let mut state = State::initial(&config);
    state.active[3] = 1;
    state.stress[3] = 0.5;
    let sealed = encode_checkpoint(&config, "Thermal", &crate::Profile::cpu(), state).unwrap();
    let payload = sealed[..sealed.len() - crate::sealed::DIGEST_BYTES].to_vec();
    // As damage arrives: the digest refuses it.
    survive("checkpoint", std::slice::from_ref(&sealed), 1500, |bytes| {
        let _ = Simulation::decode_checkpoint(bytes);
    });
    // As if the digest had been made again over the damage: the decoding itself.
    survive("resealed checkpoint", &[payload], 3000, |bytes| {
        let mut bytes = bytes.to_vec();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
        bytes.extend_from_slice(&digest);
        if let Ok(c) = Simulation::decode_checkpoint(&bytes) {
            c.state.check(&c.config).unwrap();
        }
    });
}

#[test]
fn tables_and_manifests_never_panic() {
    let run = files("run");
    let manifest: Vec<Vec<u8>> = run
        .iter()
        .filter(|(n, _)| n.ends_with(".json"))
        .map(|(_, b)| b.clone())
        .collect();
    survive("manifest", &manifest, 1500, |bytes| {
        let _ = serde_json::from_slice::<Manifest>(bytes);
    });
    for (file, bytes) in run.iter().filter(|(n, _)| n.ends_with(".csv")) {
        let name = file.trim_end_matches(".csv").to_string();
        let others: Vec<Table> = run
            .iter()
            .filter(|(n, _)| n.ends_with(".csv") && n != file)
            .map(|(n, b)| {
                Table::from_csv(n.trim_end_matches(".csv"), &String::from_utf8_lossy(b)).unwrap()
            })
            .collect();
        survive(file, std::slice::from_ref(bytes), 400, |bytes| {
            if let Ok(table) = Table::from_csv(&name, &String::from_utf8_lossy(bytes)) {
                let mut tables = others.clone();
                tables.push(table);
                let _ = crate::analysis::analyse(&mut tables);
            }
        });
    }
}

#[test]
fn a_damaged_run_directory_never_panics_its_reanalysis() {
    let run = files("run");
    let dir = std::env::temp_dir().join(format!("epm-malformed-run-{}", std::process::id()));
    let mut rng = Rng(7);
    for round in 0..200 {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &run {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let (name, bytes) = &run[rng.below(run.len())];
        let damaged = mutate(&mut rng, bytes);
        std::fs::write(dir.join(name), &damaged).unwrap();
        let reanalyse = || RunDirectory::open(&dir).and_then(|d| d.reanalyse());
        if catch_unwind(AssertUnwindSafe(reanalyse)).is_err() {
            panic!(
                "round {round}: reanalysing with {name} damaged panicked: {:?}",
                String::from_utf8_lossy(&damaged)
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
