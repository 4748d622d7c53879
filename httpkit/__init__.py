"""What every govchain HTTP service shares (the platform API, the data holders' gateways, the
face-vendor stand-in): problem details (:mod:`httpkit.problems`), the cap on requests in flight
(:mod:`httpkit.inflight`), the request clock and the keep-alive time. It knows nothing of any
one service; it imports only :mod:`chain` (its errors, rendered as problem details).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends

# How long an idle HTTP keep-alive connection stays open (uvicorn's default is 5 s). Under load a
# client's pooled connection can sit idle longer than 5 s and be closed just as the client sends
# on it (the load drill saw one such ReadError in 2,239 requests, then one at the face-vendor
# stand-in); 65 s outlasts the usual proxy and client pools. The API, the gateways and the vendor use it.
KEEP_ALIVE_SECONDS = 65


def get_now() -> datetime:
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(get_now)]
