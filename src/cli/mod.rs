//! The command line: arguments, and one module per subcommand.

mod args;
mod augment;
mod bundled;
mod classes;
mod data;
mod error;
mod eval;
mod export;
mod fit;
mod hash;
mod image;
mod meta;
mod model;
mod predict;
mod progress;
mod train;

use clap::Parser;

pub use error::CliError;

use args::{Cli, Command};

/// Parses the command line and runs the subcommand (`train` when none is
/// given).
pub fn run() -> Result<(), CliError> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return args::usage_error(e),
    };
    match cli.command {
        None => train::run(&cli.train),
        Some(Command::Train(a)) => train::run(&a),
        Some(Command::Summary) => {
            println!("{}", model::LeNet5::summary());
            Ok(())
        }
        Some(Command::Eval(a)) => eval::run(&a),
        Some(Command::Predict(a)) => predict::run(&a),
        Some(Command::Export(a)) => export::run(&a),
    }
}

/// Replaces the panic message and backtrace with one `error:` line: a panic
/// is a bug, but the user still gets a single line to report.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error{place}: {}",
            msg.lines().next().unwrap_or("")
        );
    }));
}
