"""A bidder's side of an electronic bid opening, over HTTP: what a bidder's client software
does (the demo and the tests use it). The bid is sealed here, on the bidder's side; only
ciphertext and commitments leave, the key only at the opening."""

from __future__ import annotations

import os

import httpx

from api.auth.client import sign_in
from identity import tender712
from identity.bids import SealedBid, seal_bid
from chain.hexcodec import hx, unhex


class BidderClient:
    def __init__(self, http: httpx.Client, account, name: str, chain_id: int, ledger: str):
        self.http, self.account, self.name = http, account, name
        self.domain = tender712.domain(chain_id, ledger)
        self.chain_id, self.ledger = chain_id, ledger
        self.headers = sign_in(http, account)
        self.sealed: SealedBid | None = None
        self.committed_key: bytes | None = None
        self.receipt: dict | None = None

    def _receipt(self) -> dict:
        if self.receipt is None:
            raise RuntimeError("this client has no bid receipt yet: bid() first")
        return self.receipt

    @property
    def receipt_pseudonym(self) -> str:
        """The pseudonym on the bid receipt (after :meth:`bid`), as the API writes it (hex)."""
        return self._receipt()["pseudonym"]

    def _sealed(self) -> tuple[SealedBid, bytes]:
        if self.sealed is None or self.committed_key is None:
            raise RuntimeError("this client has sealed no bid yet: bid() first")
        return self.sealed, self.committed_key

    def refresh(self) -> None:
        self.headers = sign_in(self.http, self.account)

    def pseudonym(self, tender_id: str) -> bytes:
        response = self.http.get(f"/v1/tenders/{tender_id}/pseudonym", headers=self.headers)
        response.raise_for_status()
        return unhex(response.json()["pseudonym"])

    def bid(self, tender_id: str, price_fen: int, items: dict | None = None, *, wrong_key: bool = False) -> httpx.Response:
        """Seal and upload a bid (again: a replacement). ``wrong_key`` commits to a key that does
        not open the file, as a careless bidder might."""
        tid = unhex(tender_id)
        self.sealed = seal_bid({"bidder": self.name, "price_fen": price_fen, "items": items or {}}, tid, self.pseudonym(tender_id))
        self.committed_key = os.urandom(32) if wrong_key else self.sealed.key
        commitment = tender712.key_commitment(self.chain_id, self.ledger, tid, self.account.address, self.committed_key, self.sealed.salt)
        response = self.http.post(
            f"/v1/tenders/{tender_id}/bids", params={"key_commitment": hx(commitment)}, content=self.sealed.ciphertext,
            headers={**self.headers, "content-type": "application/octet-stream"},
        )  # fmt: skip
        if response.status_code == 201:
            self.receipt = response.json()
        return response

    def withdraw(self, tender_id: str) -> httpx.Response:
        return self.http.delete(f"/v1/tenders/{tender_id}/bids/mine", headers=self.headers)

    def sign_in_to_opening(self, tender_id: str) -> httpx.Response:
        pid = unhex(self._receipt()["pseudonym"])
        signature = tender712.sign_signin(unhex(tender_id), pid, self.account.address, self.domain, self.account.key)
        return self.http.post(f"/v1/tenders/{tender_id}/sign-in", json={"signature": hx(signature)}, headers=self.headers)

    def release_key(self, tender_id: str) -> httpx.Response:
        sealed, key = self._sealed()
        body = {"key": hx(key), "salt": hx(sealed.salt)}
        return self.http.post(f"/v1/tenders/{tender_id}/key", json=body, headers=self.headers)

    def object(self, tender_id: str, text: str) -> httpx.Response:
        pid = unhex(self._receipt()["pseudonym"])
        signature = tender712.sign_objection(unhex(tender_id), pid, tender712.text_hash(text), self.domain, self.account.key)
        return self.http.post(f"/v1/tenders/{tender_id}/objections", json={"text": text, "signature": hx(signature)}, headers=self.headers)


def score(http: httpx.Client, expert, headers: dict, tender_id: str, pseudonym: str, marks: list[int], domain) -> httpx.Response:
    signature = tender712.sign_scores(unhex(tender_id), unhex(pseudonym), marks, domain, expert.key)
    return http.post(f"/v1/tenders/{tender_id}/scores", json={"pseudonym": pseudonym, "scores": marks, "signature": hx(signature)}, headers=headers)
