//! The `epm` command.

use std::process::ExitCode;

const USAGE: &str = "usage: epm <command>\n\ncommands:\n  info   the backend of this build and the adapters it can use";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("info") => info(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            if let Some(cmd) = other {
                eprintln!("epm: unknown command `{cmd}`");
            }
            eprintln!("{USAGE}");
            ExitCode::FAILURE
        }
    }
}

/// Lists the devices of the compiled backend and the one a run would use.
fn info() -> ExitCode {
    println!(
        "epm {} built for backend `{}`",
        env!("CARGO_PKG_VERSION"),
        epm::device::BACKEND
    );
    let all = epm::fft::cubecl::Device::enumerate_all();
    println!("devices this build can use: {}", all.len());
    for d in &all {
        println!("  {d:?}");
    }
    match epm::device::default_device() {
        Ok(device) => {
            let client = device.client();
            println!("a run would use: {device:?}");
            println!("  {}", epm::device::describe(&client));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "no usable device: {e}\n\
                 on Linux without a GPU install Mesa's software Vulkan driver: apt-get install mesa-vulkan-drivers"
            );
            ExitCode::FAILURE
        }
    }
}
