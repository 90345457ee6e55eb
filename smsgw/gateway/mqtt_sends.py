"""The MQTT send topics' `Submit`: the path POST /api/v1/messages takes (`operations`), so a
message refused by one is refused by the other with the same reason."""

from __future__ import annotations

from smsgw.exceptions import StoreError, SubmitRefused
from smsgw.gateway import operations
from smsgw.gateway.inputs import InvalidInput
from smsgw.gateway.send_options import check_send_options
from smsgw.mqtt import SendCommand, SendRefused, Submit

#: Prefix of MQTT request ids in the store: an MQTT `id` never collides with an API
#: Idempotency-Key (`api:`) or the gateway's own keys.
MQTT_IDEMPOTENCY_NAMESPACE = "mqtt:"


def mqtt_submitter(gateway: operations.GatewayOperations) -> Submit:
    """`operations.check_outgoing` then `operations.send`, with the request `id` as the
    idempotency key; every refusal becomes the reason shown on the result topic."""

    async def submit(command: SendCommand) -> str:
        key = None
        if command.request_id is not None:
            key = MQTT_IDEMPOTENCY_NAMESPACE + command.request_id.strip()
        try:
            options = check_send_options(
                now=gateway.db.clock(),
                send_at=command.send_at,
                validity=command.validity,
                flash=command.flash,
                encoding=command.encoding,
            )
            outgoing = operations.check_outgoing(
                gateway.settings,
                to=command.to,
                text=command.text,
                modem=command.modem,
                options=options,
            )
            enqueued = await operations.send(
                gateway,
                outgoing,
                delivery_report=command.delivery_report,
                idempotency_key=key,
            )
        except InvalidInput as error:
            raise SendRefused(error.detail) from None
        except SubmitRefused as error:
            raise SendRefused(error.detail) from None
        except StoreError:
            # The error names the database; the log has it, the topic only says what to do.
            raise SendRefused("the database is unavailable; try again later") from None
        return enqueued.message.id

    return submit
