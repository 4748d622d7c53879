"""Schemathesis against the live OpenAPI documents of the platform API and of a data-holder
gateway, every operation: no 5xx, every response conforms to its declared schema, status
and content type (errors are declared as problem details, see ``httpkit.problems.declare_problems``).

Bounded for CI: a few examples per operation, no deadline (the node is real). Callers get a
bearer token that fits the operation (applicant, agency, procurement, auditor), so the fuzz
gets past 401; half the examples aim at real objects (an application with an issued
certificate, its consent, a tender) instead of random ids, so it gets past 404 too.
"""

from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from api.app import create_app
from gateway.app import create_gateway_app
from gateway.settings import GatewaySettings
from api.settings import Settings

MAX_EXAMPLES = int(os.environ.get("GOVCHAIN_FUZZ_EXAMPLES", "12"))
CHECKS = [checks.not_a_server_error, checks.response_schema_conformance, checks.status_code_conformance, checks.content_type_conformance]
FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck), database=None)  # fmt: skip
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"generation": {"mode": "all"}})
# The documents the live servers serve are these (same code); built here so each operation is a test of its own.
PLATFORM = schemathesis.openapi.from_dict(create_app(Settings()).openapi(), config=CONFIG)
GATEWAY = schemathesis.openapi.from_dict(create_gateway_app(GatewaySettings()).openapi(), config=CONFIG)
_turn = itertools.count()


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    return pytest.mark.parametrize("operation", found, ids=[op.label for op in found])


def caller(path: str, method: str) -> str:
    if path.startswith("/v1/tenders"):
        return "procurement"
    if path in ("/v1/outbox", "/v1/records") or path.startswith("/v1/audit"):
        return "auditor"
    if path.startswith(("/v1/agency", "/v1/certificate-batches")) or path.endswith(("/pulls", "/data", "/decision", "/check", "/file", "/revoke")):
        return "agency"
    if path.endswith("/delivery") and method.upper() == "POST":
        return "agency"
    return "applicant"


REAL = ("application_id", "consent_id", "certificate_id", "target_hash", "merkle_root", "tender_id", "pseudonym")


def fuzz(operation, base_url: str, prepare) -> None:
    @FUZZ
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(base_url=base_url, checks=CHECKS, **prepare(case))

    run()


def test_every_operation_is_fuzzed():
    assert len(list(PLATFORM.get_all_operations())) >= 60 and len(list(GATEWAY.get_all_operations())) == 2


@operations(PLATFORM)
def test_platform_api(operation, world, stack):
    def prepare(case):
        if case.path_parameters and next(_turn) % 2 == 0:
            for name in case.path_parameters:
                if name in REAL:
                    case.path_parameters[name] = getattr(world, name)
        return {"headers": world.headers[caller(case.path, case.method)]}

    fuzz(operation, stack.api.url, prepare)


@operations(GATEWAY)
def test_gateway(operation, stack):
    fuzz(operation, stack.services.gateways["holder_psb"].url, lambda case: {})
