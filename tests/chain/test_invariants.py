"""Contract invariants as hypothesis stateful tests against the real node (a chain snapshot
per example, reverted after it). Examples are few and short so this runs in about two
minutes on ganache:

- a pull is logged only under an active consent that covers it (category, requester, holder
  serving it, time window) and never beyond the consent's maximum;
- nothing but a member with the right role changes state (pull log, evidence, certificates,
  tenders, the registry itself);
- a bid is never accepted after the tender's deadline;
- a revoked certificate never verifies (identity.verify.Verifier on OA documents).
"""

from __future__ import annotations

import os
import secrets

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from identity.verify import Verifier
from chain.consents import ConsentRegistryClient, ConsentState, PullRefusal
from chain.documents import DocumentStoreClient
from chain.errors import ContractRevert
from chain.node import rpc_call
from chain.tenders import Method, TenderLedgerClient, TenderTerms
from identity import binding, eip712, oa
from identity.keys import dev_account
from identity.pull_request import signed_record

MACHINE = settings(max_examples=int(os.environ.get("GOVCHAIN_INVARIANT_EXAMPLES", "12")), stateful_step_count=8, deadline=None,
                   suppress_health_check=list(HealthCheck), database=None, phases=[Phase.explicit, Phase.generate])  # fmt: skip
CATEGORIES = {0: "id_card", 1: "residence_permit", 2: "household_register"}
SERVES = {"holder_psb": {0, 2}, "holder_rp": {1}}


class OnSnapshot:
    """Each example runs on a fresh snapshot of the deployed chain, reverted at teardown."""

    def __init__(self, client):
        self.client, self.endpoint = client, client.w3.provider.endpoint_uri
        self.snap = rpc_call(self.endpoint, "evm_snapshot")
        # a block now, so that "latest" tells the node's time: after a revert the latest block can
        # be minutes older than the next one (ganache stamps blocks with the wall clock plus the
        # time earlier tests added)
        rpc_call(self.endpoint, "evm_mine")

    def now(self) -> int:
        return self.client.w3.eth.get_block("latest")["timestamp"]

    def advance(self, seconds: int) -> None:
        rpc_call(self.endpoint, "evm_increaseTime", [seconds])
        rpc_call(self.endpoint, "evm_mine")

    def close(self) -> None:
        rpc_call(self.endpoint, "evm_revert", [self.snap])
        self.client.nonces.reset()


def refused(call) -> str:
    with pytest.raises(ContractRevert) as error:
        call()
    return error.value.name


# -- consents and the pull log -----------------------------------------------------------------


def test_pulls_are_logged_only_under_an_active_covering_consent(client, deployment, parties, node_config):
    entry = deployment.contracts["ConsentRegistry"]
    registry = ConsentRegistryClient(client, entry["address"], entry["abi"])
    applicants = [dev_account(node_config, i % node_config.accounts) for i in (18, 19)]  # funded dev accounts that are no party

    class Consents(RuleBasedStateMachine):
        ids = Bundle("consents")

        def __init__(self):
            super().__init__()
            self.chain = OnSnapshot(client)
            self.model: dict[bytes, dict] = {}

        def teardown(self):
            self.chain.close()

        @rule(target=ids, applicant=st.sampled_from(applicants), mask=st.integers(1, 7), max_pulls=st.integers(1, 3),
              agency=st.sampled_from(["agency", "agency_culture"]), opens_in=st.sampled_from([0, 0, 600]))  # fmt: skip
        def grant(self, applicant, mask, max_pulls, agency, opens_in):
            now = self.chain.now()
            terms = eip712.ConsentTerms(
                applicant=applicant.address, agency=getattr(parties, agency).address, categories=mask,
                scope_hash=os.urandom(32), purpose_hash=os.urandom(32), face_check_ref=binding.face_check_ref("req", "x", os.urandom(32)),
                not_before=now + opens_in, expires_at=now + opens_in + 1800, max_pulls=max_pulls, nonce=secrets.randbits(64), deadline=now + 900,
            )  # fmt: skip
            consent_id, _ = registry.grant(parties.relayer, terms, eip712.sign_consent(terms, eip712.Domain.of(registry.domain()), applicant.key))
            self.model[consent_id] = {"applicant": applicant, "agency": agency, "mask": mask, "max": max_pulls, "pulls": 0, "revoked": False,
                                      "paused": False, "from": terms.not_before, "until": terms.expires_at}  # fmt: skip
            return consent_id

        def expected(self, consent_id: bytes, category: int, requester: str, holder: str, sequence: int) -> PullRefusal:
            c, now = self.model[consent_id], self.chain.now() + 1  # the next block is at least a second later
            if c["revoked"]:
                return PullRefusal.REVOKED
            if c["paused"]:
                return PullRefusal.PAUSED
            if now < c["from"]:
                return PullRefusal.NOT_YET_VALID
            if now >= c["until"]:
                return PullRefusal.EXPIRED
            if not c["mask"] >> category & 1:
                return PullRefusal.CATEGORY_NOT_COVERED
            if requester != c["agency"]:
                return PullRefusal.WRONG_REQUESTER
            if category not in SERVES[holder]:
                return PullRefusal.CATEGORY_NOT_SERVED
            if sequence <= c["pulls"]:
                return PullRefusal.DUPLICATE_REQUEST
            if c["pulls"] >= c["max"]:
                return PullRefusal.MAX_PULLS_REACHED
            if sequence != c["pulls"] + 1:
                return PullRefusal.OUT_OF_SEQUENCE
            return PullRefusal.NONE

        @rule(consent_id=ids, category=st.integers(0, 2), requester=st.sampled_from(["agency", "agency_culture"]),
              holder=st.sampled_from(list(SERVES)), times=st.integers(1, 2), skew=st.sampled_from([0, 0, -1, 1]))  # fmt: skip
        def pull(self, consent_id, category, requester, holder, times, skew):
            # pull numbers from the next one (a replay of the last one with skew -1, a skip with +1)
            first = max(1, self.model[consent_id]["pulls"] + 1 + skew)
            sequences = [first + n for n in range(times)]
            want = [self.expected(consent_id, category, requester, holder, first)]
            records = [
                signed_record(getattr(parties, requester), getattr(parties, holder).address, consent_id, sequence, category,
                              chain_id=self.chain.client.chain_id, verifying_contract=registry.address, issued_at=self.chain.now(),
                              digest=os.urandom(32))
                for sequence in sequences
            ]  # fmt: skip
            result = registry.record_pulls(getattr(parties, holder), records)
            for n, outcome in enumerate(result.outcomes):
                if n:  # a second record of the same batch sees the first one's count
                    want.append(self.expected(consent_id, category, requester, holder, sequences[n]))
                assert outcome.refusal is want[-1], (outcome.refusal, want[-1], self.model[consent_id])
                if outcome.logged:
                    self.model[consent_id]["pulls"] += 1
                    assert outcome.pull_number == self.model[consent_id]["pulls"]

        @rule(consent_id=ids)
        def revoke(self, consent_id):
            c = self.model[consent_id]
            if c["revoked"]:
                assert refused(lambda: registry.revoke(c["applicant"], consent_id)) == "ConsentRegistryAlreadyRevoked"
            else:
                registry.revoke(c["applicant"], consent_id)
                c["revoked"] = True

        @rule(consent_id=ids)
        def pause_or_resume(self, consent_id):
            c = self.model[consent_id]
            if c["revoked"]:
                return
            now = self.chain.now() + 1
            try:
                (registry.resume if c["paused"] else registry.pause)(c["applicant"], consent_id)
            except ContractRevert as refusal:  # only a consent inside its window can be paused or resumed
                # an expired consent is neither active (to pause) nor paused (to resume): its state is Expired
                expected = "ConsentRegistryNotPaused" if c["paused"] else "ConsentRegistryNotActive"
                assert refusal.name == expected and not c["from"] <= now < c["until"], refusal
                return
            assert now < c["until"], "an expired consent was paused or resumed"
            c["paused"] = not c["paused"]

        @rule(consent_id=ids, who=st.sampled_from(["outsider", "agency", "relayer", "holder_psb"]))
        def stranger_cannot_revoke(self, consent_id, who):
            before = registry.get(consent_id)
            refused(lambda: registry.revoke(getattr(parties, who), consent_id))
            assert registry.get(consent_id) == before

        @rule(seconds=st.sampled_from([300, 900, 2000]))
        def time_passes(self, seconds):
            self.chain.advance(seconds)

        @invariant()
        def counts_match_and_never_exceed_the_maximum(self):
            for consent_id, c in self.model.items():
                stored = registry.get(consent_id)
                assert stored.pulls == c["pulls"] <= stored.max_pulls == c["max"]
                if c["revoked"]:
                    assert stored.state is ConsentState.REVOKED

    run_state_machine_as_test(Consents, settings=MACHINE)


# -- roles: nothing but the right member changes state -----------------------------------------


def test_only_members_with_the_right_role_change_state(client, deployment, parties, build):
    from chain.evidence import EvidenceLedgerClient
    from chain.registry import GovRegistryClient

    gov = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    consents = ConsentRegistryClient(client, deployment.address("ConsentRegistry"), deployment.contracts["ConsentRegistry"]["abi"])
    evidence = EvidenceLedgerClient(client, deployment.address("EvidenceLedger"), deployment.contracts["EvidenceLedger"]["abi"])
    store = DocumentStoreClient(client, deployment.document_store(parties.agency.address), deployment.document_store_abi())
    tenders = TenderLedgerClient(client, deployment.address("TenderLedger"), deployment.contracts["TenderLedger"]["abi"])
    names = ["outsider", "outsider2", "relayer", "agency", "agency_culture", "holder_psb", "procurement", "auditor", "governor"]
    # who may: every other caller must be refused and leave no trace
    allowed = {
        "record_pull": {"holder_psb", "holder_rp"},
        "anchor": {"relayer", "agency", "agency_culture"},  # RELAYER, AGENCY or ISSUER
        "issue": {"agency"},
        "create_tender": {"procurement"},
        "grant_role": {"governor"},
    }

    def attempt(action: str, sender):
        if action == "record_pull":
            now = client.w3.eth.get_block("latest")["timestamp"]
            record = signed_record(parties.agency, sender.address, os.urandom(32), 1, 0, chain_id=client.chain_id, verifying_contract=consents.address,
                                   issued_at=now, digest=os.urandom(32))  # fmt: skip
            return consents.record_pulls(sender, [record])
        if action == "anchor":
            return evidence.anchor(sender, "SUBMISSION_MANIFEST", os.urandom(32), os.urandom(32))
        if action == "issue":
            return store.issue(sender, os.urandom(32))
        if action == "create_tender":
            now = client.w3.eth.get_block("latest")["timestamp"]
            terms = TenderTerms(document_hash=os.urandom(32), bid_deadline=now + 3600, opening_time=now + 3600, decryption_end=now + 5400,
                                method=Method.LOWEST_PRICE, min_bidders=1, experts=[parties.auditor.address], weights=())  # fmt: skip
            return tenders.create_tender(sender, os.urandom(32), terms)
        if action == "grant_role":
            return gov.grant_role(sender, "AUDITOR", parties.outsider2.address)
        raise AssertionError(action)

    def footprint() -> tuple:
        head = client.block_number()
        logs = client.w3.eth.get_logs(
            {"fromBlock": 0, "toBlock": head, "address": [deployment.address(n) for n in ("GovRegistry", "ConsentRegistry", "EvidenceLedger", "TenderLedger")] + [store.address]}
        )
        return len(logs), gov.member(parties.outsider2.address).roles

    class Roles(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.chain = OnSnapshot(client)

        def teardown(self):
            if hasattr(self, "chain"):
                self.chain.close()

        @rule(action=st.sampled_from(sorted(allowed)), who=st.sampled_from(names))
        def write(self, action, who):
            if who in allowed[action]:
                return  # the members that may are exercised by the other tests
            before = footprint()
            refused(lambda: attempt(action, getattr(parties, who)))
            assert footprint() == before, f"{who} changed state with {action}"

    run_state_machine_as_test(Roles, settings=settings(MACHINE, stateful_step_count=10))


# -- tenders: no bid after the deadline ------------------------------------------------------


WALL_CLOCK_SLACK = 5  # seconds between the latest block and the next one on a wall-clock node


def test_no_bid_is_accepted_after_the_deadline(client, deployment, parties):
    tenders = TenderLedgerClient(client, deployment.address("TenderLedger"), deployment.contracts["TenderLedger"]["abi"])

    class Bidding(RuleBasedStateMachine):
        @initialize(bidding=st.integers(60, 600))
        def create(self, bidding):
            self.chain = OnSnapshot(client)
            now = self.chain.now()
            self.deadline = now + bidding
            self.tender_id = os.urandom(32)
            terms = TenderTerms(document_hash=os.urandom(32), bid_deadline=self.deadline, opening_time=self.deadline, decryption_end=self.deadline + 1800,
                                method=Method.LOWEST_PRICE, min_bidders=1, experts=[parties.auditor.address], weights=())  # fmt: skip
            tenders.create_tender(parties.procurement, self.tender_id, terms)
            self.bids: dict[bytes, int] = {}

        def teardown(self):
            if hasattr(self, "chain"):
                self.chain.close()

        @rule(seconds=st.integers(1, 400))
        def time_passes(self, seconds):
            self.chain.advance(seconds)

        @rule(replace=st.booleans())
        def bid(self, replace):
            pseudonym = next(iter(self.bids)) if replace and self.bids else os.urandom(32)
            landing = self.chain.now() + 1  # the block the transaction lands in is later than the latest one
            before = dict(self.bids)
            try:
                version, receipt = tenders.commit_bid(parties.relayer, self.tender_id, pseudonym, os.urandom(32), os.urandom(32))
            except ContractRevert as refusal:
                # refused: only for the deadline, and only when the deadline is (nearly) here.
                # ganache stamps blocks with the wall clock, so a block may land a few seconds
                # after the latest one: within WALL_CLOCK_SLACK of the deadline either answer holds.
                assert any(word in refusal.name for word in ("Deadline", "Closed", "NotBidding", "Window")), refusal.name
                assert landing + WALL_CLOCK_SLACK >= self.deadline, (landing, self.deadline, refusal.name)
                assert self.bids == before
                return
            block_time = client.w3.eth.get_block(receipt.block_number)["timestamp"]
            assert block_time < self.deadline, (block_time, self.deadline)  # the invariant: never accepted at or after it
            assert landing < self.deadline
            self.bids[pseudonym] = version

    run_state_machine_as_test(Bidding, settings=MACHINE)


# -- certificates: revoked never verifies ------------------------------------------------------


def test_a_revoked_certificate_never_verifies(client, deployment, parties, build):
    from chain.registry import GovRegistryClient

    gov = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    store_address = deployment.document_store(parties.agency.address)
    store = DocumentStoreClient(client, store_address, deployment.document_store_abi())
    domain = gov.member(parties.agency.address).info.domain

    def data(i: int) -> dict:
        return {"id": f"SEC-{i}-{secrets.token_hex(4)}", "$template": {"name": "T", "type": "EMBEDDED_RENDERER", "url": "https://render.gov.example"},
                "issuers": [{"name": "区教育局", "documentStore": store_address, "identityProof": {"type": "DNS-TXT", "location": domain}}],
                "recipient": {"name": f"测试{i}"}}  # fmt: skip

    class Certificates(RuleBasedStateMachine):
        @initialize(size=st.integers(1, 4))
        def issue(self, size):
            self.chain = OnSnapshot(client)
            self.verifier = Verifier(client, gov, deployment.document_store_abi(), cache_seconds=0)
            self.documents = oa.wrap([data(i) for i in range(size)])
            self.root = self.documents[0]["signature"]["merkleRoot"]
            store.issue(parties.agency, "0x" + self.root)
            self.revoked: set[str] = set()  # revoked hashes: targets, or the root (a batch of one: root == target)

        def teardown(self):
            if hasattr(self, "chain"):
                self.chain.close()

        @rule(pick=st.integers(0, 3))
        def revoke_one(self, pick):
            target = self.documents[pick % len(self.documents)]["signature"]["targetHash"]
            self.revoke(target)

        @rule()
        def revoke_batch(self):
            self.revoke(self.root)

        def revoke(self, value: str):
            if value in self.revoked:
                assert refused(lambda: store.revoke(parties.agency, "0x" + value)) == "DocumentStoreAlreadyRevoked"
            else:
                store.revoke(parties.agency, "0x" + value)
                self.revoked.add(value)

        @rule(who=st.sampled_from(["agency_culture", "outsider", "governor", "relayer"]))
        def stranger_cannot_revoke(self, who):
            refused(lambda: store.revoke(getattr(parties, who), "0x" + self.documents[0]["signature"]["targetHash"]))

        @invariant()
        def verdicts(self):
            if not hasattr(self, "documents"):
                return
            for i, document in enumerate(self.documents):
                verdict = self.verifier.verify(document)
                revoked = self.root in self.revoked or document["signature"]["targetHash"] in self.revoked
                assert verdict.valid is not revoked, (i, revoked, verdict.to_json())

    run_state_machine_as_test(Certificates, settings=settings(MACHINE, max_examples=max(3, MACHINE.max_examples // 3)))
