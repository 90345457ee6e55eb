"""``/api/v1/modems/{name}/ussd`` (CONTRACT.md §8): run USSD codes and menus on a modem.

The gateway's `UssdSessions` does the work (one session per modem; 404 unknown modem or
session, 409 not ready or busy, 422 malformed code, 502 refused by modem or network); this
module only maps it onto HTTP.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from smsgw.api.routes import ERRORS, SECURITY
from smsgw.api.schemas import ErrorOut
from smsgw.gateway.ussd import UssdRefused, UssdSessions

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", dependencies=SECURITY, responses=ERRORS, tags=["ussd"])

ModemName = Annotated[str, Path(max_length=64, description="The modem's configured name.")]


class UssdRequest(BaseModel):
    code: str = Field(
        max_length=160,
        description="A service code (`*100#`) to start a session, or the answer to a menu "
        "(`1`) together with its `session`.",
        examples=["*100#"],
    )
    session: str | None = Field(
        default=None, max_length=64, description="Continue this session (from `status: more`)."
    )
    timeout: float = Field(
        default=30, ge=1, le=180, description="Seconds to wait for the network's answer."
    )


class UssdOut(BaseModel):
    session: str = Field(description="Post it back with the answer while `status` is `more`.")
    status: str = Field(description="done | more | cancelled | timeout")
    text: str = Field(description="The network's answer, decoded (GSM-7 or UCS-2).")


_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "No such modem (or session)."},
    409: {"model": ErrorOut, "description": "Modem not ready, or busy in another USSD session."},
    502: {"model": ErrorOut, "description": "The modem or the network refused the request."},
}


def _sessions(request: Request) -> UssdSessions:
    sessions = getattr(request.app.state.gateway, "ussd", None)
    if not isinstance(sessions, UssdSessions):
        raise HTTPException(status_code=409, detail="USSD is not available on this gateway")
    return sessions


@router.post(
    "/modems/{name}/ussd", response_model=UssdOut, summary="Send a USSD code", responses=_RESPONSES
)
async def send_ussd(name: ModemName, body: UssdRequest, request: Request) -> UssdOut:
    """Send `code` and wait for the network's answer (menus: post again with `session`)."""
    try:
        result = await _sessions(request).run(
            name, body.code, session=body.session, wait=body.timeout
        )
    except UssdRefused as exc:
        raise HTTPException(status_code=exc.status_code, detail=exc.detail) from None
    return UssdOut(session=result.session, status=result.status, text=result.text)


@router.delete(
    "/modems/{name}/ussd/{session}",
    response_model=UssdOut,
    summary="End a USSD session",
    responses=_RESPONSES,
)
async def end_ussd(
    name: ModemName,
    session: Annotated[str, Path(max_length=64)],
    request: Request,
) -> UssdOut:
    """End the session on the modem (`AT+CUSD=2`)."""
    try:
        await _sessions(request).end(name, session)
    except UssdRefused as exc:
        raise HTTPException(status_code=exc.status_code, detail=exc.detail) from None
    return UssdOut(session=session, status="cancelled", text="")
