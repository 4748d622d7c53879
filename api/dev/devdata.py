"""Dev and benchmark data: submitted applications written straight into the database.

Issuance benchmarks and drills need thousands of applications awaiting review; running face
checks, consents and pulls for each would measure those steps instead (they have their own
benchmarks). The rows written here are what the real steps leave behind: a sealed claimed
identity of a fake citizen (region 990101, never a real person) and the SUBMITTED state.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from api.applications import states
from api.applications.service import sealed
from api.context import Platform
from chain.registry import Role
from identity.dev_citizens import demo_citizen
from api.models import Application


def seed_submitted(platform: Platform, count: int, code: str = "teacher-qualification-primary") -> list[str]:
    """``count`` applications for ``code`` in SUBMITTED, handled by the matter's agency; returns their ids."""
    matter = platform.catalog.matters[code]
    agency = platform.members.by_domain(matter.agency, Role.AGENCY)
    if agency is None:
        raise LookupError(f"no active AGENCY member has the domain {matter.agency}")
    now = datetime.now(UTC)
    ids = []
    with platform.sessions() as session:
        for index in range(count):
            citizen = demo_citizen(1 + index % 2000)
            application_id = "app_" + uuid.uuid4().hex
            identity = json.dumps({"name": citizen["name"], "id_number": citizen["id_number"]}, ensure_ascii=False).encode()
            session.add(Application(
                id=application_id, applicant="0x" + uuid.uuid4().hex[:40].ljust(40, "0"), code=code, matters=[code],
                agency=agency.address, state=states.SUBMITTED, purpose_salt="0x" + "00" * 32, submitted_at=now,
                claimed_identity=sealed(platform, application_id, "claimed_identity", identity), delivery_method="electronic",
            ))  # fmt: skip
            ids.append(application_id)
        session.commit()
    return ids
