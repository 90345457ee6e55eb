"""uvicorn's access log without query strings.

uvicorn logs ``"GET /path?query HTTP/1.1" 200`` for every request; a query may carry a key
(``?api_key=``, a token pasted by a client library), so only the path is kept and the query
becomes ``?…``. Installed as a filter on the ``uvicorn.access`` logger, which is where every
access line passes whatever handler the logging set-up attaches.
"""

from __future__ import annotations

import logging

__all__ = ["QUERY_SHOWN_AS", "install_access_log_filter"]

QUERY_SHOWN_AS = "?…"
_ACCESS_ARGS = 5  # client, method, path with query, HTTP version, status


class _DropQuery(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == _ACCESS_ARGS and isinstance(args[2], str):
            path, separator, _ = args[2].partition("?")
            shown = path + (QUERY_SHOWN_AS if separator else "")
            record.args = (args[0], args[1], shown, *args[3:])
        return True


def install_access_log_filter(logger_name: str = "uvicorn.access") -> None:
    """Idempotent: each app creation calls it, the logger keeps one filter."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, _DropQuery) for existing in logger.filters):
        logger.addFilter(_DropQuery())
