//! [`Runs`], the ledger handle: validation at the door, one store call per
//! operation, then the side effects that must happen outside a transaction
//! (container kills, run directories).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use crate::config::{Config, RuntimeConfig};
use crate::error::{Error, Result};
use crate::kill::{KillTarget, Killer};
use crate::policy::ProtectedRefs;
use crate::run::{
    ClaimFilter, Created, HistoryEntry, KillOutcome, KillReport, ListFilter, Page, Push, Reason,
    Reconciled, Run,
};
use crate::runtime::docker::DockerRuntime;
use crate::runtime::{self, ContainerRuntime};
use crate::state::RunState;
use crate::store::{SqliteOptions, SqliteStore, Store};
use crate::{rundir, validate};

/// The most runs one [`Runs::list`] page holds.
pub const MAX_PAGE: u32 = 1000;
/// How many failed kills one reconcile retries.
const KILL_RETRY_BATCH: u32 = 100;
/// How often [`Runs::wait_for_change`] looks at the run.
const CHANGE_POLL: Duration = Duration::from_millis(20);

/// A handle on one ledger file. Cheap to share: it is `Send + Sync`, and
/// threads calling it at once each get their own turn at the file.
///
/// A handle belongs to the process that opened it; after a `fork` the child
/// must open its own (calls on the inherited one fail with
/// [`Error::UsedAfterFork`]).
#[derive(Debug)]
pub struct Runs {
    path: PathBuf,
    config: Config,
    store: Box<dyn StoreDebug>,
    killer: Killer,
    opened_in: u32,
}

/// The store behind a handle, printable for `Debug`.
trait StoreDebug: Store + std::fmt::Debug {}
impl<T: Store + std::fmt::Debug> StoreDebug for T {}

impl Runs {
    /// Opens the ledger at `path`, creating the file if needed, with the
    /// default configuration.
    pub fn open(path: impl AsRef<Path>) -> Result<Runs> {
        Runs::open_with(path, Config::default())
    }

    /// Opens the ledger at `path` with `config`.
    pub fn open_with(path: impl AsRef<Path>, config: Config) -> Result<Runs> {
        let runtime: Option<Arc<dyn ContainerRuntime>> = match &config.runtime {
            RuntimeConfig::Docker => Some(Arc::new(DockerRuntime::from_env())),
            RuntimeConfig::DockerAt(host) => Some(Arc::new(DockerRuntime::at(host)?)),
            RuntimeConfig::RecordOnly => None,
        };
        Runs::open_with_runtime(path, config, runtime)
    }

    /// Opens the ledger with a container runtime of the caller's own
    /// (`None` records kills without carrying them out). The runtime in
    /// `config` is ignored.
    pub fn open_with_runtime(
        path: impl AsRef<Path>,
        config: Config,
        runtime: Option<Arc<dyn ContainerRuntime>>,
    ) -> Result<Runs> {
        let path = path.as_ref();
        if path.as_os_str().is_empty() {
            return Err(Error::invalid("path", "must not be empty"));
        }
        if config.busy_timeout.is_zero() {
            return Err(Error::invalid("busy_timeout", "must be longer than zero"));
        }
        if config.lease.is_zero() {
            return Err(Error::invalid("lease", "must be longer than zero"));
        }
        for pattern in config.protected_refs.patterns() {
            ProtectedRefs::validate_pattern(pattern)?;
        }
        config.kill.validate()?;
        if let Some(base) = &config.base_dir {
            if base.as_os_str().is_empty() {
                return Err(Error::invalid("base_dir", "must not be empty"));
            }
        }
        let store = SqliteStore::open(
            path,
            SqliteOptions {
                busy_timeout: config.busy_timeout,
                synchronous: config.synchronous,
                background_checkpoints: config.background_checkpoints,
            },
        )?;
        Ok(Runs {
            path: path.to_path_buf(),
            killer: Killer::new(runtime, config.kill.clone()),
            config,
            store: Box::new(store),
            opened_in: std::process::id(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration the handle was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn check_process(&self) -> Result<()> {
        let now_in = std::process::id();
        if now_in == self.opened_in {
            Ok(())
        } else {
            Err(Error::UsedAfterFork {
                opened_in: self.opened_in,
                used_in: now_in,
            })
        }
    }

    /// Records a push, superseding what it makes pointless, in one
    /// transaction; then kills the containers of the active runs it
    /// superseded. See the README for the five steps.
    ///
    /// A kill that fails or times out does not fail the create: the
    /// supersede stands, the outcome is in the result and on the run, and
    /// [`Runs::reconcile`] retries it.
    pub fn create(&self, push: &Push) -> Result<Created> {
        self.check_process()?;
        let push = push.validated()?;
        let protected = self.config.protected_refs.matches(&push.ref_name);
        let base = self.config.base_dir.as_deref();
        let mut made_dir: Option<(String, String)> = None;
        let result = self.store.create(&push, protected, now(), &mut |run| {
            if let Some(base) = base {
                made_dir = Some((run.repo.clone(), run.id.clone()));
                rundir::create(base, &run.repo, &run.id)?;
            }
            Ok(())
        });
        let mut created = match result {
            Ok(created) => created,
            Err(err) => {
                // The transaction rolled back: take its directory with it.
                if let (Some(base), Some((repo, run_id))) = (base, made_dir) {
                    let _ = rundir::remove(base, &repo, &run_id);
                }
                return Err(err);
            }
        };
        if !created.superseded.is_empty() {
            let superseded: Vec<&str> = created
                .superseded
                .iter()
                .map(|old| old.run_id.as_str())
                .collect();
            tracing::info!(
                run_id = created.run.id.as_str(),
                repo = created.run.repo.as_str(),
                ref_name = created.run.ref_name.as_str(),
                superseded = ?superseded,
                "superseded runs"
            );
        } else if let Some(newer) = &created.run.superseded_by {
            tracing::info!(
                run_id = created.run.id.as_str(),
                repo = created.run.repo.as_str(),
                ref_name = created.run.ref_name.as_str(),
                superseded_by = newer.as_str(),
                "recorded an out-of-order push as superseded by a newer run"
            );
        }

        let targets: Vec<(usize, KillTarget)> = created
            .superseded
            .iter()
            .enumerate()
            .filter_map(|(index, old)| {
                let container_id = old.container_id.clone()?;
                Some((
                    index,
                    KillTarget {
                        run_id: old.run_id.clone(),
                        container_id,
                    },
                ))
            })
            .collect();
        let outcomes =
            self.kill_and_record(targets.iter().map(|(_, target)| target.clone()).collect());
        for ((index, _), outcome) in targets.into_iter().zip(outcomes) {
            created.superseded[index].kill = Some(outcome);
        }
        Ok(created)
    }

    /// Kills the targets (or records them, record-only) and stores each
    /// outcome on the run whose container it was. A failure to store an
    /// outcome leaves the kill requested, so reconcile tries again; it does
    /// not fail the caller's operation.
    fn kill_and_record(&self, targets: Vec<KillTarget>) -> Vec<KillOutcome> {
        if targets.is_empty() {
            return Vec::new();
        }
        let Some(attempts) = self.killer.kill_all(&targets) else {
            return vec![KillOutcome::Recorded; targets.len()];
        };
        let now = now();
        let timeout_ms = self.config.kill.timeout.as_millis();
        targets
            .iter()
            .zip(attempts)
            .map(|(target, attempt)| {
                let Some(outcome) = attempt else {
                    // Not tried: the stored kill stays owed for reconcile.
                    return KillOutcome::Failed {
                        error: format!(
                            "not tried: the kill timeout of {timeout_ms} ms ran out on earlier \
                             containers; reconcile will try it"
                        ),
                    };
                };
                let stored =
                    self.store
                        .record_kill(&target.run_id, &target.container_id, &outcome, now);
                if let Err(error) = stored {
                    tracing::warn!(
                        run_id = target.run_id.as_str(),
                        container_id = target.container_id.as_str(),
                        error = %error,
                        "could not store a kill outcome; reconcile will retry the kill"
                    );
                }
                outcome
            })
            .collect()
    }

    /// One run by id.
    pub fn get(&self, run_id: &str) -> Result<Run> {
        self.check_process()?;
        validate::run_id(run_id)?;
        self.store.get(run_id)
    }

    /// Compare-and-set: moves the run from `expected` to `to`. Fails with
    /// [`Error::InvalidTransition`] when the table forbids the move and with
    /// [`Error::Conflict`] (naming the actual state) when the run is no
    /// longer in `expected`. Superseding or canceling an active run this way
    /// kills its container.
    pub fn transition(&self, run_id: &str, expected: RunState, to: RunState) -> Result<Run> {
        self.check_process()?;
        validate::run_id(run_id)?;
        if !expected.may_become(to) {
            return Err(Error::InvalidTransition { from: expected, to });
        }
        let run = self.store.transition(
            run_id,
            expected,
            to,
            Reason::Requested,
            now(),
            self.config.lease,
        )?;
        self.kill_if_requested(run)
    }

    /// Kills the container of a run whose kill was just requested.
    fn kill_if_requested(&self, mut run: Run) -> Result<Run> {
        let requested = run
            .kill
            .as_ref()
            .is_some_and(|kill| kill.state == crate::run::KillState::Requested);
        if let (true, Some(container_id)) = (requested, run.container_id.clone()) {
            self.kill_and_record(vec![KillTarget {
                run_id: run.id.clone(),
                container_id,
            }]);
            // The transition is committed: a failure to read the kill's
            // outcome back must not make it look as if it failed.
            match self.store.get(&run.id) {
                Ok(killed) => run = killed,
                Err(error) => tracing::warn!(
                    run_id = run.id.as_str(),
                    error = %error,
                    "could not read back a kill outcome"
                ),
            }
        }
        Ok(run)
    }

    /// Moves the oldest pending run to active and returns it, or `None` when
    /// nothing is waiting. A pending run whose group has an active run (a
    /// protected ref) waits until that run ends.
    pub fn claim(&self, filter: &ClaimFilter) -> Result<Option<Run>> {
        self.check_process()?;
        if let Some(repo) = &filter.repo {
            validate::repo(repo)?;
        }
        if let Some(group) = &filter.group {
            validate::group_key(group)?;
        }
        self.store.claim(filter, now(), self.config.lease)
    }

    /// Renews the lease of an active run for another lease period.
    pub fn heartbeat(&self, run_id: &str) -> Result<Run> {
        self.check_process()?;
        validate::run_id(run_id)?;
        self.store.heartbeat(run_id, now(), self.config.lease)
    }

    /// Cancels a live run; an active run's container is killed.
    pub fn cancel(&self, run_id: &str) -> Result<Run> {
        self.check_process()?;
        validate::run_id(run_id)?;
        let (run, _) = self.store.cancel(run_id, now())?;
        self.kill_if_requested(run)
    }

    /// Records the container a runner started for its active run.
    ///
    /// If the run is no longer active (a newer push superseded it between
    /// claim and attach), the container is killed here, so it cannot outlive
    /// its run, and the call fails with [`Error::Superseded`] (or
    /// [`Error::Conflict`] for another terminal state).
    pub fn attach_container(&self, run_id: &str, container_id: &str) -> Result<Run> {
        self.check_process()?;
        validate::run_id(run_id)?;
        validate::container_id(container_id)?;
        let err = match self.store.attach_container(run_id, container_id) {
            Ok(run) => return Ok(run),
            Err(err) => err,
        };
        let Error::Conflict { actual, .. } = &err else {
            return Err(err);
        };
        if actual.is_live() {
            return Err(err);
        }
        let actual = *actual;
        // Record the container first, so a kill that fails now is retried
        // by reconcile; but kill it whether or not the record could be
        // written: it must not outlive its run either way.
        let recorded = self
            .store
            .record_late_container(run_id, container_id, now());
        self.kill_and_record(vec![KillTarget {
            run_id: run_id.to_owned(),
            container_id: container_id.to_owned(),
        }]);
        recorded?;
        if actual == RunState::Superseded {
            let superseded_by = self.store.get(run_id)?.superseded_by;
            return Err(Error::Superseded {
                run_id: run_id.to_owned(),
                superseded_by,
            });
        }
        Err(err)
    }

    /// The labels a runner should put on the container of `run`, so that
    /// reconcile can find it and no kill ever takes another run's container.
    pub fn container_labels(&self, run: &Run) -> BTreeMap<String, String> {
        container_labels(run)
    }

    /// Settles what crashed runners and failed kills left behind: active
    /// runs whose lease expired become failed (reason orphaned) and their
    /// containers are killed; failed kills are retried; running containers
    /// labelled with a terminal run are killed. Pending runs stay queued.
    /// Safe to call from many processes at once.
    pub fn reconcile(&self) -> Result<Reconciled> {
        self.check_process()?;
        let orphaned = self.store.orphan_expired(now())?;
        if !orphaned.is_empty() {
            let run_ids: Vec<&str> = orphaned.iter().map(|run| run.id.as_str()).collect();
            tracing::info!(orphaned = ?run_ids, "reconcile failed runs whose lease expired");
        }
        let mut report = Reconciled {
            orphaned: orphaned.into_iter().map(|run| run.id).collect(),
            kills: Vec::new(),
        };
        if !self.killer.kills() {
            return Ok(report);
        }

        let mut targets: Vec<KillTarget> = self
            .store
            .kills_to_retry(KILL_RETRY_BATCH)?
            .into_iter()
            .filter_map(|run| {
                Some(KillTarget {
                    container_id: run.container_id?,
                    run_id: run.id,
                })
            })
            .collect();
        targets.extend(self.stray_containers(&targets));

        let outcomes = self.kill_and_record(targets.clone());
        report.kills = targets
            .into_iter()
            .zip(outcomes)
            .map(|(target, outcome)| KillReport {
                run_id: target.run_id,
                container_id: target.container_id,
                outcome,
            })
            .collect();
        Ok(report)
    }

    /// Running containers labelled with a run of this ledger that is over,
    /// other than those already in `known`. An engine that cannot list its
    /// containers is logged and skipped: the kills already recorded still
    /// get their retry.
    fn stray_containers(&self, known: &[KillTarget]) -> Vec<KillTarget> {
        let Some(runtime) = self.killer.runtime() else {
            return Vec::new();
        };
        let running = match runtime.labelled_running(self.killer.timeout()) {
            Ok(running) => running,
            Err(error) => {
                tracing::warn!(error = %error, "reconcile could not list labelled containers");
                return Vec::new();
            }
        };
        running
            .into_iter()
            .filter(|container| !known.iter().any(|k| k.container_id == container.id))
            .filter_map(|container| {
                let run_id = container.run_id()?.to_owned();
                validate::run_id(&run_id).ok()?;
                // A run this ledger does not hold may belong to another ledger.
                let run = self.store.get(&run_id).ok()?;
                run.state.is_terminal().then_some(KillTarget {
                    run_id,
                    container_id: container.id,
                })
            })
            .collect()
    }

    /// Runs, newest first, `limit` (1 to 1000) at a time. Pass the previous
    /// page's `next_cursor` to continue.
    pub fn list(&self, filter: &ListFilter, limit: u32, cursor: Option<&str>) -> Result<Page> {
        self.check_process()?;
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("{limit} is outside 1 to {MAX_PAGE}"),
            ));
        }
        if let Some(cursor) = cursor {
            validate::run_id(cursor).map_err(|_| {
                Error::invalid(
                    "cursor",
                    format!("{cursor:?} is not a cursor from a previous page"),
                )
            })?;
        }
        if let Some(repo) = &filter.repo {
            validate::repo(repo)?;
        }
        if let Some(ref_name) = &filter.ref_name {
            validate::ref_name(ref_name)?;
        }
        if let Some(group) = &filter.group {
            validate::group_key(group)?;
        }
        self.store.list(filter, limit, cursor)
    }

    /// Every transition of a run, oldest first.
    pub fn history(&self, run_id: &str) -> Result<Vec<HistoryEntry>> {
        self.check_process()?;
        validate::run_id(run_id)?;
        self.store.history(run_id)
    }

    /// Deletes terminal runs that finished more than `older_than` ago,
    /// except the newest `keep_per_group` runs of each group, with their
    /// history and run directories. Returns the deleted runs.
    pub fn prune(&self, keep_per_group: u32, older_than: Duration) -> Result<Vec<Run>> {
        self.check_process()?;
        let older_than = SignedDuration::try_from(older_than)
            .map_err(|_| Error::invalid("older_than", "is too long"))?;
        let cutoff = now()
            .checked_sub(older_than)
            .map_err(|_| Error::invalid("older_than", "reaches before the year -9999"))?;
        let pruned = self.store.prune(keep_per_group, cutoff)?;
        if let Some(base) = &self.config.base_dir {
            for run in &pruned {
                if let Err(error) = rundir::remove(base, &run.repo, &run.id) {
                    tracing::warn!(
                        run_id = run.id.as_str(),
                        error = %error,
                        "could not remove a pruned run directory"
                    );
                }
            }
        }
        if !pruned.is_empty() {
            tracing::info!(pruned = pruned.len(), "pruned finished runs");
        }
        Ok(pruned)
    }

    /// The run directory of `run`, when a base directory is configured.
    pub fn run_dir(&self, run: &Run) -> Option<PathBuf> {
        let base = self.config.base_dir.as_deref()?;
        Some(rundir::path_of(base, &run.repo, &run.id))
    }

    /// Waits until the run is no longer in `seen`, or `timeout` passes, and
    /// returns it as it then is. A runner calls this between steps to learn
    /// cheaply that its run was superseded or canceled.
    pub fn wait_for_change(&self, run_id: &str, seen: RunState, timeout: Duration) -> Result<Run> {
        self.check_process()?;
        validate::run_id(run_id)?;
        let deadline = Instant::now() + timeout;
        loop {
            let run = self.store.get(run_id)?;
            let left = deadline.saturating_duration_since(Instant::now());
            if run.state != seen || left.is_zero() {
                return Ok(run);
            }
            std::thread::sleep(CHANGE_POLL.min(left));
        }
    }
}

/// The current time at the precision the ledger stores (milliseconds), so a
/// run handed back from a write equals the same run read again.
fn now() -> Timestamp {
    to_millis(Timestamp::now())
}

/// Truncates a time to whole milliseconds.
pub(crate) fn to_millis(at: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(at.as_millisecond()).unwrap_or(at)
}

/// The labels of `run`'s container; see [`Runs::container_labels`].
pub fn container_labels(run: &Run) -> BTreeMap<String, String> {
    [
        (runtime::RUN_ID_LABEL, &run.id),
        (runtime::REPO_LABEL, &run.repo),
        (runtime::REF_LABEL, &run.ref_name),
        (runtime::SHA_LABEL, &run.sha),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.clone()))
    .collect()
}
