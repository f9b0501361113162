//! Sequences of creates, claims, transitions, cancels, attaches and
//! heartbeats on a fresh ledger, checked step by step against a model of
//! the transition table and the supersede rules written here from the
//! README: the ledger and the model must agree on every result and on the
//! state of every run after every step.

#![no_main]

use jiff::{SignedDuration, Timestamp};
use libfuzzer_sys::fuzz_target;
use runledger::{ClaimFilter, Config, Error, Push, RunState, Runs, RuntimeConfig};

const GROUPS: [&str; 3] = ["refs/heads/main", "refs/heads/dev", "refs/tags/v1"];

#[derive(Debug, Clone)]
struct ModelRun {
    id: String,
    group: usize,
    sha: String,
    pushed_at: Timestamp,
    state: RunState,
    superseded_by: Option<String>,
    container: bool,
}

/// What the model expects a call to give: success, or an error kind.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Conflict(RunState),
    Superseded,
    InvalidTransition,
}

fn outcome<T>(result: Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(Error::Conflict { actual, .. }) => Outcome::Conflict(actual),
        Err(Error::Superseded { .. }) => Outcome::Superseded,
        Err(Error::InvalidTransition { .. }) => Outcome::InvalidTransition,
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

/// A run's state for a compare-and-set: success if it is in `expected`.
fn cas(run: &ModelRun, expected: RunState) -> Outcome {
    if run.state == expected {
        Outcome::Ok
    } else {
        Outcome::Conflict(run.state)
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temporary directory");
    let runs = Runs::open_with(
        dir.path().join("model.db"),
        Config {
            runtime: RuntimeConfig::RecordOnly,
            ..Config::default()
        },
    )
    .expect("open the ledger");
    let start = Timestamp::from_second(1_800_000_000).unwrap();
    let mut model: Vec<ModelRun> = Vec::new();
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let mut shas = 0u32;

    while let Some(op) = next() {
        let arg = next().unwrap_or(0);
        let pick = |model: &[ModelRun]| (!model.is_empty()).then(|| usize::from(arg) % model.len());
        match op % 6 {
            0 => {
                let group = usize::from(arg % 3);
                let live = model
                    .iter()
                    .position(|r| r.group == group && r.state.is_live());
                // Some pushes redeliver the live run's commit.
                let sha = match live {
                    Some(at) if arg & 0x80 != 0 => model[at].sha.clone(),
                    _ => {
                        shas += 1;
                        format!("{shas:08x}")
                    }
                };
                let pushed_at = start + SignedDuration::from_secs(i64::from(next().unwrap_or(0)));
                let push =
                    Push::new("work/model.git", GROUPS[group], sha.clone()).pushed_at(pushed_at);

                let created = runs.create(&push).expect("create");

                match live.map(|at| model[at].clone()) {
                    Some(old) if old.sha == sha => {
                        assert!(created.duplicate);
                        assert_eq!(created.run.id, old.id);
                    }
                    Some(newer) if newer.pushed_at > pushed_at => {
                        assert!(!created.duplicate && created.superseded.is_empty());
                        assert_eq!(created.run.state, RunState::Superseded);
                        assert_eq!(
                            created.run.superseded_by.as_deref(),
                            Some(newer.id.as_str())
                        );
                        model.push(ModelRun {
                            id: created.run.id.clone(),
                            group,
                            sha,
                            pushed_at,
                            state: RunState::Superseded,
                            superseded_by: Some(newer.id),
                            container: false,
                        });
                    }
                    replaced => {
                        assert_eq!(created.run.state, RunState::Pending);
                        let ids: Vec<&str> = created
                            .superseded
                            .iter()
                            .map(|s| s.run_id.as_str())
                            .collect();
                        if let Some(old) = replaced {
                            assert_eq!(ids, [old.id.as_str()]);
                            let at = model.iter().position(|r| r.id == old.id).unwrap();
                            model[at].state = RunState::Superseded;
                            model[at].superseded_by = Some(created.run.id.clone());
                        } else {
                            assert!(ids.is_empty(), "{ids:?}");
                        }
                        model.push(ModelRun {
                            id: created.run.id.clone(),
                            group,
                            sha,
                            pushed_at,
                            state: RunState::Pending,
                            superseded_by: None,
                            container: false,
                        });
                    }
                }
            }
            1 => {
                let claimed = runs.claim(&ClaimFilter::default()).expect("claim");
                // The oldest pending run; the model holds runs in creation order.
                let expected = model.iter().position(|r| r.state == RunState::Pending);
                assert_eq!(
                    claimed.as_ref().map(|r| r.id.as_str()),
                    expected.map(|at| model[at].id.as_str())
                );
                if let Some(at) = expected {
                    model[at].state = RunState::Active;
                }
            }
            2 => {
                let Some(at) = pick(&model) else { continue };
                let states = next().unwrap_or(0);
                let expected = RunState::ALL[usize::from(states % 6)];
                let to = RunState::ALL[usize::from((states / 6) % 6)];
                let want = if !expected.may_become(to) {
                    Outcome::InvalidTransition
                } else {
                    cas(&model[at], expected)
                };

                let got = outcome(runs.transition(&model[at].id, expected, to));

                assert_eq!(got, want, "{expected} -> {to} on {:?}", model[at]);
                if got == Outcome::Ok {
                    model[at].state = to;
                }
            }
            3 => {
                let Some(at) = pick(&model) else { continue };
                let want = if model[at].state.is_live() {
                    Outcome::Ok
                } else {
                    Outcome::Conflict(model[at].state)
                };

                let got = outcome(runs.cancel(&model[at].id));

                assert_eq!(got, want, "cancel {:?}", model[at]);
                if got == Outcome::Ok {
                    model[at].state = RunState::Canceled;
                }
            }
            4 => {
                let Some(at) = pick(&model) else { continue };
                if model[at].container {
                    continue;
                }
                let want = match model[at].state {
                    RunState::Superseded => Outcome::Superseded,
                    _ => cas(&model[at], RunState::Active),
                };

                let got = outcome(runs.attach_container(&model[at].id, &format!("c{at}")));

                assert_eq!(got, want, "attach {:?}", model[at]);
                // An attach to an ended run records the container to kill it.
                model[at].container = got == Outcome::Ok || model[at].state.is_terminal();
            }
            _ => {
                let Some(at) = pick(&model) else { continue };

                let got = outcome(runs.heartbeat(&model[at].id));

                assert_eq!(
                    got,
                    cas(&model[at], RunState::Active),
                    "heartbeat {:?}",
                    model[at]
                );
            }
        }

        for run in &model {
            let stored = runs.get(&run.id).expect("every run of the model is stored");
            assert_eq!(stored.state, run.state, "{run:?}");
            assert_eq!(stored.superseded_by, run.superseded_by, "{run:?}");
        }
    }
});
