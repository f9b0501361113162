"""The exceptions of runledger: one base class, one subclass per kind of
error the ledger reports. Each carries the values it names as attributes.

Bad input (``InvalidInputError``) is also a ``ValueError`` and a missing run
(``NotFoundError``) is also a ``LookupError``, so code that already catches
those builtins keeps working.
"""

from __future__ import annotations

import os
from typing import Optional, Union

from runledger.states import RunState

_Path = Union[str, "os.PathLike[str]"]


class RunledgerError(Exception):
    """Base class of every error the ledger raises. Errors of kinds that a
    newer core adds and this package does not know yet arrive as this class."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(RunledgerError, ValueError):
    """A value given by the caller is malformed; nothing was written.
    ``field`` names the argument, ``reason`` says what was wrong with it."""

    def __init__(self, message: str, *, field: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason


class NotFoundError(RunledgerError, LookupError):
    """No run has this id."""

    def __init__(self, message: str, *, run_id: str = "") -> None:
        super().__init__(message)
        self.run_id = run_id


class ConflictError(RunledgerError):
    """A compare-and-set found the run in another state than the caller
    expected: someone else moved it first, and nothing changed. ``actual``
    is the state the run is really in, ``expected`` the state the caller
    named (``"pending or active"`` for a cancel)."""

    def __init__(
        self,
        message: str,
        *,
        run_id: str = "",
        expected: str = "",
        actual: Optional[RunState] = None,
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.expected = expected
        self.actual = actual


class SupersededError(ConflictError):
    """A container was attached to a run that a newer push had already
    superseded. The container was killed; ``superseded_by`` names the newer
    run where one is recorded. A ``ConflictError`` whose ``actual`` is
    ``RunState.SUPERSEDED``."""

    def __init__(
        self, message: str, *, run_id: str = "", superseded_by: Optional[str] = None
    ) -> None:
        super().__init__(message, run_id=run_id, expected="active", actual=RunState.SUPERSEDED)
        self.superseded_by = superseded_by


class InvalidTransitionError(RunledgerError):
    """The transition table forbids moving from ``from_state`` to
    ``to_state``, whatever the run's state."""

    def __init__(
        self,
        message: str,
        *,
        from_state: Optional[RunState] = None,
        to_state: Optional[RunState] = None,
    ) -> None:
        super().__init__(message)
        self.from_state = from_state
        self.to_state = to_state


class GroupHasActiveRunError(RunledgerError):
    """The run cannot become active while another run of its group is active
    (a protected ref keeps its active run when newer pushes come)."""

    def __init__(self, message: str, *, run_id: str = "") -> None:
        super().__init__(message)
        self.run_id = run_id


class StorageError(RunledgerError):
    """The storage engine failed. Also the base of the more specific
    storage errors below."""

    def __init__(self, message: str, *, operation: str = "") -> None:
        super().__init__(message)
        self.operation = operation


class SchemaTooNewError(StorageError):
    """The database file was written by a newer runledger."""

    def __init__(
        self, message: str, *, path: Optional[_Path] = None, found: int = 0, supported: int = 0
    ) -> None:
        super().__init__(message)
        self.path = path
        self.found = found
        self.supported = supported


class NotADatabaseError(StorageError):
    """The file is not a SQLite database, or not a runledger one."""

    def __init__(self, message: str, *, path: Optional[_Path] = None, reason: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class ReadOnlyError(StorageError):
    """The database file, or its directory, cannot be written."""

    def __init__(self, message: str, *, path: Optional[_Path] = None, reason: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class BusyError(StorageError):
    """Another connection held the write lock for longer than the busy
    timeout. Ordinary load never raises this; it means a writer is stuck."""

    def __init__(self, message: str, *, operation: str = "", waited_ms: int = 0) -> None:
        super().__init__(message, operation=operation)
        self.waited_ms = waited_ms


class RunDirectoryError(RunledgerError):
    """A run directory could not be created or removed."""

    def __init__(self, message: str, *, path: Optional[_Path] = None) -> None:
        super().__init__(message)
        self.path = path


class UsedAfterForkError(RunledgerError):
    """A core handle was used in a process other than the one that opened
    it. ``runledger.Runs`` reopens itself after a fork, so Python code only
    sees this if the file cannot be reopened the same way."""

    def __init__(self, message: str, *, opened_in: int = 0, used_in: int = 0) -> None:
        super().__init__(message)
        self.opened_in = opened_in
        self.used_in = used_in


class HandleClosedError(RunledgerError):
    """The ``Runs`` handle was closed (by ``close()`` or by leaving its
    ``with`` block)."""

    def __init__(self, message: str, *, path: Optional[_Path] = None) -> None:
        super().__init__(message)
        self.path = path
