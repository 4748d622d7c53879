"""Suite-wide fixtures: a real local node (ganache, or anvil with GOVCHAIN_NODE=anvil),
the compiled contracts, a deployment with the dev parties, and a chain snapshot per test.

Markers (what `make test` runs where):
- ``chain``: talks to the local node; set automatically from the fixtures a test takes.
- ``node``: depends on which node runs (transactions, nonces, receipts, reverts, logs, restarts;
  one smoke run of each end-to-end flow). Set by hand; the anvil pass runs these alone.
- ``db``: its subject is the database (migrations, locking, dialect differences, the outbox's
  and the indexer's transactions). These run on SQLite and, when GOVCHAIN_TEST_DATABASE_URL
  is set (CI), on PostgreSQL too; every other test runs on SQLite only.

The whole-stack tests (``stack``: API, face vendor, two gateways) share one stack per session
(per xdist worker) and run after every other test, so no snapshot revert pulls the chain out
from under the running services.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api import db
from chain import reverts
from chain.compile import Build, compile_contracts
from chain.config import NodeConfig, load_node_config
from chain.db import make_engine, session_factory
from chain.deploy import Deployment, deploy, write_record
from chain.node import LocalNode, rpc_call
from chain.signals import close_bells
from chain.registry import GovRegistryClient
from chain.tx import ChainClient
from identity.keys import dev_account, dev_party
from identity.parties import dev_issuers, dev_member_specs, governor_info
from tests.support.api import ApiServer, Clock, api_settings
from tests.support.stack import running_stack

# An xdist worker starts with COLUMNS=80 in its environment, and rich fixes a console's width
# from it when the console is made (at import of the CLI modules). Without it the width is read
# at each print, and the CLI tests' own COLUMNS holds, as it does in a plain pytest run.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)

CHAIN_FIXTURES = {"node_config", "node", "client", "chain", "deployment", "registry", "snapshot"}
PROCESS_FIXTURES = {"vendor", "api", "stack"}  # fixtures that start a service process of their own


def pytest_configure(config):
    config.addinivalue_line("markers", "chain: talks to the local node (set from the fixtures a test takes)")
    config.addinivalue_line("markers", "node: depends on which node runs; `make test` runs these on anvil as well")
    config.addinivalue_line("markers", "proc: starts a process (a service, the compiler); not a unit test for `make check`")


def pytest_collection_modifyitems(items):
    for item in items:
        if CHAIN_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.chain)
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.proc)
    # The modules that use the shared stack last, whole (xdist hands out whole modules, in this
    # order: --no-loadscope-reorder in pyproject.toml): a snapshot revert after them would rewind
    # the chain under its services. Before them, the other modules with `slow` tests first (the
    # drills, `govchain up`, node restarts: a minute or more each in a few tests; handed out
    # last, one kept a worker busy while the other waited, docs/testing.md); then, in each
    # part, the modules with the most tests first (xdist's own order).
    module = {item: item.module.__name__ for item in items}
    on_stack = {module[item] for item in items if "stack" in getattr(item, "fixturenames", ())}
    slow_first = {module[item] for item in items if item.get_closest_marker("slow")} - on_stack
    sizes = Counter(module.values())
    items.sort(key=lambda item: (module[item] in on_stack, module[item] not in slow_first, -sizes[module[item]]))


def pytest_generate_tests(metafunc):
    """``database_url`` is SQLite, and PostgreSQL as well for ``db`` tests when one is configured."""
    chosen = any("database_url" in marker.args[0] for marker in metafunc.definition.iter_markers("parametrize"))
    if "database_url" in metafunc.fixturenames and not chosen:
        kinds = ["sqlite"]
        if os.environ.get("GOVCHAIN_TEST_DATABASE_URL") and metafunc.definition.get_closest_marker("db"):
            kinds.append("postgresql")
        metafunc.parametrize("database_url", kinds, indirect=True)


@pytest.fixture(scope="session")
def node_config(tmp_path_factory) -> NodeConfig:
    """localnode.toml's settings on a free port, in memory, logging to the test folder."""
    log = tmp_path_factory.mktemp("node") / "node.log"
    return load_node_config().with_(port=0, state_dir=None, log_file=log)


@pytest.fixture(scope="session")
def build() -> Build:
    built = compile_contracts()
    for artifact in built.artifacts.values():
        reverts.register_abi(artifact.abi)
    return built


@pytest.fixture(scope="session")
def node(node_config):
    with LocalNode(node_config) as running:
        yield running


@pytest.fixture(scope="session")
def client(node) -> ChainClient:
    return ChainClient.from_url(node.url, expected_chain_id=node.config.chain_id)


@dataclass(frozen=True)
class Parties:
    governor: LocalAccount
    relayer: LocalAccount
    agency: LocalAccount
    holder_psb: LocalAccount
    holder_rp: LocalAccount
    procurement: LocalAccount
    auditor: LocalAccount
    agency_culture: LocalAccount
    outsider: LocalAccount  # a funded key that is no member (an applicant, say)
    outsider2: LocalAccount


@pytest.fixture(scope="session")
def parties(node_config) -> Parties:
    named = {p: dev_party(node_config, p) for p in ("governor", "relayer", "agency", "holder_psb", "holder_rp", "procurement", "auditor", "agency_culture")}
    return Parties(**named, outsider=dev_account(node_config, 10), outsider2=dev_account(node_config, 11))


@pytest.fixture(scope="session")
def deployment(client, build, parties, node_config, tmp_path_factory) -> Deployment:
    state = tmp_path_factory.mktemp("state")
    return deploy(
        client, parties.governor, build, state, governor_info=governor_info(node_config),
        members=dev_member_specs(node_config), issuers=dev_issuers(node_config),
    )  # fmt: skip


@pytest.fixture(scope="session")
def deployment_dir(deployment, tmp_path_factory) -> Path:
    from chain.deploy import write_record

    folder = tmp_path_factory.mktemp("record")
    write_record(folder, deployment)
    return folder


@pytest.fixture
def snapshot(client):
    """Run the test on a chain snapshot and revert it afterwards (nonce counters too)."""
    snap = rpc_call(client.w3.provider.endpoint_uri, "evm_snapshot")
    yield
    rpc_call(client.w3.provider.endpoint_uri, "evm_revert", [snap])
    client.nonces.reset()


@pytest.fixture
def chain(client, deployment, snapshot) -> ChainClient:
    return client


@pytest.fixture
def registry(chain, deployment, build) -> GovRegistryClient:
    return GovRegistryClient(chain, deployment.address("GovRegistry"), build["GovRegistry"].abi)


# -- databases ------------------------------------------------------------------------------


@pytest.fixture
def database_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or (``db`` tests, when GOVCHAIN_TEST_DATABASE_URL
    is set, as in CI) a throw-away database on that PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    server = make_url(os.environ["GOVCHAIN_TEST_DATABASE_URL"])
    name = f"govchain_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        close_bells(url)  # this process's listeners on it, before it is dropped
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sessions(database_url):
    """Sessions on ``database_url``, migrated to the newest schema."""
    engine = make_engine(database_url)
    db.upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


# -- the platform API and the whole stack -----------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(chain, deployment, database_url, tmp_path, clock):
    """The platform API on a fresh database, serving real HTTP on a free loopback port."""
    write_record(tmp_path, deployment)
    settings = api_settings(tmp_path, database_url, chain.w3.provider.endpoint_uri)
    with ApiServer(settings, clock) as server:
        yield server


@pytest.fixture
def http(api):
    with httpx.Client(base_url=api.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def stack(client, deployment, tmp_path_factory):
    """One whole stack (API, face vendor, two gateways) for every test that takes it."""
    with running_stack(client, deployment, tmp_path_factory.mktemp("stack")) as started:
        yield started


@pytest.fixture(autouse=True)
def _stack_back_to_wall_clock(request):
    """After a test on the shared stack: the platform's clock back to the wall clock (a tender
    test moves it to the chain's, which runs ahead; the gateways refuse requests stamped far
    from their own clock), and both the suite's and the platform's nonce counters re-read (a
    test may act as a dishonest party with a key the platform also sends with)."""
    yield
    if "stack" in request.fixturenames:
        stack = request.getfixturevalue("stack")
        stack.clock.offset = timedelta(0)
        stack.api.platform.contracts.chain().nonces.reset()
        request.getfixturevalue("client").nonces.reset()


@pytest.fixture
def applicant():
    """A fresh applicant key: every test is a new citizen."""
    return Account.create()
