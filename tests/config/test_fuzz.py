"""Any TOML the admin might write gives Settings or a typed, located error: never a crash."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.config import ApiSection, InvalidConfig, ModemSection, Settings, WebhookSection
from smsgw.config import load_settings as load
from smsgw.config.urls import check_database_url
from smsgw.store import normalise_url

KNOWN_KEYS = sorted(
    {*ApiSection.model_fields, *WebhookSection.model_fields, *ModemSection.model_fields}
    | {"url", "level", "max_parts", "daily_per_modem", "replies_per_peer_per_hour"}
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
scalars = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=30),
    st.sampled_from(["90s", "48h", "2x", "127.0.0.1:8080", "[::1]:1", "auto", "sim800", "1234"]),
    st.lists(st.integers(min_value=0, max_value=9), max_size=3),
)
tables = st.dictionaries(keys, scalars, max_size=6)
sections = st.sampled_from([*Settings.model_fields, "webhok"])
documents = st.tuples(
    st.dictionaries(sections.filter(lambda s: s != "modem"), tables, max_size=5),
    st.lists(tables, max_size=3),
)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def render(document: tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]) -> str:
    tables_, modems = document
    lines = []
    for name, table in tables_.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    for modem in modems:
        lines.append("[[modem]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in modem.items()]
    return "\n".join(lines) + "\n"


@settings(deadline=None, max_examples=150)
@given(documents)
def test_arbitrary_documents_load_or_fail_with_located_problems(
    document: tuple[dict[str, dict[str, Any]], list[dict[str, Any]]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "smsgw.toml"
        path.write_text(render(document), encoding="utf-8")
        result = outcome(path, directory)
    if isinstance(result, InvalidConfig):
        assert result.problems
        for problem in result.problems:
            assert str(problem).startswith(f"{path}: ")
            assert problem.key or "not valid TOML" in str(problem)
    else:
        assert isinstance(result, Settings)


def outcome(path: Path, directory: str) -> Settings | InvalidConfig:
    try:
        return load(path, env={"SMSGW_STATE_DIR": directory})
    except InvalidConfig as exc:
        return exc


env_names = st.one_of(
    st.sampled_from(
        [
            "SMSGW_API__LISTEN",
            "SMSGW_WEBHOOK__MAX_AGE",
            "SMSGW_LIMITS__MAX_PARTS",
            "SMSGW_MODEM",
            "SMSGW_API",
            "SMSGW_NODE__NAME",
            "SMSGW_LOG__LEVEL",
        ]
    ),
    st.from_regex(r"SMSGW_[A-Z]{1,8}(__[A-Z_]{1,8})?", fullmatch=True),
)
env_values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(['[{"name": "a", "port": "p"}]', "[1]", "{}", '{"listen": 1}', "null"]),
)


@settings(deadline=None, max_examples=100)
@given(st.dictionaries(env_names, env_values, max_size=4))
def test_arbitrary_environment_loads_or_fails_naming_the_variable(env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "empty.toml"
        path.write_text("", encoding="utf-8")
        try:
            load(path, env={**env, "SMSGW_STATE_DIR": directory})
        except InvalidConfig as exc:
            problems = exc.problems
        else:
            problems = []
    for problem in problems:
        assert problem.file is not None
        assert problem.file.startswith("env SMSGW_"), str(problem)


url_pieces = st.sampled_from(
    [
        "sqlite",
        "postgresql",
        "postgres",
        "+asyncpg",
        "://",
        ":",
        "@",
        "/",
        "[",
        "]",
        "::1",
        "?",
        "db",
        "u",
        "p%40",
        "5432",
        "0",
        "99999",
        "x.db",
        "=",
        "&",
        "host=/run",
    ]
)


@settings(deadline=None, max_examples=400)
@given(st.lists(url_pieces, min_size=1, max_size=10).map("".join))
def test_a_database_url_the_config_accepts_is_one_the_store_can_open(url: str) -> None:
    """The configuration's own URL check (it may not import SQLAlchemy) never lets through
    a URL that the store then refuses or SQLAlchemy fails to parse."""
    try:
        check_database_url(url)
    except ValueError:
        return
    assert normalise_url(url).get_backend_name() in ("sqlite", "postgresql")
