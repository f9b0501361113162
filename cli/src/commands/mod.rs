//! One function per subcommand, grouped by what they do to the ledger.
//! Each builds its whole output before printing it, so a failure prints
//! nothing on stdout.

mod maintenance;
mod reading;
mod runs;
mod states;

use crate::args::{Cli, Command};
use crate::exit::{CliError, Status};
use crate::output::Out;

/// Runs the parsed command line and returns how the process should end.
pub fn run(cli: Cli) -> Result<Status, CliError> {
    let mut out = Out::new();
    let ledger = &cli.ledger;
    let json = cli.json;
    let status = match cli.command {
        Command::Create(args) => runs::create(ledger, &args, json, &mut out)?,
        Command::Get(args) => runs::get(ledger, &args, json, &mut out)?,
        Command::Claim(args) => runs::claim(ledger, &args, json, &mut out)?,
        Command::Transition(args) => runs::transition(ledger, &args, json, &mut out)?,
        Command::Attach(args) => runs::attach(ledger, &args, json, &mut out)?,
        Command::Heartbeat(args) => runs::heartbeat(ledger, &args, json, &mut out)?,
        Command::Cancel(args) => runs::cancel(ledger, &args, json, &mut out)?,
        Command::Labels(args) => runs::labels(ledger, &args, json, &mut out)?,
        Command::List(args) => reading::list(ledger, &args, json, &mut out)?,
        Command::History(args) => reading::history(ledger, &args, json, &mut out)?,
        Command::Reconcile => maintenance::reconcile(ledger, json, &mut out)?,
        Command::Prune(args) => maintenance::prune(ledger, &args, json, &mut out)?,
        Command::States(args) => states::states(&args, json, &mut out),
        Command::Demo(_) if json => {
            return Err(CliError::BadInput {
                field: "--json",
                reason: "the demo prints a story, not data; read the ledger it leaves with \
                         `runledger list --json`"
                    .to_owned(),
            });
        }
        Command::Demo(args) => return crate::demo::run(ledger, &args),
        Command::DemoRunner(args) => return crate::demo::runner::run(ledger, &args),
    };
    out.flush()?;
    Ok(status)
}
