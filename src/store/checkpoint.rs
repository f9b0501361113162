//! Checkpoints off the caller's path.
//!
//! In WAL mode every commit appends its pages to the `-wal` file, and they
//! must be copied back into the database now and then (a checkpoint, which
//! at synchronous NORMAL also syncs both files). SQLite does that inside
//! every commit that finds the log at 1000 pages or more, so one create in
//! about a hundred waits for the copy and two fsyncs: most of a create's
//! p99, and a third of its mean time. A handle that keeps writing hands
//! that work to a thread of its own, which checkpoints on its own
//! connection while callers go on, as often as SQLite would (once per 1000
//! pages written).
//!
//! A checkpoint that runs while commits land cannot empty the log, and only
//! an empty log starts over from its beginning. So under sustained writing
//! the log grows until a commit finds it at [`INLINE_LIMIT_PAGES`] (about
//! 32 MiB) and finishes the checkpoint inline; that pass has only the pages
//! since the thread's last pass to copy, and the log then starts over. The
//! same limit bounds the log should the thread fall behind or fail.
//!
//! A short-lived handle (one CLI call) never starts the thread: until it has
//! committed [`HAND_OFF_AFTER_COMMITS`] times it checkpoints inline exactly
//! as SQLite would.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

use super::sql;

/// The log size, in pages, at which a checkpoint is due: SQLite's default.
const CHECKPOINT_PAGES: i32 = 1000;

/// The log size at which a commit checkpoints inline even though the thread
/// has the job: it fell behind (a slow disk, a starved machine).
const INLINE_LIMIT_PAGES: i32 = 8 * CHECKPOINT_PAGES;

/// Commits a handle makes before it hands checkpoints to a thread. A
/// handle that writes this often is a long-lived one; a CLI call never
/// gets there and never pays for a thread.
const HAND_OFF_AFTER_COMMITS: u32 = 100;

/// What a commit does about the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Nothing: the log is small, or the thread was asked recently.
    Nothing,
    /// Ask the thread for a checkpoint.
    HandOff,
    /// Checkpoint now, in the committing caller.
    Inline,
}

/// Decides, commit by commit, who checkpoints and when.
#[derive(Debug, Default)]
struct Pacing {
    /// Commits the handle made so far.
    commits: u32,
    /// The log size when the thread was last asked; 0 after the log
    /// started over.
    asked_at: i32,
}

impl Pacing {
    /// The step for a commit that left the log at `pages` pages.
    fn after_commit(&mut self, pages: i32) -> Step {
        self.commits = self.commits.saturating_add(1);
        if pages < self.asked_at {
            self.asked_at = 0;
        }
        if pages < CHECKPOINT_PAGES {
            Step::Nothing
        } else if pages >= INLINE_LIMIT_PAGES || self.commits < HAND_OFF_AFTER_COMMITS {
            Step::Inline
        } else if pages >= self.asked_at + CHECKPOINT_PAGES {
            self.asked_at = pages;
            Step::HandOff
        } else {
            Step::Nothing
        }
    }
}

/// What the committing thread and the checkpoint thread share.
#[derive(Debug, Default)]
struct State {
    /// A checkpoint is due and the thread has not started it yet.
    due: bool,
    /// The handle is closing: the thread ends.
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Opens the thread's own connection to the ledger file.
    connect: Box<dyn Fn() -> Option<Connection> + Send + Sync>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The checkpoint thread of one handle, started when first needed. Owned
/// by the writer connection's hook, so only one commit at a time uses it.
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The process that may start and join the thread: after a fork the
    /// child has no such thread, and joining it would wait forever.
    pid: u32,
}

impl Checkpointer {
    /// A checkpointer whose thread will connect with `connect`.
    pub(crate) fn new(connect: impl Fn() -> Option<Connection> + Send + Sync + 'static) -> Self {
        Checkpointer {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                connect: Box::new(connect),
            }),
            thread: None,
            pid: std::process::id(),
        }
    }

    /// The hook SQLite calls after each commit of the writer connection,
    /// with the size of the log in pages. It replaces SQLite's own
    /// automatic checkpoint, and owns the checkpointer: the thread stops
    /// when the connection closes and drops the hook.
    pub(crate) fn into_hook(self) -> impl FnMut(&mut Wal, i32) -> rusqlite::Result<()> + Send {
        let mut checkpointer = self;
        let mut pacing = Pacing::default();
        move |wal, pages| {
            let inline = match pacing.after_commit(pages) {
                Step::Nothing => false,
                Step::HandOff => !checkpointer.request(),
                Step::Inline => true,
            };
            if inline {
                // As SQLite's automatic checkpoint: passive, and a failure
                // (another process checkpointing) is no failure of the commit.
                let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
            }
            Ok(())
        }
    }

    /// Asks the thread for a checkpoint, starting it if needed. False when
    /// no thread can run here (then the caller checkpoints inline).
    fn request(&mut self) -> bool {
        if std::process::id() != self.pid {
            return false;
        }
        if self.thread.is_none() {
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new()
                // Linux keeps 15 bytes of a thread name: short enough to show whole.
                .name("runledger-ckpt".to_owned())
                .spawn(move || run(&shared));
            match spawned {
                Ok(handle) => self.thread = Some(handle),
                Err(_) => return false,
            }
        }
        self.shared.lock().due = true;
        self.shared.wake.notify_one();
        true
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            if std::process::id() == self.pid {
                // At most one checkpoint under way, which ends on its own.
                let _ = thread.join();
            }
        }
    }
}

/// The thread: waits for a request, checkpoints, and again, until stopped.
fn run(shared: &Shared) {
    let mut connection: Option<Connection> = None;
    loop {
        {
            let mut state = shared.lock();
            while !state.due && !state.stopping {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.stopping {
                return;
            }
            state.due = false;
        }
        if connection.is_none() {
            connection = (shared.connect)();
        }
        let Some(conn) = connection.as_ref() else {
            // Without a connection, commits keep checkpointing inline once
            // the log reaches the inline limit.
            continue;
        };
        // Passive: copies what no reader still needs, waits for no one.
        if let Err(error) = conn.query_row(sql::CHECKPOINT_PASSIVE, [], |_| Ok(())) {
            tracing::debug!(error = %error, "background checkpoint did not run");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pacing` one commit per log size and returns the steps.
    fn steps(pacing: &mut Pacing, sizes: impl IntoIterator<Item = i32>) -> Vec<Step> {
        sizes
            .into_iter()
            .map(|pages| pacing.after_commit(pages))
            .collect()
    }

    #[test]
    fn a_young_handle_checkpoints_inline_at_every_commit_past_the_threshold_as_sqlite_does() {
        let mut pacing = Pacing::default();

        let young = steps(&mut pacing, [10, 999, 1000, 1010]);

        assert_eq!(
            young,
            [Step::Nothing, Step::Nothing, Step::Inline, Step::Inline]
        );
    }

    #[test]
    fn a_handle_that_keeps_writing_asks_the_thread_once_per_threshold_of_new_pages() {
        let mut pacing = Pacing {
            commits: HAND_OFF_AFTER_COMMITS,
            asked_at: 0,
        };

        let busy = steps(&mut pacing, [500, 1000, 1500, 1999, 2000, 2100]);
        // The log started over: the next threshold counts from zero.
        let restarted = steps(&mut pacing, [20, 1000]);

        use Step::{HandOff, Nothing};
        assert_eq!(busy, [Nothing, HandOff, Nothing, Nothing, HandOff, Nothing]);
        assert_eq!(restarted, [Nothing, HandOff]);
    }

    #[test]
    fn a_log_at_the_inline_limit_is_checkpointed_by_the_commit_itself() {
        let mut pacing = Pacing {
            commits: HAND_OFF_AFTER_COMMITS,
            asked_at: INLINE_LIMIT_PAGES - 10,
        };

        assert_eq!(pacing.after_commit(INLINE_LIMIT_PAGES), Step::Inline);
    }
}
