"""Run states and the transition table, as the core defines them."""

from __future__ import annotations

import enum
from typing import Mapping

from runledger import _native


class RunState(str, enum.Enum):
    """Where a run stands. Each member is also its lower-case name as a
    ``str``, so ``RunState.PENDING == "pending"`` and states can be written
    to JSON as they are.

    ``PENDING`` and ``ACTIVE`` are live; the other states are terminal.
    """

    PENDING = "pending"
    ACTIVE = "active"
    COMPLETE = "complete"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    CANCELED = "canceled"

    def __str__(self) -> str:
        return self.value

    @property
    def is_live(self) -> bool:
        """Pending or active: the run still holds its group's place."""
        return self in (RunState.PENDING, RunState.ACTIVE)

    @property
    def is_terminal(self) -> bool:
        """No transition leaves a terminal state."""
        return not self.is_live

    def successors(self) -> frozenset[RunState]:
        """The states this one may become, from the core's table."""
        return TRANSITIONS[self]

    def may_become(self, to: RunState | str) -> bool:
        """Whether the transition table lets a run in this state become
        ``to``. An unknown state name raises ``InvalidInputError``."""
        return _native.may_become(self, to)


def _read_table() -> Mapping[RunState, frozenset[RunState]]:
    table = {
        RunState(source): frozenset(RunState(target) for target in targets)
        for source, targets in _native.transition_table()
    }
    # The enum above must name exactly the core's states.
    if set(table) != set(RunState):
        raise ImportError(
            "runledger's native module and its Python package disagree on the run states; "
            "reinstall runledger"
        )
    return table


TRANSITIONS: Mapping[RunState, frozenset[RunState]] = _read_table()
"""The transition table: each state and the states it may become. Read from
the core when the package is imported, never kept as a copy here."""
