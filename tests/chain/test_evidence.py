"""EvidenceLedger: who may anchor, one event per record, each root once (a batch all or nothing), anchoredAt."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from chain.evidence import KINDS, Anchored, EvidenceLedgerClient, EvidenceRecord, kind_id
from chain.reverts import revert_class

Unauthorized = revert_class("EvidenceLedgerUnauthorizedAccount")
AlreadyAnchored = revert_class("EvidenceLedgerAlreadyAnchored")
ZeroRoot = revert_class("EvidenceLedgerZeroRoot")
ZeroKind = revert_class("EvidenceLedgerZeroKind")
EmptyBatch = revert_class("EvidenceLedgerEmptyBatch")
REASON = b"\x02" * 32
ZERO32 = b"\0" * 32


def h(text: str) -> bytes:
    return keccak(text=text)


@pytest.fixture
def ledger(chain, deployment, build) -> EvidenceLedgerClient:
    return EvidenceLedgerClient(chain, deployment.address("EvidenceLedger"), build["EvidenceLedger"].abi)


def test_kinds_are_the_contracts_constants(ledger, registry):
    for name, value in KINDS.items():
        assert getattr(ledger.contract.functions, name)().call() == value == keccak(text=name)
    assert kind_id("delivery") == KINDS["DELIVERY"] and kind_id(h("CUSTOM")) == h("CUSTOM")
    with pytest.raises(ValueError, match="unknown evidence kind"):
        kind_id("NO_SUCH_KIND")
    assert ledger.registry() == registry.address


@pytest.mark.parametrize("who", ["relayer", "agency", "agency_culture"])
def test_relayers_agencies_and_issuers_anchor(ledger, parties, chain, who):
    sender = getattr(parties, who)
    root = h(f"manifest of {who}")
    receipt = ledger.anchor(sender, "SUBMISSION_MANIFEST", h("application 42"), root)
    (event,) = ledger.events(receipt)
    assert event.name == "EvidenceAnchored"
    assert event.args == {"root": root, "kind": KINDS["SUBMISSION_MANIFEST"], "ref": h("application 42"), "by": sender.address}
    block = chain.w3.eth.get_block(receipt.block_number)
    assert ledger.anchored_at(root) == Anchored(receipt.block_number, block["timestamp"], sender.address)


def test_an_issuer_without_agency_role_anchors(ledger, registry, parties):
    registry.revoke_role(parties.governor, "AGENCY", parties.agency.address)  # ISSUER alone is enough
    ledger.anchor(parties.agency, "DELIVERY", h("certificate 7"), h("tracking record"))
    assert ledger.anchored_at(h("tracking record")).by == parties.agency.address


@pytest.mark.parametrize("who", ["governor", "holder_psb", "procurement", "auditor", "outsider"])
def test_other_accounts_may_not_anchor(ledger, parties, who):
    sender = getattr(parties, who)
    for attempt in (
        lambda: ledger.anchor(sender, "COMMITMENT", h("ref"), h("root")),
        lambda: ledger.anchor_batch(sender, [("COMMITMENT", h("ref"), h("root"))]),
    ):
        with pytest.raises(Unauthorized) as refused:
            attempt()
        assert refused.value.args_by_name == {"account": sender.address} and isinstance(refused.value, PermissionError)
    assert ledger.anchored_at(h("root")) is None


def test_suspended_or_retired_members_may_not_anchor(ledger, registry, parties):
    registry.suspend_member(parties.governor, parties.relayer.address, REASON)
    with pytest.raises(Unauthorized):
        ledger.anchor(parties.relayer, "COMMITMENT", h("ref"), h("root"))
    registry.reinstate_member(parties.governor, parties.relayer.address)
    ledger.anchor(parties.relayer, "COMMITMENT", h("ref"), h("root"))
    registry.retire_member(parties.governor, parties.agency_culture.address, REASON)
    with pytest.raises(Unauthorized):
        ledger.anchor(parties.agency_culture, "COMMITMENT", h("ref"), h("other root"))


def test_a_root_is_anchored_once(ledger, parties):
    first = ledger.anchor(parties.relayer, "COMMITMENT", h("ref"), h("root"))
    for sender, kind in ((parties.relayer, "COMMITMENT"), (parties.agency, "COMMITMENT_CHECK")):
        with pytest.raises(AlreadyAnchored) as refused:
            ledger.anchor(sender, kind, h("another ref"), h("root"))
        assert refused.value.args_by_name == {"root": h("root"), "blockNumber": first.block_number}
    assert ledger.anchored_at(h("root")).by == parties.relayer.address


def test_a_batch_anchors_every_record_in_order(ledger, parties):
    records = [EvidenceRecord("COMMITMENT_CHECK", h(f"ref {i}"), h(f"root {i}")) for i in range(4)]
    receipt = ledger.anchor_batch(parties.agency, records)
    events = ledger.events(receipt)
    assert [(e.args["root"], e.args["kind"], e.args["ref"], e.args["by"]) for e in events] == [(h(f"root {i}"), KINDS["COMMITMENT_CHECK"], h(f"ref {i}"), parties.agency.address) for i in range(4)]
    assert {ledger.anchored_at(r.root).block_number for r in records} == {receipt.block_number}


def test_a_batch_with_a_known_root_or_a_repeat_leaves_nothing_behind(ledger, parties, chain):
    ledger.anchor(parties.relayer, "SUBMISSION_MANIFEST", h("ref"), h("known"))
    fresh = [("DELIVERY", h("ref"), h(f"fresh {i}")) for i in range(3)]
    with pytest.raises(AlreadyAnchored) as known:
        ledger.anchor_batch(parties.relayer, [*fresh, ("DELIVERY", h("ref"), h("known"))])
    assert known.value.args_by_name["root"] == h("known")
    with pytest.raises(AlreadyAnchored) as repeated:
        ledger.anchor_batch(parties.relayer, [*fresh, fresh[1]])
    assert repeated.value.args_by_name["root"] == h("fresh 1")
    assert all(ledger.anchored_at(root) is None for _, _, root in fresh)
    # also when the batch is mined and fails (sent with fixed gas, so nothing refuses it at estimation)
    tx = chain.build(parties.relayer, ledger.contract.functions.anchorBatch(
        [(KINDS["DELIVERY"], h("ref"), root) for _, _, root in [*fresh, fresh[0]]]), gas=500_000)  # fmt: skip
    receipt = chain.wait(chain.send(parties.relayer, tx))
    assert receipt.status == 0 and receipt.logs == []
    assert all(ledger.anchored_at(root) is None for _, _, root in fresh)


def test_zero_values_and_empty_batches_are_refused(ledger, parties):
    with pytest.raises(ZeroRoot):
        ledger.anchor(parties.relayer, "DELIVERY", h("ref"), ZERO32)
    with pytest.raises(ZeroKind) as zero_kind:
        ledger.anchor(parties.relayer, ZERO32, h("ref"), h("root"))
    assert zero_kind.value.args_by_name == {"root": h("root")}
    with pytest.raises(EmptyBatch):
        ledger.anchor_batch(parties.relayer, [])
    ledger.anchor(parties.relayer, h("ANY_OTHER_KIND"), ZERO32, h("root"))  # any nonzero kind; a zero ref is fine
    assert ledger.anchored_at(h("root")) is not None


def test_anchoring_gas(ledger, parties, chain, capsys):
    single = ledger.anchor(parties.relayer, "SUBMISSION_MANIFEST", h("application"), h("manifest")).gas_used
    by_agency = ledger.anchor(parties.agency_culture, "DELIVERY", h("certificate"), h("delivery")).gas_used  # second role look-up
    batch = ledger.anchor_batch(parties.relayer, [("COMMITMENT", h(f"ref {i}"), h(f"batch {i}")) for i in range(8)]).gas_used
    with capsys.disabled():
        print(f"\n[gas on {chain.w3.client_version}]")
        print(f"  {'anchor (relayer)':<45} {single:>9,}")
        print(f"  {'anchor (agency: two role look-ups)':<45} {by_agency:>9,}")
        print(f"  {'anchorBatch 8 records':<45} {batch:>9,}")
    assert batch < 8 * single
