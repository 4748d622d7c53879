"""Small real files for demos and tests: a PNG, a JPEG and a PDF, built in memory (no files on disk)."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 4, height: int = 4, seed: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((seed + x + y) % 256 for x in range(width * 3)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg(payload: bytes = b"govchain") -> bytes:
    """A structurally complete JPEG stream: SOI, an APP0 (JFIF) segment, a comment, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = payload[:60000]
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + b"\xff\xd9"


def pdf(text: str = "govchain test material", pages: int = 1) -> bytes:
    from io import BytesIO

    from reportlab.pdfgen import canvas

    out = BytesIO()
    page = canvas.Canvas(out, invariant=1)
    for number in range(pages):
        page.drawString(72, 720, f"{text} ({number + 1})")
        page.showPage()
    page.save()
    return out.getvalue()
