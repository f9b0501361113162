"""The native part of runledger: the ledger handle and the records it hands
out. Import these names from ``runledger``, not from here."""

import builtins
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, Optional, Sequence, Union, final

from runledger.states import RunState

__all__ = [
    "MAX_CONTAINER_ID_BYTES",
    "MAX_NAME_BYTES",
    "MAX_PAGE",
    "SCHEMA_VERSION",
    "CreateResult",
    "HistoryEntry",
    "KillOutcome",
    "KillRecord",
    "KillReport",
    "Page",
    "Reconciled",
    "Run",
    "Runs",
    "SupersededRun",
    "_run_from_fields",
    "may_become",
    "transition_table",
]

_PathLike = Union[str, "os.PathLike[str]"]
_Seconds = Union[timedelta, float]
_State = Union[RunState, str]

SCHEMA_VERSION: Final[int]
"""The schema version this build writes, as stored in ``PRAGMA user_version``."""
MAX_PAGE: Final[int]
"""The most runs one ``Runs.list`` page holds."""
MAX_NAME_BYTES: Final[int]
"""The longest repo name, ref name or group key, in UTF-8 bytes."""
MAX_CONTAINER_ID_BYTES: Final[int]
"""The longest container id, in UTF-8 bytes."""

def transition_table() -> list[tuple[str, list[str]]]:
    """The core's transition table as ``(from, [to, ...])`` pairs of state
    names. ``runledger.TRANSITIONS`` is the same table keyed by ``RunState``."""

def may_become(from_state: _State, to_state: _State) -> bool:
    """Whether the transition table lets a run in ``from_state`` become
    ``to_state``."""

def _run_from_fields(fields: dict[str, Any]) -> Run:
    """Rebuilds a pickled ``Run``; only pickle calls it."""

@final
class Run:
    """One CI execution of one pushed commit: an immutable snapshot taken
    when the ledger returned it. Equal when every field is equal; hashable;
    pickles (and unpickles without a ledger)."""

    @property
    def id(self) -> str:
        """The run's id, a UUIDv7: ids sort by creation time."""
    @property
    def repo(self) -> str:
        """The repository name, as in ``work/tools.git``."""
    @property
    def ref_name(self) -> str:
        """The full ref name, as in ``refs/heads/main``."""
    @property
    def sha(self) -> str:
        """The pushed commit id, lower-case hex."""
    @property
    def group_key(self) -> str:
        """The scope of supersede: ``<repo>:<ref_name>`` unless the push
        named a group."""
    @property
    def state(self) -> RunState:
        """Where the run stands."""
    @property
    def protected(self) -> bool:
        """Whether the ref matched a protected pattern at create time: a
        newer push then leaves this run running once it is active."""
    @property
    def pushed_at(self) -> datetime:
        """When the push happened (aware, UTC)."""
    @property
    def queued_at(self) -> datetime:
        """When the ledger recorded the run (aware, UTC)."""
    @property
    def started_at(self) -> Optional[datetime]:
        """When the run became active; ``None`` if it never was."""
    @property
    def finished_at(self) -> Optional[datetime]:
        """When the run reached a terminal state."""
    @property
    def superseded_by(self) -> Optional[str]:
        """The id of the run that replaced this one, for a superseded run."""
    @property
    def lease_expires_at(self) -> Optional[datetime]:
        """Until when the runner's lease holds, for an active run."""
    @property
    def container_id(self) -> Optional[str]:
        """The container the runner attached, if any."""
    @property
    def kill(self) -> Optional[KillRecord]:
        """The last attempt to kill that container, if one was made."""
    @property
    def is_live(self) -> bool:
        """``True`` while pending or active."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]: ...

@final
class KillRecord:
    """The stored state of a container kill."""

    @property
    def state(self) -> str:
        """``"requested"``, ``"done"``, ``"failed"`` or ``"refused"``."""
    @property
    def attempts(self) -> int:
        """How many times the kill was tried."""
    @property
    def error(self) -> Optional[str]:
        """The last error, for a failed or refused kill."""
    @property
    def at(self) -> datetime:
        """When the kill state last changed (aware, UTC)."""

@final
class KillOutcome:
    """How one attempt to kill a run's container went."""

    @property
    def kind(self) -> str:
        """``"done"`` (stopped or already gone), ``"failed"`` (reconcile
        retries it), ``"refused"`` (the container is labelled with another
        run and was left alone) or ``"recorded"`` (the record-only runtime:
        stopping it is the caller's job)."""
    @property
    def error(self) -> Optional[str]:
        """What went wrong, for a failed or refused kill."""
    @property
    def labelled_run_id(self) -> Optional[str]:
        """For a refused kill, the run named by the container's label."""

@final
class SupersededRun:
    """One run replaced by a create."""

    @property
    def run_id(self) -> str:
        """The replaced run."""
    @property
    def previous_state(self) -> RunState:
        """Whether it was pending or active when replaced."""
    @property
    def container_id(self) -> Optional[str]:
        """Its container, if a runner had attached one."""
    @property
    def kill(self) -> Optional[KillOutcome]:
        """How killing that container went; ``None`` when there was none."""

@final
class CreateResult:
    """What ``Runs.create`` did."""

    @property
    def run(self) -> Run:
        """The new run; for a duplicate, the live run that already had this
        sha. A push older than a live run of its group is recorded directly
        as superseded (``run.state`` is ``SUPERSEDED``)."""
    @property
    def duplicate(self) -> bool:
        """The push was a redelivery of a live run's sha: nothing changed."""
    @property
    def superseded(self) -> list[SupersededRun]:
        """The runs this push replaced, oldest first, each with its kill."""

@final
class HistoryEntry:
    """One transition of a run."""

    @property
    def run_id(self) -> str:
        """The run that moved."""
    @property
    def from_state(self) -> Optional[RunState]:
        """The state it left; ``None`` for a run recorded directly as
        superseded."""
    @property
    def to_state(self) -> RunState:
        """The state it entered."""
    @property
    def at(self) -> datetime:
        """When (aware, UTC)."""
    @property
    def reason(self) -> str:
        """Why: ``claimed``, ``superseded``, ``out_of_order``, ``orphaned``,
        ``canceled`` or ``requested``."""
    @property
    def superseded_by(self) -> Optional[str]:
        """The superseding run, for a supersede."""

@final
class Page:
    """One page of ``Runs.list``, newest first."""

    @property
    def runs(self) -> list[Run]:
        """The runs on this page."""
    @property
    def next_cursor(self) -> Optional[str]:
        """Pass as ``cursor`` to get the next page; ``None`` on the last."""
    def __len__(self) -> int: ...

@final
class KillReport:
    """One container kill carried out by ``Runs.reconcile``."""

    @property
    def run_id(self) -> str:
        """The run whose container it was."""
    @property
    def container_id(self) -> str:
        """The container."""
    @property
    def outcome(self) -> KillOutcome:
        """How it went."""

@final
class Reconciled:
    """What ``Runs.reconcile`` did."""

    @property
    def orphaned(self) -> list[str]:
        """Active runs whose lease had expired, now failed as orphaned."""
    @property
    def kills(self) -> list[KillReport]:
        """Every kill it attempted."""

@final
class Runs:
    """A handle on one ledger file, opened (and created if needed) at
    ``path`` (a ``str`` or ``os.PathLike``).

    Keyword settings, each with its default:

    - ``busy_timeout`` (5 s): how long a write waits for another process's
      write lock before ``BusyError``.
    - ``synchronous`` (``"normal"``): ``"off"``, ``"normal"``, ``"full"`` or
      ``"extra"``, SQLite's durability of each commit.
    - ``background_checkpoints`` (``True``): at ``synchronous`` off or
      normal, once the handle has committed 100 times, copy the write-ahead
      log into the database on a thread of the handle's own instead of
      inside the commit that fills the log.
    - ``base_dir`` (``None``): where run directories
      ``<base>/<repo>/<run-id>/{workspace,logs}`` are made.
    - ``protected_refs`` (none): ref patterns such as
      ``"refs/heads/release/*"`` whose active run a newer push leaves running.
    - ``lease`` (60 s): how long a claim or heartbeat keeps a run's lease.
    - ``kill_signal`` (``"SIGKILL"``), ``kill_grace`` (``None``): the first
      signal sent to a superseded run's container and, when set, how long
      before SIGKILL follows.
    - ``kill_timeout`` (10 s): the longest the kills of one call may delay it.
    - ``runtime`` (``"docker"``): ``"docker"`` (``DOCKER_HOST`` or the
      default socket), ``"record-only"`` (kills are recorded, not carried
      out), or a Docker socket as ``"unix:///path"`` or an absolute path.

    Durations are ``timedelta``s or numbers of seconds. A context manager:
    leaving the ``with`` block closes it. Safe to share between threads;
    every call releases the GIL while it waits for SQLite or Docker. After
    ``os.fork()`` the child's first call reopens the file with the same
    settings; the parent's connection is never used in the child.
    """

    def __new__(
        cls,
        path: _PathLike,
        *,
        busy_timeout: Optional[_Seconds] = ...,
        synchronous: str = ...,
        background_checkpoints: bool = ...,
        base_dir: Optional[_PathLike] = ...,
        protected_refs: Optional[Sequence[str]] = ...,
        lease: Optional[_Seconds] = ...,
        kill_signal: str = ...,
        kill_grace: Optional[_Seconds] = ...,
        kill_timeout: Optional[_Seconds] = ...,
        runtime: Optional[_PathLike] = ...,
    ) -> Runs: ...
    @property
    def path(self) -> Path:
        """The database file."""
    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
    def close(self) -> None:
        """Closes the handle. Calls already under way finish first; later
        calls raise ``HandleClosedError``. Closing twice is allowed."""
    def __enter__(self) -> Runs: ...
    def __exit__(self, *exc_info: object) -> Literal[False]: ...
    def create(
        self,
        repo: str,
        ref: str,
        sha: str,
        pushed_at: Optional[datetime] = None,
        group: Optional[str] = None,
    ) -> CreateResult:
        """Records a push of ``sha`` to the full ref ``ref`` of ``repo``, in
        one transaction: a redelivered sha returns the live run as a
        duplicate; a push older than a live run of its group is recorded as
        superseded by it; otherwise the group's live runs are superseded
        (a protected ref's active run excepted) and the new run is pending.
        Then the superseded active runs' containers are killed; how each
        kill went is in the result. ``pushed_at`` (aware; default now)
        orders pushes; ``group`` replaces the (repo, ref) supersede scope."""
    def get(self, run_id: str) -> Run:
        """One run by id; ``NotFoundError`` if there is none."""
    def claim(self, repo: Optional[str] = None, group: Optional[str] = None) -> Optional[Run]:
        """Moves the oldest pending run (of ``repo`` or ``group``, if given)
        to active with a fresh lease and returns it; ``None`` when nothing
        waits. Two claimers never get the same run."""
    def transition(self, run_id: str, expected: _State, to: _State) -> Run:
        """Compare-and-set: moves the run from ``expected`` to ``to``.
        ``InvalidTransitionError`` if the table forbids it, ``ConflictError``
        (with ``.actual``) if the run is no longer in ``expected``.
        Superseding or canceling an active run kills its container."""
    def attach_container(self, run_id: str, container_id: str) -> Run:
        """Records the container started for an active run. If the run was
        superseded meanwhile, the container is killed and ``SupersededError``
        is raised (``ConflictError`` for another terminal state)."""
    def container_labels(self, run: Run) -> dict[str, str]:
        """The labels to put on the run's container (``runledger.run-id``
        and friends): reconcile finds containers by them, and a kill never
        stops a container labelled with another run."""
    def heartbeat(self, run_id: str) -> Run:
        """Renews the lease of an active run for another lease period."""
    def cancel(self, run_id: str) -> Run:
        """Cancels a live run; an active run's container is killed."""
    def reconcile(self) -> Reconciled:
        """Fails active runs whose lease expired (reason ``orphaned``) and
        kills their containers, retries failed kills, and kills running
        containers labelled with a terminal run. Pending runs stay queued.
        Safe to call from many processes at once."""
    def list(
        self,
        *,
        repo: Optional[str] = None,
        ref: Optional[str] = None,
        group: Optional[str] = None,
        state: Optional[_State] = None,
        limit: int = 100,
        cursor: Optional[str] = None,
    ) -> Page:
        """Runs matching every given filter, newest first, ``limit`` (1 to
        ``MAX_PAGE``) at a time; pass ``next_cursor`` to continue."""
    def history(self, run_id: str) -> builtins.list[HistoryEntry]:
        """Every transition of the run, oldest first."""
    def prune(self, keep_per_group: int, older_than: _Seconds) -> builtins.list[Run]:
        """Deletes terminal runs that finished more than ``older_than`` ago,
        except the newest ``keep_per_group`` of each group, with their
        history and run directories. Returns the deleted runs."""
    def wait_for_change(self, run_id: str, seen: _State, timeout: _Seconds) -> Run:
        """Waits until the run is no longer in ``seen`` or ``timeout``
        passes, and returns it as it then is. The GIL is released while it
        waits; Ctrl-C is noticed when it returns."""
    def run_dir(self, run: Run) -> Optional[Path]:
        """The run's directory, when the handle has a ``base_dir``."""
