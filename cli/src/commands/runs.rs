//! The subcommands that record runs and move them through their states.

use runledger::{ClaimFilter, Created, KillOutcome, Push, Run};
use serde_json::{Value, json};

use crate::args::{AttachArgs, ClaimArgs, CreateArgs, RunArg, TransitionArgs};
use crate::exit::{CliError, Status};
use crate::output::{self, Out, Table};
use crate::settings::{Access, LedgerOptions};

pub fn create(
    ledger: &LedgerOptions,
    args: &CreateArgs,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let mut push = Push::new(&args.repo, &args.ref_name, &args.sha);
    push.pushed_at = args.pushed_at;
    push.group.clone_from(&args.group);

    let runs = ledger.open(Access::Create)?;
    let created = runs.create(&push)?;

    if json {
        out.json(&output::created_json(&created));
    } else if args.quiet {
        out.line(&created.run.id);
    } else {
        describe_created(&created, out);
    }
    Ok(report_failed_kills(created.superseded.iter().filter_map(
        |old| {
            Some((
                old.run_id.as_str(),
                old.container_id.as_deref()?,
                old.kill.as_ref()?,
            ))
        },
    )))
}

fn describe_created(created: &Created, out: &mut Out) {
    let run = &created.run;
    if created.duplicate {
        out.line(format!(
            "duplicate: run {} already has sha {} and is {}; nothing changed",
            run.id, run.sha, run.state
        ));
    } else if let Some(newer) = &run.superseded_by {
        out.line(format!(
            "out of order: run {} recorded as superseded by the newer run {newer}",
            run.id
        ));
    } else {
        out.line(format!("created run {} ({})", run.id, run.state));
    }
    if !created.superseded.is_empty() {
        let mut table = Table::new(&["SUPERSEDED", "WAS", "CONTAINER", "KILL"]);
        for old in &created.superseded {
            table.row(vec![
                old.run_id.clone(),
                old.previous_state.to_string(),
                old.container_id
                    .clone()
                    .unwrap_or_else(|| output::NONE.to_owned()),
                old.kill
                    .as_ref()
                    .map_or_else(|| output::NONE.to_owned(), output::kill_outcome_text),
            ]);
        }
        out.table(&table);
    }
}

/// A kill that failed leaves the ledger right but a container running:
/// said on stderr, and in the exit status, so a script can call
/// reconcile or alert someone.
pub fn report_failed_kills<'a>(
    kills: impl Iterator<Item = (&'a str, &'a str, &'a KillOutcome)>,
) -> Status {
    let mut status = Status::Success;
    for (run_id, container_id, outcome) in kills {
        if let KillOutcome::Failed { error } = outcome {
            eprintln!(
                "runledger: killing container {container_id} of run {run_id} failed: {error}; \
                 reconcile retries it"
            );
            status = Status::KillFailed;
        }
    }
    status
}

pub fn get(
    ledger: &LedgerOptions,
    args: &RunArg,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let run = ledger.open(Access::Plain)?.get(&args.run_id)?;
    print_run(&run, json, args.quiet, out);
    Ok(Status::Success)
}

pub fn claim(
    ledger: &LedgerOptions,
    args: &ClaimArgs,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let filter = ClaimFilter {
        repo: args.repo.clone(),
        group: args.group.clone(),
    };

    let claimed = ledger.open(Access::Plain)?.claim(&filter)?;

    match (claimed, json) {
        (Some(run), _) => print_run(&run, json, args.quiet, out),
        (None, true) => out.json(&Value::Null),
        (None, false) if args.quiet => {}
        (None, false) => out.line("no pending run to claim"),
    }
    Ok(Status::Success)
}

pub fn transition(
    ledger: &LedgerOptions,
    args: &TransitionArgs,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let run = ledger
        .open(Access::Kill)?
        .transition(&args.run_id, args.from, args.to)?;
    print_run(&run, json, args.quiet, out);
    Ok(stored_kill_status(&run))
}

pub fn attach(
    ledger: &LedgerOptions,
    args: &AttachArgs,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let run = ledger
        .open(Access::Kill)?
        .attach_container(&args.run_id, &args.container_id)?;
    print_run(&run, json, args.quiet, out);
    Ok(Status::Success)
}

pub fn heartbeat(
    ledger: &LedgerOptions,
    args: &RunArg,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let run = ledger.open(Access::Plain)?.heartbeat(&args.run_id)?;
    print_run(&run, json, args.quiet, out);
    Ok(Status::Success)
}

pub fn cancel(
    ledger: &LedgerOptions,
    args: &RunArg,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let run = ledger.open(Access::Kill)?.cancel(&args.run_id)?;
    print_run(&run, json, args.quiet, out);
    Ok(stored_kill_status(&run))
}

/// After a cancel or transition the kill outcome is only on the run.
fn stored_kill_status(run: &Run) -> Status {
    let Some(kill) = &run.kill else {
        return Status::Success;
    };
    if kill.state != runledger::KillState::Failed {
        return Status::Success;
    }
    let outcome = KillOutcome::Failed {
        error: kill.error.clone().unwrap_or_default(),
    };
    let container = run.container_id.as_deref().unwrap_or("?");
    report_failed_kills(std::iter::once((run.id.as_str(), container, &outcome)))
}

pub fn labels(
    ledger: &LedgerOptions,
    args: &RunArg,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let run = ledger.open(Access::Plain)?.get(&args.run_id)?;
    let labels = runledger::container_labels(&run);

    if json {
        out.json(&json!(labels));
    } else if args.quiet {
        out.line(&run.id);
    } else {
        // key=value lines read straight into `docker run --label`.
        for (key, value) in &labels {
            out.line(format!("{key}={value}"));
        }
    }
    Ok(Status::Success)
}

fn print_run(run: &Run, json: bool, quiet: bool, out: &mut Out) {
    if json {
        out.json(&output::run_json(run));
    } else if quiet {
        out.line(&run.id);
    } else {
        out.table(&output::run_fields(run));
    }
}
