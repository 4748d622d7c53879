"""Run the face-verification stand-in as its own process.

    FACE_VENDOR_WEBHOOK_SECRET=whsec_... FACE_VENDOR_API_KEY=... \\
        python -m api.dev.face_vendor --host 127.0.0.1 --port 8700

Refuses to start (exit code 2) without both secrets, or with malformed ones.
"""

from __future__ import annotations

import argparse
import os
import sys

ENV_HELP = """environment (both required):
  FACE_VENDOR_WEBHOOK_SECRET  the callback signing secret, 'whsec_' + base64 of >= 24 random bytes
                              (the platform verifies callbacks with the same secret)
  FACE_VENDOR_API_KEY         the API key the platform presents as 'Authorization: Bearer <key>'
                              (>= 16 printable characters, no spaces)"""


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m api.dev.face_vendor",
        description="Face-verification vendor stand-in (test/demo double: simulated outcomes, no images).",
        epilog=ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    cli.add_argument("--port", type=int, default=8700, help="port to listen on (default 8700)")
    cli.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return cli


def refuse(cli: argparse.ArgumentParser, reason: str) -> int:
    sys.stderr.write(f"{cli.format_usage()}{cli.prog}: error: {reason}\n\n{ENV_HELP}\n")
    return 2


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)  # exits 2 on bad arguments
    secret = os.environ.get("FACE_VENDOR_WEBHOOK_SECRET", "")
    api_key = os.environ.get("FACE_VENDOR_API_KEY", "")
    missing = [name for name, value in (("FACE_VENDOR_WEBHOOK_SECRET", secret), ("FACE_VENDOR_API_KEY", api_key)) if not value]
    if missing:
        return refuse(cli, f"{' and '.join(missing)} not set; refusing to start")
    if not secret.startswith("whsec_"):
        return refuse(cli, "FACE_VENDOR_WEBHOOK_SECRET must start with 'whsec_'; refusing to start")

    import uvicorn

    from api.dev.face_vendor.app import create_vendor_app
    from httpkit import KEEP_ALIVE_SECONDS
    from chain.errors import ConfigError

    try:
        app = create_vendor_app(secret, api_key)
    except ConfigError as exc:
        return refuse(cli, f"{exc}; refusing to start")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_keep_alive=KEEP_ALIVE_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
