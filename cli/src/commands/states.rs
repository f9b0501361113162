//! `states`: the transition table, as the core holds it.

use runledger::{RunState, TRANSITIONS};
use serde_json::json;

use crate::args::StatesArgs;
use crate::exit::Status;
use crate::output::{Out, Table};

pub fn states(args: &StatesArgs, json: bool, out: &mut Out) -> Status {
    if args.mermaid {
        out.line(mermaid().trim_end());
    } else if json {
        let rows: Vec<_> = TRANSITIONS
            .iter()
            .map(|(from, to)| {
                json!({
                    "state": from.as_str(),
                    "live": from.is_live(),
                    "may_become": to.iter().map(|state| state.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect();
        out.json(&json!({ "states": rows }));
    } else {
        let mut table = Table::new(&["STATE", "KIND", "MAY BECOME"]);
        for (from, to) in TRANSITIONS {
            let next: Vec<&str> = to.iter().map(|state| state.as_str()).collect();
            table.row(vec![
                from.to_string(),
                if from.is_live() { "live" } else { "terminal" }.to_owned(),
                if next.is_empty() {
                    "-".to_owned()
                } else {
                    next.join(", ")
                },
            ]);
        }
        out.table(&table);
    }
    Status::Success
}

/// The transition table as a Mermaid state diagram: every run starts
/// pending, and every state without successors ends.
pub fn mermaid() -> String {
    let mut text = String::from("stateDiagram-v2\n");
    text.push_str(&format!("    [*] --> {}\n", RunState::Pending));
    for (from, to) in TRANSITIONS {
        for next in *to {
            text.push_str(&format!("    {from} --> {next}\n"));
        }
    }
    for (from, to) in TRANSITIONS {
        if to.is_empty() {
            text.push_str(&format!("    {from} --> [*]\n"));
        }
    }
    text
}
