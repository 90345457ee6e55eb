"""Dead-lettered webhook events: visible and retryable through the API (CONTRACT.md §2:
"kept as dead-lettered and visible in the API and CLI")."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from smsgw.api.routes import ERRORS, SECURITY, Gateway
from smsgw.api.schemas import DeadLetterOut, DeadLetterPage, ErrorOut, RetryAccepted
from smsgw.gateway import operations
from smsgw.store import repository
from smsgw.store.types import DeadLetter

__all__ = ["router"]

MAX_PAGE = 1000
MAX_ID = 2**63 - 1

router = APIRouter(prefix="/api/v1/webhook", dependencies=SECURITY, responses=ERRORS)


def _payload(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def _out(letter: DeadLetter) -> DeadLetterOut:
    entry = letter.entry
    return DeadLetterOut(
        id=entry.id,
        event_id=entry.event_id,
        kind=entry.kind.value,
        peer=entry.peer,
        attempts=entry.attempts,
        created_at=entry.created_at,
        dead_at=letter.dead_at,
        last_error=letter.last_error,
        payload=_payload(entry.body),
    )


@router.get("/dead-letters", response_model=DeadLetterPage, summary="Webhook events given up on")
async def list_dead_letters(
    gateway: Gateway,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="`next_before` of the previous page.")
    ] = None,
) -> DeadLetterPage:
    """Newest first."""
    letters = await repository.list_dead_letters(gateway.db, limit=limit, before=before)
    return DeadLetterPage(
        events=[_out(letter) for letter in letters],
        next_before=letters[-1].entry.id if len(letters) == limit else None,
    )


@router.post(
    "/dead-letters/{entry_id}/retry",
    status_code=202,
    response_model=RetryAccepted,
    summary="Post a dead-lettered event again",
    responses={404: {"model": ErrorOut, "description": "No such dead-lettered event."}},
)
async def retry_dead_letter(
    entry_id: Annotated[int, Path(ge=1, le=MAX_ID)], gateway: Gateway
) -> RetryAccepted:
    """Puts the event back in the outbox: the dispatcher posts it again, same Idempotency-Key."""
    if not await operations.retry_dead_letter(gateway, entry_id):
        raise HTTPException(status_code=404, detail=f"no dead-lettered event with id {entry_id}")
    return RetryAccepted(id=entry_id)
