"""The alert hysteresis, pure: one event when a condition starts and one when it ends, never
one per poll, and a signal flapping around its threshold sends nothing."""

from __future__ import annotations

from smsgw.gateway.alert_rules import AlertChange, AlertTracker, Observation

READY = Observation(online=True, registered=True, signal_dbm=-70, sim="READY",
                    storage_used=3, storage_total=50)  # fmt: skip


def _run(tracker: AlertTracker, steps: list[tuple[float, Observation]]) -> list[AlertChange]:
    changes: list[AlertChange] = []
    for now, observation in steps:
        changes += [c for c in tracker.observe("m", observation, now) if not c.sync]
    return changes


def test_first_judgement_only_syncs() -> None:
    changes = AlertTracker().observe("m", READY, 0.0)
    assert changes
    assert all(c.sync and not c.raised for c in changes)
    assert AlertTracker().observe("m", READY, 0.0) == changes


def test_not_registered_opens_once_after_its_delay_and_closes_once() -> None:
    lost = Observation(online=True, registered=False, sim="READY")
    steps = [(0.0, READY)] + [(t, lost) for t in range(10, 400, 10)]
    steps += [(t, READY) for t in range(400, 600, 10)]
    changes = _run(AlertTracker(), steps)
    assert [(c.alert, c.raised) for c in changes] == [
        ("not_registered", True),
        ("not_registered", False),
    ]


def test_a_short_loss_of_registration_alerts_nothing() -> None:
    lost = Observation(online=True, registered=False, sim="READY")
    steps = [(0.0, READY), (10.0, lost), (60.0, lost), (70.0, READY), (80.0, lost), (150.0, READY)]
    assert _run(AlertTracker(), steps) == []


def test_a_flapping_signal_sends_one_alert_not_a_storm() -> None:
    tracker = AlertTracker()
    steps = [(0.0, READY)]
    # Weak for 10 minutes, then hovering around the threshold, then good for good.
    steps += [(float(t), Observation(online=True, registered=True, signal_dbm=-113, sim="READY"))
              for t in range(10, 600, 10)]  # fmt: skip
    for index, t in enumerate(range(600, 1800, 10)):
        dbm = -108 if index % 2 else -111  # inside the -110 / -105 band: stays open
        steps.append((float(t), Observation(online=True, registered=True, signal_dbm=dbm,
                                            sim="READY")))  # fmt: skip
    steps += [(float(t), READY) for t in range(1800, 2000, 10)]
    changes = _run(tracker, steps)
    assert [(c.alert, c.raised) for c in changes] == [("no_signal", True), ("no_signal", False)]
    assert changes[0].detail == "signal -113 dBm"


def test_offline_storage_sim_and_balance() -> None:
    tracker = AlertTracker()
    gone = Observation(online=False, reason="connection lost")
    full = Observation(online=True, registered=True, signal_dbm=-70, sim="READY",
                       storage_used=46, storage_total=50)  # fmt: skip
    fuller = Observation(online=True, registered=True, signal_dbm=-70, sim="READY",
                         storage_used=42, storage_total=50)  # fmt: skip
    pin = Observation(online=False, failed=True, reason="the SIM rejected the configured PIN")
    low = Observation(online=True, registered=True, signal_dbm=-70, sim="READY", balance=2.5,
                      balance_below=5.0)  # fmt: skip
    steps = [(0.0, READY), (10.0, gone), (50.0, gone), (75.0, gone), (80.0, READY),
             (95.0, READY), (100.0, full), (110.0, fuller), (120.0, READY), (130.0, pin),
             (140.0, READY), (150.0, low), (160.0, low)]  # fmt: skip
    changes = _run(tracker, steps)
    assert [(c.alert, c.raised) for c in changes] == [
        ("offline", True),
        ("offline", False),
        ("storage_full", True),
        ("storage_full", False),  # 84 % stays open (band), 6 % closes
        ("sim_error", True),  # at once; offline would need a minute
        ("sim_error", False),
        ("balance_low", True),
    ]
    assert tracker.open_alerts("m") == ["balance_low"]
