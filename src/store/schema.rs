//! The SQLite schema, as a list of migrations. The schema is a documented
//! contract (see the README): other tools may read these tables, so columns
//! are plain values and every invariant the ledger relies on is stated here,
//! as a named constraint, a partial unique index or a trigger, rather than
//! only in Rust code.

/// Marks a SQLite file as a runledger database ("RLDG").
pub(crate) const APPLICATION_ID: i64 = 0x524C_4447;

/// Migration `i` takes a database from `user_version` `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1_INITIAL];

/// The schema version this build writes and the newest it can read.
pub(crate) const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1: runs, their history, and the indexes that keep create, claim
/// and reconcile independent of how many finished runs the file holds.
///
/// Times are INTEGER milliseconds since the Unix epoch, UTC.
const V1_INITIAL: &str = r"
CREATE TABLE runs (
    id               TEXT PRIMARY KEY NOT NULL,
    repo             TEXT NOT NULL,
    ref_name         TEXT NOT NULL,
    sha              TEXT NOT NULL,
    group_key        TEXT NOT NULL,
    state            TEXT NOT NULL,
    protected        INTEGER NOT NULL DEFAULT 0,
    pushed_at        INTEGER NOT NULL,
    queued_at        INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    superseded_by    TEXT,
    lease_expires_at INTEGER,
    container_id     TEXT,
    kill_state       TEXT,
    kill_attempts    INTEGER NOT NULL DEFAULT 0,
    kill_error       TEXT,
    kill_at          INTEGER,

    CONSTRAINT state_is_known CHECK (
        state IN ('pending', 'active', 'complete', 'failed', 'superseded', 'canceled')),
    CONSTRAINT sha_is_lower_hex CHECK (
        length(sha) BETWEEN 7 AND 64 AND sha NOT GLOB '*[^0-9a-f]*'),
    CONSTRAINT ref_name_is_full CHECK (ref_name GLOB 'refs/?*'),
    CONSTRAINT protected_is_boolean CHECK (protected IN (0, 1)),
    CONSTRAINT pending_has_neither_started_nor_finished CHECK (
        state <> 'pending' OR (started_at IS NULL AND finished_at IS NULL)),
    CONSTRAINT active_has_started_and_not_finished CHECK (
        state <> 'active' OR (started_at IS NOT NULL AND finished_at IS NULL)),
    CONSTRAINT terminal_has_finished CHECK (
        state IN ('pending', 'active') OR finished_at IS NOT NULL),
    CONSTRAINT only_active_runs_hold_a_lease CHECK (
        (state = 'active') = (lease_expires_at IS NOT NULL)),
    CONSTRAINT superseded_by_only_on_superseded CHECK (
        superseded_by IS NULL OR state = 'superseded'),
    CONSTRAINT never_superseded_by_itself CHECK (superseded_by IS NULL OR superseded_by <> id),
    CONSTRAINT kill_state_is_known CHECK (
        kill_state IS NULL OR kill_state IN ('requested', 'done', 'failed', 'refused')),
    CONSTRAINT kill_needs_a_container CHECK (kill_state IS NULL OR container_id IS NOT NULL),
    CONSTRAINT kill_time_goes_with_kill_state CHECK ((kill_state IS NULL) = (kill_at IS NULL)),
    CONSTRAINT kill_attempts_not_negative CHECK (kill_attempts >= 0)
) STRICT;

-- At most one pending and one active run per group, and at most one live run
-- in a group whose runs are not protected (cancel-in-progress). These make a
-- second live run impossible whatever the code does.
CREATE UNIQUE INDEX runs_one_pending_per_group ON runs (group_key) WHERE state = 'pending';
CREATE UNIQUE INDEX runs_one_active_per_group ON runs (group_key) WHERE state = 'active';
CREATE UNIQUE INDEX runs_one_live_per_unprotected_group ON runs (group_key)
    WHERE state IN ('pending', 'active') AND protected = 0;

-- Claim takes the oldest pending run; reconcile scans expired leases and
-- kills to retry. Each index holds only the few live rows.
CREATE INDEX runs_pending_queue ON runs (queued_at, id) WHERE state = 'pending';
CREATE INDEX runs_active_leases ON runs (lease_expires_at) WHERE state = 'active';
CREATE INDEX runs_kills_to_retry ON runs (kill_at) WHERE kill_state IN ('requested', 'failed');

-- Listing by repository and pruning by group, newest first.
CREATE INDEX runs_by_repo ON runs (repo, id);
CREATE INDEX runs_by_group ON runs (group_key, id);

-- A terminal run never changes state again, and each timestamp is written
-- at most once.
CREATE TRIGGER runs_terminal_state_is_final
BEFORE UPDATE OF state ON runs
WHEN OLD.state NOT IN ('pending', 'active') AND NEW.state IS NOT OLD.state
BEGIN
    SELECT RAISE(ABORT, 'a terminal run never changes state');
END;

CREATE TRIGGER runs_timestamps_are_written_once
BEFORE UPDATE OF queued_at, pushed_at, started_at, finished_at ON runs
WHEN NEW.queued_at IS NOT OLD.queued_at
  OR NEW.pushed_at IS NOT OLD.pushed_at
  OR (OLD.started_at IS NOT NULL AND NEW.started_at IS NOT OLD.started_at)
  OR (OLD.finished_at IS NOT NULL AND NEW.finished_at IS NOT OLD.finished_at)
BEGIN
    SELECT RAISE(ABORT, 'a run timestamp is written at most once');
END;

-- Every transition, appended. from_state is NULL for a run recorded directly
-- as superseded because its push arrived out of order.
CREATE TABLE run_history (
    seq           INTEGER PRIMARY KEY,
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    at            INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    superseded_by TEXT,

    CONSTRAINT history_reason_is_known CHECK (
        reason IN ('claimed', 'superseded', 'out_of_order', 'orphaned', 'canceled',
                   'requested')),
    CONSTRAINT history_moves_between_known_states CHECK (
        (from_state IS NULL OR from_state IN ('pending', 'active'))
        AND to_state IN ('pending', 'active', 'complete', 'failed', 'superseded', 'canceled')),
    CONSTRAINT history_names_superseder_only_for_supersede CHECK (
        superseded_by IS NULL OR to_state = 'superseded')
) STRICT;

CREATE INDEX run_history_by_run ON run_history (run_id, seq);
";
