"""The platform API: ``create_app()`` builds it, uvicorn serves it."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import db
from httpkit import problems
from api.agency_signing.routes import router as agency_signing_router
from api.applications.routes import catalog_router, router as applications_router
from api.audit.indexer import Indexer
from api.audit.routes import router as audit_router
from api.auth.routes import router as auth_router
from api.certificates.routes import router as certificates_router
from api.certificates.service import Issuer
from api.consents.routes import router as consents_router
from api.context import Platform
from api.health.routes import router as health_router
from httpkit.inflight import InflightLimit
from api.materials.routes import router as materials_router
from api.members.routes import router as members_router
from api.pages.people import router as people_pages_router
from api.pages.procurement import router as procurement_pages_router
from api.pages.routes import router as pages_router
from api.pulls.routes import router as pulls_router
from api.settings import Settings
from api.tenders.routes import router as tenders_router
from api.workers import OutboxResume
from api.writes.routes import router as writes_router
from api.writes.worker import WriterWorker
from chain.leases import Lease


WORKER_NAMES = ("outbox", "writer", "issuer", "indexer")


def add_workers(platform: Platform, names: tuple[str, ...] = WORKER_NAMES) -> None:
    """The platform's background workers (all of them in an API process). The writer of each key,
    the issuer and the indexer each work in one process at a time among all that share the
    database (a lease each); the others stand by and take over when it dies."""
    contracts = platform.contracts
    if "outbox" in names:
        platform.workers.add(OutboxResume(contracts.outbox))  # finishes chain writes a previous process left open, first
    if "writer" in names:
        platform.workers.add(WriterWorker(platform))  # sends the queued chain writes, one writer per key (stops after the issuer)
    if "issuer" in names:
        issuer = Issuer(platform)  # finishes batches a previous process left pending, then batches new approvals
        issuer.lead_with(Lease(platform.engine, "issuer"))
        platform.workers.add(issuer)
    if "indexer" in names:
        indexer = Indexer(contracts.chain, contracts.deployment, platform.sessions, platform.settings.index)  # the audit index (resumes at its cursor)
        indexer.lead_with(Lease(platform.engine, "indexer"))
        platform.workers.add(indexer)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        platform = Platform.build(settings)  # every part, built once; the chain is reached on first use
        if settings.auto_migrate:
            db.upgrade(platform.engine)
        app.state.platform = platform
        add_workers(platform)
        platform.workers.start()
        yield
        platform.close()  # the workers stop in reverse order, then the database

    app = FastAPI(
        title="govchain platform API",
        version="0.1.0",
        summary="Trust layer for no-visit government approval and electronic bid opening",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(InflightLimit, max_inflight=settings.max_inflight, wait_seconds=settings.inflight_wait_seconds)
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(members_router)
    app.include_router(catalog_router)
    app.include_router(applications_router)
    app.include_router(consents_router)
    app.include_router(pulls_router)
    app.include_router(materials_router)
    app.include_router(certificates_router)
    app.include_router(tenders_router)
    app.include_router(agency_signing_router)
    app.include_router(audit_router)
    app.include_router(writes_router)
    app.include_router(people_pages_router)
    app.include_router(pages_router)
    app.include_router(procurement_pages_router)
    return app
