"""The CLI's client for a running daemon's REST API (`smsgw send` without `--port`).

Finding the daemon the way a user expects: `--api URL`, else `api.listen` of the
configuration; the key from `--key`, else `api.key` (`SMSGW_API__KEY` included), else the
key file the daemon generated in the state directory. Every failure becomes one clear
`ApiClientError` line instead of an httpx traceback.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from smsgw import config as smsgw_config
from smsgw.config import Settings

__all__ = ["ApiClient", "ApiClientError", "ApiTarget", "resolve_target"]

_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class ApiClientError(Exception):
    """The request could not be made or the API refused it; the message says why.

    `fatal` means no further request can succeed either (daemon unreachable, key refused),
    as opposed to the API refusing this one request (422, 429).
    """

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


@dataclasses.dataclass(frozen=True, slots=True)
class ApiTarget:
    url: str
    key: str


def api_url(settings: Settings) -> str:
    """Where a local client reaches the daemon listening on `api.listen`."""
    host = _WILDCARDS.get(settings.api.host, settings.api.host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.api.port}"


def resolve_target(
    settings: Settings,
    *,
    url: str | None,
    key: str | None,
    state_dir: Path | None = None,
) -> ApiTarget:
    """The API to talk to and the key to use; ApiClientError when no key can be found."""
    if key:
        return ApiTarget(url=(url or api_url(settings)).rstrip("/"), key=key)
    configured = settings.api.key.get_secret_value()
    if configured:
        return ApiTarget(url=(url or api_url(settings)).rstrip("/"), key=configured)
    key_file = (state_dir or smsgw_config.state_dir()) / smsgw_config.API_KEY_FILENAME
    try:
        stored = key_file.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        raise ApiClientError(
            f"no API key: pass --key, set SMSGW_API__KEY, or run as a user who can read "
            f"{key_file} (the daemon writes it at first start)"
        ) from None
    except OSError as exc:
        raise ApiClientError(
            f"cannot read the API key file {key_file}: {exc.strerror or exc} "
            "(pass --key or set SMSGW_API__KEY)"
        ) from None
    if not stored:
        raise ApiClientError(f"the API key file {key_file} is empty")
    return ApiTarget(url=(url or api_url(settings)).rstrip("/"), key=stored)


class ApiClient:
    """A small synchronous client; use as a context manager."""

    def __init__(self, target: ApiTarget, *, timeout: float = 10.0) -> None:
        self.target = target
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
        self._http = httpx.Client(
            base_url=target.url,
            headers={"X-API-Key": target.key},
            timeout=timeout,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.close()

    def send(
        self,
        *,
        to: str,
        text: str,
        modem: str | None = None,
        delivery_report: bool = True,
        idempotency_key: str | None = None,
        idempotency_window: datetime.timedelta | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST /api/v1/messages; the 202 body. With `idempotency_window` the daemon forgets
        the key after that long (a message with the same key before then is not sent).
        `options` are more body fields: send_at, validity, flash, encoding."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        if idempotency_key and idempotency_window is not None:
            headers["Idempotency-Window"] = str(int(idempotency_window.total_seconds()))
        body = {"to": to, "text": text, "modem": modem, "delivery_report": delivery_report}
        body.update(options or {})
        return self._request("POST", "/api/v1/messages", json=body, headers=headers)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body to an API path; the JSON answer (ApiClientError on 4xx/5xx)."""
        return self._request("POST", path, json=body)

    def delete(self, path: str) -> dict[str, Any]:
        return self._request("DELETE", path)

    def message(self, message_id: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v1/messages/{message_id}")

    def quarantine(
        self, *, limit: int, before: int | None = None, modem: str | None = None
    ) -> dict[str, Any]:
        """GET /api/v1/quarantine: one page, newest first (`next_before` for the next)."""
        params: dict[str, str | int] = {"limit": limit}
        if before is not None:
            params["before"] = before
        if modem is not None:
            params["modem"] = modem
        return self._request("GET", "/api/v1/quarantine", params=params)

    def clear_quarantined(self, entry_id: int) -> dict[str, Any]:
        """DELETE /api/v1/quarantine/{id}: the entry that was cleared."""
        return self._request("DELETE", f"/api/v1/quarantine/{entry_id}")

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.InvalidURL as exc:
            raise ApiClientError(f"bad API URL {self.target.url!r}: {exc}", fatal=True) from None
        except httpx.TimeoutException:
            raise ApiClientError(
                f"the smsgw API at {self.target.url} did not answer", fatal=True
            ) from None
        except httpx.HTTPError as exc:
            raise ApiClientError(
                f"cannot reach the smsgw API at {self.target.url} ({exc}); "
                "is `smsgw run` running? (--api URL to point elsewhere)",
                fatal=True,
            ) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code == 401:
            raise ApiClientError(f"the API at {self.target.url} refused the key (401)", fatal=True)
        if response.is_error:
            detail = data.get("detail") if isinstance(data, dict) else response.text[:200]
            raise ApiClientError(f"{response.status_code}: {_detail_text(detail)}")
        if not isinstance(data, dict):
            raise ApiClientError(f"unexpected answer from {self.target.url}{path}")
        return data


def _detail_text(detail: object) -> str:
    """FastAPI's validation list flattened to `field: message; ...`, strings as they are."""
    if isinstance(detail, list):
        parts = []
        for error in detail:
            if isinstance(error, dict):
                location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
                parts.append(f"{location}: {error.get('msg', '')}" if location else str(error))
        return "; ".join(parts) or "invalid request"
    return str(detail)
