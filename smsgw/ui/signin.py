"""Signing in to the inbox with the API key, and out again."""

from __future__ import annotations

import asyncio
import secrets

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from smsgw.gateway.throttle import AuthThrottle, client_address
from smsgw.ui.pages import SECURITY_HEADERS, UI_PREFIX, Form, PageKit
from smsgw.ui.session import COOKIE_NAME, LOGIN_COOKIE_NAME

__all__ = ["SignIn"]

#: Slows each wrong sign-in a little more; the per-client throttle (smsgw.gateway.throttle)
#: is what stops a guessing run.
WRONG_KEY_DELAY = 0.3


class SignIn:
    """The sign-in form (with a one-time form token in a cookie), sign-in and sign-out.

    Wrong keys count in `throttle`, the same record per client as the API's key check."""

    def __init__(self, kit: PageKit, throttle: AuthThrottle) -> None:
        self.kit = kit
        self.throttle = throttle

    async def login_form(self, request: Request) -> Response:
        if self.kit.session(request) is not None:
            return RedirectResponse(f"{UI_PREFIX}/conversations", status_code=303)
        return self._login_page(request, error=None, status_code=200)

    def _login_page(self, request: Request, *, error: str | None, status_code: int) -> Response:
        token = self.kit.signer.new_login_token()
        response = self.kit.page(
            "login.html", None, status_code=status_code, error=error, login_token=token
        )
        response.set_cookie(
            LOGIN_COOKIE_NAME,
            token,
            max_age=600,
            path=UI_PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def login(self, request: Request) -> Response:
        form = await Form.read(request)
        expected_token = request.cookies.get(LOGIN_COOKIE_NAME, "")
        if (
            form is None
            or not self.kit.same_origin(request)
            or not expected_token
            or not secrets.compare_digest(form.get("login_token"), expected_token)
        ):
            return self._login_page(
                request, error="The form expired; please sign in again.", status_code=400
            )
        client = client_address(request.scope)
        wait = self.throttle.retry_after(client)
        if wait is not None:
            refused = self._login_page(
                request, error=f"Too many wrong keys: try again in {wait} s.", status_code=429
            )
            refused.headers["Retry-After"] = str(wait)
            return refused
        signer = self.kit.signer
        if not signer.key_matches(form.get("api_key").strip()):
            self.throttle.failed(client, "wrong API key in the web inbox sign-in")
            await asyncio.sleep(WRONG_KEY_DELAY)
            return self._login_page(request, error="Wrong API key.", status_code=401)
        self.throttle.succeeded(client)
        _, cookie = signer.issue()
        response = RedirectResponse(
            f"{UI_PREFIX}/conversations", status_code=303, headers=SECURITY_HEADERS
        )
        response.set_cookie(
            COOKIE_NAME,
            cookie,
            max_age=signer.max_age,
            path=UI_PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.delete_cookie(LOGIN_COOKIE_NAME, path=UI_PREFIX)
        return response

    async def logout(self, request: Request) -> Response:
        session = self.kit.session(request)
        form = await Form.read(request)
        if session is not None and (
            form is None
            or not self.kit.same_origin(request)
            or not self.kit.signer.csrf_matches(session, form.get("csrf"))
        ):
            return Response("Bad request: the form expired.", status_code=400)
        if session is not None:
            self.kit.signer.revoke(
                session
            )  # the cookie stops working here, not just in this browser
        response = self.kit.to_login()
        response.delete_cookie(COOKIE_NAME, path=UI_PREFIX)
        return response
