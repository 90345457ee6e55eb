"""The opt-out list through the API: `GET/POST/DELETE /api/v1/optouts[/{number}]`.

Numbers are normalised like a send's `to` (E.164, national numbers read with
`api.default_region`), so "0721 000 000" and "+40721000000" name the same entry.
"""

from __future__ import annotations

import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from smsgw.api.routes import ERRORS, SECURITY, Gateway
from smsgw.api.schemas import MAX_NUMBER_CHARS, ErrorOut
from smsgw.gateway.inputs import normalise_number
from smsgw.store import repository

__all__ = ["router"]

MAX_PAGE = 1000

router = APIRouter(prefix="/api/v1/optouts", dependencies=SECURITY, responses=ERRORS)


class OptOutOut(BaseModel):
    """One number on the opt-out list."""

    number: str = Field(description="E.164.")
    source: str = Field(description="sms (the number sent a stop word), api or ui.")
    modem: str | None = Field(description="For sms: the modem the stop word reached.")
    created_at: datetime.datetime

    @classmethod
    def of(cls, entry: repository.OptOut) -> OptOutOut:
        return cls(
            number=entry.number, source=entry.source, modem=entry.modem,
            created_at=entry.created_at,
        )  # fmt: skip


class OptOutPage(BaseModel):
    optouts: list[OptOutOut]


class OptOutRequest(BaseModel):
    number: str = Field(max_length=MAX_NUMBER_CHARS, description="The number to stop sending to.")


Number = Annotated[str, Path(max_length=MAX_NUMBER_CHARS, description="E.164 or national.")]


@router.get("", response_model=OptOutPage, summary="The opt-out list, newest first")
async def list_optouts(
    gateway: Gateway,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> OptOutPage:
    entries = await repository.list_optouts(gateway.db, limit=limit, offset=offset)
    return OptOutPage(optouts=[OptOutOut.of(entry) for entry in entries])


@router.get(
    "/{number}",
    response_model=OptOutOut,
    summary="Whether one number is on the list",
    responses={404: {"model": ErrorOut, "description": "The number is not on the list."}},
)
async def get_optout(number: Number, gateway: Gateway) -> OptOutOut:
    normalised = normalise_number(number, gateway.settings.api.default_region, field="number")
    entry = await repository.get_optout(gateway.db, normalised)
    if entry is None:
        raise HTTPException(status_code=404, detail=f"{normalised} is not on the opt-out list")
    return OptOutOut.of(entry)


@router.post(
    "",
    response_model=OptOutOut,
    status_code=201,
    summary="Put a number on the list (sends to it are refused with 409)",
    responses={200: {"model": OptOutOut, "description": "It was on the list already."}},
)
async def add_optout(body: OptOutRequest, gateway: Gateway, response: Response) -> OptOutOut:
    normalised = normalise_number(body.number, gateway.settings.api.default_region, field="number")
    entry, created = await repository.add_optout(gateway.db, normalised, source="api")
    if not created:
        response.status_code = 200
    return OptOutOut.of(entry)


@router.delete(
    "/{number}",
    status_code=204,
    summary="Take a number off the list",
    responses={404: {"model": ErrorOut, "description": "The number is not on the list."}},
)
async def remove_optout(number: Number, gateway: Gateway) -> Response:
    normalised = normalise_number(number, gateway.settings.api.default_region, field="number")
    if not await repository.remove_optout(gateway.db, normalised):
        raise HTTPException(status_code=404, detail=f"{normalised} is not on the opt-out list")
    return Response(status_code=204)
