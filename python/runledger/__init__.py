"""runledger: an embedded ledger of CI runs in one SQLite file.

Open a ledger with :class:`Runs`; a webhook receiver calls
:meth:`Runs.create` for every push (which supersedes the older live run of
the same repository and ref, and kills its container), a runner calls
:meth:`Runs.claim`, attaches its container and reports the outcome with
:meth:`Runs.transition`.
"""

from runledger._native import (
    MAX_CONTAINER_ID_BYTES,
    MAX_NAME_BYTES,
    MAX_PAGE,
    SCHEMA_VERSION,
    CreateResult,
    HistoryEntry,
    KillOutcome,
    KillRecord,
    KillReport,
    Page,
    Reconciled,
    Run,
    Runs,
    SupersededRun,
)
from runledger.errors import (
    BusyError,
    ConflictError,
    GroupHasActiveRunError,
    HandleClosedError,
    InvalidInputError,
    InvalidTransitionError,
    NotADatabaseError,
    NotFoundError,
    ReadOnlyError,
    RunDirectoryError,
    RunledgerError,
    SchemaTooNewError,
    StorageError,
    SupersededError,
    UsedAfterForkError,
)
from runledger.states import TRANSITIONS, RunState

__all__ = [
    "MAX_CONTAINER_ID_BYTES",
    "MAX_NAME_BYTES",
    "MAX_PAGE",
    "SCHEMA_VERSION",
    "TRANSITIONS",
    "BusyError",
    "ConflictError",
    "CreateResult",
    "GroupHasActiveRunError",
    "HandleClosedError",
    "HistoryEntry",
    "InvalidInputError",
    "InvalidTransitionError",
    "KillOutcome",
    "KillRecord",
    "KillReport",
    "NotADatabaseError",
    "NotFoundError",
    "Page",
    "ReadOnlyError",
    "Reconciled",
    "Run",
    "RunDirectoryError",
    "RunState",
    "RunledgerError",
    "Runs",
    "SchemaTooNewError",
    "StorageError",
    "SupersededError",
    "SupersededRun",
    "UsedAfterForkError",
]
