"""Heart Rate Measurement decoding against real captures, the spec's corners, and random bytes."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.hrm import HrmDecoder, MalformedPayload, decode_hrm, encode_hrm, parse_hrm
from devices.stream import Contact

REAL_CAPTURES = [
    ("105819030f03", 88, Contact.UNSUPPORTED, (793, 783)),  # Polar H10
    ("1055db02b302", 85, Contact.UNSUPPORTED, (731, 691)),
    ("103b5304", 59, Contact.UNSUPPORTED, (1107,)),
    ("10482c03", 72, Contact.UNSUPPORTED, (812,)),
    ("10495e039603", 73, Contact.UNSUPPORTED, (862, 918)),
    ("164d1603", 77, Contact.DETECTED, (790,)),  # Polar H7
    ("164e1b031203", 78, Contact.DETECTED, (795, 786)),
    ("104ed202c802", 78, Contact.UNSUPPORTED, (722, 712)),
    ("065a", 90, Contact.DETECTED, ()),
]


@pytest.mark.parametrize("hexstr,hr,contact,rr", REAL_CAPTURES)
def test_real_captures(hexstr, hr, contact, rr):
    m = decode_hrm(bytes.fromhex(hexstr))
    assert (m.hr_bpm, m.contact, m.energy_kj, m.rr_ticks) == (hr, contact, None, rr)


@pytest.mark.parametrize("hexstr,hr,contact,rr", REAL_CAPTURES)
def test_encode_reproduces_real_captures(hexstr, hr, contact, rr):
    assert encode_hrm(hr, rr, contact=contact).hex() == hexstr


def test_uint16_heart_rate_and_energy():
    # flags: uint16 HR | contact supported+detected | energy | RR
    payload = (
        bytes([0x01 | 0x06 | 0x08 | 0x10])
        + (300).to_bytes(2, "little")
        + (1234).to_bytes(2, "little")
        + (512).to_bytes(2, "little")
    )
    m = decode_hrm(payload)
    assert (m.hr_bpm, m.contact, m.energy_kj, m.rr_ticks) == (300, Contact.DETECTED, 1234, (512,))


def test_contact_supported_but_not_detected():
    assert decode_hrm(bytes([0x04, 70])).contact is Contact.NOT_DETECTED


def test_contact_bit1_alone_means_not_supported():
    # 0b01 in bits 1-2: the feature is not supported, whatever bit 1 says.
    assert decode_hrm(bytes([0x02, 70])).contact is Contact.UNSUPPORTED


def test_reserved_bits_are_ignored():
    m = decode_hrm(bytes([0xE0 | 0x10, 60, 0x00, 0x04]))
    assert (m.hr_bpm, m.rr_ticks) == (60, (1024,))


def test_energy_without_rr():
    m = decode_hrm(bytes([0x08, 61, 0x10, 0x00]))
    assert (m.energy_kj, m.rr_ticks) == (16, ())


@pytest.mark.parametrize(
    "hexstr,kind,keeps_hr",
    [
        ("", "empty", False),
        ("01", "truncated_hr", False),
        ("0150", "truncated_hr", False),
        ("00", "truncated_hr", False),
        ("0848", "truncated_energy", True),
        ("084810", "truncated_energy", True),
        ("104819", "odd_rr_bytes", True),
        ("1048190300", "odd_rr_bytes", True),
        ("1048", "empty_rr", True),
        ("004801", "trailing_bytes", True),
    ],
)
def test_malformed_payloads(hexstr, kind, keeps_hr):
    payload = bytes.fromhex(hexstr)
    m, problem = parse_hrm(payload)
    assert problem == kind
    assert (m is not None) == keeps_hr
    if m is not None:
        assert m.rr_ticks == ()  # no RR from a payload we cannot align
    with pytest.raises(MalformedPayload) as info:
        decode_hrm(payload)
    assert info.value.kind == kind


def test_lenient_decoder_counts_and_logs_each_kind_once(caplog):
    decoder = HrmDecoder()
    with caplog.at_level(logging.WARNING, logger="devices.hrm"):
        for _ in range(5):
            decoder.decode(b"")
            decoder.decode(bytes.fromhex("104819"))
        decoder.decode(bytes.fromhex("105819030f03"))
    assert decoder.problems == {"empty": 5, "odd_rr_bytes": 5}
    assert len(caplog.records) == 2


@settings(max_examples=2000)
@given(st.binary(max_size=40))
def test_random_bytes_never_raise_from_lenient_decoder(payload):
    m, problem = HrmDecoder().decode(payload)
    if m is None:
        assert problem in {"empty", "truncated_hr"}
    else:
        assert 0 <= m.hr_bpm <= 0xFFFF
        assert all(0 <= r <= 0xFFFF for r in m.rr_ticks)


@given(
    st.integers(0, 0xFFFF),
    st.lists(st.integers(0, 0xFFFF), max_size=8),
    st.sampled_from(list(Contact)),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
)
def test_encode_decode_round_trip(hr, rr, contact, energy):
    m = decode_hrm(encode_hrm(hr, rr, contact=contact, energy_kj=energy))
    assert (m.hr_bpm, m.rr_ticks, m.contact, m.energy_kj) == (hr, tuple(rr), contact, energy)
