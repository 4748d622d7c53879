"""Forged and misdirected chain writes are refused by the contracts themselves, and change
nothing: a consent signed for another chain or another ConsentRegistry, a consent signed by
someone other than its applicant, a pull logged by a holder for a category it does not hold
or by a key that holds nothing, a pull by an agency the consent does not name.

Each test runs on a chain snapshot (the ``chain`` fixture), reverted afterwards. Counted
among the hostile inputs of issue 8 with tests/security/."""

from __future__ import annotations

import dataclasses
import os
import secrets

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from api.catalog import categories_mask
from chain.consents import ConsentRegistryClient, ConsentState, PullRecord, PullRefusal
from chain.errors import ContractRevert, TransactionFailed
from chain.node import rpc_call
from identity import binding, eip712
from identity.keys import dev_account
from identity.pull_request import PullRequest

SCOPE = {"id_card": ["id_number", "name"]}
ID_CARD, RESIDENCE_PERMIT = 0, 1


@pytest.fixture
def consents(chain, deployment):
    entry = deployment.contracts["ConsentRegistry"]
    return ConsentRegistryClient(chain, entry["address"], entry["abi"])


def terms_for(client, applicant, agency) -> eip712.ConsentTerms:
    now = client.w3.eth.get_block("latest")["timestamp"]
    return eip712.ConsentTerms(
        applicant=applicant.address, agency=agency.address, categories=categories_mask(SCOPE), scope_hash=eip712.scope_hash(SCOPE, os.urandom(32)),
        purpose_hash=eip712.purpose_hash("teacher-qualification-primary", "app_sec", os.urandom(32)),
        face_check_ref=binding.face_check_ref("req_sec", "110101199003070011", os.urandom(32)),
        not_before=now, expires_at=now + 3600, max_pulls=2, nonce=secrets.randbits(64), deadline=now + 900,
    )  # fmt: skip


def granted_count(consents, client) -> int:
    return len(consents.contract.events.ConsentGranted.get_logs(from_block=0, to_block=client.block_number()))


def refused_grant(consents, client, sender, terms, signature, error: str) -> None:
    before = granted_count(consents, client)
    with pytest.raises(ContractRevert) as refused:
        consents.grant(sender, terms, signature)
    assert refused.value.name == error, refused.value
    assert granted_count(consents, client) == before
    assert consents.get(eip712.consent_id(terms, eip712.Domain.of(consents.domain()))).state is ConsentState.NONE


def test_consent_signed_for_another_chain_or_contract_is_refused(chain, deployment, consents, parties, node_config):
    applicant = dev_account(node_config, 14)
    terms = terms_for(chain, applicant, parties.agency)
    real = eip712.Domain.of(consents.domain())
    for domain in (
        eip712.Domain(1, real.verifying_contract),  # mainnet
        eip712.Domain(31337, real.verifying_contract),  # anvil's default chain
        eip712.Domain(real.chain_id, deployment.address("EvidenceLedger")),  # another contract on this chain
        eip712.Domain(real.chain_id, real.verifying_contract, version="0"),  # another version of the domain
    ):
        refused_grant(consents, chain, parties.relayer, terms, eip712.sign_consent(terms, domain, applicant.key), "ConsentRegistryInvalidSignature")


def test_consent_signed_by_someone_else_is_refused(chain, consents, parties, node_config):
    applicant, other = dev_account(node_config, 15), dev_account(node_config, 16)
    terms = terms_for(chain, applicant, parties.agency)
    domain = eip712.Domain.of(consents.domain())
    refused_grant(consents, chain, parties.relayer, terms, eip712.sign_consent(terms, domain, other.key), "ConsentRegistryInvalidSignature")
    # B sends A's terms signed by B itself: only A or a relayer may send A's consent
    refused_grant(consents, chain, other, terms, eip712.sign_consent(terms, domain, other.key), "ConsentRegistryUnauthorizedRelayer")
    refused_grant(consents, chain, parties.relayer, terms, b"\x00" * 65, "ConsentRegistryInvalidSignature")


@pytest.fixture
def live_consent(chain, consents, parties, node_config) -> bytes:
    applicant = dev_account(node_config, 17)
    terms = terms_for(chain, applicant, parties.agency)
    consent_id, _ = consents.grant(parties.relayer, terms, eip712.sign_consent(terms, eip712.Domain.of(consents.domain()), applicant.key))
    return consent_id


@pytest.fixture
def record(chain, consents, parties):
    """A pull record for the next pull of a consent, signed by ``signer`` (the requester unless said)."""

    def make(consent_id: bytes, category: int, requester, *, signer=None, holder=None, sequence=None) -> PullRecord:
        now = chain.w3.eth.get_block("latest")["timestamp"]
        request = PullRequest(
            consent_id, consents.get(consent_id).pulls + 1 if sequence is None else sequence, category, os.urandom(32), os.urandom(32),
            requester.address, (holder or parties.holder_psb).address, now,
        )  # fmt: skip
        return request.record(request.sign((signer or requester).key, chain.chain_id, consents.address), os.urandom(32))

    return make


def test_holder_logging_a_category_it_does_not_hold_is_refused(consents, parties, live_consent, record):
    before = consents.get(live_consent)
    result = consents.record_pulls(parties.holder_rp, [record(live_consent, ID_CARD, parties.agency, holder=parties.holder_rp)])  # holder_rp serves residence permits only
    assert result.refusals == [PullRefusal.CATEGORY_NOT_SERVED]
    assert consents.get(live_consent).pulls == before.pulls == 0


def test_agency_pulling_under_another_agencys_consent_is_refused(consents, parties, live_consent, record):
    result = consents.record_pulls(parties.holder_psb, [record(live_consent, ID_CARD, parties.agency_culture)])
    assert result.refusals == [PullRefusal.WRONG_REQUESTER]
    assert consents.get(live_consent).pulls == 0


def test_category_outside_the_consent_is_refused(consents, parties, live_consent, record):
    result = consents.record_pulls(parties.holder_rp, [record(live_consent, RESIDENCE_PERMIT, parties.agency, holder=parties.holder_rp)])
    assert result.refusals == [PullRefusal.CATEGORY_NOT_COVERED]
    assert consents.get(live_consent).pulls == 0


@pytest.mark.parametrize("who", ["outsider", "agency", "relayer", "governor"])
def test_only_data_holders_log_pulls(consents, parties, live_consent, who, record):
    with pytest.raises(ContractRevert) as refused:
        consents.record_pulls(getattr(parties, who), [record(live_consent, ID_CARD, parties.agency, holder=getattr(parties, who))])
    assert refused.value.name == "ConsentRegistryUnauthorizedHolder"
    assert consents.get(live_consent).pulls == 0 and consents.get(live_consent).state is ConsentState.ACTIVE


# -- issue 15: the pull log needs the agency's own signature -----------------------------------


def pull_events(consents, client) -> int:
    head = client.block_number()
    return sum(len(e.get_logs(from_block=0, to_block=head)) for e in (consents.contract.events.DataPulled, consents.contract.events.PullRefused))


def test_holder_cannot_log_a_pull_or_a_refusal_the_agency_never_signed(chain, consents, parties, live_consent, record):
    before = pull_events(consents, chain)
    forged = [
        record(live_consent, ID_CARD, parties.agency, signer=parties.holder_psb),  # a pull on the holder's word only
        record(live_consent, RESIDENCE_PERMIT, parties.agency, signer=parties.holder_psb),  # would be a PullRefused naming the agency
        record(live_consent, ID_CARD, parties.agency, holder=parties.holder_rp),  # the agency's request to another holder
        dataclasses.replace(record(live_consent, ID_CARD, parties.agency), category=2),  # a signed request, altered
        dataclasses.replace(record(live_consent, ID_CARD, parties.agency), signature=b"\x00" * 65),
    ]
    for index, bad in enumerate(forged):
        with pytest.raises(ContractRevert) as refused:
            consents.record_pulls(parties.holder_psb, [record(live_consent, ID_CARD, parties.agency, sequence=1), bad])
        assert refused.value.name == "ConsentRegistryInvalidPullSignature", (index, refused.value)
        assert refused.value.args_by_name == {"index": 1, "requester": parties.agency.address}
    assert consents.get(live_consent).pulls == 0 and pull_events(consents, chain) == before  # refused whole: nothing logged


def test_holder_cannot_burn_a_consents_budget(chain, consents, parties, live_consent, record):
    burn = [record(live_consent, ID_CARD, parties.agency, signer=parties.holder_psb, sequence=n) for n in (1, 2)]  # maxPulls is 2
    with pytest.raises(ContractRevert):
        consents.record_pulls(parties.holder_psb, burn)
    assert consents.get(live_consent).pulls == 0  # the agency's own pulls are all still there
    first = record(live_consent, ID_CARD, parties.agency)
    assert consents.record_pulls(parties.holder_psb, [first]).refusals == [PullRefusal.NONE]
    # a replay of the agency's signed request is no second pull: its number is used
    assert consents.record_pulls(parties.holder_psb, [first]).refusals == [PullRefusal.DUPLICATE_REQUEST]
    skipping = record(live_consent, ID_CARD, parties.agency, sequence=3)
    assert consents.record_pulls(parties.holder_psb, [skipping]).refusals == [PullRefusal.OUT_OF_SEQUENCE]
    assert consents.get(live_consent).pulls == 1


def test_a_signed_request_kept_back_past_its_lifetime_is_refused_whole(chain, consents, parties, live_consent, record):
    kept = record(live_consent, ID_CARD, parties.agency)
    rpc_call(chain.w3.provider.endpoint_uri, "evm_increaseTime", [consents.pull_request_lifetime() + 1])
    rpc_call(chain.w3.provider.endpoint_uri, "evm_mine")
    with pytest.raises(ContractRevert) as refused:
        consents.record_pulls(parties.holder_psb, [kept])
    assert refused.value.name == "ConsentRegistryPullRequestExpired"
    assert consents.get(live_consent).pulls == 0


def test_agency_that_lost_its_role_is_refused_on_chain(chain, consents, registry, parties, live_consent, record):
    registry.revoke_role(parties.governor, "AGENCY", parties.agency.address)
    result = consents.record_pulls(parties.holder_psb, [record(live_consent, ID_CARD, parties.agency)])
    assert result.refusals == [PullRefusal.REQUESTER_NOT_AGENCY]
    assert consents.get(live_consent).pulls == 0
    assert consents.check_pull(live_consent, ID_CARD, parties.agency.address, parties.holder_psb.address) is PullRefusal.REQUESTER_NOT_AGENCY


# -- the pull request's digest is hashed from the record's calldata words (gas2) -------------


@pytest.mark.parametrize("field", ["consent_id", "sequence", "requester", "issued_at", "details_hash"])
def test_a_signed_pull_request_altered_in_any_field_is_refused(chain, consents, parties, live_consent, record, field):
    """Every field the agency signed is in the digest the contract hashes from calldata: change
    one after signing and the record is refused whole."""
    good = record(live_consent, ID_CARD, parties.agency)
    other = {"consent_id": os.urandom(32), "sequence": 2, "requester": parties.agency_culture.address,
             "issued_at": good.issued_at - 1, "details_hash": os.urandom(32)}[field]  # fmt: skip
    before = pull_events(consents, chain)
    with pytest.raises(ContractRevert) as refused:
        consents.record_pulls(parties.holder_psb, [dataclasses.replace(good, **{field: other})])
    assert refused.value.name == "ConsentRegistryInvalidPullSignature", refused.value
    assert consents.get(live_consent).pulls == 0 and pull_events(consents, chain) == before
    assert consents.record_pulls(parties.holder_psb, [good]).refusals == [PullRefusal.NONE]  # the record as signed still goes


def test_a_record_with_dirty_high_bits_is_refused_even_when_signed_over_them(chain, consents, parties, live_consent, record):
    """The digest is hashed from the raw calldata words, so an agency key can sign a `sequence`
    word with high bits set (no EIP-712 encoding has them); the ABI decoder still refuses such a
    record, so it never becomes a pull (nor pull number 1 under a different digest)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak

    good = record(live_consent, ID_CARD, parties.agency)
    request = PullRequest(live_consent, 1, ID_CARD, os.urandom(32), os.urandom(32), parties.agency.address, parties.holder_psb.address, good.issued_at)
    clean = encode_typed_data(full_message=request.typed_data(chain.chain_id, consents.address))
    dirty_sequence = (1 << 200 | 1).to_bytes(32)
    typehash = keccak(b"PullRequest(bytes32 consentId,uint16 sequence,uint8 category,address requester,address holder,"
                      b"PullDetails details,uint64 issuedAt)PullDetails(bytes32 attributesHash,bytes32 subjectHash)")  # fmt: skip
    words = [typehash, bytes(live_consent), dirty_sequence, ID_CARD.to_bytes(32), bytes.fromhex(parties.agency.address[2:]).rjust(32, b"\0"),
             bytes.fromhex(parties.holder_psb.address[2:]).rjust(32, b"\0"), request.details_hash, request.issued_at.to_bytes(32)]  # fmt: skip
    clean_words = [*words[:2], (1).to_bytes(32), *words[3:]]
    assert keccak(b"".join(clean_words)) == bytes(clean.body)  # the layout is the contract's struct hash
    digest = keccak(b"\x19\x01" + bytes(clean.header) + keccak(b"".join(words)))
    signed = Account._sign_hash(digest, parties.agency.key)
    r, s, parity = signed.r.to_bytes(32), signed.s, signed.v - 27
    record_words = [bytes(live_consent), dirty_sequence, ID_CARD.to_bytes(32), words[4], request.issued_at.to_bytes(32), request.details_hash,
                    os.urandom(32), r, (s | parity << 255).to_bytes(32)]  # fmt: skip
    selector = keccak(b"recordPulls((bytes32,uint16,uint8,address,uint64,bytes32,bytes32,bytes32,bytes32)[],bytes[])")[:4]
    data = selector + (64).to_bytes(32) + (64 + 32 + 9 * 32).to_bytes(32) + (1).to_bytes(32) + b"".join(record_words) + bytes(32)
    before = pull_events(consents, chain)
    with pytest.raises(Exception):  # noqa: B017 - a bare ABI-decoding revert, no named error
        consents.client.transact(parties.holder_psb, to=consents.address, data="0x" + data.hex(), gas=500_000)
    assert consents.get(live_consent).pulls == 0 and pull_events(consents, chain) == before
    # the same bytes with a clean sequence word (and a signature over them) are a pull: the layout above is right
    clean_digest = keccak(b"\x19\x01" + bytes(clean.header) + bytes(clean.body))
    signed = Account._sign_hash(clean_digest, parties.agency.key)
    record_words[1] = (1).to_bytes(32)
    record_words[7:] = [signed.r.to_bytes(32), (signed.s | (signed.v - 27) << 255).to_bytes(32)]
    data = selector + (64).to_bytes(32) + (64 + 32 + 9 * 32).to_bytes(32) + (1).to_bytes(32) + b"".join(record_words) + bytes(32)
    consents.client.transact(parties.holder_psb, to=consents.address, data="0x" + data.hex(), gas=500_000)
    assert consents.get(live_consent).pulls == 1


# -- issue 15's last cuts: a record's small fields read in one go, the consent kept across a batch --

RECORD_PULLS = keccak(b"recordPulls((bytes32,uint16,uint8,address,uint64,bytes32,bytes32,bytes32,bytes32)[],bytes[])")[:4]
PULL_REQUEST_TYPEHASH = keccak(b"PullRequest(bytes32 consentId,uint16 sequence,uint8 category,address requester,address holder,"
                               b"PullDetails details,uint64 issuedAt)PullDetails(bytes32 attributesHash,bytes32 subjectHash)")  # fmt: skip


def raw_record(chain, consents, parties, consent_id: bytes, *, sequence: int, category: int = ID_CARD, requester: int | None = None,
               issued_at: int | None = None) -> list[bytes]:  # fmt: skip
    """A record's nine calldata words with `sequence`, `category`, `requester` and `issued_at` as
    raw 256-bit words (high bits allowed), signed by the agency over exactly those words, as the
    contract hashes them: only the contract's own check of the words can refuse it."""
    requester = int(parties.agency.address, 16) if requester is None else requester
    issued_at = chain.w3.eth.get_block("latest")["timestamp"] if issued_at is None else issued_at
    request = PullRequest(consent_id, 1, ID_CARD, os.urandom(32), os.urandom(32), parties.agency.address, parties.holder_psb.address, 0)
    domain = bytes(encode_typed_data(full_message=request.typed_data(chain.chain_id, consents.address)).header)
    small = [sequence.to_bytes(32), category.to_bytes(32), requester.to_bytes(32), issued_at.to_bytes(32)]
    holder = bytes.fromhex(parties.holder_psb.address[2:]).rjust(32, b"\0")
    struct_hash = keccak(PULL_REQUEST_TYPEHASH + consent_id + b"".join(small[:3]) + holder + request.details_hash + small[3])
    signed = Account._sign_hash(keccak(b"\x19\x01" + domain + struct_hash), parties.agency.key)
    return [consent_id, *small, request.details_hash, os.urandom(32), signed.r.to_bytes(32), (signed.s | (signed.v - 27) << 255).to_bytes(32)]


def raw_batch(records: list[list[bytes]], *, count: int | None = None, cut: int = 0, tail: bytes = b"") -> str:
    """`recordPulls` calldata: the (empty) wallet signatures first, then the records' array of
    `count` records (default: as many as given); `cut` bytes taken off the end, `tail` appended."""
    words = b"".join(b"".join(r) for r in records)
    data = RECORD_PULLS + (96).to_bytes(32) + (64).to_bytes(32) + bytes(32) + (len(records) if count is None else count).to_bytes(32) + words
    return "0x" + (data[: len(data) - cut] + tail).hex()


def send_raw(consents, parties, data: str):
    return consents.client.transact(parties.holder_psb, to=consents.address, data=data, gas=1_000_000)


@pytest.mark.parametrize(
    ("field", "dirty"),
    [("sequence", 1 << 16 | 2), ("category", 1 << 8 | ID_CARD), ("requester", 1 << 160), ("issued_at", 1 << 64), ("sequence", 1 << 255 | 2)],
)  # fmt: skip
def test_a_record_with_any_small_field_dirty_is_refused_whole_by_name(chain, consents, parties, live_consent, field, dirty):
    """`recordPulls` reads a record's sequence, category, requester and issuedAt words itself (not
    through the ABI decoder): a bit above any field's width, even signed over by the agency, refuses
    the whole batch with `ConsentRegistryMalformedPullRecord` and the record's index."""
    first = raw_record(chain, consents, parties, live_consent, sequence=1)
    fields = {"sequence": 2, "category": ID_CARD, "requester": int(parties.agency.address, 16),
              "issued_at": chain.w3.eth.get_block("latest")["timestamp"]}  # fmt: skip
    fields[field] |= dirty
    second = raw_record(chain, consents, parties, live_consent, **fields)
    before = pull_events(consents, chain)
    with pytest.raises(ContractRevert) as refused:
        send_raw(consents, parties, raw_batch([first, second]))
    assert refused.value.name == "ConsentRegistryMalformedPullRecord", refused.value
    assert refused.value.args_by_name == {"index": 1}
    assert consents.get(live_consent).pulls == 0 and pull_events(consents, chain) == before
    send_raw(consents, parties, raw_batch([first]))  # the same first record alone is a pull: the layout above is the real one
    assert consents.get(live_consent).pulls == 1


def test_truncated_calldata_is_refused_whole(chain, consents, parties, live_consent):
    records = [raw_record(chain, consents, parties, live_consent, sequence=n) for n in (1, 2)]
    before = pull_events(consents, chain)
    for data in (raw_batch(records, cut=1), raw_batch(records, cut=32), raw_batch(records, count=3)):  # a record short, or one missing
        with pytest.raises((ContractRevert, TransactionFailed)):
            send_raw(consents, parties, data)
    assert consents.get(live_consent).pulls == 0 and pull_events(consents, chain) == before
    send_raw(consents, parties, raw_batch(records))  # the same records, whole
    assert consents.get(live_consent).pulls == 2


def test_bytes_after_the_declared_records_are_never_read(chain, consents, parties, live_consent):
    """The records are walked by a calldata pointer: it stops after the array's declared length,
    whatever follows (a further well-signed record, garbage)."""
    records = [raw_record(chain, consents, parties, live_consent, sequence=n) for n in (1, 2)]
    receipt = send_raw(consents, parties, raw_batch(records, count=1, tail=os.urandom(100)))
    logged = [(e.name, e.args["pullNumber"], bytes(e.args["digest"])) for e in consents.events(receipt) if e.name in ("DataPulled", "PullRefused")]
    assert logged == [("DataPulled", 1, records[0][6])]
    assert consents.get(live_consent).pulls == 1


def test_records_of_one_consent_see_what_the_records_before_them_wrote(chain, consents, parties, live_consent, record):
    """The consent is read once while records of it follow each other: a repeated record, the next
    number and one over `maxPulls` (2) in one batch are judged as if each were alone, and the counter's
    slot is written whole from the copy without changing the applicant or `maxPulls`."""
    before = consents.get(live_consent)
    first = record(live_consent, ID_CARD, parties.agency, sequence=1)
    batch = [first, first, record(live_consent, ID_CARD, parties.agency, sequence=2), record(live_consent, ID_CARD, parties.agency, sequence=3)]
    result = consents.record_pulls(parties.holder_psb, batch)
    assert result.refusals == [PullRefusal.NONE, PullRefusal.DUPLICATE_REQUEST, PullRefusal.NONE, PullRefusal.MAX_PULLS_REACHED]
    assert consents.get(live_consent) == dataclasses.replace(before, pulls=2)


def test_interleaved_consents_and_an_unknown_one_each_keep_their_own_count(chain, consents, parties, node_config, live_consent, record):
    other_applicant = dev_account(node_config, 18)
    terms = terms_for(chain, other_applicant, parties.agency)
    other, _ = consents.grant(parties.relayer, terms, eip712.sign_consent(terms, eip712.Domain.of(consents.domain()), other_applicant.key))
    before = consents.get(other)
    batch = [record(bytes(32), ID_CARD, parties.agency, sequence=1)]  # consent id zero: never granted
    batch += [record(cid, ID_CARD, parties.agency, sequence=n) for n in (1, 2) for cid in (live_consent, other)]
    batch += [record(other, ID_CARD, parties.agency, sequence=2)]  # already logged two records back
    result = consents.record_pulls(parties.holder_psb, batch)
    assert result.refusals == [PullRefusal.UNKNOWN_CONSENT, *[PullRefusal.NONE] * 4, PullRefusal.DUPLICATE_REQUEST]
    assert [o.pull_number for o in result.outcomes[1:5]] == [1, 1, 2, 2]
    assert consents.get(live_consent).pulls == 2 and consents.get(other) == dataclasses.replace(before, pulls=2)
    assert consents.get(bytes(32)).state is ConsentState.NONE
