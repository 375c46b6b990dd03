//! `lenet`: train, evaluate and run LeNet-5 on MNIST-like digits.
//!
//! `cargo run --release` trains on the bundled digits with the defaults;
//! `lenet --help` lists the subcommands (`summary`, `train`, `eval`,
//! `predict`).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::quiet_panics();
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
