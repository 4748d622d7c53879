"""Uploads are typed by content and refused when truncated, whatever their name says.

The files are real and made here: a PNG written chunk by chunk with zlib, JPEGs from Pillow
(baseline, progressive, and one with a thumbnail inside), a PDF from reportlab.
"""

from __future__ import annotations

import hashlib
import inspect as pyinspect
import io
import struct
import zlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from api.materials import sniff as sn
from api.materials.sniff import JPEG, PDF, PNG, Empty, Incomplete, Sniffed, TooLarge, WrongType, check_complete, inspect, sniff
from httpkit.problems import Problem

ALL = [PDF, JPEG, PNG]
MB = 1024 * 1024


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png(width: int = 4, height: int = 3, idat_chunks: int = 1) -> bytes:
    def row(y: int) -> bytes:  # filter byte 0, then RGB pixels
        return b"\x00" + b"".join(bytes(((x * 60) % 256, (y * 80) % 256, 128)) for x in range(width))

    raw = b"".join(row(y) for y in range(height))
    compressed = zlib.compress(raw)
    step = -(-len(compressed) // idat_chunks)
    idats = b"".join(_chunk(b"IDAT", compressed[i : i + step]) for i in range(0, len(compressed), step))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return sn.PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"tEXt", b"Comment\x00govchain") + idats + _chunk(b"IEND", b"")


def make_jpeg(progressive: bool = False, size: tuple[int, int] = (16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG", quality=80, progressive=progressive)
    return buffer.getvalue()


def make_jpeg_with_thumbnail() -> bytes:
    """A JPEG whose APP1 segment holds a whole smaller JPEG (as EXIF thumbnails do)."""
    main, thumb = make_jpeg(size=(32, 24)), make_jpeg(size=(8, 6))
    payload = b"Exif\x00\x00" + thumb
    return main[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + main[2:]


def make_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = Canvas(buffer, invariant=1)
    pdf.drawString(72, 720, "no-criminal-record certificate")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


VALID = {
    "png": (make_png, PNG),
    "png-many-idat": (lambda: make_png(40, 30, 5), PNG),
    "jpeg": (make_jpeg, JPEG),
    "jpeg-progressive": (lambda: make_jpeg(True, (64, 48)), JPEG),
    "jpeg-thumbnail": (make_jpeg_with_thumbnail, JPEG),
    "pdf": (make_pdf, PDF),
}


# -- whole files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", VALID)
def test_whole_files_are_recognised_and_accepted(name):
    make, mime = VALID[name]
    data = make()
    assert sniff(data) == mime
    check_complete(data, mime)
    assert inspect(data, ALL, 10 * MB) == Sniffed(mime, len(data), hashlib.sha256(data).digest())


def test_a_jpeg_of_markers_only_is_structurally_whole():
    # SOI, APP0, COM, EOI: no scan, but nothing cut off either (the brief asks for SOI ... EOI)
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    data = b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xfe\x00\x04hi\xff\xd9"
    assert inspect(data, [JPEG], MB).mime == JPEG
    for cut in range(3, len(data)):
        with pytest.raises(Incomplete):
            check_complete(data[:cut], JPEG)


def test_pillow_can_read_the_test_png():
    # the hand-built PNG is a real image, so accepting it means something
    image = Image.open(io.BytesIO(make_png()))
    image.load()
    assert image.size == (4, 3)


# -- truncated and damaged files ----------------------------------------------------------------


def _cuts(data: bytes) -> list[int]:
    n = len(data)
    return sorted({1, 5, 9, 16, 30, n // 3, n // 2, n - 20, n - 13, n - 12, n - 8, n - 4, n - 2, n - 1})


@pytest.mark.parametrize("name", [n for n in VALID if VALID[n][1] != PDF])
def test_images_cut_anywhere_are_incomplete(name):
    make, mime = VALID[name]
    data = make()
    for cut in _cuts(data):
        with pytest.raises(Incomplete):
            check_complete(data[:cut], mime)


def test_pdf_cut_before_its_end_marker_is_incomplete():
    data = make_pdf()
    eof = data.rindex(b"%%EOF")
    for cut in sorted({1, 6, 9, 100, len(data) // 2, eof - 10, eof, eof + 2, eof + 4}):
        with pytest.raises(Incomplete):
            check_complete(data[:cut], PDF)
    check_complete(data[: eof + 5], PDF)  # the final newline is optional


def test_jpeg_cut_right_after_its_thumbnail_is_incomplete():
    data = make_jpeg_with_thumbnail()
    thumb_end = data.index(b"\xff\xd9") + 2  # the thumbnail's EOI comes first
    assert thumb_end < len(data) - 2
    with pytest.raises(Incomplete):
        check_complete(data[:thumb_end], JPEG)


def test_png_with_a_bad_crc_or_no_leading_ihdr_is_refused():
    data = bytearray(make_png())
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0x01
    with pytest.raises(Incomplete, match="CRC"):
        check_complete(bytes(data), PNG)
    good = make_png()
    body = good[len(sn.PNG_SIGNATURE) :]
    ihdr, rest = body[:25], body[25:]
    text_len = 12 + struct.unpack(">I", rest[:4])[0]
    swapped = sn.PNG_SIGNATURE + rest[:text_len] + ihdr + rest[text_len:]
    with pytest.raises(Incomplete, match="IHDR"):
        check_complete(swapped, PNG)


def test_bytes_after_the_end_are_refused():
    # a PNG or JPEG with something glued on (a ZIP, say) is not the image it claims to be
    for data, mime in [(make_png(), PNG), (make_jpeg(), JPEG), (make_pdf(), PDF)]:
        with pytest.raises(Incomplete, match="after"):
            check_complete(data + b"PK\x03\x04" + b"\x00" * 40, mime)


def test_png_chunk_walk_is_bounded(monkeypatch):
    monkeypatch.setattr(sn, "MAX_PNG_CHUNKS", 3)
    with pytest.raises(Incomplete, match="more than 3 chunks"):
        check_complete(make_png(idat_chunks=1), PNG)  # IHDR, tEXt, IDAT, IEND: four chunks


def test_pdf_header_must_be_a_real_version():
    data = make_pdf()
    for header in (b"%PDF-3.0", b"%PDF-x.y", b"%PDF-1"):
        with pytest.raises(Incomplete, match="header"):
            check_complete(header + data[8:], PDF)


# -- the name never matters; wrong types are named to the applicant ----------------------------------


def test_a_png_named_pdf_is_a_png():
    # there is no name parameter at all: type comes from content only
    assert "filename" not in pyinspect.signature(inspect).parameters and "name" not in pyinspect.signature(inspect).parameters
    png = make_png()
    with pytest.raises(WrongType) as refused:
        inspect(png, [PDF], 10 * MB)
    assert refused.value.found == PNG and refused.value.allowed == [PDF]
    assert "PNG" in refused.value.detail and "PDF" in refused.value.detail and "PNG" in refused.value.detail_zh
    assert inspect(png, [PDF, PNG], 10 * MB).mime == PNG


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"<!DOCTYPE html><html><body>phish</body></html>", "web page"),
        (b"\xef\xbb\xbf  <html><script>alert(1)</script>", "web page"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "ZIP"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "Windows program"),
        (b"GIF89a" + b"\x00" * 20, "GIF"),
        (b"hello, this is plain text", "not a file type we recognise"),
        (b"%PD", "not a file type we recognise"),
    ],
)
def test_other_kinds_of_file_are_wrong_type(data, said):
    assert sniff(data) is None
    with pytest.raises(WrongType) as refused:
        inspect(data, ALL, 10 * MB)
    assert refused.value.found is None and said in refused.value.detail and "file type" in refused.value.detail.lower()
    assert refused.value.status == 415


def test_empty_and_too_large_are_refused_first():
    with pytest.raises(Empty) as empty:
        inspect(b"", ALL, 10 * MB)
    assert "empty" in empty.value.detail and "为空" in empty.value.detail_zh
    png = make_png()
    with pytest.raises(TooLarge) as large:
        inspect(png, ALL, len(png) - 1)
    assert large.value.status == 413 and large.value.size == len(png) and large.value.limit == len(png) - 1
    assert inspect(png, ALL, len(png)).size == len(png)  # the limit itself is allowed
    with pytest.raises(TooLarge, match=r"is 12\.6 MB; uploads here are limited to 5 MB"):
        inspect(b"%PDF-1.4" + b"\x00" * (12 * MB - 8), ALL, 5_000_000)
    with pytest.raises(TooLarge, match=r"is 5,000,001 bytes; uploads here are limited to 5,000,000 bytes"):
        inspect(b"%PDF-1.4" + b"\x00" * (5_000_001 - 8), ALL, 5_000_000)


def test_errors_are_value_errors_and_problems_with_clear_details():
    with pytest.raises(Incomplete) as cut:
        inspect(make_jpeg()[:-2], ALL, 10 * MB)
    error = cut.value
    assert isinstance(error, ValueError) and isinstance(error, Problem)
    assert error.status == 422 and "truncated" in error.detail and "upload it again" in error.detail and "重新上传" in error.detail_zh
    assert error.extra == {"detail_zh": error.detail_zh, "reason": error.reason}


def test_programming_errors_are_not_citizen_errors():
    with pytest.raises(ValueError, match="allowed"):
        inspect(make_png(), ["image/gif"], MB)
    with pytest.raises(ValueError, match="allowed"):
        inspect(make_png(), [], MB)
    with pytest.raises(ValueError, match="mime"):
        check_complete(make_png(), "text/html")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
@example(sn.PNG_SIGNATURE)
@example(b"\xff\xd8\xff\xd9")
@example(b"\xff\xd8" + b"\xff" * 50)
@example(b"%PDF-1.7\n%%EOF")
def test_arbitrary_bytes_never_crash(data):
    try:
        inspect(data, ALL, MB)
    except (Empty, TooLarge, WrongType, Incomplete):
        pass
