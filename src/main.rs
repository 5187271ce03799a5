//! The `sofathek` binary: a thin wrapper around [`sofathek::cli`].

/// mimalloc instead of glibc's malloc. Measured with `scripts/bench-stream` (64 KiB ranges):
/// glibc's allocator took ~8 % of the server's CPU, mostly consolidating its fast bins before
/// each of the few 1–2 KiB blocks a request allocates (boxed middleware futures); mimalloc's
/// per-thread free lists make those allocations cheap. Only the binary sets it: tests and fuzz
/// targets keep the system allocator (and the sanitizers').
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match sofathek::cli::main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sofathek: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
