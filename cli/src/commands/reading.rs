//! The subcommands that only read: list and history.

use runledger::ListFilter;
use serde_json::Value;

use crate::args::{ListArgs, RunArg};
use crate::exit::{CliError, Status};
use crate::output::{self, Out, Table};
use crate::settings::{Access, LedgerOptions};

pub fn list(
    ledger: &LedgerOptions,
    args: &ListArgs,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let filter = ListFilter {
        repo: args.repo.clone(),
        ref_name: args.ref_name.clone(),
        group: args.group.clone(),
        state: args.state,
    };

    let page = ledger
        .open(Access::Plain)?
        .list(&filter, args.limit, args.cursor.as_deref())?;

    if json {
        out.json(&output::page_json(&page));
    } else if args.quiet {
        for run in &page.runs {
            out.line(&run.id);
        }
    } else {
        out.table(&output::runs_table(&page.runs));
        if let Some(cursor) = &page.next_cursor {
            out.line(format!("more: --cursor {cursor}"));
        }
    }
    Ok(Status::Success)
}

pub fn history(
    ledger: &LedgerOptions,
    args: &RunArg,
    json: bool,
    out: &mut Out,
) -> Result<Status, CliError> {
    let runs = ledger.open(Access::Plain)?;
    let entries = runs.history(&args.run_id)?;
    if entries.is_empty() {
        // An unknown id has no history; say so rather than print nothing.
        runs.get(&args.run_id)?;
    }

    if json {
        out.json(&Value::Array(
            entries.iter().map(output::history_json).collect(),
        ));
    } else if args.quiet {
        out.line(&args.run_id);
    } else {
        let mut table = Table::new(&["AT", "FROM", "TO", "REASON", "SUPERSEDED BY"]);
        for entry in &entries {
            table.row(vec![
                output::short_time(entry.at),
                entry
                    .from
                    .map_or_else(|| "(new)".to_owned(), |state| state.to_string()),
                entry.to.to_string(),
                entry.reason.to_string(),
                entry
                    .superseded_by
                    .clone()
                    .unwrap_or_else(|| output::NONE.to_owned()),
            ]);
        }
        out.table(&table);
    }
    Ok(Status::Success)
}
