//! The `sofathek` binary: the command line (`cli`) on top of the workspace's layers.

/// mimalloc instead of glibc's malloc. Measured with `scripts/bench-stream` (64 KiB ranges):
/// glibc's allocator took ~8 % of the server's CPU, mostly consolidating its fast bins before
/// each of the few 1–2 KiB blocks a request allocates (boxed middleware futures); mimalloc's
/// per-thread free lists make those allocations cheap. Only the binary sets it: tests and fuzz
/// targets keep the system allocator (and the sanitizers').
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;

fn main() -> std::process::ExitCode {
    match cli::main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sofathek: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
