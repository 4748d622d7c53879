"""Run one data holder's gateway: ``python -m gateway --port 8201``.

Settings come from ``GOVCHAIN_GATEWAY_*`` variables (see ``GatewaySettings``), e.g.
``GOVCHAIN_GATEWAY_HOLDER_PARTY=holder_rp`` for the residence-permit holder in dev.
"""

import argparse
import sys

import uvicorn
from pydantic import ValidationError

from gateway.app import create_gateway_app
from gateway.settings import GatewaySettings
from httpkit import KEEP_ALIVE_SECONDS

parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__.splitlines()[0])
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8201)
args = parser.parse_args()
try:
    settings = GatewaySettings()
except ValidationError as exc:  # a refused setting: say which, no traceback
    sys.exit("gateway: " + "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors()))
uvicorn.run(create_gateway_app(settings), host=args.host, port=args.port, log_level="warning", timeout_keep_alive=KEEP_ALIVE_SECONDS)
