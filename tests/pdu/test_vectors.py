"""Every vector in ../shared/corpus/pdu_vectors.json decodes to its `expected` fields.

Field conventions: PROTOCOL.md §8. Each expected key is compared; the few that cannot be
compared as written are listed in KNOWN_DIFFERENCES with the reason, and their value is
still checked against what TS 23.040 says. The `derived` block (an independent decoder)
is compared too, for the vectors whose `expected` is empty.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smsgw.pdu import Deliver, Pdu, StatusReport, Submit, decode, join_texts
from smsgw.pdu.jsonview import to_json

VectorList = list[dict[str, Any]]

# vector index -> (expected key, why our value differs, the value TS 23.040 gives)
KNOWN_DIFFERENCES: dict[tuple[int, str], tuple[str, Any]] = {
    (10, "number"): (
        "python-gsmmodem renders BCD nibble 0xB as 'b'; TS 23.040 §9.1.2.3 maps it to '#'",
        "+#08427829207025",
    ),
    (75, "scts_as_given_by_source"): (
        "smspdudecoder puts year '98' in 2098; our two-digit-year window is 1970-2069",
        "1998-12-22T12:04:41+00:00",
    ),
}

TYPES = {Deliver: "SMS-DELIVER", Submit: "SMS-SUBMIT", StatusReport: "SMS-STATUS-REPORT"}


@pytest.fixture(scope="module")
def vectors(corpus_dir: Path) -> VectorList:
    data: VectorList = json.loads((corpus_dir / "pdu_vectors.json").read_text(encoding="utf-8"))
    return data


def _full_texts(vectors: VectorList) -> dict[tuple[str, int], str]:
    """Reassemble every concatenated message in the file, keyed by (number, ref)."""
    groups: dict[tuple[str, int], dict[int, str]] = defaultdict(dict)
    for vector in vectors:
        pdu = decode(vector["pdu_hex"])
        if isinstance(pdu, Deliver | Submit) and pdu.concat and pdu.text is not None:
            groups[(pdu.number, pdu.concat.ref)][pdu.concat.seq] = pdu.text
    return {key: join_texts(parts[seq] for seq in sorted(parts)) for key, parts in groups.items()}


def _actual(key: str, pdu: Pdu, vector: dict[str, Any], full: dict[tuple[str, int], str]) -> Any:
    """Our value for one `expected` key, in the form the vector file writes it."""
    view = to_json(pdu)
    if key == "text" and isinstance(pdu, Deliver | Submit) and pdu.data is not None:
        return pdu.data.decode("latin-1")  # the source shows 8-bit user data as text
    if key in ("scts_utc",):
        assert isinstance(pdu, Deliver)
        return pdu.scts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if key in ("scts_local_naive", "discharge_time_local_naive"):
        moment: datetime = getattr(pdu, key.removesuffix("_local_naive"))
        return moment.replace(tzinfo=None).isoformat()
    if key == "scts_as_given_by_source":
        return view["scts"]
    if key == "status_meaning":
        return view["outcome"].upper()
    if key == "full_message_text":
        assert isinstance(pdu, Deliver | Submit)
        assert pdu.concat
        return full[(pdu.number, pdu.concat.ref)]
    if key == "multipart":
        return view["concat"] is not None
    if key == "text_stripped":
        return (view["text"] or "").strip()
    if key == "tpdu_start_offset":
        return len(bytes.fromhex(vector["pdu_hex"])) - pdu.tpdu_length
    if key == "validity" and "absolute_naive" in vector["expected"]["validity"]:
        assert isinstance(pdu, Submit)
        assert isinstance(pdu.validity, datetime)
        return {"absolute_naive": pdu.validity.replace(tzinfo=None).isoformat()}
    return view[key]


def test_corpus_has_the_hundred_vectors(vectors: VectorList) -> None:
    assert len(vectors) == 100


def test_every_expected_field_matches(vectors: VectorList) -> None:
    full = _full_texts(vectors)
    mismatches = []
    compared = 0
    for index, vector in enumerate(vectors):
        pdu = decode(vector["pdu_hex"], smsc_included=vector["smsc_included"])
        for key, expected in vector["expected"].items():
            known = KNOWN_DIFFERENCES.get((index, key))
            want = known[1] if known else expected
            got = _actual(key, pdu, vector, full)
            compared += 1
            if got != want:
                mismatches.append(f"#{index} {vector['kind']}: {key} = {got!r}, expected {want!r}")
    assert not mismatches, "\n".join(mismatches)
    assert compared > 350  # every vector with expectations contributed


def test_known_differences_really_differ_from_the_source(vectors: VectorList) -> None:
    """Guard against stale entries: each listed difference must still be a difference."""
    for (index, key), (_, ours) in KNOWN_DIFFERENCES.items():
        assert vectors[index]["expected"][key] != ours


def test_independent_decoder_agrees(vectors: VectorList) -> None:
    mismatches = []
    for index, vector in enumerate(vectors):
        pdu = decode(vector["pdu_hex"])
        derived = vector["derived"]
        view = to_json(pdu)
        ours = {
            "type": TYPES[type(pdu)],
            "address": pdu.number,
            "smsc": pdu.smsc,
            "tpdu_length": pdu.tpdu_length,
            "scts": view.get("scts"),
            "text": view.get("text"),
        }
        if isinstance(pdu, StatusReport):
            del ours["text"]  # the optional status-report UD is not decoded
        for key, value in ours.items():
            if (
                key in derived
                and derived[key] != value
                and (index, "number") not in KNOWN_DIFFERENCES
            ):
                mismatches.append(f"#{index}: {key} = {value!r}, derived {derived[key]!r}")
    assert not mismatches, "\n".join(mismatches)


def test_truncation_is_flagged_exactly_where_the_independent_decoder_saw_it(
    vectors: VectorList,
) -> None:
    flagged = {
        index
        for index, vector in enumerate(vectors)
        if getattr(decode(vector["pdu_hex"]), "truncated", False)
    }
    seen = {index for index, vector in enumerate(vectors) if vector["derived"].get("ud_truncated")}
    assert flagged == seen == {7}


def test_relative_validity_is_a_timedelta(vectors: VectorList) -> None:
    pdu = decode(vectors[14]["pdu_hex"])  # VP 0xF4 = 52 weeks
    assert isinstance(pdu, Submit)
    assert pdu.validity == timedelta(weeks=52)
