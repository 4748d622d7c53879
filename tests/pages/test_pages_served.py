"""Every page is served by the API itself: no CDN, no outside address, a strict
Content-Security-Policy, and only the scripts it names."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.pages

PAGES = {"/verify": ["verify.js"], "/me": ["govchain.js", "me.js", "pseudonym.js", "devwallet.js"], "/audit": ["govchain.js", "audit.js", "devwallet.js"],
         "/tenders/0x" + "00" * 32: ["govchain.js", "tender.js", "devwallet.js"], "/apply": ["govchain.js", "apply.js", "devwallet.js"],
         "/agency": ["govchain.js", "agency.js", "devwallet.js"]}  # fmt: skip
# the modules those scripts import (served the same way, checked the same way)
MODULES = ["people.js", "eip712.js", "pseudonym.js"]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_loads_only_its_own_files(stack, path):
    page = stack.http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"] and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert re.findall(r'<script (?:type="module" )?src="/static/([^"]+)"></script>', page.text) == PAGES[path]
    assert "<script>" not in page.text and " style=" not in page.text and "on" + "click=" not in page.text  # nothing inline for the CSP to refuse
    for name in ["govchain.css", *PAGES[path], *MODULES]:
        asset = stack.http.get(f"/static/{name}")
        assert asset.status_code == 200, name
        assert not re.search(r"https?://", asset.text), f"{name} names an outside address"
    assert not re.search(r"https?://", re.sub(r'placeholder="[^"]*"', "", page.text))  # a placeholder shows what a QR link looks like


def test_the_vendored_libraries_are_the_pinned_packages_unchanged(stack):
    """/me derives pseudonym keys with @noble/secp256k1 and @noble/hashes, served from our own
    static files: byte for byte the versions package.json pins."""
    import json

    from api.pages.routes import HERE, VENDOR
    from chain.node import NODE_MODULES

    pinned = json.loads((HERE.parents[1] / "package.json").read_text())["dependencies"]
    for name, source in VENDOR.items():
        package = "/".join(source.split("/")[:2])
        assert json.loads((NODE_MODULES / package / "package.json").read_text())["version"] == pinned[package]
        served = stack.http.get(f"/static/vendor/{name}")
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/javascript")
        assert served.content == (NODE_MODULES / source).read_bytes() == (HERE / "static" / "vendor" / name).read_bytes()
    assert stack.http.get("/static/vendor/index.js").status_code == 404
