"""A stored-message indication becomes a read of exactly the index the modem announced,
or of nothing: a garbled ``+CMTI`` must never turn into a read (and later a delete) of some
other entry."""

from __future__ import annotations

import pytest

from smsgw.at.parser import Urc
from smsgw.modem.work import StoredIndication


def _urc(name: str, args: str) -> Urc:
    return Urc(name=name, args=args, line=f"{name}: {args}")


@pytest.mark.parametrize(
    ("name", "args", "storage", "index"),
    [
        ("+CMTI", '"SM",3', "SM", 3),
        ("+CMTI", '"ME", 0', "ME", 0),  # zero-based firmwares (Huawei)
        ("+CDSI", '"SR",12', "SR", 12),
        ("+CMTI", "SM,7", "SM", 7),  # unquoted memory
        ("+CMTI", '"",5', None, 5),  # empty memory: the current one
        ("+CMTI", '"MT","SM",9', "MT", 9),  # extra field: the index is the last one
    ],
)
def test_the_announced_storage_and_index_are_kept(
    name: str, args: str, storage: str | None, index: int
) -> None:
    assert StoredIndication.from_urc(_urc(name, args)) == StoredIndication(name, storage, index)


@pytest.mark.parametrize("args", ['"SM"', '"SM",', '"SM",x', '"SM",-1', '"SM",123456', ""])
def test_an_indication_without_a_usable_index_is_dropped(args: str) -> None:
    assert StoredIndication.from_urc(_urc("+CMTI", args)) is None
