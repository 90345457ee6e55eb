"""`smsgw emulator serve|deliver|sent|unplug|reboot|urc` (CONTRACT.md §4), plus fault drills.

`replug`, `garbage`, `hang` and `fail-send` are additions for reproducing faults by hand;
`ussd`, `call`, `register`, `signal` and `radio-stuck` play the network's side.

`serve` runs a virtual modem on a pty published at `--link`; every other subcommand talks
to a running `serve` through its control socket (`--control`, default `<link>.ctl`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from smsgw.cli.common import EXIT_USAGE, fail
from smsgw.emulator import PROFILES, DeviceOptions, EmulatedModem
from smsgw.emulator.control import ControlError, request
from smsgw.emulator.ussd import FixedReplies

app = typer.Typer(help="A virtual GSM modem on a pty (SIM800 or Huawei persona).")

DEFAULT_LINK = Path("/tmp/smsgw-modem")
#: A USSD answer fits 182 GSM-7 characters (TS 23.038 §6.1.2.3).
MAX_USSD_ANSWER = 182

LinkOption = Annotated[Path, typer.Option("--link", help="Symlink that points at the pty.")]
ControlOption = Annotated[
    Path | None,
    typer.Option("--control", help="Control socket of the emulator (default: <link>.ctl)."),
]


def _control_path(control: Path | None, link: Path) -> Path:
    return control if control is not None else link.with_name(link.name + ".ctl")


def _call(control: Path | None, link: Path, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        return request(_control_path(control, link), payload)
    except ControlError as error:
        fail(str(error))


@app.command()
def serve(
    profile: str = typer.Option("sim800", "--profile", help="sim800 | huawei | generic"),
    link: LinkOption = DEFAULT_LINK,
    control: ControlOption = None,
    baud: int | None = typer.Option(None, "--baud", help="Pace output at this baud rate."),
    cmgs_delay: float = typer.Option(0.5, "--cmgs-delay", help="Seconds AT+CMGS takes."),
    report_delay: float = typer.Option(2.0, "--report-delay", help="Seconds until a report."),
    report_status: str = typer.Option(
        "delivered", "--report-status", help="delivered | failed | none"
    ),
    pin: str | None = typer.Option(None, "--pin", help="SIM PIN the emulated SIM requires."),
    own_number: str | None = typer.Option(
        None, "--own-number", help="The SIM's own number, read by AT+CNUM (default: none)."
    ),
    ussd: Annotated[
        list[str] | None,
        typer.Option("--ussd", help='What the network answers a code: "*100#=Credit: 5 EUR".'),
    ] = None,
    text_only: bool = typer.Option(
        False, "--text-only", help="A firmware without PDU mode (AT+CMGF=0 is refused)."
    ),
) -> None:
    """Run the virtual modem until interrupted (Ctrl-C / SIGTERM)."""
    if profile not in PROFILES:
        fail(f"unknown profile {profile!r} (choose {', '.join(sorted(PROFILES))})", EXIT_USAGE)
    if report_status not in ("delivered", "failed", "none"):
        fail("--report-status must be delivered, failed or none", EXIT_USAGE)
    if cmgs_delay < 0 or report_delay < 0 or (baud is not None and baud <= 0):
        fail("delays must be >= 0 and --baud > 0", EXIT_USAGE)
    if own_number is not None and not re.fullmatch(r"\+?[0-9]{1,20}", own_number):
        fail(f"--own-number must be digits with an optional +, got {own_number!r}", EXIT_USAGE)
    replies: dict[str, str] = {}
    for entry in ussd or []:
        code, separator, answer = entry.partition("=")
        if not separator or not code or len(answer) > MAX_USSD_ANSWER:
            fail(f"--ussd wants CODE=TEXT (text up to {MAX_USSD_ANSWER} chars)", EXIT_USAGE)
        replies[code] = answer
    options = DeviceOptions(
        pdu_mode=not text_only,
        ussd=FixedReplies(replies) if replies else FixedReplies(),
        cmgs_delay=cmgs_delay,
        report_delay=report_delay,
        report_status="delivered"
        if report_status == "delivered"
        else ("failed" if report_status == "failed" else "none"),
        pin=pin,
        own_number=own_number,
    )
    modem = EmulatedModem(
        profile, link, control=_control_path(control, link), baud=baud, options=options
    )
    try:
        asyncio.run(_serve(modem))
    except OSError as error:
        fail(f"cannot start the emulator: {error}")


async def _serve(modem: EmulatedModem) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with modem:
        print(
            f"emulated {modem.profile.name} modem on {modem.link} -> {modem.pty_name}; "
            f"control socket {modem.control_path}",
            flush=True,
        )
        await stop.wait()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):
            loop.remove_signal_handler(signum)


@app.command()
def deliver(
    text: str | None = typer.Argument(None, help="Message text (multipart/UCS-2 as needed)."),
    sender: str | None = typer.Option(None, "--sender", help="Originating number or name."),
    pdu: str | None = typer.Option(None, "--pdu", help="Deliver this PDU hex verbatim."),
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """An SMS arrives at the emulated modem from the network."""
    if pdu is not None:
        if text is not None or sender is not None:
            fail("use either --pdu HEX or --sender N TEXT", EXIT_USAGE)
        _call(control, link, {"cmd": "deliver", "pdu": pdu})
        return
    if sender is None or text is None:
        fail("deliver needs --sender N TEXT (or --pdu HEX)", EXIT_USAGE)
    answer = _call(control, link, {"cmd": "deliver", "sender": sender, "text": text})
    print(json.dumps({"parts": len(answer.get("pdus", []))}))


@app.command()
def sent(
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """Every SMS the modem sent, one JSON line each: recipient, text, parts, mr, time."""
    answer = _call(control, link, {"cmd": "sent"})
    for message in answer.get("sent", []):
        print(json.dumps(message, ensure_ascii=False))


@app.command()
def unplug(
    for_s: float | None = typer.Option(None, "--for", help="Plug back in after S seconds."),
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """The pty disappears (and reappears at the same link after --for seconds)."""
    if for_s is not None and for_s < 0:
        fail("--for must be >= 0", EXIT_USAGE)
    _call(control, link, {"cmd": "unplug", "for_s": for_s})


@app.command()
def reboot(
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """Reset the module: boot banner again, volatile settings lost."""
    _call(control, link, {"cmd": "reboot"})


@app.command()
def urc(
    line: str = typer.Argument(..., help="The unsolicited line, e.g. 'RING' or '^RSSI:9'."),
    at: str = typer.Option("now", "--at", help="now | mid_reply | before_echo"),
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """Inject an unsolicited result line (now, inside the next reply, or before an echo)."""
    if at not in ("now", "mid_reply", "before_echo"):
        fail("--at must be now, mid_reply or before_echo", EXIT_USAGE)
    _call(control, link, {"cmd": "urc", "line": line, "at": at})


@app.command()
def ring(
    number: str = typer.Argument(..., help="The caller's number, e.g. +40721000000."),
    rings: int = typer.Option(6, "--rings", help="RINGs before the caller gives up (1-100)."),
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """An incoming call: RING (+CLIP with AT+CLIP=1) until ATH/AT+CHUP or --rings."""
    if not re.fullmatch(r"\+?[0-9]{1,20}", number) or not 1 <= rings <= 100:
        fail("the number must be digits with an optional +, and --rings 1-100", EXIT_USAGE)
    _call(control, link, {"cmd": "ring", "number": number, "rings": rings})


@app.command()
def replug(control: ControlOption = None, link: LinkOption = DEFAULT_LINK) -> None:
    """Plug an unplugged emulator back in now (a fresh pty at the same link)."""
    _call(control, link, {"cmd": "replug"})


@app.command()
def garbage(
    hex_bytes: str = typer.Argument(..., metavar="HEX", help="Bytes to put on the line."),
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """Line noise: raw bytes from the modem side (e.g. FF00FE)."""
    _call(control, link, {"cmd": "garbage", "hex": hex_bytes})


@app.command()
def hang(
    off: bool = typer.Option(False, "--off", help="Answer again."),
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """The modem stops answering (input ignored, nothing sent) until `hang --off`."""
    _call(control, link, {"cmd": "unresponsive", "on": not off})


@app.command("fail-send")
def fail_send(
    cause: int = typer.Option(500, "--cause", help="+CMS ERROR cause for the next send."),
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """The next AT+CMGS/AT+CMSS fails with +CMS ERROR: <cause>."""
    _call(control, link, {"cmd": "fail_send", "cause": cause})


@app.command()
def ussd(
    reply: Annotated[
        str | None, typer.Option("--reply", help="What the network answers every code.")
    ] = None,
    menu: Annotated[
        bool, typer.Option("--menu", help="--reply as a menu: the network waits for an answer.")
    ] = False,
    tree: Annotated[
        Path | None,
        typer.Option(
            "--tree",
            help='A scripted USSD menu, JSON: {"*100#": ["1 Balance 2 Data", {"1": "5 EUR"}]}.',
            dir_okay=False,
        ),
    ] = None,
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """Set what the network answers USSD codes (a fixed reply, a menu, or a menu tree)."""
    if (reply is None) == (tree is None):
        fail("give --reply TEXT or --tree FILE", EXIT_USAGE)
    if tree is not None:
        try:
            document = json.loads(tree.read_text(encoding="utf-8")[:1_000_000])
        except (OSError, ValueError) as error:
            fail(f"{tree}: {error}", EXIT_USAGE)
        _call(control, link, {"cmd": "ussd", "tree": document})
        return
    if reply is None or not 1 <= len(reply) <= MAX_USSD_ANSWER:
        fail(f"--reply is 1-{MAX_USSD_ANSWER} characters", EXIT_USAGE)
    _call(control, link, {"cmd": "ussd", "reply": reply, "menu": menu})


@app.command()
def call(
    number: Annotated[
        str | None, typer.Option("--from", help="The caller's number, e.g. +40721000000.")
    ] = None,
    rings: Annotated[int, typer.Option("--rings", help="RINGs before the caller gives up.")] = 6,
    withheld: Annotated[bool, typer.Option("--withheld", help="The number is withheld.")] = False,
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """An incoming call from --from (or --withheld): RING and +CLIP until hung up or --rings."""
    if withheld == (number is not None):
        fail("give --from NUMBER or --withheld", EXIT_USAGE)
    if number is not None and not re.fullmatch(r"\+?[0-9]{1,20}", number):
        fail("the number must be digits with an optional +", EXIT_USAGE)
    if not 1 <= rings <= 100:
        fail("--rings is 1-100", EXIT_USAGE)
    _call(control, link, {"cmd": "call", "number": number or "", "rings": rings})


@app.command()
def register(
    state: Annotated[str, typer.Argument(help="home, roaming, searching or denied.")],
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """What the network says about the SIM from now on (announced by +CREG)."""
    if state not in ("home", "roaming", "searching", "denied"):
        fail("the state is home, roaming, searching or denied", EXIT_USAGE)
    _call(control, link, {"cmd": "register", "state": state})


@app.command("signal")
def signal_level(
    rssi: Annotated[int, typer.Argument(help="AT+CSQ <rssi>: 0 (-113 dBm) to 31, 99 unknown.")],
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """The signal the modem reports from now on."""
    if not (0 <= rssi <= 31 or rssi == 99):
        fail("rssi is 0-31 or 99", EXIT_USAGE)
    _call(control, link, {"cmd": "signal", "rssi": rssi})


@app.command("radio-stuck")
def radio_stuck(
    permanent: Annotated[
        bool, typer.Option("--permanent", help="Not even AT+CFUN brings it back.")
    ] = False,
    control: ControlOption = None,
    link: LinkOption = DEFAULT_LINK,
) -> None:
    """The radio drops off the network and stays off until AT+CFUN restarts it."""
    _call(control, link, {"cmd": "radio_stuck", "permanent": permanent})
