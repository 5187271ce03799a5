//! The `sofathek` binary: a thin wrapper around [`sofathek::cli`].

fn main() -> std::process::ExitCode {
    match sofathek::cli::main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sofathek: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
