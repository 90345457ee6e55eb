"""udev/99-smsgw.rules: well-formed rules, the documented USB ids, and udev's own parser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "udev" / "99-smsgw.rules"
README = RULES.parent / "README.md"

# PROTOCOL.md §2.16 (bridges on SIM800 boards) and §3.1.3 (Huawei modem-mode ids).
BRIDGES = {("1a86", "7523"), ("10c4", "ea60"), ("067b", "2303"), ("0403", "6001")}
HUAWEI_MODEM_MODE = {"1001", "1506", "1436", "1c05", "14ac", "140c", "1406"}
# Storage mode (before usb_modeswitch) and HiLink have no AT port: never named.
HUAWEI_NO_AT_PORT = {"1446", "1f01", "14dc"}

MATCH_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "KERNELS", "ENV", "ATTR", "ATTRS"}
ASSIGN_KEYS = {"ENV", "GROUP", "MODE", "SYMLINK", "GOTO", "LABEL", "IMPORT"}
TOKEN = re.compile(r'\s*([A-Z]+)(?:\{([A-Za-z0-9_.]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*')


@dataclass(frozen=True)
class Token:
    key: str
    attr: str | None
    op: str
    value: str

    @property
    def is_match(self) -> bool:
        return self.op in ("==", "!=")


def rules() -> list[tuple[int, list[Token]]]:
    """(line number, tokens) for every rule line; fails on anything malformed."""
    parsed = []
    for number, raw in enumerate(RULES.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        assert not line.endswith("\\"), f"line {number}: keep each rule on one line"
        tokens, position = [], 0
        while position < len(line):
            match = TOKEN.match(line, position)
            assert match, f"line {number}: cannot parse at {line[position:]!r}"
            tokens.append(Token(*match.groups()))
            position = match.end()
            if position < len(line):
                assert line[position] == ",", f"line {number}: expected ',' at {position}"
                position += 1
        parsed.append((number, tokens))
    return parsed


def env(tokens: list[Token], name: str) -> str | None:
    for token in tokens:
        if token.key == "ENV" and token.attr == name and token.is_match:
            return token.value
    return None


def test_every_rule_is_well_formed() -> None:
    labels = [t.value for _, ts in rules() for t in ts if t.key == "LABEL"]
    gotos = {t.value for _, ts in rules() for t in ts if t.key == "GOTO"}
    assert len(labels) == len(set(labels)), "duplicate LABEL"
    assert gotos <= set(labels), f"GOTO without LABEL: {gotos - set(labels)}"
    for number, tokens in rules():
        for token in tokens:
            allowed = MATCH_KEYS if token.is_match else ASSIGN_KEYS
            assert token.key in allowed, f"line {number}: {token.key}{token.op} not expected"
            if token.key in ("ENV", "ATTR", "ATTRS", "IMPORT"):
                assert token.attr, f"line {number}: {token.key} needs {{name}}"
            if token.key in ("GOTO", "LABEL", "GROUP", "MODE") and not token.is_match:
                assert token.op == "=", f"line {number}: {token.key} takes '='"


def test_bridge_ids_are_exactly_the_documented_ones() -> None:
    found = set()
    for _, tokens in rules():
        if any(t.key == "ENV" and t.attr == "SMSGW_KIND" and t.value == "sim800" for t in tokens):
            vendor, model = env(tokens, "ID_VENDOR_ID"), env(tokens, "ID_MODEL_ID")
            assert vendor
            assert model
            found.add((vendor, model))
    assert found == BRIDGES


def test_a_bridge_is_named_only_where_the_user_marked_the_device() -> None:
    """CH340 & co. are generic chips: an unmarked one (an Arduino, a GPS) must not become
    /dev/smsgw/sim800 and be sent AT+CPIN."""
    naming = [
        tokens for _, tokens in rules() if Token("ENV", "SMSGW_KIND", "=", "sim800") in tokens
    ]
    assert len(naming) == len(BRIDGES)
    for tokens in naming:
        assert Token("ENV", "SMSGW_SIM800", "==", "1") in tokens
    # Nothing in the shipped file sets the mark: only the user's own rule does.
    assigned = [t for _, ts in rules() for t in ts if t.attr == "SMSGW_SIM800" and not t.is_match]
    assert assigned == []


def test_the_docs_show_how_to_mark_one_board_by_serial_or_path() -> None:
    deployment = (RULES.parents[1] / "docs" / "deployment.md").read_text(encoding="utf-8")
    examples = [
        line.strip()
        for line in deployment.splitlines()
        if "SMSGW_SIM800" in line and line.strip().startswith("SUBSYSTEM==")
    ]
    keys = set()
    for line in examples:
        tokens = [Token(*m.groups()) for m in TOKEN.finditer(line)]
        assert Token("ENV", "SMSGW_SIM800", "=", "1") in tokens, line
        keys |= {t.attr for t in tokens if t.is_match and t.key == "ENV"}
    assert {"ID_SERIAL_SHORT", "ID_PATH"} <= keys
    assert "98-smsgw-local.rules" in deployment


def huawei_products() -> list[set[str]]:
    lists = []
    for _, tokens in rules():
        vendor = env(tokens, "ID_VENDOR_ID")
        attr_vendor = next((t.value for t in tokens if t.attr == "idVendor" and t.is_match), None)
        if "12d1" in (vendor, attr_vendor):
            product = env(tokens, "ID_MODEL_ID") or next(
                t.value for t in tokens if t.attr == "idProduct"
            )
            lists.append(set(product.split("|")))
    return lists


def test_huawei_lists_cover_modem_mode_and_never_storage_or_hilink() -> None:
    lists = huawei_products()
    assert len(lists) == 3  # usb_device ignore, every port ignore, PCUI naming
    assert all(products == lists[0] for products in lists), "Huawei product lists differ"
    assert lists[0] >= HUAWEI_MODEM_MODE
    assert not lists[0] & HUAWEI_NO_AT_PORT
    assert all(re.fullmatch(r"[0-9a-f]{4}", product) for product in lists[0])


def test_huawei_port_is_chosen_by_interface_protocol_not_number() -> None:
    naming = [
        ts
        for _, ts in rules()
        if any(t.attr == "SMSGW_KIND" and t.value == "huawei" and not t.is_match for t in ts)
    ]
    assert len(naming) == 1
    tokens = naming[0]
    assert Token("ATTRS", "bInterfaceProtocol", "==", "02") in tokens
    assert Token("ATTRS", "bInterfaceClass", "==", "ff") in tokens
    assert not any(t.key == "KERNEL" for t in tokens)
    assert "ttyUSB2" not in RULES.read_text(encoding="utf-8")


def test_named_ports_are_hidden_from_modemmanager_and_in_dialout() -> None:
    tokens = [t for _, ts in rules() for t in ts]
    assert Token("ENV", "ID_MM_DEVICE_IGNORE", "=", "1") in tokens
    assert Token("GROUP", None, "=", "dialout") in tokens
    assert Token("SYMLINK", None, "+=", "smsgw/$env{SMSGW_KIND}") in tokens
    # The naming block is only reached with SMSGW_KIND set.
    lines = [(n, ts) for n, ts in rules()]
    gate = next(n for n, ts in lines if Token("ENV", "SMSGW_KIND", "!=", "?*") in ts)
    symlink_lines = [n for n, ts in lines if any(t.key == "SYMLINK" for t in ts)]
    assert symlink_lines
    assert all(n > gate for n in symlink_lines)


def test_readme_documents_every_id() -> None:
    text = README.read_text(encoding="utf-8")
    for vendor, product in BRIDGES:
        assert f"{vendor}:{product}" in text
    for product in huawei_products()[0]:
        assert product in text
    for product in HUAWEI_NO_AT_PORT:
        assert f"12d1:{product}" in text
    assert "/dev/serial0" in text
    assert "enable_uart=1" in text


def test_documented_ids_match_protocol_md(corpus_dir: Path) -> None:
    protocol = corpus_dir.parent / "PROTOCOL.md"
    if not protocol.is_file():
        pytest.skip("PROTOCOL.md not found beside the corpus")
    text = protocol.read_text(encoding="utf-8")
    section = next(line for line in text.splitlines() if line.startswith("| 2.16 |"))
    assert set(re.findall(r"`([0-9a-f]{4}):([0-9a-f]{4})`", section)) == BRIDGES
    modem_mode = next(line for line in text.splitlines() if line.startswith("| 3.1.3 |"))
    assert {p for _, p in re.findall(r"`(12d1):([0-9a-f]{4})`", modem_mode)} <= (
        huawei_products()[0]
    )


@pytest.mark.timeout(60)
def test_udevadm_parses_the_rules_without_complaint(tmp_path: Path) -> None:
    """Run udev's real rules parser on the file, in a private mount namespace.

    `udevadm test` reads /etc/udev/rules.d and writes /dev and /run/udev, so the rules
    directory is bind-mounted over and /dev, /run are fresh tmpfs that vanish with the
    namespace: nothing on the host changes.
    """
    udevadm, unshare = shutil.which("udevadm"), shutil.which("unshare")
    if udevadm is None or unshare is None:
        pytest.skip("udevadm or unshare not installed")
    if os.geteuid() != 0:
        pytest.skip("needs root for a private mount namespace")
    if not Path("/sys/class/tty/tty0").exists():
        pytest.skip("no /sys/class/tty/tty0 to run udevadm test against")
    rules_dir = tmp_path / "rules.d"
    rules_dir.mkdir()
    shutil.copy(RULES, rules_dir / RULES.name)
    script = (
        f"mount --bind {rules_dir} /etc/udev/rules.d && mount -t tmpfs none /run && "
        f"mount -t tmpfs none /dev && {udevadm} test --action=add /sys/class/tty/tty0"
    )
    proc = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    output = proc.stdout + proc.stderr
    if f"Reading rules file: /etc/udev/rules.d/{RULES.name}" not in output:
        pytest.skip(f"udevadm test did not read the rules here: {output.strip()[-300:]}")
    complaints = [line for line in output.splitlines() if f"{RULES.name}:" in line]
    assert complaints == []
