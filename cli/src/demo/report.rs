//! The end of the demo: the ledger as a table, one ref's supersede chain,
//! and a line of counts, all read back from the file.

use runledger::{KillState, ListFilter, MAX_PAGE, Reason, Run, RunState, Runs};

use crate::demo::runner::short_id;
use crate::exit::CliError;
use crate::output::{NONE, Table, abbreviate};

/// Every run of the ledger, oldest first.
pub fn all_runs(runs: &Runs) -> Result<Vec<Run>, CliError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = runs.list(&ListFilter::default(), MAX_PAGE, cursor.as_deref())?;
        all.extend(page.runs);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    all.reverse();
    Ok(all)
}

pub fn ledger_table(runs: &[Run]) -> Table {
    let mut table = Table::new(&[
        "RUN",
        "REPO",
        "REF",
        "SHA",
        "STATE",
        "CONTAINER",
        "KILL",
        "SUPERSEDED BY",
    ]);
    for run in runs {
        table.row(vec![
            short_id(&run.id).to_owned(),
            run.repo.clone(),
            run.ref_name.clone(),
            run.sha.clone(),
            run.state.to_string(),
            run.container_id
                .as_deref()
                .map_or_else(|| NONE.to_owned(), |id| abbreviate(id, 12)),
            run.kill
                .as_ref()
                .map_or_else(|| NONE.to_owned(), |kill| kill.state.to_string()),
            run.superseded_by
                .as_deref()
                .map_or_else(|| NONE.to_owned(), |id| short_id(id).to_owned()),
        ]);
    }
    table
}

/// The runs of one ref in the order they were recorded, each with what
/// became of it.
pub fn chain(runs: &[Run], repo: &str, ref_name: &str) -> Vec<String> {
    runs.iter()
        .filter(|run| run.repo == repo && run.ref_name == ref_name)
        .map(|run| {
            let mut line = format!("{}  run {}  {}", run.sha, short_id(&run.id), run.state);
            if let Some(by) = &run.superseded_by {
                let how = if run.started_at.is_some() {
                    "while active"
                } else {
                    "while pending"
                };
                line.push_str(&format!(" {how} -> by {}", short_id(by)));
            }
            if let Some(kill) = &run.kill {
                line.push_str(&format!(", container kill {}", kill.state));
            }
            line
        })
        .collect()
}

/// What the ledger holds at the end, counted from the file.
#[derive(Debug, Default)]
pub struct Counts {
    pub runs: usize,
    pub by_state: [usize; 6],
    pub out_of_order: usize,
    pub orphaned: usize,
    pub containers: usize,
    pub kills_done: usize,
    pub kills_requested: usize,
    pub kills_failed: usize,
}

impl Counts {
    pub fn of(ledger: &Runs, runs: &[Run]) -> Result<Counts, CliError> {
        let mut counts = Counts {
            runs: runs.len(),
            ..Counts::default()
        };
        for run in runs {
            counts.by_state[run.state as usize] += 1;
            if run.container_id.is_some() {
                counts.containers += 1;
            }
            match run.kill.as_ref().map(|kill| kill.state) {
                Some(KillState::Done) => counts.kills_done += 1,
                Some(KillState::Requested) => counts.kills_requested += 1,
                Some(KillState::Failed) => counts.kills_failed += 1,
                Some(KillState::Refused) | None => {}
            }
            for entry in ledger.history(&run.id)? {
                match entry.reason {
                    Reason::OutOfOrder => counts.out_of_order += 1,
                    Reason::Orphaned => counts.orphaned += 1,
                    _ => {}
                }
            }
        }
        Ok(counts)
    }

    /// One line of `key=value` pairs, easy to read and to parse.
    pub fn line(&self, duplicates: usize, running_containers: usize) -> String {
        let mut line = format!("counts: runs={}", self.runs);
        for state in RunState::ALL {
            line.push_str(&format!(" {state}={}", self.by_state[state as usize]));
        }
        line.push_str(&format!(
            " out_of_order={} orphaned={} duplicates={duplicates} containers={} kills_done={} \
             kills_requested={} kills_failed={} running_containers={running_containers}",
            self.out_of_order,
            self.orphaned,
            self.containers,
            self.kills_done,
            self.kills_requested,
            self.kills_failed,
        ));
        line
    }
}
