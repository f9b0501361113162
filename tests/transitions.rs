//! The transition table as the ledger applies it: every pair of states,
//! allowed and refused, and the timestamps each move writes.

mod common;

use common::{Fixture, MAIN, push, sha};
use runledger::{ClaimFilter, Error, RunState, Runs, TRANSITIONS};

/// Creates a run and brings it to `state` by allowed moves.
fn run_in(runs: &Runs, n: u32, state: RunState) -> String {
    let ref_name = format!("refs/heads/branch-{n}");
    let created = runs.create(&push(&ref_name, &sha(n))).unwrap();
    let id = created.run.id;
    match state {
        RunState::Pending => {}
        RunState::Active => {
            let claimed = runs
                .claim(&ClaimFilter {
                    group: Some(created.run.group_key),
                    ..ClaimFilter::default()
                })
                .unwrap()
                .expect("a pending run to claim");
            assert_eq!(claimed.id, id);
        }
        terminal => {
            runs.transition(&id, RunState::Pending, terminal).unwrap();
        }
    }
    id
}

#[test]
fn every_pair_of_states_is_allowed_or_refused_as_the_table_says() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let mut n = 0;

    for from in RunState::ALL {
        for to in RunState::ALL {
            n += 1;
            let id = run_in(&runs, n, from);

            let result = runs.transition(&id, from, to);

            let allowed = TRANSITIONS
                .iter()
                .any(|(row, targets)| *row == from && targets.contains(&to));
            assert_eq!(from.may_become(to), allowed);
            if allowed {
                let run = result.unwrap_or_else(|e| panic!("{from} -> {to} refused: {e}"));
                assert_eq!(run.state, to);
            } else {
                assert!(
                    matches!(
                        result,
                        Err(Error::InvalidTransition { from: f, to: t }) if f == from && t == to
                    ),
                    "{from} -> {to} should be refused"
                );
                assert_eq!(
                    runs.get(&id).unwrap().state,
                    from,
                    "a refused move changed the run"
                );
            }
        }
    }
}

#[test]
fn the_table_allows_exactly_the_moves_of_the_specification() {
    use RunState::*;
    let allowed: Vec<(RunState, RunState)> = TRANSITIONS
        .iter()
        .flat_map(|(from, targets)| targets.iter().map(move |to| (*from, *to)))
        .collect();

    assert_eq!(
        allowed,
        vec![
            (Pending, Active),
            (Pending, Complete),
            (Pending, Failed),
            (Pending, Superseded),
            (Pending, Canceled),
            (Active, Complete),
            (Active, Failed),
            (Active, Superseded),
            (Active, Canceled),
        ]
    );
}

#[test]
fn a_move_from_a_state_the_run_has_left_is_a_conflict_naming_the_actual_state() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let id = run_in(&runs, 1, RunState::Complete);

    let err = runs
        .transition(&id, RunState::Pending, RunState::Active)
        .unwrap_err();

    assert!(
        matches!(&err, Error::Conflict { actual: RunState::Complete, run_id, .. } if *run_id == id),
        "{err}"
    );
    assert!(
        err.to_string().contains("is complete, not pending"),
        "{err}"
    );
}

#[test]
fn timestamps_follow_the_states_and_are_written_once() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let created = runs.create(&push(MAIN, &sha(1))).unwrap().run;
    assert!(created.started_at.is_none() && created.finished_at.is_none());

    let active = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    let started = active.started_at.expect("active run has started");
    assert!(active.finished_at.is_none());
    assert!(active.lease_expires_at.expect("active run holds a lease") > started);

    let done = runs
        .transition(&active.id, RunState::Active, RunState::Complete)
        .unwrap();

    assert_eq!(done.started_at, Some(started));
    assert!(done.finished_at.expect("finished") >= started);
    assert!(done.lease_expires_at.is_none());
    assert_eq!(done.queued_at, created.queued_at);
}

#[test]
fn a_finished_run_keeps_its_state_and_timestamps_whatever_is_tried() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let id = run_in(&runs, 1, RunState::Active);
    let done = runs
        .transition(&id, RunState::Active, RunState::Complete)
        .unwrap();

    let mut outcomes = Vec::new();
    for from in RunState::ALL {
        for to in RunState::ALL {
            outcomes.push(runs.transition(&id, from, to).is_ok());
        }
    }
    outcomes.push(runs.cancel(&id).is_ok());
    outcomes.push(runs.heartbeat(&id).is_ok());
    // Behind the library's back, the schema still refuses a revival.
    let revive = common::raw(&fixture.db())
        .execute("UPDATE runs SET state = 'pending' WHERE id = ?1", [&id]);

    assert!(outcomes.iter().all(|ok| !ok), "a finished run moved");
    assert_eq!(runs.get(&id).unwrap(), done);
    assert!(revive.unwrap_err().to_string().contains("CHECK"));
}

#[test]
fn history_records_every_transition_with_its_reason() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let id = run_in(&runs, 1, RunState::Active);
    runs.transition(&id, RunState::Active, RunState::Failed)
        .unwrap();

    let history = runs.history(&id).unwrap();

    let moves: Vec<(Option<RunState>, RunState, &str)> = history
        .iter()
        .map(|entry| (entry.from, entry.to, entry.reason.as_str()))
        .collect();
    assert_eq!(
        moves,
        vec![
            (Some(RunState::Pending), RunState::Active, "claimed"),
            (Some(RunState::Active), RunState::Failed, "requested"),
        ]
    );
}
