"""ConsentRegistry: EIP-712 consents signed in Python, their refusals with exact custom errors,
revocation, pause, expiry, and the pull log with its per-record refusals."""

from __future__ import annotations

import dataclasses
import json

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from chain.consents import ConsentState, PullRefusal
from chain.registry import DataCategory, GovRegistryClient, MemberInfo
from chain.reverts import revert_class
from identity.pull_request import PullRequest, pull_request_id
from identity.eip712 import (
    CONSENT_TYPE,
    REVOCATION_TYPE,
    Domain,
    consent_id,
    consent_typed_data,
    purpose_hash,
    revocation_digest,
    revocation_typed_data,
    scope_digest,
    scope_hash,
    sign_consent,
    sign_revocation,
)
from tests.support.consents import HOUR, SCOPE, advance, make_terms, now
from tests.support.wallets import deploy_wallet

SignatureExpired = revert_class("ConsentRegistrySignatureExpired")
ConsentExists = revert_class("ConsentRegistryConsentExists")
InvalidSignature = revert_class("ConsentRegistryInvalidSignature")
NotAnAgency = revert_class("ConsentRegistryNotAnAgency")
InvalidCategories = revert_class("ConsentRegistryInvalidCategories")
InvalidWindow = revert_class("ConsentRegistryInvalidWindow")
ZeroMaxPulls = revert_class("ConsentRegistryZeroMaxPulls")
UnknownConsent = revert_class("ConsentRegistryUnknownConsent")
NotApplicant = revert_class("ConsentRegistryNotApplicant")
AlreadyRevoked = revert_class("ConsentRegistryAlreadyRevoked")
NotPaused = revert_class("ConsentRegistryNotPaused")
NotActive = revert_class("ConsentRegistryNotActive")
UnauthorizedRelayer = revert_class("ConsentRegistryUnauthorizedRelayer")
UnauthorizedHolder = revert_class("ConsentRegistryUnauthorizedHolder")
InvalidPullSignature = revert_class("ConsentRegistryInvalidPullSignature")

ID_CARD, RESIDENCE_PERMIT, HOUSEHOLD_REGISTER = 0, 1, 2  # category bit indexes
GAS: dict[str, int] = {}  # gas used per operation, printed by test_gas_figures


# -- granting ---------------------------------------------------------------------------------


def test_python_signed_consent_is_accepted_and_ids_match(consents, consent_domain, parties, chain):
    terms = make_terms(chain, parties)
    signature = sign_consent(terms, consent_domain, parties.outsider)
    assert len(signature) == 65
    expected = consent_id(terms, consent_domain)
    cid, receipt = consents.grant(parties.relayer, terms, signature)
    assert cid == expected
    (granted,) = consents.events(receipt)
    assert granted.name == "ConsentGranted"
    assert granted.args == {
        "consentId": expected,
        "applicant": terms.applicant,
        "agency": terms.agency,
        "categories": terms.categories,
        "scopeHash": terms.scope_hash,
        "purposeHash": terms.purpose_hash,
        "faceCheckRef": terms.face_check_ref,
        "notBefore": terms.not_before,
        "expiresAt": terms.expires_at,
        "maxPulls": terms.max_pulls,
    }
    stored = consents.get(cid)
    assert (stored.applicant, stored.agency, stored.categories) == (terms.applicant, terms.agency, terms.categories)
    assert (stored.not_before, stored.expires_at, stored.max_pulls, stored.pulls) == (terms.not_before, terms.expires_at, 3, 0)
    assert stored.status is ConsentState.ACTIVE and stored.state is ConsentState.ACTIVE
    assert consents.state(cid) is ConsentState.ACTIVE


def test_the_applicant_may_submit_its_own_consent(consents, consent_domain, parties, chain):
    terms = make_terms(chain, parties)
    cid, _ = consents.grant(parties.outsider, terms, sign_consent(terms, consent_domain, parties.outsider))
    assert cid == consent_id(terms, consent_domain) and consents.state(cid) is ConsentState.ACTIVE


def test_domain_and_type_strings_match_the_contract(consents, consent_domain, chain):
    onchain = consents.domain()
    assert Domain.of(onchain) == consent_domain
    assert (onchain.name, onchain.version, onchain.chain_id) == ("govchain ConsentRegistry", "1", chain.chain_id)
    assert CONSENT_TYPE == (
        "Consent(address applicant,address agency,uint8 categories,bytes32 scopeHash,bytes32 purposeHash,"
        "bytes32 faceCheckRef,uint40 notBefore,uint40 expiresAt,uint16 maxPulls,uint256 nonce,uint256 deadline)"
    )
    assert REVOCATION_TYPE == "Revocation(bytes32 consentId,uint256 deadline)"


def test_typed_data_is_plain_json_and_recovers_the_signer(consent_domain, parties, chain):
    terms = make_terms(chain, parties)
    message = json.loads(json.dumps(consent_typed_data(terms, consent_domain)))  # what a wallet would get
    signature = sign_consent(terms, consent_domain, parties.outsider.key)
    assert Account.recover_message(encode_typed_data(full_message=message), signature=signature) == parties.outsider.address
    revocation = json.loads(json.dumps(revocation_typed_data(b"\x01" * 32, 5, consent_domain)))
    assert revocation["message"] == {"consentId": "0x" + "01" * 32, "deadline": 5}


TAMPERED = {
    "applicant": lambda t, p: p.outsider2.address,
    "agency": lambda t, p: p.holder_psb.address,
    "categories": lambda t, p: 0b001,
    "scope_hash": lambda t, p: scope_hash({"id_card": ["name"]}, b"\x33" * 32),
    "purpose_hash": lambda t, p: purpose_hash("MATTER-EDU-0001", "APP-2024-000124", b"\x5a" * 32),
    "face_check_ref": lambda t, p: keccak(text="face-check:session-2"),
    "not_before": lambda t, p: t.not_before + 1,
    "expires_at": lambda t, p: t.expires_at + 1,
    "max_pulls": lambda t, p: t.max_pulls + 1,
    "nonce": lambda t, p: t.nonce + 1000,
    "deadline": lambda t, p: t.deadline + 1,
}


@pytest.mark.parametrize("field", list(TAMPERED))
def test_every_tampered_field_invalidates_the_signature(consents, consent_domain, parties, chain, field):
    terms = make_terms(chain, parties)
    signature = sign_consent(terms, consent_domain, parties.outsider)
    tampered = dataclasses.replace(terms, **{field: TAMPERED[field](terms, parties)})
    assert consent_id(tampered, consent_domain) != consent_id(terms, consent_domain)
    with pytest.raises(InvalidSignature) as refused:
        consents.grant(parties.relayer, tampered, signature)
    assert refused.value.args_by_name == {"applicant": tampered.applicant}
    assert consents.get(consent_id(tampered, consent_domain)).state is ConsentState.NONE  # nothing stored


def test_tampered_fields_checked_before_the_signature_give_their_own_error(consents, consent_domain, parties, chain, grant):
    terms = make_terms(chain, parties)
    signature = sign_consent(terms, consent_domain, parties.outsider)
    past = dataclasses.replace(terms, deadline=now(chain) - 1)
    with pytest.raises(SignatureExpired) as expired:
        consents.grant(parties.relayer, past, signature)
    assert expired.value.args_by_name["deadline"] == past.deadline and expired.value.args_by_name["now"] > past.deadline
    someone_else = dataclasses.replace(terms, applicant=parties.outsider2.address)  # sent by the original applicant
    with pytest.raises(UnauthorizedRelayer) as caller:
        consents.grant(parties.outsider, someone_else, signature)
    assert caller.value.args_by_name == {"caller": parties.outsider.address}


@pytest.mark.parametrize(
    "domain",
    [
        lambda d, deployment: dataclasses.replace(d, chain_id=d.chain_id + 1),
        lambda d, deployment: dataclasses.replace(d, verifying_contract=deployment.address("GovRegistry")),
        lambda d, deployment: dataclasses.replace(d, name="govchain ConsentRegistry v0"),
        lambda d, deployment: dataclasses.replace(d, version="2"),
    ],
    ids=["chain-id", "verifying-contract", "name", "version"],
)
def test_a_signature_for_another_domain_is_invalid(consents, consent_domain, parties, chain, deployment, domain):
    terms = make_terms(chain, parties)
    other = domain(consent_domain, deployment)
    with pytest.raises(InvalidSignature) as refused:
        consents.grant(parties.relayer, terms, sign_consent(terms, other, parties.outsider))
    assert refused.value.args_by_name == {"applicant": parties.outsider.address}


def test_a_signature_by_another_key_is_invalid(consents, consent_domain, parties, chain):
    terms = make_terms(chain, parties)
    with pytest.raises(InvalidSignature) as refused:
        consents.grant(parties.relayer, terms, sign_consent(terms, consent_domain, parties.outsider2))
    assert refused.value.args_by_name == {"applicant": parties.outsider.address}
    with pytest.raises(InvalidSignature):
        consents.grant(parties.relayer, terms, b"\x00" * 65)
    with pytest.raises(InvalidSignature):
        consents.grant(parties.relayer, terms, b"")


def test_a_signed_consent_is_granted_once_even_after_revocation(consents, consent_domain, parties, chain, grant):
    """No nonce bitmap (gas2): the consent id is the digest of the signed terms, nonce included, and
    a consent's status never returns to None, so a replay of the same signature is refused, by a
    relayer or by the applicant, while the consent lives and after it was revoked."""
    terms = make_terms(chain, parties)
    signature = sign_consent(terms, consent_domain, parties.outsider)
    cid, _ = consents.grant(parties.relayer, terms, signature)
    for sender in (parties.relayer, parties.outsider):
        with pytest.raises(ConsentExists) as refused:
            consents.grant(sender, terms, signature)
        assert refused.value.args_by_name == {"consentId": cid}
    consents.revoke(parties.outsider, cid)
    with pytest.raises(ConsentExists):
        consents.grant(parties.relayer, terms, signature)
    assert consents.get(cid).state is ConsentState.REVOKED  # the replay did not bring it back
    # a nonce only makes terms new: other terms with the same nonce are another consent, and so
    # are the same terms with another nonce
    _, other = grant(nonce=terms.nonce, max_pulls=9)
    _, renewed = grant(**{f.name: getattr(terms, f.name) for f in dataclasses.fields(terms) if f.name != "nonce"}, nonce=terms.nonce + 1)
    assert len({cid, other, renewed}) == 3 and consents.get(other).state is consents.get(renewed).state is ConsentState.ACTIVE


def test_an_expired_signature_deadline_is_refused(consents, consent_domain, parties, chain):
    terms = make_terms(chain, parties, deadline=now(chain) - 1)
    with pytest.raises(SignatureExpired) as refused:
        consents.grant(parties.relayer, terms, sign_consent(terms, consent_domain, parties.outsider))
    assert refused.value.args_by_name["deadline"] == terms.deadline
    assert refused.value.args_by_name["now"] > terms.deadline


def test_the_agency_must_be_an_active_agency(consents, consent_domain, parties, chain, registry):
    for wrong in (parties.holder_psb.address, parties.outsider2.address):
        terms = make_terms(chain, parties, agency=wrong)
        with pytest.raises(NotAnAgency) as refused:
            consents.grant(parties.relayer, terms, sign_consent(terms, consent_domain, parties.outsider))
        assert refused.value.args_by_name == {"agency": wrong}
    registry.suspend_member(parties.governor, parties.agency.address)
    terms = make_terms(chain, parties)
    with pytest.raises(NotAnAgency):
        consents.grant(parties.relayer, terms, sign_consent(terms, consent_domain, parties.outsider))


@pytest.mark.parametrize(
    ("changes", "error", "args"),
    [
        ({"categories": 0}, InvalidCategories, lambda t: {"categories": 0}),
        ({"categories": 8}, InvalidCategories, lambda t: {"categories": 8}),
        ({"categories": 0xFF}, InvalidCategories, lambda t: {"categories": 0xFF}),
        ({"max_pulls": 0}, ZeroMaxPulls, lambda t: {}),
    ],
    ids=["categories-zero", "categories-bit3", "categories-all", "max-pulls-zero"],
)
def test_invalid_terms_are_refused_with_the_value(consents, consent_domain, parties, chain, changes, error, args):
    terms = make_terms(chain, parties, **changes)
    with pytest.raises(error) as refused:
        consents.grant(parties.relayer, terms, sign_consent(terms, consent_domain, parties.outsider))
    assert refused.value.args_by_name == args(terms)


def test_invalid_windows_are_refused(consents, consent_domain, parties, chain):
    t = now(chain)
    for not_before, expires_at in ((t + 100, t + 100), (t + 200, t + 100), (t - 200, t - 100)):
        terms = make_terms(chain, parties, not_before=not_before, expires_at=expires_at)
        with pytest.raises(InvalidWindow) as refused:
            consents.grant(parties.relayer, terms, sign_consent(terms, consent_domain, parties.outsider))
        assert refused.value.args_by_name == {"notBefore": not_before, "expiresAt": expires_at}


@pytest.mark.parametrize("who", ["outsider2", "agency", "holder_psb", "governor", "auditor"])
def test_only_the_applicant_or_a_relayer_may_submit(consents, consent_domain, parties, chain, who):
    terms = make_terms(chain, parties)
    sender = getattr(parties, who)
    with pytest.raises(UnauthorizedRelayer) as refused:
        consents.grant(sender, terms, sign_consent(terms, consent_domain, parties.outsider))
    assert refused.value.args_by_name == {"caller": sender.address}
    assert isinstance(refused.value, PermissionError)


def test_a_suspended_relayer_may_not_submit(consents, consent_domain, parties, chain, registry):
    registry.suspend_member(parties.governor, parties.relayer.address)
    terms = make_terms(chain, parties)
    with pytest.raises(UnauthorizedRelayer):
        consents.grant(parties.relayer, terms, sign_consent(terms, consent_domain, parties.outsider))


# -- revoking, pausing, expiry ----------------------------------------------------------------


def test_the_applicant_revokes_directly(consents, parties, grant):
    _, cid = grant()
    with pytest.raises(NotApplicant) as stranger:
        consents.revoke(parties.relayer, cid)
    assert stranger.value.args_by_name == {"caller": parties.relayer.address, "applicant": parties.outsider.address}
    receipt = consents.revoke(parties.outsider, cid)
    (revoked,) = consents.events(receipt)
    assert revoked.name == "ConsentRevoked"
    assert revoked.args == {"consentId": cid, "applicant": parties.outsider.address, "by": parties.outsider.address}
    assert consents.state(cid) is ConsentState.REVOKED
    with pytest.raises(AlreadyRevoked) as again:
        consents.revoke(parties.outsider, cid)
    assert again.value.args_by_name == {"consentId": cid}
    unknown = b"\x42" * 32
    with pytest.raises(UnknownConsent) as missing:
        consents.revoke(parties.outsider, unknown)
    assert missing.value.args_by_name == {"consentId": unknown}


@pytest.mark.parametrize("relay", ["relayer", "outsider2"])
def test_a_signed_revocation_may_be_relayed(consents, consent_domain, parties, chain, grant, relay):
    _, cid = grant()
    deadline = now(chain) + 600
    signature = sign_revocation(cid, deadline, consent_domain, parties.outsider)
    typed = encode_typed_data(full_message=revocation_typed_data(cid, deadline, consent_domain))
    assert Account.recover_message(typed, signature=signature) == parties.outsider.address
    assert revocation_digest(cid, deadline, consent_domain) == keccak(b"\x19" + typed.version + typed.header + typed.body)
    sender = getattr(parties, relay)
    receipt = consents.revoke_by_sig(sender, cid, deadline, signature)
    (revoked,) = consents.events(receipt)
    assert revoked.args == {"consentId": cid, "applicant": parties.outsider.address, "by": sender.address}
    assert consents.state(cid) is ConsentState.REVOKED
    with pytest.raises(AlreadyRevoked):  # a replay changes nothing
        consents.revoke_by_sig(sender, cid, deadline, signature)


def test_forged_or_misdirected_revocations_are_refused(consents, consent_domain, parties, chain, grant):
    _, cid = grant()
    _, other = grant()
    deadline = now(chain) + 600
    cases = [
        sign_revocation(cid, deadline, consent_domain, parties.outsider2),  # not the applicant's key
        sign_revocation(other, deadline, consent_domain, parties.outsider),  # for another consent
        sign_revocation(cid, deadline + 1, consent_domain, parties.outsider),  # another deadline
        sign_revocation(cid, deadline, dataclasses.replace(consent_domain, chain_id=1), parties.outsider),
    ]
    for signature in cases:
        with pytest.raises(InvalidSignature) as forged:
            consents.revoke_by_sig(parties.relayer, cid, deadline, signature)
        assert forged.value.args_by_name == {"applicant": parties.outsider.address}
    past = now(chain) - 1
    with pytest.raises(SignatureExpired) as expired:
        consents.revoke_by_sig(parties.relayer, cid, past, sign_revocation(cid, past, consent_domain, parties.outsider))
    assert expired.value.args_by_name["deadline"] == past
    unknown = b"\x42" * 32
    with pytest.raises(UnknownConsent):
        consents.revoke_by_sig(parties.relayer, unknown, deadline, sign_revocation(unknown, deadline, consent_domain, parties.outsider))
    assert consents.state(cid) is ConsentState.ACTIVE


def test_pause_and_resume(consents, parties, grant):
    terms, cid = grant()

    def by_the_applicant_only(step, other, event: str, state: ConsentState, refusal: PullRefusal) -> None:
        """``step`` (pause or resume) is refused to ``other``; the applicant's emits ``event`` and
        leaves the consent in ``state``, where a pull would meet ``refusal``."""
        with pytest.raises(NotApplicant):
            step(other, cid)
        receipt = step(parties.outsider, cid)
        assert [(e.name, e.args) for e in consents.events(receipt)] == [(event, {"consentId": cid})]
        assert consents.state(cid) is state
        assert consents.check_pull(cid, ID_CARD, parties.agency.address, parties.holder_psb.address) is refusal

    by_the_applicant_only(consents.pause, parties.agency, "ConsentPaused", ConsentState.PAUSED, PullRefusal.PAUSED)
    with pytest.raises(NotActive) as twice:
        consents.pause(parties.outsider, cid)
    assert twice.value.args_by_name == {"consentId": cid, "state": ConsentState.PAUSED}
    by_the_applicant_only(consents.resume, parties.relayer, "ConsentResumed", ConsentState.ACTIVE, PullRefusal.NONE)
    with pytest.raises(NotPaused) as active:
        consents.resume(parties.outsider, cid)
    assert active.value.args_by_name == {"consentId": cid}
    consents.pause(parties.outsider, cid)
    consents.revoke(parties.outsider, cid)  # a paused consent can be revoked
    with pytest.raises(NotActive) as revoked:
        consents.pause(parties.outsider, cid)
    assert revoked.value.args_by_name == {"consentId": cid, "state": ConsentState.REVOKED}
    with pytest.raises(NotPaused):
        consents.resume(parties.outsider, cid)
    with pytest.raises(UnknownConsent):
        consents.pause(parties.outsider, b"\x42" * 32)


def test_expiry_follows_the_block_time(consents, parties, chain, grant):
    t = now(chain)
    _, cid = grant(expires_at=t + 120)
    _, paused = grant(expires_at=t + 120)
    _, revoked = grant(expires_at=t + 120)
    consents.pause(parties.outsider, paused)
    consents.revoke(parties.outsider, revoked)
    assert consents.state(cid) is ConsentState.ACTIVE
    advance(chain, 200)
    assert consents.state(cid) is ConsentState.EXPIRED
    assert consents.state(paused) is ConsentState.EXPIRED
    assert consents.state(revoked) is ConsentState.REVOKED  # revocation is final and says more
    stored = consents.get(cid)
    assert stored.status is ConsentState.ACTIVE and stored.state is ConsentState.EXPIRED
    assert consents.check_pull(cid, ID_CARD, parties.agency.address, parties.holder_psb.address) is PullRefusal.EXPIRED
    with pytest.raises(NotActive) as expired:
        consents.pause(parties.outsider, cid)
    assert expired.value.args_by_name == {"consentId": cid, "state": ConsentState.EXPIRED}
    with pytest.raises(NotPaused):
        consents.resume(parties.outsider, paused)
    consents.revoke(parties.outsider, cid)  # an expired consent may still be revoked
    assert consents.state(cid) is ConsentState.REVOKED
    assert consents.state(b"\x42" * 32) is ConsentState.NONE


def test_a_consent_not_yet_valid_is_active_but_not_pullable(consents, parties, chain, grant):
    t = now(chain)
    _, cid = grant(not_before=t + 300, expires_at=t + 900)
    assert consents.state(cid) is ConsentState.ACTIVE
    assert consents.check_pull(cid, ID_CARD, parties.agency.address, parties.holder_psb.address) is PullRefusal.NOT_YET_VALID
    advance(chain, 400)
    assert consents.check_pull(cid, ID_CARD, parties.agency.address, parties.holder_psb.address) is PullRefusal.NONE


# -- the pull log -----------------------------------------------------------------------------


def test_a_mixed_batch_logs_exactly_the_valid_pulls(consents, parties, chain, grant, pull):
    t = now(chain)
    _, main = grant(max_pulls=3)  # ID card + household register
    _, revoked = grant()
    _, paused = grant()
    _, future = grant(not_before=t + 2 * HOUR, expires_at=t + 3 * HOUR)
    _, expiring = grant(expires_at=t + 60)
    _, permit = grant(categories=DataCategory.ID_CARD | DataCategory.RESIDENCE_PERMIT)
    _, single = grant(max_pulls=1)
    consents.revoke(parties.outsider, revoked)
    consents.pause(parties.outsider, paused)
    holder, agency = parties.holder_psb, parties.agency
    first = consents.record_pulls(holder, [pull(single, ID_CARD, agency, "single-1", 1)])
    assert first.outcomes[0].pull_number == 1
    advance(chain, 120)  # `expiring` is over, the others are not

    batch = [
        pull(main, ID_CARD, agency, "a", 1),
        pull(b"\x42" * 32, ID_CARD, agency, "unknown", 1),
        pull(revoked, ID_CARD, agency, "revoked", 1),
        pull(paused, ID_CARD, agency, "paused", 1),
        pull(future, ID_CARD, agency, "future", 1),
        pull(expiring, ID_CARD, agency, "expiring", 1),
        pull(main, RESIDENCE_PERMIT, agency, "not-covered", 2),
        pull(main, ID_CARD, parties.procurement, "wrong-requester", 2),
        pull(permit, RESIDENCE_PERMIT, agency, "not-served", 1),  # the PSB does not serve residence permits
        pull(single, ID_CARD, agency, "single-2", 2),
        pull(main, HOUSEHOLD_REGISTER, agency, "a-again", 1),  # pull number 1 is logged already (this batch)
        pull(main, ID_CARD, agency, "skips", 5),  # the agency may not skip ahead
        pull(main, HOUSEHOLD_REGISTER, agency, "b", 2),
        pull(main, 200, agency, "category-out-of-range", 3),
    ]
    expected = [
        PullRefusal.NONE,
        PullRefusal.UNKNOWN_CONSENT,
        PullRefusal.REVOKED,
        PullRefusal.PAUSED,
        PullRefusal.NOT_YET_VALID,
        PullRefusal.EXPIRED,
        PullRefusal.CATEGORY_NOT_COVERED,
        PullRefusal.WRONG_REQUESTER,
        PullRefusal.CATEGORY_NOT_SERVED,
        PullRefusal.MAX_PULLS_REACHED,
        PullRefusal.DUPLICATE_REQUEST,
        PullRefusal.OUT_OF_SEQUENCE,
        PullRefusal.NONE,
        PullRefusal.CATEGORY_NOT_COVERED,
    ]
    # checkPull agrees record by record (it leaves out the signature and the sequence number)
    checked = [consents.check_pull(p.consent_id, p.category, p.requester, holder.address) for p in batch]
    sequence_only = (PullRefusal.DUPLICATE_REQUEST, PullRefusal.OUT_OF_SEQUENCE)
    assert checked == [PullRefusal.NONE if r in sequence_only else r for r in expected]
    call = consents.contract.functions.recordPulls(*consents.encode_pulls(batch))
    assert call.call({"from": holder.address}) == 2

    result = consents.record_pulls(holder, batch)
    assert result.refusals == expected
    assert result.recorded == 2
    assert [o.pull_number for o in result.outcomes if o.logged] == [1, 2]
    events = consents.events(result.receipt)
    assert [e.name for e in events] == ["DataPulled" if r is PullRefusal.NONE else "PullRefused" for r in expected]
    assert events[0].args == {  # the holder is the transaction's sender, the requester the consent's agency
        "consentId": main,
        "category": ID_CARD,
        "digest": keccak(text="handed-over:a"),
        "pullNumber": 1,
    }
    assert consents.client.w3.eth.get_transaction(result.receipt.tx_hash)["from"] == holder.address
    assert consents.get(main).agency == agency.address
    assert events[7].args == {
        "consentId": main,
        "holder": holder.address,
        "requester": parties.procurement.address,
        "category": ID_CARD,
        "sequence": 2,
        "reason": PullRefusal.WRONG_REQUESTER,
    }
    assert consents.get(main).pulls == 2 and consents.get(single).pulls == 1
    # a request's id is the consent and its number, the same on chain and off
    assert consents.pull_request_id(main, 1) == pull_request_id(main, 1) != pull_request_id(main, 2)


def test_max_pulls_is_enforced_across_batches(consents, parties, grant, pull):
    _, cid = grant(max_pulls=2)
    holder, agency = parties.holder_psb, parties.agency
    result = consents.record_pulls(holder, [pull(cid, ID_CARD, agency, f"m{i}", i + 1) for i in range(3)])
    assert result.refusals == [PullRefusal.NONE, PullRefusal.NONE, PullRefusal.MAX_PULLS_REACHED]
    assert [o.pull_number for o in result.outcomes] == [1, 2, None]
    later = consents.record_pulls(holder, [pull(cid, HOUSEHOLD_REGISTER, agency, "m3", 3)])
    assert later.refusals == [PullRefusal.MAX_PULLS_REACHED]
    assert consents.check_pull(cid, ID_CARD, agency.address, holder.address) is PullRefusal.MAX_PULLS_REACHED
    assert consents.get(cid).pulls == 2


def test_a_pull_number_is_logged_once_across_holders(consents, parties, grant, pull):
    _, cid = grant(categories=DataCategory.ID_CARD | DataCategory.RESIDENCE_PERMIT, max_pulls=10)
    agency = parties.agency
    same = consents.record_pulls(parties.holder_psb, [pull(cid, ID_CARD, agency, "r", 1), pull(cid, ID_CARD, agency, "r", 1)])
    assert same.refusals == [PullRefusal.NONE, PullRefusal.DUPLICATE_REQUEST]
    later = consents.record_pulls(parties.holder_psb, [pull(cid, ID_CARD, agency, "r", 1), pull(cid, ID_CARD, agency, "s", 2)])
    assert later.refusals == [PullRefusal.DUPLICATE_REQUEST, PullRefusal.NONE]
    assert [o.pull_number for o in later.outcomes] == [None, 2]
    rp = parties.holder_rp
    other_holder = consents.record_pulls(rp, [pull(cid, RESIDENCE_PERMIT, agency, "t", 2, rp), pull(cid, RESIDENCE_PERMIT, agency, "u", 3, rp)])
    assert other_holder.refusals == [PullRefusal.DUPLICATE_REQUEST, PullRefusal.NONE]  # one counter per consent
    assert consents.get(cid).pulls == 3


@pytest.mark.parametrize("who", ["agency", "relayer", "governor", "outsider"])
def test_only_data_holders_may_record_pulls(consents, parties, grant, who, pull):
    _, cid = grant()
    sender = getattr(parties, who)
    with pytest.raises(UnauthorizedHolder) as refused:
        consents.record_pulls(sender, [pull(cid, ID_CARD, parties.agency, "x", 1, sender)])
    assert refused.value.args_by_name == {"holder": sender.address}
    assert isinstance(refused.value, PermissionError)


def test_a_suspended_holder_may_not_record_pulls(consents, parties, grant, registry: GovRegistryClient, pull):
    _, cid = grant()
    registry.suspend_member(parties.governor, parties.holder_psb.address)
    with pytest.raises(UnauthorizedHolder):
        consents.record_pulls(parties.holder_psb, [pull(cid, ID_CARD, parties.agency, "x", 1)])
    assert consents.check_pull(cid, ID_CARD, parties.agency.address, parties.holder_psb.address) is PullRefusal.CATEGORY_NOT_SERVED


def test_an_empty_batch_records_nothing(consents, parties):
    result = consents.record_pulls(parties.holder_psb, [])
    assert result.outcomes == [] and result.recorded == 0 and result.receipt.ok


# -- ERC-1271 contract wallets ----------------------------------------------------------------


def test_a_contract_wallet_applicant_signs_through_erc1271(consents, consent_domain, parties, chain, build):
    wallet = deploy_wallet(chain, build, parties.outsider2)
    terms = make_terms(chain, parties, applicant=wallet.address)
    forged = sign_consent(terms, consent_domain, parties.outsider)  # not the wallet owner's key
    with pytest.raises(InvalidSignature) as refused:
        consents.grant(parties.relayer, terms, forged)
    assert refused.value.args_by_name == {"applicant": wallet.address}
    cid, _ = consents.grant(parties.relayer, terms, sign_consent(terms, consent_domain, parties.outsider2))
    assert cid == consent_id(terms, consent_domain) and consents.get(cid).applicant == wallet.address
    # the wallet itself acts as the applicant
    chain.transact(parties.outsider2, wallet.functions.execute(consents.address, consents.contract.encode_abi("pauseConsent", [cid])))
    assert consents.state(cid) is ConsentState.PAUSED
    with pytest.raises(NotApplicant):  # the owner's key is not the applicant
        consents.resume(parties.outsider2, cid)
    deadline = now(chain) + 600
    consents.revoke_by_sig(parties.relayer, cid, deadline, sign_revocation(cid, deadline, consent_domain, parties.outsider2))
    assert consents.state(cid) is ConsentState.REVOKED


def test_a_contract_wallet_agency_signs_its_pull_requests_through_erc1271(consents, consent_domain, parties, chain, build, registry, grant):
    wallet = deploy_wallet(chain, build, parties.outsider2)
    registry.register_member(parties.governor, wallet.address, MemberInfo("区教育局 (multisig)", "ORG-W", "wallet.edu.example"), ["AGENCY"])
    _, cid = grant(agency=wallet.address)
    holder, t = parties.holder_psb, chain.w3.eth.get_block("latest")["timestamp"]
    request = PullRequest(cid, 1, ID_CARD, keccak(text="attributes"), keccak(text="subject"), wallet.address, holder.address, t)
    forged = request.record(request.sign(parties.outsider.key, chain.chain_id, consents.address), keccak(text="handed-over"))
    with pytest.raises(InvalidPullSignature) as refused:  # not the wallet owner's key
        consents.record_pulls(holder, [forged])
    assert refused.value.args_by_name == {"index": 0, "requester": wallet.address}
    signed = request.record(request.sign(parties.outsider2.key, chain.chain_id, consents.address), keccak(text="handed-over"))
    result = consents.record_pulls(holder, [signed])
    assert result.refusals == [PullRefusal.NONE] and consents.get(cid).pulls == 1


def test_a_signature_passed_aside_is_checked_only_by_erc1271(consents, parties, grant, pull):
    """A record with ``r`` zero points at ``walletSignatures[vs]``: an EOA agency's valid signature
    sent that way is refused (an EOA answers no ERC-1271 call), and so is an index past the list."""
    _, cid = grant()
    holder, record = parties.holder_psb, pull(cid, ID_CARD, parties.agency, "aside", 1)
    (encoded,), _ = consents.encode_pulls([record])
    assert encoded[-2] != bytes(32)  # an EOA's signature travels compact (EIP-2098) in the record
    aside = (*encoded[:-2], bytes(32), (0).to_bytes(32))
    past = (*encoded[:-2], bytes(32), (1).to_bytes(32))
    for records, signatures in (([aside], [bytes(record.signature)]), ([past], [bytes(record.signature)])):
        with pytest.raises(InvalidPullSignature):
            consents.client.transact(holder, consents.contract.functions.recordPulls(records, signatures))
    assert consents.get(cid).pulls == 0
    assert consents.record_pulls(holder, [record]).refusals == [PullRefusal.NONE]


# -- off-chain hashes -------------------------------------------------------------------------


def test_scope_hash_is_canonical_and_salted():
    reordered = {"household_register": ["household_head", "address"], "id_card": ["photo", "id_number", "name", "name"]}
    assert scope_digest(reordered) == scope_digest(SCOPE)
    canonical = '{"household_register":["address","household_head"],"id_card":["id_number","name","photo"]}'
    assert scope_digest(SCOPE) == keccak(canonical.encode())
    assert scope_digest({"户籍": ["住址"]}) == keccak('{"户籍":["住址"]}'.encode("utf-8"))  # no ASCII escaping
    assert scope_digest({"id_card": ["name"]}) != scope_digest({"id_card": ["name", "photo"]})
    with pytest.raises(TypeError):
        scope_digest({"id_card": "name"})
    salt = b"\x01" * 32
    assert scope_hash(reordered, salt) == scope_hash(SCOPE, salt) == keccak(scope_digest(SCOPE) + salt)
    assert scope_hash(SCOPE, salt) != scope_hash(SCOPE, b"\x02" * 32) and scope_hash(SCOPE, salt) != scope_digest(SCOPE)
    with pytest.raises(ValueError, match="salt must be 32 bytes, got 3"):
        scope_hash(SCOPE, b"abc")


def test_purpose_hash_is_salted_and_unambiguous():
    salt = b"\x01" * 32
    assert purpose_hash("AB", "C", salt) != purpose_hash("A", "BC", salt)
    assert purpose_hash("A", "B", salt) != purpose_hash("A", "B", b"\x02" * 32)
    with pytest.raises(ValueError, match="salt must be 32 bytes, got 3"):
        purpose_hash("A", "B", b"abc")


# -- gas --------------------------------------------------------------------------------------


def test_gas_figures(consents, consent_domain, parties, chain, pull):
    def submit(sender, nonce):
        terms = make_terms(chain, parties, max_pulls=100, nonce=nonce)
        return consents.grant(sender, terms, sign_consent(terms, consent_domain, parties.outsider))

    base = 7 << 8  # a bitmap word no other test touches
    GAS["grantConsent (relayer, first nonce of a bitmap word)"] = submit(parties.relayer, base)[1].gas_used
    GAS["grantConsent (relayer)"] = submit(parties.relayer, base + 1)[1].gas_used
    cid, receipt = submit(parties.outsider, base + 2)
    GAS["grantConsent (sent by the applicant)"] = receipt.gas_used
    holder, agency = parties.holder_psb, parties.agency
    GAS["recordPulls x1"] = consents.record_pulls(holder, [pull(cid, ID_CARD, agency, "g0", 1)]).receipt.gas_used
    batch8 = consents.record_pulls(holder, [pull(cid, i % 2 * 2, agency, f"g{i}", i) for i in range(2, 10)])
    assert batch8.recorded == 8
    GAS["recordPulls x8, per pull"] = batch8.receipt.gas_used // 8
    batch = consents.record_pulls(holder, [pull(cid, i % 2 * 2, agency, f"g{i}", i) for i in range(10, 42)])
    assert batch.recorded == 32
    GAS["recordPulls x32"] = batch.receipt.gas_used
    GAS["recordPulls x32, per pull"] = batch.receipt.gas_used // 32
    GAS["revokeConsent"] = consents.revoke(parties.outsider, cid).gas_used
    for name, gas in GAS.items():
        print(f"gas {name}: {gas}")
    assert GAS["grantConsent (relayer)"] < 150_000 and GAS["recordPulls x32"] < 1_200_000
    # the agency's signature is checked per pull (ecrecover alone is 3,000, the record's calldata about 3,400):
    # about 11,900 per pull in a batch of 32 on one consent (12,985 before branch gas15, 14,500 before gas2,
    # 18,009 with 65-byte signatures and the old compile settings; 32,184 before, without a signature).
    # Issue 15's target, signature check included (docs/gas.md):
    assert GAS["recordPulls x32, per pull"] <= 12_000
