"""deploy/install.sh on an upgrade: a configured port that the new rules or unit no longer
give smsgw by themselves gets a warning with the exact step, and the step printed works.

Two such ports: `/dev/smsgw/sim800` (a USB-serial bridge is named so only once a local udev
rule marks it) and a built-in UART (`/dev/ttyAMA*`, `/dev/ttyS*`, `/dev/serial0`, which the
unit's device policy allows only through a drop-in). Run into a DESTDIR holding the admin's
existing config, local rules and drop-ins.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.test_install import install

pytestmark = pytest.mark.timeout(60)

LOCAL_RULES = "etc/udev/rules.d/98-smsgw-local.rules"
DROPIN = "etc/systemd/system/smsgw.service.d/uart.conf"
MARKED = (
    'SUBSYSTEM=="tty", ENV{ID_PATH}=="platform-xhci-hcd.0-usb-0:1.3:1.0", ENV{SMSGW_SIM800}="1"\n'
)


def _upgrade(root: Path, ports: list[str], files: dict[str, str] | None = None) -> list[str]:
    """Install over an existing config naming `ports` (and the admin's `files`); the
    warnings printed, one string each."""
    config = root / "etc/smsgw/smsgw.toml"
    if not config.exists():
        config.parent.mkdir(parents=True)
        config.write_text(
            "".join(f'[[modem]]\nname = "m{n}"\nport = "{port}"\n' for n, port in enumerate(ports)),
            encoding="utf-8",
        )
    for relative, text in (files or {}).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    proc = install("--destdir", str(root))
    assert proc.returncode == 0, proc.stderr
    return [block for block in proc.stdout.split("\n\n") if block.startswith("warning:")]


def _follow(warning: str, root: Path) -> None:
    """Run the steps a warning prints that write files, against `root` instead of /."""
    for line in warning.splitlines():
        command = line.strip()
        if "sudo tee -a" not in command and not command.startswith("sudo mkdir"):
            continue
        command = command.replace("<ID_PATH>", "platform-3f980000.usb-usb-0:1.2:1.0")
        command = command.replace("sudo ", "").replace(" /etc/", f" {root}/etc/")
        subprocess.run(["bash", "-c", command], check=True, timeout=10)


@pytest.mark.parametrize("port", ["/dev/smsgw/sim800", "/dev/smsgw/sim800-1-1.3"])
def test_a_sim800_port_without_a_local_marking_rule_is_warned_about(
    tmp_path: Path, port: str
) -> None:
    [warning] = _upgrade(tmp_path, [port])
    assert f'port = "{port}"' in warning
    assert "/etc/udev/rules.d/98-smsgw-local.rules" in warning
    assert 'ENV{SMSGW_SIM800}="1"' in warning
    assert "udevadm info -q property -n /dev/ttyUSB0" in warning
    assert "sudo udevadm control --reload && sudo udevadm trigger --action=add" in warning

    _follow(warning, tmp_path)  # the step it prints is the one that silences it
    assert 'ENV{SMSGW_SIM800}="1"' in (tmp_path / LOCAL_RULES).read_text(encoding="utf-8")
    assert _upgrade(tmp_path, [port]) == []


@pytest.mark.parametrize(
    ("files", "warned"),
    [
        ({LOCAL_RULES: MARKED}, False),
        ({"etc/udev/rules.d/90-my-boards.rules": MARKED}, False),  # any local file counts
        ({LOCAL_RULES: "# " + MARKED}, True),  # only a commented-out example
        ({LOCAL_RULES: 'SUBSYSTEM=="tty", KERNELS=="1-1.3", SYMLINK+="smsgw/shop"\n'}, True),
    ],
    ids=["marked", "marked-elsewhere", "commented-out", "other-rules-only"],
)
def test_a_local_rule_that_marks_a_board_silences_the_sim800_warning(
    tmp_path: Path, files: dict[str, str], warned: bool
) -> None:
    warnings = _upgrade(tmp_path, ["/dev/smsgw/sim800"], files)
    assert bool(warnings) is warned, warnings


@pytest.mark.parametrize("device", ["/dev/ttyAMA0", "/dev/ttyS0"])
def test_a_uart_port_without_a_drop_in_is_warned_about_with_its_exact_device_allow(
    tmp_path: Path, device: str
) -> None:
    [warning] = _upgrade(tmp_path, [device])
    assert f'port = "{device}"' in warning
    assert "built-in" in warning
    assert f"printf '[Service]\\nDeviceAllow={device} rw\\n'" in warning
    assert f"/{DROPIN}" in warning
    assert "sudo systemctl daemon-reload && sudo systemctl restart smsgw" in warning

    _follow(warning, tmp_path)
    assert (tmp_path / DROPIN).read_text(encoding="utf-8") == (
        f"[Service]\nDeviceAllow={device} rw\n"
    )
    assert _upgrade(tmp_path, [device]) == []


def test_serial0_names_both_uarts_when_it_cannot_be_resolved(tmp_path: Path) -> None:
    [warning] = _upgrade(tmp_path, ["/dev/serial0"])
    assert "ls -l /dev/serial0" in warning
    assert "ttyAMA0 for the PL011" in warning
    assert "ttyS0 for the mini UART" in warning
    assert "DeviceAllow=/dev/ttyAMA0 rw" in warning


@pytest.mark.parametrize(
    ("port", "allow", "warned"),
    [
        ("/dev/ttyAMA0", "DeviceAllow=/dev/ttyAMA0 rw", False),
        ("/dev/ttyS0", "DeviceAllow=char-ttyS rw", False),
        ("/dev/ttyAMA0", "DeviceAllow=/dev/ttyS0 rw", True),  # the other UART
        ("/dev/ttyAMA0", "#DeviceAllow=/dev/ttyAMA0 rw", True),
        ("/dev/serial0", "DeviceAllow=/dev/ttyS0 rw", False),
        ("/dev/serial0", "DeviceAllow=/dev/serial0 rw", False),
        ("/dev/serial0", "DeviceAllow=char-ttyUSB rw", True),
    ],
)
def test_a_drop_in_allowing_the_uart_silences_the_warning(
    tmp_path: Path, port: str, allow: str, warned: bool
) -> None:
    files = {"etc/systemd/system/smsgw.service.d/override.conf": f"[Service]\n{allow}\n"}
    warnings = _upgrade(tmp_path, [port], files)
    assert bool(warnings) is warned, warnings


def test_usb_ports_and_commented_out_ports_need_nothing(tmp_path: Path) -> None:
    config = tmp_path / "etc/smsgw/smsgw.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '[[modem]]\nname = "h"\nport = "/dev/smsgw/huawei"\n'
        "[[modem]]\nname = 'u'\nport = '/dev/ttyUSB0'\n"
        '#port = "/dev/smsgw/sim800"\n# port = "/dev/ttyAMA0"\n',
        encoding="utf-8",
    )
    assert _upgrade(tmp_path, []) == []


def test_a_fresh_install_warns_about_nothing(tmp_path: Path) -> None:
    proc = install("--destdir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "warning:" not in proc.stdout


def test_several_problems_are_each_warned_about_after_the_next_steps(tmp_path: Path) -> None:
    warnings = _upgrade(tmp_path, ["/dev/smsgw/sim800", "/dev/ttyS0", "/dev/smsgw/huawei"])
    named = [match.group(1) for w in warnings if (match := re.search(r'port = "([^"]+)"', w))]
    assert named == ["/dev/smsgw/sim800", "/dev/ttyS0"], warnings
    proc = install("--dry-run", "--destdir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.index("Next steps") < proc.stdout.index("warning:")
    assert proc.stdout.count("\nwarning: ") == 2  # a dry run checks the same
