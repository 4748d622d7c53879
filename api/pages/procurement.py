"""The procurement, bidder and expert pages (issue 20, part B): server-rendered shells like the
other pages (api/pages/routes.py: the same strict CSP, no CDN); their scripts call the public
API with the signed-in wallet's token and sign in the browser's EIP-1193 wallet. A bid is sealed
in the browser (WebCrypto AES-256-GCM) and its key stays there until the opening; no page holds
a platform key.

- ``/procurement``: the procurement agency creates a tender, opens it, publishes the reading,
  answers objections and publishes the result.
- ``/tenders/{id}/bid``: a registered bidder seals, uploads, replaces or withdraws its bid, keeps
  the signed receipt, signs in at the opening and releases its key.
- ``/tenders/{id}/score``: an expert on the panel signs its scores (EIP-712).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam

from api.deps import SettingsDep
from api.pages.routes import add_page, render

TENDER_ID = PathParam(pattern=r"^0x[0-9a-fA-F]{64}$")

router = APIRouter(include_in_schema=False)


add_page(router, "/procurement", "procurement", "The procurement agency's workbench: its tenders, from creation to the published result.")


@router.get("/tenders/{tender_id}/bid")
def bid_page(tender_id: Annotated[str, TENDER_ID], settings: SettingsDep):
    """A bidder seals and submits its bid in the browser, and releases its key at the opening."""
    return render("bid", settings)


@router.get("/tenders/{tender_id}/score")
def score_page(tender_id: Annotated[str, TENDER_ID], settings: SettingsDep):
    """An expert on the panel scores the read bids, each signed in the wallet (EIP-712)."""
    return render("score", settings)
