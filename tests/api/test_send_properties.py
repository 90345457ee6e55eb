"""Properties of POST /api/v1/messages with valid numbers and arbitrary text (schemathesis
rarely generates a valid phone number, so the accepted path gets its own property)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsgw.pdu import count_parts

pytestmark = pytest.mark.timeout(90)

NUMBERS = st.sampled_from(["+40721000000", "0721 000 001", "+49 151 23456789", "+44 7911 123456"])
TEXTS = st.text(
    alphabet=st.characters(codec="utf-8"),  # anything JSON can carry as valid Unicode
    max_size=1200,
)


@given(to=NUMBERS, text=TEXTS)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
def test_any_text_is_queued_exactly_or_refused_with_422(
    client: httpx.Client, to: str, text: str
) -> None:
    response = client.post("/api/v1/messages", json={"to": to, "text": text})
    if not text.strip() or "\x00" in text or count_parts(text).parts > 6:
        assert response.status_code == 422, response.text
        assert isinstance(response.json()["detail"], str)
        return
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["to"].startswith("+")
    assert accepted["parts"] == count_parts(text).parts
    stored = client.get(f"/api/v1/messages/{accepted['id']}").json()
    assert stored["text"] == text
    assert stored["peer"] == accepted["to"]
