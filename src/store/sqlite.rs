//! The SQLite store: one file in WAL mode, shared by any number of threads
//! and processes.
//!
//! Writes from threads of one process queue on one connection behind a
//! mutex, which is fairer and cheaper than letting several connections of
//! the same process poll SQLite's lock. Every write is a `BEGIN IMMEDIATE`
//! transaction, so it takes the write lock before it reads and never has to
//! upgrade a read lock (the upgrade is what surfaces SQLITE_BUSY without
//! waiting). Reads use a small pool of connections and run in parallel.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rusqlite::config::DbConfig;
use rusqlite::types::{FromSql, FromSqlError, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior, params,
};

use super::checkpoint::Checkpointer;
use super::schema::{APPLICATION_ID, LATEST_VERSION, MIGRATIONS};
use super::{Store, sql};
use crate::error::{Error, Result};
use crate::policy::{self, Decision, LiveRun};
use crate::run::{
    ClaimFilter, Created, HistoryEntry, KillOutcome, KillRecord, KillState, ListFilter, Page,
    Reason, Run, SupersededRun, ValidPush,
};
use crate::state::RunState;

/// How durable a commit is, as SQLite's `PRAGMA synchronous`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// No fsync: a power loss may lose recent commits or corrupt the file.
    Off,
    /// Fsync at checkpoints: a power loss may lose the last commits, never
    /// corrupts the file. The usual choice with WAL.
    #[default]
    Normal,
    /// Fsync at every commit.
    Full,
    /// Like full, and also syncs the directory after a WAL reset.
    Extra,
}

impl Synchronous {
    /// The pragma's value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

impl std::str::FromStr for Synchronous {
    type Err = Error;

    fn from_str(name: &str) -> Result<Synchronous> {
        match name.to_ascii_lowercase().as_str() {
            "off" => Ok(Synchronous::Off),
            "normal" => Ok(Synchronous::Normal),
            "full" => Ok(Synchronous::Full),
            "extra" => Ok(Synchronous::Extra),
            _ => Err(Error::invalid(
                "synchronous",
                format!("unknown mode {name:?}; expected off, normal, full or extra"),
            )),
        }
    }
}

/// Settings of the SQLite store.
#[derive(Debug, Clone)]
pub(crate) struct SqliteOptions {
    pub busy_timeout: Duration,
    pub synchronous: Synchronous,
    pub background_checkpoints: bool,
}

/// Idle read connections kept for reuse; more are opened when needed.
const READ_POOL_SIZE: usize = 4;

pub(crate) struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while a connection was held rolled back its transaction when
    // the transaction was dropped, so the connection is still sound.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

fn lease_end(now: Timestamp, lease: Duration) -> i64 {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    millis(now).saturating_add(lease_ms)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    pub(crate) fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        BUSY_TIMEOUT.set(options.busy_timeout);
        let store_path = path.to_path_buf();
        let mut writer = open_connection(path, &options)?;
        prepare_file(path, &options, &mut writer)?;
        // At FULL and EXTRA every commit waits for an fsync anyway, and a
        // checkpoint's fsyncs on another thread only queue with them: one
        // process's creates ran at 0.7 of their inline throughput so.
        let commits_sync = matches!(options.synchronous, Synchronous::Full | Synchronous::Extra);
        if options.background_checkpoints && !commits_sync {
            // The writer's commits decide when a checkpoint is due; the hook
            // owns the checkpoint thread, which stops when the writer closes.
            let checkpointer = Checkpointer::new({
                let (path, options) = (store_path.clone(), options.clone());
                move || open_connection(&path, &options).ok()
            });
            writer
                .wal_hook(Some(checkpointer.into_hook()))
                .map_err(|err| sqlite_error(path, "open", &options, err))?;
        }
        Ok(SqliteStore {
            path: store_path,
            options,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    fn fail(&self, operation: &'static str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
        move |err| sqlite_error(&self.path, operation, &self.options, err)
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction and commits it; any
    /// error (or panic) in `work` rolls everything back.
    ///
    /// BEGIN and COMMIT go through the statement cache: rusqlite's
    /// transaction guard prepares them anew each time, which cost a create
    /// about 5,000 instructions.
    fn write<T>(
        &self,
        operation: &'static str,
        work: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let conn = lock(&self.writer);
        BUSY_TIMEOUT.set(self.options.busy_timeout);
        let started = Instant::now();
        loop {
            match conn
                .prepare_cached(sql::BEGIN_IMMEDIATE)
                .and_then(|mut begin| begin.execute([]))
            {
                Ok(_) => break,
                // SQLite answers busy without calling the busy handler in a
                // few cases (a WAL recovery under way in another process);
                // those pass quickly, so wait for them within the timeout.
                Err(err) if is_busy(&err) && started.elapsed() < self.options.busy_timeout => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(err) => return Err(self.fail(operation)(err)),
            }
        }
        let guard = RollbackOnDrop(&conn);
        let value = work(&conn)?;
        conn.prepare_cached(sql::COMMIT)
            .and_then(|mut commit| commit.execute([]))
            .map_err(self.fail(operation))?;
        drop(guard);
        Ok(value)
    }

    /// Runs `work` on a pooled read connection.
    fn read<T>(
        &self,
        operation: &'static str,
        work: impl Fn(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        BUSY_TIMEOUT.set(self.options.busy_timeout);
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.path, &self.options)?,
        };
        // As for BEGIN in `write`: a read can be answered busy without the
        // busy handler while another process recovers the WAL index.
        let started = Instant::now();
        let result = loop {
            match work(&conn) {
                Err(err) if is_busy(&err) && started.elapsed() < self.options.busy_timeout => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                other => break other.map_err(self.fail(operation)),
            }
        };
        let mut readers = lock(&self.readers);
        if readers.len() < READ_POOL_SIZE {
            readers.push(conn);
        }
        result
    }
}

thread_local! {
    /// The busy timeout of the operation running on this thread.
    static BUSY_TIMEOUT: Cell<Duration> = const { Cell::new(Duration::from_secs(5)) };
    /// When the current wait for a lock began.
    static BUSY_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// SQLite's busy handler: called while another connection holds the lock,
/// with the number of times it was already called for this lock.
///
/// A write here holds the lock for tens of microseconds. SQLite's own
/// timeout handler sleeps 1, 2, 5, 10... up to 100 ms between tries, so a
/// waiter that has tried a few times sleeps long after the lock is free.
/// Sleeping much less is worse on a small machine: every waiter that wakes
/// takes the CPU from the writer holding the lock, and every hand-over
/// makes the next writer reread the pages the last one changed. Measured
/// with 8 processes on 2 cores (benches/report, contention mode, 20,000
/// creates at NORMAL, three runs each): 20 µs sleeps kept 0.6 of one
/// process's throughput, 1-2 ms sleeps 0.75 (p99 15 ms), 3-6 ms sleeps
/// 0.89 (p99 5 ms, the longest wait 0.3 s). Sleeping 1 ms on the first
/// try and 3-6 ms after did no better than 3-6 ms throughout. So every try
/// sleeps 3 to 6 ms, the jitter keeping waiters from waking in step.
fn wait_for_lock(attempt: i32) -> bool {
    let now = Instant::now();
    let since = match BUSY_SINCE.get() {
        Some(since) if attempt > 0 => since,
        _ => {
            BUSY_SINCE.set(Some(now));
            now
        }
    };
    if now.duration_since(since) >= BUSY_TIMEOUT.get() {
        return false;
    }
    const BASE_MICROS: u64 = 3000;
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| u64::from(t.subsec_micros()) % BASE_MICROS);
    std::thread::sleep(Duration::from_micros(BASE_MICROS + jitter));
    true
}

/// Rolls back the open transaction when dropped before it committed, so an
/// error or a panic in the middle of a write leaves nothing behind.
struct RollbackOnDrop<'a>(&'a Connection);

impl Drop for RollbackOnDrop<'_> {
    fn drop(&mut self) {
        if !self.0.is_autocommit() {
            // Nothing more can be done if even the rollback fails; the next
            // BEGIN on this connection would then report the problem.
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }
}

fn open_connection(path: &Path, options: &SqliteOptions) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let fail = |err| sqlite_error(path, "open", options, err);
    let mut conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    conn.busy_handler(Some(wait_for_lock)).map_err(fail)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(fail)?;
    conn.pragma_update(None, "synchronous", options.synchronous.as_str())
        .map_err(fail)?;
    // Closing the last connection to a WAL file checkpoints it, which costs
    // four fsyncs: most of a short-lived process such as one CLI call.
    // Commits already checkpoint every 1000 WAL pages, so the WAL stays
    // bounded without it; the -wal file simply stays beside the database.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(fail)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Checks that the file is ours (or empty), switches it to WAL and applies
/// missing migrations, refusing a file from a newer version.
fn prepare_file(path: &Path, options: &SqliteOptions, conn: &mut Connection) -> Result<()> {
    let fail = |err| sqlite_error(path, "open", options, err);
    let pragma_i64 = |conn: &Connection, name: &str| -> Result<i64> {
        conn.pragma_query_value(None, name, |row| row.get(0))
            .map_err(fail)
    };

    let version = pragma_i64(conn, "user_version")?;
    let application_id = pragma_i64(conn, "application_id")?;
    let table_count: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(fail)?;
    if application_id != APPLICATION_ID && (application_id != 0 || table_count > 0) {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
            reason: format!(
                "it is a SQLite database of another application (application_id {application_id}, \
                 {table_count} schema objects)"
            ),
        });
    }
    if version > LATEST_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found: version,
            supported: LATEST_VERSION,
        });
    }

    // Switching to WAL needs a moment of exclusive access, which SQLite does
    // not wait for through the busy handler; retry within the busy timeout.
    let started = Instant::now();
    loop {
        let mode: rusqlite::Result<String> =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0));
        match mode {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => break,
            Ok(mode) => {
                return Err(Error::ReadOnly {
                    path: path.to_path_buf(),
                    reason: format!("cannot switch the journal to WAL (it stays {mode})"),
                });
            }
            Err(err) if is_busy(&err) && started.elapsed() < options.busy_timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(err) => return Err(fail(err)),
        }
    }

    if version == LATEST_VERSION {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    // Another process may have migrated while this one waited for the lock.
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(fail)?;
    if version > LATEST_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found: version,
            supported: LATEST_VERSION,
        });
    }
    let first_missing = usize::try_from(version).unwrap_or(0);
    for migration in &MIGRATIONS[first_missing..] {
        tx.execute_batch(migration).map_err(fail)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(fail)?;
    tx.pragma_update(None, "user_version", LATEST_VERSION)
        .map_err(fail)?;
    tx.commit().map_err(fail)?;
    tracing::info!(
        path = %path.display(),
        from_version = version,
        to_version = LATEST_VERSION,
        "migrated schema"
    );
    Ok(())
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Maps SQLite's error codes into the library's variants, once.
fn sqlite_error(
    path: &Path,
    operation: &'static str,
    options: &SqliteOptions,
    err: rusqlite::Error,
) -> Error {
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy {
            operation,
            waited_ms: u64::try_from(options.busy_timeout.as_millis()).unwrap_or(u64::MAX),
        },
        Some(ErrorCode::ReadOnly) => Error::ReadOnly {
            path: path.to_path_buf(),
            reason: err.to_string(),
        },
        Some(ErrorCode::NotADatabase) => Error::NotADatabase {
            path: path.to_path_buf(),
            reason: err.to_string(),
        },
        _ => Error::Storage {
            operation,
            source: err,
        },
    }
}

impl ToSql for RunState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(
            self.as_str().as_bytes(),
        )))
    }
}

impl FromSql for RunState {
    fn column_result(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        let name = value.as_str()?;
        name.parse()
            .map_err(|err: Error| FromSqlError::Other(Box::new(err)))
    }
}

fn timestamp(ms: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, Box::new(err))
    })
}

fn optional_timestamp(ms: Option<i64>) -> rusqlite::Result<Option<Timestamp>> {
    ms.map(timestamp).transpose()
}

/// Reads a row selected with the run columns of `sql.rs`.
fn row_to_run(row: &Row<'_>) -> rusqlite::Result<Run> {
    let kill_state: Option<String> = row.get(14)?;
    let kill = match kill_state {
        Some(name) => Some(KillRecord {
            state: KillState::from_db(&name).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    14,
                    rusqlite::types::Type::Text,
                    format!("unknown kill state {name:?}").into(),
                )
            })?,
            attempts: row.get(15)?,
            error: row.get(16)?,
            at: timestamp(row.get(17)?)?,
        }),
        None => None,
    };
    Ok(Run {
        id: row.get(0)?,
        repo: row.get(1)?,
        ref_name: row.get(2)?,
        sha: row.get(3)?,
        group_key: row.get(4)?,
        state: row.get(5)?,
        protected: row.get(6)?,
        pushed_at: timestamp(row.get(7)?)?,
        queued_at: timestamp(row.get(8)?)?,
        started_at: optional_timestamp(row.get(9)?)?,
        finished_at: optional_timestamp(row.get(10)?)?,
        superseded_by: row.get(11)?,
        lease_expires_at: optional_timestamp(row.get(12)?)?,
        container_id: row.get(13)?,
        kill,
    })
}

fn row_to_live_run(row: &Row<'_>) -> rusqlite::Result<LiveRun> {
    Ok(LiveRun {
        id: row.get(0)?,
        sha: row.get(1)?,
        state: row.get(2)?,
        pushed_at: timestamp(row.get(3)?)?,
        protected: row.get(4)?,
        container_id: row.get(5)?,
    })
}

fn row_to_history(row: &Row<'_>) -> rusqlite::Result<HistoryEntry> {
    let reason: String = row.get(4)?;
    Ok(HistoryEntry {
        run_id: row.get(0)?,
        from: row.get(1)?,
        to: row.get(2)?,
        at: timestamp(row.get(3)?)?,
        reason: reason.parse().map_err(|err: Error| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(err))
        })?,
        superseded_by: row.get(5)?,
    })
}

fn insert_history(
    tx: &Connection,
    run_id: &str,
    from: Option<RunState>,
    to: RunState,
    now: Timestamp,
    reason: Reason,
    superseded_by: Option<&str>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(sql::INSERT_HISTORY)?.execute(params![
        run_id,
        from,
        to,
        millis(now),
        reason.as_str(),
        superseded_by
    ])?;
    Ok(())
}

/// After a compare-and-set matched no row: tells a missing run from one that
/// moved on.
fn explain_miss(tx: &Connection, run_id: &str, expected: &str) -> Result<Error, rusqlite::Error> {
    let actual: Option<RunState> = tx
        .prepare_cached(sql::GET_STATE)?
        .query_row([run_id], |row| row.get(0))
        .optional()?;
    Ok(match actual {
        Some(actual) => Error::Conflict {
            run_id: run_id.to_owned(),
            expected: expected.to_owned(),
            actual,
        },
        None => Error::NotFound {
            run_id: run_id.to_owned(),
        },
    })
}

/// Turns the unique-index violation of a second active run into an error
/// that says what happened.
fn group_has_active_run(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, Some(msg))
        if e.code == ErrorCode::ConstraintViolation && msg.contains("runs.group_key"))
}

impl Store for SqliteStore {
    fn create(
        &self,
        push: &ValidPush,
        protected: bool,
        now: Timestamp,
        on_insert: &mut dyn FnMut(&Run) -> Result<()>,
    ) -> Result<Created> {
        let pushed_at = push.pushed_at.unwrap_or(now);
        let new_id = uuid::Uuid::now_v7().hyphenated().to_string();
        self.write("create", |tx| {
            let live: Vec<LiveRun> = tx
                .prepare_cached(sql::LIVE_RUNS_OF_GROUP)
                .and_then(|mut stmt| {
                    stmt.query_map([&push.group_key], row_to_live_run)?
                        .collect()
                })
                .map_err(self.fail("create"))?;

            let mut new_run = Run {
                id: new_id.clone(),
                repo: push.repo.clone(),
                ref_name: push.ref_name.clone(),
                sha: push.sha.clone(),
                group_key: push.group_key.clone(),
                state: RunState::Pending,
                protected,
                pushed_at,
                queued_at: now,
                started_at: None,
                finished_at: None,
                superseded_by: None,
                lease_expires_at: None,
                container_id: None,
                kill: None,
            };
            let insert = |run: &Run| -> rusqlite::Result<()> {
                tx.prepare_cached(sql::INSERT_RUN)?.execute(params![
                    run.id,
                    run.repo,
                    run.ref_name,
                    run.sha,
                    run.group_key,
                    run.state,
                    run.protected,
                    millis(run.pushed_at),
                    millis(run.queued_at),
                    run.finished_at.map(millis),
                    run.superseded_by,
                ])?;
                Ok(())
            };

            match policy::decide(&live, &push.sha, pushed_at) {
                Decision::Duplicate(existing) => {
                    let run = tx
                        .prepare_cached(sql::GET_RUN)
                        .and_then(|mut stmt| stmt.query_row([&existing.id], row_to_run))
                        .map_err(self.fail("create"))?;
                    Ok(Created {
                        run,
                        duplicate: true,
                        superseded: Vec::new(),
                    })
                }
                Decision::OutOfOrder { newer } => {
                    new_run.state = RunState::Superseded;
                    new_run.finished_at = Some(now);
                    new_run.superseded_by = Some(newer.id.clone());
                    insert(&new_run)
                        .and_then(|()| {
                            insert_history(
                                tx,
                                &new_run.id,
                                None,
                                RunState::Superseded,
                                now,
                                Reason::OutOfOrder,
                                Some(&newer.id),
                            )
                        })
                        .map_err(self.fail("create"))?;
                    Ok(Created {
                        run: new_run,
                        duplicate: false,
                        superseded: Vec::new(),
                    })
                }
                Decision::Supersede { replaced } => {
                    let mut superseded = Vec::with_capacity(replaced.len());
                    for old in replaced {
                        tx.prepare_cached(sql::SUPERSEDE_RUN)
                            .and_then(|mut stmt| {
                                stmt.execute(params![old.id, new_id, millis(now), old.state])
                            })
                            .and_then(|_| {
                                insert_history(
                                    tx,
                                    &old.id,
                                    Some(old.state),
                                    RunState::Superseded,
                                    now,
                                    Reason::Superseded,
                                    Some(&new_id),
                                )
                            })
                            .map_err(self.fail("create"))?;
                        superseded.push(SupersededRun {
                            run_id: old.id.clone(),
                            previous_state: old.state,
                            container_id: old.container_id.clone(),
                            kill: None,
                        });
                    }
                    insert(&new_run).map_err(self.fail("create"))?;
                    on_insert(&new_run)?;
                    Ok(Created {
                        run: new_run,
                        duplicate: false,
                        superseded,
                    })
                }
            }
        })
    }

    fn get(&self, run_id: &str) -> Result<Run> {
        self.read("get", |conn| {
            conn.prepare_cached(sql::GET_RUN)?
                .query_row([run_id], row_to_run)
                .optional()
        })?
        .ok_or_else(|| Error::NotFound {
            run_id: run_id.to_owned(),
        })
    }

    fn transition(
        &self,
        run_id: &str,
        expected: RunState,
        to: RunState,
        reason: Reason,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Run> {
        self.write("transition", |tx| {
            let moved = tx.prepare_cached(sql::TRANSITION_RUN).and_then(|mut stmt| {
                stmt.query_row(
                    params![run_id, expected, to, millis(now), lease_end(now, lease)],
                    row_to_run,
                )
                .optional()
            });
            let moved = match moved {
                Ok(moved) => moved,
                Err(err) if group_has_active_run(&err) => {
                    return Err(Error::GroupHasActiveRun {
                        run_id: run_id.to_owned(),
                    });
                }
                Err(err) => return Err(self.fail("transition")(err)),
            };
            let Some(run) = moved else {
                return Err(
                    explain_miss(tx, run_id, expected.as_str()).map_err(self.fail("transition"))?
                );
            };
            insert_history(tx, run_id, Some(expected), to, now, reason, None)
                .map_err(self.fail("transition"))?;
            Ok(run)
        })
    }

    fn claim(&self, filter: &ClaimFilter, now: Timestamp, lease: Duration) -> Result<Option<Run>> {
        self.write("claim", |tx| {
            let claimed = tx
                .prepare_cached(sql::CLAIM_OLDEST)
                .and_then(|mut stmt| {
                    stmt.query_row(
                        params![
                            millis(now),
                            lease_end(now, lease),
                            filter.repo,
                            filter.group
                        ],
                        row_to_run,
                    )
                    .optional()
                })
                .map_err(self.fail("claim"))?;
            if let Some(run) = &claimed {
                insert_history(
                    tx,
                    &run.id,
                    Some(RunState::Pending),
                    RunState::Active,
                    now,
                    Reason::Claimed,
                    None,
                )
                .map_err(self.fail("claim"))?;
            }
            Ok(claimed)
        })
    }

    fn heartbeat(&self, run_id: &str, now: Timestamp, lease: Duration) -> Result<Run> {
        self.write("heartbeat", |tx| {
            let renewed = tx
                .prepare_cached(sql::HEARTBEAT)
                .and_then(|mut stmt| {
                    stmt.query_row(params![run_id, lease_end(now, lease)], row_to_run)
                        .optional()
                })
                .map_err(self.fail("heartbeat"))?;
            match renewed {
                Some(run) => Ok(run),
                None => Err(explain_miss(tx, run_id, "active").map_err(self.fail("heartbeat"))?),
            }
        })
    }

    fn cancel(&self, run_id: &str, now: Timestamp) -> Result<(Run, RunState)> {
        self.write("cancel", |tx| {
            let state: Option<RunState> = tx
                .prepare_cached(sql::GET_STATE)
                .and_then(|mut stmt| stmt.query_row([run_id], |row| row.get(0)).optional())
                .map_err(self.fail("cancel"))?;
            let from = match state {
                None => {
                    return Err(Error::NotFound {
                        run_id: run_id.to_owned(),
                    });
                }
                Some(state) if state.is_terminal() => {
                    return Err(Error::Conflict {
                        run_id: run_id.to_owned(),
                        expected: "pending or active".to_owned(),
                        actual: state,
                    });
                }
                Some(state) => state,
            };
            // The write lock is held since BEGIN IMMEDIATE, so the state read
            // above cannot change before this update.
            let run = tx
                .prepare_cached(sql::TRANSITION_RUN)
                .and_then(|mut stmt| {
                    stmt.query_row(
                        params![run_id, from, RunState::Canceled, millis(now), None::<i64>],
                        row_to_run,
                    )
                })
                .map_err(self.fail("cancel"))?;
            insert_history(
                tx,
                run_id,
                Some(from),
                RunState::Canceled,
                now,
                Reason::Canceled,
                None,
            )
            .map_err(self.fail("cancel"))?;
            Ok((run, from))
        })
    }

    fn attach_container(&self, run_id: &str, container_id: &str) -> Result<Run> {
        self.write("attach_container", |tx| {
            let attached = tx
                .prepare_cached(sql::ATTACH_CONTAINER)
                .and_then(|mut stmt| {
                    stmt.query_row(params![run_id, container_id], row_to_run)
                        .optional()
                })
                .map_err(self.fail("attach_container"))?;
            match attached {
                Some(run) => Ok(run),
                None => {
                    Err(explain_miss(tx, run_id, "active")
                        .map_err(self.fail("attach_container"))?)
                }
            }
        })
    }

    fn record_late_container(
        &self,
        run_id: &str,
        container_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write("attach_container", |tx| {
            tx.prepare_cached(sql::RECORD_LATE_CONTAINER)
                .and_then(|mut stmt| stmt.execute(params![run_id, container_id, millis(now)]))
                .map_err(self.fail("attach_container"))?;
            Ok(())
        })
    }

    fn orphan_expired(&self, now: Timestamp) -> Result<Vec<Run>> {
        self.write("reconcile", |tx| {
            let fail = self.fail("reconcile");
            let expired: Vec<String> = tx
                .prepare_cached(sql::EXPIRED_LEASES)
                .and_then(|mut stmt| stmt.query_map([millis(now)], |row| row.get(0))?.collect())
                .map_err(fail)?;
            let mut orphaned = Vec::with_capacity(expired.len());
            for run_id in expired {
                let fail = self.fail("reconcile");
                let run = tx
                    .prepare_cached(sql::TRANSITION_RUN)
                    .and_then(|mut stmt| {
                        stmt.query_row(
                            params![
                                run_id,
                                RunState::Active,
                                RunState::Failed,
                                millis(now),
                                None::<i64>
                            ],
                            row_to_run,
                        )
                    })
                    .and_then(|run| {
                        insert_history(
                            tx,
                            &run_id,
                            Some(RunState::Active),
                            RunState::Failed,
                            now,
                            Reason::Orphaned,
                            None,
                        )?;
                        tx.prepare_cached(sql::REQUEST_KILL)?
                            .execute(params![run_id, millis(now)])?;
                        Ok(run)
                    })
                    .map_err(fail)?;
                orphaned.push(run);
            }
            Ok(orphaned)
        })
    }

    fn record_kill(
        &self,
        run_id: &str,
        container_id: &str,
        outcome: &KillOutcome,
        now: Timestamp,
    ) -> Result<()> {
        self.write("record_kill", |tx| {
            tx.prepare_cached(sql::RECORD_KILL)
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        run_id,
                        outcome.state().as_str(),
                        outcome.error(),
                        millis(now),
                        container_id
                    ])
                })
                .map_err(self.fail("record_kill"))?;
            Ok(())
        })
    }

    fn kills_to_retry(&self, limit: u32) -> Result<Vec<Run>> {
        self.read("reconcile", |conn| {
            conn.prepare_cached(sql::KILLS_TO_RETRY)?
                .query_map([limit], row_to_run)?
                .collect()
        })
    }

    fn list(&self, filter: &ListFilter, limit: u32, cursor: Option<&str>) -> Result<Page> {
        let runs: Vec<Run> = self.read("list", |conn| {
            conn.prepare_cached(sql::LIST_RUNS)?
                .query_map(
                    params![
                        filter.repo,
                        filter.ref_name,
                        filter.group,
                        filter.state,
                        cursor,
                        limit
                    ],
                    row_to_run,
                )?
                .collect()
        })?;
        let full = u32::try_from(runs.len()).unwrap_or(u32::MAX) >= limit && limit > 0;
        let next_cursor = if full {
            runs.last().map(|run| run.id.clone())
        } else {
            None
        };
        Ok(Page { runs, next_cursor })
    }

    fn history(&self, run_id: &str) -> Result<Vec<HistoryEntry>> {
        let (exists, entries) = self.read("history", |conn| {
            let exists = conn
                .prepare_cached(sql::GET_STATE)?
                .query_row([run_id], |_| Ok(()))
                .optional()?
                .is_some();
            let entries = conn
                .prepare_cached(sql::HISTORY_OF_RUN)?
                .query_map([run_id], row_to_history)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((exists, entries))
        })?;
        if exists {
            Ok(entries)
        } else {
            Err(Error::NotFound {
                run_id: run_id.to_owned(),
            })
        }
    }

    fn prune(&self, keep_per_group: u32, finished_before: Timestamp) -> Result<Vec<Run>> {
        self.write("prune", |tx| {
            tx.prepare_cached(sql::PRUNE_RUNS)
                .and_then(|mut stmt| {
                    stmt.query_map(params![keep_per_group, millis(finished_before)], row_to_run)?
                        .collect()
                })
                .map_err(self.fail("prune"))
        })
    }
}
