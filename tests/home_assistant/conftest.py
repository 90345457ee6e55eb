"""One Mosquitto broker and one onboarded Home Assistant with MQTT, shared by the session.

Starting and onboarding Home Assistant costs several seconds of a 2-core machine, so the
tests share one server; the harness tests and the smsgw tests use devices of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.home_assistant import install
from tests.home_assistant.server import HomeAssistant
from tests.mqtt.broker import Broker


@pytest.fixture(scope="session")
def hass_python() -> Path:
    """The pinned Home Assistant's interpreter; built by `make hass-venv` (CI does it)."""
    if install.find_python() is None:
        pytest.skip("no Python 3.13 interpreter on this machine: Home Assistant needs one")
    if not install.is_ready():
        pytest.fail(
            f"Home Assistant {install.HA_VERSION} is not installed in {install.venv_dir()}: "
            "run `make hass-venv` once (about 2 minutes; .ci/run does it)"
        )
    return install.venv_python()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """Debian's Mosquitto on a free port (skips with a reason where it is not installed)."""
    server = Broker(tmp_path_factory.mktemp("mosquitto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def home_assistant(
    hass_python: Path, broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HomeAssistant]:
    server = HomeAssistant(hass_python, tmp_path_factory.mktemp("home-assistant"))
    try:
        server.start()
        server.onboard()
        server.add_mqtt("127.0.0.1", broker.port)
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_new_problems(home_assistant: HomeAssistant) -> Iterator[None]:
    """Fail a test after which Home Assistant logged an error or a warning: a discovery config
    it rejects, a template that does not render or an automation condition that raises shows
    there, not in any state. (Start-up noise from onboarding comes before the first test.)"""
    offset = home_assistant.log_size()
    yield
    assert home_assistant.problems_since(offset) == []
