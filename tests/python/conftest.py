"""Fixtures shared by the Python suite: a fresh ledger file per test, and
helpers that read the SQLite file directly to check the core's invariants
from outside the library."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

import runledger

REPO = "work/tools.git"
MAIN = "refs/heads/main"

_shas = itertools.count(1)


def sha() -> str:
    """A fresh, valid commit id."""
    return f"{next(_shas):07x}abc"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "runledger.db"


@pytest.fixture
def runs(db_path: Path) -> Iterator[runledger.Runs]:
    with runledger.Runs(db_path, runtime="record-only") as handle:
        yield handle


def row_count(db_path: Path) -> int:
    """How many runs the file holds, read with Python's own sqlite3."""
    with sqlite3.connect(db_path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM runs").fetchone()
    connection.close()
    return int(count)


def assert_invariants(db_path: Path) -> None:
    """The rules that must hold whatever callers did: at most one live run
    per group (no group is protected in these tests), every superseded run
    names a run of its own group, and no run is superseded by itself."""
    connection = sqlite3.connect(db_path)
    try:
        crowded = connection.execute(
            "SELECT group_key, count(*) FROM runs WHERE state IN ('pending', 'active') "
            "GROUP BY group_key HAVING count(*) > 1"
        ).fetchall()
        assert crowded == []

        strays = connection.execute(
            "SELECT old.id FROM runs AS old LEFT JOIN runs AS new ON new.id = old.superseded_by "
            "WHERE old.state = 'superseded' "
            "AND (new.id IS NULL OR new.group_key <> old.group_key OR new.id = old.id)"
        ).fetchall()
        assert strays == []

        unnamed = connection.execute(
            "SELECT id FROM runs WHERE state = 'superseded' AND superseded_by IS NULL"
        ).fetchall()
        assert unnamed == []
    finally:
        connection.close()
