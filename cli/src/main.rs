//! `runledger`: the ledger of CI runs for shell scripts, and the demo.
//!
//! Startup is kept to argument parsing and opening the file: one `create`
//! is a whole process in a shell-driven CI, so anything more is paid per
//! push.

mod args;
mod commands;
mod demo;
mod exit;
mod output;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return exit::usage_error(&error).into(),
    };
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            eprintln!("runledger: {error}");
            error.status().into()
        }
    }
}
