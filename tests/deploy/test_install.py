"""deploy/install.sh into a temporary DESTDIR, its dry run, and the example configuration."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from smsgw.config import ModemSection, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "install.sh"
EXAMPLE = REPO / "deploy" / "smsgw.example.toml"


def install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, check=False, timeout=60
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_script_is_valid_bash() -> None:
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_shellcheck_is_clean_when_available() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck not installed")
    proc = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.timeout(120)
def test_destdir_install_lays_out_every_file_and_is_idempotent(tmp_path: Path) -> None:
    first = install("--destdir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    unit = tmp_path / "etc/systemd/system/smsgw.service"
    rules = tmp_path / "etc/udev/rules.d/99-smsgw.rules"
    config = tmp_path / "etc/smsgw/smsgw.toml"
    example = tmp_path / "etc/smsgw/smsgw.toml.example"
    assert unit.read_bytes() == (REPO / "systemd/smsgw.service").read_bytes()
    assert rules.read_bytes() == (REPO / "udev/99-smsgw.rules").read_bytes()
    assert config.read_bytes() == EXAMPLE.read_bytes()
    assert example.read_bytes() == EXAMPLE.read_bytes()
    assert (mode(unit), mode(rules), mode(example)) == (0o644, 0o644, 0o644)
    assert mode(config) == 0o640  # holds the API key and SIM PINs
    assert mode(config.parent) == 0o750
    if (REPO / "docs/deployment.md").is_file():
        assert (tmp_path / "opt/smsgw/share/doc/smsgw/deployment.md").is_file()

    config.write_text("[api]\nkey = 'edited by the admin'\n", encoding="utf-8")
    second = install("--destdir", str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert "kept:" in second.stdout
    assert config.read_text(encoding="utf-8") == "[api]\nkey = 'edited by the admin'\n"
    assert "unchanged:" in second.stdout
    assert f"install -D -m 0644 {REPO}/udev" not in second.stdout
    assert unit.read_bytes() == (REPO / "systemd/smsgw.service").read_bytes()


@pytest.mark.timeout(60)
def test_prefix_is_substituted_into_the_unit(tmp_path: Path) -> None:
    proc = install("--destdir", str(tmp_path), "--prefix", "/srv/smsgw")
    assert proc.returncode == 0, proc.stderr
    unit = (tmp_path / "etc/systemd/system/smsgw.service").read_text(encoding="utf-8")
    assert "ExecStart=/srv/smsgw/bin/smsgw run " in unit
    assert "/opt/smsgw" not in unit


@pytest.mark.timeout(60)
def test_dry_run_changes_nothing_and_shows_the_plan(tmp_path: Path) -> None:
    proc = install("--dry-run", "--destdir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []
    assert re.search(
        r"^\+ install -D -m 0644 .*/etc/udev/rules.d/99-smsgw.rules$", proc.stdout, re.M
    )


@pytest.mark.timeout(60)
def test_dry_run_on_the_live_system_plans_user_venv_and_reloads() -> None:
    proc = install("--dry-run")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    if "user smsgw exists" not in out:
        assert "+ useradd --system --user-group --groups dialout" in out
    assert "+ python3 -m venv /opt/smsgw" in out or "/opt/smsgw/bin/python -m pip" in out
    assert "+ udevadm control --reload" in out or shutil.which("udevadm") is None


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--bogus"], 2), (["--prefix", "relative"], 1), (["--destdir", "/nonexistent/x"], 1)],
)
def test_bad_arguments_fail_clearly(args: list[str], code: int) -> None:
    proc = install(*args)
    assert proc.returncode == code
    assert "install.sh:" in proc.stderr


def test_help_lists_the_options() -> None:
    proc = install("--help")
    assert proc.returncode == 0
    for option in ("--dry-run", "--destdir", "--prefix", "--no-venv", "--enable"):
        assert option in proc.stdout


def uncommented_example() -> str:
    """The example with every commented-out table header and key enabled."""
    lines = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#(\[\[?\w+\]\]?|\w+ = .*)", line)
        lines.append(match.group(1) if match else line)
    return "\n".join(lines) + "\n"


def test_example_as_shipped_loads(tmp_path: Path) -> None:
    settings = load_settings(EXAMPLE, env={"SMSGW_STATE_DIR": str(tmp_path)})
    assert settings.modem == []


def test_example_documents_every_key_with_its_default(tmp_path: Path) -> None:
    path = tmp_path / "all.toml"
    path.write_text(uncommented_example(), encoding="utf-8")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for section, field in Settings.model_fields.items():
        model = ModemSection if section == "modem" else field.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        table = data["modem"][0] if section == "modem" else data[section]
        assert set(table) == set(model.model_fields), section
    enabled = load_settings(path, env={"SMSGW_STATE_DIR": str(tmp_path)})
    defaults = load_settings(EXAMPLE, env={"SMSGW_STATE_DIR": str(tmp_path)})
    # Uncommenting changes nothing but the modem list (and the placeholders below).
    assert enabled.api == defaults.api
    assert enabled.webhook.model_dump(exclude={"url"}) == defaults.webhook.model_dump(
        exclude={"url"}
    )
    assert enabled.limits == defaults.limits
    assert enabled.log == defaults.log
    assert enabled.modem[0] == ModemSection(name="sim800", port="/dev/smsgw/sim800")
