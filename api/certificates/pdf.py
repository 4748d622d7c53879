"""Printable A4 PDFs of issued certificates, with a QR code that leads to their verification.

The PDF is a convenience copy: what counts is the certificate's ``target_hash`` issued in the
document store on chain. The QR code therefore carries only the verification link with that
hash (:func:`qr_payload`), and the hash is printed under it for anyone who cannot scan.

Pure Python (reportlab): Chinese text uses the built-in CID font ``STSong-Light`` (a reader
supplies the glyphs, no font file ships), Latin text and the hash the base-14 fonts. Output
is byte-for-byte deterministic for the same input (reportlab's invariant mode: fixed dates and
document id), so a re-render can be compared with an earlier one.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

CJK = "STSong-Light"
LATIN, LATIN_BOLD, MONO = "Helvetica", "Helvetica-Bold", "Courier"
QR_SIZE = 42 * mm
QR_LEVEL = "M"  # survives ~15% damage: folded or stamped paper
_HASH = re.compile(r"0x[0-9a-f]{64}")
_UNMASKED = re.compile(r"[0-9Xx]{7,}")  # a run this long is (part of) a real ID number

pdfmetrics.registerFont(UnicodeCIDFont(CJK))


@dataclass(frozen=True)
class CertificateView:
    """What a printed certificate shows. ``id_number_masked`` is already masked (``1101********1234``);
    ``document_store`` is the contract that issued ``target_hash``."""

    certificate_id: str
    title_zh: str
    title_en: str
    holder_name: str
    id_number_masked: str
    matter_zh: str
    matter_en: str
    agency_name: str
    issued_on: date
    document_store: str
    target_hash: str


def _target_hash(value: str) -> str:
    normal = value.strip().lower()
    normal = normal if normal.startswith("0x") else "0x" + normal
    if not _HASH.fullmatch(normal):
        raise ValueError(f"target hash must be 32 bytes as 0x + 64 hex digits, got {value!r}")
    return normal


def qr_payload(verify_url: str, target_hash: str) -> str:
    """The verification link with ``targetHash=0x…`` (lower-case hex) added to its query.

    ``https://v.example/verify`` → ``https://v.example/verify?targetHash=0x…``; an existing query
    is kept and extended with ``&``; a fragment stays last.
    """
    parts = urlsplit(verify_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"verify_url must be an absolute http(s) URL, got {verify_url!r}")
    if any(key == "targetHash" for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        raise ValueError(f"verify_url already carries a targetHash: {verify_url!r}")
    param = "targetHash=" + _target_hash(target_hash)
    query = f"{parts.query}&{param}" if parts.query else param
    return urlunsplit(parts._replace(query=query))


def qr_drawing(payload: str, size: float = QR_SIZE) -> Drawing:
    """A ``size`` × ``size`` drawing of the QR code of ``payload`` (error correction M).

    The widget is sized directly rather than scaled to its ``getBounds()``: measuring draws,
    and drawing encodes the QR code again (the encoding is most of a render's time).
    """
    widget = QrCodeWidget(payload, barLevel=QR_LEVEL, barBorder=2, barWidth=size, barHeight=size, x=0, y=0)
    drawing = Drawing(size, size)
    drawing.add(widget)
    return drawing


def _check(view: CertificateView, target_hash: str) -> str:
    normal = _target_hash(target_hash)
    if _target_hash(view.target_hash) != normal:
        raise ValueError(f"the certificate carries target hash {view.target_hash!r}, the QR code would carry {target_hash!r}")
    if "*" not in view.id_number_masked or _UNMASKED.search(view.id_number_masked):
        raise ValueError(f"id_number_masked must be masked like 1101********1234, got {view.id_number_masked[:4]}… (refusing to print it)")
    return normal


def _fit(pdf: Canvas, x: float, y: float, text: str, font: str, size: float, max_width: float) -> None:
    """Draw ``text`` at ``size``, shrunk (down to 6 pt) when it would run past ``max_width``."""
    width = pdfmetrics.stringWidth(text, font, size)
    if width > max_width:
        size = max(6.0, size * max_width / width)
    pdf.setFont(font, size)
    pdf.drawString(x, y, text)


def render(fields: CertificateView, verify_url: str, target_hash: str) -> bytes:
    """The certificate as a one-page A4 PDF (deterministic bytes for the same input)."""
    target_hash = _check(fields, target_hash)
    payload = qr_payload(verify_url, target_hash)
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(f"{fields.title_zh} {fields.certificate_id}")
    pdf.setAuthor(fields.agency_name)
    pdf.setSubject(f"{fields.title_en} {fields.certificate_id}")
    pdf.setCreator("govchain")
    width, height = A4
    ink, muted = HexColor("#1f1f1f"), HexColor("#6b6b6b")

    # frame
    pdf.setStrokeColor(HexColor("#a31515"))
    pdf.setLineWidth(1.6)
    pdf.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)
    pdf.setLineWidth(0.5)
    pdf.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)

    # titles
    pdf.setFillColor(ink)
    pdf.setFont(CJK, 26)
    pdf.drawCentredString(width / 2, height - 45 * mm, fields.title_zh)
    pdf.setFont(LATIN_BOLD, 14)
    pdf.drawCentredString(width / 2, height - 54 * mm, fields.title_en)
    pdf.setFont(LATIN, 10)
    pdf.setFillColor(muted)
    pdf.drawCentredString(width / 2, height - 62 * mm, f"No. {fields.certificate_id}")

    # fields: Chinese label, English label, value; the English matter name on its own line
    issued = fields.issued_on
    rows = [
        ("证书编号", "Certificate No.", fields.certificate_id, LATIN),
        ("持证人", "Holder", fields.holder_name, CJK),
        ("证件号码", "ID number", fields.id_number_masked, LATIN),
        ("事项名称", "Matter", fields.matter_zh, CJK),
        ("发证机关", "Issuing agency", fields.agency_name, CJK),
        ("发证日期", "Date of issue", f"{issued.year}年{issued.month}月{issued.day}日  ({issued.isoformat()})", CJK),
    ]
    y = height - 82 * mm
    left, value_x = 28 * mm, 78 * mm
    value_width = width - 24 * mm - value_x
    for label_zh, label_en, value, font in rows:
        pdf.setFillColor(ink)
        pdf.setFont(CJK, 12)
        pdf.drawString(left, y, label_zh)
        _fit(pdf, value_x, y, value, font, 12, value_width)
        pdf.setFillColor(muted)
        pdf.setFont(LATIN, 8)
        pdf.drawString(left, y - 4.5 * mm, label_en)
        if label_zh == "事项名称":
            _fit(pdf, value_x, y - 4.5 * mm, fields.matter_en, LATIN, 9, value_width)
        y -= 15 * mm

    # verification: QR, the hash under it, the document store beside it
    qr_x, qr_y = 28 * mm, 40 * mm
    renderPDF.draw(qr_drawing(payload), pdf, qr_x, qr_y)
    pdf.setFont(MONO, 6.5)
    pdf.setFillColor(ink)
    pdf.drawString(qr_x, qr_y - 4 * mm, target_hash)
    text_x = qr_x + QR_SIZE + 8 * mm
    pdf.setFont(CJK, 10)
    pdf.drawString(text_x, qr_y + QR_SIZE - 6 * mm, "扫描二维码核验本证书的真实性与状态")
    pdf.setFont(LATIN, 8)
    pdf.setFillColor(muted)
    pdf.drawString(text_x, qr_y + QR_SIZE - 11 * mm, "Scan to verify this certificate and its current status.")
    pdf.drawString(text_x, qr_y + QR_SIZE - 19 * mm, "Document store:")
    pdf.setFont(MONO, 7)
    pdf.drawString(text_x, qr_y + QR_SIZE - 23 * mm, fields.document_store)
    pdf.setFont(LATIN, 8)
    pdf.drawString(text_x, qr_y + QR_SIZE - 30 * mm, "Printed copy; the record on chain is authoritative.")
    pdf.setFont(CJK, 8)
    pdf.drawString(text_x, qr_y + QR_SIZE - 34 * mm, "本打印件仅供参考，以链上记录为准。")

    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
