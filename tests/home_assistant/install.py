"""Build (once) the virtualenv holding the real Home Assistant the end-to-end test talks to.

Home Assistant is not a dependency of smsgw and must never be one: it pins hundreds of
packages and needs its own Python (3.13 for the pinned release). So it lives in a virtualenv
of its own, in a cache directory outside the repository, keyed by the pinned version; `.ci/run`
(through `make hass-venv`) builds it before the tests, and the tests only look it up, so no run
pays for the install twice. The module is stdlib-only because it runs under whatever `python3`
builds it, before any project virtualenv exists.

Home Assistant installs an integration's requirements from PyPI the first time it loads it. Here
they are installed up front instead (read from the manifests of every integration the test
configuration sets up, with Home Assistant's own constraints file) and the server is started
with `--skip-pip`, so the test does not depend on the network and fails the same way each time.

Run: python3 -m tests.home_assistant.install [--print-python]
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: The newest release whose Requires-Python admits 3.13.0 (the next one wants 3.13.2 or later).
HA_VERSION = "2025.4.4"
#: Integrations the test configuration sets up beyond Home Assistant's always-on defaults.
EXTRA_DOMAINS = ("mqtt", "sensor", "binary_sensor", "event", "notify", "automation")
#: Where the environment is kept; override for a different disk or a shared cache.
CACHE_ENV = "SMSGW_HASS_CACHE"
#: An explicit interpreter for Home Assistant (it must be 3.13.0 or newer).
PYTHON_ENV = "SMSGW_HASS_PYTHON"
_STAMP = ".smsgw-complete"


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "smsgw-hass")


def venv_dir() -> Path:
    return cache_root() / HA_VERSION


def venv_python() -> Path:
    return venv_dir() / "bin" / "python"


def is_ready() -> bool:
    """True when a complete build of the pinned version exists (the stamp is written last)."""
    stamp = venv_dir() / _STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == _fingerprint()


def find_python() -> str | None:
    """A Python 3.13 interpreter Home Assistant accepts, or None where the machine has none."""
    candidates = [os.environ.get(PYTHON_ENV, "")]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.13.*/bin/python3.13")))
    candidates += sorted(glob.glob("/root/.pyenv/versions/3.13.*/bin/python3.13"))
    candidates += [shutil.which("python3.13") or "", sys.executable]
    for candidate in candidates:
        if candidate and _version_of(candidate)[:2] == (3, 13):
            return candidate
    return None


def _version_of(python: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:3])"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(int(part) for part in out.split())


def _fingerprint() -> str:
    """Changes when the pin or the set of integrations changes, so the cache is rebuilt."""
    return hashlib.sha256(f"{HA_VERSION} {sorted(EXTRA_DOMAINS)}".encode()).hexdigest()[:16]


# Runs inside the new environment: the requirements of every integration that will be set up,
# following `dependencies` (the ones Home Assistant sets up first). `after_dependencies` are only
# ordering hints for integrations that are set up anyway, so they are not followed.
_REQUIREMENTS_SCRIPT = """
import json, sys
from pathlib import Path
import homeassistant
from homeassistant.bootstrap import CORE_INTEGRATIONS, DEFAULT_INTEGRATIONS
components = Path(homeassistant.__file__).parent / "components"
todo = set(CORE_INTEGRATIONS) | set(DEFAULT_INTEGRATIONS) | set(sys.argv[1:])
seen, requirements = set(), set()
while todo:
    domain = todo.pop()
    if domain in seen:
        continue
    seen.add(domain)
    manifest = json.loads((components / domain / "manifest.json").read_text())
    requirements.update(manifest.get("requirements", []))
    todo.update(manifest.get("dependencies", []))
print(json.dumps(sorted(requirements)))
"""


def build(python: str) -> float:
    """Create the environment from scratch; the seconds it took."""
    started = time.monotonic()
    target = venv_dir()
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    _run([python, "-m", "venv", str(target)])
    pip = [str(venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, "--upgrade", "pip"])
    _run([*pip, f"homeassistant=={HA_VERSION}"])
    listed = subprocess.run(
        [str(venv_python()), "-c", _REQUIREMENTS_SCRIPT, *EXTRA_DOMAINS],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    requirements = json.loads(listed)
    constraints = _constraints_file()
    _run([*pip, "-c", str(constraints), *requirements])
    (target / _STAMP).write_text(_fingerprint() + "\n", encoding="utf-8")
    return time.monotonic() - started


def _constraints_file() -> Path:
    found = glob.glob(str(venv_dir() / "lib/python3.*/site-packages/homeassistant"))
    return Path(found[0]) / "package_constraints.txt"


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True)


def main() -> int:
    if "--print-python" in sys.argv:
        print(venv_python())
        return 0
    if is_ready():
        print(f"Home Assistant {HA_VERSION}: ready in {venv_dir()}")
        return 0
    python = find_python()
    if python is None:
        print(f"Home Assistant {HA_VERSION}: no Python 3.13 here; its test will be skipped")
        return 0
    print(f"Home Assistant {HA_VERSION}: building {venv_dir()} with {python} ...", flush=True)
    seconds = build(python)
    print(f"Home Assistant {HA_VERSION}: built in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
