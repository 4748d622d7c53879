"""The matter catalog: service matters, the data each may pull, and scenes that bundle them.

Loaded and validated once at start-up; a bad catalog stops the API with the reason.
"""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from chain.consents import CATEGORIES
from chain.errors import ConfigError

DEFAULT_CATALOG = Path(__file__).with_name("matters.toml")
MIME_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def category_bit(category: str) -> int:
    return CATEGORIES.index(category)


def categories_mask(categories) -> int:
    mask = 0
    for category in categories:
        mask |= 1 << category_bit(category)
    return mask


class Entry(BaseModel):
    """What every catalogue entry has: its code and its names."""

    code: str = Field(pattern=r"^[a-z0-9-]{2,64}$")
    name_zh: str
    name_en: str


class Material(Entry):
    types: list[str] = Field(min_length=1)
    max_bytes: int = Field(gt=0, le=50_000_000)
    commitment_allowed: bool = False

    @field_validator("types")
    @classmethod
    def _known_types(cls, types: list[str]) -> list[str]:
        unknown = set(types) - MIME_TYPES
        if unknown:
            raise ValueError(f"unknown MIME types {sorted(unknown)}; known: {sorted(MIME_TYPES)}")
        return types


class Matter(Entry):
    agency: str = Field(description="domain of the handling agency in GovRegistry")
    certificate: str
    consent_days: int = Field(gt=0, le=365)
    max_pulls: int = Field(gt=0, le=1000)
    data: dict[str, list[str]]
    materials: list[Material] = Field(default_factory=list)

    @field_validator("data")
    @classmethod
    def _known_categories(cls, data: dict[str, list[str]]) -> dict[str, list[str]]:
        if not data:
            raise ValueError("a matter needs at least one data category")
        for category, attributes in data.items():
            if category not in CATEGORIES:
                raise ValueError(f"unknown data category {category!r}; known: {', '.join(CATEGORIES)}")
            if not attributes or len(set(attributes)) != len(attributes):
                raise ValueError(f"{category}: attributes must be listed, each once")
        return data


class Scene(Entry):
    matters: list[str] = Field(min_length=1)


class CertificateType(BaseModel):
    """What a matter's approval issues (the certificate's title)."""

    name_zh: str
    name_en: str


class Catalog(BaseModel):
    matter: list[Matter]
    scene: list[Scene] = Field(default_factory=list)
    certificate: dict[str, CertificateType] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> "Catalog":
        codes = [m.code for m in self.matter] + [s.code for s in self.scene]
        duplicates = {c for c in codes if codes.count(c) > 1}
        if duplicates:
            raise ValueError(f"codes used twice: {sorted(duplicates)}")
        by_code = {m.code: m for m in self.matter}
        untitled = sorted({m.certificate for m in self.matter} - set(self.certificate))
        if untitled:
            raise ValueError(f"certificates without a [certificate.<code>] entry: {untitled}")
        for scene in self.scene:
            missing = [c for c in scene.matters if c not in by_code]
            if missing:
                raise ValueError(f"scene {scene.code} names unknown matters {missing}")
            agencies = {by_code[c].agency for c in scene.matters}
            if len(agencies) != 1:
                raise ValueError(f"scene {scene.code} spans agencies {sorted(agencies)}; one lead agency handles a scene")
        return self

    def consent_profile(self, agency: str) -> tuple[int, int]:
        """``(consent_days, max_pulls)`` of every consent to ``agency``: the largest over the matters
        it handles. One window and one budget per agency, whatever the matter, so neither names the
        matter on chain (the agency is on chain anyway)."""
        handled = [m for m in self.matter if m.agency == agency]
        if not handled:
            raise ValueError(f"no matter in the catalog is handled by {agency!r}")
        return max(m.consent_days for m in handled), max(m.max_pulls for m in handled)

    @cached_property
    def matters(self) -> dict[str, Matter]:
        return {m.code: m for m in self.matter}

    @cached_property
    def scenes(self) -> dict[str, Scene]:
        return {s.code: s for s in self.scene}

    def resolve(self, code: str) -> list[Matter]:
        """The matters an application for ``code`` (a matter or a scene) covers."""
        if code in self.matters:
            return [self.matters[code]]
        if code in self.scenes:
            return [self.matters[c] for c in self.scenes[code].matters]
        raise KeyError(code)


def merged_scope(matters: list[Matter]) -> dict[str, list[str]]:
    """The union of the attributes the matters need, per category (sorted: canonical)."""
    scope: dict[str, set[str]] = {}
    for matter in matters:
        for category, attributes in matter.data.items():
            scope.setdefault(category, set()).update(attributes)
    return {category: sorted(attributes) for category, attributes in sorted(scope.items())}


def load_catalog(path: Path | str = DEFAULT_CATALOG) -> Catalog:
    path = Path(path)
    try:
        return Catalog.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"catalog {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"catalog {path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"catalog {path} is invalid:\n{exc}") from None
