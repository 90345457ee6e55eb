"""CLI fixtures: a hermetic environment (own state dir and config, no SMSGW_* leaking in)
and a live API server for the client commands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.live import LiveApi, live_api


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """os.environ without SMSGW_* variables and with a private, empty state directory."""
    for name in list(os.environ):
        if name.startswith("SMSGW_") or name == "STATE_DIRECTORY":
            monkeypatch.delenv(name)
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("SMSGW_STATE_DIR", str(state))
    return {"SMSGW_STATE_DIR": str(state)}


@pytest.fixture
def empty_config(tmp_path: Path) -> Path:
    """A config file with nothing in it: every key at its default."""
    path = tmp_path / "empty.toml"
    path.write_text("", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    with live_api(tmp_path_factory.mktemp("cli-api")) as served:
        yield served
