"""The command starts one OpenBLAS thread unless the operator chose (stack/threads.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from commune.stack import threads

# In a fresh interpreter: what the command's entry point does first, then numpy, then the
# threads the process has (OpenBLAS starts its own when numpy loads it).
_PROBE = (
    "import os, sys\n"
    "from commune.stack.threads import limit_blas_threads\n"
    "took = limit_blas_threads() if sys.argv[1] == 'limit' else None\n"
    "import numpy\n"
    "print(took, os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))\n"
)


def _probe(mode: str, blas: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if blas is not None:
        env["OPENBLAS_NUM_THREADS"] = blas
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_the_entry_point_starts_one_blas_thread() -> None:
    assert _probe("limit", None) == ["True", "1", "1"]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: OpenBLAS starts one thread anyway")
def test_without_it_openblas_starts_one_per_core() -> None:
    # The contrast that makes the test above mean something: the default is not one thread.
    took, variable, tasks = _probe("none", None)
    assert variable == "None" and int(tasks) == os.cpu_count()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: OpenBLAS starts one thread anyway")
def test_the_operators_setting_stands() -> None:
    took, variable, tasks = _probe("limit", "2")
    assert (took, variable, int(tasks)) == ("False", "2", 2)


def test_too_late_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # In this process numpy is loaded: the variable is set for children, and the call says so.
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert "numpy" in sys.modules
    assert threads.limit_blas_threads() is False
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"


def test_the_commune_command_sets_it() -> None:
    # The real entry point, `commune --help` (which loads no numpy), then numpy in that process.
    code = (
        "import os, sys\n"
        "sys.argv = ['commune', '--help']\n"
        "from commune.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "import numpy\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["1", "1"]
