//! The two output forms: one JSON document per command, with the field
//! names of the database's columns, and aligned tables for people.

use std::io::{self, Write};

use jiff::Timestamp;
use runledger::{
    Created, HistoryEntry, KillOutcome, KillRecord, Page, Reconciled, Run, SupersededRun,
};
use serde_json::{Value, json};

use crate::exit::CliError;

/// Where a command's result goes: stdout, written once at the end.
pub struct Out {
    buffer: Vec<u8>,
}

impl Out {
    pub fn new() -> Out {
        Out { buffer: Vec::new() }
    }

    /// Appends one line.
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.buffer.extend_from_slice(text.as_ref().as_bytes());
        self.buffer.push(b'\n');
    }

    /// Appends a JSON document, pretty-printed.
    pub fn json(&mut self, value: &Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
        self.line(text);
    }

    /// Appends a table.
    pub fn table(&mut self, table: &Table) {
        for line in table.render() {
            self.line(line);
        }
    }

    /// Writes everything to stdout. A reader that went away (`| head`) is
    /// not an error.
    pub fn flush(self) -> Result<(), CliError> {
        let mut stdout = io::stdout().lock();
        match stdout.write_all(&self.buffer).and_then(|()| stdout.flush()) {
            Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                Err(CliError::Output { source: error })
            }
            _ => Ok(()),
        }
    }
}

/// Columns of text, left-aligned, padded to the widest cell.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> Vec<String> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let render_row = |cells: Vec<&str>| {
            let mut line = String::new();
            for (index, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                if index + 1 == cells.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    let pad = width - cell.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            line
        };
        let mut lines = vec![render_row(self.headers.clone())];
        lines.extend(
            self.rows
                .iter()
                .map(|row| render_row(row.iter().map(String::as_str).collect())),
        );
        lines
    }
}

/// A time in JSON: RFC 3339 in UTC.
fn time(at: Timestamp) -> Value {
    Value::String(at.to_string())
}

fn optional_time(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, time)
}

/// A time in a table: to the second, UTC.
pub fn short_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// A missing value in a table.
pub const NONE: &str = "-";

/// The JSON shape of a run; the field names are the columns of `runs`.
pub fn run_json(run: &Run) -> Value {
    json!({
        "id": run.id,
        "repo": run.repo,
        "ref_name": run.ref_name,
        "sha": run.sha,
        "group_key": run.group_key,
        "state": run.state.as_str(),
        "protected": run.protected,
        "pushed_at": time(run.pushed_at),
        "queued_at": time(run.queued_at),
        "started_at": optional_time(run.started_at),
        "finished_at": optional_time(run.finished_at),
        "superseded_by": run.superseded_by,
        "lease_expires_at": optional_time(run.lease_expires_at),
        "container_id": run.container_id,
        "kill": run.kill.as_ref().map(kill_record_json),
    })
}

fn kill_record_json(kill: &KillRecord) -> Value {
    json!({
        "state": kill.state.as_str(),
        "attempts": kill.attempts,
        "error": kill.error,
        "at": time(kill.at),
    })
}

/// The JSON shape of a kill outcome: `{"outcome": ..., "error": ...}`.
pub fn kill_outcome_json(outcome: &KillOutcome) -> Value {
    let (name, error, labelled) = match outcome {
        KillOutcome::Done => ("done", None, None),
        KillOutcome::Failed { error } => ("failed", Some(error.as_str()), None),
        KillOutcome::Refused { labelled_run_id } => {
            ("refused", None, Some(labelled_run_id.as_str()))
        }
        KillOutcome::Recorded => ("recorded", None, None),
    };
    json!({ "outcome": name, "error": error, "labelled_run_id": labelled })
}

/// How a kill went, in a few words.
pub fn kill_outcome_text(outcome: &KillOutcome) -> String {
    match outcome {
        KillOutcome::Done => "killed".to_owned(),
        KillOutcome::Failed { error } => format!("kill failed ({error}); reconcile retries it"),
        KillOutcome::Refused { labelled_run_id } => {
            format!("left alone: it is labelled with run {labelled_run_id}")
        }
        KillOutcome::Recorded => "kill recorded (record-only runtime)".to_owned(),
    }
}

fn superseded_json(old: &SupersededRun) -> Value {
    json!({
        "run_id": old.run_id,
        "previous_state": old.previous_state.as_str(),
        "container_id": old.container_id,
        "kill": old.kill.as_ref().map(kill_outcome_json),
    })
}

/// The JSON shape of `create`.
pub fn created_json(created: &Created) -> Value {
    json!({
        "run": run_json(&created.run),
        "duplicate": created.duplicate,
        "superseded": created.superseded.iter().map(superseded_json).collect::<Vec<_>>(),
    })
}

/// The JSON shape of `list`.
pub fn page_json(page: &Page) -> Value {
    json!({
        "runs": page.runs.iter().map(run_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })
}

/// The JSON shape of one history row.
pub fn history_json(entry: &HistoryEntry) -> Value {
    json!({
        "run_id": entry.run_id,
        "from": entry.from.map(|state| state.as_str()),
        "to": entry.to.as_str(),
        "at": time(entry.at),
        "reason": entry.reason.as_str(),
        "superseded_by": entry.superseded_by,
    })
}

/// The JSON shape of `reconcile`.
pub fn reconciled_json(report: &Reconciled) -> Value {
    let kills: Vec<Value> = report
        .kills
        .iter()
        .map(|kill| {
            json!({
                "run_id": kill.run_id,
                "container_id": kill.container_id,
                "kill": kill_outcome_json(&kill.outcome),
            })
        })
        .collect();
    json!({ "orphaned": report.orphaned, "kills": kills })
}

/// The rows of a run table.
pub fn runs_table(runs: &[Run]) -> Table {
    let mut table = Table::new(&[
        "ID",
        "REPO",
        "REF",
        "SHA",
        "STATE",
        "QUEUED",
        "CONTAINER",
        "KILL",
    ]);
    for run in runs {
        table.row(vec![
            run.id.clone(),
            run.repo.clone(),
            run.ref_name.clone(),
            abbreviate(&run.sha, 12),
            run.state.to_string(),
            short_time(run.queued_at),
            run.container_id
                .as_deref()
                .map_or_else(|| NONE.to_owned(), |id| abbreviate(id, 12)),
            run.kill
                .as_ref()
                .map_or_else(|| NONE.to_owned(), |kill| kill.state.to_string()),
        ]);
    }
    table
}

/// Every field of one run, one per line.
pub fn run_fields(run: &Run) -> Table {
    let mut table = Table::new(&["FIELD", "VALUE"]);
    let optional = |value: Option<String>| value.unwrap_or_else(|| NONE.to_owned());
    let kill = run.kill.as_ref().map(|kill| {
        let mut text = format!("{} after {} attempt(s)", kill.state, kill.attempts);
        if let Some(error) = &kill.error {
            text.push_str(&format!(": {error}"));
        }
        text
    });
    let fields = [
        ("id", run.id.clone()),
        ("repo", run.repo.clone()),
        ("ref_name", run.ref_name.clone()),
        ("sha", run.sha.clone()),
        ("group_key", run.group_key.clone()),
        ("state", run.state.to_string()),
        ("protected", run.protected.to_string()),
        ("pushed_at", short_time(run.pushed_at)),
        ("queued_at", short_time(run.queued_at)),
        ("started_at", optional(run.started_at.map(short_time))),
        ("finished_at", optional(run.finished_at.map(short_time))),
        ("superseded_by", optional(run.superseded_by.clone())),
        (
            "lease_expires_at",
            optional(run.lease_expires_at.map(short_time)),
        ),
        ("container_id", optional(run.container_id.clone())),
        ("kill", optional(kill)),
    ];
    for (name, value) in fields {
        table.row(vec![name.to_owned(), value]);
    }
    table
}

/// The first `len` characters of an id, enough to tell ids apart in a table.
pub fn abbreviate(id: &str, len: usize) -> String {
    id.chars().take(len).collect()
}
