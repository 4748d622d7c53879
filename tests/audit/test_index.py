"""The audit index on a real node: every contract followed (stores found as they are created),
pages, resume after a restart, confirmations, rewind when the chain goes back, and a
reconciliation that catches rows edited, deleted or invented behind the index's back."""

from __future__ import annotations

import dataclasses
import os
import re
from unittest.mock import ANY

import pytest
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from api.audit.indexer import Indexer, application_ref, reconcile
from api.settings import IndexSettings
from api.audit.models import ChainRecord
from api.audit.service import as_row
from api.audit.trails import ChainChecker
from api.cli import app as cli
from chain.consents import ConsentRegistryClient
from chain.deploy import write_record
from chain.documents import DocumentStoreClient
from chain.evidence import EvidenceLedgerClient
from chain.node import rpc_call
from chain.registry import DataCategory, MemberInfo
from chain.tenders import TenderLedgerClient, TenderTerms
from identity.eip712 import ConsentTerms, Domain, purpose_hash, scope_hash, sign_consent
from identity.pull_request import signed_record

pytestmark = pytest.mark.db
HOUR = 3600


def chain_now(chain) -> int:
    rpc_call(chain.w3.provider.endpoint_uri, "evm_mine")
    return chain.w3.eth.get_block("latest")["timestamp"]


@dataclasses.dataclass
class Scene:
    """Chain actions for audit tests, sent straight to the contracts by the parties' keys."""

    chain: object
    deployment: object
    parties: object

    def _entry(self, name):
        entry = self.deployment.contracts[name]
        return entry["address"], entry["abi"]

    @property
    def consents(self) -> ConsentRegistryClient:
        return ConsentRegistryClient(self.chain, *self._entry("ConsentRegistry"))

    @property
    def evidence(self) -> EvidenceLedgerClient:
        return EvidenceLedgerClient(self.chain, *self._entry("EvidenceLedger"))

    @property
    def tenders(self) -> TenderLedgerClient:
        return TenderLedgerClient(self.chain, *self._entry("TenderLedger"))

    def store(self, issuer) -> DocumentStoreClient:
        return DocumentStoreClient(self.chain, self.deployment.document_store(issuer.address), self.deployment.document_store_abi())

    def grant(self, applicant, *, expires_in: int = HOUR, max_pulls: int = 3) -> bytes:
        t = chain_now(self.chain)
        terms = ConsentTerms(
            applicant=applicant.address, agency=self.parties.agency.address,
            categories=DataCategory.ID_CARD | DataCategory.HOUSEHOLD_REGISTER, scope_hash=scope_hash({"id_card": ["name"]}, os.urandom(32)),
            purpose_hash=purpose_hash("M", "A", os.urandom(32)), face_check_ref=keccak(os.urandom(32)),
            not_before=t - 60, expires_at=t + expires_in, max_pulls=max_pulls, nonce=int.from_bytes(os.urandom(16)), deadline=t + 600,
        )  # fmt: skip
        signature = sign_consent(terms, Domain.of(self.consents.domain()), applicant)
        return self.consents.grant(self.parties.relayer, terms, signature)[0]

    def pull(self, consent_id: bytes, n: int = 1, category: int = 0):
        first, now = self.consents.get(consent_id).pulls + 1, chain_now(self.chain)
        records = [
            signed_record(self.parties.agency, self.parties.holder_psb.address, consent_id, first + i, category, chain_id=self.chain.chain_id,
                          verifying_contract=self.consents.address, issued_at=now, digest=os.urandom(32))
            for i in range(n)
        ]  # fmt: skip
        return self.consents.record_pulls(self.parties.holder_psb, records)

    def tender(self, deadline_in: int) -> bytes:
        t = chain_now(self.chain)
        tender_id = os.urandom(32)
        terms = TenderTerms(os.urandom(32), t + deadline_in, t + deadline_in, t + deadline_in + HOUR, 0, 1, [Account.create().address])
        self.tenders.create_tender(self.parties.procurement, tender_id, terms)
        return tender_id


@pytest.fixture
def scene(chain, deployment, parties) -> Scene:
    return Scene(chain, deployment, parties)


def rows(sessions, **where) -> list[ChainRecord]:
    with sessions() as session:
        statement = select(ChainRecord).order_by(ChainRecord.block_number, ChainRecord.log_index)
        for name, value in where.items():
            statement = statement.where(getattr(ChainRecord, name) == value)
        return list(session.scalars(statement))


def test_the_index_follows_every_contract_in_pages_and_resumes_after_a_restart(chain, deployment, parties, scene, sessions, registry):
    indexer = Indexer(lambda: chain, lambda: deployment, sessions, IndexSettings(page_blocks=3))
    applicant = parties.outsider  # funded: it revokes by itself below
    consent_id = scene.grant(applicant)
    scene.pull(consent_id, 2)
    scene.evidence.anchor(parties.relayer, "SUBMISSION_MANIFEST", application_ref("app_audit_1"), os.urandom(32))
    root = os.urandom(32)
    scene.store(parties.agency).issue(parties.agency, root)
    tender_id = scene.tender(HOUR)
    scene.tenders.commit_bid(parties.relayer, tender_id, os.urandom(32), os.urandom(32), os.urandom(32))
    # a member registered and given its store now: the store is found in the same page it first writes in
    registry.register_member(parties.governor, parties.outsider2.address, MemberInfo("测试新发证机关", "X1", "new.gov.example"), ["ISSUER"])
    store_address, _ = registry.create_document_store(parties.outsider2)
    late_root = os.urandom(32)
    DocumentStoreClient(chain, store_address, deployment.document_store_abi()).issue(parties.outsider2, late_root)

    written = indexer.catch_up()
    head = chain.block_number()
    assert indexer.indexed_block() == head and written == len(rows(sessions))
    kinds = {r.kind for r in rows(sessions)}
    assert {"member", "consent", "pull", "submission", "certificate", "tender"} <= kinds, kinds
    cid = "0x" + consent_id.hex()  # other tests' events may be on the chain too (end-to-end stacks do not revert)
    (granted,) = rows(sessions, event="ConsentGranted", case_ref=cid)
    assert (granted.applicant, granted.member, granted.tx_sender, granted.case_ref) == (applicant.address, parties.agency.address,
                                                                                       parties.relayer.address, "0x" + consent_id.hex())  # fmt: skip
    pulls = rows(sessions, event="DataPulled", case_ref=cid)
    assert len(pulls) == 2 and all((p.member, p.applicant, p.tx_sender) == (parties.agency.address, applicant.address, parties.holder_psb.address) for p in pulls)
    assert pulls[0].tx_hash == pulls[1].tx_hash and pulls[1].log_index == pulls[0].log_index + 1
    issued = {r.case_ref: r for r in rows(sessions, event="DocumentIssued")}
    assert issued["0x" + root.hex()].member == parties.agency.address
    assert issued["0x" + late_root.hex()].contract == store_address and issued["0x" + late_root.hex()].member == parties.outsider2.address
    (anchored,) = rows(sessions, event="EvidenceAnchored", case_ref=application_ref("app_audit_1"))
    assert anchored.case_ref == application_ref("app_audit_1") and anchored.kind == "submission"
    assert all(r.block_time > 0 and r.block_hash.startswith("0x") for r in rows(sessions))
    checker = ChainChecker(chain, indexer.watched())  # web3's own decoding of each receipt agrees with the index
    for record in rows(sessions):
        assert checker.check(as_row(record)) == (True, ANY), record.event
    assert indexer.catch_up() == 0  # nothing new

    # a restart: a new indexer resumes at the cursor and still knows the consent's parties, and whose
    # store a certificate was issued in (the stores were created long before)
    scene.consents.revoke(applicant, consent_id)
    after_restart = os.urandom(32)
    scene.store(parties.agency).issue(parties.agency, after_restart)
    restarted = Indexer(lambda: chain, lambda: deployment, sessions)
    assert restarted.catch_up() == 2
    (revoked,) = rows(sessions, event="ConsentRevoked", case_ref=cid)
    assert (revoked.kind, revoked.applicant, revoked.member) == ("revocation", applicant.address, parties.agency.address)
    (issued_later,) = rows(sessions, event="DocumentIssued", case_ref="0x" + after_restart.hex())
    assert issued_later.member == parties.agency.address

    # confirmations: the newest blocks wait
    scene.pull(consent_id, 1)  # refused now: revoked
    waiting = Indexer(lambda: chain, lambda: deployment, sessions, IndexSettings(confirmations=2))
    assert waiting.catch_up() == 0
    assert not rows(sessions, event="PullRefused", case_ref=cid)
    chain_now(chain), chain_now(chain)
    assert waiting.catch_up() == 1 and rows(sessions, event="PullRefused", case_ref=cid)[0].args["reason"] == 2


def test_the_index_rewinds_when_the_chain_goes_back(chain, deployment, parties, scene, sessions):
    indexer = Indexer(lambda: chain, lambda: deployment, sessions)
    indexer.catch_up()
    snapshot = rpc_call(chain.w3.provider.endpoint_uri, "evm_snapshot")
    gone = scene.evidence.anchor(parties.relayer, "DELIVERY", application_ref("app_gone"), os.urandom(32))
    indexer.catch_up()
    assert rows(sessions, tx_hash=gone.tx_hash)
    rpc_call(chain.w3.provider.endpoint_uri, "evm_revert", [snapshot])
    chain.nonces.reset()
    for _ in range(3):  # the chain grows past the old cursor with other blocks
        kept = scene.evidence.anchor(parties.relayer, "DELIVERY", application_ref("app_kept"), os.urandom(32))
    indexer.catch_up()
    assert not rows(sessions, tx_hash=gone.tx_hash) and rows(sessions, tx_hash=kept.tx_hash)
    result = reconcile(chain, deployment, sessions)
    assert result.consistent, result


def test_reconcile_catches_an_edited_a_deleted_and_an_invented_row(chain, deployment, parties, scene, sessions, database_url, tmp_path):
    write_record(tmp_path, deployment)
    env = {"GOVCHAIN_STATE_DIR": str(tmp_path), "GOVCHAIN_DATABASE_URL": database_url, "GOVCHAIN_RPC_URL": chain.w3.provider.endpoint_uri, "COLUMNS": "250"}
    runner = CliRunner()
    consent_id = scene.grant(Account.create())
    scene.pull(consent_id, 3)
    indexed = runner.invoke(cli, ["audit", "index"], env=env)
    assert indexed.exit_code == 0 and "indexed" in indexed.output, indexed.output
    clean = runner.invoke(cli, ["audit", "reconcile"], env=env)
    assert clean.exit_code == 0 and "consistent" in clean.output, clean.output

    pulls = rows(sessions, event="DataPulled", case_ref="0x" + consent_id.hex())
    with sessions() as session:  # behind the index's back
        edited = dict(pulls[0].args, digest="0x" + "00" * 32)
        session.execute(update(ChainRecord).where(ChainRecord.id == pulls[0].id).values(args=edited, member=parties.outsider.address))
        session.execute(delete(ChainRecord).where(ChainRecord.id == pulls[1].id))
        fake = {c: getattr(pulls[2], c) for c in ("chain_id", "contract", "contract_name", "event", "kind", "block_number", "block_hash",
                                                   "block_time", "tx_sender", "member", "applicant", "case_ref", "args")}  # fmt: skip
        session.execute(insert(ChainRecord), [{**fake, "tx_hash": "0x" + "ab" * 32, "log_index": 0}])
        session.commit()

    result = reconcile(chain, deployment, sessions)
    assert not result.consistent
    assert [(m["tx_hash"], m["log_index"]) for m in result.missing] == [(pulls[1].tx_hash, pulls[1].log_index)]
    assert [(e["tx_hash"], e["log_index"]) for e in result.extra] == [("0x" + "ab" * 32, 0)]
    (different,) = result.different
    assert (different["tx_hash"], different["log_index"]) == (pulls[0].tx_hash, pulls[0].log_index)
    assert set(different["fields"]) == {"args", "member"}
    caught = runner.invoke(cli, ["audit", "reconcile"], env=env)
    assert caught.exit_code == 1, caught.output
    for text in ("NOT consistent", "1 missing from the index", "1 in the index but not on chain", "1 different from the chain", pulls[1].tx_hash):
        assert text in caught.output, text


def test_reconcile_refuses_to_call_an_empty_or_foreign_index_consistent(chain, deployment, parties, scene, sessions, database_url, tmp_path):
    """Issue 16: pointed at an empty state folder, reconcile said "0 events, 0 rows: consistent" and exited 0."""
    import json

    write_record(tmp_path, deployment)
    env = {"GOVCHAIN_STATE_DIR": str(tmp_path), "GOVCHAIN_DATABASE_URL": database_url, "GOVCHAIN_RPC_URL": chain.w3.provider.endpoint_uri, "COLUMNS": "250"}
    runner = CliRunner()
    scene.grant(Account.create())
    empty = runner.invoke(cli, ["audit", "reconcile"], env=env)
    assert empty.exit_code == 1, empty.output
    assert "NOT consistent" in empty.output and "holds nothing for this deployment" in empty.output
    assert re.search(r"blocks \d+\.\.\d+", empty.output) and deployment.address("GovRegistry") in empty.output
    assert runner.invoke(cli, ["audit", "index"], env=env).exit_code == 0
    assert runner.invoke(cli, ["audit", "reconcile"], env=env).exit_code == 0

    record = json.loads((tmp_path / "deployment.json").read_text())  # a record of a deployment this chain never had
    for entry in record["contracts"].values():
        entry["address"] = Account.create().address
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "deployment.json").write_text(json.dumps(record))
    caught = runner.invoke(cli, ["audit", "reconcile"], env={**env, "GOVCHAIN_STATE_DIR": str(foreign)})
    assert caught.exit_code == 1, caught.output
    assert "has no code on chain" in caught.output and "of another deployment or chain" in caught.output


def test_audit_commands_find_the_state_folder_govchain_up_writes(chain, deployment, node_config, database_url, tmp_path):
    """Issue 16: `govchain up` keeps the record in <GOVCHAIN_STATE_DIR>/<node>, but `audit reconcile`
    and `audit trail` read <GOVCHAIN_STATE_DIR> itself and found no deployment."""
    write_record(tmp_path / node_config.kind, deployment)
    env = {"GOVCHAIN_STATE_DIR": str(tmp_path), "GOVCHAIN_DATABASE_URL": database_url, "GOVCHAIN_RPC_URL": chain.w3.provider.endpoint_uri,
           "GOVCHAIN_NODE": node_config.kind, "COLUMNS": "250"}  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(cli, ["audit", "index"], env=env).exit_code == 0
    found = runner.invoke(cli, ["audit", "reconcile"], env=env)
    assert "no deployment record" not in found.output and deployment.address("GovRegistry") in found.output, found.output
    assert found.exit_code == 0, found.output
