"""Crash points for fault drills.

``checkpoint("outbox.after_send")`` kills the current process with SIGKILL when the
environment variable ``GOVCHAIN_FAULT`` names that point, so drills can kill a real
process at an exact place. It does nothing otherwise.
"""

from __future__ import annotations

import os
import signal


def checkpoint(name: str) -> None:
    if os.environ.get("GOVCHAIN_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
