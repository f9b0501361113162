//! Exit codes and the one error type of the command. Each failure a script
//! may want to react to has its own code; the codes are part of the
//! documented interface and a number, once given a meaning, keeps it.

use std::path::PathBuf;
use std::process::ExitCode;

/// What the process tells its caller when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// Everything asked for was done.
    Success = 0,
    /// A failure with no code of its own (kept as the fallback for error
    /// kinds the ledger may add later).
    Failure = 1,
    /// A malformed argument or option, including clap's usage errors.
    BadInput = 2,
    /// No run has the given id.
    NotFound = 3,
    /// The run was not in the state the caller expected (someone else
    /// moved it first, or its group already has an active run).
    Conflict = 4,
    /// The transition table forbids the move.
    InvalidTransition = 5,
    /// The database could not be used: missing, not a runledger database,
    /// newer schema, read-only, locked too long, or a SQLite failure.
    Storage = 6,
    /// The operation was done, but killing a container failed; reconcile
    /// retries it.
    KillFailed = 7,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

/// Everything that makes the command fail.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The ledger refused or failed the operation.
    #[error(transparent)]
    Ledger(#[from] runledger::Error),

    /// An argument that clap accepted but that makes no sense.
    #[error("invalid {field}: {reason}")]
    BadInput {
        /// The option or argument.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// A command that only reads or moves existing runs was pointed at a
    /// file that does not exist; opening it would create an empty ledger.
    #[error(
        "database {} does not exist (runledger create makes it; --db or RUNLEDGER_DB \
         choose another)",
        path.display()
    )]
    NoDatabase {
        /// The path given.
        path: PathBuf,
    },

    /// Writing the output failed (other than the reader going away).
    #[error("could not write the output: {source}")]
    Output {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The demo could not go on.
    #[error("demo: {reason}")]
    Demo {
        /// What went wrong.
        reason: String,
    },
}

impl CliError {
    /// The exit status this error ends the process with.
    pub fn status(&self) -> Status {
        match self {
            CliError::Ledger(error) => ledger_status(error),
            CliError::BadInput { .. } => Status::BadInput,
            CliError::NoDatabase { .. } => Status::Storage,
            CliError::Output { .. } | CliError::Demo { .. } => Status::Failure,
        }
    }

    /// Shorthand for a demo failure.
    pub fn demo(reason: impl Into<String>) -> CliError {
        CliError::Demo {
            reason: reason.into(),
        }
    }
}

/// The code of each kind of ledger error. The ledger's error type may grow,
/// so anything not named here ends as a plain failure.
fn ledger_status(error: &runledger::Error) -> Status {
    use runledger::Error as E;
    match error {
        E::InvalidInput { .. } => Status::BadInput,
        E::NotFound { .. } => Status::NotFound,
        E::Conflict { .. } | E::GroupHasActiveRun { .. } | E::Superseded { .. } => Status::Conflict,
        E::InvalidTransition { .. } => Status::InvalidTransition,
        E::SchemaTooNew { .. }
        | E::NotADatabase { .. }
        | E::ReadOnly { .. }
        | E::Busy { .. }
        | E::Storage { .. }
        | E::RunDirectory { .. } => Status::Storage,
        _ => Status::Failure,
    }
}

/// Renders a clap error as one line for stderr and picks its status: help
/// and version requests are successes printed in full on stdout.
pub fn usage_error(error: &clap::Error) -> Status {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // clap already formats these for stdout.
            let _ = error.print();
            Status::Success
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            eprintln!("runledger: a subcommand is required (see runledger --help)");
            Status::BadInput
        }
        _ => {
            // clap spreads one error over several lines (the missing
            // arguments each on their own) before its usage hint; keep the
            // error's lines, joined, and drop the hint.
            let rendered = error.render().to_string();
            let message = rendered
                .lines()
                .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more"))
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            let message = if message.is_empty() {
                "invalid arguments"
            } else {
                message
            };
            eprintln!("runledger: {message} (see runledger --help)");
            Status::BadInput
        }
    }
}
