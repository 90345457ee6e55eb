"""Pure parsers for the information lines of the commands smsgw uses.

Each function takes the text of one line (with or without its ``+XXX:`` prefix) and returns
a small frozen value, or raises :class:`~smsgw.exceptions.AtResponseError` when the line
does not have the promised shape. Real firmwares bend every format (PROTOCOL.md §2-§5):
spaces after commas, unquoted or half-quoted hex, missing parentheses, missing fields,
wrong lengths; the parsers accept those variants and reject only what is meaningless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smsgw.exceptions import AtResponseError

__all__ = [
    "CnmiSupport",
    "IntSet",
    "ListedMessage",
    "Operator",
    "Registration",
    "Signal",
    "StorageUse",
    "StoredHeader",
    "parse_cmgd_support",
    "parse_cmgl_header",
    "parse_cmgr_header",
    "parse_cmgs",
    "parse_cnmi_support",
    "parse_cnum",
    "parse_cops",
    "parse_cops_list",
    "parse_cpin",
    "parse_cpms_query",
    "parse_cpms_set",
    "parse_cpms_support",
    "parse_creg",
    "parse_csca",
    "parse_csq",
    "parse_identity",
    "split_fields",
    "strip_prefix",
]

MAX_IDENTITY = 100
"""Identity strings longer than this are cut (gammu's at-model/04 is 350 digits of junk)."""

_PREFIX = re.compile(r"^\s*[+^*$%][A-Za-z0-9_]+\s*:\s?")
_NUMBER = re.compile(r"^[0-9]{1,9}$")  # ASCII only: str.isdigit() accepts "¹" and "٣"


def strip_prefix(line: str, prefix: str | None = None) -> str:
    """Drop a leading ``+XXX:`` (only ``prefix`` if given) and surrounding blanks."""
    text = line.strip()
    if prefix is not None:
        if text.upper().startswith(prefix.upper()):
            return text[len(prefix) :].lstrip(" :").strip()
        return text
    return _PREFIX.sub("", text, count=1).strip()


def split_fields(text: str) -> list[str]:
    """Split on commas outside double quotes; fields keep their quotes, lose outer blanks."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth = max(0, depth - 1)
        elif char == "," and not quoted and depth == 0:
            fields.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    fields.append("".join(current).strip())
    return fields


def _unquote(field: str) -> str:
    return field.strip().strip('"').strip()


def _int(field: str, what: str, line: str) -> int:
    value = _unquote(field)
    if not _NUMBER.match(value):
        raise AtResponseError(what, line)
    return int(value)


def _optional_int(field: str) -> int | None:
    value = _unquote(field)
    return int(value) if _NUMBER.match(value) else None


# --- signal -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Signal:
    """``+CSQ: <rssi>,<ber>`` (27.007 §8.5; PROTOCOL.md §2.6)."""

    rssi: int
    ber: int

    @property
    def dbm(self) -> int | None:
        """-113 + 2*rssi for 0..31, ``None`` for 99 (unknown)."""
        return -113 + 2 * self.rssi if 0 <= self.rssi <= 31 else None


def parse_csq(line: str) -> Signal:
    fields = split_fields(strip_prefix(line, "+CSQ"))
    if len(fields) < 2:
        raise AtResponseError("+CSQ", line)
    return Signal(_int(fields[0], "+CSQ rssi", line), _int(fields[1], "+CSQ ber", line))


# --- registration -----------------------------------------------------------------------
_REG_NAMES = {
    0: "not registered",
    1: "registered (home)",
    2: "searching",
    3: "denied",
    4: "unknown",
    5: "registered (roaming)",
}


@dataclass(frozen=True)
class Registration:
    """``+CREG`` in its solicited (``<n>,<stat>,...``) or unsolicited (``<stat>,...``) form.

    ``lac``/``ci`` are upper-case hex without quotes or blanks, ``None`` when absent or
    empty; ``n`` is ``None`` for the unsolicited form.
    """

    stat: int
    n: int | None = None
    lac: str | None = None
    ci: str | None = None
    act: int | None = None

    @property
    def registered(self) -> bool:
        return self.stat in (1, 5)

    @property
    def roaming(self) -> bool:
        return self.stat == 5

    @property
    def description(self) -> str:
        return _REG_NAMES.get(self.stat, f"status {self.stat}")


def _hex_field(field: str) -> str | None:
    value = re.sub(r'[\s"]', "", field).upper()
    return value if value and re.fullmatch(r"[0-9A-F]+", value) else None


def parse_creg(line: str, *, solicited: bool | None = None) -> Registration:
    """Parse ``+CREG:`` (also ``+CGREG``/``+CEREG``); ``solicited=None`` guesses the form.

    Guessing (for URCs from modems that send either form, ModemManager's tests): 2 fields,
    or 4+ fields whose second is an unquoted stat (``1``, ``001``), are the solicited form;
    in the unsolicited form the second field is the LAC.
    """
    body = _PREFIX.sub("", line.strip(), count=1)
    fields = split_fields(body)
    if solicited is None:
        count = len(fields)
        second = fields[1] if count > 1 else ""
        looks_like_stat = re.fullmatch(r"0*\d", second) is not None
        solicited = count == 2 or (count >= 4 and looks_like_stat)
    if solicited:
        if len(fields) < 2:
            raise AtResponseError("+CREG", line)
        n: int | None = _int(fields[0], "+CREG n", line)
        rest = fields[1:]
    else:
        n, rest = None, fields
    if not rest or not _unquote(rest[0]):
        raise AtResponseError("+CREG stat", line)
    stat = _int(rest[0], "+CREG stat", line)
    lac = _hex_field(rest[1]) if len(rest) > 1 else None
    ci = _hex_field(rest[2]) if len(rest) > 2 else None
    act = _optional_int(rest[3]) if len(rest) > 3 else None
    return Registration(stat=stat, n=n, lac=lac, ci=ci, act=act)


# --- operator ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Operator:
    """``+COPS: <mode>[,<format>,<oper>[,<AcT>]]``; ``name`` is ``None`` when unregistered.

    In the ``AT+COPS=?`` list, ``mode`` holds the operator's ``<stat>`` (0 unknown,
    1 available, 2 current, 3 forbidden) and ``numeric`` its MCC+MNC.
    """

    mode: int
    name: str | None = None
    format: int | None = None
    act: int | None = None
    numeric: str | None = None


def parse_cops(line: str) -> Operator:
    fields = split_fields(strip_prefix(line, "+COPS"))
    mode = _int(fields[0], "+COPS mode", line)
    if len(fields) < 3:
        return Operator(mode=mode)
    fmt = _optional_int(fields[1])
    name = _unquote(fields[2]) or None
    act = _optional_int(fields[3]) if len(fields) > 3 else None
    numeric = name if fmt == 2 else None
    return Operator(mode=mode, name=name, format=fmt, act=act, numeric=numeric)


_COPS_ENTRY = re.compile(
    r'\(\s*(\d)\s*,\s*"([^"]*)"\s*,\s*(?:"([^"]*)")?\s*,\s*"(\d+)"\s*(?:,\s*(\d+)\s*)?\)'
)


def parse_cops_list(text: str) -> list[Operator]:
    """Operators of an ``AT+COPS=?`` reply (one or several lines), skipping broken entries."""
    operators = []
    for match in _COPS_ENTRY.finditer(text):
        stat, long_name, short_name, numeric, act = match.groups()
        operators.append(
            Operator(
                mode=int(stat),
                name=long_name or short_name or None,
                format=0,
                act=int(act) if act is not None else None,
                numeric=numeric,
            )
        )
    return operators


# --- storage ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StorageUse:
    """One memory of ``+CPMS``: name (``None`` in the set form) and its use."""

    memory: str | None
    used: int
    total: int

    @property
    def full(self) -> bool:
        return self.total > 0 and self.used >= self.total


_QUOTED = re.compile(r'"([^"]*)"')


def parse_cpms_support(line: str) -> tuple[tuple[str, ...], ...]:
    """``AT+CPMS=?`` -> the memories allowed for mem1, mem2, mem3 (fewer when not given).

    Accepts ``("SM","ME"),("SM","ME"),...``, spaces, Wavecom's ``(("SM","BM","SR"),("SM"))``
    and the no-parentheses form ``"ME","MT","SM"`` (one memory per position).
    """
    body = strip_prefix(line, "+CPMS")
    if "(" in body:
        groups = re.findall(r"\(([^()]*)\)", body)
        return tuple(tuple(m.strip() for m in _QUOTED.findall(g)) for g in groups)
    return tuple((m.strip(),) for m in _QUOTED.findall(body))


def parse_cpms_query(line: str) -> list[StorageUse]:
    """``AT+CPMS?`` -> ``+CPMS: "ME",0,50,"SM",9,50,"MT",9,100``."""
    fields = split_fields(strip_prefix(line, "+CPMS"))
    uses = []
    for start in range(0, len(fields) - 2, 3):
        memory, used, total = fields[start : start + 3]
        if not _unquote(memory) and not _unquote(used):
            continue  # Nokia N79: `+CPMS: ,,,,,,,,`
        uses.append(
            StorageUse(
                _unquote(memory) or None,
                _int(used, "+CPMS used", line),
                _int(total, "+CPMS total", line),
            )
        )
    if not uses:
        raise AtResponseError("+CPMS?", line)
    return uses


def parse_cpms_set(line: str) -> list[StorageUse]:
    """``AT+CPMS=...`` -> ``+CPMS: 0,50,0,50,0,20`` (pairs of used,total; one pair at least)."""
    fields = split_fields(strip_prefix(line, "+CPMS"))
    if len(fields) < 2:
        raise AtResponseError("+CPMS=", line)
    return [
        StorageUse(None, _int(fields[i], "+CPMS used", line), _int(fields[i + 1], "+CPMS", line))
        for i in range(0, len(fields) - 1, 2)
    ]


# --- value lists (=? replies) -----------------------------------------------------------
@dataclass(frozen=True)
class IntSet:
    """A set of integers written as ``(0-3)``, ``(0,2)``, ``(0-1,3)`` or ``()``.

    Kept as ranges, so ``(1-5000)`` or a hostile ``(0-999999999)`` costs nothing.
    """

    ranges: tuple[tuple[int, int], ...] = ()

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and any(lo <= value <= hi for lo, hi in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    @property
    def minimum(self) -> int | None:
        return min((lo for lo, _ in self.ranges), default=None)

    @classmethod
    def parse(cls, text: str) -> IntSet:
        ranges = []
        for item in text.strip().strip("()").split(","):
            bounds = [part.strip() for part in item.split("-")]
            if not bounds[0] and len(bounds) == 1:
                continue
            if not all(_NUMBER.match(b) for b in bounds) or len(bounds) > 2:
                raise AtResponseError("value list", text)
            low, high = int(bounds[0]), int(bounds[-1])
            ranges.append((min(low, high), max(low, high)))
        return cls(tuple(ranges))


@dataclass(frozen=True)
class CnmiSupport:
    """``AT+CNMI=?`` -> the values each of ``<mode>,<mt>,<bm>,<ds>,<bfr>`` accepts."""

    mode: IntSet
    mt: IntSet
    bm: IntSet
    ds: IntSet
    bfr: IntSet

    def allows(self, mode: int, mt: int, bm: int, ds: int, bfr: int) -> bool:
        """True when every value is listed (an empty list is taken as "only 0")."""
        pairs = ((self.mode, mode), (self.mt, mt), (self.bm, bm), (self.ds, ds), (self.bfr, bfr))
        return all((value in allowed) if allowed else value == 0 for allowed, value in pairs)


def parse_cnmi_support(line: str) -> CnmiSupport:
    groups = re.findall(r"\(([^()]*)\)", strip_prefix(line, "+CNMI"))
    if not groups:
        raise AtResponseError("+CNMI=?", line)
    sets = [IntSet.parse(g) for g in groups[:5]] + [IntSet()] * (5 - min(5, len(groups)))
    return CnmiSupport(*sets)


def parse_cmgd_support(line: str) -> tuple[IntSet, IntSet]:
    """``AT+CMGD=?`` -> (indexes currently in use, delete flags). ``(),(0-4)`` when empty.

    27.005 lists the *stored* indexes, not the valid range, so only a ``0`` in it proves a
    zero-based storage; the driver therefore always uses indexes the modem reported.
    """
    groups = re.findall(r"\(([^()]*)\)", strip_prefix(line, "+CMGD"))
    if not groups:
        raise AtResponseError("+CMGD=?", line)
    flags = IntSet.parse(groups[1]) if len(groups) > 1 else IntSet()
    return IntSet.parse(groups[0]), flags


# --- stored messages --------------------------------------------------------------------
@dataclass(frozen=True)
class StoredHeader:
    """``+CMGR: [<stat>],[<alpha>],<length>`` (PDU mode). Do not trust ``length`` (§5.2)."""

    stat: int | None
    alpha: str | None
    length: int | None


@dataclass(frozen=True)
class ListedMessage:
    """``+CMGL: <index>,<stat>,[<alpha>],<length>`` (PDU mode)."""

    index: int
    stat: int | None
    alpha: str | None
    length: int | None


def parse_cmgr_header(line: str) -> StoredHeader:
    """All the forms of PROTOCOL.md §5.2: ``0,,24``, ``1,"",23``, ``,,27``, ``24``,
    ``0,23``, ``4,1,,151``."""
    fields = split_fields(strip_prefix(line, "+CMGR"))
    if not fields or not fields[-1]:
        raise AtResponseError("+CMGR", line)
    length = _int(fields[-1], "+CMGR length", line)
    if len(fields) == 1:
        return StoredHeader(stat=None, alpha=None, length=length)
    stat = _optional_int(fields[0])
    if _unquote(fields[0]) and stat is None:
        raise AtResponseError("+CMGR stat", line)
    alpha = _unquote(fields[-2]) if len(fields) >= 3 else None
    return StoredHeader(stat=stat, alpha=alpha or None, length=length)


def parse_cmgl_header(line: str) -> ListedMessage:
    fields = split_fields(strip_prefix(line, "+CMGL"))
    if len(fields) < 2:
        raise AtResponseError("+CMGL", line)
    index = _int(fields[0], "+CMGL index", line)
    stat = _optional_int(fields[1])
    length = _optional_int(fields[-1]) if len(fields) >= 3 else None
    alpha = _unquote(fields[2]) if len(fields) >= 4 else None
    return ListedMessage(index=index, stat=stat, alpha=alpha or None, length=length)


def parse_cmgs(line: str) -> int:
    """``+CMGS: <mr>[,<scts>]`` -> the TP-MR (0..255)."""
    fields = split_fields(strip_prefix(line, "+CMGS"))
    reference = _int(fields[0], "+CMGS", line)
    if reference > 255:
        raise AtResponseError("+CMGS reference", line)
    return reference


# --- SIM, SMSC, identity ----------------------------------------------------------------
def parse_cpin(line: str) -> str:
    """``+CPIN: READY`` -> ``READY`` (``SIM PIN``, ``SIM PUK``, ``NOT INSERTED``...)."""
    code = " ".join(strip_prefix(line, "+CPIN").strip('"').split()).upper()
    if not code:
        raise AtResponseError("+CPIN", line)
    return code


def _maybe_ucs2_hex(value: str) -> str:
    if len(value) >= 8 and len(value) % 4 == 0 and re.fullmatch(r"(00[0-9A-Fa-f]{2})+", value):
        decoded = bytes.fromhex(value).decode("utf-16-be")
        if re.fullmatch(r"\+?[0-9]+", decoded):
            return decoded
    return value


def parse_csca(line: str) -> str | None:
    """``+CSCA: "+79168999100",145`` -> the SMSC number; ``None`` when empty.

    Also decodes the UCS2-hex form some modems use after ``AT+CSCS="UCS2"``.
    """
    fields = split_fields(strip_prefix(line, "+CSCA"))
    number = _maybe_ucs2_hex(_unquote(fields[0]).replace(" ", ""))
    if not number:
        return None
    if not re.fullmatch(r"\+?[0-9*#]+", number):
        raise AtResponseError("+CSCA", line)
    return number


def parse_cnum(lines: list[str] | tuple[str, ...]) -> str | None:
    """The SIM's own number from ``AT+CNUM`` (27.007 §7.1), or ``None`` when it stores none.

    ``+CNUM: "","+40721000000",145,7,4`` (SIMCom), ``+CNUM: "","+40721000000",145``
    (Huawei), ``+CNUM: ,"0721000000",129`` and UCS2-hex forms are accepted; the first line
    with a number wins (a SIM may list voice, fax and data numbers). Type 145 (international)
    gets its ``+`` when the firmware left it out. A bare ``OK`` (no lines) or lines with an
    empty number mean the SIM does not know its number: most prepaid cards.
    """
    for line in lines:
        if not line.strip().upper().startswith("+CNUM"):
            continue
        fields = split_fields(strip_prefix(line, "+CNUM"))
        if len(fields) < 2:
            raise AtResponseError("+CNUM", line)
        number = _maybe_ucs2_hex(_unquote(fields[1]).replace(" ", ""))
        if not number:
            continue
        if not re.fullmatch(r"\+?[0-9]{1,20}", number):
            raise AtResponseError("+CNUM", line)
        kind = _unquote(fields[2]) if len(fields) > 2 else ""
        if kind == "145" and not number.startswith("+"):
            number = "+" + number
        return number
    return None


def parse_identity(lines: list[str], prefix: str | None = None) -> str:
    """The value of ``AT+CGMI``/``+CGMM``/``+CGMR``/``+CGSN``: first non-empty line, with an
    echoed ``+CGMM:``-style prefix or a ``Revision:`` label removed, blanks collapsed."""
    for raw in lines:
        text = strip_prefix(raw, prefix) if prefix else raw
        text = re.sub(r"^(Revision|Manufacturer|Model)\s*:\s*", "", text.strip(), flags=re.I)
        text = " ".join(text.split())
        if text:
            return text[:MAX_IDENTITY]
    raise AtResponseError("identity", " | ".join(lines))
