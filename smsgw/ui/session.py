"""Operator sign-in: a signed session cookie and CSRF tokens derived from the API key.

Why derived from the key: the gateway already has exactly one secret an operator knows, and
rotating it must sign everybody out. The cookie never holds the key (nor anything from which
it could be recovered): it holds a random session nonce and the issue time, authenticated
with HMAC-SHA256 under a key derived from the API key. CSRF tokens are another HMAC of the
same nonce, so a forged cross-site form cannot know them (the cookie is also SameSite=Strict;
that is the belt, the token is the braces).

Sessions also live server-side: a cookie counts only while its nonce is in the signer's
table. Signing out removes it, so a copied cookie dies with the sign-out instead of staying
valid until it expires; a changed key empties the table (changing it back revives nothing);
a restart signs everybody out. The table is bounded (`MAX_SESSIONS`, oldest dropped first).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["COOKIE_NAME", "LOGIN_COOKIE_NAME", "Session", "SessionSigner"]

COOKIE_NAME = "smsgw_ui"
#: Double-submit token for the sign-in form itself (there is no session to bind it to yet).
LOGIN_COOKIE_NAME = "smsgw_ui_login"
DEFAULT_MAX_AGE = 7 * 24 * 3600
#: Signed-in browsers remembered at once; one operator rarely has more than a few.
MAX_SESSIONS = 256


@dataclasses.dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: `nonce` identifies it, `issued` is a Unix time."""

    nonce: str
    issued: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues and checks session cookies and CSRF tokens under the *current* API key.

    `api_key` is read on every call, so a key changed at run time invalidates every session.
    """

    def __init__(
        self,
        api_key: Callable[[], str],
        *,
        max_age: int = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api_key = api_key
        self.max_age = max_age
        self._clock = clock
        self._live: OrderedDict[str, int] = OrderedDict()  # nonce -> issue time
        self._key_digest: bytes | None = None  # read lazily: the key may not exist yet

    def _current_key_digest(self) -> bytes:
        return hashlib.sha256(self._api_key().encode("utf-8")).digest()

    def _forget_all_if_key_changed(self) -> None:
        digest = self._current_key_digest()
        if self._key_digest is None or not hmac.compare_digest(digest, self._key_digest):
            self._live.clear()
            self._key_digest = digest

    def _secret(self, purpose: bytes) -> bytes:
        return hmac.new(self._api_key().encode("utf-8"), b"smsgw-ui/" + purpose, "sha256").digest()

    def _mac(self, purpose: bytes, payload: bytes) -> bytes:
        return hmac.new(self._secret(purpose), payload, hashlib.sha256).digest()

    def key_matches(self, presented: str) -> bool:
        """Constant-time check of a key typed into the sign-in form."""
        expected = self._api_key()
        if not presented or not expected:
            return False
        return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))

    def issue(self) -> tuple[Session, str]:
        """A new session and its cookie value."""
        self._forget_all_if_key_changed()
        session = Session(nonce=secrets.token_urlsafe(18), issued=int(self._clock()))
        self._live[session.nonce] = session.issued
        while len(self._live) > MAX_SESSIONS:
            self._live.popitem(last=False)
        payload = json.dumps({"n": session.nonce, "t": session.issued}).encode()
        return session, f"{_b64(payload)}.{_b64(self._mac(b'session', payload))}"

    def verify(self, cookie: str | None) -> Session | None:
        """The session a cookie proves, or None (missing, forged, old key, expired, signed
        out)."""
        self._forget_all_if_key_changed()
        if not cookie or cookie.count(".") != 1:
            return None
        encoded_payload, encoded_mac = cookie.split(".")
        try:
            payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(b"session", payload)):
            return None
        try:
            data = json.loads(payload)
            session = Session(nonce=str(data["n"]), issued=int(data["t"]))
        except (ValueError, KeyError, TypeError):
            return None
        age = self._clock() - session.issued
        if not 0 <= age <= self.max_age:
            self._live.pop(session.nonce, None)
            return None
        return session if self._live.get(session.nonce) == session.issued else None

    def revoke(self, session: Session) -> None:
        """Sign `session` out everywhere its cookie may have been copied to."""
        self._live.pop(session.nonce, None)

    def csrf_token(self, session: Session) -> str:
        return _b64(self._mac(b"csrf", session.nonce.encode()))

    def csrf_matches(self, session: Session, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            str(presented).encode(), self.csrf_token(session).encode()
        )

    @staticmethod
    def new_login_token() -> str:
        return secrets.token_urlsafe(18)
