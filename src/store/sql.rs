//! Every SQL statement the SQLite store runs, by name. Parameters are always
//! bound, never formatted into the text.

/// The columns of a run, in the order `row_to_run` reads them.
macro_rules! run_columns {
    () => {
        "id, repo, ref_name, sha, group_key, state, protected, pushed_at, queued_at, \
         started_at, finished_at, superseded_by, lease_expires_at, container_id, \
         kill_state, kill_attempts, kill_error, kill_at"
    };
}

/// Takes the write lock before reading anything, so a write transaction
/// never has to upgrade a read lock (which fails at once with SQLITE_BUSY).
pub(crate) const BEGIN_IMMEDIATE: &str = "BEGIN IMMEDIATE";

/// Ends a write transaction.
pub(crate) const COMMIT: &str = "COMMIT";

/// Copies the log's pages into the database as far as no reader needs them,
/// waiting for nobody. Returns one row: busy, log size, pages copied.
pub(crate) const CHECKPOINT_PASSIVE: &str = "PRAGMA wal_checkpoint(PASSIVE)";

/// One run by id.
pub(crate) const GET_RUN: &str = concat!("SELECT ", run_columns!(), " FROM runs WHERE id = ?1");

/// The state of one run, to tell a conflict from a missing run.
pub(crate) const GET_STATE: &str = "SELECT state, superseded_by FROM runs WHERE id = ?1";

/// The live runs of a group. Two arms so each uses its partial unique index.
pub(crate) const LIVE_RUNS_OF_GROUP: &str = "\
    SELECT id, sha, state, pushed_at, protected, container_id FROM runs \
     WHERE group_key = ?1 AND state = 'pending' \
    UNION ALL \
    SELECT id, sha, state, pushed_at, protected, container_id FROM runs \
     WHERE group_key = ?1 AND state = 'active'";

/// Records a new run, pending or (for an out-of-order push) superseded.
pub(crate) const INSERT_RUN: &str = "\
    INSERT INTO runs (id, repo, ref_name, sha, group_key, state, protected, pushed_at, \
                      queued_at, finished_at, superseded_by) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// Replaces a live run by a newer one. A run with a container gets a kill
/// request in the same write, so a crash after commit leaves reconcile the
/// record it needs to finish the kill.
pub(crate) const SUPERSEDE_RUN: &str = "\
    UPDATE runs SET state = 'superseded', superseded_by = ?2, finished_at = ?3, \
                    lease_expires_at = NULL, \
                    kill_state = CASE WHEN container_id IS NULL THEN NULL ELSE 'requested' END, \
                    kill_at = CASE WHEN container_id IS NULL THEN NULL ELSE ?3 END \
     WHERE id = ?1 AND state = ?4";

/// Appends one transition to the history.
pub(crate) const INSERT_HISTORY: &str = "\
    INSERT INTO run_history (run_id, from_state, to_state, at, reason, superseded_by) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Compare-and-set: moves a run from the state the caller expects. Entering
/// active starts the lease; leaving active ends it; entering a terminal state
/// sets the finish time. A timestamp already set is never overwritten.
/// Superseding or canceling a run with a container
/// requests its kill in the same write. Returns the run as it now is.
pub(crate) const TRANSITION_RUN: &str = concat!(
    "UPDATE runs SET state = ?3, \
                     started_at = CASE WHEN ?3 = 'active' THEN coalesce(started_at, ?4) \
                                       ELSE started_at END, \
                     lease_expires_at = CASE WHEN ?3 = 'active' THEN ?5 ELSE NULL END, \
                     finished_at = CASE WHEN ?3 IN ('pending', 'active') THEN finished_at \
                                        ELSE coalesce(finished_at, ?4) END, \
                     kill_state = CASE WHEN ?3 IN ('superseded', 'canceled') \
                                        AND container_id IS NOT NULL \
                                       THEN 'requested' ELSE kill_state END, \
                     kill_at = CASE WHEN ?3 IN ('superseded', 'canceled') \
                                     AND container_id IS NOT NULL \
                                    THEN ?4 ELSE kill_at END \
      WHERE id = ?1 AND state = ?2 \
     RETURNING ",
    run_columns!()
);

/// Claims the oldest pending run whose group has no active run (a protected
/// ref's next run waits for the current one). The whole pick-and-move is one
/// statement inside the write lock, so no two claimers get the same run.
pub(crate) const CLAIM_OLDEST: &str = concat!(
    "UPDATE runs SET state = 'active', started_at = ?1, lease_expires_at = ?2 \
      WHERE id = (SELECT p.id FROM runs AS p \
                   WHERE p.state = 'pending' \
                     AND (?3 IS NULL OR p.repo = ?3) \
                     AND (?4 IS NULL OR p.group_key = ?4) \
                     AND NOT EXISTS (SELECT 1 FROM runs AS a \
                                      WHERE a.group_key = p.group_key AND a.state = 'active') \
                   ORDER BY p.queued_at, p.id LIMIT 1) \
     RETURNING ",
    run_columns!()
);

/// Extends the lease of an active run.
pub(crate) const HEARTBEAT: &str = concat!(
    "UPDATE runs SET lease_expires_at = ?2 WHERE id = ?1 AND state = 'active' RETURNING ",
    run_columns!()
);

/// Attaches a container to an active run, compare-and-set on active.
pub(crate) const ATTACH_CONTAINER: &str = concat!(
    "UPDATE runs SET container_id = ?2 WHERE id = ?1 AND state = 'active' RETURNING ",
    run_columns!()
);

/// Records a container that a runner started for a run that had already
/// ended, with a kill request, so a failed kill is retried by reconcile.
pub(crate) const RECORD_LATE_CONTAINER: &str = "\
    UPDATE runs SET container_id = ?2, kill_state = 'requested', kill_at = ?3 \
     WHERE id = ?1 AND state NOT IN ('pending', 'active') AND container_id IS NULL";

/// Active runs whose lease ran out before the given time.
pub(crate) const EXPIRED_LEASES: &str = "\
    SELECT id FROM runs WHERE state = 'active' AND lease_expires_at < ?1 \
     ORDER BY lease_expires_at";

/// Marks a kill as requested on a run that has a container, unless it is
/// already done or refused.
pub(crate) const REQUEST_KILL: &str = "\
    UPDATE runs SET kill_state = 'requested', kill_at = ?2 \
     WHERE id = ?1 AND container_id IS NOT NULL \
       AND (kill_state IS NULL OR kill_state IN ('requested', 'failed'))";

/// Stores the outcome of one kill attempt on the run's own container.
pub(crate) const RECORD_KILL: &str = "\
    UPDATE runs SET kill_state = ?2, kill_error = ?3, kill_at = ?4, \
                    kill_attempts = kill_attempts + 1 \
     WHERE id = ?1 AND container_id = ?5";

/// Runs whose container kill was requested or failed and should be tried.
pub(crate) const KILLS_TO_RETRY: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs WHERE kill_state IN ('requested', 'failed') ORDER BY kill_at LIMIT ?1"
);

/// One page of runs, newest first, after an optional cursor.
pub(crate) const LIST_RUNS: &str = concat!(
    "SELECT ",
    run_columns!(),
    " FROM runs \
      WHERE (?1 IS NULL OR repo = ?1) \
        AND (?2 IS NULL OR ref_name = ?2) \
        AND (?3 IS NULL OR group_key = ?3) \
        AND (?4 IS NULL OR state = ?4) \
        AND (?5 IS NULL OR id < ?5) \
      ORDER BY id DESC LIMIT ?6"
);

/// A run's transitions, oldest first. Moves in the same millisecond are
/// ordered by how far along the table they lead.
pub(crate) const HISTORY_OF_RUN: &str = "\
    SELECT run_id, from_state, to_state, at, reason, superseded_by FROM run_history \
     WHERE run_id = ?1 \
     ORDER BY at, CASE to_state WHEN 'pending' THEN 0 WHEN 'active' THEN 1 ELSE 2 END";

/// Terminal runs finished before a time and beyond the newest N runs of
/// their group (live ones count among the N); their history goes with them
/// (ON DELETE CASCADE). A run whose container kill is still owed stays, so
/// reconcile can finish it.
pub(crate) const PRUNE_RUNS: &str = concat!(
    "DELETE FROM runs WHERE id IN ( \
        SELECT id FROM ( \
            SELECT id, state, finished_at, kill_state, \
                   ROW_NUMBER() OVER (PARTITION BY group_key ORDER BY id DESC) AS newest \
              FROM runs) \
         WHERE newest > ?1 \
           AND state NOT IN ('pending', 'active') \
           AND finished_at < ?2 \
           AND (kill_state IS NULL OR kill_state IN ('done', 'refused'))) \
     RETURNING ",
    run_columns!()
);
