"""Bad input at the Python boundary: each gets a clear exception and the
ledger file is left exactly as it was."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

import runledger

from conftest import MAIN, REPO, row_count, sha

LONG = "x" * (runledger.MAX_NAME_BYTES + 1)


@pytest.mark.parametrize(
    ("args", "kwargs", "field", "shows"),
    [
        (("", MAIN, "abcdef1"), {}, "repo", "must not be empty"),
        ((LONG, MAIN, "abcdef1"), {}, "repo", f"is {len(LONG)} bytes long"),
        (("../escape", MAIN, "abcdef1"), {}, "repo", '"../escape"'),
        (("/abs", MAIN, "abcdef1"), {}, "repo", '"/abs"'),
        (("a\0b", MAIN, "abcdef1"), {}, "repo", '"a\\0b"'),
        ((REPO, "main", "abcdef1"), {}, "ref_name", '"main"'),
        ((REPO, "", "abcdef1"), {}, "ref_name", "must not be empty"),
        ((REPO, "refs/heads/" + LONG, "abcdef1"), {}, "ref_name", "bytes long"),
        ((REPO, "refs/heads/a..b", "abcdef1"), {}, "ref_name", '"refs/heads/a..b"'),
        ((REPO, MAIN, ""), {}, "sha", "has 0 characters"),
        ((REPO, MAIN, "abc"), {}, "sha", '"abc"'),
        ((REPO, MAIN, "nothexnothex"), {}, "sha", '"nothexnothex"'),
        ((REPO, MAIN, "a" * 65), {}, "sha", "has 65 characters"),
        ((REPO, MAIN, "abcdef1"), {"group": ""}, "group", "must not be empty"),
        ((REPO, MAIN, "abcdef1"), {"group": LONG}, "group", f"is {len(LONG)} bytes long"),
        (
            (REPO, MAIN, "abcdef1"),
            {"pushed_at": datetime(2026, 1, 1)},
            "pushed_at",
            "datetime.datetime(2026, 1, 1, 0, 0) is a naive datetime",
        ),
    ],
)
def test_create_refuses_malformed_values_with_invalid_input_and_writes_nothing(
    runs: runledger.Runs,
    db_path: Path,
    args: tuple[str, str, str],
    kwargs: dict[str, Any],
    field: str,
    shows: str,
) -> None:
    runs.create(REPO, "refs/heads/other", sha())

    with pytest.raises(runledger.InvalidInputError) as caught:
        runs.create(*args, **kwargs)

    assert isinstance(caught.value, ValueError)
    assert caught.value.field.startswith(field)
    # The message names the field and the value (or what was wrong with it).
    assert str(caught.value).startswith(f"invalid {field}")
    assert shows in str(caught.value)
    assert row_count(db_path) == 1


def test_a_naive_datetime_is_refused_with_a_message_saying_so(runs: runledger.Runs) -> None:
    with pytest.raises(runledger.InvalidInputError, match="naive datetime") as caught:
        runs.create(REPO, MAIN, sha(), pushed_at=datetime(2026, 1, 1, 12, 0))

    assert caught.value.field == "pushed_at"


@pytest.mark.parametrize(
    "call",
    [
        lambda runs: runs.create(None, MAIN, "abcdef1"),
        lambda runs: runs.create(REPO, None, "abcdef1"),
        lambda runs: runs.create(REPO, MAIN, 1234567),
        lambda runs: runs.create(REPO, MAIN, b"abcdef1"),
        lambda runs: runs.create(REPO, MAIN, "abcdef1", pushed_at="2026-01-01T00:00:00Z"),
        lambda runs: runs.create(REPO, MAIN, "abcdef1", pushed_at=1767225600),
        lambda runs: runs.create(REPO, MAIN, "abcdef1", group=7),
        lambda runs: runs.get(None),
        lambda runs: runs.transition("x", None, "active"),
        lambda runs: runs.transition("x", "pending", 1),
        lambda runs: runs.list(limit="10"),
        lambda runs: runs.list(limit=True),
        lambda runs: runledger.Runs(runs.path, background_checkpoints="yes"),
        lambda runs: runs.list(limit=10.0),
        lambda runs: runs.prune(True, 60),
        lambda runs: runs.prune("1", 60),
        lambda runs: runs.prune(1, "a day"),
        lambda runs: runs.prune(1, True),
        lambda runs: runs.container_labels("not a run"),
    ],
)
def test_wrong_types_raise_type_error_and_write_nothing(
    runs: runledger.Runs, db_path: Path, call: Callable[[Any], object]
) -> None:
    with pytest.raises(TypeError):
        call(runs)

    assert row_count(db_path) == 0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda runs: runs.get("not-a-run-id"), "run_id"),
        (lambda runs: runs.get(""), "run_id"),
        (lambda runs: runs.transition("not-a-run-id", "pending", "active"), "run_id"),
        (lambda runs: runs.transition("x", "running", "active"), "expected"),
        (lambda runs: runs.transition("x", "pending", "Active"), "to"),
        (lambda runs: runs.list(state="queued"), "state"),
        (lambda runs: runs.list(limit=0), "limit"),
        (lambda runs: runs.list(limit=runledger.MAX_PAGE + 1), "limit"),
        (lambda runs: runs.list(limit=-1), "limit"),
        (lambda runs: runs.list(cursor="page-2"), "cursor"),
        (lambda runs: runs.list(ref="main"), "ref_name"),
        (lambda runs: runs.prune(-1, 60), "keep_per_group"),
        (lambda runs: runs.prune(2**40, 60), "keep_per_group"),
        (lambda runs: runs.list(limit=2**70), "limit"),
        (lambda runs: runs.prune(1, timedelta(seconds=-1)), "older_than"),
        (lambda runs: runs.prune(1, float("nan")), "older_than"),
        (lambda runs: runs.claim(repo=""), "repo"),
        (lambda runs: runs.attach_container("x", "c"), "run_id"),
        (lambda runs: runs.wait_for_change("x", "pending", -1), "timeout"),
    ],
)
def test_malformed_values_of_other_calls_raise_invalid_input_naming_the_field(
    runs: runledger.Runs, db_path: Path, call: Callable[[Any], object], field: str
) -> None:
    with pytest.raises(runledger.InvalidInputError) as caught:
        call(runs)

    assert caught.value.field == field
    assert row_count(db_path) == 0


@pytest.mark.parametrize(
    "args",
    [("work/\ud800.git", MAIN, "abcdef1"), (REPO, "refs/heads/\udcff", "abcdef1")],
)
def test_a_string_that_cannot_be_utf8_raises_unicode_encode_error_and_writes_nothing(
    runs: runledger.Runs, db_path: Path, args: tuple[str, str, str]
) -> None:
    # A lone surrogate is a valid Python str with no UTF-8 form; the
    # conversion at the boundary refuses it before any call is made.
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        runs.create(*args)

    assert row_count(db_path) == 0


def test_an_oversized_container_id_is_refused_and_the_run_keeps_none(
    runs: runledger.Runs,
) -> None:
    runs.create(REPO, MAIN, sha())
    run = runs.claim()
    assert run is not None

    with pytest.raises(runledger.InvalidInputError) as caught:
        runs.attach_container(run.id, "c" * (runledger.MAX_CONTAINER_ID_BYTES + 1))

    assert caught.value.field == "container_id"
    assert runs.get(run.id).container_id is None


def test_an_unknown_run_is_not_found_which_is_a_lookup_error(runs: runledger.Runs) -> None:
    missing = "01900000-0000-7000-8000-000000000000"

    with pytest.raises(LookupError) as caught:
        runs.get(missing)

    assert isinstance(caught.value, runledger.NotFoundError)
    assert caught.value.run_id == missing
    assert missing in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"busy_timeout": 0}, runledger.InvalidInputError),
        ({"busy_timeout": -1.0}, runledger.InvalidInputError),
        ({"lease": timedelta(0)}, runledger.InvalidInputError),
        ({"lease": "60"}, TypeError),
        ({"synchronous": "sometimes"}, runledger.InvalidInputError),
        ({"protected_refs": ["release/*"]}, runledger.InvalidInputError),
        ({"protected_refs": "refs/heads/*"}, TypeError),
        ({"runtime": "kubernetes"}, runledger.InvalidInputError),
        ({"runtime": 3}, TypeError),
        ({"kill_signal": ""}, runledger.InvalidInputError),
        ({"base_dir": ""}, runledger.InvalidInputError),
    ],
)
def test_bad_settings_are_refused_before_the_file_is_created(
    tmp_path: Path, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    path = tmp_path / "never.db"

    with pytest.raises(error):
        runledger.Runs(path, **kwargs)

    assert not path.exists()


def test_paths_may_be_str_or_path_like_but_not_other_types(tmp_path: Path) -> None:
    class Elsewhere(os.PathLike[str]):
        def __fspath__(self) -> str:
            return str(tmp_path / "pathlike.db")

    for path in (str(tmp_path / "str.db"), tmp_path / "path.db", Elsewhere()):
        with runledger.Runs(path, runtime="record-only") as runs:
            assert runs.path == Path(os.fspath(path))
    with pytest.raises(TypeError, match="path"):
        runledger.Runs(42)  # type: ignore[arg-type]
    with pytest.raises(runledger.InvalidInputError):
        runledger.Runs("")


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the runs you are looking for\n" * 100)

    with pytest.raises(runledger.NotADatabaseError) as caught:
        runledger.Runs(path, runtime="record-only")

    assert isinstance(caught.value, runledger.StorageError)
    assert path.read_bytes() == b"these are not the runs you are looking for\n" * 100


def test_a_database_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "future.db"
    with runledger.Runs(path, runtime="record-only"):
        pass
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {runledger.SCHEMA_VERSION + 1}")
    connection.close()

    with pytest.raises(runledger.SchemaTooNewError) as caught:
        runledger.Runs(path, runtime="record-only")

    assert caught.value.found == runledger.SCHEMA_VERSION + 1
    assert caught.value.supported == runledger.SCHEMA_VERSION


def test_using_a_closed_handle_raises_handle_closed(db_path: Path) -> None:
    runs = runledger.Runs(db_path, runtime="record-only")
    runs.close()
    runs.close()

    with pytest.raises(runledger.HandleClosedError, match="closed"):
        runs.create(REPO, MAIN, sha())
    assert runs.closed
