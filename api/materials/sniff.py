"""Uploaded materials identified by their content, never by their name or declared type.

A file called ``证明.pdf`` may be a PNG, a web page or a program; the browser's
``Content-Type`` is whatever the client says. So the type comes from the magic bytes, and the
file must also be structurally whole (a photo cut off by a dropped connection is refused at
upload, not discovered by the clerk a week later):

* PNG: signature, ``IHDR`` first, every chunk's length and CRC-32 right, ``IEND`` last;
* JPEG: ``SOI``, marker segments whose lengths fit, each scan's entropy-coded data, ``EOI`` as
  the last bytes (the walk, not a search for ``FFD9``: an EXIF thumbnail ends with one too);
* PDF: a ``%PDF-1.x``/``%PDF-2.x`` header and ``startxref`` … ``%%EOF`` in the last 1,024 bytes.

The errors are :class:`httpkit.problems.Problem` subclasses (so a route just lets them through and
they render as problem details with the right status) and ``ValueError``\\ s; each ``detail``
is written for the applicant, with ``detail_zh`` in Chinese.

Callers should stop reading an upload at ``max_bytes + 1`` bytes; :func:`inspect` then refuses it.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass

from httpkit.problems import Problem

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
SUPPORTED = (PDF, JPEG, PNG)
NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_CHUNKS = 65_536  # real images have tens to a few thousand; bounds the walk
MAX_JPEG_SEGMENTS = 65_536
PDF_TAIL = 1024
_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")

# What some refused files are, to tell the applicant more than "unknown" (messages only).
_OTHER_KINDS = [
    (b"PK\x03\x04", "a ZIP archive (or a Word/Excel/WPS document)", "压缩包或 Word/Excel/WPS 文档"),
    (b"\xd0\xcf\x11\xe0", "an old Office document", "旧版 Office 文档"),
    (b"MZ", "a Windows program", "Windows 程序"),
    (b"\x7fELF", "a program", "程序文件"),
    (b"GIF8", "a GIF image", "GIF 图片"),
    (b"Rar!", "a RAR archive", "RAR 压缩包"),
    (b"7z\xbc\xaf", "a 7-Zip archive", "7z 压缩包"),
]


class MaterialRejected(Problem, ValueError):
    """An upload that cannot be accepted as a material; ``detail`` can be shown to the applicant."""

    status, title, slug = 422, "Material rejected", "material-rejected"

    def __init__(self, detail: str, detail_zh: str, **extra):
        super().__init__(detail, detail_zh=detail_zh, **extra)
        self.detail_zh = detail_zh


class Empty(MaterialRejected):
    title, slug = "Empty file", "material-empty"

    def __init__(self):
        super().__init__("The file is empty (0 bytes). Please choose the file again and re-upload it.", "文件为空（0 字节），请重新选择文件上传。")


class TooLarge(MaterialRejected):
    status, title, slug = 413, "File too large", "material-too-large"

    def __init__(self, size: int, limit: int):
        shown, cap = _human(size), _human(limit)
        if shown == cap:  # just over the limit: rounding would show the same figure twice
            shown, cap = f"{size:,} bytes", f"{limit:,} bytes"
        super().__init__(
            f"The file is {shown}; uploads here are limited to {cap}. Please upload a smaller scan or photo.",
            f"文件大小为 {shown}，超过 {cap} 的上限，请压缩或重新扫描后上传。",
            size=size,
            limit=limit,
        )
        self.size, self.limit = size, limit


class WrongType(MaterialRejected):
    status, title, slug = 415, "Wrong file type", "material-wrong-type"

    def __init__(self, found: str | None, allowed: list[str], kind: tuple[str, str] | None = None):
        names = "、".join(NAMES.get(m, m) for m in allowed)
        names_en = ", ".join(NAMES.get(m, m) for m in allowed)
        what_en, what_zh = kind or ((f"a {NAMES[found]} file", f"{NAMES[found]} 文件") if found else ("not a file type we recognise", "无法识别的文件类型"))
        super().__init__(
            f"Wrong file type: this file is {what_en}, whatever its name says. Accepted types here: {names_en}.",
            f"文件类型不符：该文件实际为{what_zh}（与文件名无关），此处仅接受 {names} 格式。",
            found=found,
            allowed=list(allowed),
        )
        self.found, self.allowed = found, list(allowed)


class Incomplete(MaterialRejected):
    title, slug = "File truncated or damaged", "material-incomplete"

    def __init__(self, reason: str):
        super().__init__(
            f"The file is truncated or damaged ({reason}); the upload may have been cut off. Please upload it again.",
            f"文件不完整或已损坏（{reason}），可能上传中断，请重新上传。",
            reason=reason,
        )
        self.reason = reason


@dataclass(frozen=True)
class Sniffed:
    """A material that passed :func:`inspect`: its real type, size in bytes and SHA-256 (32 bytes)."""

    mime: str
    size: int
    sha256: bytes


def _human(n: int) -> str:
    """Decimal units, as the catalog's limits are written (``max_bytes = 5_000_000`` is "5 MB")."""
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    return f"{n / 1_000_000:.1f} MB".replace(".0 MB", " MB")


def sniff(data: bytes) -> str | None:
    """The MIME type the magic bytes of ``data`` announce: PDF, JPEG or PNG; ``None`` otherwise."""
    data = bytes(data[:16])
    if data.startswith(PNG_SIGNATURE):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def _describe(data: bytes) -> tuple[str, str] | None:
    head = bytes(data[:512]).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<script", b"<?xml", b"<svg")):
        return ("a web page or XML file", "网页或 XML 文件")
    for magic, en, zh in _OTHER_KINDS:
        if data.startswith(magic):
            return (en, zh)
    return None


# -- completeness ---------------------------------------------------------------------------


def _check_png(data: bytes) -> None:
    if not data.startswith(PNG_SIGNATURE):
        raise Incomplete("no PNG signature")
    pos, n = len(PNG_SIGNATURE), len(data)
    for count in range(MAX_PNG_CHUNKS):
        if pos + 12 > n:
            raise Incomplete(f"PNG cut off at byte {n}, before the IEND chunk")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if not kind.isalpha():
            raise Incomplete(f"PNG chunk at byte {pos} has an invalid type {kind!r}")
        if length > 2**31 - 1:
            raise Incomplete(f"PNG chunk {kind.decode()} declares {length} bytes")
        end = pos + 12 + length
        if end > n:
            raise Incomplete(f"PNG chunk {kind.decode()} needs {length} bytes, the file ends first")
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(data[pos + 4 : end - 4]) != crc:
            raise Incomplete(f"PNG chunk {kind.decode()} at byte {pos} fails its CRC")
        if count == 0 and (kind != b"IHDR" or length != 13):
            raise Incomplete("PNG does not start with an IHDR chunk")
        if kind == b"IEND":
            if length != 0:
                raise Incomplete("PNG IEND chunk is not empty")
            if end != n:
                raise Incomplete(f"{n - end} unexpected bytes after the PNG's IEND chunk")
            return
        pos = end
    raise Incomplete(f"PNG has more than {MAX_PNG_CHUNKS} chunks")


def _check_jpeg(data: bytes) -> None:
    if not data.startswith(b"\xff\xd8"):
        raise Incomplete("no JPEG start-of-image marker")
    pos, n = 2, len(data)
    for _ in range(MAX_JPEG_SEGMENTS):
        if pos + 2 > n:
            raise Incomplete(f"JPEG cut off at byte {n}, before the end-of-image marker")
        if data[pos] != 0xFF:
            raise Incomplete(f"JPEG has no marker at byte {pos}")
        while pos + 2 < n and data[pos + 1] == 0xFF:  # fill bytes before a marker
            pos += 1
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI
            if pos + 2 != n:
                raise Incomplete(f"{n - pos - 2} unexpected bytes after the JPEG's end-of-image marker")
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # TEM, RSTn: no length
            pos += 2
            continue
        if pos + 4 > n:
            raise Incomplete(f"JPEG cut off at byte {n}, inside a marker")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > n:
            raise Incomplete(f"JPEG segment FF{marker:02X} at byte {pos} runs past the end of the file")
        pos += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data up to the next marker that is not FF00 or RSTn
            while True:
                ff = data.find(b"\xff", pos)
                if ff < 0 or ff + 1 >= n:
                    raise Incomplete(f"JPEG image data cut off at byte {n}")
                following = data[ff + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos = ff + 2
                elif following == 0xFF:
                    pos = ff + 1
                else:
                    pos = ff
                    break
    raise Incomplete(f"JPEG has more than {MAX_JPEG_SEGMENTS} segments")


def _check_pdf(data: bytes) -> None:
    if not _PDF_HEADER.match(data):
        raise Incomplete("no %PDF-1.x or %PDF-2.x header")
    tail = data[-PDF_TAIL:]
    eof = tail.rfind(b"%%EOF")
    if eof < 0:
        raise Incomplete(f"no %%EOF in the last {PDF_TAIL} bytes")
    if tail.rfind(b"startxref", 0, eof) < 0:
        raise Incomplete("no startxref before the final %%EOF")
    if tail[eof + 5 :].strip(b"\r\n\t \x00"):
        raise Incomplete("unexpected bytes after the final %%EOF")


_CHECKS = {PNG: _check_png, JPEG: _check_jpeg, PDF: _check_pdf}


def check_complete(data: bytes, mime: str) -> None:
    """Raise :class:`Incomplete` unless ``data`` is a structurally whole file of type ``mime``."""
    if mime not in _CHECKS:
        raise ValueError(f"mime must be one of {', '.join(SUPPORTED)}, got {mime!r}")
    _CHECKS[mime](bytes(data))


def inspect(data: bytes, allowed: list[str], max_bytes: int) -> Sniffed:
    """The real type, size and SHA-256 of an upload, or the reason it is refused.

    Raises :class:`Empty`, :class:`TooLarge` (over ``max_bytes``), :class:`WrongType`
    (content is not one of ``allowed``, whatever the file name) or :class:`Incomplete`.
    """
    unknown = [m for m in allowed if m not in SUPPORTED]
    if unknown or not allowed:
        raise ValueError(f"allowed must be a non-empty subset of {', '.join(SUPPORTED)}, got {allowed!r}")
    data = bytes(data)
    if not data:
        raise Empty()
    if len(data) > max_bytes:
        raise TooLarge(len(data), max_bytes)
    mime = sniff(data)
    if mime not in allowed:
        raise WrongType(mime, list(allowed), None if mime else _describe(data))
    check_complete(data, mime)
    return Sniffed(mime, len(data), hashlib.sha256(data).digest())
