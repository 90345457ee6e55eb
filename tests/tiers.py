"""Which tests belong to the slow tier, in one place.

`make test-fast` runs the pure and in-process tiers (codec, parser, emulator device, driver over
an in-memory line, store on SQLite, API in-process) so a developer can run it while thinking;
`make test` and CI run everything. A test is slow when it needs a real pty, a child process
(the daemon, gammu, a seed webhook server, a cluster of nodes), a browser, a second database
server (PostgreSQL) or waits on the wall clock for seconds. Both lists are prefixes of pytest
node ids, so a parametrised test is named once for all its variants.
"""

from __future__ import annotations

import pytest

#: Module paths (relative to the repository root, prefix match) whose every test is slow.
SLOW_MODULES: tuple[str, ...] = (
    # real ptys and child processes
    "tests/gateway/",
    "tests/faults/",
    "tests/scaleout/test_cluster",
    "tests/modem/test_pty.py",
    "tests/modem/test_acknowledged_reports.py",
    "tests/modem/test_ussd_calls.py",
    "tests/modem/test_radio_recovery.py",
    "tests/cli/test_ussd.py",
    "tests/emulator/test_pty.py",
    "tests/emulator/test_cli.py",
    "tests/emulator/test_control.py",
    "tests/emulator/test_network_controls.py",
    "tests/emulator/test_wire_tap.py",
    "tests/store/test_crash.py",
    "tests/cli/test_demo.py",
    "tests/cli/test_run_imports.py",
    "tests/test_cli_root.py",
    "tests/deploy/test_install.py",
    "tests/secrets/test_sim_pin.py",
    "tests/secrets/test_bodies.py",
    # third-party peers: gammu, python-gsmmodem-new, the seed's Flask and Express servers
    "tests/emulator/test_gammu.py",
    "tests/emulator/test_gsmmodem.py",
    "tests/webhook/test_seed_",
    "tests/webhook/test_verify_in_flask.py",
    # a browser and a property-based API crawler
    "tests/ui/test_browser.py",
    "tests/api/test_schemathesis.py",
    # a real Mosquitto broker in a child process (and the daemon in one, for the outage tests)
    "tests/mqtt/test_link.py",
    "tests/mqtt/test_gateway_",
    "tests/mqtt/test_outage.py",
    "tests/mqtt/test_cli_mqtt.py",
    # several gateway nodes on one database, each with its own heartbeats
    "tests/scaleout/test_gateway_nodes.py",
    "tests/scaleout/test_scheduled_nodes.py",
    # a real Home Assistant (its own Python 3.13 virtualenv) and a Mosquitto broker
    "tests/home_assistant/",
)

#: Single tests in otherwise fast modules that wait on the wall clock (backoffs, probe
#: retries, a modem that stays silent until a timeout) or start a child interpreter.
SLOW_TESTS: tuple[str, ...] = (
    "tests/modem/test_recovery.py::test_hung_firmware_is_reopened_and_recovers",
    "tests/modem/test_recovery.py::test_backoff_is_capped_and_the_path_is_retried_until_it_appears",
    "tests/modem/test_port_return.py::test_returning_port_is_reopened_within_the_backoff_window",
    "tests/modem/test_emulated.py::test_a_prompt_left_open_by_a_killed_process_is_closed_at_probe",
    "tests/emulator/test_strict_reader.py::test_strict_reader_over_the_pty",
    "tests/modem/test_emulated.py::test_unplug_while_idle_comes_back_by_itself",
    "tests/modem/test_emulated.py::test_reboot_mid_session_is_reinitialised",
    "tests/modem/test_emulated.py::test_wrong_pin_fails_once_and_is_never_retried",
    "tests/webhook/test_dispatcher.py::test_a_slow_webhook_answer_for_one_peer_does_not_block_another",
    "tests/store/test_migrations.py::test_upgrade_at_head_does_not_import_alembic",
    "tests/cli/test_send.py::test_send_as_a_real_subprocess",
    "tests/config/test_one_line_errors.py::test_run_in_a_real_process_prints_no_traceback",
)


def classify(items: list[pytest.Item]) -> None:
    """Mark slow-tier items: listed modules and tests, and every PostgreSQL variant."""
    slow = pytest.mark.slow
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path.startswith(SLOW_MODULES) or item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(slow)
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(slow)
