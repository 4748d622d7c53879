"""The running platform as explicit parts, built once at start-up (:meth:`Platform.build`).

- ``contracts``: typed clients of the deployment record, connecting on first use
  (:mod:`api.contracts`; the API starts with the node down and answers 503 until it is up);
- ``keyring``: the platform's signers and, dev only, the agencies' keys (:mod:`api.keyring`);
- ``members``: the one directory of GovRegistry's members, refreshed from its events
  (:mod:`chain.members`);
- ``workers``: the background workers the app's lifespan starts, wakes and stops
  (:mod:`api.workers`; the lifespan adds them, a script's platform runs none);
- the database (``engine``, ``sessions``), the secrets (``token_secret``, ``keys``), the rate
  limits and the catalogue.

Routes get the parts as FastAPI dependencies (:mod:`api.deps`); a service that needs several
takes the Platform. Nothing here is built on demand, and nothing here imports a feature package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from api.catalog import Catalog, load_catalog
from api.contracts import Contracts
from api.keyring import Keyring
from api.keys import PlatformKeys
from api.limits import RateLimiter
from api.settings import Settings
from api.workers import Workers
from chain.db import make_engine, session_factory
from chain.members import Members


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    token_secret: str
    keys: PlatformKeys  # one root, a key per purpose (HKDF)
    limits: RateLimiter
    catalog: Catalog
    contracts: Contracts
    keyring: Keyring
    members: Members
    workers: Workers = field(default_factory=Workers)

    @classmethod
    def build(cls, settings: Settings) -> "Platform":
        engine = make_engine(settings.sqlalchemy_url)
        sessions = session_factory(engine)
        contracts = Contracts(settings, sessions)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            token_secret=settings.resolved_token_secret(),
            keys=PlatformKeys(settings.resolved_data_key()),
            limits=RateLimiter(sessions, settings),
            catalog=load_catalog(settings.catalog_path),
            contracts=contracts,
            keyring=Keyring(settings),
            members=Members(contracts.registry, settings.role_cache_seconds),
        )

    def close(self) -> None:
        self.workers.stop()
        self.engine.dispose()
