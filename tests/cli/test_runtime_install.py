"""A runtime-only install (`pip install .` in a fresh virtualenv, no extras) runs smsgw.

This is what a Raspberry Pi gets from deploy/install.sh and what `make demo` installs: the test
keeps the runtime/test dependency split honest. If a runtime module starts importing a package
that only the `test` extra brings (pytest, flask, gammu ...), or asyncpg becomes required for
SQLite, the commands below fail here instead of on a user's first run.

Slow (one pip install from the warm cache, ~15 s, and the scripted demo); skipped with the
reason when pip cannot install (offline machine without a cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
#: Packages of the `test` extra (and the PostgreSQL extra) that must not come with `pip install .`.
TEST_ONLY = {"pytest", "mypy", "playwright", "python-gammu", "schemathesis", "flask", "asyncpg"}


def _copy_source(destination: Path) -> Path:
    """The files a source install reads, copied so pip's in-tree build leaves the checkout
    (and concurrent test runs in it) alone."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db", "*.db-*")
    destination.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, destination / name)
    shutil.copytree(REPO / "smsgw", destination / "smsgw", ignore=junk)
    return destination


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runtime-install")
    source = _copy_source(root / "src")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    if install.returncode != 0:
        pytest.skip(f"pip cannot install smsgw here: {install.stderr.strip()[-500:]}")
    return venv


def _smsgw(venv: Path, state: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMSGW_")}
    clean.pop("STATE_DIRECTORY", None)
    clean |= {"SMSGW_STATE_DIR": str(state), **env}
    return subprocess.run(
        [str(venv / "bin" / "smsgw"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=clean,
        cwd=state,
    )


def test_the_runtime_install_brings_no_test_or_database_extras(runtime_venv: Path) -> None:
    listed = subprocess.run(
        [str(runtime_venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    installed = {line.split("==")[0].lower() for line in listed.splitlines()}
    assert "smsgw" in installed
    assert installed & TEST_ONLY == set()


def test_help_config_check_and_the_scripted_demo_run(runtime_venv: Path, tmp_path: Path) -> None:
    helped = _smsgw(runtime_venv, tmp_path, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "send" in helped.stdout
    checked = _smsgw(runtime_venv, tmp_path, "config", "check")
    assert checked.returncode == 0, checked.stderr
    assert "[database]" in checked.stdout
    demo = _smsgw(runtime_venv, tmp_path, "demo", "--once")
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "every step of the conversation worked" in demo.stdout


def test_a_postgresql_url_without_the_extra_names_the_extra(
    runtime_venv: Path, tmp_path: Path
) -> None:
    config = tmp_path / "pg.toml"
    config.write_text(
        '[database]\nurl = "postgresql://smsgw:pw@127.0.0.1:9/smsgw"\n\n'
        '[[modem]]\nname = "m"\nport = "/dev/null"\n',
        encoding="utf-8",
    )
    ran = _smsgw(runtime_venv, tmp_path, "run", "--config", str(config))
    assert ran.returncode == 1
    errors = [line for line in ran.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, ran.stderr
    assert "pip install 'smsgw[postgresql]'" in errors[0]
    assert "pw" not in ran.stderr.replace("pip", "")
