//! `runledger demo`: a forge receives bursts of pushes while runner
//! processes claim runs and start containers; newer pushes supersede older
//! runs and kill their containers; one runner is killed and reconcile
//! recovers its run. Everything is printed as it happens, then read back
//! from the ledger file.
//!
//! This process plays the forge (it calls `create` for each webhook
//! delivery) and the operator (it kills a runner and calls `reconcile`).
//! The runners are separate processes of the same binary.

mod crew;
mod engine;
mod report;
pub mod runner;
mod script;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use runledger::{Created, ListFilter, Push, RunState, Runs};

use crate::args::DemoArgs;
use crate::demo::crew::{Crew, Message};
use crate::demo::engine::Engine;
use crate::demo::runner::short_id;
use crate::demo::script::Delivery;
use crate::exit::{CliError, Status};
use crate::output::{Out, abbreviate, kill_outcome_text};
use crate::settings::{Access, LedgerOptions, RuntimeChoice};

/// The lease of the demo's runs unless `--lease-secs` says otherwise: short,
/// so the dead runner's run is recovered within seconds.
const DEMO_LEASE_SECS: u64 = 2;
/// The pause between two webhook deliveries of a burst.
const DELIVERY_GAP: Duration = Duration::from_millis(150);
/// How long any one phase may take before the demo gives up.
const PHASE_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(ledger: &LedgerOptions, args: &DemoArgs) -> Result<Status, CliError> {
    if ledger.db.try_exists().unwrap_or(true) {
        return Err(CliError::BadInput {
            field: "db",
            reason: format!(
                "{} already exists; the demo writes a fresh ledger, so give it a new path",
                ledger.db.display()
            ),
        });
    }
    let session = args.session.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            std::process::id(),
            Timestamp::now().as_millisecond()
        )
    });
    let engine = choose_engine(ledger, args)?;
    let mut options = ledger.clone();
    options.lease_secs = Some(ledger.lease_secs.unwrap_or(DEMO_LEASE_SECS));
    if engine.is_none() {
        options.runtime = RuntimeChoice::RecordOnly;
    }
    let runs = options.open(Access::Create)?;

    // Declared before the crew so that it is dropped after it: runners die
    // first, then their containers are removed.
    let _containers = SessionCleanup {
        engine: engine.clone(),
        session: session.clone(),
    };
    let mut runner_args = vec![
        "--work-ms".to_owned(),
        args.work_ms.to_string(),
        "--session".to_owned(),
        session.clone(),
    ];
    if engine.is_some() {
        runner_args.extend(["--image".to_owned(), args.image.clone()]);
    }
    let crew = Crew::spawn(args.runners as usize, &global_args(&options), &runner_args)?;
    let show = Show {
        started: Instant::now(),
        story_start: Timestamp::now() - SignedDuration::from_secs(60),
        runs,
        crew,
        engine,
        holders: HashMap::new(),
        session,
        ready: 0,
        killed: None,
        duplicates: 0,
        recorded: HashMap::new(),
    };
    show.say(
        "demo",
        &format!(
            "ledger {}, lease {} s, {} runner processes",
            options.db.display(),
            options.lease_secs.unwrap_or(DEMO_LEASE_SECS),
            args.runners
        ),
    );
    show.play(args.runners as usize)
}

/// Picks real containers when an engine answers, else the record-only
/// runtime, and says which.
fn choose_engine(ledger: &LedgerOptions, args: &DemoArgs) -> Result<Option<Engine>, CliError> {
    let Some(engine) = Engine::for_runtime(&ledger.runtime) else {
        println!(
            "containers: record-only runtime (chosen with --runtime): kills are recorded in the \
             ledger, not carried out, and no container is started"
        );
        return Ok(None);
    };
    match engine.probe() {
        Ok(version) => {
            if !engine.has_image(&args.image) {
                return Err(CliError::demo(format!(
                    "image {} is not in the local engine; build it with `bash .ci/test-image.sh` \
                     (no registry is used)",
                    args.image
                )));
            }
            println!(
                "containers: Docker engine {version}: runners start {} containers with \
                 --network none, and superseded runs' containers are killed",
                args.image
            );
            Ok(Some(engine))
        }
        Err(reason) => {
            println!(
                "containers: no Docker engine answered ({reason}); using the RECORD-ONLY \
                 runtime: kills are recorded in the ledger, not carried out, and no container \
                 is started"
            );
            Ok(None)
        }
    }
}

/// The global options a runner process needs to open the same ledger the
/// same way.
fn global_args(options: &LedgerOptions) -> Vec<String> {
    let runtime = match &options.runtime {
        RuntimeChoice::Docker => "docker".to_owned(),
        RuntimeChoice::DockerAt(host) => host.clone(),
        RuntimeChoice::RecordOnly => "record-only".to_owned(),
    };
    let config = options.config(Access::Kill);
    vec![
        "--db".to_owned(),
        options.db.display().to_string(),
        "--runtime".to_owned(),
        runtime,
        "--lease-secs".to_owned(),
        config.lease.as_secs().to_string(),
        "--kill-signal".to_owned(),
        options.kill_signal.clone(),
        "--kill-timeout-secs".to_owned(),
        options.kill_timeout_secs.to_string(),
        "--busy-timeout-ms".to_owned(),
        options.busy_timeout_ms.to_string(),
        "--synchronous".to_owned(),
        options.synchronous.as_str().to_ascii_lowercase(),
    ]
}

/// Removes the demo's containers however the demo ends.
struct SessionCleanup {
    engine: Option<Engine>,
    session: String,
}

impl Drop for SessionCleanup {
    fn drop(&mut self) {
        if let Some(engine) = &self.engine {
            let _ = engine.remove_session(&self.session);
        }
    }
}

/// The demo as it runs.
struct Show {
    started: Instant,
    story_start: Timestamp,
    runs: Runs,
    crew: Crew,
    engine: Option<Engine>,
    /// Which runner holds which run, from the runners' events.
    holders: HashMap<String, usize>,
    session: String,
    ready: usize,
    killed: Option<usize>,
    duplicates: usize,
    /// The run each (repo, ref, sha) delivery led to.
    recorded: HashMap<(String, String), String>,
}

impl Show {
    fn play(mut self, runners: usize) -> Result<Status, CliError> {
        self.wait_for("the runners to start", |show| show.ready == runners)?;

        self.say("forge", "a burst of pushes arrives");
        self.deliver(script::FIRST_BURST)?;
        let orphan = self.latest_run(script::ORPHAN_REF)?;
        self.wait_for("a runner to start the engine run", |show| {
            show.holders.contains_key(&orphan)
        })?;
        let victim = self.holders[&orphan];
        self.crew.kill(victim)?;
        self.killed = Some(victim);
        self.say(
            "demo",
            &format!(
                "killed {} with SIGKILL while it held run {}; its container runs on until \
                 the lease expires",
                crew::name(victim),
                short_id(&orphan)
            ),
        );

        self.say("forge", "newer pushes, a late event and a redelivery");
        self.deliver(script::SECOND_BURST)?;

        let lease_end = self
            .runs
            .get(&orphan)?
            .lease_expires_at
            .unwrap_or_else(Timestamp::now);
        let wait = lease_end.duration_since(Timestamp::now());
        let wait = Duration::try_from(wait).unwrap_or_default() + Duration::from_millis(100);
        self.say(
            "demo",
            &format!(
                "waiting {:.1} s for run {}'s lease to expire",
                wait.as_secs_f64(),
                short_id(&orphan)
            ),
        );
        self.pump_until(Instant::now() + wait)?;
        self.reconcile()?;

        self.say("forge", "a new push to the ref whose runner died");
        self.deliver(script::THIRD_BURST)?;
        self.wait_for("every run to finish", |show| {
            show.live_runs().unwrap_or(1) == 0
        })?;

        let troubled = self.crew.stop(Duration::from_secs(30));
        self.say("demo", "every run is finished; the runners stop");
        // Whatever kill failed on the way gets its retry now.
        let final_pass = self.runs.reconcile()?;
        for kill in &final_pass.kills {
            self.say(
                "reconcile",
                &format!(
                    "retried container {} of run {}: {}",
                    abbreviate(&kill.container_id, 12),
                    short_id(&kill.run_id),
                    kill_outcome_text(&kill.outcome)
                ),
            );
        }
        self.finish(&troubled)
    }

    fn finish(self, troubled: &[String]) -> Result<Status, CliError> {
        let (running, removed) = match &self.engine {
            Some(engine) => {
                let session = self.session_label();
                let running = engine
                    .session_containers(&session, false)
                    .map_err(CliError::demo)?;
                let removed = engine.remove_session(&session).map_err(CliError::demo)?;
                (running.len(), removed)
            }
            None => (0, 0),
        };
        if self.engine.is_some() {
            self.say(
                "demo",
                &format!(
                    "{running} demo container(s) still running; removed the {removed} stopped \
                     one(s)"
                ),
            );
        }

        let all = report::all_runs(&self.runs)?;
        let counts = report::Counts::of(&self.runs, &all)?;
        let mut out = Out::new();
        out.line("");
        out.line("the ledger (run ids shortened to their last 8 characters):");
        out.table(&report::ledger_table(&all));
        out.line("");
        let (repo, ref_name) = script::CHAIN_REF;
        out.line(format!("supersede chain of {repo} {ref_name}:"));
        for line in report::chain(&all, repo, ref_name) {
            out.line(format!("  {line}"));
        }
        out.line("");
        out.line(counts.line(self.duplicates, running));
        out.flush()?;

        for trouble in troubled {
            eprintln!("runledger: demo: {trouble}");
        }
        if running > 0 {
            eprintln!("runledger: demo: {running} container(s) were still running at the end");
        }
        if troubled.is_empty() && running == 0 {
            Ok(Status::Success)
        } else {
            Ok(Status::Failure)
        }
    }

    fn session_label(&self) -> String {
        self.session.clone()
    }

    /// Prints one line of the story, stamped with the time since the start.
    fn say(&self, who: &str, text: &str) {
        println!(
            "[{:6.2}s] {who:<9} {text}",
            self.started.elapsed().as_secs_f64()
        );
    }

    /// Hands each delivery to the ledger as a forge's webhook handler
    /// would, and tells what the ledger did with it.
    fn deliver(&mut self, deliveries: &[Delivery]) -> Result<(), CliError> {
        for delivery in deliveries {
            let pushed_at = self.story_start + SignedDuration::from_secs(delivery.pushed_at_secs);
            let push =
                Push::new(delivery.repo, delivery.ref_name, delivery.sha).pushed_at(pushed_at);
            let created = self.runs.create(&push)?;
            self.tell_created(delivery, &created);
            self.recorded.insert(
                (delivery.repo.to_owned(), delivery.ref_name.to_owned()),
                created.run.id.clone(),
            );
            self.pump_until(Instant::now() + DELIVERY_GAP)?;
        }
        Ok(())
    }

    fn tell_created(&mut self, delivery: &Delivery, created: &Created) {
        let push = format!(
            "push {} {} {} (t{:+}s)",
            delivery.repo, delivery.ref_name, delivery.sha, delivery.pushed_at_secs
        );
        let run = &created.run;
        if created.duplicate {
            self.duplicates += 1;
            self.say(
                "forge",
                &format!(
                    "{push}: redelivered; run {} ({}) already has it, nothing changes",
                    short_id(&run.id),
                    run.state
                ),
            );
            return;
        }
        if let Some(newer) = &run.superseded_by {
            self.say(
                "forge",
                &format!(
                    "{push}: arrived out of order; run {} is recorded as superseded by the \
                     newer run {}",
                    short_id(&run.id),
                    short_id(newer)
                ),
            );
            return;
        }
        self.say(
            "forge",
            &format!("{push}: run {} pending", short_id(&run.id)),
        );
        for old in &created.superseded {
            let container = match (&old.container_id, &old.kill) {
                (Some(id), Some(outcome)) => format!(
                    "; container {}: {}",
                    abbreviate(id, 12),
                    kill_outcome_text(outcome)
                ),
                _ => String::new(),
            };
            self.say(
                "ledger",
                &format!(
                    "run {} ({}) superseded by {}{container}",
                    short_id(&old.run_id),
                    old.previous_state,
                    short_id(&run.id)
                ),
            );
        }
    }

    /// The run most recently recorded for a ref.
    fn latest_run(&self, (repo, ref_name): (&str, &str)) -> Result<String, CliError> {
        self.recorded
            .get(&(repo.to_owned(), ref_name.to_owned()))
            .cloned()
            .ok_or_else(|| CliError::demo(format!("no run was recorded for {repo} {ref_name}")))
    }

    /// Handles runner events until `condition` holds.
    fn wait_for(&mut self, what: &str, condition: impl Fn(&Show) -> bool) -> Result<(), CliError> {
        let deadline = Instant::now() + PHASE_TIMEOUT;
        while !condition(self) {
            if Instant::now() >= deadline {
                return Err(CliError::demo(format!(
                    "gave up waiting for {what} after {} s",
                    PHASE_TIMEOUT.as_secs()
                )));
            }
            self.pump_until(Instant::now() + Duration::from_millis(50))?;
        }
        Ok(())
    }

    /// Handles runner events until `until`.
    fn pump_until(&mut self, until: Instant) -> Result<(), CliError> {
        while let Some(message) = self.crew.next(until) {
            self.handle(message)?;
        }
        Ok(())
    }

    fn handle(&mut self, message: Message) -> Result<(), CliError> {
        let (runner, verb, fields) = match message {
            Message::Gone { runner } if self.killed == Some(runner) => return Ok(()),
            Message::Gone { runner } => {
                return Err(CliError::demo(format!(
                    "{} stopped unexpectedly",
                    crew::name(runner)
                )));
            }
            Message::Event {
                runner,
                verb,
                fields,
            } => (runner, verb, fields),
        };
        let field = |index: usize| fields.get(index).map_or("?", String::as_str);
        let run = short_id(field(0)).to_owned();
        let text = match verb.as_str() {
            "ready" => {
                self.ready += 1;
                format!("ready (pid {})", self.crew.pid(runner).unwrap_or(0))
            }
            "claimed" => format!("claimed run {run}: {} {} {}", field(1), field(2), field(3)),
            "started" => {
                self.holders.insert(field(0).to_owned(), runner);
                if self.engine.is_some() {
                    format!(
                        "started container {} for run {run}",
                        abbreviate(field(1), 12)
                    )
                } else {
                    format!("recorded container name {} for run {run}", field(1))
                }
            }
            "late" => format!(
                "run {run} became {} before its container was attached; the ledger killed the \
                 container",
                field(1)
            ),
            "stopped" => {
                self.holders.remove(field(0));
                format!("run {run} is now {}: stops working on it", field(1))
            }
            "finished" => {
                self.holders.remove(field(0));
                format!("run {run} finished: {}", field(1))
            }
            other => format!("said {other:?} {fields:?}"),
        };
        self.say(&crew::name(runner), &text);
        Ok(())
    }

    fn reconcile(&mut self) -> Result<(), CliError> {
        let report = self.runs.reconcile()?;
        for run_id in &report.orphaned {
            self.say(
                "reconcile",
                &format!(
                    "run {}: lease expired, now failed (orphaned)",
                    short_id(run_id)
                ),
            );
        }
        for kill in &report.kills {
            self.say(
                "reconcile",
                &format!(
                    "container {} of run {}: {}",
                    abbreviate(&kill.container_id, 12),
                    short_id(&kill.run_id),
                    kill_outcome_text(&kill.outcome)
                ),
            );
        }
        if report.orphaned.is_empty() {
            return Err(CliError::demo(
                "reconcile found no expired lease, though a runner died holding one",
            ));
        }
        Ok(())
    }

    /// How many runs are pending or active.
    fn live_runs(&self) -> Result<usize, CliError> {
        let mut live = 0;
        for state in [RunState::Pending, RunState::Active] {
            let filter = ListFilter {
                state: Some(state),
                ..ListFilter::default()
            };
            live += self
                .runs
                .list(&filter, runledger::MAX_PAGE, None)?
                .runs
                .len();
        }
        Ok(live)
    }
}
