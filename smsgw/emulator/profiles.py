"""Modem personas as data: what differs between a SIM800, a Huawei stick and a generic modem.

Every value here comes from a capture, a vendor manual or a maintained driver's table
(the section numbers refer to ../shared/PROTOCOL.md). The device interpreter reads these
fields and never branches on the profile's *name*, so adding a persona means adding data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True, slots=True)
class CnmiRule:
    """Which `AT+CNMI=<mode>,<mt>,<bm>,<ds>,<bfr>` values a firmware accepts.

    `allowed` holds one set per parameter (what `AT+CNMI=?` advertises); `forbidden` lists
    extra (mode, ds) pairs the firmware refuses although each value is advertised, like the
    Huawei rule "ds=1 is not allowed when mode is 0 or 2" (§3.3.2).
    """

    allowed: tuple[frozenset[int], frozenset[int], frozenset[int], frozenset[int], frozenset[int]]
    forbidden_mode_ds: frozenset[tuple[int, int]] = frozenset()

    def accepts(self, values: tuple[int, int, int, int, int]) -> bool:
        """True when every value is advertised and the (mode, ds) pair is not forbidden."""
        if any(v not in allowed for v, allowed in zip(values, self.allowed, strict=True)):
            return False
        return (values[0], values[3]) not in self.forbidden_mode_ds


@dataclasses.dataclass(frozen=True, slots=True)
class PlainSetting:
    """A vendor setting that only needs remembering: `AT<name>=<v>` stores it, `AT<name>?`
    answers `<name>: <v>`, `AT<name>=?` answers `test` (`+CLTS`, `^PORTSEL`, `+CVHU`...)."""

    default: int
    allowed: frozenset[int]
    test: str


@dataclasses.dataclass(frozen=True, slots=True)
class Profile:
    """Everything that makes one modem family look like itself on the wire."""

    name: str
    manufacturer: str
    model: str
    revision: str
    ati: tuple[str, ...]
    imei: str
    imsi: str
    operator: str
    #: `AT+COPS=3,1` short name and `AT+COPS=3,2` numeric MCC+MNC of the same operator.
    operator_short: str
    operator_numeric: str
    #: `<AcT>` appended to `+COPS:`/`+CREG`-style answers (Huawei 3G: "2"); None = none.
    access_technology: str | None
    smsc: str
    #: (delay after power-on in seconds, line) emitted at boot (§2.1).
    banner: tuple[tuple[float, str], ...]
    #: Seconds after power-on when SMS commands stop failing (SIM800 "SMS Ready").
    sms_ready_after: float
    #: Lines emitted once at boot unless `AT^CURC=0` (Huawei, §3.2.1).
    boot_noise: tuple[str, ...]
    #: A periodic URC (`^RSSI:<n>`) and its period; None = no periodic noise.
    periodic_noise: str | None
    periodic_noise_interval: float
    #: Storage name -> capacity; aliases map extra names onto real storages.
    storages: Mapping[str, int]
    storage_aliases: Mapping[str, str]
    #: Names whose union is the combined "MT" view (empty = no MT).
    combined_mt: tuple[str, ...]
    cpms_test: str
    cpms_default: tuple[str, str, str]
    #: Storage used for status reports with ds=2 (None = the profile has no SR storage).
    status_report_storage: str | None
    index_base: int
    cnmi_test: str
    cnmi_rule: CnmiRule
    cnmi_default: tuple[int, int, int, int, int]
    cscs_test: str
    cscs_default: str
    #: Extra empty line after `+CSCS: ...` (Huawei E1752, §3.3.7).
    cscs_trailing_blank: bool
    #: What the firmware says for a command it does not know (§1.1, §3.3.8).
    unknown_command: str
    #: How the <alpha> field looks in +CMGR/+CMGL/+CMT headers: '""' or '' (§2.12).
    pdu_alpha: str
    #: +CREG LAC/CI: quoted 4-hex (SIMCom) or unquoted variable width (Huawei, §3.2.3).
    creg_quoted: bool
    lac: str
    cell_id: str
    #: LAC/CI shown with `+CREG=2` while not registered (Huawei E160G: `+CREG: 2,0,00,0`).
    unregistered_location: str | None
    #: Vendor settings the firmware remembers and reads back (name -> PlainSetting).
    plain_settings: Mapping[str, PlainSetting]
    #: `AT+CMGDA` (SIM800 delete-all) is available.
    has_cmgda: bool
    #: `AT^CURC` (Huawei URC switch) is available.
    has_curc: bool
    #: Answer to `AT+CLAC` (None = ERROR / unknown command).
    clac: tuple[str, ...] | None
    #: Extra characters before each `AT+CLAC` line's CRLF (E1752: `&C\r\r\n`, §1.13).
    clac_line_end: str
    #: USSD strings as packed GSM-7 hex (Huawei `^USSDMODE=1`, §3.3.8) instead of text.
    ussd_packed: bool = False
    #: `AT^USSDMODE` (Huawei switch between packed hex and text USSD) is available.
    has_ussdmode: bool = False
    #: What follows `<number>,<type>` in `+CNUM:` lines (SIMCom adds `<speed>,<service>`).
    cnum_trailer: str = ""
    #: What follows `<number>,<type>` in `+CLIP:` caller lines.
    clip_trailer: str = ",,,,0"

    @property
    def plain_settings_default(self) -> dict[str, int]:
        return {name: setting.default for name, setting in self.plain_settings.items()}


def _range(lo: int, hi: int) -> frozenset[int]:
    return frozenset(range(lo, hi + 1))


#: `AT+IPR` rates (0 = autobaud, §2.2); the pty runs at whatever the client opens it with.
IPR_RATES = frozenset({0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200})
IPR_TEST = "(),(0,1200,2400,4800,9600,19200,38400,57600,115200)"

SIM800 = Profile(
    name="sim800",
    manufacturer="SIMCOM_Ltd",
    model="SIMCOM_SIM800L",
    revision="Revision:1418B05SIM800L24",
    ati=("SIM800 R14.18",),
    imei="864369032292264",
    imsi="226101234567890",
    operator="Orange RO",
    operator_short="Orange",
    operator_numeric="22610",
    access_technology=None,
    smsc="+40744946000",
    banner=(
        (0.0, "RDY"),
        (0.05, "+CFUN: 1"),
        (0.1, "+CPIN: READY"),
        (0.3, "Call Ready"),
        (0.4, "SMS Ready"),
    ),
    sms_ready_after=0.4,
    boot_noise=(),
    periodic_noise=None,
    periodic_noise_interval=0.0,
    storages={"SM": 50, "ME": 50},
    storage_aliases={"SM_P": "SM", "ME_P": "ME"},
    combined_mt=("SM", "ME"),
    cpms_test=(
        '+CPMS: ("SM","ME","SM_P","ME_P","MT"),("SM","ME","SM_P","ME_P","MT"),'
        '("SM","ME","SM_P","ME_P","MT")'
    ),
    cpms_default=("SM", "SM", "SM"),
    status_report_storage=None,
    index_base=1,
    cnmi_test="+CNMI: (0-3),(0-3),(0,2),(0,1),(0,1)",
    cnmi_rule=CnmiRule(
        allowed=(_range(0, 3), _range(0, 3), frozenset({0, 2}), _range(0, 1), _range(0, 1))
    ),
    cnmi_default=(2, 1, 0, 0, 0),
    cscs_test='+CSCS: ("IRA","GSM","UCS2","HEX","PCCP","PCDN","8859-1")',
    cscs_default="IRA",
    cscs_trailing_blank=False,
    unknown_command="ERROR",
    pdu_alpha='""',
    creg_quoted=True,
    lac="1A2B",
    cell_id="3C4D",
    unregistered_location=None,
    plain_settings={
        "+CIURC": PlainSetting(1, _range(0, 1), "(0,1)"),
        "+CLTS": PlainSetting(0, _range(0, 1), "(0,1)"),
        "+CBATCHK": PlainSetting(0, _range(0, 1), "(0,1)"),
        "+DDET": PlainSetting(0, _range(0, 1), "(0,1),(0-10000),(0,1),(0,1)"),
        "+CVHU": PlainSetting(0, _range(0, 1), "(0,1)"),
        "+IPR": PlainSetting(0, IPR_RATES, IPR_TEST),
    },
    has_cmgda=True,
    has_curc=False,
    clac=None,
    clac_line_end="",
    cnum_trailer=",7,4",
    clip_trailer=',"",0,"",0',
)

HUAWEI = Profile(
    name="huawei",
    manufacturer="huawei",
    model="E1752",
    revision="11.126.13.00.00",
    ati=("Manufacturer: huawei", "Model: E1752", "Revision: 11.126.13.00.00", "+GCAP: +CGSM"),
    imei="353142030000001",
    imsi="226109876543210",
    operator="Vodafone RO",
    operator_short="Vodafone",
    operator_numeric="22601",
    access_technology="2",
    smsc="+40722004000",
    banner=(),
    sms_ready_after=0.2,
    boot_noise=("^BOOT:27710117,0,0,0,75", "^MODE:5,4", "^SRVST:0", "^SIMST:1"),
    periodic_noise="^RSSI:18",
    periodic_noise_interval=9.0,
    storages={"SM": 50, "ME": 23, "SR": 20},
    storage_aliases={},
    combined_mt=("SM", "ME"),
    cpms_test='+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM","SR"),("ME","MT","SM","SR")',
    cpms_default=("SM", "SM", "SM"),
    status_report_storage="SR",
    index_base=0,
    cnmi_test="+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),(0,1)",
    cnmi_rule=CnmiRule(
        allowed=(_range(0, 2), _range(0, 3), frozenset({0, 2}), _range(0, 2), _range(0, 1)),
        forbidden_mode_ds=frozenset({(0, 1), (2, 1)}),
    ),
    cnmi_default=(0, 0, 0, 0, 0),
    cscs_test='+CSCS: ("IRA","UCS2","GSM")',
    cscs_default="GSM",
    cscs_trailing_blank=True,
    unknown_command="COMMAND NOT SUPPORT",
    pdu_alpha="",
    creg_quoted=False,
    lac="4CA",
    cell_id="81DE445",
    unregistered_location="00,0",
    plain_settings={
        "^PORTSEL": PlainSetting(0, _range(0, 1), "(0,1)"),
        "+CVHU": PlainSetting(0, _range(0, 1), "(0,1)"),
        "^CVOICE": PlainSetting(0, _range(0, 0), "(0)"),
        "+IPR": PlainSetting(0, IPR_RATES, IPR_TEST),
    },
    has_cmgda=False,
    has_curc=True,
    ussd_packed=True,
    has_ussdmode=True,
    clac=(
        "+CGMI",
        "+CGMM",
        "+CGMR",
        "+CGSN",
        "+CIMI",
        "+CMGF",
        "+CMGL",
        "+CMGR",
        "+CMGS",
        "+CMGW",
        "+CMGD",
        "+CMSS",
        "+CNMI",
        "+CPMS",
        "+CSCA",
        "+CSCS",
        "+CSQ",
        "+CREG",
        "+COPS",
        "+CPIN",
        "+CNUM",
        "^CURC",
        "^PORTSEL",
        "^USSDMODE",
        "^DTMF",
    ),
    clac_line_end="\r",
)

GENERIC = dataclasses.replace(
    SIM800,
    name="generic",
    manufacturer="Generic",
    model="GSM Modem",
    revision="1.0",
    ati=("Generic GSM Modem 1.0",),
    banner=(),
    sms_ready_after=0.0,
    storages={"SM": 30, "ME": 30, "SR": 10},
    storage_aliases={},
    combined_mt=("SM", "ME"),
    cpms_test='+CPMS: ("SM","ME","MT","SR"),("SM","ME","MT"),("SM","ME","MT")',
    status_report_storage="SR",
    cnmi_test="+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
    cnmi_rule=CnmiRule(
        allowed=(_range(0, 2), _range(0, 3), frozenset({0, 2}), _range(0, 2), _range(0, 1))
    ),
    cscs_test='+CSCS: ("GSM","IRA","UCS2")',
    cscs_default="GSM",
    plain_settings={
        "+CVHU": PlainSetting(0, _range(0, 1), "(0,1)"),
        "+IPR": PlainSetting(0, IPR_RATES, IPR_TEST),
    },
    has_cmgda=False,
)

PROFILES: Mapping[str, Profile] = {p.name: p for p in (SIM800, HUAWEI, GENERIC)}


def get_profile(name: str) -> Profile:
    """Look a persona up by name; ValueError lists the valid ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown emulator profile {name!r} (choose {sorted(PROFILES)})") from None
