"""The demo data source: clearly fake citizens for the three data categories.

Every ID number starts with region code 990101, which no Chinese region has, and every name
is 测试用户NNNN ("test user"), so nothing here can be mistaken for a real person. The set is
generated from a seed, so every gateway process serves the same citizens (the demo dataset,
``gateway.dataset.DemoDataset``), and the demo, the drills and the tests apply as them. A real
data holder plugs in its own ``gateway.dataset.DataSource``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

REGION = "990101"  # not an administrative division code: fake by construction
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def _id_number(birth: date, sequence: int) -> str:
    body = f"{REGION}{birth:%Y%m%d}{sequence:03d}"
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def demo_citizen(index: int, seed: int = 2023) -> dict:
    """The ``index``-th fake citizen (1-based): name, ID number and the facts of each category."""
    rng = random.Random(seed * 1_000_003 + index)
    birth = date(1975, 1, 1) + timedelta(days=rng.randrange(0, 365 * 25))
    id_number = _id_number(birth, index % 1000)
    name = f"测试用户{index:04d}"
    sex = "男" if int(id_number[16]) % 2 else "女"
    local = index % 3 != 0  # two in three are registered locally, the rest hold residence permits
    record = {
        "name": name,
        "id_number": id_number,
        "sex": sex,
        "birth_date": birth.isoformat(),
        "valid_until": (date(2030, 1, 1) + timedelta(days=rng.randrange(0, 3650))).isoformat(),
        "id_card": {"name": name, "id_number": id_number, "sex": sex, "birth_date": birth.isoformat(),
                    "valid_until": (date(2030, 1, 1) + timedelta(days=index)).isoformat(),
                    "issuing_authority": "测试区公安分局", "address": f"测试市测试区测试路{index}号"},
        "household_register": None,
        "residence_permit": None,
    }  # fmt: skip
    if local:
        record["household_register"] = {
            "name": name, "id_number": id_number, "registered_address": f"测试市测试区测试路{index}号",
            "registration_district": "测试区", "household_head": name, "relation": "户主",
        }  # fmt: skip
    else:
        record["residence_permit"] = {
            "name": name, "id_number": id_number, "permit_number": f"JZZ{990101}{index:06d}",
            "residence_district": "测试区", "valid_until": (date(2027, 1, 1) + timedelta(days=index)).isoformat(),
        }  # fmt: skip
    return record
