"""Server-rendered pages: plain HTML, one stylesheet and small scripts served from here (no
CDN, no framework, so they work offline and on an intranet). The pages call the same public
API as any client; the ones that need a signed-in user sign in with EIP-4361 through the
browser's EIP-1193 wallet and never see key material."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import SettingsDep
from httpkit.problems import NotFound
from api.settings import Environment, Settings

HERE = Path(__file__).resolve().parent
STATIC = {
    "govchain.css": "text/css",
    "govchain.js": "text/javascript",  # shared: EIP-4361 sign-in through window.ethereum, display helpers
    "verify.js": "text/javascript",
    "me.js": "text/javascript",
    "audit.js": "text/javascript",
    "tender.js": "text/javascript",
    "pseudonym.js": "text/javascript",  # a module: the /me page derives a consent's pseudonym key and signs with it
    # the applicant's and the agency's journeys (people.py)
    "apply.js": "text/javascript",
    "agency.js": "text/javascript",
    "people.js": "text/javascript",  # a module: the session bar, API calls and bilingual errors of /apply and /agency
    "eip712.js": "text/javascript",  # a module: EIP-712 and EIP-191 digests, used by the dev wallet and /apply
    # the procurement agency's, the bidder's and the expert's pages (procurement.py)
    "procurement-kit.js": "text/javascript",  # a module: API calls, bilingual failures, EIP-712 and keccak for the three pages
    "procurement.js": "text/javascript",
    "bid.js": "text/javascript",
    "score.js": "text/javascript",
    "procurement.css": "text/css",
}
DEV_STATIC = {"devwallet.js": "text/javascript"}  # the dev wallet: served in dev only
ASSET_HEADERS = {"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"}
# Pinned npm libraries, copied unchanged into static/vendor (package.json pins the versions;
# tests/pages/test_pages_served.py checks the copies against node_modules).
VENDOR = {
    "secp256k1.js": "@noble/secp256k1/index.js",
    "sha3.js": "@noble/hashes/sha3.js",
    "_u64.js": "@noble/hashes/_u64.js",
    "utils.js": "@noble/hashes/utils.js",
}
# Pages load nothing but their own scripts and stylesheet, and may not be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
router = APIRouter(include_in_schema=False)


# The dev wallet (api/pages/people.py): a page opts in with this one tag; outside dev it is dropped.
DEV_WALLET_TAG = '<script type="module" src="/static/devwallet.js"></script>'


def is_dev(settings: Settings) -> bool:
    return settings.env is Environment.DEV


# What the journeys' pages share, written once: a template says `<!--session: PROMPT-->` for the
# sign-in bar (PROMPT: what to sign in with, in both languages) and `<!--scripts: NAME.js-->` for its
# scripts (the shared sign-in script, the page's own module, the dev wallet in dev).
SESSION_BAR = """  <div class="session">
    <span id="signed-out">{prompt}</span>
    <span id="signed-in" hidden>Signed in as 已登录 <code id="address"></code></span>
    <button id="sign-in" type="button">Sign in with wallet 钱包登录</button>
    <button id="sign-out" type="button" class="secondary" hidden>Sign out 退出</button>
  </div>"""
PAGE_SCRIPTS = """<script src="/static/govchain.js"></script>
<script type="module" src="/static/{script}"></script>"""


def render(name: str, settings: Settings) -> HTMLResponse:
    """A template as a page, its shared parts filled in; outside dev without the dev wallet's script tag."""
    html = (HERE / "templates" / f"{name}.html").read_text(encoding="utf-8")
    html = re.sub(r"^  <!--session: (.+?)-->$", lambda m: SESSION_BAR.format(prompt=m.group(1)), html, flags=re.M)
    html = re.sub(r"^<!--scripts: ([\w.-]+\.js)-->$", lambda m: PAGE_SCRIPTS.format(script=m.group(1)) + "\n" + DEV_WALLET_TAG, html, flags=re.M)
    if not is_dev(settings):
        html = html.replace(DEV_WALLET_TAG + "\n", "").replace(DEV_WALLET_TAG, "")
    return HTMLResponse(html, headers=SECURITY_HEADERS)


def add_page(router: APIRouter, path: str, name: str, summary: str) -> None:
    """Serve the template ``name`` at ``path``, rendered (:func:`render`); ``summary``: whose page, for what."""

    def serve(settings: SettingsDep) -> HTMLResponse:
        return render(name, settings)

    serve.__doc__ = summary
    router.add_api_route(path, serve, methods=["GET"], name=f"{name}_page")


def page(name: str) -> HTMLResponse:
    """A page without the dev wallet (no signing on it)."""
    return HTMLResponse((HERE / "templates" / f"{name}.html").read_text(encoding="utf-8"), headers=SECURITY_HEADERS)


@router.get("/verify")
def verify_page():
    """Drop a certificate file or open its QR link; see the three checks and their reasons."""
    return page("verify")


add_page(router, "/me", "me", "The applicant's consents (with their state and receipts) and every access to their data.")
add_page(router, "/audit", "audit", "An auditor searches a case (application or tender) and sees its trail verified against the chain.")


@router.get("/tenders/{tender_id}")
def tender_page(tender_id: Annotated[str, PathParam(pattern=r"^0x[0-9a-fA-F]{64}$")], settings: SettingsDep):
    """The public bid-opening hall of one tender, updating live."""
    return render("tender", settings)


@router.get("/static/vendor/{name}")
def vendored(name: str):
    if name not in VENDOR:
        raise NotFound(f"no vendored file {name}")
    return FileResponse(HERE / "static" / "vendor" / name, media_type="text/javascript", headers=ASSET_HEADERS)


@router.get("/static/{name}")
def static(name: str, settings: SettingsDep):
    media_type = STATIC.get(name) or (DEV_STATIC.get(name) if is_dev(settings) else None)
    if media_type is None:
        raise NotFound(f"no static file {name}")
    return FileResponse(HERE / "static" / name, media_type=media_type, headers=ASSET_HEADERS)
