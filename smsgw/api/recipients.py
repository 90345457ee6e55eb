"""`POST /api/v1/messages` with `to` as a list: one message per recipient, one answer.

The text, the options and the modem are checked once for the whole request (a problem there
is a 422, nothing is queued); each recipient is then checked and queued on its own, so one
invalid or opted-out number does not stop the others, and the answer lists, in the order
given, each recipient's message id or the reason it was refused. Numbers that normalise to
the same E.164 form are sent once.
"""

from __future__ import annotations

import dataclasses
import datetime

from pydantic import BaseModel, Field

from smsgw.api.schemas import MAX_RECIPIENTS, SendAccepted, SendRequest, accepted
from smsgw.exceptions import SubmitRefused
from smsgw.gateway import operations
from smsgw.gateway.inputs import InvalidInput, check_text, normalise_number, plain_string
from smsgw.models import SendOptions
from smsgw.pdu import PartCount
from smsgw.store import repository

__all__ = ["MAX_RECIPIENTS", "RecipientResult", "SendBatchAccepted", "send_to_each"]

#: Recipients per request (`schemas.MAX_RECIPIENTS`): bounds the work and the answer of one
#: call; larger campaigns go through several requests or `smsgw send --csv`.


class RecipientResult(BaseModel):
    """One recipient of a list send: its message, or why it was refused."""

    to: str = Field(description="As given in the request.")
    status_code: int = Field(
        description="What a single send to it would have answered: 202, 200 (Idempotency-Key "
        "seen before), 409 (opted out), 422 (invalid number), 429 (daily limit)."
    )
    message: SendAccepted | None = None
    error: str | None = None


class SendBatchAccepted(BaseModel):
    """Answer of ``POST /api/v1/messages`` with a list in `to`."""

    queued: int = Field(description="Recipients with a new message (queued or scheduled).")
    existing: int = Field(description="Recipients whose Idempotency-Key was used before.")
    refused: int = Field(description="Recipients refused; each result says why.")
    results: list[RecipientResult]


async def send_to_each(
    gateway: operations.GatewayOperations,
    body: SendRequest,
    recipients: list[str],
    options: SendOptions,
    *,
    key: str | None,
    window: datetime.timedelta | None,
) -> SendBatchAccepted:
    """Queue `body` for each of `recipients`; InvalidInput (422) only for request-wide
    problems. With `key`, each recipient's message gets `<key>#<E.164>`, so repeating the
    request repeats nothing."""
    settings = gateway.settings
    batch = _Batch(
        gateway=gateway,
        body=body,
        count=check_text(
            body.text, settings.limits.max_parts, operations.alphabet_of(options.encoding)
        ),
        modem=None if body.modem is None else plain_string("modem", body.modem),
        options=options,
        key=key,
        window=window,
    )
    results: list[RecipientResult] = []
    seen: set[str] = set()
    for raw in recipients:
        try:
            number = normalise_number(raw, settings.api.default_region)
        except InvalidInput as invalid:
            results.append(RecipientResult(to=raw, status_code=422, error=invalid.detail))
            continue
        if number not in seen:
            seen.add(number)
            results.append(await batch.send(raw, number))
    created = sum(1 for result in results if result.status_code == 202)
    existing = sum(1 for result in results if result.status_code == 200)
    return SendBatchAccepted(
        queued=created, existing=existing, refused=len(results) - created - existing,
        results=results,
    )  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class _Batch:
    """What every recipient of one list send shares."""

    gateway: operations.GatewayOperations
    body: SendRequest
    count: PartCount
    modem: str | None
    options: SendOptions
    key: str | None
    window: datetime.timedelta | None

    async def send(self, raw: str, number: str) -> RecipientResult:
        own_key = None if self.key is None else f"{self.key}#{number}"
        outgoing = operations.Outgoing(
            to=number, text=self.body.text, modem=self.modem, count=self.count,
            options=self.options,
        )  # fmt: skip
        db = self.gateway.db
        try:
            if own_key is not None and self.window is not None:
                await repository.retire_idempotency_key(db, own_key, window=self.window)
            enqueued = await operations.send(
                self.gateway, outgoing, delivery_report=self.body.delivery_report,
                idempotency_key=own_key,
            )  # fmt: skip
        except SubmitRefused as refused:
            return RecipientResult(to=raw, status_code=refused.status_code, error=refused.detail)
        return RecipientResult(
            to=raw, status_code=202 if enqueued.created else 200, message=accepted(enqueued)
        )
