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
/// Two rules are kept by the statements rather than by triggers: a terminal
/// run never changes state (every transition is a compare-and-set from a
/// live state) and a timestamp is written at most once (`coalesce` keeps
/// the first value). A trigger on `runs` makes every update keep a statement
/// journal and run a sub-program, which cost a create 7%.
///
/// Times are INTEGER milliseconds since the Unix epoch, UTC.
///
/// Checks list their allowed values with `OR` rather than `IN (...)`: SQLite
/// evaluates an `IN` list of more than two values through a temporary index
/// built on every write, which cost a third of a create.
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
        state = 'pending' OR state = 'active' OR state = 'complete' OR state = 'failed'
        OR state = 'superseded' OR state = 'canceled'),
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
        kill_state IS NULL OR kill_state = 'requested' OR kill_state = 'done'
        OR kill_state = 'failed' OR kill_state = 'refused'),
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

-- Reconcile scans expired leases and kills to retry. Each index holds only
-- the few rows concerned. (Claim finds pending runs through
-- runs_one_pending_per_group: a queue index of its own would cost every
-- create two more page writes.)
CREATE INDEX runs_active_leases ON runs (lease_expires_at) WHERE state = 'active';
CREATE INDEX runs_kills_to_retry ON runs (kill_at) WHERE kill_state IN ('requested', 'failed');

-- Listing and pruning by group, newest first.
CREATE INDEX runs_by_group ON runs (group_key, id);

-- Every transition, appended. from_state is NULL for a run recorded directly
-- as superseded because its push arrived out of order. A run enters each
-- state at most once (the table has no cycles), so (run_id, to_state) is a
-- key, and a table clustered on it needs no second index to list a run's
-- history.
CREATE TABLE run_history (
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    at            INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    superseded_by TEXT,

    CONSTRAINT history_reason_is_known CHECK (
        reason = 'claimed' OR reason = 'superseded' OR reason = 'out_of_order'
        OR reason = 'orphaned' OR reason = 'canceled' OR reason = 'requested'),
    CONSTRAINT history_moves_between_known_states CHECK (
        (from_state IS NULL OR from_state = 'pending' OR from_state = 'active')
        AND (to_state = 'pending' OR to_state = 'active' OR to_state = 'complete'
             OR to_state = 'failed' OR to_state = 'superseded' OR to_state = 'canceled')),
    CONSTRAINT history_names_superseder_only_for_supersede CHECK (
        superseded_by IS NULL OR to_state = 'superseded'),
    PRIMARY KEY (run_id, to_state)
) STRICT, WITHOUT ROWID;
";
