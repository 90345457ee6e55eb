"""SMS PDU codec (3GPP TS 23.040 / 23.038): pure functions, no I/O.

    decode(hex_or_bytes)        -> Deliver | Submit | StatusReport   (raises PduError)
    encode_submit(number, text) -> [EncodedPdu]   one per part, ready for AT+CMGS
    encode_deliver / encode_status_report         what a network sends (emulator, tests)
    split_text / count_parts                      the segmentation the encoders use

Modules: gsm7 (alphabet, packing), ucs2 (UTF-16), address, timestamp, dcs, udh, validity,
userdata (UDL/UD with header and fill bits), segment, decoder, encoder, model (values).
"""

from smsgw.pdu.decoder import decode
from smsgw.pdu.encoder import encode_deliver, encode_status_report, encode_submit
from smsgw.pdu.model import (
    Concat,
    Deliver,
    EncodedPdu,
    Encoding,
    Outcome,
    PartCount,
    Pdu,
    StatusReport,
    Submit,
    status_outcome,
)
from smsgw.pdu.segment import choose_encoding, count_parts, split_text
from smsgw.pdu.ucs2 import join_texts

__all__ = [
    "Concat",
    "Deliver",
    "EncodedPdu",
    "Encoding",
    "Outcome",
    "PartCount",
    "Pdu",
    "StatusReport",
    "Submit",
    "choose_encoding",
    "count_parts",
    "decode",
    "encode_deliver",
    "encode_status_report",
    "encode_submit",
    "join_texts",
    "split_text",
    "status_outcome",
]
