"""Run one data holder's gateway: ``python -m api.gateway --port 8201``.

Settings come from ``GOVCHAIN_GATEWAY_*`` variables (see ``GatewaySettings``), e.g.
``GOVCHAIN_GATEWAY_HOLDER_PARTY=holder_rp`` for the residence-permit holder in dev.
"""

import argparse

import uvicorn

from api.gateway.app import create_gateway_app
from api.settings import KEEP_ALIVE_SECONDS

parser = argparse.ArgumentParser(prog="python -m api.gateway", description=__doc__.splitlines()[0])
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8201)
args = parser.parse_args()
uvicorn.run(create_gateway_app(), host=args.host, port=args.port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_SECONDS)
