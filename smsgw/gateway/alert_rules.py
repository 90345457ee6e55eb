"""When a modem alert opens and closes: conditions with hysteresis, pure (no I/O, no clock).

`AlertTracker.observe(modem, observation, now)` is called on every poll with what the modem
layer and the fleet know (`Observation`) and returns the alerts that changed. Two kinds of
hysteresis keep a flapping signal from sending a storm of events:

* in time: a condition must hold for the rule's `raise_after` seconds before the alert opens,
  and be gone for `resolve_after` seconds before it closes (a modem that drops off the
  network for 20 s while it changes cell does not alert at all);
* in value: signal and storage have a band between the level that opens the alert and the
  one that closes it (no signal at -110 dBm or below, back above -105 dBm; storage full at
  90 %, free again below 80 %), so a value hovering on one threshold changes nothing.

A condition the poll cannot judge (`None`: signal while the modem is offline, a balance not
read yet) keeps whatever was decided before. The first judgement after a start that finds a
condition absent is reported as a `sync` resolve: an alert left open by a previous run (the
store keeps them) is closed, and nothing is sent when none was open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

__all__ = ["DEFAULT_RULES", "AlertChange", "AlertTracker", "Observation", "Rule"]

#: Signal at or below this opens `no_signal` (rssi 2, PROTOCOL.md §2.6); above CLEAR closes it.
NO_SIGNAL_DBM = -110
SIGNAL_CLEAR_DBM = -105
STORAGE_FULL = 0.9
STORAGE_CLEAR = 0.8


@dataclasses.dataclass(frozen=True, slots=True)
class Observation:
    """What is known about one modem right now; None where it is not known."""

    online: bool
    reason: str = ""
    failed: bool = False
    registered: bool | None = None
    signal_dbm: int | None = None
    sim: str | None = None
    storage_used: int | None = None
    storage_total: int | None = None
    balance: float | None = None
    balance_below: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class AlertChange:
    """An alert to open (`raised`) or close; `sync` marks the first close after a start,
    which only matters if a previous run left the alert open."""

    modem: str
    alert: str
    raised: bool
    detail: str
    sync: bool = False


#: Judge a condition: (True: present, False: absent, None: cannot tell), and its detail.
#: `was_open` lets value bands differ for opening and closing.
Judge = Callable[[Observation, bool], tuple[bool | None, str]]


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    judge: Judge
    raise_after: float
    resolve_after: float


def _offline(o: Observation, _open: bool) -> tuple[bool | None, str]:
    return (not o.online), (o.reason or "the modem is not ready")


def _sim_error(o: Observation, _open: bool) -> tuple[bool | None, str]:
    if o.failed or (not o.online and "sim" in o.reason.lower()):
        return True, o.reason or "SIM problem"
    if not o.online:
        return None, ""
    if o.sim is not None and o.sim != "READY":
        return True, f"SIM state {o.sim}"
    return False, "SIM ready"


def _not_registered(o: Observation, _open: bool) -> tuple[bool | None, str]:
    if not o.online or o.registered is None:
        return None, ""
    return (not o.registered), ("not registered" if not o.registered else "registered")


def _no_signal(o: Observation, was_open: bool) -> tuple[bool | None, str]:
    if not o.online or not o.registered:
        return None, ""
    dbm = o.signal_dbm
    if dbm is None:
        return True, "signal unknown (AT+CSQ 99)"
    limit = SIGNAL_CLEAR_DBM if was_open else NO_SIGNAL_DBM + 1
    return dbm < limit, f"signal {dbm} dBm"


def _storage_full(o: Observation, was_open: bool) -> tuple[bool | None, str]:
    if not o.online or not o.storage_total or o.storage_used is None:
        return None, ""
    share = o.storage_used / o.storage_total
    full = share >= (STORAGE_CLEAR if was_open else STORAGE_FULL)
    return full, f"SIM storage {o.storage_used}/{o.storage_total}"


def _balance_low(o: Observation, _open: bool) -> tuple[bool | None, str]:
    if o.balance_below <= 0 or o.balance is None:
        return None, ""
    return o.balance < o.balance_below, f"balance {o.balance:g} (alert below {o.balance_below:g})"


DEFAULT_RULES: Mapping[str, Rule] = {
    "offline": Rule(_offline, raise_after=60.0, resolve_after=10.0),
    "sim_error": Rule(_sim_error, raise_after=0.0, resolve_after=0.0),
    "not_registered": Rule(_not_registered, raise_after=120.0, resolve_after=30.0),
    "no_signal": Rule(_no_signal, raise_after=300.0, resolve_after=60.0),
    "storage_full": Rule(_storage_full, raise_after=0.0, resolve_after=0.0),
    "balance_low": Rule(_balance_low, raise_after=0.0, resolve_after=0.0),
}


@dataclasses.dataclass
class _State:
    open: bool | None = None  # None: not judged since the start
    contrary_since: float | None = None  # when the condition started to disagree with `open`


class AlertTracker:
    """The open/closed state of every (modem, alert) with its hysteresis."""

    def __init__(self, rules: Mapping[str, Rule] = DEFAULT_RULES) -> None:
        self.rules = rules
        self._states: dict[tuple[str, str], _State] = {}

    def is_open(self, modem: str, alert: str) -> bool:
        state = self._states.get((modem, alert))
        return bool(state and state.open)

    def open_alerts(self, modem: str) -> list[str]:
        return [alert for alert in self.rules if self.is_open(modem, alert)]

    def observe(self, modem: str, observation: Observation, now: float) -> list[AlertChange]:
        """Judge every rule on `observation` at monotonic time `now`; the changes."""
        changes = []
        for alert, rule in self.rules.items():
            state = self._states.setdefault((modem, alert), _State())
            present, detail = rule.judge(observation, bool(state.open))
            if present is None:
                continue
            if state.open is None and not present:
                state.open = False
                changes.append(AlertChange(modem, alert, False, detail, sync=True))
                continue
            if present == bool(state.open):
                state.contrary_since = None
                continue
            if state.contrary_since is None:
                state.contrary_since = now
            wait = rule.raise_after if present else rule.resolve_after
            if now - state.contrary_since >= wait:
                state.open = present
                state.contrary_since = None
                changes.append(AlertChange(modem, alert, present, detail))
        return changes
