"""Property-based run of schemathesis over the OpenAPI document: no input may cause a 5xx.

Every operation gets a bounded number of generated requests, valid (positive) and invalid
(negative: wrong types, missing fields, out-of-range parameters), sent to the live server
with the API key so they reach the route handlers instead of stopping at the 401. Responses
must also match the documented status codes, content types and schemas.
"""

from __future__ import annotations

import collections
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from smsgw.api.app import create_app
from smsgw.gateway.operations import GatewayOperations
from tests.api.live import LiveApi

pytestmark = pytest.mark.timeout(90)

MAX_EXAMPLES = 100
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# The document depends only on the routes, not on the services behind them.
DOCUMENT: dict[str, Any] = create_app(cast(GatewayOperations, object()), "unused-key").openapi()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def _operations() -> list[Operation]:
    operations = []
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise AssertionError(f"the API's own OpenAPI document is invalid: {result.err()}")
        operations.append(result.ok())
    return operations


OPERATIONS = _operations()
CASES_SENT: collections.Counter[str] = collections.Counter()


def _takes_input(operation: Operation) -> bool:
    definition = DOCUMENT["paths"][operation.path][operation.method.lower()]
    return bool(definition.get("parameters") or definition.get("requestBody"))


#: (operation, mode) pairs; negative generation needs something to make invalid.
RUNS = [
    pytest.param(operation, mode, id=f"{operation.label}-{mode.value}")
    for operation in OPERATIONS
    for mode in schemathesis.GenerationMode
    if mode is schemathesis.GenerationMode.POSITIVE or _takes_input(operation)
]


@pytest.mark.parametrize(("operation", "mode"), RUNS)
def test_no_input_causes_a_server_error(
    api: LiveApi, operation: Operation, mode: schemathesis.GenerationMode
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def exercise(case: schemathesis.Case[Operation]) -> None:
        CASES_SENT[operation.label] += 1
        case.call_and_validate(base_url=api.base_url, headers=api.headers, checks=CHECKS)

    exercise()


def test_every_operation_was_exercised() -> None:
    """Guards against a schema change that silently leaves routes out of the run above."""
    expected = {
        "POST /api/v1/messages",
        "GET /api/v1/messages",
        "GET /api/v1/messages/{message_id}",
        "GET /api/v1/modems",
        "GET /api/v1/webhook/dead-letters",
        "POST /api/v1/webhook/dead-letters/{entry_id}/retry",
        "GET /api/v1/quarantine",
        "DELETE /api/v1/quarantine/{entry_id}",
        "GET /health/live",
        "GET /health/ready",
        "GET /metrics",
    }
    assert expected <= {operation.label for operation in OPERATIONS}
    if CASES_SENT:  # run in the same session as the property tests
        assert expected <= set(CASES_SENT)
        print(f"schemathesis: {sum(CASES_SENT.values())} requests", dict(CASES_SENT))
