"""Show URLs without the secrets they may carry.

Webhook and database URLs routinely hold credentials: a password in the userinfo
(``https://user:pass@host/``), a token in the query (``?token=...``) or in the fragment.
Anything that shows a URL to a person or a log (log lines, ``smsgw config check``, the web
inbox, health answers) passes it through :func:`mask_url` first. Pure functions, no I/O, so
every layer may import them.
"""

from __future__ import annotations

import re
import urllib.parse

__all__ = ["MASK", "mask_url", "mask_urls_in"]

MASK = "********"

#: Query keys whose values are plain connection options, never secrets: shown as they are so
#: a masked database URL still says how it connects. Every other query value is masked, since
#: a secret-looking name cannot be guessed reliably (``sig``, ``k``, ``auth``, ``X-Amz-...``).
HARMLESS_QUERY_KEYS = frozenset(
    {
        "ssl",
        "sslmode",
        "connect_timeout",
        "timeout",
        "application_name",
        "charset",
        "mode",
        "cache",
        "uri",
        "check_same_thread",
        "prepared_statement_cache_size",
    }
)

_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")


def mask_url(url: str) -> str:
    """`url` with its userinfo password, query values (bar harmless options) and fragment
    replaced by :data:`MASK`. The scheme, user name, host, port and path stay readable.

    A URL that cannot be parsed is not shown at all (it might be a secret pasted in the
    wrong field).
    """
    if not url:
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
        password = parts.password
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if password is not None else f"{user}@{host}"
    query = "&".join(_mask_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    # Rebuilt by hand: urlunsplit drops an empty authority (``sqlite:////abs/path``).
    head = f"{parts.scheme}:" if parts.scheme else ""
    if url[len(head) :].startswith("//"):
        head += f"//{netloc}"
    return (
        head + parts.path + (f"?{query}" if query else "") + (f"#{MASK}" if parts.fragment else "")
    )


def _mask_pair(pair: str) -> str:
    key, separator, value = pair.partition("=")
    if not separator:
        return key if key.lower() in HARMLESS_QUERY_KEYS else MASK
    if key.lower() in HARMLESS_QUERY_KEYS or not value:
        return pair
    return f"{key}={MASK}"


def mask_urls_in(text: str) -> str:
    """`text` with every ``scheme://...`` URL in it masked by :func:`mask_url` (for messages
    written by libraries that print the URL they were given, like httpx's request log)."""
    return _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text)
