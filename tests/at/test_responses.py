"""Table tests for the response parsers, including real replies from ../shared/corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smsgw.at import fields, identity, messages, network, storage, value_lists
from smsgw.exceptions import AtResponseError


def dump_lines(path: Path) -> list[str]:
    """The reply lines of a gammu `.dump` (line 1 is the command), blank lines dropped."""
    lines = path.read_text(encoding="latin-1").replace("\r", "\n").split("\n")[1:]
    return [line for line in lines if line.strip() and line.strip() != "OK"]


# --- +CSQ -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "rssi", "dbm"),
    [
        ("+CSQ: 13,0", 13, -87),
        ("+CSQ: 0,0", 0, -113),
        ("+CSQ: 31,99", 31, -51),
        ("99,99", 99, None),
    ],
)
def test_csq(line: str, rssi: int, dbm: int | None) -> None:
    signal = network.parse_csq(line)
    assert signal.rssi == rssi
    assert signal.dbm == dbm


@pytest.mark.parametrize("line", ["+CSQ: ", "+CSQ: x,0", "+CSQ: 13"])
def test_csq_rejects(line: str) -> None:
    with pytest.raises(AtResponseError):
        network.parse_csq(line)


# --- +CREG ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "stat", "lac", "ci", "act"),
    [
        ("huawei.dump", 1, "4CA", "81DE445", None),
        ("none.dump", 0, None, None, None),
        ("siemens.dump", 1, "5E25", "605F", None),
        ("sierra312u.dump", 5, "2AF5", "0B88E350", 2),
        ("telit.dump", 1, "5E25", "605F", 2),
    ],
)
def test_creg_gammu_dumps(
    corpus_dir: Path, name: str, stat: int, lac: str | None, ci: str | None, act: int | None
) -> None:
    (line,) = dump_lines(corpus_dir / "gammu" / "at-creg" / name)
    reg = network.parse_creg(line, solicited=True)
    assert (reg.stat, reg.lac, reg.ci, reg.act) == (stat, lac, ci, act)


def test_creg_empty_reply_has_no_lines(corpus_dir: Path) -> None:
    assert dump_lines(corpus_dir / "gammu" / "at-creg" / "empty.dump") == []


@pytest.mark.parametrize(
    ("name", "lac", "ci"),
    [("empty-lac.dump", None, "605F"), ("single-quote.dump", "5E25", None)],
)
def test_creg_corner_dumps(corpus_dir: Path, name: str, lac: str | None, ci: str | None) -> None:
    (line,) = dump_lines(corpus_dir / "gammu" / "at-creg-corner" / name)
    reg = network.parse_creg(line, solicited=True)
    assert reg.registered
    assert (reg.lac, reg.ci) == (lac, ci)


def test_creg_mismatched_quotes_still_gives_the_status(corpus_dir: Path) -> None:
    (line,) = dump_lines(corpus_dir / "gammu" / "at-creg-corner" / "mismatched-quotes.dump")
    assert network.parse_creg(line, solicited=True).stat == 1


@pytest.mark.parametrize(
    ("line", "stat", "n", "lac", "ci"),
    [
        ("+CREG: 1, E006B, ABE0016", 1, None, "E006B", "ABE0016"),
        ("+CREG: 2,1,4CA,81DE445", 1, 2, "4CA", "81DE445"),
        ("+CREG: 1,8BE3,2BAF", 1, None, "8BE3", "2BAF"),
        ("+CREG: 2,0,00,0", 0, 2, "00", "0"),
        ("+CREG: 2,1,  0 5, 2715", 1, 2, "05", "2715"),
        ("+CREG: 5", 5, None, None, None),
        ("+CREG: 0,2", 2, 0, None, None),
        ('+CREG:002,001,"18d8","ffff"', 1, 2, "18D8", "FFFF"),
        ('+CREG: 001,"0001","0010",000', 1, None, "0001", "0010"),
    ],
)
def test_creg_guessing_the_form(
    line: str, stat: int, n: int | None, lac: str | None, ci: str | None
) -> None:
    reg = network.parse_creg(line)
    assert (reg.stat, reg.n, reg.lac, reg.ci) == (stat, n, lac, ci)


def test_creg_modemmanager_replies_all_parse(corpus_dir: Path) -> None:
    data = json.loads((corpus_dir / "modemmanager" / "cops_creg_replies.json").read_text())
    parsed = 0
    for entry in data["creg_replies"]:
        for line in entry["reply"].replace("\r", "\n").split("\n"):
            if line.strip():
                reg = network.parse_creg(line)
                assert 0 <= reg.stat <= 11, line
                parsed += 1
    assert parsed >= 40


@pytest.mark.parametrize("line", ["+CREG: ", "+CREG: x,1", "+CREG: 2,"])
def test_creg_rejects(line: str) -> None:
    with pytest.raises(AtResponseError):
        network.parse_creg(line, solicited=True)


# --- +COPS ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('+COPS: 0,0,"Vodafone RO",2', network.Operator(0, "Vodafone RO", 0, 2)),
        ("+COPS: 0", network.Operator(0)),
        ('+COPS: 0,2,"22601"', network.Operator(0, "22601", 2, None, "22601")),
    ],
)
def test_cops(line: str, expected: network.Operator) -> None:
    assert network.parse_cops(line) == expected


def test_cops_lists_from_modemmanager(corpus_dir: Path) -> None:
    data = json.loads((corpus_dir / "modemmanager" / "cops_creg_replies.json").read_text())
    for entry in data["cops_test_replies"]:
        operators = network.parse_cops_list(entry["reply"])
        assert operators, entry["device"]
        assert all(op.numeric and op.numeric.isdigit() for op in operators)
    e160 = next(e for e in data["cops_test_replies"] if e["device"] == "Huawei E160G")
    assert [(o.mode, o.name, o.numeric) for o in network.parse_cops_list(e160["reply"])] == [
        (2, "T-Mobile", "31026"),
        (1, "AT&T", "310410"),
    ]


# --- +CPMS ----------------------------------------------------------------------------------
SIM800_MEMS = ("SM", "ME", "SM_P", "ME_P", "MT")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alcatel-s320.dump", (SIM800_MEMS,) * 3),
        ("brovi-e3372-325.dump", (("SM", "ME"),) * 3),
        ("generic.dump", (("SM", "ME"),) * 3),
        ("samsung-j700.dump", ()),
    ],
)
def test_cpms_support_gammu_dumps(corpus_dir: Path, name: str, expected: tuple[object]) -> None:
    (line,) = dump_lines(corpus_dir / "gammu" / "at-cpms" / name)
    assert storage.parse_cpms_support(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('+CPMS: "ME","MT","SM"', (("ME",), ("MT",), ("SM",))),
        ('+CPMS: (("SM","BM","SR"),("SM"))', (("SM", "BM", "SR"), ("SM",))),
        (
            '+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM","SR"),("ME","MT","SM","SR")',
            (("ME", "MT", "SM", "SR"),) * 3,
        ),
    ],
)
def test_cpms_support_variants(line: str, expected: tuple[object]) -> None:
    assert storage.parse_cpms_support(line) == expected


def test_cpms_query_and_set_forms() -> None:
    assert storage.parse_cpms_query('+CPMS: "ME",0,50,"SM",9,50,"MT",9,100') == [
        storage.StorageUse("ME", 0, 50),
        storage.StorageUse("SM", 9, 50),
        storage.StorageUse("MT", 9, 100),
    ]
    uses = storage.parse_cpms_set("+CPMS: 0,50,0,50,0,20")
    assert [(u.used, u.total) for u in uses] == [(0, 50), (0, 50), (0, 20)]
    assert storage.parse_cpms_set("+CPMS: 1,5000") == [storage.StorageUse(None, 1, 5000)]
    assert storage.StorageUse("SM", 50, 50).full
    assert not storage.StorageUse("SM", 49, 50).full


@pytest.mark.parametrize("line", ["+CPMS: ,,,,,,,,", "+CPMS: ", '+CPMS: "SM",x,50'])
def test_cpms_query_rejects(line: str) -> None:
    with pytest.raises(AtResponseError):
        storage.parse_cpms_query(line)


# --- +CNMI=? / +CMGD=? ----------------------------------------------------------------------
def test_cnmi_support_gammu_dumps(corpus_dir: Path) -> None:
    supports = {
        p.name: value_lists.parse_cnmi_support(dump_lines(p)[0])
        for p in sorted((corpus_dir / "gammu" / "at-cnmi").glob("*.dump"))
    }
    first = supports["01.dump"]
    assert 2 in first.mode
    assert 0 not in first.mode
    assert 3 in first.mt
    assert 2 not in first.mt
    assert not first.allows(2, 1, 0, 2, 0)  # ds 2 not offered
    assert first.allows(2, 1, 0, 1, 0)
    assert supports["03.dump"].allows(3, 3, 3, 1, 1)  # "+CNMI:(0-3)..." without a space


def test_cnmi_sim800_rejects_ds2() -> None:
    support = value_lists.parse_cnmi_support("+CNMI: (0-3),(0-3),(0,2),(0,1),(0,1)")
    assert support.allows(2, 1, 0, 1, 0)
    assert not support.allows(2, 1, 0, 2, 0)


@pytest.mark.parametrize(
    ("line", "minimum", "present", "absent"),
    [
        ("+CMGD: (1-30),(0-4)", 1, 30, 0),
        ("+CMGD: (0-9),(0-4)", 0, 0, 10),
        ("+CMGD: (7),(0-4)", 7, 7, 6),
        ("+CMGD: (4-1),(0-4)", 1, 2, 5),
        ("+CMGD: (0,1,2,3),(0-4)", 0, 3, 4),
    ],
)
def test_cmgd_support(line: str, minimum: int, present: int, absent: int) -> None:
    indexes, flags = value_lists.parse_cmgd_support(line)
    assert indexes.minimum == minimum
    assert present in indexes
    assert absent not in indexes
    assert 4 in flags


def test_cmgd_support_empty_and_huge() -> None:
    indexes, _ = value_lists.parse_cmgd_support("+CMGD: (),(0-4)")
    assert not indexes
    assert indexes.minimum is None
    huge, _ = value_lists.parse_cmgd_support("+CMGD: (0-999999999),(0-4)")
    assert 123456789 in huge


def test_cmgd_support_gammu_replies(corpus_dir: Path) -> None:
    text = (corpus_dir / "gammu" / "atgen_test_modem_replies.txt").read_text()
    lines = [ln.strip().strip('",').replace("\\r", "") for ln in text.splitlines()]
    parsed = [value_lists.parse_cmgd_support(ln) for ln in lines if ln.startswith("+CMGD: (")]
    assert len(parsed) >= 5


@pytest.mark.parametrize("line", ["+CNMI: ", "+CNMI: (a-b)", "+CNMI: (1-2-3)"])
def test_cnmi_rejects(line: str) -> None:
    with pytest.raises(AtResponseError):
        value_lists.parse_cnmi_support(line)


# --- +CMGR / +CMGL / +CMGS ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("+CMGR: 0,,24", messages.StoredHeader(0, None, 24)),
        ('+CMGR: 1,"",23', messages.StoredHeader(1, None, 23)),
        ('+CMGR: 2,"",18', messages.StoredHeader(2, None, 18)),
        ("+CMGR: ,,27", messages.StoredHeader(None, None, 27)),
        ("+CMGR: 24", messages.StoredHeader(None, None, 24)),
        ("+CMGR: 0,23", messages.StoredHeader(0, None, 23)),
        ("+CMGR: 4,1,,151", messages.StoredHeader(4, None, 151)),
        ('+CMGR: 1,"Mom",20', messages.StoredHeader(1, "Mom", 20)),
    ],
)
def test_cmgr_header_variants(line: str, expected: messages.StoredHeader) -> None:
    assert messages.parse_cmgr_header(line) == expected


def test_cmgr_headers_of_every_gammu_sms_dump(corpus_dir: Path) -> None:
    headers = []
    for path in sorted((corpus_dir / "gammu" / "at-sms").glob("*.dump")):
        for line in dump_lines(path):
            if line.startswith("+CMGR:"):
                headers.append(messages.parse_cmgr_header(line))
    assert len(headers) >= 30
    assert {h.stat for h in headers} >= {0, 1, None}


@pytest.mark.parametrize("line", ["+CMGR: ", "+CMGR: 1,,x", "+CMGR: x,,23"])
def test_cmgr_rejects(line: str) -> None:
    with pytest.raises(AtResponseError):
        messages.parse_cmgr_header(line)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("+CMGL: 0,0,,23", messages.ListedMessage(0, 0, None, 23)),
        ("+CMGL: 0,3,,18", messages.ListedMessage(0, 3, None, 18)),
        ('+CMGL: 12,1,"",40', messages.ListedMessage(12, 1, None, 40)),
        ("+CMGL: 5,1", messages.ListedMessage(5, 1, None, None)),
    ],
)
def test_cmgl_header(line: str, expected: messages.ListedMessage) -> None:
    assert messages.parse_cmgl_header(line) == expected


def test_cmgs() -> None:
    assert messages.parse_cmgs("+CMGS: 249") == 249
    assert messages.parse_cmgs('+CMGS: 7,"26/11/27,10:00:00+08"') == 7
    with pytest.raises(AtResponseError):
        messages.parse_cmgs("+CMGS: 256")


# --- +CPIN / +CSCA / identity ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("+CPIN: READY", "READY"),
        ("+CPIN: SIM PIN", "SIM PIN"),
        ("+CPIN:  NOT  INSERTED", "NOT INSERTED"),
    ],
)
def test_cpin(line: str, code: str) -> None:
    assert identity.parse_cpin(line) == code


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("01.dump", "+97254120032"),
        ("02.dump", "+79168999100"),
        ("03.dump", "6281100000"),
        ("05.dump", "+447802092035"),
    ],
)
def test_csca_gammu_dumps(corpus_dir: Path, name: str, number: str) -> None:
    (line,) = dump_lines(corpus_dir / "gammu" / "at-smsc" / name)
    assert identity.parse_csca(line) == number


def test_csca_empty_and_bad() -> None:
    assert identity.parse_csca('+CSCA: "",129') is None
    with pytest.raises(AtResponseError):
        identity.parse_csca('+CSCA: "not a number",145')


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("01.dump", "MULTIBAND 900E 1800"),
        ("02.dump", "Nokia 5210"),
        ("03.dump", "AAB-1022041-BV"),
        ("06.dump", "MULTIBAND 900E 1800"),
    ],
)
def test_identity_gammu_model_dumps(corpus_dir: Path, name: str, expected: str) -> None:
    assert identity.parse_identity(dump_lines(corpus_dir / "gammu" / "at-model" / name)) == expected


def test_identity_is_capped_and_cleaned(corpus_dir: Path) -> None:
    overlong = identity.parse_identity(dump_lines(corpus_dir / "gammu" / "at-model" / "04.dump"))
    assert len(overlong) == identity.MAX_IDENTITY
    assert identity.parse_identity(["+CGMM: E1752"], "+CGMM") == "E1752"
    assert identity.parse_identity(["Revision:1418B04SIM800L24"]) == "1418B04SIM800L24"
    with pytest.raises(AtResponseError):
        identity.parse_identity(["", "  "])


def test_split_fields_respects_quotes_and_parentheses() -> None:
    assert fields.split_fields('1,"a,b",(0,1),x') == ["1", '"a,b"', "(0,1)", "x"]


# --- +CNUM ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "number"),
    [
        (['+CNUM: "","+40721000000",145,7,4'], "+40721000000"),  # SIMCom
        (['+CNUM: "","+40721000000",145'], "+40721000000"),  # Huawei
        (['+CNUM: "Own","40721000000",145'], "+40721000000"),  # type 145 without its +
        ([',"0721000000",129'], None),  # no +CNUM prefix: not a +CNUM line
        (['+CNUM: ,"0721000000",129'], "0721000000"),  # national, left as the SIM has it
        (['+CNUM: "","002B00340030003700320031",145'], "+40721"),  # UCS2-hex after CSCS
        (['+CNUM: "","",129', '+CNUM: "Fax","+40721000009",145'], "+40721000009"),
        (['+CNUM: "","",129'], None),  # an empty MSISDN record
        ([], None),  # bare OK: the SIM stores no number
    ],
)
def test_cnum(lines: list[str], number: str | None) -> None:
    assert identity.parse_cnum(lines) == number


@pytest.mark.parametrize("line", ['+CNUM: "","call me",145', "+CNUM: 145"])
def test_cnum_nonsense_is_a_typed_error(line: str) -> None:
    with pytest.raises(AtResponseError):
        identity.parse_cnum([line])
