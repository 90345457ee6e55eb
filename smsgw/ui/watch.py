"""What the modems page remembers between requests: signal history and recent problems.

The gateway reports only the current state of each modem; a sparkline and a list of last
errors need history. It is kept here, in memory, sampled whenever the UI asks the gateway
for modems (page loads and the page's short polling), at most once per `min_interval` per
modem. It is lost at restart on purpose: the database is for messages, not telemetry.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
from collections.abc import Callable, Iterable, Sequence

from smsgw.models import ModemView

__all__ = ["ModemProblem", "ModemWatch", "SignalSample", "sparkline_points"]

READY = "ready"
#: dBm range drawn by the sparkline: the weakest usable signal to the strongest CSQ can report.
SIGNAL_FLOOR = -113
SIGNAL_CEILING = -51


@dataclasses.dataclass(frozen=True, slots=True)
class SignalSample:
    at: datetime.datetime
    dbm: int


@dataclasses.dataclass(frozen=True, slots=True)
class ModemProblem:
    """A time the modem was seen out of READY, with the supervisor's reason."""

    at: datetime.datetime
    state: str
    reason: str | None


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class ModemWatch:
    """Per-modem signal history (bounded) and the last problems (bounded, newest first)."""

    def __init__(
        self,
        *,
        history: int = 60,
        problems: int = 10,
        min_interval: datetime.timedelta = datetime.timedelta(seconds=5),
        clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self._history = history
        self._problems = problems
        self._min_interval = min_interval
        self._clock = clock
        self._signal: dict[str, collections.deque[SignalSample]] = {}
        self._errors: dict[str, collections.deque[ModemProblem]] = {}
        self._last_state: dict[str, tuple[str, str | None]] = {}

    def observe(self, modems: Iterable[ModemView]) -> None:
        now = self._clock()
        for modem in modems:
            self._sample_signal(modem, now)
            self._note_problem(modem, now)

    def _sample_signal(self, modem: ModemView, now: datetime.datetime) -> None:
        if modem.signal_dbm is None or modem.state != READY:
            return
        samples = self._signal.setdefault(modem.name, collections.deque(maxlen=self._history))
        if samples and now - samples[-1].at < self._min_interval:
            return
        samples.append(SignalSample(at=now, dbm=modem.signal_dbm))

    def _note_problem(self, modem: ModemView, now: datetime.datetime) -> None:
        current = (modem.state, modem.reason)
        previous = self._last_state.get(modem.name)
        self._last_state[modem.name] = current
        if modem.state == READY or current == previous:
            return
        problems = self._errors.setdefault(modem.name, collections.deque(maxlen=self._problems))
        problems.appendleft(ModemProblem(at=now, state=modem.state, reason=modem.reason))

    def signal(self, name: str) -> Sequence[SignalSample]:
        return tuple(self._signal.get(name, ()))

    def problems(self, name: str) -> Sequence[ModemProblem]:
        return tuple(self._errors.get(name, ()))


def sparkline_points(samples: Sequence[SignalSample], *, width: int = 120, height: int = 28) -> str:
    """SVG polyline `points` for the samples, oldest at the left; "" with fewer than two."""
    if len(samples) < 2:
        return ""
    span = SIGNAL_CEILING - SIGNAL_FLOOR
    step = width / (len(samples) - 1)
    points = []
    for index, sample in enumerate(samples):
        level = (min(max(sample.dbm, SIGNAL_FLOOR), SIGNAL_CEILING) - SIGNAL_FLOOR) / span
        points.append(f"{index * step:.1f},{(1 - level) * (height - 2) + 1:.1f}")
    return " ".join(points)
