"""Per-consent applicant pseudonyms (issue 15): nothing on chain links two consents of one
applicant, the platform relays a consent only with the wallet's link to its pseudonym, and the
applicant still sees every consent of its own."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from identity.dev_citizens import demo_citizen
from chain.consents import ConsentRegistryClient
from identity import eip712, pseudonym as pseudonyms
from tests.support.flows import apply_and_verify_face, consent, consent_offer

pytestmark = pytest.mark.slow


@pytest.fixture
def registry(client, deployment, build) -> ConsentRegistryClient:
    return ConsentRegistryClient(client, deployment.address("ConsentRegistry"), build["ConsentRegistry"].abi)


def footprint(registry: ConsentRegistryClient, consent_id: str) -> dict:
    """What the chain holds of a consent's grant that could name its applicant: the topics of
    the grant's logs, the grant's calldata and the signer recovered from it, the stored applicant."""
    w3, cid = registry.client.w3, bytes.fromhex(consent_id[2:])
    (event,) = registry.contract.events.ConsentGranted.get_logs(from_block=0, argument_filters={"consentId": cid})
    tx, receipt = w3.eth.get_transaction(event["transactionHash"]), w3.eth.get_transaction_receipt(event["transactionHash"])
    _, call = registry.contract.decode_function_input(tx["input"])
    terms = eip712.ConsentTerms(*(call["terms"].values() if isinstance(call["terms"], dict) else call["terms"]))
    typed = eip712.consent_typed_data(terms, eip712.Domain.of(registry.domain()))
    return {
        "topics": {bytes(t) for log in receipt["logs"] for t in log["topics"][1:]},
        "calldata": bytes(tx["input"]),
        "signer": Account.recover_message(encode_typed_data(full_message=typed), signature=bytes(call["signature"])),
        "applicant": terms.applicant,
        "stored": registry.get(cid).applicant,
    }


def test_two_consents_of_one_applicant_share_nothing_on_chain(stack, registry, parties):
    wallet = Account.create()
    granted = []
    for index in (21, 22):
        me, application = apply_and_verify_face(stack, wallet, demo_citizen(index))
        granted.append(consent(stack, wallet, me, application["id"])[1]["consent_id"])
    first, second = (footprint(registry, c) for c in granted)
    applicant_side = [{f["applicant"], f["signer"], f["stored"]} for f in (first, second)]
    assert all(len(side) == 1 for side in applicant_side)  # one pseudonym per consent: named, signing, stored
    assert applicant_side[0].isdisjoint(applicant_side[1])  # ... and the two consents' pseudonyms differ
    wallet_word = bytes(12) + bytes.fromhex(wallet.address[2:])
    for f, other in ((first, second), (second, first)):
        assert wallet.address not in (f["applicant"], f["signer"], f["stored"])
        assert wallet_word not in f["topics"] and bytes.fromhex(wallet.address[2:]) not in f["calldata"]
        pseudonym_word = bytes(12) + bytes.fromhex(other["applicant"][2:])
        assert pseudonym_word not in f["topics"] and bytes.fromhex(other["applicant"][2:]) not in f["calldata"]
    # the applicant's own view shows both, with their pseudonyms
    me = stack.sign_in(wallet)
    mine = stack.http.get("/v1/me/consents", headers=me).json()
    assert sorted((c["consent_id"], c["pseudonym"]) for c in mine) == sorted((c, f["applicant"]) for c, f in zip(granted, (first, second), strict=True))
    receipt = stack.http.get(f"/v1/me/consents/{granted[0]}/receipt", headers=me)
    assert receipt.status_code == 200 and receipt.json()["principal"]["id"] == first["applicant"]
    assert stack.http.get(f"/v1/me/consents/{granted[0]}/receipt", headers=stack.sign_in(Account.create())).status_code == 403


def test_the_platform_relays_a_consent_only_with_the_wallets_link(stack, registry):
    wallet, stranger = Account.create(), Account.create()
    me, application = apply_and_verify_face(stack, wallet, demo_citizen(23))
    path = f"/v1/applications/{application['id']}"
    own = stack.http.get(f"{path}/consent-terms", params={"pseudonym": wallet.address}, headers=me)
    assert own.status_code == 400 and "pseudonym" in own.json()["detail"]  # the wallet itself may not be the applicant on chain
    offer = consent_offer(stack, wallet, me, application["id"]).json()
    body = pseudonyms.sign_consent_offer(wallet.key, offer)
    forged_link = dict(body, link_signature="0x" + bytes(Account.sign_typed_data(stranger.key, full_message=offer["link_typed_data"]).signature).hex())
    wrong_key = dict(body, signature="0x" + bytes(Account.sign_typed_data(wallet.key, full_message=offer["typed_data"]).signature).hex())
    for bad, words in ((forged_link, "link signature"), (wrong_key, "pseudonym's signature")):
        refused = stack.http.post(f"{path}/consent", json=bad, headers=me)
        assert refused.status_code == 400 and words in refused.json()["detail"], refused.text
        assert registry.state(bytes.fromhex(offer["consent_id"][2:])).name == "NONE"  # nothing on chain
        assert stack.http.get(path, headers=me).json()["state"] == "face_verified"
    granted = stack.http.post(f"{path}/consent", json=body, headers=me)
    assert granted.status_code == 201, granted.text
    assert registry.get(bytes.fromhex(offer["consent_id"][2:])).applicant == offer["typed_data"]["message"]["applicant"]
