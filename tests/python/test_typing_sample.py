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
