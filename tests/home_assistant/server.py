"""A real Home Assistant server under test: headless, onboarded through its REST API.

The server is `python -m homeassistant` from the pinned virtualenv (`install.py`) with a
temporary config directory, bound to a free loopback port. It is driven only the way a person
or a script drives a fresh install: the onboarding endpoints create the owner and hand out an
authorization code, `/auth/token` exchanges it for an access token, and the config-entries flow
adds the MQTT integration exactly as the "Add integration" dialog does. Everything the tests
assert afterwards comes from Home Assistant's own REST API, never from its internals.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.ports import free_port

OWNER = "owner"
#: A throwaway password for a server that lives for one test run on loopback.
OWNER_PASSWORD = "smsgw-e2e-owner"

_T = TypeVar("_T")

# Home Assistant's websocket API answers what REST does not (persistent notifications, the
# registries). The test's own environment has no websocket client, Home Assistant's has
# aiohttp: this runs there, sends each command of argv[3] in turn and prints every result.
_WEBSOCKET_SCRIPT = """
import asyncio, json, sys
import aiohttp

async def main():
    url, token, commands = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    results = []
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            assert (await ws.receive_json())["type"] == "auth_required"
            await ws.send_json({"type": "auth", "access_token": token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            for number, command in enumerate(commands, start=1):
                await ws.send_json({"id": number, **command})
                while (answer := await ws.receive_json()).get("id") != number:
                    pass
                if not answer.get("success"):
                    sys.exit("websocket command failed: " + json.dumps(answer))
                results.append(answer["result"])
    print(json.dumps(results))

asyncio.run(main())
"""

_CONFIGURATION = """\
homeassistant:
  name: Home
  latitude: 44.4268
  longitude: 26.1025
  elevation: 70
  unit_system: metric
  time_zone: UTC
  country: RO
  currency: EUR
  language: en
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
automation: !include automations.yaml
# The alarm the documentation's "send an SMS when the alarm triggers" automation watches.
alarm_control_panel:
  - platform: manual
    name: Home Alarm
    code_arm_required: false
    arming_time: 0
    delay_time: 0
    trigger_time: 600
"""


class HomeAssistant:
    """One Home Assistant process and an authenticated REST client for it."""

    def __init__(self, python: Path, config_dir: Path) -> None:
        self.python = python
        self.config_dir = config_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.client_id = self.base + "/"
        self.log = config_dir / "home-assistant.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.http = httpx.Client(base_url=self.base, timeout=30.0)

    # ------------------------------------------------------------------ process
    def start(self, automations: str = "[]\n", within: float = 240.0) -> None:
        """Write the configuration, start the server and wait until its API answers."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "configuration.yaml").write_text(
            _CONFIGURATION.format(port=self.port), encoding="utf-8"
        )
        (self.config_dir / "automations.yaml").write_text(automations, encoding="utf-8")
        with (self.config_dir / "stdout.log").open("ab") as sink:
            # --skip-pip: every requirement is in the virtualenv already; a missing one must
            # fail the test here rather than be fetched from the network halfway through it.
            self.process = subprocess.Popen(
                [str(self.python), "-m", "homeassistant", "--config", str(self.config_dir),
                 "--skip-pip", "--log-no-color", "--log-file", str(self.log)],
                stdout=sink, stderr=sink,
            )  # fmt: skip
        self.wait_for(self._onboarding_answers, within, "the onboarding API to answer")

    def _onboarding_answers(self) -> bool:
        self.check_alive()
        try:
            return self.http.get("/api/onboarding").status_code == 200
        except httpx.HTTPError:
            return False

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"Home Assistant exited: {self.tail()}")

    def stop(self) -> None:
        self.http.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, size: int = 4000) -> str:
        text = ""
        for name in ("stdout.log", "home-assistant.log"):
            path = self.config_dir / name
            if path.is_file():
                text += f"--- {name}\n" + path.read_text(errors="replace")[-size:]
        return text

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.is_file() else 0

    def problems_since(self, offset: int) -> list[str]:
        """The ERROR and WARNING lines Home Assistant logged after byte `offset`."""
        if not self.log.is_file():
            return []
        with self.log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
        return [line for line in lines if " ERROR " in line or " WARNING " in line]

    # ------------------------------------------------------------------ onboarding
    def onboard(self) -> None:
        """Create the owner, get a token, and finish every onboarding step as the UI would."""
        created = self.http.post(
            "/api/onboarding/users",
            json={"client_id": self.client_id, "name": "Owner", "username": OWNER,
                  "password": OWNER_PASSWORD, "language": "en"},
        )  # fmt: skip
        created.raise_for_status()
        self.token = self._exchange(created.json()["auth_code"])
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        for step in ("core_config", "analytics"):
            self.http.post(f"/api/onboarding/{step}").raise_for_status()
        self.http.post(
            "/api/onboarding/integration",
            json={"client_id": self.client_id, "redirect_uri": self.client_id + "?auth_callback=1"},
        ).raise_for_status()
        self.wait_for(lambda: self.get("/api/config")["state"] == "RUNNING", 120, "RUNNING")

    def _exchange(self, code: str) -> str:
        answer = self.http.post(
            "/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        )
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token

    # ------------------------------------------------------------------ integrations
    def add_mqtt(self, host: str, port: int) -> dict[str, Any]:
        """The MQTT integration through the config flow, as "Add integration" -> MQTT does."""
        flow = self.post("/api/config/config_entries/flow", {"handler": "mqtt"})
        while flow["type"] == "form":
            flow = self.post(
                f"/api/config/config_entries/flow/{flow['flow_id']}",
                {"broker": host, "port": port} if flow["step_id"] == "broker" else {},
            )
        if flow["type"] != "create_entry":
            raise AssertionError(f"MQTT config flow ended with {flow}")
        entry: dict[str, Any] = flow["result"]
        self.wait_for(
            lambda: self._entry_state(entry["entry_id"]) == "loaded", 60, "the MQTT entry to load"
        )
        return entry

    def _entry_state(self, entry_id: str) -> str:
        for entry in self.get("/api/config/config_entries/entry"):
            if entry["entry_id"] == entry_id:
                state: str = entry["state"]
                return state
        return "missing"

    # ------------------------------------------------------------------ REST
    def get(self, path: str) -> Any:
        answer = self.http.get(path)
        answer.raise_for_status()
        return answer.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.post(path, json=body or {})
        if answer.is_error:
            raise AssertionError(f"POST {path} -> {answer.status_code}: {answer.text}")
        return answer.json()

    def states(self) -> dict[str, dict[str, Any]]:
        return {state["entity_id"]: state for state in self.get("/api/states")}

    def state(self, entity_id: str) -> dict[str, Any] | None:
        answer = self.http.get(f"/api/states/{entity_id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()
        return state

    def template(self, template: str) -> str:
        """Render a template server-side: the device and entity registries through REST."""
        answer = self.http.post("/api/template", json={"template": template})
        if answer.is_error:
            raise AssertionError(f"template -> {answer.status_code}: {answer.text}")
        return answer.text

    def device_of(self, entity_id: str) -> dict[str, Any] | None:
        """The device registry entry an entity belongs to (None when it has none)."""
        rendered = self.template(
            f"{{% set d = device_id({json.dumps(entity_id)}) %}}"
            "{{ none | tojson if d is none else {'id': d, 'name': device_attr(d, 'name'),"
            " 'manufacturer': device_attr(d, 'manufacturer'), 'model': device_attr(d, 'model'),"
            " 'sw_version': device_attr(d, 'sw_version'),"
            " 'identifiers': device_attr(d, 'identifiers') | list,"
            " 'entities': device_entities(d)} | tojson }}"
        )
        device: dict[str, Any] | None = json.loads(rendered)
        return device

    def load_automations(self, yaml_text: str) -> None:
        """Replace automations.yaml and reload it, as saving in the automation editor does."""
        (self.config_dir / "automations.yaml").write_text(yaml_text, encoding="utf-8")
        self.call("automation", "reload", {})

    def automation(self, automation_id: str) -> dict[str, Any] | None:
        """The state of the automation whose YAML `id` is `automation_id`."""
        for state in self.states().values():
            if state["entity_id"].startswith("automation.") and (
                state["attributes"].get("id") == automation_id
            ):
                return state
        return None

    def websocket(self, *commands: dict[str, Any]) -> list[Any]:
        """Each command's `result`, through `/api/websocket` as the frontend talks to it."""
        done = subprocess.run(
            [str(self.python), "-c", _WEBSOCKET_SCRIPT,
             self.base.replace("http", "ws", 1) + "/api/websocket", self.token,
             json.dumps(list(commands))],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"websocket: {done.stderr.strip()}")
        results: list[Any] = json.loads(done.stdout)
        return results

    def notifications(self) -> list[dict[str, Any]]:
        """The persistent notifications shown in the sidebar (automations may create them)."""
        shown: list[dict[str, Any]] = self.websocket({"type": "persistent_notification/get"})[0]
        return shown

    def call(self, domain: str, service: str, data: dict[str, Any]) -> Any:
        return self.post(f"/api/services/{domain}/{service}", data)

    def wait_for(self, check: Callable[[], _T | None], within: float, what: str) -> _T:
        """Poll `check` until it returns something truthy; fail with the server's log tail."""
        deadline = time.monotonic() + within
        while True:
            self.check_alive()
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {within}s for {what}\n{self.tail()}")
            time.sleep(0.25)
