"""The one hex codec (chain.hexcodec)."""

from __future__ import annotations

import pytest

from chain.hexcodec import hx, to_bytes32, unhex


def test_unhex_reads_prefixed_bare_and_bytes_alike():
    assert unhex("0xAbCd") == unhex("0XabCD") == unhex("abcd") == unhex(b"\xab\xcd") == b"\xab\xcd"
    assert unhex("0x") == b""
    assert hx(b"\xab\xcd") == "0xabcd"


@pytest.mark.parametrize("bad", ["0xabc", "0xzz", "zz"])
def test_unhex_refuses_what_is_not_hex(bad):
    with pytest.raises(ValueError):
        unhex(bad)


def test_to_bytes32_checks_the_length_and_names_the_value():
    word = bytes(range(32))
    assert to_bytes32(hx(word)) == to_bytes32(word.hex()) == to_bytes32(word) == word
    with pytest.raises(ValueError, match="a document hash must be 32 bytes, got 31: 0x0001"):
        to_bytes32(word[:31], "a document hash")
