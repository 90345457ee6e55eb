"""`[node]` timing: a lease shorter than three heartbeats would let nodes declare a live node
dead after one slow database round, so the configuration refuses it."""

from __future__ import annotations

import datetime

import pytest
from pydantic import ValidationError

from smsgw.config import Settings


def test_defaults_give_a_live_node_eight_heartbeats_of_margin() -> None:
    node = Settings.model_validate({"node": {"name": "pi-1"}}).node
    assert node.heartbeat_interval == datetime.timedelta(seconds=15)
    assert node.lease == datetime.timedelta(minutes=2)


def test_durations_are_read_like_every_other_duration() -> None:
    node = Settings.model_validate(
        {"node": {"name": "pi-1", "heartbeat_interval": 0.5, "lease": "2s"}}
    ).node
    assert node.heartbeat_interval == datetime.timedelta(seconds=0.5)
    assert node.lease == datetime.timedelta(seconds=2)


@pytest.mark.parametrize(
    ("heartbeat", "lease", "problem"),
    [("10s", "20s", "at least three"), ("0.01", "1s", "at least 0.1s")],
)
def test_a_lease_too_short_for_the_heartbeat_is_refused(
    heartbeat: str, lease: str, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        Settings.model_validate(
            {"node": {"name": "pi-1", "heartbeat_interval": heartbeat, "lease": lease}}
        )
