"""Loading the TOML file with SMSGW_* overrides: values, precedence and error reports."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from smsgw.config import DatabaseSection, InvalidConfig, Settings, load_settings
from smsgw.exceptions import ConfigError

FULL = """
[database]
url = "postgresql+asyncpg://smsgw:hunter2@db.example/smsgw"

[api]
listen = "0.0.0.0:9090"
key = "k-123-0123456789abc"
default_region = "de"

[webhook]
url = "https://hooks.example/sms"
secret = "s3cret"
history_size = 20
timeout = "15s"
max_age = "2d"

[limits]
daily_per_modem = 500
max_parts = 3
replies_per_peer_per_hour = 4

[node]
name = "pi-7"

[log]
level = "DEBUG"

[[modem]]
name = "sim800"
port = "/dev/smsgw/sim800"
baud = 57600
pin = "1234"
dialect = "sim800"
sweep_interval = "10m"

[[modem]]
name = "e173"
port = "/dev/smsgw/e173"
"""


def write(tmp_path: Path, text: str, name: str = "smsgw.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path | None, env: dict[str, str] | None = None) -> list[ConfigError]:
    with pytest.raises(InvalidConfig) as caught:
        load_settings(path, env=env or {})
    return caught.value.problems


def only_problem(path: Path | None, env: dict[str, str] | None = None) -> ConfigError:
    problems = problems_of(path, env)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_every_section_is_read_from_the_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL), env={})
    assert settings.database.url == "postgresql+asyncpg://smsgw:hunter2@db.example/smsgw"
    assert (settings.api.host, settings.api.port) == ("0.0.0.0", 9090)
    assert settings.api.key.get_secret_value() == "k-123-0123456789abc"
    assert settings.api.default_region == "DE"
    assert settings.webhook.url == "https://hooks.example/sms"
    assert settings.webhook.secret.get_secret_value() == "s3cret"
    assert settings.webhook.history_size == 20
    assert settings.webhook.timeout == 15.0
    assert settings.webhook.max_age == timedelta(days=2)
    assert settings.limits.daily_per_modem == 500
    assert settings.limits.max_parts == 3
    assert settings.limits.replies_per_peer_per_hour == 4
    assert settings.node.name == "pi-7"
    assert settings.log.level == "debug"
    assert [m.name for m in settings.modem] == ["sim800", "e173"]
    first, second = settings.modem
    assert (first.port, first.baud, first.dialect) == ("/dev/smsgw/sim800", 57600, "sim800")
    assert first.pin.get_secret_value() == "1234"
    assert first.sweep_interval == timedelta(minutes=10)
    assert (second.baud, second.dialect, second.pin.get_secret_value()) == (115200, "auto", "")
    assert settings.modem_named("e173") is second
    with pytest.raises(KeyError):
        settings.modem_named("nope")


def test_defaults_without_file_follow_the_contract(tmp_path: Path) -> None:
    env = {"SMSGW_STATE_DIR": str(tmp_path / "state")}
    settings = load_settings(write(tmp_path, ""), env=env)
    assert settings.api.listen == "127.0.0.1:8080"
    assert settings.api.key.get_secret_value() == ""
    assert settings.api.default_region == ""  # no country is guessed
    assert settings.webhook.history_size == 10
    assert settings.webhook.timeout == 10.0
    assert settings.webhook.max_age == timedelta(hours=48)
    assert (settings.limits.daily_per_modem, settings.limits.max_parts) == (10000, 6)
    assert settings.limits.replies_per_peer_per_hour == 30
    assert settings.modem == []
    assert settings.database.url == f"sqlite:///{tmp_path / 'state' / 'smsgw.db'}"


def test_node_name_defaults_to_the_hostname(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("socket.gethostname", lambda: "raspberrypi")
    assert load_settings(write(tmp_path, ""), env={}).node.name == "raspberrypi"


def test_environment_overrides_single_keys_and_keeps_the_rest(tmp_path: Path) -> None:
    env = {
        "SMSGW_API__LISTEN": "[::1]:8443",
        "smsgw_webhook__max_age": "90s",
        "SMSGW_LIMITS__MAX_PARTS": "2",
        "PATH": "/usr/bin",
        "SMSGW_STATE_DIR": str(tmp_path),
    }
    settings = load_settings(write(tmp_path, FULL), env=env)
    assert (settings.api.host, settings.api.port) == ("::1", 8443)
    assert (
        settings.api.key.get_secret_value() == "k-123-0123456789abc"
    )  # same section, from the file
    assert settings.webhook.max_age == timedelta(seconds=90)
    assert settings.webhook.history_size == 20
    assert settings.limits.max_parts == 2
    assert settings.limits.daily_per_modem == 500


def test_smsgw_modem_json_replaces_the_file_list(tmp_path: Path) -> None:
    env = {"SMSGW_MODEM": '[{"name": "hw", "port": "/dev/ttyUSB2", "dialect": "huawei"}]'}
    settings = load_settings(write(tmp_path, FULL), env=env)
    assert [(m.name, m.port, m.dialect) for m in settings.modem] == [
        ("hw", "/dev/ttyUSB2", "huawei")
    ]


def test_a_section_can_be_set_as_a_json_object(tmp_path: Path) -> None:
    env = {"SMSGW_LIMITS": '{"max_parts": 1, "daily_per_modem": 7}'}
    settings = load_settings(write(tmp_path, FULL), env=env)
    assert (settings.limits.max_parts, settings.limits.daily_per_modem) == (1, 7)
    assert settings.limits.replies_per_peer_per_hour == 4


@pytest.mark.parametrize(
    ("toml", "key", "fragment"),
    [
        ("[api]\nlisten = 'localhost'", "api.listen", "HOST:PORT"),
        ("[api]\nlisten = '127.0.0.1:0'", "api.listen", "outside 1-65535"),
        ("[api]\ndefault_region = 'Romania'", "api.default_region", "two-letter"),
        ("[webhook]\nhistory_size = 7", "webhook.history_size", "0, 5, 10, 20 or 50"),
        ("[webhook]\nmax_age = '2 days'", "webhook.max_age", "not a duration"),
        ("[webhook]\nmax_age = '0s'", "webhook.max_age", "longer than 0s"),
        ("[webhook]\ntimeout = 0", "webhook.timeout", "greater than 0"),
        ("[webhook]\nurl = 'ftp://x/y'", "webhook.url", "http"),
        ("[limits]\nmax_parts = 0", "limits.max_parts", "greater than or equal to 1"),
        ("[limits]\ndaily_per_modem = 'lots'", "limits.daily_per_modem", "integer"),
        ("[database]\nurl = 'mysql://x'", "database.url", "sqlite:///PATH"),
        ("[database]\nurl = 'postgresql://u@db:5432x/s'", "database.url", "port is not"),
        ("[database]\nurl = 'postgresql://u@db:0/s'", "database.url", "port is not"),
        ("[database]\nurl = 'postgresql://u@[db]/s'", "database.url", "not an IPv6"),
        ("[database]\nurl = 'postgresql://u@::1]/s'", "database.url", "both brackets"),
        ("[database]\nurl = 'postgresql://u:p@ss@db/s'", "database.url", "%40"),
        ("[database]\nurl = 'sqlite://host/x.db'", "database.url", "names a file"),
        ("[database]\nurl = 'smsgw.db'", "database.url", "not a database URL"),
        ("[database]\nurl = 'sqlite:///a b.db'", "database.url", "not a database URL"),
        ("[api]\nkey = 'abc'", "api.key", "is 3 characters long; use at least 16"),
        ("[api]\nkey = '0123456789abcde'", "api.key", "is 15 characters long"),
        ("[node]\nname = 'has space'", "node.name", "not a node name"),
        ("[log]\nlevel = 'loud'", "log.level", "debug"),
        ("[api]\nkye = 'x'", "api.kye", "did you mean 'key'"),
        ("[webhok]\nurl = ''", "webhok", "did you mean 'webhook'"),
        ("[api]\nlisten = ['a']", "api.listen", "string"),
        ("api = 3", "api", "table"),
        ("database = 'sqlite:///x.db'", "database", "table"),
        ("[modem]\nname = 'x'", "modem", "list of [[modem]] tables"),
        ("[api]\nkey = 'two words'", "api.key", "without spaces"),
        ("[webhook]\nsecret = 'caf\u00e9'", "webhook.secret", "printable ASCII"),
    ],
)
def test_bad_values_name_file_key_and_problem(
    tmp_path: Path, toml: str, key: str, fragment: str
) -> None:
    path = write(tmp_path, toml)
    problem = only_problem(path)
    assert problem.file == str(path)
    assert problem.key == key
    assert fragment in str(problem)
    assert str(problem).startswith(f"{path}: {key}: ")


@pytest.mark.parametrize(
    ("modem_extra", "key", "fragment"),
    [
        ("baud = 1234", "modem[1].baud", "not one of"),
        ("baud = 'fast'", "modem[1].baud", "integer"),
        ("dialect = 'nokia'", "modem[1].dialect", "'auto', 'sim800', 'huawei' or 'generic'"),
        ("pin = '12'", "modem[1].pin", "4 to 8 digits"),
        ("sweep_interval = '0s'", "modem[1].sweep_interval", "at least 1s"),
        ("colour = 'red'", "modem[1].colour", "unknown key"),
        ("number = 'call me'", "modem[1].number", "not a phone number"),
        ("name = 'sim800'", "modem[1].name", "duplicate modem name 'sim800'"),
        ("port = '/dev/smsgw/sim800'", "modem[1].port", "already used by modem[0]"),
    ],
)
def test_modem_problems_are_indexed(
    tmp_path: Path, modem_extra: str, key: str, fragment: str
) -> None:
    base = "[[modem]]\nname = 'sim800'\nport = '/dev/smsgw/sim800'\n"
    second = "[[modem]]\nname = 'e173'\nport = '/dev/ttyUSB2'\n"
    lines = [line for line in second.splitlines() if line.split(" = ")[0] not in modem_extra]
    path = write(tmp_path, base + "\n".join([*lines, modem_extra]) + "\n")
    problem = only_problem(path)
    assert problem.key == key
    assert fragment in str(problem)


@pytest.mark.parametrize(
    ("line", "number"),
    [("", None), ("number = ''", None), ("number = '+40 721 000 000'", "+40721000000")],
)
def test_modem_number_is_optional_and_normalised(
    tmp_path: Path, line: str, number: str | None
) -> None:
    path = write(tmp_path, f"[[modem]]\nname = 'sim0'\nport = '/dev/ttyS0'\n{line}\n")
    assert load_settings(path, env={}).modem[0].number == number


def test_a_modem_without_name_or_port_reports_both(tmp_path: Path) -> None:
    path = write(tmp_path, "[[modem]]\nbaud = 9600\n")
    assert sorted(p.key or "" for p in problems_of(path)) == ["modem[0].name", "modem[0].port"]


def test_all_problems_are_reported_not_just_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, "[api]\nlisten = 'x'\n[limits]\nmax_parts = -1\n[node]\nnmae = 'a'\n")
    keys = {p.key for p in problems_of(path)}
    assert keys == {"api.listen", "limits.max_parts", "node.nmae"}


def test_secrets_never_appear_in_error_messages(tmp_path: Path) -> None:
    path = write(tmp_path, "[[modem]]\nname = 'a'\nport = 'p'\npin = 'x9x9-secret'\n")
    problem = only_problem(path)
    assert problem.key == "modem[0].pin"
    assert "x9x9-secret" not in str(problem)


def test_env_problems_name_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    problem = only_problem(path, {"SMSGW_LIMITS__MAX_PARTS": "many"})
    assert problem.file == "env SMSGW_LIMITS__MAX_PARTS"
    assert problem.key == "limits.max_parts"
    assert "'many'" in str(problem)


@pytest.mark.parametrize(
    ("name", "value", "key", "fragment"),
    [
        ("SMSGW_API__KYE", "x", "api.kye", "did you mean 'key'"),
        ("SMSGW_WEBHOK__URL", "x", "webhok", "did you mean 'webhook'"),
        ("SMSGW_MODEM__0__BAUD", "9600", "modem", "JSON array"),
        ("SMSGW_MODEM", "[{", "modem", "JSON array"),
        ("SMSGW_API", "not json", "api", "JSON object"),
    ],
)
def test_bad_environment_variables_are_errors(
    tmp_path: Path, name: str, value: str, key: str, fragment: str
) -> None:
    problem = only_problem(write(tmp_path, ""), {name: value})
    assert problem.file == f"env {name}"
    assert problem.key == key
    assert fragment in str(problem)


def test_env_and_file_problems_are_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nmax_parts = 0\n")
    problems = problems_of(path, {"SMSGW_MODEM": "[", "SMSGW_API__LISTEN": "nowhere"})
    assert {(p.file, p.key) for p in problems} == {
        ("env SMSGW_MODEM", "modem"),
        ("env SMSGW_API__LISTEN", "api.listen"),
        (str(path), "limits.max_parts"),
    }


def test_unrelated_smsgw_variables_are_ignored(tmp_path: Path) -> None:
    env = {"SMSGW_STATE_DIR": str(tmp_path), "SMSGW_API_URL": "http://x", "SMSGW_DEBUG": "1"}
    assert load_settings(write(tmp_path, ""), env=env).modem == []


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"[api\nlisten = 1", "not valid TOML"),
        (b"\xff\xfe[api]", "not UTF-8"),
    ],
)
def test_unreadable_files_are_config_errors(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    problem = only_problem(path)
    assert problem.file == str(path)
    assert fragment in str(problem)


def test_missing_or_directory_path_is_a_config_error(tmp_path: Path) -> None:
    assert "file not found" in str(only_problem(tmp_path / "absent.toml"))
    assert "directory" in str(only_problem(tmp_path))


def test_invalid_config_is_a_config_error_whose_text_is_the_first_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "[api]\nlisten = 'x'\n[limits]\nmax_parts = 0\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert isinstance(caught.value, InvalidConfig)
    assert str(caught.value) == str(caught.value.problems[0])
    assert caught.value.key == caught.value.problems[0].key


def test_settings_are_immutable(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL), env={})
    with pytest.raises(ValueError, match="frozen"):
        settings.limits.max_parts = 9
    assert isinstance(settings, Settings)


def test_direct_construction_reads_the_environment_and_fills_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSGW_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("SMSGW_LIMITS__MAX_PARTS", "4")
    settings = Settings()
    assert settings.limits.max_parts == 4
    assert settings.database.url == f"sqlite:///{tmp_path / 'smsgw.db'}"
    explicit = Settings(database=DatabaseSection(url="sqlite:///elsewhere.db"))
    assert explicit.database.url == "sqlite:///elsewhere.db"
    assert Settings(database=DatabaseSection()).database.url == settings.database.url


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///relative.db",
        "sqlite:////var/lib/smsgw/smsgw.db",
        "sqlite+aiosqlite:///x.db?timeout=5",
        "postgresql+asyncpg://smsgw:p%40ss@db.example:5432/smsgw",
        "postgresql://smsgw@[::1]:5432/smsgw",
        "postgres://smsgw@localhost/smsgw",
        "postgresql:///smsgw?host=/run/postgresql",
    ],
)
def test_database_urls_that_sqlalchemy_reads_are_accepted(tmp_path: Path, url: str) -> None:
    settings = load_settings(write(tmp_path, f"[database]\nurl = '{url}'\n"), env={})
    assert settings.database.url == url


def test_no_database_url_problem_repeats_the_password(tmp_path: Path) -> None:
    for url in ("postgresql://gw:hunter2@db:x/s", "postgresql://gw:hunter2@[::1/s", "pg:hunter2"):
        problem = only_problem(write(tmp_path, f"[database]\nurl = '{url}'\n"))
        assert problem.key == "database.url"
        assert "hunter2" not in str(problem)


def test_api_key_of_16_characters_or_empty_is_accepted(tmp_path: Path) -> None:
    strong = load_settings(write(tmp_path, "[api]\nkey = '0123456789abcdef'\n"), env={})
    assert strong.api.key.get_secret_value() == "0123456789abcdef"
    generated_later = load_settings(write(tmp_path, "[api]\nkey = ''\n"), env={})
    assert generated_later.api.key.get_secret_value() == ""


def test_a_short_api_key_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, ""), env={"SMSGW_API__KEY": "1"})
    assert str(problem) == (
        "env SMSGW_API__KEY: api.key: is 1 characters long; use at least 16 "
        "(e.g. `openssl rand -hex 16`), or leave api.key empty to have one generated"
    )
