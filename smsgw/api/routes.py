"""The ``/api/v1`` routes (CONTRACT.md §3): send, look up, list messages; list modems."""

from __future__ import annotations

import datetime
from typing import Annotated

from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    Security,
)
from fastapi.security import APIKeyHeader, HTTPBearer

from smsgw.api.recipients import SendBatchAccepted, send_to_each
from smsgw.api.schemas import (
    ErrorOut,
    MessageDetailOut,
    MessageOut,
    MessagePage,
    ModemList,
    ModemOut,
    SendAccepted,
    SendRequest,
    accepted,
)
from smsgw.gateway import operations
from smsgw.gateway.inputs import InvalidInput, normalise_peer, plain_string
from smsgw.gateway.operations import GatewayOperations
from smsgw.gateway.send_options import check_send_options
from smsgw.models import Direction, MessageStatus
from smsgw.store import repository

__all__ = ["ERRORS", "IDEMPOTENCY_NAMESPACE", "SECURITY", "Gateway", "router"]

#: Prefix of API idempotency keys in the store, so a client key can never collide with the
#: gateway's own `auto-reply:<event id>` keys.
IDEMPOTENCY_NAMESPACE = "api:"
MAX_IDEMPOTENCY_KEY = 200
#: Longest `Idempotency-Window` accepted (seconds): a year, beyond any retention worth having.
MAX_IDEMPOTENCY_WINDOW = 366 * 24 * 3600
MAX_PAGE = 1000

# Declared for the OpenAPI document (/docs "Authorize"); the check itself is ApiKeyMiddleware.
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "The body could not be read at all."},
    401: {"model": ErrorOut, "description": "Missing or wrong API key."},
    413: {"model": ErrorOut, "description": "The body is larger than 64 KiB."},
    422: {"model": ErrorOut, "description": "Invalid request; `detail` says what is wrong."},
    429: {"model": ErrorOut, "description": "Too many wrong keys: wait `Retry-After` s."},
    503: {"model": ErrorOut, "description": "The database is unreachable."},
}

SECURITY = [Security(_api_key_header), Security(_bearer)]

router = APIRouter(prefix="/api/v1", dependencies=SECURITY, responses=ERRORS)


def gateway_of(request: Request) -> GatewayOperations:
    gateway: GatewayOperations = request.app.state.gateway
    return gateway


Gateway = Annotated[GatewayOperations, Depends(gateway_of)]


@router.post(
    "/messages",
    status_code=202,
    response_model=SendAccepted | SendBatchAccepted,
    summary="Queue an SMS (to one recipient, or to each of a list)",
    responses={
        200: {
            "model": SendAccepted,
            "description": "Idempotency-Key seen before: the first message, nothing sent again.",
        },
        409: {"model": ErrorOut, "description": "The recipient is on the opt-out list."},
        429: {"model": ErrorOut, "description": "Daily limit reached."},
    },
)
async def send_message(
    body: SendRequest,
    gateway: Gateway,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retrying with the same key returns the first message instead of "
            "sending again.",
        ),
    ] = None,
    idempotency_window: Annotated[
        int | None,
        Header(
            alias="Idempotency-Window",
            ge=1,
            le=MAX_IDEMPOTENCY_WINDOW,
            description="Seconds the Idempotency-Key is remembered for: a message with the "
            "same key created longer ago than this no longer counts, and a new one is sent "
            "(default: for as long as the message is kept).",
        ),
    ] = None,
) -> SendAccepted | SendBatchAccepted:
    """Validate, normalise the number to E.164 and queue (or schedule) the message; with a
    list in `to`, one message per recipient and one result per recipient."""
    options = check_send_options(
        now=gateway.db.clock(),
        send_at=body.send_at,
        validity=body.validity,
        flash=body.flash,
        encoding=body.encoding,
    )
    key = None
    if idempotency_key is not None:
        if not idempotency_key.strip() or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(
                f"Idempotency-Key: must be 1 to {MAX_IDEMPOTENCY_KEY} non-blank characters"
            )
        key = IDEMPOTENCY_NAMESPACE + idempotency_key.strip()
    if isinstance(body.to, list):
        window = (
            None if idempotency_window is None else datetime.timedelta(seconds=idempotency_window)
        )
        batch = await send_to_each(gateway, body, body.to, options, key=key, window=window)
        if batch.queued == 0 and batch.existing > 0:
            response.status_code = 200
        return batch
    outgoing = operations.check_outgoing(
        gateway.settings, to=body.to, text=body.text, modem=body.modem, options=options
    )
    if key is not None and idempotency_window is not None:
        await repository.retire_idempotency_key(
            gateway.db, key, window=datetime.timedelta(seconds=idempotency_window)
        )
    enqueued = await operations.send(
        gateway, outgoing, delivery_report=body.delivery_report, idempotency_key=key
    )
    if not enqueued.created:
        response.status_code = 200
    return accepted(enqueued)


@router.get(
    "/messages/{message_id}",
    response_model=MessageDetailOut,
    summary="One message with parts and status history",
    responses={404: {"model": ErrorOut, "description": "No such message."}},
)
async def get_message(
    message_id: Annotated[str, Path(max_length=64, description="Message id (ULID).")],
    gateway: Gateway,
) -> MessageDetailOut:
    detail = await repository.get_message(gateway.db, plain_string("id", message_id))
    if detail is None:
        raise HTTPException(status_code=404, detail=f"no message with id {message_id!r}")
    return MessageDetailOut.of_detail(detail)


@router.delete(
    "/messages/{message_id}",
    response_model=MessageOut,
    summary="Cancel a scheduled or queued message",
    responses={
        404: {"model": ErrorOut, "description": "No such message."},
        409: {"model": ErrorOut, "description": "Already being sent, sent, or incoming."},
    },
)
async def cancel_message(
    message_id: Annotated[str, Path(max_length=64, description="Message id (ULID).")],
    gateway: Gateway,
) -> MessageOut:
    """A message no modem has started on becomes `cancelled` and is never sent."""
    outcome = await repository.cancel_outgoing(gateway.db, plain_string("id", message_id))
    if outcome.message is None:
        raise HTTPException(status_code=404, detail=f"no message with id {message_id!r}")
    if not outcome.cancelled:
        message = outcome.message
        what = (
            "an incoming message"
            if message.status is None
            else f"{message.status.value}, no longer cancellable"
        )
        raise HTTPException(status_code=409, detail=f"message {message.id} is {what}")
    return MessageOut.of(outcome.message)


@router.get("/messages", response_model=MessagePage, summary="Message history, newest first")
async def list_messages(
    gateway: Gateway,
    direction: Annotated[Direction | None, Query(description="in or out")] = None,
    status: Annotated[
        MessageStatus | None,
        Query(description="Outgoing only: e.g. scheduled, queued, sent, failed, cancelled."),
    ] = None,
    peer: Annotated[
        str | None, Query(max_length=64, description="Only this number (or sender name).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    before: Annotated[
        str | None,
        Query(max_length=64, description="Cursor: `next_before` of the previous page."),
    ] = None,
) -> MessagePage:
    """Newest first; page with `before=<next_before>`. An unknown cursor is a 422."""
    db = gateway.db
    if (
        before is not None
        and await repository.get_message(db, plain_string("before", before)) is None
    ):
        raise InvalidInput(f"before: unknown cursor {before!r} (use next_before of a page)")
    wanted_peer = (
        None if peer is None else normalise_peer(peer, gateway.settings.api.default_region)
    )
    records = await repository.list_messages(
        db, direction=direction, peer=wanted_peer, limit=limit, before=before, status=status
    )
    return MessagePage(
        messages=[MessageOut.of(record) for record in records],
        next_before=records[-1].id if len(records) == limit else None,
    )


@router.get("/modems", response_model=ModemList, summary="Modems and their state")
async def list_modems(gateway: Gateway) -> ModemList:
    return ModemList(modems=[ModemOut.of(view) for view in await gateway.modems()])
