//! The subcommands that settle and trim the ledger: reconcile and prune.

use serde_json::json;

use crate::args::PruneArgs;
use crate::commands::runs::report_failed_kills;
use crate::exit::{CliError, Status};
use crate::output::{self, Out, Table};
use crate::settings::{Access, LedgerOptions};

pub fn reconcile(ledger: &LedgerOptions, json: bool, out: &mut Out) -> Result<Status, CliError> {
    let report = ledger.open(Access::Kill)?.reconcile()?;

    if json {
        out.json(&output::reconciled_json(&report));
    } else {
        out.line(format!(
            "orphaned {} run(s), attempted {} kill(s)",
            report.orphaned.len(),
            report.kills.len()
        ));
        for run_id in &report.orphaned {
            out.line(format!("orphaned: run {run_id} failed, its lease expired"));
        }
        if !report.kills.is_empty() {
            let mut table = Table::new(&["RUN", "CONTAINER", "KILL"]);
            for kill in &report.kills {
                table.row(vec![
                    kill.run_id.clone(),
                    kill.container_id.clone(),
                    output::kill_outcome_text(&kill.outcome),
                ]);
            }
            out.table(&table);
        }
    }
    Ok(report_failed_kills(report.kills.iter().map(|kill| {
        (
            kill.run_id.as_str(),
            kill.container_id.as_str(),
            &kill.outcome,
        )
    })))
}

pub fn prune(
    ledger: &LedgerOptions,
    args: &PruneArgs,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let pruned = ledger
        .open(Access::Plain)?
        .prune(args.keep, args.older_than)?;

    if json {
        let runs: Vec<_> = pruned.iter().map(output::run_json).collect();
        out.json(&json!({ "pruned": runs }));
    } else {
        out.line(format!("pruned {} run(s)", pruned.len()));
        if !pruned.is_empty() {
            out.table(&output::runs_table(&pruned));
        }
    }
    Ok(Status::Success)
}
