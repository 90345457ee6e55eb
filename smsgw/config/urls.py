"""Database URLs checked before anything connects.

Why the configuration checks the database URL itself instead of leaving it to SQLAlchemy:
SQLAlchemy parses the URL only when the engine is made, deep inside `smsgw run` or
`smsgw db upgrade`, and a bad port or an unclosed IPv6 bracket then surfaces as a bare
`ValueError` traceback. Checked here, it is one line naming `database.url` from every command
that loads the configuration, `smsgw config check` included. The grammar mirrors
SQLAlchemy's (`dialect[+driver]://[user[:password]@][host][:port][/database][?query]`);
the configuration must not import SQLAlchemy itself (the CLI's start-up time on a Pi).

No message here ever repeats the URL: it may hold a password.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = ["check_database_url"]

_DATABASE_URL = re.compile(
    r"""
    (?P<scheme>[A-Za-z][\w+]*)://
    (?:(?P<user>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:
        (?:\[(?P<ipv6>[^/?]+)\]|(?P<host>[^/:?]+))?
        (?::(?P<port>[^/?]*))?
    )?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.VERBOSE | re.DOTALL,
)
_BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}
_EXAMPLES = "use sqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DB"


def check_database_url(value: str) -> str:
    """`value` stripped, or ValueError saying what is wrong with it (without repeating it).

    An empty URL is accepted: it means the SQLite file in the state directory.
    """
    url = value.strip()
    if not url:
        return url
    match = _DATABASE_URL.fullmatch(url)
    if match is None or any(char.isspace() or ord(char) < 32 for char in url):
        raise ValueError(f"is not a database URL; {_EXAMPLES}")
    backend = _BACKENDS.get(match["scheme"].partition("+")[0].lower())
    if backend is None:
        raise ValueError(f"the database must be SQLite or PostgreSQL; {_EXAMPLES}")
    host, port, ipv6 = match["host"], match["port"], match["ipv6"]
    server = url.partition("://")[2].split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    if ipv6 is None and ("[" in server or "]" in server):
        raise ValueError("an IPv6 host needs both brackets, e.g. postgresql://USER@[::1]/DB")
    if ipv6 is not None:
        try:
            ipaddress.IPv6Address(ipv6)
        except ValueError:
            raise ValueError("the host in [brackets] is not an IPv6 address") from None
    if host is not None and "@" in host:
        raise ValueError("the host contains '@': write an '@' inside the password as %40")
    if port is not None and not _is_port(port):
        raise ValueError("the port is not a number from 1 to 65535")
    if backend == "sqlite" and (match["user"] is not None or host or ipv6 or port is not None):
        raise ValueError(
            "an SQLite URL names a file, not a server: sqlite:///relative/path.db "
            "or sqlite:////absolute/path.db"
        )
    return url


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= 65535
