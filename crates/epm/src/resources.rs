//! What a run needs in memory, estimated from its configuration before anything is allocated,
//! and checked against what the device and the host offer.
//!
//! The estimate adds up the buffers that grow with the lattice (`L^2` sites) and with the
//! tracers: the model's fields, the transforms' spectra and scratch, the tracers, and each
//! observer's device storage at the size the run's length makes it grow to (the multiple-tau
//! correlators double their levels as a run outgrows them, and hold the old and the new
//! buffers for a moment when they do). Buffers whose size does not depend on either (tables of
//! a few hundred values, count rings) are left out: they are kilobytes. On the host a run
//! holds its state once while it starts and while it writes a checkpoint, and a correlator's
//! levels while they grow.
//!
//! A run whose estimate does not fit is refused before its first allocation, with the
//! estimate, the limit and its largest parts ([`SimError::Resources`]).

use crate::config::Config;
use crate::error::SimError;
use crate::propagator::INCREMENT_FIELDS;

/// One part of a [`Footprint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// What it is, with the configuration keys that size it.
    pub name: &'static str,
    /// Bytes on the device.
    pub device: u64,
    /// Bytes on the host.
    pub host: u64,
}

/// The memory a run of one configuration needs, part by part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Footprint {
    /// The parts, in the order they are allocated.
    pub parts: Vec<Part>,
    /// The largest single device buffer: a device may cap one allocation below its memory.
    pub largest_buffer: u64,
}

impl Footprint {
    /// Bytes on the device, all parts.
    pub fn device(&self) -> u64 {
        self.parts.iter().map(|p| p.device).sum()
    }

    /// Bytes on the host, all parts.
    pub fn host(&self) -> u64 {
        self.parts.iter().map(|p| p.host).sum()
    }

    fn add(&mut self, name: &'static str, device: u64, host: u64) {
        if device > 0 || host > 0 {
            self.parts.push(Part { name, device, host });
        }
    }

    fn buffer(&mut self, bytes: u64) {
        self.largest_buffer = self.largest_buffer.max(bytes);
    }

    /// The parts that hold most of `memory` (`device` or `host`), largest first, as
    /// `name 1.2 GB` items.
    fn largest(&self, memory: Memory) -> String {
        let mut parts: Vec<(u64, &str)> = self
            .parts
            .iter()
            .map(|p| (memory.of(p), p.name))
            .filter(|(b, _)| *b > 0)
            .collect();
        parts.sort_by(|a, b| b.cmp(a));
        parts
            .iter()
            .take(3)
            .map(|(b, name)| format!("{name} {}", bytes(*b)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a limit bounds.
#[derive(Debug, Clone, Copy)]
enum Memory {
    Device,
    Host,
    /// One device buffer: its parts are the device's.
    Buffer,
}

impl Memory {
    fn of(self, p: &Part) -> u64 {
        match self {
            Memory::Device | Memory::Buffer => p.device,
            Memory::Host => p.host,
        }
    }

    /// How [`SimError::Resources`] names it.
    fn label(self) -> &'static str {
        match self {
            Memory::Device => "device memory",
            Memory::Host => "host memory",
            Memory::Buffer => "one device buffer",
        }
    }
}

/// Levels a multiple-tau correlator's buffers have room for once it has taken `updates`
/// values: it needs `floor(log2 updates) + 1` levels, starting with room for 8 and doubling.
fn level_capacity(updates: u64) -> u64 {
    let needed = u64::from(updates.max(1).ilog2()) + 1;
    let mut capacity = 8;
    while capacity < needed {
        capacity *= 2;
    }
    capacity
}

/// The estimate for `replicas` runs of `config` in one ensemble (1: a single run); with
/// `observers`, the measurements of `config.observables` too (what a [`crate::run::Run`]
/// makes).
pub fn estimate(config: &Config, replicas: usize, observers: bool) -> Footprint {
    let r = replicas.max(1) as u64;
    let n = config.sites() as u64;
    let tracers = config.tracer_count() as u64;
    let fields = INCREMENT_FIELDS as u64;
    let mut f = Footprint::default();
    // Stress, its origin, activity, signs, plastic counts, strain rates (4 bytes a site each),
    // and the increments of the three fields in row pairs.
    let model = r * n * (6 * 4 + fields * 4);
    // The state as the host builds it and reads it back for a checkpoint (and its encoding).
    let state_host = r * (n * 20 + tracers * 16);
    f.add("fields (l)", model, 2 * state_host);
    f.buffer(r * n * fields * 2);
    // Spectra of the strain rates (n/2 complex values) and of the resynchronisation (n), the
    // strain, the three plans' scratch (n/2, 3 n/2, n complex), filters and the stress table.
    let transforms = r * n * (4 + 8 + 4 + 4 + 4 * fields + 8) + n * (4 * fields + 4);
    // The sparse update's real-space kernels (three fields) and active-site list, which a
    // single run may take (the profile decides, after this check).
    let sparse = if replicas <= 1 { n * 20 } else { 0 };
    // The whole-step kernel's own scratch, where the profile may choose it.
    let whole = r * n * (4 + 4 * fields);
    f.add("transforms (l)", transforms + sparse + whole, 0);
    f.buffer(r * n * 4 * fields);
    f.add("tracers (tracers)", r * tracers * 16, 0);
    if !observers {
        return f;
    }
    let o = &config.observables;
    let updates = config.steps.saturating_sub(o.warm_up).max(1);
    let levels = level_capacity(updates);
    if o.tracer_dynamics && tracers > 0 {
        let p = o.points_per_level as u64;
        let ring = levels * p * tracers * 16;
        // The ring at its final room, the half-sized one it grew from, and its origin; the
        // host holds the old levels while they move.
        f.add(
            "tracer dynamics (tracers, observables.points_per_level)",
            r * (ring + ring / 2 + tracers * 16),
            ring / 2,
        );
        f.buffer(ring);
    }
    if o.displacements && tracers > 0 {
        f.add("displacements (tracers)", r * tracers * 16, tracers * 16);
    }
    if o.waiting_times {
        f.add("waiting times (l)", r * n * 8, n * 8);
    }
    if o.stress_correlation {
        let p = o.points_per_level as u64;
        let samples = (o.stress_correlation_sites as u64).min(n);
        let ring = levels * p * samples * 4;
        f.add(
            "stress correlation (observables.stress_correlation_sites)",
            r * (ring + ring / 2),
            ring / 2,
        );
        f.buffer(ring);
    }
    if config.output.snapshot_every > 0 || config.output.trajectory_every > 0 {
        // A snapshot is read back to the host, then written.
        f.add("snapshots (output)", 0, r * (n * 12 + tracers * 16));
    }
    f
}

/// What the device and the host offer, as far as they say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Device memory (`None`: the device does not say).
    pub device: Option<u64>,
    /// The largest buffer one kernel may bind (WebGPU and Vulkan through wgpu cap it; CUDA
    /// does not).
    pub buffer: Option<u64>,
    /// Host memory available now (the job's limit on a cluster where it is lower).
    pub host: Option<u64>,
    /// The device's memory is the host's (a CPU adapter such as lavapipe): the two needs
    /// add up against [`Limits::host`].
    pub shared: bool,
}

impl Limits {
    /// What `client`'s device says of its memory, and what this machine has available.
    pub fn of(client: &cubecl::prelude::Client) -> Self {
        let memory = &client.properties().memory;
        let binds_whole_buffers = crate::device::BACKEND != "cuda";
        Self {
            device: memory.max_memory(),
            buffer: Some(memory.max_page_size).filter(|&b| b > 0 && binds_whole_buffers),
            host: host_available(),
            shared: crate::profile::memory_is_host(client),
        }
    }
}

/// Memory available to this process: the system's, or its control group's limit where lower
/// (a SLURM job's `--mem`).
fn host_available() -> Option<u64> {
    let mut system = sysinfo::System::new();
    system.refresh_memory();
    let available = Some(system.available_memory()).filter(|&b| b > 0);
    match system.cgroup_limits() {
        Some(c) if c.free_memory > 0 => {
            Some(available.map_or(c.free_memory, |a| a.min(c.free_memory)))
        }
        _ => available,
    }
}

/// Refuses `footprint` where it does not fit `limits`.
pub fn check(footprint: &Footprint, limits: &Limits) -> Result<(), SimError> {
    let refuse = |parts: Memory, needed: u64, limit: u64, what: &str| SimError::Resources {
        memory: parts.label(),
        needed,
        limit,
        detail: format!(
            "{what}; the largest parts: {}. Lower the keys they name",
            footprint.largest(parts)
        ),
    };
    if let Some(limit) = limits.device
        && footprint.device() > limit
    {
        return Err(refuse(
            Memory::Device,
            footprint.device(),
            limit,
            "the device's memory",
        ));
    }
    if let Some(limit) = limits.host {
        if limits.shared && footprint.device() + footprint.host() > limit {
            return Err(refuse(
                Memory::Device,
                footprint.device() + footprint.host(),
                limit,
                "the memory available on this machine, which the CPU adapter shares",
            ));
        }
        if footprint.host() > limit {
            return Err(refuse(
                Memory::Host,
                footprint.host(),
                limit,
                "the memory available on this machine",
            ));
        }
    }
    if let Some(limit) = limits.buffer
        && footprint.largest_buffer > limit
    {
        return Err(refuse(
            Memory::Buffer,
            footprint.largest_buffer,
            limit,
            "the largest buffer a kernel may bind on this device",
        ));
    }
    Ok(())
}

/// Refuses `replicas` runs of `config` (with their observers or not, as [`estimate`]) that
/// would not fit in `device`'s memory or the host's.
pub fn ensure(
    config: &Config,
    replicas: usize,
    observers: bool,
    device: &cubecl::Device,
) -> Result<(), SimError> {
    check(
        &estimate(config, replicas, observers),
        &Limits::of(&device.client()),
    )
}

/// `bytes` for people: `512 B`, `3.4 MB`, `204.8 GB` (powers of 1000).
pub fn bytes(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_double_from_eight_as_a_run_needs_them() {
        assert_eq!(level_capacity(1), 8);
        assert_eq!(level_capacity(255), 8);
        assert_eq!(level_capacity(256), 16);
        assert_eq!(level_capacity(10_000_000), 32);
    }

    #[test]
    fn a_hundred_million_tracers_are_refused_naming_the_key() {
        let config = Config {
            tracers: Some(100_000_000),
            ..Config::default()
        };
        let footprint = estimate(&config, 1, true);
        assert!(footprint.device() > 100_000_000_000, "{footprint:?}");
        let limits = Limits {
            device: Some(24_000_000_000),
            buffer: None,
            host: Some(20_000_000_000),
            shared: false,
        };
        let err = check(&footprint, &limits).unwrap_err().to_string();
        assert!(err.starts_with("device memory"), "{err}");
        assert!(err.contains("tracer dynamics (tracers"), "{err}");
        assert!(err.contains("24.0 GB"), "{err}");
        // Without observers (a bare simulation) it needs the tracers' 1.6 GB only.
        let bare = estimate(&config, 1, false);
        assert!(check(&bare, &limits).is_ok(), "{bare:?}");
    }

    #[test]
    fn the_host_and_one_buffer_are_checked_too() {
        let config = Config::default();
        let footprint = estimate(&config, 4, true);
        let roomy = Limits {
            device: Some(u64::MAX / 4),
            buffer: Some(u64::MAX / 4),
            host: Some(u64::MAX / 4),
            shared: false,
        };
        assert!(check(&footprint, &roomy).is_ok());
        let small_host = Limits {
            host: Some(1000),
            ..roomy
        };
        let err = check(&footprint, &small_host).unwrap_err().to_string();
        assert!(
            err.contains("host memory") && err.contains("1.0 kB"),
            "{err}"
        );
        let small_buffer = Limits {
            buffer: Some(1000),
            ..roomy
        };
        let err = check(&footprint, &small_buffer).unwrap_err().to_string();
        assert!(err.starts_with("one device buffer"), "{err}");
        // A CPU adapter's device memory is the host's: both needs count against it.
        let host = footprint.device() + footprint.host() / 2;
        let separate = Limits {
            device: None,
            host: Some(host),
            ..roomy
        };
        assert!(check(&footprint, &separate).is_ok());
        let shared = Limits {
            shared: true,
            ..separate
        };
        let err = check(&footprint, &shared).unwrap_err().to_string();
        assert!(err.contains("which the CPU adapter shares"), "{err}");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(204_800_000_000), "204.8 GB");
    }

    #[test]
    fn the_estimate_grows_with_the_lattice_replicas_and_tracers() {
        let small = Config {
            l: 64,
            ..Config::default()
        };
        let large = Config {
            l: 128,
            ..Config::default()
        };
        let (s, l) = (estimate(&small, 1, true), estimate(&large, 1, true));
        assert!(l.device() > 3 * s.device() && l.device() < 5 * s.device());
        assert!(estimate(&small, 4, true).device() > 3 * s.device());
        let no_tracers = Config {
            tracers: Some(0),
            ..small.clone()
        };
        assert!(estimate(&no_tracers, 1, true).device() < s.device());
    }
}
