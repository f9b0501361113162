//! Run states and the one transition table every face of the library shares.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Where a run stands. `Pending` and `Active` are live; the rest are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum RunState {
    /// Queued, waiting for a runner to claim it.
    Pending = 0,
    /// Claimed by a runner, which holds a lease on it.
    Active = 1,
    /// The work ended successfully, or there was nothing to run.
    Complete = 2,
    /// The work ended in failure, could not start, or its runner vanished.
    Failed = 3,
    /// A newer push in the same group replaced it.
    Superseded = 4,
    /// Someone canceled it explicitly.
    Canceled = 5,
}

/// The transition table: each row is a state and the states it may become.
///
/// This is the single source of truth. The SQL store, the C ABI, the Python
/// package and the CLI all read it from here rather than keep copies.
pub const TRANSITIONS: &[(RunState, &[RunState])] = &[
    (
        RunState::Pending,
        &[
            RunState::Active,
            RunState::Complete,
            RunState::Failed,
            RunState::Superseded,
            RunState::Canceled,
        ],
    ),
    (
        RunState::Active,
        &[
            RunState::Complete,
            RunState::Failed,
            RunState::Superseded,
            RunState::Canceled,
        ],
    ),
    (RunState::Complete, &[]),
    (RunState::Failed, &[]),
    (RunState::Superseded, &[]),
    (RunState::Canceled, &[]),
];

impl RunState {
    /// Every state, in the order of the transition table.
    pub const ALL: [RunState; 6] = [
        RunState::Pending,
        RunState::Active,
        RunState::Complete,
        RunState::Failed,
        RunState::Superseded,
        RunState::Canceled,
    ];

    /// The lower-case name stored in the database and shown to users.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Active => "active",
            RunState::Complete => "complete",
            RunState::Failed => "failed",
            RunState::Superseded => "superseded",
            RunState::Canceled => "canceled",
        }
    }

    /// Pending or active: the run still holds its group's place.
    pub const fn is_live(self) -> bool {
        matches!(self, RunState::Pending | RunState::Active)
    }

    /// No transition leaves a terminal state.
    pub const fn is_terminal(self) -> bool {
        !self.is_live()
    }

    /// The states this one may become, straight from [`TRANSITIONS`].
    pub fn successors(self) -> &'static [RunState] {
        TRANSITIONS
            .iter()
            .find(|(from, _)| *from == self)
            .map_or(&[], |(_, to)| to)
    }

    /// "May `self` become `to`?" according to the transition table.
    pub fn may_become(self, to: RunState) -> bool {
        self.successors().contains(&to)
    }

    /// The state with this numeric code (the C ABI's representation).
    pub fn from_code(code: u32) -> Option<RunState> {
        RunState::ALL.get(usize::try_from(code).ok()?).copied()
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunState {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        RunState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
            .ok_or_else(|| Error::InvalidInput {
                field: "state",
                reason: format!(
                    "unknown state {name:?}; expected one of pending, active, complete, failed, \
                     superseded, canceled"
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_one_row_per_state_in_declaration_order() {
        let rows: Vec<RunState> = TRANSITIONS.iter().map(|(from, _)| *from).collect();

        assert_eq!(rows, RunState::ALL);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for state in RunState::ALL {
            assert_eq!(state.as_str().parse::<RunState>().unwrap(), state);
            assert_eq!(RunState::from_code(state as u32), Some(state));
        }

        assert!("running".parse::<RunState>().is_err());
        assert!("Pending".parse::<RunState>().is_err());
        assert_eq!(RunState::from_code(6), None);
    }
}
