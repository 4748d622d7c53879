"""Server-rendered pages: plain HTML, one stylesheet and one script served from here (no
CDN, so they work offline and on an intranet). The pages call the same public API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from api.problems import NotFound

HERE = Path(__file__).resolve().parent
STATIC = {"govchain.css": "text/css", "verify.js": "text/javascript"}
router = APIRouter(include_in_schema=False)


def page(name: str) -> HTMLResponse:
    return HTMLResponse((HERE / "templates" / f"{name}.html").read_text(encoding="utf-8"))


@router.get("/verify")
def verify_page():
    """Drop a certificate file or open its QR link; see the three checks and their reasons."""
    return page("verify")


@router.get("/static/{name}")
def static(name: str):
    if name not in STATIC:
        raise NotFound(f"no static file {name}")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "max-age=300"})
