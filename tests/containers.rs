//! Container kills against the real Docker engine of the machine, and against
//! a fake engine for the faults a real one will not produce on demand (a hang,
//! a 500). These tests need Docker: without an engine they fail, they do not
//! skip.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

use common::{Fixture, MAIN, push, sha};
use runledger::runtime::RUN_ID_LABEL;
use runledger::{
    ClaimFilter, Config, Error, KillConfig, KillOutcome, KillState, RunState, Runs, RuntimeConfig,
};

const IMAGE: &str = "runledger-test:busybox";
/// Every container these tests start carries this label, so a cleanup can
/// find the ones a failed test left behind.
const SUITE_LABEL: &str = "runledger.test-suite=core-containers";

fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker command runs");
    assert!(
        output.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Fails the test, loudly, when no engine answers; builds the image once.
fn engine() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        docker(&["info", "--format", "{{.ServerVersion}}"]);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/test-image.sh");
        let built = Command::new("bash").arg(script).status().unwrap();
        assert!(built.success(), "could not build the test image {IMAGE}");
    });
}

/// A running container, removed when dropped.
struct Container {
    id: String,
}

impl Container {
    /// Starts `command` (or the image's `sleep 1000`) labelled with `run_id`.
    fn start(run_id: Option<&str>, command: &[&str]) -> Container {
        engine();
        let label = run_id.map(|id| format!("{RUN_ID_LABEL}={id}"));
        let mut args = vec!["run", "-d", "--network", "none", "--label", SUITE_LABEL];
        if let Some(label) = &label {
            args.extend(["--label", label]);
        }
        args.push(IMAGE);
        args.extend(command);
        Container { id: docker(&args) }
    }

    fn running(&self) -> bool {
        docker(&["inspect", "--format", "{{.State.Running}}", &self.id]) == "true"
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.id]).output();
    }
}

fn docker_ledger(fixture: &Fixture, kill: KillConfig) -> Runs {
    engine();
    Runs::open_with(
        fixture.db(),
        Config {
            runtime: RuntimeConfig::Docker,
            kill,
            ..Config::default()
        },
    )
    .unwrap()
}

/// Creates and claims a run on `main`.
fn active_run(runs: &Runs, n: u32) -> runledger::Run {
    runs.create(&push(MAIN, &sha(n))).unwrap();
    runs.claim(&ClaimFilter::default()).unwrap().unwrap()
}

#[test]
fn create_supersedes_an_active_run_and_its_container_is_stopped() {
    let fixture = Fixture::new();
    let runs = docker_ledger(&fixture, KillConfig::default());
    let old = active_run(&runs, 1);
    let container = Container::start(Some(&old.id), &[]);
    runs.attach_container(&old.id, &container.id).unwrap();

    let created = runs.create(&push(MAIN, &sha(2))).unwrap();

    assert_eq!(created.superseded[0].kill, Some(KillOutcome::Done));
    assert!(
        !container.running(),
        "the superseded run's container still runs"
    );
    let old = runs.get(&old.id).unwrap();
    assert_eq!(old.state, RunState::Superseded);
    let kill = old.kill.unwrap();
    assert_eq!((kill.state, kill.attempts), (KillState::Done, 1));
}

#[test]
fn a_container_attached_after_its_run_was_superseded_is_killed_by_the_attach() {
    let fixture = Fixture::new();
    let runs = docker_ledger(&fixture, KillConfig::default());
    let old = active_run(&runs, 1);
    let newer = runs.create(&push(MAIN, &sha(2))).unwrap().run;
    let late = Container::start(Some(&old.id), &[]);

    let err = runs.attach_container(&old.id, &late.id).unwrap_err();

    assert!(
        matches!(&err, Error::Superseded { superseded_by: Some(by), .. } if *by == newer.id),
        "{err}"
    );
    assert!(!late.running(), "a container outlived its superseded run");
    assert_eq!(
        runs.get(&old.id).unwrap().kill.unwrap().state,
        KillState::Done
    );
}

#[test]
fn a_container_labelled_with_another_run_is_not_killed_and_the_refusal_is_recorded() {
    let fixture = Fixture::new();
    let runs = docker_ledger(&fixture, KillConfig::default());
    let old = active_run(&runs, 1);
    let someone_elses = Container::start(Some("0190a5c4-7b1e-7cc2-8a51-6a3d2f1e9b10"), &[]);
    runs.attach_container(&old.id, &someone_elses.id).unwrap();

    let created = runs.create(&push(MAIN, &sha(2))).unwrap();

    assert_eq!(
        created.superseded[0].kill,
        Some(KillOutcome::Refused {
            labelled_run_id: "0190a5c4-7b1e-7cc2-8a51-6a3d2f1e9b10".into()
        })
    );
    assert!(
        someone_elses.running(),
        "another run's container was killed"
    );
    let kill = runs.get(&old.id).unwrap().kill.unwrap();
    assert_eq!(kill.state, KillState::Refused);
    assert!(kill.error.unwrap().contains("labelled with run 0190a5c4"));
    let retried = runs.reconcile().unwrap();
    assert!(retried.kills.is_empty(), "a refused kill is never retried");
}

#[test]
fn a_container_that_already_exited_or_was_removed_counts_as_done() {
    let fixture = Fixture::new();
    let runs = docker_ledger(&fixture, KillConfig::default());
    let exits = active_run(&runs, 1);
    let exited = Container::start(Some(&exits.id), &["true"]);
    runs.attach_container(&exits.id, &exited.id).unwrap();
    docker(&["wait", &exited.id]);

    let first = runs.create(&push(MAIN, &sha(2))).unwrap();
    let removed_run = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
    let removed = Container::start(Some(&removed_run.id), &[]);
    runs.attach_container(&removed_run.id, &removed.id).unwrap();
    docker(&["rm", "-f", &removed.id]);
    let second = runs.create(&push(MAIN, &sha(3))).unwrap();

    assert_eq!(first.superseded[0].kill, Some(KillOutcome::Done));
    assert_eq!(second.superseded[0].run_id, removed_run.id);
    assert_eq!(second.superseded[0].kill, Some(KillOutcome::Done));
}

#[test]
fn reconcile_kills_a_running_container_labelled_with_a_finished_run() {
    let fixture = Fixture::new();
    let runs = docker_ledger(&fixture, KillConfig::default());
    let run = active_run(&runs, 1);
    runs.transition(&run.id, RunState::Active, RunState::Complete)
        .unwrap();
    let stray = Container::start(Some(&run.id), &[]);
    let live_run = active_run(&runs, 2);
    let live = Container::start(Some(&live_run.id), &[]);

    let report = runs.reconcile().unwrap();

    assert!(!stray.running(), "a finished run's container still runs");
    assert!(live.running(), "a live run's container was killed");
    let killed: Vec<&str> = report
        .kills
        .iter()
        .map(|k| k.container_id.as_str())
        .collect();
    assert!(killed.contains(&stray.id.as_str()), "{report:?}");
}

#[test]
fn reconcile_fails_a_run_whose_lease_expired_and_kills_its_container() {
    let fixture = Fixture::new();
    let runs = Runs::open_with(
        fixture.db(),
        Config {
            runtime: RuntimeConfig::Docker,
            lease: Duration::from_millis(300),
            ..Config::default()
        },
    )
    .unwrap();
    engine();
    let orphan = active_run(&runs, 1);
    let container = Container::start(Some(&orphan.id), &[]);
    runs.attach_container(&orphan.id, &container.id).unwrap();
    // The runner dies: no heartbeat comes, and the lease runs out.
    std::thread::sleep(Duration::from_millis(400));

    let report = runs.reconcile().unwrap();

    assert_eq!(report.orphaned, vec![orphan.id.clone()]);
    assert!(
        !container.running(),
        "an orphaned run's container still runs"
    );
    let orphan = runs.get(&orphan.id).unwrap();
    assert_eq!(orphan.state, RunState::Failed);
    assert_eq!(orphan.kill.unwrap().state, KillState::Done);
}

#[test]
fn reconcile_retries_a_kill_that_failed_because_the_engine_was_down() {
    let fixture = Fixture::new();
    let down = Runs::open_with(
        fixture.db(),
        Config {
            runtime: RuntimeConfig::DockerAt("unix:///nonexistent/docker.sock".into()),
            ..Config::default()
        },
    )
    .unwrap();
    let run = active_run(&down, 1);
    let container = Container::start(Some(&run.id), &[]);
    down.attach_container(&run.id, &container.id).unwrap();
    let created = down.create(&push(MAIN, &sha(2))).unwrap();
    let Some(KillOutcome::Failed { error }) = &created.superseded[0].kill else {
        panic!("the kill should fail with the engine down: {created:?}");
    };
    assert!(error.contains("unavailable"), "{error}");
    assert!(container.running());

    let report = docker_ledger(&fixture, KillConfig::default())
        .reconcile()
        .unwrap();

    assert!(
        !container.running(),
        "reconcile did not retry the failed kill"
    );
    assert!(
        report
            .kills
            .iter()
            .any(|k| k.run_id == run.id && k.outcome == KillOutcome::Done)
    );
    let kill = down.get(&run.id).unwrap().kill.unwrap();
    assert_eq!((kill.state, kill.attempts), (KillState::Done, 2));
}

#[test]
fn with_a_grace_period_a_container_that_ignores_sigterm_is_dead_after_it() {
    let fixture = Fixture::new();
    let runs = docker_ledger(
        &fixture,
        KillConfig {
            signal: "SIGTERM".into(),
            grace: Some(Duration::from_millis(800)),
            timeout: Duration::from_secs(20),
        },
    );
    let old = active_run(&runs, 1);
    let stubborn = Container::start(
        Some(&old.id),
        &["sh", "-c", "trap '' TERM; while true; do sleep 1; done"],
    );
    runs.attach_container(&old.id, &stubborn.id).unwrap();

    let created = runs.create(&push(MAIN, &sha(2))).unwrap();

    assert_eq!(created.superseded[0].kill, Some(KillOutcome::Done));
    assert!(
        !stubborn.running(),
        "SIGKILL did not follow the grace period"
    );
    // 137 = 128 + SIGKILL: it outlived SIGTERM and died of the SIGKILL.
    let exit_code = docker(&["inspect", "--format", "{{.State.ExitCode}}", &stubborn.id]);
    assert_eq!(exit_code, "137");
}

#[test]
fn the_blocking_api_works_when_called_from_inside_a_tokio_runtime() {
    let fixture = Fixture::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let stopped = runtime.block_on(async {
        let runs = docker_ledger(&fixture, KillConfig::default());
        let old = active_run(&runs, 1);
        let container = Container::start(Some(&old.id), &[]);
        runs.attach_container(&old.id, &container.id).unwrap();
        let created = runs.create(&push(MAIN, &sha(2))).unwrap();
        // Dropping the handle here, inside the async context, must not panic.
        drop(runs);
        (created.superseded[0].kill.clone(), container.running())
    });

    assert_eq!(stopped, (Some(KillOutcome::Done), false));
}

/// A fake engine on a Unix socket that reads each request and then either
/// never answers or answers with an error.
fn fake_engine(dir: &Path, answer: Option<&'static str>) -> PathBuf {
    let socket = dir.join("fake-docker.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            match answer {
                Some(response) => {
                    let _ = stream.write_all(response.as_bytes());
                }
                // Hold the connection open and say nothing.
                None => held.push(stream),
            }
        }
    });
    socket
}

fn ledger_on_fake(fixture: &Fixture, socket: &Path, timeout: Duration) -> Runs {
    Runs::open_with(
        fixture.db(),
        Config {
            runtime: RuntimeConfig::DockerAt(format!("unix://{}", socket.display())),
            kill: KillConfig {
                timeout,
                ..KillConfig::default()
            },
            ..Config::default()
        },
    )
    .unwrap()
}

#[test]
fn a_hung_engine_delays_create_by_at_most_the_timeout_and_never_undoes_the_supersede() {
    let fixture = Fixture::new();
    let socket = fake_engine(fixture.dir.path(), None);
    let runs = ledger_on_fake(&fixture, &socket, Duration::from_millis(700));
    let old = active_run(&runs, 1);
    runs.attach_container(&old.id, "hung-container").unwrap();

    let started = Instant::now();
    let created = runs.create(&push(MAIN, &sha(2))).unwrap();
    let took = started.elapsed();

    assert!(
        took < Duration::from_secs(3),
        "create waited {took:?} on a hung engine"
    );
    let Some(KillOutcome::Failed { error }) = &created.superseded[0].kill else {
        panic!("a hung engine should fail the kill: {created:?}");
    };
    assert!(error.contains("did not answer"), "{error}");
    assert_eq!(runs.get(&old.id).unwrap().state, RunState::Superseded);
    assert_eq!(
        runs.get(&old.id).unwrap().kill.unwrap().state,
        KillState::Failed
    );
}

#[test]
fn an_engine_answering_errors_fails_the_kill_with_its_message() {
    let fixture = Fixture::new();
    let socket = fake_engine(
        fixture.dir.path(),
        Some(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
             Content-Length: 30\r\nConnection: close\r\n\r\n{\"message\":\"engine on fire!\"}\n",
        ),
    );
    let runs = ledger_on_fake(&fixture, &socket, Duration::from_secs(5));
    let old = active_run(&runs, 1);
    runs.attach_container(&old.id, "some-container").unwrap();

    let created = runs.create(&push(MAIN, &sha(2))).unwrap();

    let Some(KillOutcome::Failed { error }) = &created.superseded[0].kill else {
        panic!("an engine answering 500 should fail the kill: {created:?}");
    };
    assert!(
        error.contains("500") && error.contains("engine on fire"),
        "{error}"
    );
    assert_eq!(runs.get(&old.id).unwrap().state, RunState::Superseded);
}

#[test]
fn container_labels_name_the_run_its_repo_ref_and_sha() {
    let fixture = Fixture::new();
    let runs = fixture.open();
    let run = runs.create(&push(MAIN, &sha(1))).unwrap().run;

    let labels = runs.container_labels(&run);

    assert_eq!(labels[RUN_ID_LABEL], run.id);
    assert_eq!(labels["runledger.repo"], run.repo);
    assert_eq!(labels["runledger.ref"], run.ref_name);
    assert_eq!(labels["runledger.sha"], run.sha);
}

#[test]
fn kills_the_timeout_leaves_no_time_for_are_not_tried_and_stay_owed_without_an_attempt() {
    let fixture = Fixture::new();
    let socket = fake_engine(fixture.dir.path(), None);
    let runs = ledger_on_fake(&fixture, &socket, Duration::from_millis(500));
    let mut owed = Vec::new();
    for (n, ref_name) in ["refs/heads/a", "refs/heads/b"].into_iter().enumerate() {
        runs.create(&push(ref_name, &sha(n as u32))).unwrap();
        let run = runs.claim(&ClaimFilter::default()).unwrap().unwrap();
        runs.attach_container(&run.id, &format!("hung-{n}"))
            .unwrap();
        runs.cancel(&run.id).unwrap();
        owed.push(run.id);
    }
    let attempts = |id: &str| runs.get(id).unwrap().kill.unwrap().attempts;
    let before: Vec<u32> = owed.iter().map(|id| attempts(id)).collect();

    let report = runs.reconcile().unwrap();

    // The first kill waits out the whole timeout on the hung engine; the
    // second is never sent, so it counts no attempt and stays for later.
    assert_eq!(report.kills.len(), 2, "{report:?}");
    let Some(KillOutcome::Failed { error }) = report.kills.get(1).map(|k| &k.outcome) else {
        panic!("the second kill should be reported as not tried: {report:?}");
    };
    assert!(error.starts_with("not tried"), "{error}");
    let second = &report.kills[1].run_id;
    let index = owed.iter().position(|id| id == second).unwrap();
    assert_eq!(attempts(second), before[index], "an untried kill counted");
    assert_eq!(
        runs.get(second).unwrap().kill.unwrap().state,
        KillState::Failed,
        "the kill stays owed for the next reconcile"
    );
}
