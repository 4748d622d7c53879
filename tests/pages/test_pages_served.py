"""Every page is served by the API itself: no CDN, no outside address, a strict
Content-Security-Policy, and only the scripts it names."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.pages

PAGES = {"/verify": ["verify.js"], "/me": ["govchain.js", "me.js"], "/audit": ["govchain.js", "audit.js"],
         "/tenders/0x" + "00" * 32: ["govchain.js", "tender.js"]}  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_each_page_loads_only_its_own_files(stack, path):
    page = stack.http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"] and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert re.findall(r'<script src="/static/([^"]+)"></script>', page.text) == PAGES[path]
    assert "<script>" not in page.text and " style=" not in page.text and "on" + "click=" not in page.text  # nothing inline for the CSP to refuse
    for name in ["govchain.css", *PAGES[path]]:
        asset = stack.http.get(f"/static/{name}")
        assert asset.status_code == 200, name
        assert not re.search(r"https?://", asset.text), f"{name} names an outside address"
    assert not re.search(r"https?://", re.sub(r'placeholder="[^"]*"', "", page.text))  # a placeholder shows what a QR link looks like
