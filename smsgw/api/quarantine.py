"""Quarantined inbound SMS (CONTRACT.md §9): listed, and cleared once the operator has
looked at them (clearing a modem's last one resolves its `quarantined` alert)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from smsgw.api.routes import ERRORS, SECURITY, Gateway
from smsgw.api.schemas import MAX_MODEM_NAME_CHARS, ErrorOut
from smsgw.gateway import operations
from smsgw.store import repository
from smsgw.store.types import QuarantineRecord

__all__ = ["QuarantineOut", "QuarantinePage", "router"]

MAX_PAGE = 1000
MAX_ID = 2**63 - 1

router = APIRouter(prefix="/api/v1", dependencies=SECURITY, responses=ERRORS)


class QuarantineOut(BaseModel):
    """An SMS read from a modem that could not be decoded, kept as it was read."""

    id: int = Field(description="Quarantine entry id: use it to clear the entry.")
    modem: str
    storage: str | None = Field(description="Modem storage it was read from; null if routed.")
    index: int | None = Field(description="Its index in that storage; null if routed.")
    pdu_hex: str = Field(description="The PDU line exactly as the modem sent it (hex).")
    error: str = Field(description="Why it could not be decoded.")
    received_at: datetime
    last_seen_at: datetime
    times_seen: int = Field(description="Reads of this same entry (a re-read after a crash).")


class QuarantinePage(BaseModel):
    entries: list[QuarantineOut]
    next_before: int | None = Field(
        description="Pass as `before` to get the next (older) page; null on the last page."
    )


def _out(record: QuarantineRecord) -> QuarantineOut:
    return QuarantineOut(
        id=record.id,
        modem=record.modem,
        storage=record.storage,
        index=record.storage_index,
        pdu_hex=record.pdu_hex,
        error=record.error,
        received_at=record.received_at,
        last_seen_at=record.last_seen_at,
        times_seen=record.times_seen,
    )


@router.get("/quarantine", response_model=QuarantinePage, summary="Undecodable inbound SMS")
async def list_quarantine(
    gateway: Gateway,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="`next_before` of the previous page.")
    ] = None,
    modem: Annotated[str | None, Query(max_length=MAX_MODEM_NAME_CHARS)] = None,
) -> QuarantinePage:
    """Newest first."""
    records = await repository.list_quarantine(gateway.db, limit=limit, before=before, modem=modem)
    return QuarantinePage(
        entries=[_out(record) for record in records],
        next_before=records[-1].id if len(records) == limit else None,
    )


@router.delete(
    "/quarantine/{entry_id}",
    response_model=QuarantineOut,
    summary="Clear a quarantined SMS",
    responses={404: {"model": ErrorOut, "description": "No such quarantined SMS."}},
)
async def clear_quarantined(
    entry_id: Annotated[int, Path(ge=1, le=MAX_ID)], gateway: Gateway
) -> QuarantineOut:
    """Deletes the entry and answers with it; when it was its modem's last one, the modem's
    `quarantined` alert is resolved (a `modem_alert` event with `resolved: true`)."""
    released = await operations.release_quarantined(gateway, entry_id)
    if released is None:
        raise HTTPException(status_code=404, detail=f"no quarantined SMS with id {entry_id}")
    return _out(released)
