"""The people's journeys (issue 20, part A): the applicant's ``/apply`` and the handling agency's
``/agency``, and the dev wallet every page may load.

Served like :mod:`api.pages.routes`: plain HTML from ``templates/``, scripts from ``static/``, the
same strict Content-Security-Policy. The pages call the public API (fetch) and sign in the
browser's EIP-1193 wallet; the platform never hands a page a key.

The dev wallet (``/static/devwallet.js``, a module) exists only with ``GOVCHAIN_ENV=dev``: a
built-in EIP-1193 wallet whose keys are derived in the browser from the documented dev mnemonic
(``GET /dev/wallet.json``) or generated and kept in the browser's localStorage, so a new user can
walk every journey without a wallet extension. Outside dev both answer 404 and
:func:`api.pages.routes.render` drops the page's ``<script>`` tag for it. A page opts in with one tag:
``<script type="module" src="/static/devwallet.js"></script>``; it steps aside when the browser
already has a wallet (``window.ethereum``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from api.pages.routes import add_page, is_dev
from httpkit.problems import NotFound
from chain.config import load_node_config
from identity.parties import DEV_MEMBERS, GOVERNOR_INFO

router = APIRouter(include_in_schema=False)


add_page(router, "/apply", "apply", "The applicant's journey: matter, face check, consent, materials, commitment, submission, status.")
add_page(router, "/agency", "agency", "The handling agency's workbench: queue, review, pulls signed in its wallet, decisions, delivery, revocation, checks.")


@router.get("/dev/wallet.json")
def dev_wallet_config(settings: SettingsDep):
    """DEV ONLY: the public test mnemonic and which account index is which party, for the dev wallet."""
    if not is_dev(settings):
        raise NotFound("no dev wallet outside dev")
    config = load_node_config(settings.node_config)
    names = {"governor": GOVERNOR_INFO.name, **{party: spec[0] for party, spec in DEV_MEMBERS.items()}}
    accounts = [{"party": party, "index": index, "name": names.get(party, party)} for party, index in sorted(config.parties.items(), key=lambda p: p[1])]
    body = {"warning": "DEV ONLY: this mnemonic is public; never use it outside a local node", "mnemonic": config.mnemonic,
            "chain_id": settings.chain_id, "accounts": accounts}  # fmt: skip
    return JSONResponse(body, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
