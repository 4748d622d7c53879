"""The matter catalog: what ships, and what a bad catalog is refused for."""

from __future__ import annotations

import pytest

from api.catalog import DEFAULT_CATALOG, categories_mask, load_catalog, merged_scope
from chain.errors import ConfigError


def test_shipped_catalog_has_the_teacher_and_film_matters():
    catalog = load_catalog()
    for level in ("kindergarten", "primary", "junior-middle"):
        matter = catalog.matters[f"teacher-qualification-{level}"]
        assert matter.name_zh.endswith("教师资格认定") and matter.agency == "edu.gov.example"
        assert set(matter.data) == {"id_card", "household_register", "residence_permit"}
    assert catalog.scenes["film-shooting"].name_zh == "我要拍电影" and len(catalog.resolve("film-shooting")) == 3
    assert catalog.scenes["film-extras"].name_zh == "我要招群演"


def test_scope_is_the_sorted_union_and_categories_a_bit_set():
    catalog = load_catalog()
    scope = merged_scope(catalog.resolve("film-extras"))
    assert scope == {"id_card": ["id_number", "name", "valid_until"], "residence_permit": ["name", "permit_number", "residence_district"]}
    assert categories_mask(scope) == 0b011


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.replace('id_card = ["name", "id_number", "valid_until"]', 'passport = ["number"]', 1), "unknown data category"),
        (lambda t: t.replace('code = "film-road-occupation"', 'code = "film-location-permit"', 1), "codes used twice"),
        (lambda t: t.replace('agency = "culture.gov.example"', 'agency = "traffic.gov.example"', 2), "spans agencies"),
        (lambda t: t.replace('types = ["application/pdf"]', 'types = ["application/x-msdownload"]', 1), "unknown MIME types"),
        (lambda t: t.replace("consent_days = 15", "consent_days = 0", 1), "greater than 0"),
        (lambda t: t + "\n[[matter]\n", "not valid TOML"),
    ],
)
def test_a_bad_catalog_is_refused_with_the_reason(tmp_path, change, message):
    bad = tmp_path / "matters.toml"
    bad.write_text(change(DEFAULT_CATALOG.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_catalog(bad)
