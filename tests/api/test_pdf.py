"""Printed certificates: one A4 page, the facts as text, a QR code with the verification link."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib.pagesizes import A4

from api.certificates import pdf
from api.certificates.pdf import CertificateView, qr_drawing, qr_payload, render

TARGET = "0x" + "3c" * 16 + "a7" * 16
VERIFY_URL = "https://zwfw.example.gov.cn/verify"


def create_view(**overrides) -> CertificateView:
    fields = {
        "certificate_id": "GC-2025-000123",
        "title_zh": "教师资格证书",
        "title_en": "Teacher Qualification Certificate",
        "holder_name": "张三",
        "id_number_masked": "1101********1234",
        "matter_zh": "小学教师资格认定",
        "matter_en": "Primary school teacher qualification",
        "agency_name": "北京市海淀区教育委员会",
        "issued_on": date(2025, 3, 1),
        "document_store": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "target_hash": TARGET,
    }
    return CertificateView(**{**fields, **overrides})


def test_one_a4_page_with_the_facts_as_text():
    reader = PdfReader(io.BytesIO(render(create_view(), VERIFY_URL, TARGET)))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert (round(float(page.mediabox.width), 1), round(float(page.mediabox.height), 1)) == (round(A4[0], 1), round(A4[1], 1))
    text = page.extract_text()
    for expected in ("GC-2025-000123", TARGET, "北京市海淀区教育委员会", "教师资格证书", "Teacher Qualification Certificate",
                     "张三", "1101********1234", "小学教师资格认定", "2025年3月1日", "0x5FbDB2315678afecb367f032d93F642f64180aa3"):  # fmt: skip
        assert expected in text, expected
    assert reader.metadata.title == "教师资格证书 GC-2025-000123"


def test_same_input_gives_the_same_bytes():
    first = render(create_view(), VERIFY_URL, TARGET)
    assert render(create_view(), VERIFY_URL, TARGET) == first
    assert render(create_view(holder_name="李四"), VERIFY_URL, TARGET) != first


def test_qr_payload_adds_the_target_hash_to_the_link():
    assert qr_payload(VERIFY_URL, TARGET) == f"{VERIFY_URL}?targetHash={TARGET}"
    assert qr_payload(VERIFY_URL + "?lang=zh", TARGET) == f"{VERIFY_URL}?lang=zh&targetHash={TARGET}"
    assert qr_payload(VERIFY_URL + "#top", TARGET) == f"{VERIFY_URL}?targetHash={TARGET}#top"
    assert qr_payload(VERIFY_URL, TARGET.upper().replace("0X", "")) == f"{VERIFY_URL}?targetHash={TARGET}"  # normalised
    for bad_hash in ("0x1234", "0x" + "zz" * 32, ""):
        with pytest.raises(ValueError, match="target hash"):
            qr_payload(VERIFY_URL, bad_hash)
    for bad_url in ("/verify", "javascript:alert(1)", f"{VERIFY_URL}?targetHash=0x00"):
        with pytest.raises(ValueError, match="verify_url"):
            qr_payload(bad_url, TARGET)


def test_qr_drawing_stores_exactly_the_payload_at_level_m():
    payload = qr_payload(VERIFY_URL, TARGET)
    drawing = qr_drawing(payload)
    widgets = [item for item in drawing.contents if isinstance(item, QrCodeWidget)]
    assert len(widgets) == 1 and widgets[0].value == payload and widgets[0].barLevel == "M"
    assert (drawing.width, drawing.height) == (pdf.QR_SIZE, pdf.QR_SIZE)


def test_render_puts_the_qr_payload_on_the_page(monkeypatch):
    drawn = []
    original = pdf.qr_drawing
    monkeypatch.setattr(pdf, "qr_drawing", lambda payload: drawn.append(payload) or original(payload))
    render(create_view(), VERIFY_URL + "?lang=zh", TARGET)
    assert drawn == [qr_payload(VERIFY_URL + "?lang=zh", TARGET)]


def test_an_unmasked_id_number_or_a_mismatched_hash_is_not_printed():
    for unmasked in ("110101199003071234", "11010119900307****", "no mask"):
        with pytest.raises(ValueError, match="masked"):
            render(create_view(id_number_masked=unmasked), VERIFY_URL, TARGET)
    with pytest.raises(ValueError, match="target hash"):
        render(create_view(), VERIFY_URL, "0x" + "00" * 32)


def test_long_values_still_render():
    view = create_view(agency_name="某某省某某市某某区人力资源和社会保障局行政审批服务科" * 2, matter_en="A very long English matter name " * 6)
    text = PdfReader(io.BytesIO(render(view, VERIFY_URL, TARGET))).pages[0].extract_text()
    assert "某某省某某市" in text and TARGET in text
