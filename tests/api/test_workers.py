"""The workers' one lifecycle (api/workers.py): started in order, stopped in reverse, woken by
name, looked up by class; the outbox resume never keeps the API from starting."""

from __future__ import annotations

import logging

import pytest

from api.workers import OutboxResume, Worker, Workers
from chain.errors import ChainUnavailable


class Recorder:
    def __init__(self, name: str, log: list[str]):
        self.name, self.log = name, log

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")

    def wake(self) -> None:
        self.log.append(f"wake {self.name}")


class Other(Recorder):
    pass


def test_started_in_order_stopped_in_reverse_woken_by_name():
    log: list[str] = []
    workers = Workers()
    first, second = Recorder("outbox", log), Other("issuer", log)
    workers.add(first)
    workers.add(second)
    assert isinstance(first, Worker)
    workers.start()
    workers.wake("issuer")
    workers.wake("indexer")  # not run here: nothing to wake
    workers.stop()
    assert log == ["start outbox", "start issuer", "wake issuer", "stop issuer", "stop outbox"]
    assert workers.of(Other) is second and workers.of(Recorder) is first
    with pytest.raises(LookupError, match="no OutboxResume"):
        workers.of(OutboxResume)
    with pytest.raises(ValueError, match="already there"):
        workers.add(Recorder("issuer", log))


def test_the_outbox_resume_logs_a_chain_that_is_down_and_lets_the_api_start(caplog):
    def down():
        raise ChainUnavailable("the node at http://127.0.0.1:1 does not answer")

    resume = OutboxResume(down)
    with caplog.at_level(logging.WARNING, logger="govchain.api"):
        resume.start()
    assert "outbox not resumed: the node at http://127.0.0.1:1 does not answer" in caplog.text
