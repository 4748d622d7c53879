"""The workers' one lifecycle (api/workers.py): started in order, stopped in reverse, woken by
name, looked up by class; the outbox resume never keeps the API from starting."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from api.workers import LoopWorker, OutboxResume, Worker, Workers
from chain.db import make_engine
from chain.leases import Lease, lease_file
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


class Counter(LoopWorker):
    """A loop worker that counts its rounds."""

    name, thread_name = "counter", "counter"

    def __init__(self) -> None:
        super().__init__()
        self.rounds = 0

    def interval(self) -> float:
        return 0.05

    def run_round(self) -> None:
        self.rounds += 1


def eventually(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.db
def test_a_leased_loop_works_in_one_of_its_replicas_and_the_next_takes_over_when_it_stops(database_url):
    engine = make_engine(database_url)
    first, second = Counter(), Counter()
    first.lead_with(Lease(engine, "counter"))
    second.lead_with(Lease(engine, "counter"))
    try:
        first.start()
        eventually(lambda: first.rounds > 0)
        second.start()
        time.sleep(0.5)
        assert second.rounds == 0 and not second.leading  # standing by: the first one leads
        first.stop()
        stopped_at = first.rounds
        eventually(lambda: second.rounds > 0, timeout=5)  # within a few rounds of the first one's end
        time.sleep(0.2)
        assert first.rounds == stopped_at and second.leading
    finally:
        first.stop()
        second.stop()
        engine.dispose()


@pytest.mark.proc
def test_govchain_worker_processes_stand_by_and_take_over_when_the_leader_is_killed(tmp_path):
    """Two `govchain worker indexer` processes on one database (no node: the rounds fail and are
    retried, the lease is what is tested): one holds the lease; killed with SIGKILL, the other
    takes it within 5 s."""
    database = tmp_path / "platform.db"
    env = {**os.environ, "GOVCHAIN_DATABASE_URL": f"sqlite:///{database}", "GOVCHAIN_STATE_DIR": str(tmp_path),
           "GOVCHAIN_RPC_URL": "http://127.0.0.1:9"}  # fmt: skip
    holder_file = lease_file(str(database), "indexer")
    processes = [subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "indexer"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        eventually(lambda: holder_file.exists() and holder_file.read_text().split()[:1] == [str(processes[0].pid)], timeout=60)
        processes.append(subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "indexer"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(8)  # started and standing by (an import of the platform takes a few seconds)
        assert holder_file.read_text().split()[0] == str(processes[0].pid)
        processes[0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        eventually(lambda: holder_file.read_text().split()[:1] == [str(processes[1].pid)], timeout=5)
        assert time.monotonic() - killed < 5
        assert processes[1].poll() is None
    finally:
        for process in processes:
            process.kill()
            process.wait()
