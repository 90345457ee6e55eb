"""What a user pays before the first SMS: CLI start-up time and the size of an install.

- CLI start-up: wall time of `smsgw --help`, `smsgw send --help` and `smsgw --version` from
  exec to exit (median of 7), with this interpreter's console script. `--help` and `send`
  must not import the web stack or SQLAlchemy; the figure shows whether they still do.
- Install size: a fresh virtualenv with `pip install .` (what `make demo`, deploy/install.sh
  and a Raspberry Pi get) against one with `pip install '.[test]'` (what `make test` uses),
  measured as disk blocks used, like `du`. Both come from pip's cache when it is warm; the
  install times are printed but not published (they depend on the network and the cache).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Result

REPO = Path(__file__).resolve().parents[1]
CLI_RUNS = 7
COMMANDS: list[list[str]] = [["--help"], ["send", "--help"], ["--version"]]


def _smsgw() -> str:
    script = Path(sys.executable).with_name("smsgw")
    return str(script) if script.exists() else "smsgw"


def _startup_seconds(args: list[str]) -> float:
    samples = []
    for _ in range(CLI_RUNS):
        start = time.perf_counter()
        subprocess.run([_smsgw(), *args], check=True, capture_output=True, timeout=60)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def disk_mb(root: Path) -> float:
    """Blocks in use under `root`, in MB (what `du -s` counts)."""
    total = 0
    for directory, _subdirectories, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                total += os.lstat(path).st_blocks * 512
    return total / 1e6


def _venv_size(spec: str) -> float:
    with tempfile.TemporaryDirectory(prefix="smsgw-venv-") as temporary:
        venv = Path(temporary) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, spec], check=True, capture_output=True, timeout=1200, cwd=REPO)
        return disk_mb(venv)


def run() -> list[Result]:
    results = [
        Result(f"CLI start-up: smsgw {' '.join(args)}", _startup_seconds(args) * 1000, "ms",
               "help and send import no web stack / SQLAlchemy", {})
        for args in COMMANDS
    ]  # fmt: skip
    runtime = _venv_size(".")
    test = _venv_size(".[test]")
    results.append(Result("venv size: runtime-only (pip install .)", runtime, "MB", "", {}))
    results.append(Result("venv size: test install (pip install '.[test]')", test, "MB", "", {}))
    return results
