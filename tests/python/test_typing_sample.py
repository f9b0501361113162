"""The script that mypy --strict checks also runs, so its types are the
runtime's types and not only the stubs' claims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).with_name("typing_sample.py")


def test_the_typed_sample_script_runs_against_the_installed_package() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", str(SAMPLE)], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "as expected: run 01900000-0000-7000-8000-000000000000 not found" in done.stdout


def test_the_package_sources_are_python_3_9_syntax() -> None:
    # The wheel is built for CPython 3.9 and later, but the suite runs on
    # one newer interpreter: parse every Python file of the installed
    # package as 3.9 code, which refuses `match`, `except*` and the other
    # newer statements 3.9 cannot load. Annotations such as `X | None`
    # parse either way; the modules defer them with
    # `from __future__ import annotations`, which is checked too.
    import ast

    import runledger

    sources = sorted(Path(runledger.__file__).parent.glob("*.py"))

    assert sources, "the installed package has no Python sources"
    for source in sources:
        text = source.read_text()
        tree = ast.parse(text, filename=str(source), feature_version=(3, 9))
        annotations = [
            node.annotation
            for node in ast.walk(tree)
            if isinstance(node, (ast.arg, ast.AnnAssign)) and node.annotation is not None
        ] + [node.returns for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
        uses_union = any(
            isinstance(part, ast.BinOp) and isinstance(part.op, ast.BitOr)
            for annotation in annotations
            if annotation is not None
            for part in ast.walk(annotation)
        )
        if uses_union:
            assert "from __future__ import annotations" in text, source
