//! The command line: global options and one subcommand per ledger
//! operation. Values the ledger checks itself (repo, ref, sha, run ids) are
//! passed through unchanged so that every face reports the same errors.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use runledger::RunState;

use crate::settings::LedgerOptions;

/// A ledger of CI runs in one SQLite file: a newer push supersedes the
/// older run of its ref and kills its container.
#[derive(Debug, Parser)]
#[command(name = "runledger", version)]
pub struct Cli {
    #[command(flatten)]
    pub ledger: LedgerOptions,

    /// Print one JSON document instead of a table (shapes are stable).
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record a push; supersede the live runs it makes pointless and kill
    /// their containers.
    Create(CreateArgs),
    /// Show one run.
    Get(RunArg),
    /// Move the oldest pending run to active and print it (nothing when no
    /// run is waiting).
    Claim(ClaimArgs),
    /// Move a run from the state it is expected to be in to another
    /// (compare-and-set).
    Transition(TransitionArgs),
    /// Record the container a runner started for its active run.
    Attach(AttachArgs),
    /// Renew the lease of an active run.
    Heartbeat(RunArg),
    /// Cancel a pending or active run, killing its container.
    Cancel(RunArg),
    /// Fail runs whose lease expired, and retry container kills.
    Reconcile,
    /// List runs, newest first.
    List(ListArgs),
    /// Show every transition of a run, oldest first.
    History(RunArg),
    /// Delete old finished runs, keeping the newest of each group.
    Prune(PruneArgs),
    /// Print the labels a runner puts on a run's container.
    Labels(RunArg),
    /// Print the transition table of run states.
    States(StatesArgs),
    /// Play a burst of pushes against runner processes and containers, on
    /// a fresh ledger file.
    Demo(DemoArgs),
    /// One runner process of the demo (started by `runledger demo`).
    #[command(hide = true)]
    DemoRunner(DemoRunnerArgs),
}

/// A subcommand that names one run.
#[derive(Debug, Args)]
pub struct RunArg {
    /// The run's id.
    pub run_id: String,

    /// Print only the run id.
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Repository name, as in `work/tools.git`.
    pub repo: String,
    /// Full ref name, as in `refs/heads/main`.
    #[arg(value_name = "REF")]
    pub ref_name: String,
    /// Pushed commit id: 7 to 64 hex digits.
    pub sha: String,
    /// When the push happened (RFC 3339, as `2026-05-01T12:00:00Z`) [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_timestamp)]
    pub pushed_at: Option<jiff::Timestamp>,
    /// Supersede within this group instead of the (repo, ref) pair.
    #[arg(long, value_name = "KEY")]
    pub group: Option<String>,
    /// Print only the run id.
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ClaimArgs {
    /// Only claim runs of this repository.
    #[arg(long)]
    pub repo: Option<String>,
    /// Only claim runs of this group.
    #[arg(long, value_name = "KEY")]
    pub group: Option<String>,
    /// Print only the run id (nothing when no run is waiting).
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct TransitionArgs {
    /// The run's id.
    pub run_id: String,
    /// The state the run is expected to be in.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    pub from: RunState,
    /// The state it should enter.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    pub to: RunState,
    /// Print only the run id.
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The run's id.
    pub run_id: String,
    /// The container's id or name.
    pub container_id: String,
    /// Print only the run id.
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only runs of this repository.
    #[arg(long)]
    pub repo: Option<String>,
    /// Only runs of this ref.
    #[arg(long = "ref", value_name = "REF")]
    pub ref_name: Option<String>,
    /// Only runs of this group.
    #[arg(long, value_name = "KEY")]
    pub group: Option<String>,
    /// Only runs in this state.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    pub state: Option<RunState>,
    /// At most this many runs (1 to 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Continue after a previous page (its `next_cursor`).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print only run ids, one a line.
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// How many finished runs of each group to keep whatever their age.
    #[arg(long, value_name = "N")]
    pub keep: u32,
    /// Delete only runs that finished longer ago than this (`30s`, `15m`,
    /// `12h`, `7d`).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: Duration,
}

#[derive(Debug, Args)]
pub struct StatesArgs {
    /// Print a Mermaid state diagram instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub mermaid: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many runner processes to start.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..=8))]
    pub runners: u32,
    /// How long each run's work lasts, in milliseconds.
    #[arg(
        long,
        default_value_t = 2500,
        value_parser = clap::value_parser!(u64).range(200..=60_000)
    )]
    pub work_ms: u64,
    /// The image the runners start (built by .ci/test-image.sh).
    #[arg(long, default_value = "runledger-test:busybox")]
    pub image: String,
    /// The value of the `runledger.demo-session` label on the demo's
    /// containers, so a wrapping script can remove them if the demo is
    /// interrupted [default: made up from the process id and time].
    #[arg(long, hide = true)]
    pub session: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoRunnerArgs {
    /// The runner's name in the demo's output.
    #[arg(long)]
    pub name: String,
    /// How long each run's work lasts, in milliseconds.
    #[arg(long)]
    pub work_ms: u64,
    /// The image to start, or none to only record container names.
    #[arg(long)]
    pub image: Option<String>,
    /// The label value that marks this demo's containers.
    #[arg(long)]
    pub session: String,
}

fn parse_state(value: &str) -> Result<RunState, String> {
    value.parse::<RunState>().map_err(|error| match error {
        runledger::Error::InvalidInput { reason, .. } => reason,
        other => other.to_string(),
    })
}

fn parse_timestamp(value: &str) -> Result<jiff::Timestamp, String> {
    value
        .parse::<jiff::Timestamp>()
        .map_err(|error| format!("{value:?} is not an RFC 3339 time with an offset: {error}"))
}

/// An age as a whole number followed by s, m, h or d.
pub fn parse_age(value: &str) -> Result<Duration, String> {
    let refuse = || format!("{value:?} is not an age such as 30s, 15m, 12h or 7d");
    let (last, _) = value.char_indices().last().ok_or_else(refuse)?;
    let (number, unit) = value.split_at(last);
    let number: u64 = number.parse().map_err(|_| refuse())?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(refuse()),
    };
    number
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(refuse)
}
