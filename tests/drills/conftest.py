"""One node, deployment, face vendor and pair of gateways for the drills a test worker runs
(package scope: both modules when one worker gets both, one each when two workers split
them): the drills run one after the other on it, each with its own API process and database,
and each checks only what was written on chain since it started. A drill that left the node down
gets it started again before the next one (scripts/faults/harness.py's ``drill_stack``)."""

from __future__ import annotations

import pytest

from scripts.faults.harness import Chain, Shared


@pytest.fixture(scope="package")
def drill_services(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("drills")
    with Chain(workdir) as chain, Shared(chain, workdir) as started:
        yield started
