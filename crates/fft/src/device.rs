//! Picking the device from the backend feature, and describing it.

use cubecl::Device;
pub use cubecl::device::{DeviceUnavailable, WgpuDeviceKind};
use cubecl::prelude::*;

/// The backend this build was compiled for, by cargo feature: `cuda` before `metal` before
/// `vulkan` before `wgpu` when several are on.
pub const BACKEND: &str = if cfg!(feature = "cuda") {
    "cuda"
} else if cfg!(feature = "metal") {
    "metal"
} else if cfg!(feature = "vulkan") {
    "vulkan"
} else if cfg!(feature = "wgpu") {
    "wgpu"
} else {
    "none"
};

/// The first device of the backend this build was compiled for.
///
/// With `wgpu`, Vulkan is asked first (except on Apple platforms, where wgpu means Metal) and
/// any other API wgpu offers after it: on a Linux machine without a GPU that is Mesa's
/// software Vulkan driver, lavapipe, rather than an OpenGL software renderer.
/// `CUBECL_WGPU_DEFAULT_DEVICE` (for example `Cpu` or `DiscreteGpu(0)`) picks the adapter.
/// Fails when the machine has no such device (on Linux without a GPU: install
/// `mesa-vulkan-drivers`).
pub fn default_device() -> Result<Device, DeviceUnavailable> {
    let kind = WgpuDeviceKind::DefaultDevice;
    if cfg!(feature = "cuda") {
        Device::cuda(0)
    } else if cfg!(feature = "metal") {
        Device::metal_msl(kind)
    } else if cfg!(feature = "vulkan") {
        Device::vulkan(kind)
    } else if cfg!(target_vendor = "apple") {
        Device::wgpu(kind)
    } else {
        Device::vulkan(kind.clone()).or_else(|_| Device::wgpu(kind))
    }
}

/// Whether the client runs on a CPU (a software driver such as lavapipe) rather than a GPU.
/// Software drivers report no physical card.
pub fn is_cpu_adapter(client: &Client) -> bool {
    let identity = &client.properties().identity;
    let name = identity.name.to_ascii_lowercase();
    identity.physical.is_none() || name.contains("llvmpipe") || name.contains("lavapipe")
}

/// One line naming the backend and the adapter, for logs and run manifests.
pub fn describe(client: &Client) -> String {
    let props = client.properties();
    format!(
        "backend {BACKEND}, adapter \"{}\" ({}), {} KiB shared memory, {} units per cube",
        props.identity.name,
        if is_cpu_adapter(client) { "CPU" } else { "GPU" },
        props.hardware.max_shared_memory_size / 1024,
        props.hardware.max_units_per_cube
    )
}
