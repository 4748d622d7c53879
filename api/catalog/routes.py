from __future__ import annotations

from fastapi import APIRouter

from api.catalog import Catalog
from api.deps import PlatformDep

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.get("/catalog", response_model=Catalog)
def catalog(platform: PlatformDep):
    """The matters and scenes one can apply for: the data each may pull and the materials it needs."""
    return platform.catalog
