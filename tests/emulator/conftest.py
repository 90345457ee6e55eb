"""Emulator fixtures: booted SIM800 and Huawei devices with echo off (`tests.emulator.host`)."""

from __future__ import annotations

import pytest

from tests.emulator.host import Host, boot


@pytest.fixture
def sim800() -> Host:
    host = boot("sim800")
    host.at("ATE0")
    return host


@pytest.fixture
def huawei() -> Host:
    host = boot("huawei")
    host.at("ATE0")
    return host
