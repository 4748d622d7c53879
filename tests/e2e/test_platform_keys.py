"""Issue 16 item 7: the data-at-rest key was also the HMAC key of the bid pseudonyms. Now each
purpose has its own key, derived with HKDF from the one root (``GOVCHAIN_DATA_KEY``, api/keys.py),
and what was written with the root before the split still opens."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from eth_account import Account
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from api.models import Certificate, TenderBid
from api.tenders.service import _bidder_of
from identity.sealing import SealError, open_at_rest, seal_at_rest
from tests.support.flows import issued_application
from tests.support.tenders import Bidder, create_tender


def hkdf(root: bytes, info: bytes) -> bytes:
    """The derivation as the README states it, written out independently of api/keys.py."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root)


def hmac_pseudonym(key: bytes, tender_id: str, bidder: str) -> str:
    return "0x" + hmac.new(key, f"pseudonym:{tender_id}:{bidder}".encode(), hashlib.sha256).hexdigest()


def test_the_pseudonym_key_is_not_the_data_at_rest_key(stack, client, deployment, parties):
    root = stack.api.settings.resolved_data_key()
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-K01", method="lowest_price", min_bidders=1)
    bidder = Bidder(stack, "测试密钥分用公司", 300_00, deployment)
    receipt = bidder.bid_ok(tender)
    pseudonym, tid = receipt["pseudonym"], tender["tender_id"]
    assert pseudonym != hmac_pseudonym(root, tid, bidder.account.address)  # before: the data key was the HMAC key
    assert pseudonym == hmac_pseudonym(hkdf(root, b"govchain bid-pseudonym v1"), tid, bidder.account.address)
    with stack.api.platform.sessions() as session:
        sealed = session.get(TenderBid, (tid, pseudonym)).bidder_sealed
    context = f"tender_bids/{tid}/{pseudonym}".encode()
    assert open_at_rest(hkdf(root, b"govchain data-at-rest v1"), sealed, context) == bidder.account.address.encode()
    for other in (root, hkdf(root, b"govchain bid-pseudonym v1")):  # neither the root nor the pseudonym key opens it
        with pytest.raises(SealError):
            open_at_rest(other, sealed, context)


def test_what_was_sealed_with_the_root_before_the_split_still_opens(stack, parties, applicant):
    """A certificate document sealed as the platform sealed it before (the root as AES key) is
    served as before; a new one is sealed with the derived key."""
    root = stack.api.settings.resolved_data_key()
    me, _, _, certificate = issued_application(stack, parties, applicant, citizen=7)
    path = f"/v1/certificates/{certificate['id']}/document"
    served = stack.http.get(path, headers=me)
    assert served.status_code == 200, served.text
    with stack.api.platform.sessions() as session:
        row = session.get(Certificate, certificate["id"])
        context = f"certificates/{row.id}".encode()
        with pytest.raises(SealError):
            open_at_rest(root, row.document, context)  # written now: not with the root
        row.document = seal_at_rest(root, open_at_rest(hkdf(root, b"govchain data-at-rest v1"), row.document, context), context)
        session.commit()  # as the platform wrote it before the split
    again = stack.http.get(path, headers=me)
    assert again.status_code == 200 and again.json() == served.json()


def test_a_bidder_keeps_the_pseudonym_it_bid_under_before_the_split(stack, client, deployment, parties):
    """A tender running across the upgrade: the bid committed under the old pseudonym (the root as
    HMAC key, its bidder sealed with the root) stays that bidder's; a new bidder gets a new-key one."""
    root = stack.api.settings.resolved_data_key()
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-K02", method="lowest_price", min_bidders=1)
    tid, early, late = tender["tender_id"], Bidder(stack, "测试升级前公司", 300_00, deployment), Bidder(stack, "测试升级后公司", 310_00, deployment)
    old = hmac_pseudonym(root, tid, early.account.address)
    with stack.api.platform.sessions() as session:  # the row the platform wrote before the split
        bid = TenderBid(tender_id=tid, pseudonym=old, version=1, tx_hash="0x" + "00" * 32,
                        bidder_sealed=seal_at_rest(root, early.account.address.encode(), f"tender_bids/{tid}/{old}".encode()))  # fmt: skip
        session.add(bid)
        session.commit()
        try:
            assert _bidder_of(stack.api.platform, bid) == early.account.address  # its bidder still opens
            assert early.pseudonym(tid) == bytes.fromhex(old[2:])
            assert late.pseudonym(tid) == bytes.fromhex(hmac_pseudonym(hkdf(root, b"govchain bid-pseudonym v1"), tid, late.account.address)[2:])
        finally:  # the row has no bid on chain behind it: leave the tender as it was
            session.delete(bid)
            session.commit()
